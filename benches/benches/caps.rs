//! cnv promises that capability checks cost nothing at run time ("Runtime: +0ns
//! (all const)"). Group `caps/is_agent_safe` asks "may an agent run this?" four ways:
//! through the type of a `ValidatedCommand` (cnv), through a run-time contract, by
//! comparing a class name as a string, and as a literal `true` (the floor).
//!
//! Criterion hides each closure's *result* from the optimizer. The run-time peers also
//! hide their *input* (`black_box(contract)`), because at run time that input is data
//! the program reads; the type-level check has no input to hide — the answer is in the
//! type — and that is exactly the claim under test.

use std::hint::black_box;

use cnv::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};

fn is_agent_safe(c: &mut Criterion) {
    let mut group = c.benchmark_group("caps/is_agent_safe");
    let command = ValidatedCommand::<ReadOnlyFS, Fast>::new("file read");
    group.bench_function("cnv (type-level)", |b| {
        b.iter(|| command.is_agent_safe());
    });
    group.bench_function("literal true", |b| b.iter(|| true));
    let contract: CapabilityContract = CapabilityContract::read_only().into();
    group.bench_function("runtime contract", |b| {
        b.iter(|| black_box(contract).is_agent_safe());
    });
    group.bench_function("string compare", |b| {
        b.iter(|| cnv_benches::agent_safe_by_name(black_box("ReadOnlyFS")));
    });
    group.finish();
}

criterion_group!(benches, is_agent_safe);
criterion_main!(benches);
