//! Running a call the gate admitted: on a thread restricted by the kernel to what the
//! verb's class grants (`cnv-sandbox`), and stopped at the end of its resource band's
//! time.
//!
//! The thread that runs the command line never runs a handler: it opens the workspace
//! and the audit log, decides, waits, and records. Landlock restricts only the thread
//! that asks and what it starts afterwards, and for good, so handlers run on **workers**:
//! threads restricted to one class (and workspace) once, when they start. A worker runs
//! one call at a time and goes back to the pool when it answers, for the next call of its
//! class; calls that arrive together (a server's) get a worker each. A process that runs
//! one command starts one worker. A worker whose handler overran its band, panicked or
//! was abandoned never returns to the pool.
//!
//! A call made with a [`CancelToken`] (an MCP server's) is also abandoned when its caller
//! cancels it: the waiting thread wakes on the token as it wakes on the answer, and the
//! worker is left behind like one that overran.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread;

use cnv_caps::{CapabilityClass, ResourceBand};
use cnv_sandbox::{
    Enforcement, Grant, Sandbox, SandboxError, Strictness, Workspace, WorkspaceAccess,
};

use cnv_caps::Rule;

use crate::cancel::CancelToken;
use crate::gate::{Job, RunHandler};
use crate::outcome::{CallOutcome, CancelPoint, Refusal};
use crate::output::{HandlerError, Output};
use crate::settings::WORKSPACE_ENV;

/// What the operator decided about where and how handlers run.
#[derive(Debug)]
pub(crate) struct Confinement<'a> {
    /// The workspace directory of the file classes.
    pub(crate) workspace: &'a Path,
    /// The audit logs, which no handler may be able to write or read.
    pub(crate) audit_paths: &'a [PathBuf],
    /// Whether a gap in the kernel's enforcement refuses the call.
    pub(crate) strictness: Strictness,
    /// Whether handlers run restricted at all (only a program embedding cnv in a
    /// sandbox of its own turns this off).
    pub(crate) sandbox: bool,
    /// Whether the run is a whole process (`Cli::run`), so the band's memory budget may
    /// be set as the process's limit.
    pub(crate) whole_process: bool,
}

/// How running an admitted call went: how it ended, and what the kernel enforced around
/// its handler when the handler was started.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) outcome: CallOutcome,
    pub(crate) enforcement: Option<Enforcement>,
}

impl Ran {
    fn ended(outcome: CallOutcome, enforcement: Option<Enforcement>) -> Self {
        Self {
            outcome,
            enforcement,
        }
    }
}

/// The workspace `path` cannot be opened: the call does not run.
fn workspace_unopened(err: &SandboxError, path: &Path) -> CallOutcome {
    CallOutcome::Failed(HandlerError::msg(format!(
        "the workspace {} cannot be opened ({err}); the operator sets it with `{WORKSPACE_ENV}` or `CliBuilder::workspace`",
        path.display()
    )))
}

/// An audit file lies where the verb's class could reach it: the call does not run.
fn audit_in_reach(log: &Path, workspace: &Path) -> CallOutcome {
    CallOutcome::Refused(Refusal::new(
        Rule::AuditOutOfReach,
        format!(
            "the audit trail's file {} (a log, its head or its key) lies where this command could change or read it, so it does not run (rule `{}`)",
            log.display(),
            Rule::AuditOutOfReach
        ),
        format!(
            "the operator keeps the audit log, its head and its key outside the workspace ({})",
            workspace.display()
        ),
    ))
}

/// The kernel cannot enforce what the class grants, and the operator demands it, or
/// restricting failed: the call does not run.
fn unconfined(err: &SandboxError) -> CallOutcome {
    CallOutcome::Refused(Refusal::new(
        Rule::SandboxRequired,
        format!(
            "the kernel cannot confine this command as its class requires, so it does not run (rule `{}`): {err}",
            Rule::SandboxRequired
        ),
        "run it on a kernel with Landlock (ABI 6 or later for full enforcement), or ask the operator to drop CNV_SANDBOX=strict",
    ))
}

/// The worker could not start, or ended without an answer.
fn worker_failed(message: impl Into<String>) -> CallOutcome {
    CallOutcome::Failed(HandlerError::msg(message.into()))
}

/// What the handler returned, as the call's ending.
fn returned(result: Result<Output, HandlerError>) -> CallOutcome {
    match result {
        Ok(output) => CallOutcome::Ran(output),
        Err(err) => CallOutcome::Failed(err),
    }
}

/// The idle workers of one command line, by what they are restricted to.
#[derive(Debug, Default)]
pub(crate) struct Workers {
    pool: Mutex<HashMap<WorkerKey, Vec<Worker>>>,
}

/// How many idle workers of one key the pool keeps; more end when they are returned.
const IDLE_PER_KEY: usize = 8;

/// What a worker's restriction depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct WorkerKey {
    class: CapabilityClass,
    workspace: Option<PathBuf>,
    strictness: Strictness,
}

/// A worker thread: restricted once, then running one task after another.
#[derive(Debug)]
struct Worker {
    tasks: Sender<Task>,
    enforcement: Enforcement,
}

/// One call for a worker.
struct Task {
    run: RunHandler,
    reply: Reply,
}

/// What the thread waiting for a call hears.
enum Answer {
    /// The handler returned.
    Returned(Result<Output, HandlerError>),
    /// The handler ended without returning (it panicked).
    Lost,
    /// The caller cancelled the call.
    Cancelled,
}

/// Where a worker sends its answer. Dropped unanswered (the handler panicked), it says
/// so: the waiting thread cannot count on the channel closing, since a cancel token may
/// hold a sender of it too.
struct Reply(Option<Sender<Answer>>);

impl Reply {
    fn send(mut self, result: Result<Output, HandlerError>) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(Answer::Returned(result));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(Answer::Lost);
        }
    }
}

impl Workers {
    /// Runs `job` as `confinement` says (see the module documentation), until it answers,
    /// overruns its band or `cancel` is cancelled.
    pub(crate) fn execute(
        &self,
        job: Job,
        command: &str,
        confinement: &Confinement<'_>,
        cancel: Option<&CancelToken>,
    ) -> Ran {
        let class = job.contract.class();
        let band = job.contract.band();
        let grant = Grant::of(class);
        // The classes whose handlers receive a handle get the workspace (and a
        // `Dangerous` handler, not restricted by the kernel, still reaches it through
        // its handle).
        let workspace = if grant.filesystem.handle() == WorkspaceAccess::None {
            None
        } else {
            match Workspace::open(confinement.workspace) {
                Ok(workspace) => Some(workspace),
                Err(err) => {
                    return Ran::ended(workspace_unopened(&err, confinement.workspace), None);
                }
            }
        };
        if !confinement.sandbox {
            // The embedding program confines its own threads: the handler runs here, with
            // its handle, and its band's time (and its cancellation, once started) is the
            // program's to enforce.
            if cancel.is_some_and(CancelToken::is_cancelled) {
                return Ran::ended(
                    CallOutcome::Cancelled {
                        at: CancelPoint::BeforeHandler,
                    },
                    None,
                );
            }
            return Ran::ended(returned((job.run)(workspace.as_ref())), None);
        }
        if !grant.is_unrestricted() {
            for log in confinement.audit_paths {
                // A class that could write the log, or read what it records, by path
                // would hold the trail of its own calls (what it may write, it may read).
                let in_reach = grant.may_read(workspace.as_ref(), log).unwrap_or(true);
                if in_reach {
                    return Ran::ended(audit_in_reach(log, confinement.workspace), None);
                }
            }
        }
        let key = WorkerKey {
            class,
            workspace: workspace.as_ref().map(|w| w.path().to_path_buf()),
            strictness: confinement.strictness,
        };
        // A whole process runs one call: its band's memory budget is the process's limit,
        // set by the worker before it restricts itself (the size it starts from is read
        // from /proc, which the restriction closes).
        let memory = confinement.whole_process.then_some(band);
        let worker = match self.take(&key, workspace, memory, command) {
            Ok(worker) => worker,
            Err(outcome) => return Ran::ended(outcome, None),
        };
        let (reply, answer) = mpsc::channel();
        if let Some(cancel) = cancel {
            let wake = reply.clone();
            let waiting = cancel.on_cancel(move || {
                let _ = wake.send(Answer::Cancelled);
            });
            if !waiting {
                // Cancelled before the handler started: it never starts.
                self.give_back(key, worker);
                return Ran::ended(
                    CallOutcome::Cancelled {
                        at: CancelPoint::BeforeHandler,
                    },
                    None,
                );
            }
        }
        let task = Task {
            run: job.run,
            reply: Reply(Some(reply)),
        };
        let sent = worker.tasks.send(task);
        let answer = if sent.is_err() {
            Err(None)
        } else {
            match band.max_runtime() {
                Some(budget) => answer.recv_timeout(budget).map_err(|err| match err {
                    mpsc::RecvTimeoutError::Timeout => Some(budget),
                    mpsc::RecvTimeoutError::Disconnected => None,
                }),
                None => answer.recv().map_err(|_| None),
            }
        };
        if let Some(cancel) = cancel {
            cancel.clear();
        }
        match answer {
            Ok(Answer::Returned(result)) => {
                let enforcement = worker.enforcement.clone();
                self.give_back(key, worker);
                Ran::ended(returned(result), Some(enforcement))
            }
            // The worker is busy with a handler that did not stop: never again.
            Ok(Answer::Cancelled) => Ran::ended(
                CallOutcome::Cancelled {
                    at: CancelPoint::DuringHandler,
                },
                Some(worker.enforcement),
            ),
            Err(Some(budget)) => {
                Ran::ended(CallOutcome::Overran { budget }, Some(worker.enforcement))
            }
            Ok(Answer::Lost) | Err(None) if sent.is_err() => Ran::ended(
                worker_failed("the handler's worker ended before the call"),
                None,
            ),
            Ok(Answer::Lost) | Err(None) => Ran::ended(
                worker_failed(
                    "the handler's worker ended without an answer (the handler panicked)",
                ),
                None,
            ),
        }
    }

    /// An idle worker for `key`, or a new one (restricted before it is returned).
    fn take(
        &self,
        key: &WorkerKey,
        workspace: Option<Workspace>,
        memory: Option<ResourceBand>,
        command: &str,
    ) -> Result<Worker, CallOutcome> {
        let idle = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(key)
            .and_then(Vec::pop);
        match idle {
            Some(worker) => Ok(worker),
            None => start(key.class, key.strictness, workspace, memory, command),
        }
    }

    /// Puts a worker that answered back in the pool (or lets it end, when enough of its
    /// kind are idle).
    fn give_back(&self, key: WorkerKey, worker: Worker) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let idle = pool.entry(key).or_default();
        if idle.len() < IDLE_PER_KEY {
            idle.push(worker);
        }
    }
}

/// What a starting worker tells the command line.
enum Started {
    Restricted(Enforcement),
    NotRestricted(SandboxError),
    NoMemoryLimit(SandboxError),
}

/// Starts a worker for `class`, which restricts itself before it takes a task.
fn start(
    class: CapabilityClass,
    strictness: Strictness,
    workspace: Option<Workspace>,
    memory: Option<ResourceBand>,
    command: &str,
) -> Result<Worker, CallOutcome> {
    let (started_tx, started) = mpsc::channel();
    let (tasks, inbox) = mpsc::channel::<Task>();
    thread::Builder::new()
        .name(format!("cnv {class} worker (first: {command})"))
        .spawn(move || serve(class, strictness, workspace, memory, &started_tx, &inbox))
        .map_err(|err| worker_failed(format!("the handler's worker could not start: {err}")))?;
    match started.recv() {
        Ok(Started::Restricted(enforcement)) => Ok(Worker { tasks, enforcement }),
        Ok(Started::NotRestricted(err)) => Err(unconfined(&err)),
        Ok(Started::NoMemoryLimit(err)) => Err(worker_failed(format!(
            "the memory budget of the command's band could not be set: {err}"
        ))),
        Err(_) => Err(worker_failed(
            "the handler's worker ended before it was restricted".to_owned(),
        )),
    }
}

/// A worker's life: restrict this thread to `class`, then run tasks until the command
/// line drops its end of the channel.
fn serve(
    class: CapabilityClass,
    strictness: Strictness,
    workspace: Option<Workspace>,
    memory: Option<ResourceBand>,
    started: &Sender<Started>,
    inbox: &Receiver<Task>,
) {
    // A first allocation gives the thread its arena before any memory limit.
    drop(Vec::<u8>::with_capacity(64));
    if let Some(band) = memory
        && let Err(err) = cnv_sandbox::limit_memory(band)
    {
        let _ = started.send(Started::NoMemoryLimit(err));
        return;
    }
    let plan = Sandbox::new(class).strictness(strictness);
    let plan = match &workspace {
        Some(workspace) => plan.workspace(workspace),
        None => plan,
    };
    let enforcement = match plan.restrict_current_thread() {
        Ok(enforcement) => enforcement,
        Err(err) => {
            let _ = started.send(Started::NotRestricted(err));
            return;
        }
    };
    if started.send(Started::Restricted(enforcement)).is_err() {
        return;
    }
    for task in inbox {
        let result = (task.run)(workspace.as_ref());
        task.reply.send(result);
    }
}
