//! Enforcement of a [cnv] capability class at run time: the kernel holds the line the
//! class draws.
//!
//! A class is a promise about what a handler touches. This crate makes the promise
//! true on Linux, for the process (or thread) that runs the handler:
//!
//! - [`Workspace`]: the operator's directory, opened once; every path a handler names is
//!   resolved *beneath* it ([`cap_std`]), and a `ReadOnlyFS` handler gets a
//!   [`ReadOnlyDir`] that offers no way to write.
//! - [`restrict_current_thread`] / [`Sandbox`]: one Landlock ruleset per class (the
//!   `landlock` crate), plus a seccomp filter (`seccompiler`) for the sockets Landlock
//!   does not cover, and an [`Enforcement`] report of what the kernel enforced.
//! - [`worker`]: **worker processes** — the program started again as `cnv-worker`,
//!   confined once (budgets, capabilities dropped, Landlock, seccomp; a PID namespace of
//!   its own where the kernel allows) and then running one call after another, each
//!   killed with everything it started when it runs past its deadline. This is where
//!   `cnv-cli` runs every handler.
//! - [`limit_memory`]: a [`ResourceBand`](cnv_caps::ResourceBand)'s memory budget as the
//!   process's address-space limit.
//! - [`WorkspaceHandle`]: the handle a class's handlers receive, at the type level, tied
//!   at compile time to [`Grant::of`].
//!
//! # How a program uses it
//!
//! The gate of a command-line program, having decided to run one handler of class `C`
//! with band `B`:
//!
//! ```no_run
//! use cnv_caps::{CapabilityClass, ResourceBand};
//! use cnv_sandbox::{Grant, Strictness, Workspace, limit_memory, restrict_current_thread};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (class, band) = (CapabilityClass::ReadWriteFS, ResourceBand::Fast);
//! // 1. Open what the handler must not reach by path, while the thread still can.
//! let workspace = Workspace::open(std::env::var_os("CNV_WORKSPACE").unwrap_or(".".into()))?;
//! let audit_log = std::fs::OpenOptions::new().append(true).create(true).open("/var/log/app.jsonl")?;
//! if Grant::of(class).may_read(Some(&workspace), "/var/log/app.jsonl")? {
//!     return Err("the audit log lies where this verb could read or change it".into());
//! }
//! // 2. Limit memory (per process: a command-line program only).
//! limit_memory(band)?;
//! // 3. Restrict this thread to what the class grants, for good.
//! let enforcement = restrict_current_thread(class, Some(&workspace), Strictness::BestEffort)?;
//! // record `enforcement` (Serialize, Display) in the audit entry, then run the handler
//! // with its class's handle (`WorkspaceHandle`: `workspace.dir()`, `workspace.read_only()`
//! // or none), waiting at most the band's time.
//! # let _ = (audit_log, enforcement);
//! # Ok(())
//! # }
//! ```
//!
//! Landlock restricts the calling thread and every thread and process it starts
//! *afterwards*; other threads are untouched, and a restriction cannot be lifted. So a
//! handler runs in a [`worker`] process of one thread, restricted once when it starts
//! and running every call of its class, band and workspace; a thread cannot be stopped
//! from outside, a process can.
//!
//! # What each class may do
//!
//! [`Grant::of`] is the table (an exhaustive `match`: a new class does not compile until
//! someone decides):
//!
//! | class | files | programs | TCP | other sockets | handle |
//! |---|---|---|---|---|---|
//! | `Pure`, `Environment` | none | no | no | none | none |
//! | `ReadOnlyFS` | read beneath the workspace | no | no | none | [`ReadOnlyDir`] |
//! | `ReadWriteFS` | read and write beneath the workspace (no device files) | no | no | none | [`Dir`](cap_std::fs::Dir) |
//! | `Network` | read the name-resolution and TLS files ([`NAME_RESOLUTION_PATHS`]) | no | connect, no listening | TCP and UDP only | none |
//! | `Subprocess` | read and execute the system's programs ([`PROGRAM_PATHS`]), read its configuration ([`SYSTEM_READ_PATHS`]); read, write and execute beneath the workspace; write `/dev/null` | yes | connect, no listening | any but unix sockets | [`Dir`](cap_std::fs::Dir) |
//! | `Dangerous` | not restricted | yes | yes | any | [`Dir`](cap_std::fs::Dir) |
//!
//! `Dangerous` runs only with a person's approval (the gate's rule); what the person
//! approved is the action as a whole, so the thread is not restricted. Its band's time
//! and memory budget still apply.
//!
//! # What is enforced on which kernel
//!
//! The ruleset asks for the rights of Landlock ABI 7 ([`TARGET_ABI`], the ABI this crate
//! is tested against) or the kernel's, whichever is older:
//!
//! | ABI (Linux) | adds |
//! |---|---|
//! | 1 (5.13) | file reads, writes, creation, removal, execution |
//! | 2 (5.19) | linking and renaming across directories |
//! | 3 (6.2) | truncation |
//! | 4 (6.7) | TCP bind and connect |
//! | 5 (6.10) | `ioctl` on device files |
//! | 6 (6.12) | scopes: abstract unix sockets and signals outside the sandbox |
//! | 7 (6.15) | audit logging controls (nothing more to enforce) |
//!
//! The seccomp filter works on every kernel with seccomp (x86-64, aarch64, riscv64).
//! Full enforcement ([`Enforcement::is_full`]) needs ABI 6; below it the report names
//! each gap, and [`Strictness::Strict`] turns a gap into a refusal.
//!
//! # What Landlock does not cover, and what closes it
//!
//! - **UDP, raw, packet and netlink sockets** (Landlock ABI ≤ 9 controls TCP only):
//!   closed by the seccomp filter, which refuses `socket(2)` outright for classes
//!   without network and all but IPv4/IPv6 stream and datagram sockets for `Network`.
//! - **Pathname unix sockets** (`connect` to `/run/docker.sock` is not a file open
//!   before Landlock ABI 9): closed by the same filter for every class but `Dangerous`
//!   (for `Subprocess`, whose programs may open other sockets, by refusing `AF_UNIX`),
//!   and datagram socket pairs, which can send to any pathname socket, for every class.
//! - **New processes** for the classes that run no programs, and **new namespaces** for
//!   all: refused by the filter.
//! - **`io_uring`**, which can create sockets without `socket(2)`: refused by the filter
//!   wherever sockets are filtered.
//! - **Abstract unix sockets and signals** to processes outside the sandbox: Landlock
//!   ABI 6 scopes (and the socket filter, for abstract sockets).
//! - **ptrace** of processes outside the sandbox (and so `/proc/<pid>/mem`,
//!   `/proc/<pid>/environ`, `process_vm_readv`): refused by Landlock itself since ABI 1 —
//!   but for a process that holds `CAP_SYS_ADMIN` or `CAP_PERFMON`, which the kernel lets
//!   read `/proc/<pid>/environ` first. A worker drops every capability; as root it also
//!   lives in a PID namespace of its own, whose `/proc` shows no other process.
//! - **Environment variables already in the process's memory**: nothing in the kernel
//!   can hide them from code in the process; `/proc/self/environ` is closed (it is a
//!   file outside the grant), `std::env::var` is not. A program that must keep secrets
//!   from a handler clears them before the handler runs, or starts the handler in a
//!   process with a clean environment.
//! - **Descriptors opened before the restriction** (standard streams, the audit log, the
//!   workspace handle): they keep working, which is how the gate writes its audit entry
//!   after the handler; they are also reachable by a handler that finds them.
//! - **Other threads of the process**: not restricted (Landlock ABI 8 can restrict all
//!   threads at once; this kernel has 7). A worker process has one thread; one that has
//!   more when it confines itself says so in its report (a gap).
//! - **Time, memory, processes, bytes written, the answer's size**: a worker's budgets
//!   ([`worker::Budgets`]): it is killed at its deadline, and its `rlimit`s (and a `pids`
//!   cgroup where one can be made) hold the rest.
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod enforcement;
mod error;
mod grant;
mod handle;
mod memory;
mod sandbox;
mod seccomp;
pub mod worker;
mod workspace;

pub use cap_std;
pub use enforcement::{Containment, Coverage, Enforcement, LandlockStatus, Strictness};
pub use error::SandboxError;
pub use grant::{
    FsAccess, Grant, NAME_RESOLUTION_PATHS, PROGRAM_PATHS, PathAccess, SYSTEM_READ_PATHS,
    SYSTEM_WRITE_PATHS, Sockets, WorkspaceAccess,
};
pub use handle::WorkspaceHandle;
pub use memory::{MemoryLimit, address_space_bytes, limit_memory};
pub use sandbox::{Sandbox, TARGET_ABI, probe, restrict_current_thread};
pub use workspace::{ReadOnlyDir, ReadOnlyEntries, ReadOnlyEntry, ReadOnlyFile, Workspace};
