// A const assertion that ReadWriteFS (risk 6) is below 5.
use cnv::prelude::*;

const _: () = assert_risk_below::<ReadWriteFS>(5);

fn main() {}
