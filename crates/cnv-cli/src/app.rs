//! `CliBuilder` and `Cli`: bind handlers, check the bindings against the grammar, and run
//! a command line.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::error::ErrorKind;
use clap::{ArgMatches, Command};
use cnv_caps::CapabilityClass;
use cnv_grammar::{GrammarErrors, GrammarModel};
use cnv_typestate::{
    ApprovalError, ApprovalRequest, AuditEntry, AuditError, AuditSink, EscalationPolicy,
    HumanApproval, JsonLinesFile, MemorySink, SessionConfig, TypedClass,
};
use serde_json::{Value, json};

use crate::binding::VerbBinding;
use crate::command::{self, GateText, global};
use crate::gate::{self, Dispatch, Erased, Prompt, Stop};
use crate::invocation::Invocation;
use crate::output::{Exit, HandlerError, Output};

/// The environment variable that turns agent mode on, unless
/// [`CliBuilder::agent_env`] names another.
pub const DEFAULT_AGENT_ENV: &str = "CNV_AGENT";

/// The grammar a command line is made from: a constant or a model built at run time.
enum Model {
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

struct Bound {
    command: String,
    class: CapabilityClass,
    handler: Erased,
}

/// Builds a [`Cli`] from a grammar and one handler per verb.
///
/// Each handler is bound with the capability class of its verb — by
/// [`bind`](Self::bind) with [`verb!`](crate::verb) (checked at compile time) or by
/// [`handler`](Self::handler) — and [`build`](Self::build) checks everything the
/// compiler could not: every verb has exactly one handler of its declared class, and no
/// argument takes the name of a global flag.
#[must_use = "a builder does nothing until `build` is called"]
pub struct CliBuilder {
    model: Model,
    bound: Vec<Bound>,
    settings: Settings,
}

/// What the program decides about every run, whatever the command line says.
struct Settings {
    policy: EscalationPolicy,
    agent_env: String,
    agent_mode: AgentMode,
    audit_log: Option<PathBuf>,
    audit_sinks: Vec<Arc<dyn AuditSink>>,
}

/// When a command line runs in agent mode.
///
/// The gate holds only as far as agent mode does: if whoever calls the program chooses
/// its arguments and environment, they choose the mode. A program launched for an agent
/// by code the agent does not control (an MCP server, a tool runner) can leave the choice
/// to the launcher ([`FlagOrEnv`](Self::FlagOrEnv)); a program that only agents run, or
/// whose launcher the agent could bypass, should be [`Always`](Self::Always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentMode {
    /// Agent mode when `--agent` is given or the agent environment variable is on.
    #[default]
    FlagOrEnv,
    /// Always agent mode: no flag or variable can turn it off.
    Always,
}

impl CliBuilder {
    /// A command line for a constant grammar (a `grammar_dsl!` static).
    pub fn new(model: &'static GrammarModel) -> Self {
        Self::with(Model::Static(model))
    }

    /// A command line for a grammar built or loaded at run time.
    pub fn from_model(model: GrammarModel) -> Self {
        Self::with(Model::Owned(Box::new(model)))
    }

    fn with(model: Model) -> Self {
        Self {
            model,
            bound: Vec::new(),
            settings: Settings {
                policy: EscalationPolicy::default(),
                agent_env: DEFAULT_AGENT_ENV.to_owned(),
                agent_mode: AgentMode::default(),
                audit_log: None,
                audit_sinks: Vec::new(),
            },
        }
    }

    /// Binds `handler` to the verb of `binding`, with the binding's class `C`. The
    /// handler's parameter names the same class, so a handler written for another class
    /// does not compile.
    pub fn bind<C, F>(self, binding: VerbBinding<C>, handler: F) -> Self
    where
        C: TypedClass,
        F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
    {
        self.handler::<C, F>(binding.command(), handler)
    }

    /// Binds `handler` to `command` (nouns then verb: `"file write"`) with class `C`,
    /// checked against the grammar by [`build`](Self::build).
    pub fn handler<C, F>(mut self, command: &str, handler: F) -> Self
    where
        C: TypedClass,
        F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
    {
        self.bound.push(Bound {
            command: command.to_owned(),
            class: C::CLASS,
            handler: gate::erase::<C, F>(handler),
        });
        self
    }

    /// The escalation policy of agent mode (default: [`EscalationPolicy::default`]).
    pub fn policy(mut self, policy: EscalationPolicy) -> Self {
        self.settings.policy = policy;
        self
    }

    /// The environment variable that turns agent mode on (default
    /// [`DEFAULT_AGENT_ENV`], `CNV_AGENT`). Any value but empty, `0`, `false`, `no` or
    /// `off` turns it on (a value that is not UTF-8 does too).
    pub fn agent_env(mut self, name: impl Into<String>) -> Self {
        self.settings.agent_env = name.into();
        self
    }

    /// When the command line runs in agent mode (default [`AgentMode::FlagOrEnv`]).
    pub fn agent_mode(mut self, mode: AgentMode) -> Self {
        self.settings.agent_mode = mode;
        self
    }

    /// Every run appends its audit entries to the JSON Lines log at `path` (created if
    /// absent), whatever the command line says; `--audit-log` adds a second copy. A run
    /// whose entries cannot be written does not run.
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.audit_log = Some(path.into());
        self
    }

    /// Every run also records its audit entries to `sink` (a `TracingSink`, a sink of the
    /// program's own), whatever the command line says.
    pub fn audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.settings.audit_sinks.push(sink);
        self
    }

    /// Checks the bindings against the grammar and builds the command line.
    ///
    /// # Errors
    ///
    /// [`BuildErrors`] with every problem found: an invalid grammar, a handler bound to a
    /// verb the grammar does not have or with another class than the grammar declares,
    /// two handlers for one verb, a verb without a handler, an argument named like a
    /// global flag.
    pub fn build(self) -> Result<Cli, BuildErrors> {
        let mut errors = Vec::new();
        if let Err(invalid) = self.model.validate() {
            errors.push(BuildError::InvalidGrammar(invalid));
        }
        // Every verb's command (`"file write"`) and class, in declaration order.
        let declared: Vec<(String, CapabilityClass)> = self
            .model
            .verbs()
            .map(|(path, verb)| {
                let mut words: Vec<&str> = path.names().collect();
                words.push(verb.name());
                (words.join(" "), verb.contract().class())
            })
            .collect();
        let classes: HashMap<&str, CapabilityClass> = declared
            .iter()
            .map(|(command, class)| (command.as_str(), *class))
            .collect();
        for (_, verb) in self.model.verbs() {
            for arg in verb.args() {
                if global::RESERVED.contains(&arg.name()) {
                    errors.push(BuildError::ReservedArgument {
                        verb: verb.name().to_owned(),
                        name: arg.name().to_owned(),
                    });
                }
            }
        }
        let mut handlers: HashMap<String, Erased> = HashMap::with_capacity(declared.len());
        let mut mismatched = Vec::new();
        for bound in self.bound {
            match classes.get(bound.command.as_str()) {
                None => errors.push(BuildError::UnknownVerb {
                    suggestion: cnv_caps::__private::closest(
                        &bound.command,
                        declared.iter().map(|(c, _)| c.as_str()),
                    )
                    .map(str::to_owned),
                    command: bound.command,
                }),
                Some(class) if *class != bound.class => {
                    mismatched.push(bound.command.clone());
                    errors.push(BuildError::CapabilityMismatch {
                        command: bound.command,
                        declared: *class,
                        bound: bound.class,
                    });
                }
                Some(_) if handlers.contains_key(&bound.command) => {
                    errors.push(BuildError::DuplicateHandler {
                        command: bound.command,
                    });
                }
                Some(_) => {
                    handlers.insert(bound.command, bound.handler);
                }
            }
        }
        for (command, class) in &declared {
            if !handlers.contains_key(command) && !mismatched.contains(command) {
                errors.push(BuildError::MissingHandler {
                    command: command.clone(),
                    class: *class,
                });
            }
        }
        if !errors.is_empty() {
            return Err(BuildErrors(errors));
        }
        let mut command = command::build(
            &self.model,
            &GateText {
                policy: &self.settings.policy,
                agent_env: &self.settings.agent_env,
            },
        );
        // Built once: clap propagates the global flags through the whole tree when a
        // command is built, and every run parses with this same command (no clone).
        command.build();
        Ok(Cli {
            model: self.model,
            handlers,
            command: Mutex::new(command),
            settings: self.settings,
        })
    }
}

impl fmt::Debug for CliBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliBuilder")
            .field("app", &self.model.app_name())
            .field(
                "bound",
                &self
                    .bound
                    .iter()
                    .map(|b| (&b.command, b.class))
                    .collect::<Vec<_>>(),
            )
            .field("agent_mode", &self.settings.agent_mode)
            .finish_non_exhaustive()
    }
}

/// One problem [`CliBuilder::build`] found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The grammar does not validate.
    #[error("the grammar is invalid: {0}")]
    InvalidGrammar(GrammarErrors),
    /// A handler is bound to a command the grammar does not have.
    #[error(
        "a handler is bound to `{command}`, but the grammar has no such verb{}; name a verb by its nouns and then the verb, separated by single spaces",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownVerb {
        /// The command the handler was bound to.
        command: String,
        /// The closest command the grammar declares.
        suggestion: Option<String>,
    },
    /// A handler is bound with another class than the grammar declares for the verb.
    #[error(
        "the handler of `{command}` is bound as `{bound}`, but the grammar declares `{command}` with `{declared}`; bind it with `{declared}` (its handler takes `&Invocation<'_, {declared}>`), or change the grammar"
    )]
    CapabilityMismatch {
        /// The command.
        command: String,
        /// The class in the grammar.
        declared: CapabilityClass,
        /// The class of the binding.
        bound: CapabilityClass,
    },
    /// Two handlers for one verb.
    #[error("`{command}` has two handlers; bind each verb once")]
    DuplicateHandler {
        /// The command.
        command: String,
    },
    /// A verb without a handler.
    #[error(
        "`{command}` has no handler; bind one with `.bind(verb!(GRAMMAR, \"{command}\", {class}), handler)`"
    )]
    MissingHandler {
        /// The command.
        command: String,
        /// Its class in the grammar.
        class: CapabilityClass,
    },
    /// An argument named like a global flag of the command line.
    #[error(
        "the verb `{verb}` declares an argument `{name}`, but `{name}` is a global flag of every cnv command line; rename the argument"
    )]
    ReservedArgument {
        /// The verb.
        verb: String,
        /// The argument.
        name: String,
    },
}

/// Every problem [`CliBuilder::build`] found, in order: the grammar, then the bindings,
/// then the verbs without a handler.
#[derive(Debug)]
pub struct BuildErrors(Vec<BuildError>);

impl BuildErrors {
    /// The problems.
    #[must_use]
    pub fn errors(&self) -> &[BuildError] {
        &self.0
    }
}

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the command line cannot be built ({} problem{})",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildErrors {}

/// A command line made from a grammar and its handlers: parsing, `--help`, completions
/// and usage errors are clap's; the capability gate, the audit trail and the output
/// format are cnv's. See the crate documentation for the flags and exit codes.
pub struct Cli {
    model: Model,
    handlers: HashMap<String, Erased>,
    /// Parsing needs `&mut Command`; the lock is held only while clap parses or renders.
    command: Mutex<Command>,
    settings: Settings,
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

    fn lock_command(&self) -> std::sync::MutexGuard<'_, Command> {
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
        let json = wants_json(&args);
        let parsed = self.lock_command().try_get_matches_from_mut(&args);
        let matches = match parsed {
            Ok(matches) => matches,
            Err(err) => return clap_error(&err, json, console),
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
            return clap_error(&err, json, console);
        }
        let name = words.join(" ");
        let (Some(verb), Some(handler)) = (self.model.find(&words), self.handlers.get(&name))
        else {
            // `build` gave every verb a handler, and clap accepts only the grammar's verbs.
            let err = self.lock_command().error(
                ErrorKind::InvalidSubcommand,
                format!("unknown command `{name}`"),
            );
            return clap_error(&err, json, console);
        };
        let agent = self.settings.agent_mode == AgentMode::Always
            || leaf.get_flag(global::AGENT)
            || console.agent_env_is_on(&self.settings.agent_env);
        let report = Report {
            command: &name,
            class: verb.contract().class(),
            agent,
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
                let refusal = gate::audit_refusal(&err.to_string());
                return report.stop(Stop::Denied(refusal), console);
            }
        };
        let config = SessionConfig::new(sink).with_policy(self.settings.policy.clone());
        let session_name = command_line(self.model.app_name(), &args);
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

    /// `--completions`, `--grammar`, `--mcp-tools`, `--capabilities` (flags of the root
    /// command, read from its `matches`): prints and returns
    /// the exit status, or `None` when none was asked for.
    fn introspect(&self, root: &ArgMatches, json: bool, console: &mut Console<'_>) -> Option<Exit> {
        if let Some(shell) = root.get_one::<clap_complete::Shell>(global::COMPLETIONS) {
            let name = self.model.app_name().to_owned();
            // clap_complete panics when its writer fails (a closed pipe: `| head`), so the
            // script is generated into memory and written like every other output.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut self.lock_command(), name, &mut script);
            let _ = console.stdout.write_all(&script);
            return Some(Exit::Success);
        }
        let document = if root.get_flag(global::GRAMMAR) {
            serde_json::to_value(&*self.model).unwrap_or(Value::Null)
        } else if root.get_flag(global::MCP_TOOLS) {
            self.model.to_mcp_tools()
        } else if root.get_flag(global::CAPABILITIES) {
            let table = self.capabilities();
            if !json {
                let _ = console.stdout.write_all(render_table(&table).as_bytes());
                return Some(Exit::Success);
            }
            Value::Array(table)
        } else {
            return None;
        };
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        let _ = writeln!(console.stdout, "{text}");
        Some(Exit::Success)
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
            sinks.push(Arc::new(JsonLinesFile::open(path)?));
        }
        if let Some(path) = flag {
            let file = if agent {
                JsonLinesFile::open_existing(path)?
            } else {
                JsonLinesFile::open(path)?
            };
            sinks.push(Arc::new(file));
        }
        Ok(match sinks.len() {
            0 => Arc::new(MemorySink::new()),
            1 => sinks.remove(0),
            _ => Arc::new(Tee(sinks)),
        })
    }

    /// One row per verb: command, class, risk, band, safety, and what agent mode needs.
    fn capabilities(&self) -> Vec<Value> {
        self.model
            .verbs()
            .map(|(path, verb)| {
                let mut words: Vec<&str> = path.names().collect();
                words.push(verb.name());
                let contract = verb.contract();
                let class = contract.class();
                let agent = match gate::agent_rule(contract, &self.settings.policy) {
                    gate::AgentRule::Free => "yes".to_owned(),
                    gate::AgentRule::Justify(chars) => format!("--justify {chars}+"),
                    gate::AgentRule::Never => "never".to_owned(),
                };
                json!({
                    "command": words.join(" "),
                    "class": class.name(),
                    "risk": class.risk_level(),
                    "band": contract.band().name(),
                    "safety": contract.safety().name(),
                    "agent": agent,
                })
            })
            .collect()
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

/// Records every entry to each of its sinks, in order; the first failure is the error.
#[derive(Debug)]
struct Tee(Vec<Arc<dyn AuditSink>>);

impl AuditSink for Tee {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.0.iter().try_for_each(|sink| sink.record(entry))
    }
}

/// The command line as typed, with the program's name from the grammar, for the session
/// name (so every audit entry says what ran); quoted where a word would be ambiguous and
/// cut at 1,000 characters.
fn command_line(app: &str, args: &[OsString]) -> String {
    const LIMIT: usize = 1_000;
    let mut line = app.to_owned();
    for arg in args.iter().skip(1) {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_alphanumeric() || "-_./:=@,+%".contains(c))
        {
            line.push_str(&arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    if line.chars().count() > LIMIT {
        line = line.chars().take(LIMIT).collect();
        line.push('…');
    }
    line
}

fn render_table(rows: &[Value]) -> String {
    let columns = ["command", "class", "risk", "band", "safety", "agent"];
    let cell = |row: &Value, column: &str| match &row[column] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).len())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(columns.iter().map(|c| (*c).to_owned()).collect());
    for row in rows {
        line(columns.iter().map(|c| cell(row, c)).collect());
    }
    out
}

/// Whether the raw arguments ask for JSON output, for errors found before parsing ends.
fn wants_json(args: &[OsString]) -> bool {
    args.windows(2)
        .any(|pair| pair[0] == "--format" && pair[1] == "json")
        || args.iter().any(|arg| arg == "--format=json")
}

/// Prints a clap error (or help, or version) and returns its exit status.
fn clap_error(err: &clap::Error, json: bool, console: &mut Console<'_>) -> Exit {
    let text = err.render().to_string();
    if err.exit_code() == 0 {
        let _ = console.stdout.write_all(text.as_bytes());
        return Exit::Success;
    }
    if json {
        let message = text.trim_end().trim_start_matches("error: ").to_owned();
        let object = json!({
            "ok": false,
            "exit_code": Exit::Usage.code(),
            "error": { "kind": Exit::Usage.name(), "message": message },
        });
        let _ = writeln!(console.stdout, "{object}");
    } else {
        let _ = console.stderr.write_all(text.as_bytes());
    }
    Exit::Usage
}

/// How the outcome of one call is printed.
struct Report<'a> {
    command: &'a str,
    class: CapabilityClass,
    agent: bool,
    json: bool,
}

impl Report<'_> {
    fn mode(&self) -> &'static str {
        if self.agent { "agent" } else { "human" }
    }

    fn success(&self, output: Output, console: &mut Console<'_>) -> Exit {
        if self.json {
            let object = json!({
                "ok": true,
                "command": self.command,
                "mode": self.mode(),
                "class": self.class.name(),
                "result": output.into_result(),
            });
            let _ = writeln!(console.stdout, "{object}");
        } else if !output.as_text().is_empty() {
            let text = output.as_text();
            let _ = console.stdout.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = console.stdout.write_all(b"\n");
            }
        }
        Exit::Success
    }

    fn stop(&self, stop: Stop, console: &mut Console<'_>) -> Exit {
        let (exit, error) = match stop {
            Stop::Denied(refusal) => (Exit::Denied, self.refusal(&refusal)),
            Stop::NotConfirmed(refusal) => (Exit::ConfirmationRequired, self.refusal(&refusal)),
            Stop::Failed(err) => {
                let exit = err.exit();
                let message = format!("`{}` failed: {err}", self.command);
                (exit, json!({ "message": message }))
            }
        };
        if self.json {
            let mut error = error;
            error["kind"] = Value::from(exit.name());
            let object = json!({
                "ok": false,
                "command": self.command,
                "mode": self.mode(),
                "class": self.class.name(),
                "exit_code": exit.code(),
                "error": error,
            });
            let _ = writeln!(console.stdout, "{object}");
        } else {
            let message = error["message"].as_str().unwrap_or_default();
            let _ = writeln!(console.stderr, "error: {message}");
            if let Some(hint) = error["hint"].as_str() {
                let _ = writeln!(console.stderr, "  to proceed: {hint}");
            }
        }
        exit
    }

    fn refusal(&self, refusal: &gate::Refusal) -> Value {
        let mut value = json!({
            "rule": refusal.rule,
            "message": refusal.message,
            "hint": refusal.hint,
        });
        if let Some((required, given)) = refusal.lengths {
            value["required"] = Value::from(required);
            value["given"] = Value::from(given);
        }
        value
    }
}

/// Where a run reads and writes: the process's own standard streams, environment and
/// terminal ([`Cli::run`]), or buffers for tests and embedding.
///
/// ```
/// use cnv_cli::Console;
///
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let console = Console::new(&mut out, &mut err).with_env("CNV_AGENT", "1");
/// # let _ = console;
/// ```
pub struct Console<'a> {
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    env: Vec<(String, String)>,
    input: Input<'a>,
}

enum Input<'a> {
    /// The process's terminal, if stdin and stderr are one.
    Process,
    /// Nobody to ask.
    None,
    /// A person's answers, one per line, read by the program's own dialog.
    Answers(&'a mut dyn BufRead),
}

impl<'a> Console<'a> {
    /// Output to `stdout` and `stderr`; no environment variables; nobody to ask (a
    /// confirmation is refused as on a non-interactive standard input).
    pub fn new(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            stdout,
            stderr,
            env: Vec::new(),
            input: Input::None,
        }
    }

    fn process(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            input: Input::Process,
            ..Self::new(stdout, stderr)
        }
    }

    /// The same console with the environment variable `name` set to `value`.
    #[must_use]
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The same console with a person's answers to confirmations and approvals, one per
    /// line (a dialog of the program's own, see
    /// [`HumanApproval::confirm_with`]). Never connect it to anything an agent writes.
    #[must_use]
    pub fn with_answers(mut self, answers: &'a mut dyn BufRead) -> Self {
        self.input = Input::Answers(answers);
        self
    }

    /// The variable's value; one that is not UTF-8 is `Some` of its lossy form.
    fn var(&self, name: &str) -> Option<String> {
        match self.input {
            Input::Process => {
                std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
            }
            _ => self
                .env
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone()),
        }
    }

    fn agent_env_is_on(&self, name: &str) -> bool {
        self.var(name).is_some_and(|value| {
            !matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "false" | "no" | "off"
            )
        })
    }
}

impl Prompt for Console<'_> {
    fn is_interactive(&self) -> bool {
        match self.input {
            Input::Process => io::stdin().is_terminal() && io::stderr().is_terminal(),
            Input::None => false,
            Input::Answers(_) => true,
        }
    }

    fn confirm(&mut self, question: &str) -> io::Result<bool> {
        self.stderr.write_all(question.as_bytes())?;
        self.stderr.flush()?;
        let mut answer = String::new();
        match &mut self.input {
            Input::Process => {
                io::stdin().lock().read_line(&mut answer)?;
            }
            Input::Answers(answers) => {
                answers.read_line(&mut answer)?;
            }
            Input::None => return Ok(false),
        }
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    fn approve(&mut self, request: &ApprovalRequest<'_>) -> Result<HumanApproval, ApprovalError> {
        match &mut self.input {
            Input::Process => HumanApproval::confirm_on_terminal(request),
            Input::Answers(answers) => {
                HumanApproval::confirm_with(answers, &mut *self.stderr, request)
            }
            Input::None => Err(ApprovalError::NotATerminal),
        }
    }
}

impl fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match self.input {
            Input::Process => "process",
            Input::None => "none",
            Input::Answers(_) => "answers",
        };
        f.debug_struct("Console")
            .field("env", &self.env)
            .field("input", &input)
            .finish_non_exhaustive()
    }
}
