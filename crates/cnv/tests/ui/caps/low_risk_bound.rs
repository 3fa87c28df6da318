// A Network command where only low-risk commands are accepted.
use cnv::prelude::*;

fn run_low_risk<Cap: LowRiskCapability, R: ConstResourceBand>(_cmd: ValidatedCommand<Cap, R>) {}

fn main() {
    run_low_risk(ValidatedCommand::<Network, Fast>::new("fetch"));
}
