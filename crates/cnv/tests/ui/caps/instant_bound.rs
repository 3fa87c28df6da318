// A Slow command where only instant operations are accepted.
use cnv::prelude::*;

fn run_in_hot_path<Cap: ConstRisk, R: InstantOperation>(_cmd: ValidatedCommand<Cap, R>) {}

fn main() {
    run_in_hot_path(ValidatedCommand::<Pure, Slow>::new("index"));
}
