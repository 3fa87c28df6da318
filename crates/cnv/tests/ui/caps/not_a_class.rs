// A type that is not a capability class used as one.
use cnv::prelude::*;

fn main() {
    let _cmd = ValidatedCommand::<String, Fast>::new("op");
}
