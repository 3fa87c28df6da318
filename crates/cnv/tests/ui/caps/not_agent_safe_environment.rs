// A `Environment` command passed where an agent may run it unsupervised.
use cnv::prelude::*;

fn autonomous_execute<Cap: AgentSafeCapability, R: ConstResourceBand>(_cmd: ValidatedCommand<Cap, R>) {}

fn main() {
    autonomous_execute(ValidatedCommand::<Environment, Fast>::new("op"));
}
