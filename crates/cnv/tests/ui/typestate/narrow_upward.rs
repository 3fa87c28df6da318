// `narrow` only lowers the risk; going up needs `escalate` and a justification.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::read_only());
    let _session = session.narrow(CapabilityContract::read_write());
}
