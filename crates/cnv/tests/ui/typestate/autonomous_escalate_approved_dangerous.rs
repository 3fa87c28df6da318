// An autonomous session cannot reach `Dangerous` even with a human's approval in hand.
use cnv::prelude::*;

fn reach(session: TypedSession<Verified<Pure>, Autonomous>, approval: HumanApproval) {
    let _session = session.escalate_approved(
        CapabilityContract::dangerous(),
        "Wipe the build cache and every untracked file to start from a clean tree",
        approval,
    );
}

fn main() {}
