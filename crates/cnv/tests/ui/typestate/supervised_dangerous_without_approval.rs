// A supervised session reaches `Dangerous` only with a `HumanApproval`.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified, Supervised>::with_name("ops").verify(CapabilityContract::subprocess());
    let _session = session.escalate(
        CapabilityContract::dangerous(),
        "Drop and recreate the staging database before the migration rehearsal",
    );
}
