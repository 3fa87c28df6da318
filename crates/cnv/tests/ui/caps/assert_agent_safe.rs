// A const assertion that a subprocess command is agent-safe.
use cnv::prelude::*;

const _: () = assert_agent_safe::<Subprocess>();

fn main() {}
