//! `Cli`: one run of the command line — parse, introspect or dispatch through the gate,
//! report.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use clap::error::ErrorKind;
use clap::{ArgMatches, Command};
use cnv_audit::{CallOrigin, CallRecord, CallResult};
use cnv_caps::ResourceBand;
use cnv_grammar::GrammarModel;
use cnv_sandbox::{Enforcement, Strictness};
use cnv_typestate::{Rule, RunMode, SessionConfig};

use crate::audit::{Finish, OpenLogs, Trail, TrailPaths};
use crate::builder::{
    AUDIT_KEY_ENV, AUDIT_LOG_ENV, AgentMode, CliBuilder, SANDBOX_ENV, Settings, WORKSPACE_ENV,
};
use crate::cancel::CancelToken;
use crate::command::global;
use crate::console::Console;
use crate::execute::{Confinement, NotRun, Ran, Workers};
use crate::gate::Refusal;
use crate::gate::{self, Dispatch, Erased, Stop};
use crate::output::{Exit, HandlerError, Output};
use crate::report::{self, Report};
use crate::serve::{NoServer, Serve, ServeRequest};

/// The grammar a command line is made from: a constant or a model built at run time.
pub(crate) enum Model {
    Static(&'static GrammarModel),
    Owned(Box<GrammarModel>),
}

impl std::ops::Deref for Model {
    type Target = GrammarModel;

    fn deref(&self) -> &GrammarModel {
        match self {
            Self::Static(model) => model,
            Self::Owned(model) => model,
        }
    }
}

/// A command line made from a grammar and its handlers: parsing, `--help`, completions
/// and usage errors are clap's; the capability gate, the audit trail and the output
/// format are cnv's. See the crate documentation for the flags and exit codes.
///
/// `S` is the server behind the serve flags ([`Serve`]): [`NoServer`] for a command line
/// made with `cnv-cli` alone, MCP for the facade `cnv`'s `Cli`.
pub struct Cli<S = NoServer> {
    pub(crate) model: Model,
    pub(crate) handlers: HashMap<String, Erased>,
    /// Parsing needs `&mut Command`; the lock is held only while clap parses or renders.
    pub(crate) command: Mutex<Command>,
    pub(crate) settings: Settings,
    /// The confined threads that run handlers, by class and workspace.
    pub(crate) workers: Workers,
    /// The audit logs opened so far, kept open for the next call.
    pub(crate) logs: OpenLogs,
    /// The server behind the serve flags, with the operator's settings for it.
    pub(crate) server: S,
}

impl<S: Serve> Cli<S> {
    /// A builder for a constant grammar; same as [`CliBuilder::new`].
    pub fn builder(model: &'static GrammarModel) -> CliBuilder<S> {
        CliBuilder::new(model)
    }

    /// The server behind the serve flags, with the operator's settings for it.
    #[must_use]
    pub fn server(&self) -> &S {
        &self.server
    }

    /// A copy of the clap command (for documentation generators, or to inspect it).
    #[must_use]
    pub fn command(&self) -> Command {
        self.lock_command().clone()
    }

    pub(crate) fn lock_command(&self) -> MutexGuard<'_, Command> {
        // A panic while parsing leaves the command as clap left it, which is still valid.
        self.command.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The grammar.
    #[must_use]
    pub fn model(&self) -> &GrammarModel {
        &self.model
    }

    /// Runs the process's command line (`std::env::args_os`) with its standard streams
    /// and environment, and returns the exit code for `main`.
    ///
    /// ```no_run
    /// # fn cli() -> cnv_cli::Cli { unimplemented!() }
    /// fn main() -> std::process::ExitCode {
    ///     cli().run()
    /// }
    /// ```
    #[must_use = "return the exit code from `main`"]
    pub fn run(&self) -> ExitCode {
        // Unlocked handles: the handler runs on a thread of its own, and holding the
        // streams' locks here would block it at its first `eprintln!`.
        self.run_args(std::env::args_os())
    }

    /// Runs `args` (the program name first) as [`run`](Self::run) runs the process's
    /// own: with its standard streams, environment and terminal. For a program that
    /// rewrites its arguments first; agent mode and every operator setting still come
    /// from the environment, whatever the arguments say.
    ///
    /// ```no_run
    /// # fn cli() -> cnv_cli::Cli { unimplemented!() }
    /// fn main() -> std::process::ExitCode {
    ///     // `notes ls` is short for `notes note list`.
    ///     let args = std::env::args_os().map(|arg| if arg == "ls" { "note".into() } else { arg });
    ///     let mut args: Vec<std::ffi::OsString> = args.collect();
    ///     if args.get(1).is_some_and(|word| word == "note") && args.len() == 2 {
    ///         args.push("list".into());
    ///     }
    ///     cli().run_args(args)
    /// }
    /// ```
    #[must_use = "return the exit code from `main`"]
    pub fn run_args<I, T>(&self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut out = io::stdout();
        let mut err = io::stderr();
        let mut console = Console::process(&mut out, &mut err);
        self.run_in(args, &mut console).into()
    }

    /// Runs `args` (the program name first, as in `std::env::args_os`) against
    /// `console`: [`Console::process`] for the process's own streams and environment,
    /// [`Console::for_tests`] in tests.
    pub fn run_in<I, T>(&self, args: I, console: &mut Console<'_>) -> Exit
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let json = report::wants_json(&args);
        match self.dispatch(&args, console, &CallOrigin::CommandLine, None) {
            Outcome::Usage(err) => report::clap_error(&err, json, console),
            Outcome::Printed(exit) => exit,
            Outcome::Call {
                report,
                ended,
                finish,
            } => {
                let ending = Ending::of(&ended, report.band);
                let exit = match ended {
                    Ended::Output(output, enforcement) => {
                        report.success(output, enforcement.as_ref(), console)
                    }
                    Ended::Stop(stop) => report.stop(stop, console),
                    Ended::Overrun(budget) => report.overrun(budget, console),
                    // Only a call made with a cancel token (`Cli::call`) is cancelled.
                    Ended::Cancelled { .. } => report.stop(
                        Stop::Failed(HandlerError::msg("the call was cancelled")),
                        console,
                    ),
                };
                if let Some(finish) = finish
                    && let Err(err) = finish.record(ending.result(exit))
                {
                    report.unrecorded_end(&err, console);
                }
                exit
            }
        }
    }

    /// Parses `args` and, for a command, takes it through the gate and the sandbox; what
    /// it printed (help, introspection, a warning) went to `console`. Any `origin` but the
    /// command line forces agent mode (a call on an agent's behalf, [`Cli::call`]), and
    /// `cancel` stops such a call when its caller no longer wants it.
    pub(crate) fn dispatch(
        &self,
        args: &[OsString],
        console: &mut Console<'_>,
        origin: &CallOrigin,
        cancel: Option<&CancelToken>,
    ) -> Outcome {
        let parsed = self.lock_command().try_get_matches_from_mut(args);
        let matches = match parsed {
            Ok(matches) => matches,
            Err(err) => return Outcome::Usage(err),
        };
        let mut words = Vec::new();
        let mut levels = vec![&matches];
        let mut leaf = &matches;
        while let Some((name, sub)) = leaf.subcommand() {
            words.push(name);
            levels.push(sub);
            leaf = sub;
        }
        let flags = match GateFlags::read(&levels) {
            Ok(flags) => flags,
            Err(repeated) => {
                let err = self
                    .lock_command()
                    .error(ErrorKind::ArgumentConflict, repeated);
                return Outcome::Usage(err);
            }
        };
        let json = flags.json;
        if let Some(exit) = self.introspect(&matches, json, console) {
            return Outcome::Printed(exit);
        }
        if *origin == CallOrigin::CommandLine
            && let Some(request) = ServeRequest::of(&matches)
        {
            return self.serve(request, &matches, console);
        }
        if words.is_empty() {
            let err = self.lock_command().error(
                ErrorKind::MissingSubcommand,
                "a command is required (a noun and a verb; see --help)",
            );
            return Outcome::Usage(err);
        }
        let name = words.join(" ");
        let (Some(verb), Some(handler)) = (self.model.find(&words), self.handlers.get(&name))
        else {
            // `build` gave every verb a handler, and clap accepts only the grammar's verbs.
            let err = self.lock_command().error(
                ErrorKind::InvalidSubcommand,
                format!("unknown command `{name}`"),
            );
            return Outcome::Usage(err);
        };
        let on_behalf = *origin != CallOrigin::CommandLine;
        let agent = on_behalf
            || self.settings.agent_mode == AgentMode::Always
            || flags.agent
            || console.agent_env_is_on(&self.settings.agent_env);
        let report = Report {
            command: name.clone(),
            class: verb.contract().class(),
            band: verb.contract().band(),
            mode: if agent {
                RunMode::Autonomous
            } else {
                RunMode::Supervised
            },
            json,
        };
        if let Some(note) = verb.deprecation()
            && !json
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
        };
        let (ended, finish) = self.decide_and_run(&call, console);
        Outcome::Call {
            report,
            ended,
            finish,
        }
    }

    /// The gate, then the sandbox: how one parsed command ended, and the entry that will
    /// say so in its session (none when the session could not be created).
    fn decide_and_run(
        &self,
        call: &Call<'_>,
        console: &mut Console<'_>,
    ) -> (Ended, Option<Box<Finish>>) {
        let paths = self.trail_paths(console);
        let trail = match Trail::open(&self.logs, &paths, &self.settings.audit_sinks) {
            Ok(trail) => trail,
            Err(err) => return (Ended::Stop(Stop::Denied(gate::audit_refusal(&err))), None),
        };
        let arguments = crate::audit::arguments(call.verb, self.model.args(), call.matches);
        let record = CallRecord::new(call.command, arguments, call.origin.clone());
        let config = SessionConfig::new(Arc::clone(&trail.sink))
            .with_policy(self.settings.policy.clone())
            .with_call(record);
        let session_name = format!("{} {}", self.model.app_name(), call.command);
        let session_id = Cell::new(None);
        let result = (call.handler)(Dispatch {
            command: call.command,
            verb: call.verb,
            globals: self.model.args(),
            matches: call.matches,
            agent: call.mode == RunMode::Autonomous,
            justification: call.flags.justify.as_deref(),
            yes: call.flags.yes,
            config: &config,
            session_name: &session_name,
            prompt: console,
            session_id: &session_id,
        });
        let mut finish = session_id.get().map(|id| {
            Box::new(Finish {
                sink: Arc::clone(&trail.sink),
                session: session_name.clone(),
                id,
                mode: call.mode,
                class: call.verb.contract().class(),
                enforcement: None,
            })
        });
        let job = match result {
            Ok(job) => job,
            Err(stop) => return (Ended::Stop(stop), finish),
        };
        // The decision is signed before the handler gets control.
        if let Err(err) = trail.checkpoint() {
            return (Ended::Stop(Stop::Denied(gate::audit_refusal(&err))), finish);
        }
        let workspace = self.workspace(console);
        let strictness = if console
            .var(SANDBOX_ENV)
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("strict"))
        {
            Strictness::Strict
        } else {
            self.settings.strictness
        };
        let protected = paths.protected();
        let confinement = Confinement {
            workspace: &workspace,
            audit_paths: &protected,
            strictness,
            sandbox: self.settings.sandbox,
            whole_process: console.is_process(),
        };
        let ran = self
            .workers
            .execute(job, call.command, &confinement, call.cancel);
        if let (Some(finish), Some(enforcement)) = (finish.as_mut(), ran.enforcement()) {
            finish.enforcement = serde_json::to_value(enforcement).ok();
        }
        let ended = match ran {
            Ran::Done {
                result: Ok(output),
                enforcement,
            } => Ended::Output(output, enforcement),
            Ran::Done {
                result: Err(err), ..
            } => Ended::Stop(Stop::Failed(err)),
            Ran::Overran { budget, .. } => Ended::Overrun(budget),
            Ran::Cancelled { enforcement } => Ended::Cancelled {
                started: enforcement.is_some(),
            },
            Ran::NotRun(not_run) => Ended::Stop(not_run_stop(not_run, &workspace)),
        };
        (ended, finish)
    }

    /// The workspace of this run: the program's, else the launcher's (`CNV_WORKSPACE`),
    /// else the current directory.
    fn workspace(&self, console: &Console<'_>) -> PathBuf {
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
        TrailPaths { logs, key }
    }

    /// Serves as the serve flags ask: only the root's flags, never beside a command.
    fn serve(
        &self,
        request: ServeRequest,
        root: &ArgMatches,
        console: &mut Console<'_>,
    ) -> Outcome {
        if let Some((name, _)) = root.subcommand() {
            let err = self.lock_command().error(
                ErrorKind::ArgumentConflict,
                format!(
                    "{} serves every command as an MCP tool; give no command (`{name}`) beside it",
                    request.flag()
                ),
            );
            return Outcome::Usage(err);
        }
        Outcome::Printed(S::serve(self, request, console))
    }

    /// The root command's flags, read from its `matches` (see [`crate::introspect`]).
    fn introspect(&self, root: &ArgMatches, json: bool, console: &mut Console<'_>) -> Option<Exit> {
        crate::introspect::run(self, root, json, console)
    }
}

/// What one run of the command line came to.
pub(crate) enum Outcome {
    /// A usage error (or help or version, which clap reports as an "error" to print).
    Usage(clap::Error),
    /// Introspection, already printed.
    Printed(Exit),
    /// A command, through the gate; `finish` records how it ended once the caller has
    /// its answer.
    Call {
        report: Report,
        ended: Ended,
        finish: Option<Box<Finish>>,
    },
}

impl Ended {
    /// The exit code this ending gives, before anything is printed.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::Output(..) => Exit::Success,
            Self::Stop(Stop::Denied(_)) => Exit::Denied,
            Self::Stop(Stop::NotConfirmed(_)) => Exit::ConfirmationRequired,
            Self::Stop(Stop::Failed(err)) => err.exit(),
            Self::Overrun(_) => Exit::Overrun,
            // Nobody is given an exit code for a cancelled call; the trail records 130.
            Self::Cancelled { .. } => Exit::Failed,
        }
    }
}

/// One parsed command on its way through the gate.
pub(crate) struct Call<'a> {
    command: &'a str,
    verb: &'a cnv_grammar::GrammarVerb,
    handler: &'a Erased,
    matches: &'a ArgMatches,
    flags: &'a GateFlags,
    mode: RunMode,
    origin: &'a CallOrigin,
    cancel: Option<&'a CancelToken>,
}

/// How a command that reached the gate ended.
pub(crate) enum Ended {
    /// Its handler produced output, under this enforcement.
    Output(Output, Option<Enforcement>),
    /// It did not run, or its handler failed.
    Stop(Stop),
    /// It ran past its band's time.
    Overrun(std::time::Duration),
    /// Its caller cancelled it, before its handler `started` or while it ran.
    Cancelled { started: bool },
}

/// How a call ended, as its session's last entry says, waiting for the exit code the
/// caller was given.
pub(crate) enum Ending {
    Ran,
    Failed(String),
    Denied(Rule, String),
    Sandbox(String),
    Overrun(ResourceBand, String),
    Cancelled(String),
}

impl Ending {
    /// What `ended` comes to, for a command of `band`.
    pub(crate) fn of(ended: &Ended, band: ResourceBand) -> Self {
        match ended {
            Ended::Output(..) => Self::Ran,
            Ended::Stop(Stop::Denied(refusal) | Stop::NotConfirmed(refusal)) => {
                match refusal.rule {
                    Rule::SandboxRequired => Self::Sandbox(refusal.message.clone()),
                    _ => Self::Denied(refusal.rule, refusal.message.clone()),
                }
            }
            Ended::Stop(Stop::Failed(err)) => Self::Failed(err.to_string()),
            Ended::Overrun(budget) => Self::Overrun(
                band,
                format!("ran past {} ms and was stopped", budget.as_millis()),
            ),
            Ended::Cancelled { started: true } => Self::Cancelled(
                "cancelled by its caller while its handler ran; the handler's worker was abandoned"
                    .to_owned(),
            ),
            Ended::Cancelled { started: false } => {
                Self::Cancelled("cancelled by its caller before its handler started".to_owned())
            }
        }
    }

    /// The result, with the exit code the caller was given.
    pub(crate) fn result(self, exit: Exit) -> CallResult {
        let exit_code = i32::from(exit.code());
        match self {
            Self::Ran if exit == Exit::Success => CallResult::Ran { exit_code },
            Self::Ran => CallResult::Failed {
                exit_code,
                message: "the handler ran, and its output could not be written".to_owned(),
            },
            Self::Failed(message) => CallResult::Failed { exit_code, message },
            Self::Denied(rule, message) => CallResult::Denied {
                exit_code,
                rule,
                message,
            },
            Self::Sandbox(message) => CallResult::Sandbox { exit_code, message },
            Self::Overrun(band, message) => CallResult::Overrun {
                exit_code,
                band,
                message,
            },
            Self::Cancelled(message) => CallResult::Cancelled {
                exit_code: CANCELLED_EXIT_CODE,
                message,
            },
        }
    }
}

/// The exit code the trail records for a cancelled call: 130, as a shell reports a
/// command its user interrupted (no caller is given one).
pub(crate) const CANCELLED_EXIT_CODE: i32 = 130;

/// Why a call the gate admitted did not run, as the caller sees it.
fn not_run_stop(not_run: NotRun, workspace: &Path) -> Stop {
    match not_run {
        NotRun::Workspace(err) => Stop::Failed(HandlerError::msg(format!(
            "the workspace {} cannot be opened ({err}); the operator sets it with `{WORKSPACE_ENV}` or `CliBuilder::workspace`",
            workspace.display()
        ))),
        NotRun::AuditInReach { log } => Stop::Denied(Refusal {
            rule: Rule::AuditOutOfReach,
            message: format!(
                "the audit trail's file {} (a log, its head or its key) lies where this command could change or read it, so it does not run (rule `{}`)",
                log.display(),
                Rule::AuditOutOfReach
            ),
            hint: format!(
                "the operator keeps the audit log, its head and its key outside the workspace ({})",
                workspace.display()
            ),
            required: None,
            given: None,
        }),
        NotRun::Sandbox(err) => Stop::Denied(Refusal {
            rule: Rule::SandboxRequired,
            message: format!(
                "the kernel cannot confine this command as its class requires, so it does not run (rule `{}`): {err}",
                Rule::SandboxRequired
            ),
            hint: "run it on a kernel with Landlock (ABI 6 or later for full enforcement), or ask the operator to drop CNV_SANDBOX=strict".to_owned(),
            required: None,
            given: None,
        }),
        NotRun::Thread(message) => Stop::Failed(HandlerError::msg(message)),
    }
}

/// The gate's flags of one call, each given at one level of the command at most.
struct GateFlags {
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

impl<S: Serve> fmt::Debug for Cli<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("app", &self.model.app_name())
            .field("verbs", &self.handlers.len())
            .field("agent_mode", &self.settings.agent_mode)
            .finish_non_exhaustive()
    }
}
