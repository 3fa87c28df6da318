// Escalating before verifying: there is nothing to escalate from.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("my-app");
    let _session = session.escalate(
        CapabilityContract::read_only(),
        "Need to read config file for initialization",
    );
}
