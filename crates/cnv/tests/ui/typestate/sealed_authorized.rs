// A state of one's own cannot claim to hold a capability: the state traits are sealed.
use cnv::prelude::*;

struct MyState;

impl Authorized for MyState {
    type Origin = Pure;
    type Current = Dangerous;
}

fn main() {}
