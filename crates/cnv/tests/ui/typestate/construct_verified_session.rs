// A session starts unverified; there is no way to create one that is already verified.
use cnv::prelude::*;

fn main() {
    let _session = TypedSession::<Verified<Network>>::with_name("shortcut");
}
