// A const assertion that the Medium band (10 s) fits in 100 ms, and that Cold fits at all.
use cnv::prelude::*;

const _: () = assert_runtime_below::<Medium>(100);
const _: () = assert_runtime_below::<Cold>(3_600_000);

fn main() {}
