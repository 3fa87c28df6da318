// A literal justification is checked against the default policy at compile time.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::pure());
    let _session = session.escalate(CapabilityContract::network(), justify!(Network, "need it"));
}
