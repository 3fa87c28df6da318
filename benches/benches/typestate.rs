//! cnv promises that the type-state costs nothing at run time ("Runtime: +0ns (zero
//! overhead)"). Group `typestate/execute` runs the same small computation through
//! `session.execute(f)` on an escalated session (cnv) and as a plain closure call `f()`
//! (the peer). Both hide the computation's input and output from the optimizer in the
//! same way, so the only difference is `execute` itself.
//!
//! Group `typestate/escalate` shows what a transition costs, which cnv does not claim
//! is free: an audited escalation (policy check, audit entry, delivery to a sink
//! that discards it) beside the policy check alone, the run-time rule a program without
//! type-states would still need.

use std::hint::black_box;
use std::sync::Arc;

use cnv::audit::AuditError;
use cnv::prelude::*;
use cnv::typestate::RunMode;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const WHY: &str = "Download the signed release index from the mirror";

/// A little arithmetic that the optimizer cannot fold away once its input is hidden.
#[inline]
fn work(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ x
}

fn execute(c: &mut Criterion) {
    let mut group = c.benchmark_group("typestate/execute");
    let session = TypedSession::<Unverified>::with_name("bench")
        .verify(CapabilityContract::pure())
        .escalate(CapabilityContract::network(), WHY)
        .expect("allowed");
    // The same closure `f` in both rows, each called from the same shape of routine.
    let f = || work(black_box(41));
    group.bench_function("cnv (session.execute)", |b| {
        b.iter(|| session.execute(f));
    });
    #[allow(clippy::redundant_closure)] // the same shape as the cnv row: a routine that calls f
    group.bench_function("plain closure call", |b| {
        b.iter(|| f());
    });
    group.finish();
}

/// A sink that keeps nothing, so the bench measures the transition, not a growing log.
#[derive(Debug)]
struct Discard;

impl AuditSink for Discard {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        black_box(entry);
        Ok(())
    }
}

fn escalate(c: &mut Criterion) {
    let mut group = c.benchmark_group("typestate/escalate");
    let config = SessionConfig::new(Arc::new(Discard));
    group.bench_function("cnv (escalate, audited)", |b| {
        b.iter_batched(
            || {
                TypedSession::<Unverified>::with_config("bench", &config)
                    .verify(CapabilityContract::pure())
            },
            |session| session.escalate(CapabilityContract::network(), black_box(WHY)),
            BatchSize::SmallInput,
        );
    });
    let policy = EscalationPolicy::default();
    group.bench_function("policy check only", |b| {
        b.iter(|| {
            policy.check(
                RunMode::Autonomous,
                CapabilityClass::Pure,
                CapabilityClass::Network,
                black_box(WHY),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, execute, escalate);
criterion_main!(benches);
