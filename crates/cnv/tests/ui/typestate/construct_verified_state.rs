// The states are types, not values anyone can make.
use cnv::prelude::*;

fn main() {
    let _state = Verified::<Network> {};
}
