// The const-capabilities example's line that "would NOT compile - Network is not agent-safe".
use cnv::prelude::*;

fn autonomous_execute<Cap: AgentSafeCapability, R: ConstResourceBand>(
    cmd: ValidatedCommand<Cap, R>
) {
    // Safe to execute without human review
    let _ = cmd;
}

fn main() {
    autonomous_execute(ValidatedCommand::<Network, Fast>::new("net-op"));
}
