//! Confined worker processes: where handlers run, so that a call can be killed.
//!
//! A command line (or a server) runs each handler in a **worker process**: its own
//! program, started again (`/proc/self/exe`) with `cnv-worker` as its name, which
//! confines itself to one class once — budgets, capabilities dropped, Landlock, seccomp —
//! and then runs one call after another that it is sent over a socket. What the parent
//! process holds (the audit log, other sessions, the server's memory) is not in the
//! worker at all. A call past its time is stopped by killing the worker, and with it
//! every process the handler started: the worker is the first process of a PID
//! namespace of its own where the kernel allows one (as root), otherwise the leader of a
//! process group its programs may not leave.
//!
//! * [`Worker::start`] (the parent): starts and confines a worker for a [`WorkerSpec`];
//!   [`Worker::call`] sends one request and waits for its answer until a deadline, or
//!   until [`WorkerCancel::cancel`]; whatever stops a call kills the worker.
//! * [`is_worker`] and [`serve`] (the worker): the program's entry point (`Cli::run`)
//!   asks the first, and calls the second with the code that answers one request.
//!
//! Requests and answers are bytes: what they mean is the caller's (`cnv-cli`).

mod frame;
mod process;
mod serve;

use std::path::{Path, PathBuf};

use cnv_caps::{CapabilityClass, ResourceBand};
use serde::{Deserialize, Serialize};

use crate::Strictness;

pub use process::{Answer, Stopped, Worker, WorkerCancel};
pub use serve::{WorkerContext, is_worker, serve};

/// The name a worker process runs under (its `argv[0]`): what tells a program's entry
/// point that it is a worker, not a command line.
pub const WORKER_NAME: &str = "cnv-worker";

const MIB: u64 = 1 << 20;

/// Where the programs of a worker are found: the system's directories, never the caller's.
pub const PROGRAM_SEARCH_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment of the programs a confined handler runs, and of a worker of a class
/// that reads no variables: `PATH` ([`PROGRAM_SEARCH_PATH`]), `HOME` and `TMPDIR` the
/// workspace (or `/` without one: nothing of the operator's home is in reach, and a
/// program that writes its settings there writes them in the workspace), `LANG=C.UTF-8`,
/// and nothing else.
#[must_use]
pub fn program_env(workspace: Option<&Path>) -> [(&'static str, String); 4] {
    let home = workspace.and_then(Path::to_str).unwrap_or("/").to_owned();
    [
        ("PATH", PROGRAM_SEARCH_PATH.to_owned()),
        ("HOME", home.clone()),
        ("TMPDIR", home),
        ("LANG", "C.UTF-8".to_owned()),
    ]
}

/// What one call in a worker may use, beyond the worker's own start-up.
///
/// Each band has defaults ([`Budgets::of`]); the operator changes them (`cnv-cli`'s
/// builder and `CNV_BUDGET`). `None` is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Budgets {
    /// Address space beyond what the worker had when it confined itself, in bytes
    /// (`RLIMIT_AS`; every program the handler starts gets the same limit of its own).
    pub memory_bytes: Option<u64>,
    /// Processes the handler may have at once, its programs and theirs (a `pids` cgroup
    /// where one can be made; a class that starts no programs may start none at all).
    pub processes: Option<u64>,
    /// The largest file the handler (or a program it starts) may write, in bytes
    /// (`RLIMIT_FSIZE`: past it the writer is killed with `SIGXFSZ`); its standard output
    /// and error count too.
    pub written_bytes: Option<u64>,
    /// The largest answer the worker may send, in bytes: a larger one is refused from its
    /// length, before the parent reads it.
    pub output_bytes: u64,
    /// How much of what the handler writes to its standard output and error is kept for
    /// the answer and the audit trail, in bytes (the rest is cut, and counted).
    pub console_bytes: u64,
}

impl Budgets {
    /// The defaults of `band`.
    ///
    /// | band | memory | processes | written | answer |
    /// |---|---|---|---|---|
    /// | `Instant` | 10 MiB | 8 | 1 MiB | 1 MiB |
    /// | `Fast` | 100 MiB | 32 | 16 MiB | 8 MiB |
    /// | `Medium` | 1 GiB | 64 | 256 MiB | 32 MiB |
    /// | `Slow` | 5 GiB | 128 | 1 GiB | 64 MiB |
    /// | `Cold` | none | 256 | none | 64 MiB |
    ///
    /// Every band keeps 64 KiB of the handler's standard output and error.
    #[must_use]
    pub const fn of(band: ResourceBand) -> Self {
        let (processes, written_bytes, output_bytes) = match band {
            ResourceBand::Instant => (8, Some(MIB), MIB),
            ResourceBand::Fast => (32, Some(16 * MIB), 8 * MIB),
            ResourceBand::Medium => (64, Some(256 * MIB), 32 * MIB),
            ResourceBand::Slow => (128, Some(1024 * MIB), 64 * MIB),
            ResourceBand::Cold => (256, None, 64 * MIB),
        };
        Self {
            memory_bytes: band.max_memory_bytes(),
            processes: Some(processes),
            written_bytes,
            output_bytes,
            console_bytes: 64 * 1024,
        }
    }
}

/// What a worker is confined to: the class, the band (whose budgets it runs under), the
/// workspace, and how strictly. Workers of one spec are interchangeable, so a pool keeps
/// them by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkerSpec {
    /// The class the worker is confined to.
    pub class: CapabilityClass,
    /// The band its calls belong to.
    pub band: ResourceBand,
    /// The budgets of each call.
    pub budgets: Budgets,
    /// The workspace the file classes reach, opened by the worker before it confines
    /// itself (`None` for the classes that touch no files).
    pub workspace: Option<PathBuf>,
    /// Whether a gap in the kernel's enforcement refuses to start the worker.
    pub strictness: Strictness,
}

impl WorkerSpec {
    /// A worker for `class` in `band`, with the band's default budgets, no workspace and
    /// best-effort enforcement.
    #[must_use]
    pub fn new(class: CapabilityClass, band: ResourceBand) -> Self {
        Self {
            class,
            band,
            budgets: Budgets::of(band),
            workspace: None,
            strictness: Strictness::BestEffort,
        }
    }

    /// The same spec with `budgets`.
    #[must_use]
    pub fn budgets(self, budgets: Budgets) -> Self {
        Self { budgets, ..self }
    }

    /// The same spec with the workspace at `path`.
    #[must_use]
    pub fn workspace(self, path: impl Into<PathBuf>) -> Self {
        Self {
            workspace: Some(path.into()),
            ..self
        }
    }

    /// The same spec with `strictness`.
    #[must_use]
    pub fn strictness(self, strictness: Strictness) -> Self {
        Self { strictness, ..self }
    }
}
