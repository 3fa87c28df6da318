// A `Subprocess` command passed where an agent may run it unsupervised.
use cnv::prelude::*;

fn autonomous_execute<Cap: AgentSafeCapability, R: ConstResourceBand>(_cmd: ValidatedCommand<Cap, R>) {}

fn main() {
    autonomous_execute(ValidatedCommand::<Subprocess, Fast>::new("op"));
}
