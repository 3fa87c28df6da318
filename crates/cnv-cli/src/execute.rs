//! Running a call the gate admitted: in a **worker process** confined to what the verb's
//! class grants (`cnv-sandbox`'s workers), killed — with every process it started — when
//! the call runs past its resource band's time, counted from the call's arrival.
//!
//! The process that runs the command line (or the server) never runs a handler: it opens
//! the workspace and the audit log, decides, sends the call to a worker and records how it
//! ended. A worker is this same program started again in worker mode (`Cli::run` and the
//! server enter it first), confined once when it starts to one class, band, workspace and
//! set of budgets, and then runs one call after another of that kind; calls that arrive
//! together get a worker each. The workers of a command line are kept by what confines
//! them, so a server reuses them; one that was killed (an overrun, a cancel, a budget) is
//! never reused, and a server starts its replacement at once.
//!
//! A program that embeds cnv and never enters through `Cli::run` or a server has no way to
//! start a worker of itself (its `main` is not cnv's): its handlers run on confined
//! **threads** of its own process instead, which the band's time stops waiting for but
//! cannot kill; the enforcement report says so ([`Containment::Thread`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use clap::ArgMatches;
use cnv_caps::text::escape_for_display_keeping_line_feeds;
use cnv_caps::{CapabilityClass, ResourceBand, Rule};
use cnv_grammar::{GrammarArgument, GrammarVerb};
use cnv_sandbox::worker::{Budgets, Stopped, Worker, WorkerSpec, program_env};
use cnv_sandbox::{
    Containment, Enforcement, Grant, Sandbox, SandboxError, Strictness, Workspace, WorkspaceAccess,
};

use crate::cancel::CancelToken;
use crate::gate::{Job, RunHandler};
use crate::outcome::{CallOutcome, CancelPoint, Refusal};
use crate::output::{HandlerError, Output};
use crate::protocol::{Reply, Request, worker_argv};
use crate::settings::{BUDGET_ENV, WORKSPACE_ENV, hidden_from_handlers};
use crate::telemetry::{CallTrace, Phase, PhaseSpan};

/// Whether this process can start workers of itself: its entry point (`Cli::run`, a
/// server) checked that it is not one, so a worker started from `/proc/self/exe` reaches
/// the same check and serves.
static WORKER_PROCESSES: AtomicBool = AtomicBool::new(false);

/// Says that this process's entry point serves as a worker when started as one, so its
/// handlers run in worker processes from now on.
pub(crate) fn enable_worker_processes() {
    WORKER_PROCESSES.store(true, Ordering::SeqCst);
}

fn worker_processes() -> bool {
    WORKER_PROCESSES.load(Ordering::SeqCst)
}

/// What the operator decided about where and how handlers run, for one call.
#[derive(Debug)]
pub(crate) struct Confinement<'a> {
    /// The workspace directory of the file classes.
    pub(crate) workspace: &'a Path,
    /// The audit logs, which no handler may be able to write or read.
    pub(crate) audit_paths: &'a [PathBuf],
    /// Whether a gap in the kernel's enforcement refuses the call.
    pub(crate) strictness: Strictness,
    /// Whether handlers run confined at all (only a program embedding cnv in a sandbox of
    /// its own turns this off).
    pub(crate) sandbox: bool,
    /// Whether the run is a whole process (`Cli::run`), so that a handler run on a thread
    /// may have the band's memory budget as the process's limit.
    pub(crate) whole_process: bool,
    /// What one call of the verb's band may use.
    pub(crate) budgets: Budgets,
    /// When the call arrived: its band's time runs from here to its answer.
    pub(crate) arrival: Instant,
}

/// The call as the worker process needs it besides the job: the command and its
/// arguments as the gate saw them.
pub(crate) struct CallParts<'a> {
    pub(crate) command: &'a str,
    pub(crate) verb: &'a GrammarVerb,
    pub(crate) globals: &'a [GrammarArgument],
    pub(crate) matches: &'a ArgMatches,
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
/// confining failed: the call does not run.
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

/// What a handler wrote to its standard output and error, as its answer and its audit
/// entry carry it: escaped ([`escape_for_display_keeping_line_feeds`]: no control
/// character but the line feed reaches a terminal), and how much was cut beyond the
/// budget. `None` when it wrote nothing.
fn captured(bytes: &[u8], cut: u64) -> Option<String> {
    if bytes.is_empty() && cut == 0 {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    let mut shown = escape_for_display_keeping_line_feeds(text.trim_end_matches('\n'));
    if cut > 0 {
        shown.push_str(&format!("\n[… {cut} more bytes cut]"));
    }
    Some(shown)
}

/// The confined workers of one command line (or server): processes, by what confines
/// them; threads, for a program that cannot start processes of itself.
#[derive(Debug)]
pub(crate) struct Workers {
    processes: Mutex<HashMap<WorkerSpec, Vec<Worker>>>,
    threads: Mutex<HashMap<ThreadKey, Vec<ThreadWorker>>>,
    /// Whether a killed worker is replaced at once (a server's pool is kept warm).
    keep_warm: AtomicBool,
    /// The operator's variables (`CNV_AUDIT_KEY`, …), which no worker inherits.
    operator_vars: Vec<String>,
}

/// How many idle workers of one kind the pool keeps; more end when they are returned.
const IDLE_PER_KEY: usize = 8;

impl Workers {
    /// No workers yet; none will inherit the variables `operator_vars`.
    pub(crate) fn new(operator_vars: Vec<String>) -> Self {
        Self {
            processes: Mutex::default(),
            threads: Mutex::default(),
            keep_warm: AtomicBool::new(false),
            operator_vars,
        }
    }

    /// Runs `job` as `confinement` says (see the module documentation), until it answers,
    /// overruns its band or `cancel` is cancelled; its confinement and its handler are
    /// spans of `trace`.
    pub(crate) fn execute(
        self: &Arc<Self>,
        job: Job,
        parts: &CallParts<'_>,
        confinement: &Confinement<'_>,
        cancel: Option<&CancelToken>,
        trace: &CallTrace,
    ) -> Ran {
        let sandbox = trace.phase(Phase::Sandbox);
        let ran = self.confined(job, parts, confinement, cancel, &sandbox);
        match &ran.outcome {
            CallOutcome::Ran(_) => {}
            CallOutcome::Refused(_) => sandbox.failed("refused"),
            CallOutcome::Overran { .. } => sandbox.failed("overrun"),
            CallOutcome::Cancelled { .. } => sandbox.failed("cancelled"),
            CallOutcome::Failed(_)
            | CallOutcome::UnknownCommand { .. }
            | CallOutcome::InvalidArguments { .. } => sandbox.failed("failed"),
        }
        ran
    }

    /// [`execute`](Self::execute) within its span `sandbox`.
    fn confined(
        self: &Arc<Self>,
        job: Job,
        parts: &CallParts<'_>,
        confinement: &Confinement<'_>,
        cancel: Option<&CancelToken>,
        sandbox: &PhaseSpan,
    ) -> Ran {
        let class = job.contract.class();
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
            sandbox.set("cnv.containment", "none");
            let handler = sandbox.phase(Phase::Handler);
            let result = (job.run)(workspace.as_ref());
            drop(handler);
            return Ran::ended(returned(result), None);
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
        if let Some(overran) = overran_before_start(job.contract.band(), confinement) {
            return Ran::ended(overran, None);
        }
        if worker_processes() {
            sandbox.set("cnv.containment", "process");
            self.in_worker_process(
                &job,
                parts,
                workspace.as_ref(),
                confinement,
                cancel,
                sandbox,
            )
        } else {
            sandbox.set("cnv.containment", "thread");
            self.on_thread(job, workspace, confinement, cancel, sandbox)
        }
    }

    /// Starts one worker of each spec now, for a server that wants its first calls
    /// answered without a worker's start-up, and keeps the pool warm from then on.
    pub(crate) fn prestart(self: &Arc<Self>, specs: &[WorkerSpec]) {
        self.keep_warm.store(true, Ordering::SeqCst);
        if !worker_processes() {
            return;
        }
        for spec in specs {
            if let Ok(worker) = Worker::start(spec, &worker_env(spec, &self.operator_vars)) {
                self.give_back(worker);
            }
        }
    }

    /// Runs the call in a worker process of its spec (see the module documentation).
    fn in_worker_process(
        self: &Arc<Self>,
        job: &Job,
        parts: &CallParts<'_>,
        workspace: Option<&Workspace>,
        confinement: &Confinement<'_>,
        cancel: Option<&CancelToken>,
        sandbox: &PhaseSpan,
    ) -> Ran {
        let band = job.contract.band();
        let spec = worker_spec(
            job.contract.class(),
            band,
            confinement.budgets,
            workspace,
            confinement.strictness,
        );
        let asked = Instant::now();
        let (worker, started) = match self.take(&spec) {
            Ok(taken) => taken,
            Err(outcome) => return Ran::ended(outcome, None),
        };
        sandbox.set_bool("cnv.worker.started", started);
        // Starting a worker is the sandbox's time, not the call's: a command line starts
        // one per run, a server one per kind of call (and beforehand).
        let start_up = if started {
            asked.elapsed()
        } else {
            Duration::ZERO
        };
        let enforcement = worker.enforcement().clone();
        if let Some(cancel) = cancel {
            let stop = match worker.cancel_handle() {
                Ok(stop) => stop,
                Err(err) => {
                    return Ran::ended(
                        worker_failed(format!(
                            "the handler's worker process cannot be stopped from here ({err}), so it was not given the call"
                        )),
                        None,
                    );
                }
            };
            if !cancel.on_cancel(move || stop.cancel()) {
                // Cancelled before the handler started: it never starts.
                self.give_back(worker);
                return Ran::ended(
                    CallOutcome::Cancelled {
                        at: CancelPoint::BeforeHandler,
                    },
                    Some(enforcement),
                );
            }
        }
        let request = Request {
            command: parts.command.to_owned(),
            argv: worker_argv(parts.command, parts.verb, parts.globals, parts.matches),
            session: job.session.name.clone(),
            session_id: job.session.id,
            mode: job.session.mode,
            justification: job.session.justification.clone(),
        };
        let deadline = band
            .max_runtime()
            .map(|budget| confinement.arrival + budget + start_up);
        let handler = sandbox.phase(Phase::Handler);
        let answered = worker.call(&request.encode(), deadline);
        if answered.is_err() {
            handler.failed("stopped");
        } else {
            drop(handler);
        }
        if let Some(cancel) = cancel {
            // After this, the cancel's waker has run to its end or never will.
            cancel.clear();
        }
        let outcome = match answered {
            Ok((answer, worker)) => {
                if worker.was_cancelled() {
                    // The answer came first; the worker, its socket shut, ends here.
                    drop(worker);
                } else {
                    self.give_back(worker);
                }
                let console = captured(&answer.console, answer.console_cut);
                match Reply::decode(&answer.body) {
                    Some(Reply::Output { text, data }) => {
                        let data = data.and_then(|data| serde_json::from_str(&data).ok());
                        let output = match data {
                            Some(data) => Output::text(text).with_data(data),
                            None => Output::text(text),
                        };
                        CallOutcome::Ran(output.with_console(console))
                    }
                    Some(Reply::Failed { message, usage }) => CallOutcome::Failed(
                        HandlerError::reported(message, usage).with_console(console),
                    ),
                    None => worker_failed(
                        "the handler's worker process answered something that is not an answer",
                    ),
                }
            }
            Err(stopped) => {
                self.replace(&spec);
                stopped_outcome(stopped, band, confinement)
            }
        };
        Ran::ended(outcome, Some(enforcement))
    }

    /// An idle worker process for `spec`, or a new one (confined before it is returned,
    /// and said to be new).
    fn take(&self, spec: &WorkerSpec) -> Result<(Worker, bool), CallOutcome> {
        let idle = self
            .processes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(spec)
            .and_then(Vec::pop);
        if let Some(worker) = idle {
            return Ok((worker, false));
        }
        match Worker::start(spec, &worker_env(spec, &self.operator_vars)) {
            Ok(worker) => Ok((worker, true)),
            Err(err @ SandboxError::NotEnforced { .. }) => Err(unconfined(&err)),
            Err(other) => Err(worker_failed(format!(
                "the handler's worker process could not start, so nothing ran: {other}"
            ))),
        }
    }

    /// Puts a worker process that answered back in the pool (or lets it end, when enough
    /// of its kind are idle).
    fn give_back(&self, worker: Worker) {
        let mut pool = self
            .processes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let idle = pool.entry(worker.spec().clone()).or_default();
        if idle.len() < IDLE_PER_KEY {
            idle.push(worker);
        }
    }

    /// Starts a worker for `spec` in the background in place of one that was killed, when
    /// the pool is kept warm.
    fn replace(self: &Arc<Self>, spec: &WorkerSpec) {
        if !self.keep_warm.load(Ordering::SeqCst) {
            return;
        }
        let workers = Arc::clone(self);
        let spec = spec.clone();
        let _ = thread::Builder::new()
            .name("cnv worker replacement".to_owned())
            .spawn(move || {
                if let Ok(worker) = Worker::start(&spec, &worker_env(&spec, &workers.operator_vars))
                {
                    workers.give_back(worker);
                }
            });
    }
}

/// What confines the worker of a call of `class` in `band`: the one place a spec is made,
/// so that a call finds the workers started for it beforehand.
pub(crate) fn worker_spec(
    class: CapabilityClass,
    band: ResourceBand,
    budgets: Budgets,
    workspace: Option<&Workspace>,
    strictness: Strictness,
) -> WorkerSpec {
    let spec = WorkerSpec::new(class, band)
        .budgets(budgets)
        .strictness(strictness);
    match workspace {
        Some(workspace) => spec.workspace(workspace.path()),
        None => spec,
    }
}

/// The call's band's time, counted from its arrival, was spent before its handler could
/// start (parsing, the gate, the audit trail): it does not start.
fn overran_before_start(band: ResourceBand, confinement: &Confinement<'_>) -> Option<CallOutcome> {
    let budget = band.max_runtime()?;
    let after = confinement.arrival.elapsed();
    (after >= budget).then_some(CallOutcome::Overran {
        budget,
        after,
        console: None,
    })
}

/// How a call whose worker was stopped ended.
fn stopped_outcome(
    stopped: Stopped,
    band: ResourceBand,
    confinement: &Confinement<'_>,
) -> CallOutcome {
    match stopped {
        Stopped::Overran { console, .. } => CallOutcome::Overran {
            budget: band.max_runtime().unwrap_or_default(),
            after: confinement.arrival.elapsed(),
            console: captured(&console, 0),
        },
        Stopped::Cancelled { .. } => CallOutcome::Cancelled {
            at: CancelPoint::DuringHandler,
        },
        Stopped::TooLarge { bytes, limit } => CallOutcome::Failed(HandlerError::msg(format!(
            "the answer is {bytes} bytes, over the {limit}-byte answer budget of the `{band}` band, so it was refused before it was read; ask for less (a part, a filter), or the operator raises the budget (`{BUDGET_ENV}`)"
        ))),
        Stopped::Died { how, console } => CallOutcome::Failed(
            HandlerError::msg(format!(
                "the handler's worker process ended without an answer ({how})"
            ))
            .with_console(captured(&console, 0)),
        ),
        Stopped::Io(err) => CallOutcome::Failed(HandlerError::msg(format!(
            "the handler's worker process could not be reached ({err}); it was killed"
        ))),
        other => CallOutcome::Failed(HandlerError::msg(format!(
            "the handler's worker process stopped without an answer ({other:?})"
        ))),
    }
}

/// The environment of a worker process for `spec`: for `Environment` (whose handlers read
/// variables) and `Dangerous` (run only with a person's approval), this process's, less
/// the operator's settings (`operator_vars`, and OpenTelemetry's `OTEL_*`); for every other class nothing of this
/// process's, only [`program_env`]'s (`PATH`, `HOME` and `TMPDIR` the workspace,
/// `LANG`).
fn worker_env(spec: &WorkerSpec, operator_vars: &[String]) -> Vec<(String, String)> {
    match spec.class {
        CapabilityClass::Environment | CapabilityClass::Dangerous => std::env::vars()
            .filter(|(name, _)| !hidden_from_handlers(operator_vars, name))
            .collect(),
        CapabilityClass::Pure
        | CapabilityClass::ReadOnlyFS
        | CapabilityClass::ReadWriteFS
        | CapabilityClass::Network
        | CapabilityClass::Subprocess => program_env(spec.workspace.as_deref())
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Confined threads: for a program that cannot start workers of itself.

/// What a thread worker's restriction depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ThreadKey {
    class: CapabilityClass,
    workspace: Option<PathBuf>,
    strictness: Strictness,
}

/// A worker thread: restricted once, then running one task after another.
#[derive(Debug)]
struct ThreadWorker {
    tasks: Sender<Task>,
    enforcement: Enforcement,
}

/// One call for a worker thread.
struct Task {
    run: RunHandler,
    reply: ReplyTo,
}

/// What the thread waiting for a call hears.
enum Heard {
    /// The handler returned.
    Returned(Result<Output, HandlerError>),
    /// The handler ended without returning (it panicked).
    Lost,
    /// The caller cancelled the call.
    Cancelled,
}

/// Where a worker thread sends its answer. Dropped unanswered (the handler panicked), it
/// says so: the waiting thread cannot count on the channel closing, since a cancel token
/// may hold a sender of it too.
struct ReplyTo(Option<Sender<Heard>>);

impl ReplyTo {
    fn send(mut self, result: Result<Output, HandlerError>) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(Heard::Returned(result));
        }
    }
}

impl Drop for ReplyTo {
    fn drop(&mut self) {
        if let Some(reply) = self.0.take() {
            let _ = reply.send(Heard::Lost);
        }
    }
}

impl Workers {
    /// Runs `job` on a confined thread of this process (see the module documentation).
    fn on_thread(
        &self,
        job: Job,
        workspace: Option<Workspace>,
        confinement: &Confinement<'_>,
        cancel: Option<&CancelToken>,
        sandbox: &PhaseSpan,
    ) -> Ran {
        let class = job.contract.class();
        let band = job.contract.band();
        let key = ThreadKey {
            class,
            workspace: workspace.as_ref().map(|w| w.path().to_path_buf()),
            strictness: confinement.strictness,
        };
        // A whole process runs one call: its band's memory budget is the process's limit,
        // set by the worker before it restricts itself (the size it starts from is read
        // from /proc, which the restriction closes).
        let memory = confinement.whole_process.then_some(band);
        let worker = match self.take_thread(&key, workspace, memory) {
            Ok(worker) => worker,
            Err(outcome) => return Ran::ended(outcome, None),
        };
        let (reply, heard) = mpsc::channel();
        if let Some(cancel) = cancel {
            let wake = reply.clone();
            let waiting = cancel.on_cancel(move || {
                let _ = wake.send(Heard::Cancelled);
            });
            if !waiting {
                // Cancelled before the handler started: it never starts.
                self.give_back_thread(key, worker);
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
            reply: ReplyTo(Some(reply)),
        };
        let handler = sandbox.phase(Phase::Handler);
        let sent = worker.tasks.send(task);
        let deadline = band
            .max_runtime()
            .map(|budget| (budget, confinement.arrival + budget));
        let heard = if sent.is_err() {
            Err(None)
        } else {
            match deadline {
                Some((budget, deadline)) => heard
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .map_err(|err| match err {
                        mpsc::RecvTimeoutError::Timeout => Some(budget),
                        mpsc::RecvTimeoutError::Disconnected => None,
                    }),
                None => heard.recv().map_err(|_| None),
            }
        };
        if let Some(cancel) = cancel {
            cancel.clear();
        }
        drop(handler);
        match heard {
            Ok(Heard::Returned(result)) => {
                let enforcement = worker.enforcement.clone();
                self.give_back_thread(key, worker);
                Ran::ended(returned(result), Some(enforcement))
            }
            // The worker is busy with a handler that did not stop: never again.
            Ok(Heard::Cancelled) => Ran::ended(
                CallOutcome::Cancelled {
                    at: CancelPoint::DuringHandler,
                },
                Some(worker.enforcement),
            ),
            Err(Some(budget)) => Ran::ended(
                CallOutcome::Overran {
                    budget,
                    after: confinement.arrival.elapsed(),
                    console: None,
                },
                Some(worker.enforcement),
            ),
            Ok(Heard::Lost) | Err(None) if sent.is_err() => Ran::ended(
                worker_failed("the handler's worker ended before the call"),
                None,
            ),
            Ok(Heard::Lost) | Err(None) => Ran::ended(
                worker_failed(
                    "the handler's worker ended without an answer (the handler panicked)",
                ),
                None,
            ),
        }
    }

    /// An idle worker thread for `key`, or a new one (restricted before it is returned).
    fn take_thread(
        &self,
        key: &ThreadKey,
        workspace: Option<Workspace>,
        memory: Option<ResourceBand>,
    ) -> Result<ThreadWorker, CallOutcome> {
        let idle = self
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(key)
            .and_then(Vec::pop);
        match idle {
            Some(worker) => Ok(worker),
            None => start_thread(key.class, key.strictness, workspace, memory),
        }
    }

    /// Puts a worker thread that answered back in the pool (or lets it end, when enough
    /// of its kind are idle).
    fn give_back_thread(&self, key: ThreadKey, worker: ThreadWorker) {
        let mut pool = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        let idle = pool.entry(key).or_default();
        if idle.len() < IDLE_PER_KEY {
            idle.push(worker);
        }
    }
}

/// What a starting worker thread tells the command line.
enum Started {
    Restricted(Enforcement),
    NotRestricted(SandboxError),
    NoMemoryLimit(SandboxError),
}

/// The gap of a handler run on a thread: nothing can stop it, or what it starts.
const THREAD_GAP: &str = "killing an overrunning call, and the processes it starts (the handler runs on a thread of the calling process: the program does not enter through `Cli::run` or a server, so it cannot start workers of itself)";

/// Starts a worker thread for `class`, which restricts itself before it takes a task.
fn start_thread(
    class: CapabilityClass,
    strictness: Strictness,
    workspace: Option<Workspace>,
    memory: Option<ResourceBand>,
) -> Result<ThreadWorker, CallOutcome> {
    let (started_tx, started) = mpsc::channel();
    let (tasks, inbox) = mpsc::channel::<Task>();
    thread::Builder::new()
        .name(format!("cnv {class} worker"))
        .spawn(move || serve_thread(class, strictness, workspace, memory, &started_tx, &inbox))
        .map_err(|err| worker_failed(format!("the handler's worker could not start: {err}")))?;
    match started.recv() {
        Ok(Started::Restricted(enforcement)) => Ok(ThreadWorker { tasks, enforcement }),
        Ok(Started::NotRestricted(err)) => Err(unconfined(&err)),
        Ok(Started::NoMemoryLimit(err)) => Err(worker_failed(format!(
            "the memory budget of the command's band could not be set: {err}"
        ))),
        Err(_) => Err(worker_failed(
            "the handler's worker ended before it was restricted".to_owned(),
        )),
    }
}

/// A worker thread's life: restrict this thread to `class`, then run tasks until the
/// command line drops its end of the channel.
fn serve_thread(
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
    let plan = Sandbox::new(class)
        .strictness(strictness)
        .contained_by(Containment::Thread);
    let plan = match &workspace {
        Some(workspace) => plan.workspace(workspace),
        None => plan,
    };
    let mut enforcement = match plan.restrict_current_thread() {
        Ok(enforcement) => enforcement,
        Err(err) => {
            let _ = started.send(Started::NotRestricted(err));
            return;
        }
    };
    enforcement.gaps.push(THREAD_GAP.to_owned());
    if strictness == Strictness::Strict && !Grant::of(class).is_unrestricted() {
        let _ = started.send(Started::NotRestricted(SandboxError::NotEnforced {
            report: Box::new(enforcement),
        }));
        return;
    }
    if started.send(Started::Restricted(enforcement)).is_err() {
        return;
    }
    for task in inbox {
        let result = (task.run)(workspace.as_ref());
        task.reply.send(result);
    }
}
