// An autonomous session cannot start out holding `Dangerous` either.
use cnv::prelude::*;

fn main() {
    let _session = TypedSession::<Unverified>::with_name("agent").verify(CapabilityContract::dangerous());
}
