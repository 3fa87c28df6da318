//! The type-state example: capability escalation through typed session states, written
//! as a user writes it (`use cnv::prelude::*;`, no turbofish: the state type comes from
//! the typed contract), then the escalation rules of the default policy. The compile-time
//! half of the type-state's promises is the trybuild suite under `tests/ui/typestate/`.

use cnv::prelude::*;

#[test]
#[rustfmt::skip] // the example's own layout, kept as written
fn type_state_example() {
    // Start unverified
    let session = TypedSession::<Unverified>::with_name("my-app");

    // Verify with Pure capability (type-safe)
    let session = session.verify(CapabilityContract::pure());

    // Execute operations (only available after verification)
    session.execute(|| println!("Pure operation"));

    // Escalate to ReadOnly (requires justification)
    let session = session.escalate(
        CapabilityContract::read_only(),
        "Need to read config file for initialization"
    ).expect("Escalation approved");

    // What the example's comments promise:
    let _: &TypedSession<Escalated<Pure, ReadOnlyFS>> = &session;
    assert_eq!(session.class(), Some(CapabilityClass::ReadOnlyFS));
    let log = session.audit_log().expect("the default sink is in memory");
    let steps: Vec<_> = log.entries().iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        steps,
        [
            (None, None),
            (None, Some(CapabilityClass::Pure)),
            (
                Some(CapabilityClass::Pure),
                Some(CapabilityClass::ReadOnlyFS)
            ),
        ]
    );
}

#[test]
fn the_default_policy_enforces_the_escalation_rules() {
    let policy = EscalationPolicy::default();
    let mode = RunMode::Autonomous;
    // Pure → ReadOnly: Always allowed
    assert!(
        policy
            .check(mode, CapabilityClass::Pure, CapabilityClass::ReadOnlyFS, "")
            .is_ok()
    );
    // ReadOnly → ReadWrite: Requires 20+ char justification
    let twenty = "x".repeat(20);
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::ReadOnlyFS,
                CapabilityClass::ReadWriteFS,
                &twenty[1..]
            )
            .is_err()
    );
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::ReadOnlyFS,
                CapabilityClass::ReadWriteFS,
                &twenty
            )
            .is_ok()
    );
    // Any → Network: Requires 30+ char justification
    let thirty = "x".repeat(30);
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::Environment,
                CapabilityClass::Network,
                &thirty[1..]
            )
            .is_err()
    );
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::Environment,
                CapabilityClass::Network,
                &thirty
            )
            .is_ok()
    );
    // Any → Subprocess: Requires 50+ char justification
    let fifty = "x".repeat(50);
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::Network,
                CapabilityClass::Subprocess,
                &fifty[1..]
            )
            .is_err()
    );
    assert!(
        policy
            .check(
                mode,
                CapabilityClass::Network,
                CapabilityClass::Subprocess,
                &fifty
            )
            .is_ok()
    );
    // Any → Dangerous: Always denied in autonomous systems
    let long = "x".repeat(500);
    for from in [CapabilityClass::Pure, CapabilityClass::Subprocess] {
        assert!(
            policy
                .check(mode, from, CapabilityClass::Dangerous, &long)
                .is_err()
        );
    }
}
