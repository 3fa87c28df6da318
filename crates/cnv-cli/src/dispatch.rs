//! One call through the command line's machinery: clap's parse, the root's introspection
//! and serve flags, the gate, the sandbox, and the session whose `finish` entry will say
//! how the call ended. `run.rs` prints what it comes to; `call.rs` returns it.

use std::cell::Cell;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::ArgMatches;
use clap::error::ErrorKind;
use cnv_audit::{CallOrigin, CallRecord};
use cnv_grammar::GrammarVerb;
use cnv_sandbox::{Enforcement, Strictness};
use cnv_typestate::{RunMode, SessionConfig};

use crate::audit::{CallLog, Trail, TrailPaths};
use crate::cancel::CancelToken;
use crate::cli::Cli;
use crate::command::{self, global};
use crate::console::Console;
use crate::execute::{CallParts, Confinement, Ran};
use crate::gate::{self, Dispatch, Erased};
use crate::outcome::CallOutcome;
use crate::output::{Exit, HandlerError};
use crate::report::Report;
use crate::serve::{Serve, ServeRequest};
use crate::settings::{
    AUDIT_KEY_ENV, AUDIT_LOG_ENV, AUDIT_WITNESS_ENV, AgentMode, BUDGET_ENV, SANDBOX_ENV,
    WORKSPACE_ENV,
};
use crate::telemetry::{CallTrace, Phase};

/// What the command line did instead of making a call.
pub(crate) enum Early {
    /// A usage error (or help or version, which clap reports as an "error" to print).
    Usage(clap::Error),
    /// Introspection or serving, done, with its exit status.
    Printed(Exit),
}

/// A call that reached the gate: how it ended, what the kernel enforced around its
/// handler (when it was started), how to report it, and the entry that will record how
/// it ended once the caller has its answer (none when its session could not be made).
pub(crate) struct Dispatched {
    pub(crate) report: Report,
    pub(crate) outcome: CallOutcome,
    pub(crate) enforcement: Option<Enforcement>,
    pub(crate) call_log: Option<CallLog>,
}

/// One parsed command on its way through the gate.
struct Call<'a> {
    command: &'a str,
    verb: &'a GrammarVerb,
    handler: &'a Erased,
    matches: &'a ArgMatches,
    flags: &'a GateFlags,
    mode: RunMode,
    origin: &'a CallOrigin,
    cancel: Option<&'a CancelToken>,
    /// When the call arrived: its band's time runs from here.
    arrival: Instant,
    /// Its spans.
    trace: &'a CallTrace,
}

impl<S: Serve> Cli<S> {
    /// Parses `args` and, for a command, takes it through the gate and the sandbox; what
    /// it printed (help, introspection, a warning) went to `console`. Any `origin` but the
    /// command line forces agent mode (a call on an agent's behalf, [`Cli::call`]) unless a
    /// person at the agent's client supervises it (the console's supervisor), and
    /// `cancel` stops such a call when its caller no longer wants it. Its spans go to
    /// `trace` (the call's own once it names a verb).
    pub(crate) fn dispatch(
        &self,
        args: &[OsString],
        console: &mut Console<'_>,
        origin: &CallOrigin,
        cancel: Option<&CancelToken>,
        arrival: Instant,
        trace: &mut CallTrace,
    ) -> Result<Dispatched, Early> {
        let parsed = if console.is_isolated() && self.env_clauses {
            // A test console: the grammar's `env` clauses read its variables only.
            let mut command = command::with_env_from(self.command(), &|name| console.var(name));
            command.try_get_matches_from_mut(args)
        } else {
            self.lock_command().try_get_matches_from_mut(args)
        };
        let matches = parsed.map_err(Early::Usage)?;
        let mut words = Vec::new();
        let mut levels = vec![&matches];
        let mut leaf = &matches;
        while let Some((name, sub)) = leaf.subcommand() {
            words.push(name);
            levels.push(sub);
            leaf = sub;
        }
        let flags = GateFlags::read(&levels).map_err(|repeated| {
            Early::Usage(
                self.lock_command()
                    .error(ErrorKind::ArgumentConflict, repeated),
            )
        })?;
        if let Some(exit) = crate::introspect::run(self, &matches, flags.json, console) {
            return Err(Early::Printed(exit));
        }
        if *origin == CallOrigin::CommandLine
            && let Some(request) = ServeRequest::of(&matches)
        {
            if self.agent_mode_is_set(console) {
                // Serving is the operator's decision, never an agent's: a server the
                // agent's arguments started would take calls from anyone who reaches it.
                let err = self.lock_command().error(
                    ErrorKind::ArgumentConflict,
                    format!(
                        "{} starts a server, which is the operator's to start: agent mode is on ({}=1 or the program's setting), so it does not start; an operator starts the server without agent mode, and every call it serves is an agent's",
                        request.flag(),
                        self.settings.agent_env
                    ),
                );
                return Err(Early::Usage(err));
            }
            return Err(self.serve(request, &matches, console));
        }
        if words.is_empty() {
            let err = self.lock_command().error(
                ErrorKind::MissingSubcommand,
                "a command is required (a noun and a verb; see --help)",
            );
            return Err(Early::Usage(err));
        }
        let name = words.join(" ");
        let Some(verb) = self.grammar.find(&words) else {
            // clap accepts only the grammar's verbs.
            let err = self.lock_command().error(
                ErrorKind::InvalidSubcommand,
                format!("unknown command `{name}`"),
            );
            return Err(Early::Usage(err));
        };
        // A call on an agent's behalf is the agent's alone, unless a person at its client
        // supervises it; agent mode set by the operator wins over that person.
        let on_behalf = *origin != CallOrigin::CommandLine && !console.is_supervised();
        let agent = on_behalf || flags.agent || self.agent_mode_is_set(console);
        let report = Report {
            command: name.clone(),
            class: verb.contract().class(),
            band: verb.contract().band(),
            mode: if agent {
                RunMode::Autonomous
            } else {
                RunMode::Supervised
            },
            json: flags.json,
        };
        trace.command(&name, report.class, report.band, report.mode);
        let Some(handler) = self.handlers.get(&name) else {
            // A verb the program bound no handler to (possible only where handlers are
            // checked when the command line is built): calling it fails, nothing else.
            let message = format!(
                "`{name}` has no handler: the program declares it but bound none to it (its author binds one with `.bind(handler)`)"
            );
            return Ok(Dispatched {
                report,
                outcome: CallOutcome::Failed(HandlerError::msg(message)),
                enforcement: None,
                call_log: None,
            });
        };
        if let Some(note) = verb.deprecation()
            && !flags.json
        {
            let _ = writeln!(console.stderr, "warning: `{name}` is deprecated: {note}");
        }
        let call = Call {
            command: &name,
            verb,
            handler,
            matches: leaf,
            flags: &flags,
            mode: report.mode,
            origin,
            cancel,
            arrival,
            trace,
        };
        let (ran, call_log) = self.decide_and_run(&call, console);
        Ok(Dispatched {
            report,
            outcome: ran.outcome,
            enforcement: ran.enforcement,
            call_log,
        })
    }

    /// Serves as the serve flags ask: only the root's flags, never beside a command.
    fn serve(&self, request: ServeRequest, root: &ArgMatches, console: &mut Console<'_>) -> Early {
        if let Some((name, _)) = root.subcommand() {
            let err = self.lock_command().error(
                ErrorKind::ArgumentConflict,
                format!(
                    "{} serves every command as an MCP tool; give no command (`{name}`) beside it",
                    request.flag()
                ),
            );
            return Early::Usage(err);
        }
        Early::Printed(S::serve(self, request, console))
    }

    /// The gate, then the sandbox: how one parsed command ended, and the entry that will
    /// say so in its session (none when the session could not be created).
    fn decide_and_run(&self, call: &Call<'_>, console: &mut Console<'_>) -> (Ran, Option<CallLog>) {
        let refused = |outcome| Ran {
            outcome,
            enforcement: None,
        };
        let gate = call.trace.phase(Phase::Gate);
        let paths = self.trail_paths(console);
        let trail = match Trail::open(&self.logs, &paths, &self.settings.audit_sinks) {
            Ok(trail) => trail,
            Err(err) => {
                let outcome = CallOutcome::Refused(gate::audit_refusal(&err));
                gate.decided(Some(&outcome));
                return (refused(outcome), None);
            }
        };
        let arguments = crate::audit::arguments(call.verb, self.grammar.args(), call.matches);
        call.trace
            .arguments(&arguments, call.flags.justify.as_deref());
        let record = CallRecord::new(call.command, arguments, call.origin.clone());
        let config = SessionConfig::new(Arc::clone(&trail.sink))
            .with_policy(self.settings.policy.clone())
            .with_call(record);
        let session_name = format!("{} {}", self.grammar.app_name(), call.command);
        let session_id = Cell::new(None);
        let vars = console.vars(&self.settings.operator_vars());
        let admitted = (call.handler.admit)(Dispatch {
            command: call.command,
            verb: call.verb,
            globals: self.grammar.args(),
            matches: call.matches,
            agent: call.mode == RunMode::Autonomous,
            justification: call.flags.justify.as_deref(),
            yes: call.flags.yes,
            config: &config,
            session_name: &session_name,
            prompt: console,
            session_id: &session_id,
            vars: &vars,
        });
        let call_log = session_id.get().map(|id| CallLog {
            sink: Arc::clone(&trail.sink),
            session: session_name.clone(),
            id,
            mode: call.mode,
            contract: call.verb.contract(),
            enforcement: None,
        });
        let job = match admitted {
            Ok(job) => {
                gate.decided(None);
                job
            }
            Err(outcome) => {
                gate.decided(Some(&outcome));
                return (refused(outcome), call_log);
            }
        };
        // The time a person took to answer is not the call's: its band runs without it.
        let arrival = call.arrival + console.waited();
        // The decision is signed before the handler gets control.
        if let Some(log) = &call_log {
            let span = call.trace.phase(Phase::AuditStart);
            if let Err(err) = log.start() {
                span.failed("unrecorded");
                return (
                    refused(CallOutcome::Refused(gate::audit_refusal(&err))),
                    call_log,
                );
            }
        }
        let workspace = self.workspace(console);
        let strictness = self.strictness(console);
        let protected = paths.protected();
        let band = call.verb.contract().band();
        let budgets = match self
            .settings
            .budgets(band, console.var(BUDGET_ENV).as_deref())
        {
            Ok(budgets) => budgets,
            Err(message) => {
                let outcome = CallOutcome::Failed(HandlerError::msg(format!(
                    "the operator's budgets cannot be read, so nothing ran: {message}"
                )));
                return (refused(outcome), call_log);
            }
        };
        let confinement = Confinement {
            workspace: &workspace,
            audit_paths: &protected,
            strictness,
            sandbox: self.settings.sandbox,
            whole_process: console.is_process(),
            budgets,
            arrival,
        };
        let parts = CallParts {
            command: call.command,
            verb: call.verb,
            globals: self.grammar.args(),
            matches: call.matches,
        };
        let ran = self
            .workers
            .execute(job, &parts, &confinement, call.cancel, call.trace);
        let call_log = call_log.map(|call_log| CallLog {
            enforcement: ran
                .enforcement
                .as_ref()
                .and_then(|enforcement| serde_json::to_value(enforcement).ok()),
            ..call_log
        });
        (ran, call_log)
    }

    /// Whether agent mode is on whatever the arguments say: the program's setting, or the
    /// launcher's variable.
    pub(crate) fn agent_mode_is_set(&self, console: &Console<'_>) -> bool {
        self.settings.agent_mode == AgentMode::Always
            || console.agent_env_is_on(&self.settings.agent_env)
    }

    /// How strictly the kernel must confine this run's handler: the program's setting, or
    /// strict when the launcher demands it (`CNV_SANDBOX=strict`).
    pub(crate) fn strictness(&self, console: &Console<'_>) -> Strictness {
        if console
            .var(SANDBOX_ENV)
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("strict"))
        {
            Strictness::Strict
        } else {
            self.settings.strictness
        }
    }

    /// The workspace of this run: the program's, else the launcher's (`CNV_WORKSPACE`),
    /// else the current directory.
    pub(crate) fn workspace(&self, console: &Console<'_>) -> PathBuf {
        self.settings
            .workspace
            .clone()
            .or_else(|| {
                console
                    .var(WORKSPACE_ENV)
                    .filter(|path| !path.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Where the trail of one run goes, all of it the operator's: the program's own log
    /// (`CliBuilder::audit_log`) and the one its launcher names in `CNV_AUDIT_LOG`, signed
    /// with the program's key or the one in `CNV_AUDIT_KEY`. No argument can add, move or
    /// remove one.
    pub(crate) fn trail_paths(&self, console: &Console<'_>) -> TrailPaths {
        let mut logs: Vec<PathBuf> = self.settings.audit_log.iter().cloned().collect();
        if let Some(path) = console.var(AUDIT_LOG_ENV).filter(|path| !path.is_empty()) {
            let path = PathBuf::from(path);
            if !logs.contains(&path) {
                logs.push(path);
            }
        }
        let key = self.settings.audit_key.clone().or_else(|| {
            console
                .var(AUDIT_KEY_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let mut witnesses = self.settings.audit_witnesses.clone();
        let launcher = console.var(AUDIT_WITNESS_ENV).unwrap_or_default();
        witnesses.extend(
            launcher
                .split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_owned),
        );
        TrailPaths {
            logs,
            key,
            witnesses,
        }
    }
}

/// The gate's flags of one call, each given at one level of the command at most.
pub(crate) struct GateFlags {
    agent: bool,
    justify: Option<String>,
    yes: bool,
    json: bool,
}

impl GateFlags {
    /// The flags from the matches of every level (the root, the nouns, the verb).
    ///
    /// # Errors
    ///
    /// The message of a usage error when a flag is given at two levels: the command line
    /// never lets a later copy silently replace an earlier one.
    fn read(levels: &[&ArgMatches]) -> Result<Self, String> {
        for id in global::GATE {
            let given: Vec<&&ArgMatches> = levels
                .iter()
                .filter(|matches| {
                    matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
                })
                .collect();
            if given.len() > 1 {
                return Err(format!(
                    "the argument '--{id}' was given {} times, before and after a noun or verb; give it once",
                    given.len()
                ));
            }
        }
        let given = |id: &str| {
            levels.iter().find(|matches| {
                matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
            })
        };
        Ok(Self {
            agent: given(global::AGENT).is_some_and(|m| m.get_flag(global::AGENT)),
            justify: given(global::JUSTIFY)
                .and_then(|m| m.get_one::<String>(global::JUSTIFY).cloned()),
            yes: given(global::YES).is_some_and(|m| m.get_flag(global::YES)),
            json: given(global::FORMAT)
                .and_then(|m| m.get_one::<String>(global::FORMAT))
                .is_some_and(|format| format == "json"),
        })
    }
}
