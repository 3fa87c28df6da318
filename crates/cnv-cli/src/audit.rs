//! The operator's audit trail around one call: the logs (opened once per path and
//! kept, so recording never needs a path again), the key that signs them, the record of
//! the call, and the entry that says how it ended.
//!
//! Every log is the operator's: the program's own (`CliBuilder::audit_log`) and the one
//! its launcher names in `CNV_AUDIT_LOG`, signed with the key the launcher names in
//! `CNV_AUDIT_KEY`. No argument can add, move or remove one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use clap::ArgMatches;
use cnv_audit::{
    AuditEntry, AuditError, AuditKey, AuditLog, AuditSink, CallResult, FanOutSink, MemorySink,
    head_path,
};
use cnv_caps::{CapabilityContract, ResourceBand, Rule, SessionId};
use cnv_grammar::{GrammarArgument, GrammarVerb};
use cnv_typestate::RunMode;
use serde_json::{Map, Value};

use crate::outcome::{CANCELLED_EXIT_CODE, CallOutcome, CancelPoint};
use crate::output::Exit;

/// The logs a command line has opened, by log and key path: a server records every call
/// to the same open files, and a command line opens each once.
#[derive(Debug, Default)]
pub(crate) struct OpenLogs {
    open: Mutex<HashMap<LogAndKey, Arc<AuditLog>>>,
}

/// A log's path and the path of the key that signs it.
type LogAndKey = (PathBuf, Option<PathBuf>);

impl OpenLogs {
    /// The log at `path`, signed with the key at `key`: the one already open, or opened
    /// now (the key loaded first, so a key that cannot be used refuses the call).
    fn open(&self, path: &PathBuf, key: Option<&PathBuf>) -> Result<Arc<AuditLog>, AuditError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (path.clone(), key.cloned());
        if let Some(log) = open.get(&id) {
            return Ok(Arc::clone(log));
        }
        let key = key.map(AuditKey::load).transpose()?;
        let log = Arc::new(AuditLog::open(path, key.as_ref())?);
        open.insert(id, Arc::clone(&log));
        Ok(log)
    }
}

/// Where one run's trail goes, as the operator set it.
#[derive(Debug)]
pub(crate) struct TrailPaths {
    /// The logs.
    pub(crate) logs: Vec<PathBuf>,
    /// The key that signs them, if any.
    pub(crate) key: Option<PathBuf>,
}

impl TrailPaths {
    /// Every file no handler may reach: each log, the head beside it, and the key.
    pub(crate) fn protected(&self) -> Vec<PathBuf> {
        let mut paths = Vec::with_capacity(self.logs.len() * 2 + 1);
        for log in &self.logs {
            paths.push(log.clone());
            paths.push(head_path(log));
        }
        paths.extend(self.key.iter().cloned());
        paths
    }
}

/// The trail of one run: the sink every entry goes to, and the logs among its sinks.
pub(crate) struct Trail {
    pub(crate) sink: Arc<dyn AuditSink>,
}

impl Trail {
    /// The trail of `paths`, beside the program's own `sinks`.
    ///
    /// # Errors
    ///
    /// The first log or key that cannot be opened: the call does not run.
    pub(crate) fn open(
        open: &OpenLogs,
        paths: &TrailPaths,
        sinks: &[Arc<dyn AuditSink>],
    ) -> Result<Self, AuditError> {
        let mut all: Vec<Arc<dyn AuditSink>> = sinks.to_vec();
        for path in &paths.logs {
            all.push(open.open(path, paths.key.as_ref())?);
        }
        let sink: Arc<dyn AuditSink> = match all.len() {
            0 => Arc::new(MemorySink::new()),
            1 => all.remove(0),
            _ => Arc::new(FanOutSink::new(all)),
        };
        Ok(Self { sink })
    }
}

/// The entries of one call that its session does not record itself: the start of its
/// handler (the decision to run it, which a log signs before the handler gets control)
/// and how the call ended (recorded once the caller has its answer, signed too).
pub(crate) struct CallLog {
    pub(crate) sink: Arc<dyn AuditSink>,
    pub(crate) session: String,
    pub(crate) id: SessionId,
    pub(crate) mode: RunMode,
    /// The verb's contract (its class is the entry's `to`, its band the one overrun).
    pub(crate) contract: CapabilityContract,
    /// What the kernel enforced around the handler, when it was started.
    pub(crate) enforcement: Option<Value>,
}

impl CallLog {
    /// Records that the call's handler starts.
    ///
    /// # Errors
    ///
    /// The sink's error: the handler must not start.
    pub(crate) fn start(&self) -> Result<(), AuditError> {
        let entry = AuditEntry::start(&self.session, self.id, self.mode, self.contract.class());
        self.sink.record(&entry)
    }

    /// Records how the call ended, with the exit status its caller was given (a signed
    /// checkpoint in every log).
    ///
    /// # Errors
    ///
    /// The sink's error: the call has ended, but the trail does not say how.
    pub(crate) fn finish(self, outcome: &CallOutcome, exit: Exit) -> Result<(), AuditError> {
        let result = call_result(outcome, exit, self.contract.band());
        let mut entry = AuditEntry::finish(&self.session, self.id, self.mode, result);
        entry.to = Some(self.contract.class());
        if let Some(enforcement) = self.enforcement {
            entry = entry.with_enforcement(enforcement);
        }
        if let Some(console) = console_of(outcome) {
            entry = entry.with_console(recorded_console(console));
        }
        self.sink.record(&entry)
    }
}

/// How `outcome` is recorded, with the exit status its caller was given (`exit`: an answer
/// that could not be written makes a run a failure) for a verb of `band`: the one mapping
/// from how a call ended to the audit trail's `result`.
pub(crate) fn call_result(outcome: &CallOutcome, exit: Exit, band: ResourceBand) -> CallResult {
    let exit_code = i32::from(exit.code());
    match outcome {
        CallOutcome::Ran(_) if exit == Exit::Success => CallResult::Ran { exit_code },
        CallOutcome::Ran(_) => CallResult::Failed {
            exit_code,
            message: "the handler ran, and its output could not be written".to_owned(),
        },
        CallOutcome::UnknownCommand { command } => CallResult::Invalid {
            exit_code,
            message: format!("unknown command `{command}`"),
        },
        CallOutcome::InvalidArguments { message } => CallResult::Invalid {
            exit_code,
            message: format!("invalid arguments: {message}"),
        },
        CallOutcome::Refused(refusal) => match refusal.rule {
            Rule::SandboxRequired => CallResult::Sandbox {
                exit_code,
                message: refusal.message.clone(),
            },
            rule => CallResult::Denied {
                exit_code,
                rule,
                message: refusal.message.clone(),
            },
        },
        CallOutcome::Failed(err) => CallResult::Failed {
            exit_code,
            message: err.to_string(),
        },
        CallOutcome::Overran { budget, after, .. } => CallResult::Overrun {
            exit_code,
            band,
            message: format!(
                "killed {} ms after its arrival, past its band's {} ms, with every process it started",
                after.as_millis(),
                budget.as_millis()
            ),
        },
        CallOutcome::Cancelled { at } => CallResult::Cancelled {
            exit_code: CANCELLED_EXIT_CODE,
            message: match at {
                CancelPoint::BeforeGate => "cancelled by its caller before it reached the gate",
                CancelPoint::BeforeHandler => "cancelled by its caller before its handler started",
                CancelPoint::DuringHandler => {
                    "cancelled by its caller while its handler ran; its worker was killed"
                }
            }
            .to_owned(),
        },
    }
}

/// What the handler wrote to its standard output and error, as its call ended.
pub(crate) fn console_of(outcome: &CallOutcome) -> Option<&str> {
    match outcome {
        CallOutcome::Ran(output) => output.console(),
        CallOutcome::Failed(err) => err.console(),
        CallOutcome::Overran { console, .. } => console.as_deref(),
        CallOutcome::UnknownCommand { .. }
        | CallOutcome::InvalidArguments { .. }
        | CallOutcome::Refused(_)
        | CallOutcome::Cancelled { .. } => None,
    }
}

/// The most of a handler's console a `finish` entry records, in bytes (the rest is cut,
/// and the entry says so): an entry is one line of a log, which has a limit.
const MAX_RECORDED_CONSOLE: usize = 16 * 1024;

/// `console`, cut to what an entry records.
fn recorded_console(console: &str) -> String {
    if console.len() <= MAX_RECORDED_CONSOLE {
        return console.to_owned();
    }
    let mut end = MAX_RECORDED_CONSOLE;
    while !console.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… {} more bytes not recorded]",
        &console[..end],
        console.len() - end
    )
}

/// The arguments of a parsed call, in full, as the audit trail and the approval prompt
/// show them: every argument of `verb` and every global one (`globals`) that has a value
/// (given, defaulted or from its environment variable), a switch as `true` or `false`, a
/// repeated one as a list, each value as typed (lossily decoded if it is not UTF-8).
pub(crate) fn arguments(
    verb: &GrammarVerb,
    globals: &[GrammarArgument],
    matches: &ArgMatches,
) -> Map<String, Value> {
    let mut arguments = Map::new();
    for arg in verb.args().iter().chain(globals) {
        let name = arg.name();
        if arg.is_switch() {
            let on = matches.try_get_one::<bool>(name).ok().flatten().copied();
            arguments.insert(name.to_owned(), Value::Bool(on.unwrap_or(false)));
            continue;
        }
        let Ok(Some(raw)) = matches.try_get_raw(name) else {
            continue;
        };
        let mut values = raw.map(|value| Value::String(value.to_string_lossy().into_owned()));
        let value = if arg.is_multiple() {
            Value::Array(values.collect())
        } else {
            match values.next() {
                Some(value) => value,
                None => continue,
            }
        };
        arguments.insert(name.to_owned(), value);
    }
    arguments
}
