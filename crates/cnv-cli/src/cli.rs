//! `Cli`: one run of the command line — parse, introspect or dispatch through the gate,
//! report.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use clap::error::ErrorKind;
use clap::{ArgMatches, Command};
use cnv_grammar::GrammarModel;
use cnv_typestate::{
    AuditError, AuditLog, AuditSink, FanOutSink, MemorySink, RunMode, SessionConfig,
};

use crate::builder::{AgentMode, CliBuilder, Settings};
use crate::command::global;
use crate::console::Console;
use crate::gate::{self, Dispatch, Erased, Stop};
use crate::output::Exit;
use crate::report::{self, Report};

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
pub struct Cli {
    pub(crate) model: Model,
    pub(crate) handlers: HashMap<String, Erased>,
    /// Parsing needs `&mut Command`; the lock is held only while clap parses or renders.
    pub(crate) command: Mutex<Command>,
    pub(crate) settings: Settings,
}

impl Cli {
    /// A builder for a constant grammar; same as [`CliBuilder::new`].
    pub fn builder(model: &'static GrammarModel) -> CliBuilder {
        CliBuilder::new(model)
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
        let stdout = io::stdout();
        let stderr = io::stderr();
        let mut out = stdout.lock();
        let mut err = stderr.lock();
        let mut console = Console::process(&mut out, &mut err);
        self.run_in(std::env::args_os(), &mut console).into()
    }

    /// Runs `args` (the program name first, as in `std::env::args_os`) against
    /// `console`.
    pub fn run_in<I, T>(&self, args: I, console: &mut Console<'_>) -> Exit
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let json = report::wants_json(&args);
        let parsed = self.lock_command().try_get_matches_from_mut(&args);
        let matches = match parsed {
            Ok(matches) => matches,
            Err(err) => return report::clap_error(&err, json, console),
        };
        let mut words = Vec::new();
        let mut leaf = &matches;
        while let Some((name, sub)) = leaf.subcommand() {
            words.push(name);
            leaf = sub;
        }
        let json = leaf.get_one::<String>(global::FORMAT).map(String::as_str) == Some("json");
        if let Some(exit) = self.introspect(&matches, json, console) {
            return exit;
        }
        if words.is_empty() {
            let err = self.lock_command().error(
                ErrorKind::MissingSubcommand,
                "a command is required (a noun and a verb; see --help)",
            );
            return report::clap_error(&err, json, console);
        }
        let name = words.join(" ");
        let (Some(verb), Some(handler)) = (self.model.find(&words), self.handlers.get(&name))
        else {
            // `build` gave every verb a handler, and clap accepts only the grammar's verbs.
            let err = self.lock_command().error(
                ErrorKind::InvalidSubcommand,
                format!("unknown command `{name}`"),
            );
            return report::clap_error(&err, json, console);
        };
        let agent = self.settings.agent_mode == AgentMode::Always
            || leaf.get_flag(global::AGENT)
            || console.agent_env_is_on(&self.settings.agent_env);
        let report = Report {
            command: &name,
            class: verb.contract().class(),
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
        let sink = match self.audit_sink(leaf.get_one::<PathBuf>(global::AUDIT_LOG), agent) {
            Ok(sink) => sink,
            Err(err) => {
                let refusal = gate::audit_refusal(&err);
                return report.stop(Stop::Denied(refusal), console);
            }
        };
        let config = SessionConfig::new(sink).with_policy(self.settings.policy.clone());
        let session_name = report::command_line(self.model.app_name(), &args);
        let justification = leaf.get_one::<String>(global::JUSTIFY).cloned();
        let result = handler(Dispatch {
            command: &name,
            verb,
            matches: leaf,
            agent,
            justification: justification.as_deref(),
            yes: leaf.get_flag(global::YES),
            config: &config,
            session_name: &session_name,
            prompt: console,
        });
        match result {
            Ok(output) => report.success(output, console),
            Err(stop) => report.stop(stop, console),
        }
    }

    /// The sink of one run: the program's own sinks and log, and the `--audit-log` of
    /// the command line. In agent mode `--audit-log` must name an existing log: an agent
    /// may not create files through a flag that every verb, even a `Pure` one, accepts.
    fn audit_sink(
        &self,
        flag: Option<&PathBuf>,
        agent: bool,
    ) -> Result<Arc<dyn AuditSink>, AuditError> {
        let mut sinks = self.settings.audit_sinks.clone();
        if let Some(path) = &self.settings.audit_log {
            sinks.push(Arc::new(AuditLog::open(path, None)?));
        }
        if let Some(path) = flag {
            if agent && let Err(error) = std::fs::symlink_metadata(path) {
                return Err(AuditError::Io {
                    target: path.display().to_string(),
                    error: Arc::new(error),
                });
            }
            sinks.push(Arc::new(AuditLog::open(path, None)?));
        }
        Ok(match sinks.len() {
            0 => Arc::new(MemorySink::new()),
            1 => sinks.remove(0),
            _ => Arc::new(FanOutSink::new(sinks)),
        })
    }

    /// The root command's flags, read from its `matches` (see [`crate::introspect`]).
    fn introspect(&self, root: &ArgMatches, json: bool, console: &mut Console<'_>) -> Option<Exit> {
        crate::introspect::run(self, root, json, console)
    }
}

impl fmt::Debug for Cli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("app", &self.model.app_name())
            .field("verbs", &self.handlers.len())
            .field("agent_mode", &self.settings.agent_mode)
            .finish_non_exhaustive()
    }
}
