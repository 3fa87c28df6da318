// A chain of allowed escalations still has no last step to `Dangerous` in autonomous mode.
use cnv::prelude::*;

fn main() -> Result<(), EscalationError> {
    let session = TypedSession::<Unverified>::with_name("agent").verify(CapabilityContract::pure());
    let session = session.escalate(
        CapabilityContract::network(),
        "Download the signed release index from the mirror",
    )?;
    let session = session.escalate(
        CapabilityContract::subprocess(),
        "Run the project's own test suite with cargo to check the fix",
    )?;
    let _session = session.escalate(
        CapabilityContract::dangerous(),
        "Wipe the build cache and every untracked file to start from a clean tree",
    )?;
    Ok(())
}
