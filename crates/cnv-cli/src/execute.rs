//! Running a call the gate admitted: on a thread of its own, restricted by the kernel to
//! what the verb's class grants (`cnv-sandbox`), and stopped at the end of its resource
//! band's time.
//!
//! The thread that runs the command line never runs a handler: it opens the workspace
//! and the audit log, decides, waits, and records. Landlock restricts only the thread
//! that asks and what it starts afterwards, so the handler's thread is restricted for
//! good and the command line's is not; a command line can run many calls, each on a
//! fresh thread restricted to its own class.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use cnv_sandbox::{
    Enforcement, Grant, Sandbox, SandboxError, Strictness, Workspace, WorkspaceAccess,
};

use crate::gate::Job;
use crate::output::{HandlerError, Output};

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

/// How a call ended.
#[derive(Debug)]
pub(crate) enum Ran {
    /// The handler returned.
    Done {
        result: Result<Output, HandlerError>,
        enforcement: Option<Enforcement>,
    },
    /// The handler ran past its band's time; its thread was left behind.
    Overran { budget: Duration },
    /// The call did not run: the sandbox, the workspace or the audit log's place refused it.
    NotRun(NotRun),
}

/// Why an admitted call did not run.
#[derive(Debug)]
pub(crate) enum NotRun {
    /// The operator's workspace cannot be opened.
    Workspace(SandboxError),
    /// An audit log lies where the verb's class could reach it.
    AuditInReach { log: PathBuf },
    /// The kernel cannot enforce what the class grants, and the operator demands it, or
    /// restricting failed.
    Sandbox(SandboxError),
    /// The handler's thread could not start, or ended without an answer (it panicked).
    Thread(String),
}

/// What the handler's thread tells the command line.
enum Message {
    Restricted(Option<Enforcement>),
    NotRestricted(SandboxError),
    Done(Result<Output, HandlerError>),
}

/// Runs `job` as `confinement` says (see the module documentation).
pub(crate) fn execute(job: Job, command: &str, confinement: &Confinement<'_>) -> Ran {
    let class = job.contract.class();
    let band = job.contract.band();
    let grant = Grant::of(class);
    // The classes whose handlers receive a handle get the workspace (and a `Dangerous`
    // handler, not restricted by the kernel, still reaches it through its handle).
    let workspace = if grant.filesystem.handle() != WorkspaceAccess::None {
        match Workspace::open(confinement.workspace) {
            Ok(workspace) => Some(workspace),
            Err(err) => return Ran::NotRun(NotRun::Workspace(err)),
        }
    } else {
        None
    };
    if confinement.sandbox {
        for log in confinement.audit_paths {
            // A class that could write the log (or read what it records) by path would
            // hold the trail of its own calls.
            let in_reach = grant.may_write(workspace.as_ref(), log).unwrap_or(true)
                || grant.may_read(workspace.as_ref(), log).unwrap_or(true);
            if in_reach && !grant.is_unrestricted() {
                return Ran::NotRun(NotRun::AuditInReach { log: log.clone() });
            }
        }
    }
    let (tx, rx) = mpsc::channel();
    let strictness = confinement.strictness;
    let sandbox = confinement.sandbox;
    let whole_process = confinement.whole_process;
    let spawned = thread::Builder::new()
        .name(format!("cnv: {command}"))
        .spawn(move || {
            // A first allocation gives the thread its arena before any memory limit.
            let warm = Vec::<u8>::with_capacity(64);
            drop(warm);
            if whole_process && let Err(err) = cnv_sandbox::limit_memory(band) {
                let _ = tx.send(Message::NotRestricted(err));
                return;
            }
            let enforcement = if sandbox {
                let plan = Sandbox::new(class).strictness(strictness);
                let plan = match &workspace {
                    Some(workspace) => plan.workspace(workspace),
                    None => plan,
                };
                match plan.restrict_current_thread() {
                    Ok(enforcement) => Some(enforcement),
                    Err(err) => {
                        let _ = tx.send(Message::NotRestricted(err));
                        return;
                    }
                }
            } else {
                None
            };
            if tx.send(Message::Restricted(enforcement)).is_err() {
                return;
            }
            let result = (job.run)(workspace.as_ref());
            let _ = tx.send(Message::Done(result));
        });
    if let Err(err) = spawned {
        return Ran::NotRun(NotRun::Thread(format!(
            "the handler's thread could not start: {err}"
        )));
    }
    let enforcement = match rx.recv() {
        Ok(Message::Restricted(enforcement)) => enforcement,
        Ok(Message::NotRestricted(err)) => return Ran::NotRun(NotRun::Sandbox(err)),
        Ok(Message::Done(_)) | Err(_) => {
            return Ran::NotRun(NotRun::Thread(
                "the handler's thread ended before it was restricted".to_owned(),
            ));
        }
    };
    let answer = match band.max_runtime() {
        Some(budget) => rx.recv_timeout(budget).map_err(|err| match err {
            mpsc::RecvTimeoutError::Timeout => Some(budget),
            mpsc::RecvTimeoutError::Disconnected => None,
        }),
        None => rx.recv().map_err(|_| None),
    };
    match answer {
        Ok(Message::Done(result)) => Ran::Done {
            result,
            enforcement,
        },
        Err(Some(budget)) => Ran::Overran { budget },
        Ok(Message::Restricted(_) | Message::NotRestricted(_)) | Err(None) => Ran::NotRun(
            NotRun::Thread("the handler's thread ended without an answer (it panicked)".to_owned()),
        ),
    }
}
