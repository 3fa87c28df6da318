// "Escalating" to a less risky class is narrowing, and has its own method.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::network());
    let _session = session.escalate(CapabilityContract::read_only(), "only reading from here on");
}
