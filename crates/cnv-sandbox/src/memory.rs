//! Resource-band memory limits, as the process's address-space limit (`RLIMIT_AS`).

use std::io;

use cnv_caps::ResourceBand;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use serde::{Deserialize, Serialize};

use crate::SandboxError;

/// The memory limit set by [`limit_memory`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryLimit {
    /// The band whose budget was added.
    pub band: ResourceBand,
    /// The process's address-space size when the limit was set, in bytes.
    pub baseline_bytes: u64,
    /// The band's budget, in bytes.
    pub budget_bytes: u64,
    /// The limit now in force (`RLIMIT_AS`, soft and hard), in bytes: the baseline plus
    /// the budget, or a lower limit that was already set.
    pub limit_bytes: u64,
}

/// Limits the whole process's address space to its present size plus `band`'s memory
/// budget (`Instant` 10 MiB, `Fast` 100 MiB, `Medium` 1 GiB, `Slow` 5 GiB), soft and
/// hard, so it cannot be raised again without `CAP_SYS_RESOURCE`. `Cold` sets nothing
/// and returns `Ok(None)`.
///
/// Past the limit, `mmap` and `brk` fail: an allocation Rust cannot satisfy aborts the
/// process (`handle_alloc_error`) unless the code used a fallible API such as
/// `Vec::try_reserve`; a thread that cannot get its stack is not started.
///
/// Call it once in a command-line process, after arming the deadline (whose thread's
/// start-up is then part of the baseline) and before restricting the thread (which
/// may no longer read `/proc/self/statm`). It runs the Landlock [`probe`](crate::probe)
/// first, so nothing the probe needs is taken from the budget. It limits the
/// process, not a thread: a long-running server that runs many calls cannot use it per
/// call (it would need a process per call).
///
/// What it measures is *address space*, not resident memory: reservations count
/// (thread stacks, 8 MiB for the main thread and 2 MiB for Rust's; the C allocator's
/// per-thread arenas, up to 64 MiB each) even when never touched, and memory shared
/// with other processes counts in full. A handler that starts threads under `Instant`
/// may fail for that reason. Memory used by a program the handler runs is limited
/// separately: the child inherits the limit, not the parent's usage.
///
/// # Errors
///
/// [`SandboxError::Memory`] when the address-space size cannot be read
/// (`/proc/self/statm`) or the limit cannot be set.
pub fn limit_memory(band: ResourceBand) -> Result<Option<MemoryLimit>, SandboxError> {
    let Some(budget_bytes) = band.max_memory_bytes() else {
        return Ok(None);
    };
    let failed = |error| SandboxError::Memory { error };
    // Probe Landlock now (on a kernel without it the probe starts a thread), before the
    // baseline is measured and not under the limit.
    let _ = crate::probe();
    let baseline_bytes = address_space_bytes().map_err(failed)?;
    let wanted = baseline_bytes.saturating_add(budget_bytes);
    let current = getrlimit(Resource::As);
    // Never raise a limit someone set lower.
    let limit_bytes = [current.current, current.maximum]
        .into_iter()
        .flatten()
        .fold(wanted, u64::min);
    setrlimit(
        Resource::As,
        Rlimit {
            current: Some(limit_bytes),
            maximum: Some(limit_bytes),
        },
    )
    .map_err(|errno| failed(errno.into()))?;
    Ok(Some(MemoryLimit {
        band,
        baseline_bytes,
        budget_bytes,
        limit_bytes,
    }))
}

/// The process's address-space size (`VmSize`), in bytes, from `/proc/self/statm`.
///
/// # Errors
///
/// When `/proc` is not mounted or cannot be read (for instance from a thread already
/// restricted to a class without filesystem access).
pub fn address_space_bytes() -> io::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_ascii_whitespace()
        .next()
        .and_then(|pages| pages.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/statm"))?;
    let page_size = u64::try_from(rustix::param::page_size()).unwrap_or(4096);
    Ok(pages.saturating_mul(page_size))
}
