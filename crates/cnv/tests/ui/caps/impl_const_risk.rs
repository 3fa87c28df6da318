// A user type trying to become a capability class.
use cnv::prelude::*;

#[derive(Clone, Copy, Default)]
struct MyCap;

impl ConstRisk for MyCap {
    const CLASS: CapabilityClass = CapabilityClass::Pure;
}

fn main() {}
