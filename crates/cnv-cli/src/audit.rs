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
use cnv_caps::{CapabilityClass, SessionId};
use cnv_grammar::{GrammarArgument, GrammarVerb};
use cnv_typestate::RunMode;
use serde_json::{Map, Value};

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
    logs: Vec<Arc<AuditLog>>,
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
        let logs = paths
            .logs
            .iter()
            .map(|path| open.open(path, paths.key.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut all: Vec<Arc<dyn AuditSink>> = sinks.to_vec();
        all.extend(logs.iter().map(|log| Arc::clone(log) as Arc<dyn AuditSink>));
        let sink: Arc<dyn AuditSink> = match all.len() {
            0 => Arc::new(MemorySink::new()),
            1 => all.remove(0),
            _ => Arc::new(FanOutSink::new(all)),
        };
        Ok(Self { sink, logs })
    }

    /// Signs what the logs hold so far: the decision to run a call is signed before the
    /// handler gets control.
    ///
    /// # Errors
    ///
    /// The first log that cannot sign or write its head.
    pub(crate) fn checkpoint(&self) -> Result<(), AuditError> {
        self.logs.iter().try_for_each(|log| log.checkpoint())
    }
}

/// The entry that closes one call's session, recorded once the caller has its answer.
pub(crate) struct Finish {
    pub(crate) sink: Arc<dyn AuditSink>,
    pub(crate) session: String,
    pub(crate) id: SessionId,
    pub(crate) mode: RunMode,
    pub(crate) class: CapabilityClass,
    /// What the kernel enforced around the handler, when it was started.
    pub(crate) enforcement: Option<Value>,
}

impl Finish {
    /// Records how the call ended (a signed checkpoint in every log).
    ///
    /// # Errors
    ///
    /// The sink's error: the call has ended, but the trail does not say how.
    pub(crate) fn record(self, result: CallResult) -> Result<(), AuditError> {
        let mut entry = AuditEntry::finish(&self.session, self.id, self.mode, result);
        entry.to = Some(self.class);
        if let Some(enforcement) = self.enforcement {
            entry = entry.with_enforcement(enforcement);
        }
        self.sink.record(&entry)
    }
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
