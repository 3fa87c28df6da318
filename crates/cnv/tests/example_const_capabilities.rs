//! The const-capabilities examples: capabilities validated at compile time, with
//! `use cnv::prelude::*;`. The commented-out line that "would NOT compile" is the trybuild
//! case `tests/ui/caps/example_network_not_agent_safe.rs`.

use cnv::prelude::*;

#[test]
#[allow(unused_variables)] // the example binds `cmd` and never reads it
fn const_capabilities_example() {
    // Create command with compile-time validated capability
    let cmd = ValidatedCommand::<Pure, Fast>::new("read-config");

    // Risk level computed at compile time!
    const RISK: u8 = <Pure as ConstRisk>::RISK_LEVEL; // 0

    // Agent safety checked at compile time!
    const SAFE: bool = <Pure as ConstRisk>::IS_AGENT_SAFE; // true

    // Type bounds enforce safety
    fn autonomous_execute<Cap: AgentSafeCapability, R: ConstResourceBand>(
        cmd: ValidatedCommand<Cap, R>,
    ) {
        // Safe to execute without human review
    }

    // This compiles - Pure is agent-safe
    autonomous_execute(ValidatedCommand::<Pure, Fast>::new("safe-op"));

    // This would NOT compile - Network is not agent-safe
    // autonomous_execute(ValidatedCommand::<Network, Fast>::new("net-op"));

    // What the comments of the example promise:
    assert_eq!(RISK, 0);
    const { assert!(SAFE) };
    assert_eq!(cmd.name(), "read-config");
    assert_eq!(cmd.class(), CapabilityClass::Pure);
    assert_eq!(cmd.band(), ResourceBand::Fast);
}

// Compile-time safety assertions
const _: () = assert_agent_safe::<Pure>();
const _: () = assert_risk_below::<ReadOnlyFS>(5);
const _: () = assert_runtime_below::<Instant>(100);

#[test]
fn the_type_level_classes_have_their_risk_levels() {
    assert_eq!(<Pure as ConstRisk>::RISK_LEVEL, 0);
    assert_eq!(<ReadOnlyFS as ConstRisk>::RISK_LEVEL, 2);
    assert_eq!(<Environment as ConstRisk>::RISK_LEVEL, 3);
    assert_eq!(<Network as ConstRisk>::RISK_LEVEL, 5);
    assert_eq!(<ReadWriteFS as ConstRisk>::RISK_LEVEL, 6);
    assert_eq!(<Subprocess as ConstRisk>::RISK_LEVEL, 8);
    assert_eq!(<Dangerous as ConstRisk>::RISK_LEVEL, 10);
}
