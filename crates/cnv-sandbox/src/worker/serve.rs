//! The worker's side: recognise that this process is a worker, confine it as its parent
//! says, then answer one request after another; after each, end every process the call
//! started.

use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use rustix::process::{Pid, Resource, Rlimit, Signal, WaitOptions};

use super::frame::{self, ReadError};
use super::process::{Hello, containment_of_self};
use super::{WORKER_NAME, WorkerSpec};
use crate::{Containment, Sandbox, SandboxError, Strictness, Workspace};

/// The largest request a worker reads: its parent checked the call's arguments already.
const MAX_REQUEST: u64 = 64 << 20;

/// Whether this process is a worker process of its program: it runs under the worker's
/// name, its parent's socket on its standard input. The program's entry point asks this
/// first, before anything else runs.
#[must_use]
pub fn is_worker() -> bool {
    let named = std::env::args_os()
        .next()
        .is_some_and(|name| name == WORKER_NAME);
    named && socket_on_stdin()
}

fn socket_on_stdin() -> bool {
    rustix::fs::fstat(io::stdin()).is_ok_and(|stat| {
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Socket
    })
}

/// What a call's code receives in a worker: the workspace the worker opened before it
/// confined itself, when its class has one.
#[derive(Debug)]
#[non_exhaustive]
pub struct WorkerContext<'a> {
    /// The workspace.
    pub workspace: Option<&'a Workspace>,
    /// What the kernel enforces in this worker.
    pub enforcement: &'a crate::Enforcement,
}

/// Serves as a worker: confines this process as its parent's spec says, then answers each
/// request with `answer` until the parent closes the socket, and exits. Never returns.
///
/// `answer` is the program's: it reads a request and returns the answer's bytes. A panic
/// in it ends the worker (the parent sees the call's worker die).
pub fn serve(answer: &mut dyn FnMut(&[u8], &WorkerContext<'_>) -> Vec<u8>) -> ! {
    let code = match run(answer) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("cnv worker: {error}");
            70
        }
    };
    std::process::exit(code)
}

fn run(answer: &mut dyn FnMut(&[u8], &WorkerContext<'_>) -> Vec<u8>) -> io::Result<()> {
    // The socket moves off standard input (programs the handler starts inherit fd 0, and
    // must not be able to write on it); standard input becomes /dev/null.
    let socket: OwnedFd = rustix::io::fcntl_dupfd_cloexec(io::stdin(), 3)?;
    let null = File::open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    let mut socket = UnixStream::from(socket);
    // Ends with the thread that started it (its parent's spawner, which lives as long as
    // the parent).
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
    let spec = match frame::read(&mut socket, 1 << 20, None) {
        Ok(bytes) => serde_json::from_slice::<WorkerSpec>(&bytes).map_err(io::Error::other)?,
        Err(ReadError::Closed) => return Ok(()),
        Err(error) => return Err(io::Error::other(format!("{error:?}"))),
    };
    let (workspace, enforcement) = match confine(&spec) {
        Ok(confined) => confined,
        Err(error) => {
            let hello = match error {
                SandboxError::NotEnforced { report } => Hello::Refused {
                    message: "the kernel cannot enforce the class as strictly as asked".to_owned(),
                    report: Some(report),
                },
                other => Hello::Refused {
                    message: other.to_string(),
                    report: None,
                },
            };
            let bytes = serde_json::to_vec(&hello).map_err(io::Error::other)?;
            return frame::write(&mut socket, &bytes);
        }
    };
    let hello = serde_json::to_vec(&Hello::Ready(Box::new(enforcement.clone())))
        .map_err(io::Error::other)?;
    frame::write(&mut socket, &hello)?;
    let context = WorkerContext {
        workspace: workspace.as_ref(),
        enforcement: &enforcement,
    };
    let starts_processes = crate::Grant::of(spec.class).execute;
    loop {
        let request = match frame::read(&mut socket, MAX_REQUEST, None) {
            Ok(request) => request,
            Err(ReadError::Closed) => return Ok(()),
            Err(error) => return Err(io::Error::other(format!("{error:?}"))),
        };
        let reply = answer(&request, &context);
        if starts_processes {
            end_the_call_s_processes(enforcement.containment);
        }
        frame::write(&mut socket, &reply)?;
    }
}

/// Confines this process as `spec` says: its own view of processes (in a PID namespace
/// of its own), its budgets, no capabilities, then the class's Landlock ruleset and
/// seccomp filter. Returns the workspace it opened and what the kernel enforces.
fn confine(spec: &WorkerSpec) -> Result<(Option<Workspace>, crate::Enforcement), SandboxError> {
    let failed = |what: &str, error: io::Error| SandboxError::Worker {
        reason: format!("{what}: {error}"),
    };
    let threads = fs::read_dir("/proc/self/task")
        .map(Iterator::count)
        .unwrap_or(1);
    let containment = containment_of_self();
    if containment == Containment::PidNamespace {
        // Only this namespace's processes under /proc: no other process of the machine
        // can be read, or even seen.
        private_proc().map_err(|error| failed("cannot mount its own /proc", error))?;
    }
    let workspace = spec.workspace.as_ref().map(Workspace::open).transpose()?;
    limit(spec).map_err(|error| failed("cannot set its budgets", error))?;
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    let grant = crate::Grant::of(spec.class);
    if !grant.is_unrestricted() {
        drop_capabilities();
    }
    let mut sandbox = Sandbox::new(spec.class)
        .strictness(spec.strictness)
        .contained_by(containment);
    if let Some(workspace) = &workspace {
        sandbox = sandbox.workspace(workspace);
    }
    let mut enforcement = sandbox.restrict_current_thread()?;
    enforcement.budgets = Some(spec.budgets);
    if threads > 1 && !grant.is_unrestricted() {
        enforcement.gaps.push(format!(
            "{} other threads of the worker process (started before it confined itself)",
            threads - 1
        ));
        if spec.strictness == Strictness::Strict {
            return Err(SandboxError::NotEnforced {
                report: Box::new(enforcement),
            });
        }
    }
    Ok((workspace, enforcement))
}

/// A private mount namespace whose `/proc` shows this PID namespace only.
#[allow(deprecated)] // `unshare` is safe for the flags used here (no CLONE_FILES).
fn private_proc() -> io::Result<()> {
    use rustix::mount::{MountFlags, MountPropagationFlags};
    rustix::thread::unshare(rustix::thread::UnshareFlags::NEWNS)?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )?;
    rustix::mount::mount(
        "proc",
        "/proc",
        "proc",
        MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        c"hidepid=invisible",
    )?;
    Ok(())
}

/// The budgets as this process's limits, soft and hard (so nothing it runs can raise
/// them): no core files, the written-bytes budget, and the memory budget on top of what
/// the process has now.
fn limit(spec: &WorkerSpec) -> io::Result<()> {
    let set = |resource, value: Option<u64>| {
        rustix::process::setrlimit(
            resource,
            Rlimit {
                current: value,
                maximum: value,
            },
        )
    };
    set(Resource::Core, Some(0))?;
    if let Some(bytes) = spec.budgets.written_bytes {
        set(Resource::Fsize, Some(bytes))?;
    }
    if let Some(bytes) = spec.budgets.memory_bytes {
        // Probe Landlock now, before the baseline is measured and not under the limit.
        let _ = crate::probe();
        // A first allocation reserves this thread's arena before the limit.
        drop(Vec::<u8>::with_capacity(64));
        let baseline = crate::address_space_bytes()?;
        set(Resource::As, Some(baseline.saturating_add(bytes)))?;
    }
    Ok(())
}

/// Drops every capability, for this process and whatever it runs: a root worker would
/// otherwise read other processes' `/proc/PID/environ` past Landlock (the kernel lets
/// `CAP_SYS_ADMIN` and `CAP_PERFMON` through first). Best effort: a worker that is not
/// root has none to drop.
fn drop_capabilities() {
    use rustix::thread::{
        CapabilitiesSecureBits, CapabilitySet, CapabilitySets, remove_capability_from_bounding_set,
        set_capabilities, set_capabilities_secure_bits,
    };
    for capability in CapabilitySet::all().iter() {
        let _ = remove_capability_from_bounding_set(capability);
    }
    let _ = set_capabilities_secure_bits(
        CapabilitiesSecureBits::NO_ROOT
            | CapabilitiesSecureBits::NO_ROOT_LOCKED
            | CapabilitiesSecureBits::NO_SETUID_FIXUP
            | CapabilitiesSecureBits::NO_SETUID_FIXUP_LOCKED
            | CapabilitiesSecureBits::NO_CAP_AMBIENT_RAISE
            | CapabilitiesSecureBits::NO_CAP_AMBIENT_RAISE_LOCKED,
    );
    let _ = set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::empty(),
            permitted: CapabilitySet::empty(),
            inheritable: CapabilitySet::empty(),
        },
    );
}

/// Ends every process the call started, before its answer goes out, so none outlives the
/// call: in a PID namespace of its own, every process but this one; otherwise every other
/// member of this process group (which the class's programs cannot leave).
fn end_the_call_s_processes(containment: Containment) {
    for _ in 0..1000 {
        let others = match containment {
            Containment::PidNamespace => {
                // `kill(-1)` from a namespace's first process signals every other process
                // of the namespace.
                let _ = rustix::process::kill_process_group(Pid::INIT, Signal::KILL);
                other_processes(|_| true)
            }
            Containment::ProcessGroup | Containment::Thread => {
                let group = rustix::process::getpgrp();
                let members = other_processes(|stat| stat.group == group.as_raw_nonzero().get());
                for pid in &members {
                    if let Some(pid) = Pid::from_raw(*pid) {
                        let _ = rustix::process::kill_process(pid, Signal::KILL);
                    }
                }
                members
            }
        };
        // Reap whatever ended (children of this process, and orphans it inherited as its
        // namespace's first process).
        while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
        if others.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// A process as `/proc/PID/stat` describes it: its process group.
struct Stat {
    group: i32,
}

/// The other processes this process sees under `/proc` for which `keep` holds.
fn other_processes(keep: impl Fn(&Stat) -> bool) -> Vec<i32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| u32::try_from(*pid).is_ok_and(|pid| pid != me))
        .filter(|pid| {
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid pgrp …`: the name may hold spaces and parentheses.
            let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
                return false;
            };
            let mut fields = after.split_whitespace();
            let group = fields.nth(2).and_then(|field| field.parse().ok());
            group.is_some_and(|group| keep(&Stat { group }))
        })
        .collect()
}
