// The states are types, not values anyone can make.
use cnv::prelude::*;
use std::marker::PhantomData;

fn main() {
    let _state: Escalated<Pure, Dangerous> = Escalated { _classes: PhantomData };
}
