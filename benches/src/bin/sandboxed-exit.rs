//! A program that starts, sets up the sandbox the way a cnv command-line program does
//! before its handler, and exits: the `sandbox/process` bench times it from start to
//! exit, with and without the sandbox.
//!
//! `sandboxed-exit` exits at once; `sandboxed-exit CLASS [WORKSPACE [landlock-only]]`
//! first opens the workspace, limits memory to the class's default band and restricts its main thread to the class (with Landlock alone,
//! leaving out the seccomp filter, when the third argument says so: for the bench's
//! breakdown, never for a program).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use cnv::CapabilityClass;
use cnv_sandbox::{Sandbox, Strictness, Workspace, limit_memory, restrict_current_thread};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(class) = args.next() else {
        return ExitCode::SUCCESS;
    };
    let workspace = args.next();
    let landlock_only = args.next().is_some_and(|arg| arg == "landlock-only");
    match sandbox(&class, workspace, landlock_only) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandboxed-exit: {error}");
            ExitCode::FAILURE
        }
    }
}

fn sandbox(
    class: &str,
    workspace: Option<String>,
    landlock_only: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let class: CapabilityClass = class.parse()?;
    let workspace = workspace.map(Workspace::open).transpose()?;
    let band = class.default_band();
    limit_memory(band)?;
    if landlock_only {
        let mut sandbox = Sandbox::new(class).without_seccomp();
        if let Some(workspace) = &workspace {
            sandbox = sandbox.workspace(workspace);
        }
        sandbox.restrict_current_thread()?;
    } else {
        restrict_current_thread(class, workspace.as_ref(), Strictness::BestEffort)?;
    }
    Ok(())
}
