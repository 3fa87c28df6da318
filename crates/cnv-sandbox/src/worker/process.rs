//! The parent's side of a worker process: starting it (from one spawner thread, in a PID
//! namespace of its own where the kernel allows), the handshake, one call at a time, and
//! killing it with everything it started.

use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use rustix::fs::{MemfdFlags, OFlags};
use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

use super::WorkerSpec;
use super::frame::{self, ReadError};
use crate::{Containment, Enforcement, SandboxError, Strictness};

/// How long a starting worker may take to confine itself and say so.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What a worker says once it has confined itself (or could not).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Hello {
    /// Confined as its spec asked; what the kernel enforced.
    Ready(Box<Enforcement>),
    /// It could not confine itself, and why (the strict policy's refusal carries the
    /// report).
    Refused {
        /// What went wrong.
        message: String,
        /// What would have been enforced, when the strict policy refused it.
        report: Option<Box<Enforcement>>,
    },
}

/// A worker process, confined, waiting for a call. Dropping it kills it.
#[derive(Debug)]
pub struct Worker {
    /// The worker process (`None` once it is handed to the spawner thread to reap).
    child: Option<Child>,
    /// Its process id.
    pid: u32,
    socket: UnixStream,
    /// The worker's standard output and error: a memory file the parent empties before
    /// each call and reads after it, even when the worker died.
    console: File,
    spec: WorkerSpec,
    enforcement: Enforcement,
    cancelled: Arc<AtomicBool>,
    /// The worker's own `pids` cgroup, removed once it has ended.
    cgroup: Option<PathBuf>,
    alive: bool,
}

/// The answer to one call.
#[derive(Debug)]
#[non_exhaustive]
pub struct Answer {
    /// What the worker answered.
    pub body: Vec<u8>,
    /// What the handler wrote to its standard output and error (at most the budget's
    /// `console_bytes`).
    pub console: Vec<u8>,
    /// How many more bytes it wrote, that were cut.
    pub console_cut: u64,
}

/// Why a call has no answer. The worker was killed (or had died), with every process it
/// started; it is never used again.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stopped {
    /// The deadline passed: the worker was killed `after` the call was sent.
    Overran {
        /// How long the call had run when it was killed.
        after: Duration,
        /// What the handler had written to its standard output and error.
        console: Vec<u8>,
    },
    /// [`WorkerCancel::cancel`] was called: the worker was killed.
    Cancelled {
        /// How long the call had run.
        after: Duration,
    },
    /// The answer announced more bytes than the budget allows: the worker was killed
    /// before it was read.
    TooLarge {
        /// The bytes the answer announced.
        bytes: u64,
        /// The budget.
        limit: u64,
    },
    /// The worker ended without answering (a budget's signal, a crash).
    Died {
        /// How it ended, in words (`killed by signal 25 (SIGXFSZ: the written-bytes
        /// budget)`).
        how: String,
        /// What the handler had written to its standard output and error.
        console: Vec<u8>,
    },
    /// The socket to the worker failed.
    Io(io::Error),
}

/// Cancels the call a worker runs, from another thread: the worker is killed and the call
/// ends as [`Stopped::Cancelled`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WorkerCancel {
    socket: Arc<UnixStream>,
    cancelled: Arc<AtomicBool>,
}

impl WorkerCancel {
    /// Stops the call: its wait ends at once, and the worker is killed.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

impl Worker {
    /// Starts a worker for `spec` with the environment `env` (and nothing else of this
    /// process's), and waits until it has confined itself.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Worker`] when it cannot be started or ends before it is ready;
    /// [`SandboxError::NotEnforced`] when the strict policy refuses what the kernel
    /// enforces; the worker's own error otherwise.
    pub fn start(spec: &WorkerSpec, env: &[(String, String)]) -> Result<Self, SandboxError> {
        let failed = |what: &str, error: io::Error| SandboxError::Worker {
            reason: format!("{what}: {error}"),
        };
        let console: File = rustix::fs::memfd_create("cnv-worker-console", MemfdFlags::CLOEXEC)
            .map_err(|errno| failed("cannot make its console", errno.into()))?
            .into();
        // Appending: the worker writes at the end, wherever the parent emptied it to.
        rustix::fs::fcntl_setfl(&console, OFlags::APPEND)
            .map_err(|errno| failed("cannot make its console", errno.into()))?;
        let (ours, theirs) =
            UnixStream::pair().map_err(|error| failed("cannot make its socket", error))?;
        let out = console
            .try_clone()
            .map_err(|error| failed("cannot share its console", error))?;
        let err = console
            .try_clone()
            .map_err(|error| failed("cannot share its console", error))?;
        let mut command = Command::new("/proc/self/exe");
        command
            .arg0(super::WORKER_NAME)
            .env_clear()
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::from(OwnedFd::from(out)))
            .stderr(Stdio::from(OwnedFd::from(err)))
            .current_dir(spec.workspace.as_deref().unwrap_or("/".as_ref()))
            .process_group(0);
        let child = spawn(command).map_err(|error| failed("cannot start", error))?;
        let mut worker = Self {
            pid: child.id(),
            child: Some(child),
            socket: ours,
            console,
            spec: spec.clone(),
            enforcement: Enforcement::unknown(spec.class),
            cancelled: Arc::new(AtomicBool::new(false)),
            cgroup: None,
            alive: true,
        };
        let may_start_processes = crate::Grant::of(spec.class).execute;
        if may_start_processes && let Some(limit) = spec.budgets.processes {
            worker.cgroup = pids_cgroup(worker.pid, limit);
        }
        let spec_json = serde_json::to_vec(spec).map_err(|error| SandboxError::Worker {
            reason: format!("cannot describe its confinement: {error}"),
        })?;
        frame::write(&mut worker.socket, &spec_json)
            .map_err(|error| worker.lost("ended before it was told its confinement", error))?;
        let hello = frame::read(
            &mut worker.socket,
            1 << 20,
            Some(Instant::now() + START_TIMEOUT),
        );
        let hello: Hello = match hello {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                worker.kill();
                SandboxError::Worker {
                    reason: format!("answered its start with something else ({error})"),
                }
            })?,
            Err(error) => {
                let reason = match error {
                    ReadError::TimedOut => "did not confine itself in time".to_owned(),
                    ReadError::Closed | ReadError::TooLarge { .. } | ReadError::Io(_) => {
                        worker.kill();
                        let console = worker.console_text();
                        format!(
                            "ended before it was confined ({}){}",
                            describe(worker.status()),
                            if console.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", String::from_utf8_lossy(&console).trim())
                            }
                        )
                    }
                };
                worker.kill();
                return Err(SandboxError::Worker { reason });
            }
        };
        match hello {
            Hello::Ready(mut enforcement) => {
                if may_start_processes
                    && spec.budgets.processes.is_some()
                    && worker.cgroup.is_none()
                {
                    enforcement
                        .gaps
                        .push("the process-count budget (no pids cgroup could be made)".to_owned());
                    if spec.strictness == Strictness::Strict {
                        worker.kill();
                        return Err(SandboxError::NotEnforced {
                            report: enforcement,
                        });
                    }
                }
                worker.enforcement = *enforcement;
                Ok(worker)
            }
            Hello::Refused { message, report } => {
                worker.kill();
                Err(match report {
                    Some(report) => SandboxError::NotEnforced { report },
                    None => SandboxError::Worker { reason: message },
                })
            }
        }
    }

    /// What the worker is confined to.
    #[must_use]
    pub fn spec(&self) -> &WorkerSpec {
        &self.spec
    }

    /// What the kernel enforces in the worker.
    #[must_use]
    pub fn enforcement(&self) -> &Enforcement {
        &self.enforcement
    }

    /// The worker's process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Whether a [`WorkerCancel`] of this worker was used: its socket is shut, and it can
    /// take no more calls (drop it).
    #[must_use]
    pub fn was_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// A handle that cancels the next call from another thread.
    ///
    /// # Errors
    ///
    /// When the socket cannot be shared.
    pub fn cancel_handle(&self) -> io::Result<WorkerCancel> {
        Ok(WorkerCancel {
            socket: Arc::new(self.socket.try_clone()?),
            cancelled: Arc::clone(&self.cancelled),
        })
    }

    /// Sends `request` and waits for the answer until `deadline` (none: for ever). The
    /// worker comes back with the answer, ready for the next call; whatever else ends the
    /// call kills it.
    ///
    /// # Errors
    ///
    /// A [`Stopped`] that says why there is no answer.
    pub fn call(
        mut self,
        request: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(Answer, Self), Stopped> {
        let sent = Instant::now();
        let _ = self.console.set_len(0);
        if let Err(error) = frame::write(&mut self.socket, request) {
            return Err(self.died_or(Stopped::Io(error)));
        }
        let limit = self.spec.budgets.output_bytes;
        match frame::read(&mut self.socket, limit, deadline) {
            Ok(body) => {
                let (console, console_cut) = self.console_kept();
                Ok((
                    Answer {
                        body,
                        console,
                        console_cut,
                    },
                    self,
                ))
            }
            Err(ReadError::TimedOut) => {
                self.kill();
                Err(Stopped::Overran {
                    after: sent.elapsed(),
                    console: self.console_text(),
                })
            }
            Err(ReadError::TooLarge { announced }) => {
                self.kill();
                Err(Stopped::TooLarge {
                    bytes: announced,
                    limit,
                })
            }
            Err(ReadError::Closed) if self.cancelled.load(Ordering::SeqCst) => {
                self.kill();
                Err(Stopped::Cancelled {
                    after: sent.elapsed(),
                })
            }
            Err(ReadError::Closed) => {
                Err(self.died_or(Stopped::Io(io::ErrorKind::UnexpectedEof.into())))
            }
            Err(ReadError::Io(error)) => Err(self.died_or(Stopped::Io(error))),
        }
    }

    /// How the worker ended, if it has; otherwise it is killed and `otherwise` returned.
    fn died_or(&mut self, otherwise: Stopped) -> Stopped {
        // A worker that closed its socket is ending: give it a moment to be reaped.
        for _ in 0..50 {
            if let Some(status) = self.status() {
                self.alive = false;
                self.kill();
                return Stopped::Died {
                    how: describe(Some(status)),
                    console: self.console_text(),
                };
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.kill();
        otherwise
    }

    /// What the handler wrote, up to the budget, and how much more was cut.
    fn console_kept(&self) -> (Vec<u8>, u64) {
        let written = self.console.metadata().map_or(0, |meta| meta.len());
        let keep = written.min(self.spec.budgets.console_bytes);
        let mut kept = vec![0u8; usize::try_from(keep).unwrap_or(0)];
        let read = self.console.read_at(&mut kept, 0).unwrap_or(0);
        kept.truncate(read);
        (kept, written.saturating_sub(read as u64))
    }

    fn console_text(&self) -> Vec<u8> {
        self.console_kept().0
    }

    fn status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    fn lost(&mut self, what: &str, error: io::Error) -> SandboxError {
        self.kill();
        SandboxError::Worker {
            reason: format!("{what}: {error}"),
        }
    }

    /// Kills the worker with its whole process group (and, in a PID namespace of its own,
    /// every process in it), and waits until it has ended.
    fn kill(&mut self) {
        if self.alive {
            self.signal_kill();
            if let Some(child) = self.child.as_mut() {
                let _ = child.wait();
            }
            self.alive = false;
        }
        if let Some(cgroup) = self.cgroup.take() {
            let _ = fs::remove_dir(cgroup);
        }
    }
}

impl Worker {
    /// Sends `SIGKILL` to the worker's process group and to the worker.
    fn signal_kill(&mut self) {
        if let Some(pid) = Pid::from_raw(i32::try_from(self.pid).unwrap_or(0)) {
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
    }
}

impl Drop for Worker {
    /// Kills the worker, with everything it started. A worker of a class that runs no
    /// programs has nothing else to wait for: the spawner thread reaps it, so a command line
    /// that is ending does not wait for its PID namespace to be torn down. One that may have
    /// started programs is waited for here, so none of them is still ending when the
    /// command line has.
    fn drop(&mut self) {
        if !self.alive || crate::Grant::of(self.spec.class).execute {
            self.kill();
            return;
        }
        self.signal_kill();
        if self.status().is_some() {
            self.alive = false;
            self.kill();
            return;
        }
        self.alive = false;
        if let Some(child) = self.child.take() {
            let cgroup = self.cgroup.take();
            if let Err(Task::Reap { mut child, cgroup }) = send(Task::Reap { child, cgroup }) {
                let _ = child.wait();
                if let Some(cgroup) = cgroup {
                    let _ = fs::remove_dir(cgroup);
                }
            }
        }
    }
}

/// How a worker ended, in words.
fn describe(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "still running".to_owned();
    };
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(signal) if signal == libc::SIGXFSZ => {
            format!("killed by signal {signal} (SIGXFSZ: past its written-bytes budget)")
        }
        Some(signal) if signal == libc::SIGABRT => {
            format!(
                "killed by signal {signal} (SIGABRT: an allocation past its memory budget, or a panic that aborted)"
            )
        }
        Some(signal) if signal == libc::SIGSYS => {
            format!("killed by signal {signal} (SIGSYS: a system call of another architecture)")
        }
        Some(signal) => format!("killed by signal {signal}"),
        None => "ended".to_owned(),
    }
}

/// A `pids` cgroup (cgroup v1, where one is writable) of at most `limit` processes holding
/// the process `pid`, which is not confined yet: its path, or `None` where none can be
/// made.
fn pids_cgroup(pid: u32, limit: u64) -> Option<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = PathBuf::from("/sys/fs/cgroup/pids");
    if !base.join("cgroup.procs").exists() {
        return None;
    }
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let relative = own.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|controller| controller == "pids")
            .then(|| path.trim_start_matches('/').to_owned())
    })?;
    let parent = base.join(relative);
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| sweep_abandoned(&parent));
    let dir = parent.join(format!(
        "cnv-worker-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&dir).ok()?;
    let placed = fs::write(dir.join("pids.max"), limit.to_string())
        .and_then(|()| fs::write(dir.join("cgroup.procs"), pid.to_string()));
    if placed.is_err() {
        let _ = fs::remove_dir(&dir);
        return None;
    }
    Some(dir)
}

/// Removes, under `parent`, the empty cgroups of workers whose command line is gone
/// (`cnv-worker-<its pid>-<n>`: a command line killed before it could remove them), so that
/// a server started again after a kill does not leave them to pile up. A cgroup still
/// holding a process is never removed (the kernel refuses to), nor one of a command line
/// still running (it may be about to place its worker there).
fn sweep_abandoned(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name
            .to_str()
            .and_then(|name| name.strip_prefix("cnv-worker-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(owner) = owner else {
            continue;
        };
        if owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists() {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// What the spawner thread does.
enum Task {
    /// Starts a worker.
    Spawn {
        command: Box<Command>,
        reply: Sender<io::Result<Child>>,
    },
    /// Waits for a killed worker to end, then removes its cgroup.
    Reap {
        child: Child,
        cgroup: Option<PathBuf>,
    },
}

/// Sends `task` to the spawner thread (started on first use), or gives it back when there
/// is none.
fn send(task: Task) -> Result<(), Task> {
    static SPAWNER: OnceLock<Option<Mutex<Sender<Task>>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (send, receive) = mpsc::channel::<Task>();
        std::thread::Builder::new()
            .name("cnv worker spawner".to_owned())
            .spawn(move || {
                for task in receive {
                    match task {
                        Task::Spawn { command, reply } => {
                            let _ = reply.send(spawn_in_own_pid_namespace(*command));
                        }
                        Task::Reap { mut child, cgroup } => {
                            let _ = child.wait();
                            if let Some(cgroup) = cgroup {
                                let _ = fs::remove_dir(cgroup);
                            }
                        }
                    }
                }
            })
            .ok()
            .map(|_| Mutex::new(send))
    });
    match spawner {
        Some(sender) => sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(task)
            .map_err(|mpsc::SendError(task)| task),
        None => Err(task),
    }
}

/// Starts `command` on the spawner thread: a thread that lives as long as the process, so
/// that a worker (which asks to be killed when the thread that started it ends) outlives
/// no call and no call's thread; and whose own PID namespace for children it may change
/// without touching any other thread.
fn spawn(command: Command) -> io::Result<Child> {
    let (reply, answer) = mpsc::channel();
    send(Task::Spawn {
        command: Box::new(command),
        reply,
    })
    .map_err(|_| io::Error::other("the worker spawner thread could not be started"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the worker spawner thread is gone"))?
}

/// Spawns `command` as the first process of a new PID namespace where this thread may
/// make one (as root), otherwise as a plain child; then returns this thread to its own
/// namespace for the next spawn.
#[allow(deprecated)] // `unshare` is safe for the flags used here (no CLONE_FILES).
fn spawn_in_own_pid_namespace(mut command: Command) -> io::Result<Child> {
    static OWN: OnceLock<Option<File>> = OnceLock::new();
    let own = OWN.get_or_init(|| File::open("/proc/self/ns/pid").ok());
    let isolated =
        own.is_some() && rustix::thread::unshare(rustix::thread::UnshareFlags::NEWPID).is_ok();
    let child = command.spawn();
    if isolated && let Some(own) = own {
        // Back to this process's namespace, so the next worker gets a namespace of its
        // own and not this one's second place.
        rustix::thread::move_into_link_name_space(
            std::os::fd::AsFd::as_fd(own),
            Some(rustix::thread::LinkNameSpaceType::ProcessID),
        )
        .map_err(io::Error::from)?;
    }
    child
}

/// Whether a worker of this process is the first of a PID namespace of its own, as a
/// worker reports it.
pub(crate) fn containment_of_self() -> Containment {
    if std::process::id() == 1 {
        Containment::PidNamespace
    } else {
        Containment::ProcessGroup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_cgroups_of_command_lines_that_are_gone_are_swept_and_no_other() {
        let parent = std::env::temp_dir().join(format!("cnv-sweep-{}", std::process::id()));
        let _ = fs::remove_dir_all(&parent);
        fs::create_dir_all(&parent).expect("a scratch directory");
        // A process that has ended: its pid names no process any more.
        let mut ended = Command::new("true").spawn().expect("`true` starts");
        let gone = ended.id();
        ended.wait().expect("`true` ends");
        let own = std::process::id();
        let abandoned = parent.join(format!("cnv-worker-{gone}-0"));
        let populated = parent.join(format!("cnv-worker-{gone}-1"));
        let ours = parent.join(format!("cnv-worker-{own}-0"));
        let other = parent.join("someone-else");
        for dir in [&abandoned, &populated, &ours, &other] {
            fs::create_dir(dir).expect("a cgroup-like directory");
        }
        // A cgroup still holding a process is not empty; the kernel refuses its removal
        // as the file system refuses this one's.
        fs::write(populated.join("cgroup.procs"), "1").expect("a member");

        sweep_abandoned(&parent);

        assert!(
            !abandoned.exists(),
            "the empty cgroup of an ended command line stays"
        );
        assert!(populated.exists(), "a populated cgroup was removed");
        assert!(ours.exists(), "a running command line's cgroup was removed");
        assert!(
            other.exists(),
            "a cgroup that is not a worker's was removed"
        );
        fs::remove_dir_all(&parent).expect("the scratch directory is removed");
    }
}
