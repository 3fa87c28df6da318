// Escalating to the class the session already holds changes nothing, so it is refused.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::network());
    let _session = session.escalate(
        CapabilityContract::network(),
        "Download the signed release index from the mirror",
    );
}
