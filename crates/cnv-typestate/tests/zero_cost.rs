//! cnv promises "+0 ns, +0 bytes" for the type-state: `execute` allocates nothing
//! and clones nothing (it is the closure call), and the states are zero-sized. The
//! timing half of the promise is the criterion bench `typestate/execute`.
//!
//! This test binary counts every allocation of its threads (allocation-counter replaces
//! the global allocator here only).

use std::sync::Arc;

use cnv_audit::*;
use cnv_caps::CapabilityContract;
use cnv_typestate::*;

#[test]
fn execute_does_not_allocate() {
    let session = TypedSession::<Unverified>::with_name("zero").verify(CapabilityContract::pure());
    let escalated = TypedSession::<Unverified>::with_name("zero")
        .verify(CapabilityContract::pure())
        .escalate(
            CapabilityContract::network(),
            "Download the signed release index from the mirror",
        )
        .expect("allowed");
    let mut total = 0_u64;
    let info = allocation_counter::measure(|| {
        for i in 0..1000_u64 {
            total += session.execute(|| i * 2);
            total += escalated.execute(|| i);
            total += escalated.view().execute(|| 1);
        }
    });
    assert_eq!(total, 1000 * 999 + 1000 * 999 / 2 + 1000);
    assert_eq!(info.count_total, 0, "execute allocated: {info:?}");
}

#[test]
fn execute_does_not_clone_the_sink_or_the_policy() {
    let log = Arc::new(MemorySink::new());
    let config = SessionConfig::new(log.clone());
    let session =
        TypedSession::<Unverified>::with_config("zero", &config).verify(CapabilityContract::pure());
    let before = (Arc::strong_count(&log), log.len());
    for _ in 0..100 {
        session.execute(|| ());
    }
    assert_eq!(
        (Arc::strong_count(&log), log.len()),
        before,
        "execute cloned or recorded"
    );
}

#[test]
fn a_transition_does_allocate_for_its_audit_entry() {
    // The counter is live: recording an escalation does allocate (its entry), so the zero
    // above is a real zero.
    let session = TypedSession::<Unverified>::with_name("zero").verify(CapabilityContract::pure());
    let mut out = None;
    let info = allocation_counter::measure(|| {
        out = Some(
            session
                .escalate(CapabilityContract::read_only(), "")
                .expect("allowed"),
        );
    });
    assert!(info.count_total > 0, "{info:?}");
    assert!(out.is_some());
}
