//! A program that starts, sets up the sandbox the way a cnv command-line program does
//! before its handler, and exits: the `sandbox/process` bench times it from start to
//! exit, with and without the sandbox.
//!
//! `sandboxed-exit` exits at once; `sandboxed-exit CLASS [WORKSPACE]` first opens the
//! workspace, arms the deadline of the class's default band, limits memory to that band
//! and restricts its main thread to the class.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use cnv::CapabilityClass;
use cnv_sandbox::{Deadline, Strictness, Workspace, limit_memory, restrict_current_thread};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(class) = args.next() else {
        return ExitCode::SUCCESS;
    };
    match sandbox(&class, args.next()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandboxed-exit: {error}");
            ExitCode::FAILURE
        }
    }
}

fn sandbox(class: &str, workspace: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    let class: CapabilityClass = class.parse()?;
    let workspace = workspace.map(Workspace::open).transpose()?;
    let band = class.default_band();
    let deadline = Deadline::arm(band, |overrun| {
        eprintln!("sandboxed-exit: {overrun}");
        std::process::exit(124);
    })?;
    limit_memory(band)?;
    restrict_current_thread(class, workspace.as_ref(), Strictness::BestEffort)?;
    if deadline.finish().in_time() {
        Ok(())
    } else {
        Err("overran".into())
    }
}
