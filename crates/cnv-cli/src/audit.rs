//! The operator's audit trail around one call: the logs (opened once per path and
//! kept, so recording never needs a path again), the key that signs them, the record of
//! the call, and the entry that says how it ended.
//!
//! Every log is the operator's: the program's own (`CliBuilder::audit_log`) and the one
//! its launcher names in `CNV_AUDIT_LOG`, signed with the key the launcher names in
//! `CNV_AUDIT_KEY`, witnessed by `CliBuilder::audit_witness` and `CNV_AUDIT_WITNESS`. No
//! argument can add, move or remove one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use clap::ArgMatches;
use cnv_audit::{
    AuditEntry, AuditError, AuditKey, AuditLog, AuditSink, CallResult, DEFAULT_WITNESS_INTERVAL,
    FanOutSink, MemorySink, WitnessUrl, head_path, witness_path,
};
use cnv_caps::{CapabilityContract, ResourceBand, Rule, SessionId};
use cnv_grammar::{GrammarArgument, GrammarVerb};
use cnv_typestate::RunMode;
use serde_json::{Map, Value};

use crate::outcome::{CANCELLED_EXIT_CODE, CallOutcome, CancelPoint};
use crate::output::Exit;
use crate::settings::{AUDIT_KEY_ENV, AUDIT_WITNESS_ENV};

/// The logs a command line has opened, by log and key path: a server records every call
/// to the same open files, and a command line opens each once.
#[derive(Debug, Default)]
pub(crate) struct OpenLogs {
    open: Mutex<HashMap<LogAndKey, Arc<AuditLog>>>,
}

/// A log's path, the path of the key that signs it, and its witnesses' URLs.
type LogAndKey = (PathBuf, Option<PathBuf>, Vec<String>);

impl OpenLogs {
    /// The log at `path`, signed with the key at `key`: the one already open, or opened
    /// now (the key loaded first, so a key that cannot be used refuses the call).
    fn open(
        &self,
        path: &PathBuf,
        key: Option<&PathBuf>,
        witnesses: &[String],
    ) -> Result<Arc<AuditLog>, AuditError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (path.clone(), key.cloned(), witnesses.to_vec());
        if let Some(log) = open.get(&id) {
            return Ok(Arc::clone(log));
        }
        let key = key.map(AuditKey::load).transpose()?;
        let log = if witnesses.is_empty() {
            AuditLog::open(path, key.as_ref())?
        } else {
            let urls = witnesses
                .iter()
                .map(|url| url.parse::<WitnessUrl>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| AuditError::Witness {
                    reason: format!(
                        "{err} (in `{AUDIT_WITNESS_ENV}` or `CliBuilder::audit_witness`)"
                    ),
                })?;
            let key = key.ok_or_else(|| AuditError::Witness {
                reason: format!(
                    "a witness cosigns only signed checkpoints, and no audit key is set: set `{AUDIT_KEY_ENV}` (or `CliBuilder::audit_key`), or unset `{AUDIT_WITNESS_ENV}`"
                ),
            })?;
            AuditLog::open_witnessed(path, &key, urls, DEFAULT_WITNESS_INTERVAL)?
        };
        let log = Arc::new(log);
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
    /// The URLs of their witnesses.
    pub(crate) witnesses: Vec<String>,
}

impl TrailPaths {
    /// Every file no handler may reach: each log, the head and the witnessing state
    /// beside it, and the key.
    pub(crate) fn protected(&self) -> Vec<PathBuf> {
        let mut paths = Vec::with_capacity(self.logs.len() * 3 + 1);
        for log in &self.logs {
            paths.push(log.clone());
            paths.push(head_path(log));
            paths.push(witness_path(log));
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
            all.push(open.open(path, paths.key.as_ref(), &paths.witnesses)?);
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use cnv_audit::{
        AuditEvent, TrustedLog, Witness, WitnessConfig, WitnessFinding, WitnessKey,
        verify_witnessed,
    };

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cnv-cli-witness-{name}-{}", SessionId::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn paths(dir: &std::path::Path, key: Option<PathBuf>, witnesses: &[&str]) -> TrailPaths {
        TrailPaths {
            logs: vec![dir.join("audit.jsonl")],
            key,
            witnesses: witnesses.iter().map(|url| (*url).to_owned()).collect(),
        }
    }

    #[test]
    fn a_witness_needs_the_key_and_a_url_that_reads() {
        let dir = scratch("refused");
        let err = Trail::open(
            &OpenLogs::default(),
            &paths(&dir, None, &["http://127.0.0.1:9"]),
            &[],
        )
        .err()
        .expect("no key");
        assert!(err.to_string().contains(AUDIT_KEY_ENV), "{err}");
        let key = dir.join("operator.key");
        AuditKey::generate()
            .expect("random")
            .save(&key)
            .expect("saved");
        let err = Trail::open(
            &OpenLogs::default(),
            &paths(&dir, Some(key), &["ftp://x"]),
            &[],
        )
        .err()
        .expect("not a witness URL");
        assert!(err.to_string().contains("only http://"), "{err}");
        let protected = paths(&dir, None, &[]).protected();
        assert!(protected.contains(&witness_path(&dir.join("audit.jsonl"))));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_command_line_s_calls_are_cosigned_by_its_witness_before_it_exits() {
        let dir = scratch("cosigned");
        let key = AuditKey::generate().expect("random");
        let key_path = dir.join("operator.key");
        key.save(&key_path).expect("saved");
        let witness_key = AuditKey::generate().expect("random");
        let trusted: TrustedLog = format!("cnv-audit/*={}", key.public_key())
            .parse()
            .expect("a log");
        let witness = Witness::open(WitnessConfig::new(
            witness_key.clone(),
            dir.join("witness"),
            vec![trusted],
        ))
        .expect("opens");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        std::thread::spawn(move || witness.serve(&listener));
        {
            // What a command line keeps open for its run, and drops when it ends.
            let open = OpenLogs::default();
            let trail = Trail::open(&open, &paths(&dir, Some(key_path), &[url.as_str()]), &[])
                .expect("opens");
            let id = SessionId::new_v4();
            let finish = AuditEntry::finish(
                "app do",
                id,
                RunMode::Autonomous,
                CallResult::Ran { exit_code: 0 },
            );
            assert_eq!(finish.event, AuditEvent::Finish);
            trail.sink.record(&finish).expect("recorded");
        }
        let witnesses = [WitnessKey::new(
            url.parse().expect("a URL"),
            witness_key.public_key(),
        )];
        let report = verify_witnessed(
            &dir.join("audit.jsonl"),
            Some(&key.public_key()),
            &witnesses,
            1,
        );
        assert!(report.is_intact(), "{report}");
        assert!(
            matches!(
                report.witnesses[0].finding,
                WitnessFinding::Confirmed { size: 2, .. }
            ),
            "the genesis and the call's end are cosigned: {report}"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
