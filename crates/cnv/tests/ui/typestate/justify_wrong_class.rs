// A `justify!` literal carries its target: it cannot justify an escalation elsewhere.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::pure());
    let _session = session.escalate(
        CapabilityContract::subprocess(),
        justify!(Network, "Download the signed release index from the mirror"),
    );
}
