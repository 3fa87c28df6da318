//! What can go wrong while opening a workspace, restricting a thread or arming a deadline.

use std::io;
use std::path::PathBuf;

use cnv_caps::CapabilityClass;

use crate::Enforcement;

/// Why the sandbox could not be set up.
///
/// Each message says what went wrong and what to do; the underlying error is part of the
/// message (and is kept in a field, not repeated through `source()`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The workspace directory could not be opened.
    #[error(
        "cannot open the workspace {}: {error}; point the workspace (CNV_WORKSPACE or the program's builder) at an existing directory",
        path.display()
    )]
    Workspace {
        /// The path the operator gave.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
    /// The class grants access beneath the workspace, and no workspace was given.
    #[error(
        "a {class} handler works beneath the workspace, and none was given; open one with `Workspace::open` before restricting the thread"
    )]
    WorkspaceRequired {
        /// The class being enforced.
        class: CapabilityClass,
    },
    /// The policy demands full enforcement (`Strictness::Strict`) and the kernel offers
    /// less. The report says what would and would not have been enforced.
    #[error(
        "the {} sandbox cannot be fully enforced here ({report}); the policy is strict, so the handler must not run: use a kernel with Landlock ABI 6 or later and seccomp, or choose best effort",
        report.class
    )]
    NotEnforced {
        /// What was (or would have been) enforced. `report.restricted` says whether the
        /// thread was restricted before the shortfall was found.
        report: Box<Enforcement>,
    },
    /// Building or applying the Landlock ruleset failed.
    #[error(
        "cannot restrict the thread to {class} with Landlock: {error}; the thread may be partly restricted, do not run the handler on it"
    )]
    Landlock {
        /// The class being enforced.
        class: CapabilityClass,
        /// What the `landlock` crate reported.
        error: landlock::RulesetError,
    },
    /// Compiling or installing the seccomp filter failed.
    #[error(
        "cannot install the seccomp filter for {class}: {error}; the thread is already restricted by Landlock, do not run the handler on it"
    )]
    Seccomp {
        /// The class being enforced.
        class: CapabilityClass,
        /// What `seccompiler` reported.
        error: seccompiler::Error,
    },
    /// The address-space limit could not be read or set.
    #[error(
        "cannot limit the process's memory: {error}; run without a memory limit (Cold) or check the process's rlimits"
    )]
    Memory {
        /// What the operating system said.
        error: io::Error,
    },
    /// A worker process could not be started or confined, or ended before it was ready.
    #[error(
        "the worker process that runs the handler {reason}; the program must reach `Cli::run` (or serve) from its `main` with nothing before it that a second start would repeat"
    )]
    Worker {
        /// What went wrong, in words.
        reason: String,
    },
}
