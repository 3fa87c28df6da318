// An agent-driven (autonomous) session asking for `Dangerous`, however well justified.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("agent").verify(CapabilityContract::subprocess());
    let _session = session.escalate(
        CapabilityContract::dangerous(),
        "Wipe the build cache and every untracked file to start from a clean tree",
    );
}
