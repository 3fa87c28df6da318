// A user type declaring itself agent-safe.
use cnv::prelude::*;

#[derive(Clone, Copy, Default)]
struct ShellAccess;

impl AgentSafeCapability for ShellAccess {}

fn main() {}
