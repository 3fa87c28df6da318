//! `CliBuilder`: bind handlers, set what the operator decides, and check the bindings
//! against the grammar once, when the command line is built.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Command;
use cnv_audit::AuditSink;
use cnv_caps::{CapabilityClass, CapabilityContract, ResourceBand, TypedContract};
use cnv_grammar::{GrammarErrors, GrammarModel};
use cnv_sandbox::Strictness;
use cnv_sandbox::worker::Budgets;
use cnv_typestate::{EscalationPolicy, TypedClass};

use crate::binding::VerbBinding;
use crate::cli::{Cli, Grammar, NoServer};
use crate::command::{self, GateText};
use crate::execute::Workers;
use crate::gate::{self, Erased};
use crate::invocation::Invocation;
use crate::output::{HandlerError, Output};
use crate::serve::Serve;
use crate::settings::{AgentMode, DEFAULT_AGENT_ENV, Settings};
use crate::typed::{
    self, BindStep, Buildable, CheckedAtBuild, Handler, NamedArgsHandler, NothingBound, OfClass,
    Returned, SameClass, VerbArgs,
};

/// A handler waiting for its verb's contract: [`CliBuilder::build`] hands it the contract
/// the grammar declares, and it keeps the contract typed by its class (`C`), refusing it
/// when the class was not checked already and is not `C`.
type Pending = Box<dyn FnOnce(CapabilityContract) -> Option<Erased> + Send>;

struct Bound {
    command: String,
    class: CapabilityClass,
    handler: Pending,
    /// The grammar the compiler checked the handler's class against (its arguments struct
    /// or `verb!`); `None` on the dynamic path, whose class `build` checks.
    checked_in: Option<&'static GrammarModel>,
    /// For a typed handler: the argument names its struct holds, and how it sets the
    /// value parsers of its verb's subcommand.
    typed: Option<Typed>,
}

struct Typed {
    args: &'static [&'static str],
    configure: fn(Command) -> Command,
}

/// Builds a [`Cli`] from a grammar and one handler per verb.
///
/// Each handler is bound with the capability class of its verb — typed, by
/// [`bind`](Self::bind) with the arguments struct `grammar_dsl!` generated (checked at
/// compile time), or by name with [`bind_verb`](Self::bind_verb) and
/// [`verb!`](crate::verb), or [`handler`](Self::handler) — and [`build`](Self::build)
/// checks everything the compiler could not: a handler bound to a verb the grammar does
/// not have, or with another class, two handlers for one verb, and the grammar rules (no
/// argument takes the name of a global flag, …).
///
/// `B` is what the compiler knows of the handlers bound so far: [`NothingBound`] for a
/// constant grammar before the first binding; the grammar's own state once a typed handler
/// is bound (a grammar in item form: one parameter per verb, and `build` exists only when
/// every verb has a handler, so a forgotten `.bind` is a compile error naming the verb);
/// [`CheckedAtBuild`] for a grammar made at run time or once a handler is bound by name,
/// where a verb without a handler fails when it is called.
///
/// `S` is the server behind the serve flags ([`Serve`]): [`NoServer`] with `cnv-cli`
/// alone, MCP for the facade `cnv`'s builder.
#[must_use = "a builder does nothing until `build` is called"]
pub struct CliBuilder<S = NoServer, B = CheckedAtBuild> {
    grammar: Grammar,
    bound: Vec<Bound>,
    pub(crate) settings: Settings,
    server: S,
    state: PhantomData<fn() -> B>,
}

impl<S: Serve> Cli<S> {
    /// A builder for a constant grammar; same as [`CliBuilder::new`].
    pub fn builder(model: &'static GrammarModel) -> CliBuilder<S, NothingBound> {
        CliBuilder::new(model)
    }
}

impl<S: Serve> CliBuilder<S, NothingBound> {
    /// A command line for a constant grammar (a `grammar_dsl!` static).
    pub fn new(model: &'static GrammarModel) -> Self {
        Self::with(Grammar::Static(model))
    }
}

impl<S: Serve> CliBuilder<S, CheckedAtBuild> {
    /// A command line for a grammar built or loaded at run time: its handlers are checked
    /// when it is built, and a verb without a handler fails when it is called.
    pub fn from_model(model: GrammarModel) -> Self {
        Self::with(Grammar::Owned(Arc::new(model)))
    }
}

impl<S: Serve, B> CliBuilder<S, B> {
    fn with(grammar: Grammar) -> Self {
        Self {
            grammar,
            bound: Vec::new(),
            settings: Settings {
                policy: EscalationPolicy::default(),
                agent_env: DEFAULT_AGENT_ENV.to_owned(),
                agent_mode: AgentMode::default(),
                audit_log: None,
                audit_key: None,
                audit_witnesses: Vec::new(),
                audit_sinks: Vec::new(),
                workspace: None,
                strictness: Strictness::BestEffort,
                sandbox: true,
                budgets: HashMap::new(),
            },
            server: S::default(),
            state: PhantomData,
        }
    }

    /// The same builder in the state `N`.
    fn into_state<N>(self) -> CliBuilder<S, N> {
        CliBuilder {
            grammar: self.grammar,
            bound: self.bound,
            settings: self.settings,
            server: self.server,
            state: PhantomData,
        }
    }

    /// Binds a typed handler: a function that takes the arguments struct `grammar_dsl!`
    /// generated for its verb (`file::Write` for `file write`), after the call when it
    /// needs it: `fn(&Invocation<'_, C>, file::Write)` or `fn(file::Write)`, returning
    /// `Result<Output, HandlerError>`.
    ///
    /// The struct names the verb and its class, so nothing else is needed; the compiler
    /// checks that the function's class is the verb's and that it reads every argument by
    /// its declared name and type. Clap parses each value into its type before the gate
    /// decides (a value the type refuses is a usage error, exit 2).
    ///
    /// ```
    /// use cnv_cli::{Cli, HandlerError, Invocation, Output};
    /// use cnv_caps::ReadWriteFS;
    /// # use cnv_grammar_macros::grammar_dsl;
    ///
    /// grammar_dsl! {
    ///     # crate = cnv_grammar; cli = cnv_cli;
    ///     pub static GRAMMAR = app "notes" {
    ///         noun "file" help "Files" {
    ///             verb "write" {
    ///                 capability: ReadWriteFS, resource: Fast, help: "Write a file",
    ///                 args: [path: String "The file", --content: String "The text"],
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// fn write(call: &Invocation<'_, ReadWriteFS>, args: file::Write) -> Result<Output, HandlerError> {
    ///     Ok(Output::text(format!("{} ← {} bytes ({})", args.path, args.content.len(), call.command())))
    /// }
    ///
    /// fn main() {
    ///     let cli: Cli = Cli::builder(&GRAMMAR).bind(write).build().expect("every verb has a handler");
    ///     # let _ = cli;
    /// }
    /// ```
    pub fn bind<A, C, M, H>(mut self, handler: H) -> CliBuilder<S, A::Next>
    where
        A: VerbArgs + OfClass<C> + BindStep<B>,
        C: TypedClass,
        H: Handler<A, C, M>,
        H::Output: Returned,
    {
        let mut bound =
            bound_handler::<C, _>(A::COMMAND, Some(A::grammar()), typed::untyped(handler));
        bound.typed = Some(Typed {
            args: A::ARGS,
            configure: A::configure,
        });
        self.bound.push(bound);
        self.into_state()
    }

    /// Binds `handler`, which reads its arguments by name (`call.value("path")`), to the
    /// verb of `binding`, with the binding's class `C`: the form for a grammar in
    /// expression form (`static GRAMMAR: GrammarModel = grammar_dsl! { app … }`), which has
    /// no generated argument structs. [`verb!`](crate::verb) checks the verb and its class
    /// at compile time, and the handler's parameter names the same class.
    ///
    /// The handler is a function or a closure; a closure's parameter needs no annotation.
    pub fn bind_verb<C, T>(
        mut self,
        binding: VerbBinding<C>,
        handler: impl NamedArgsHandler<C>
        + Fn(&Invocation<'_, T>) -> Result<Output, HandlerError>
        + SameClass<C, T>,
    ) -> CliBuilder<S, CheckedAtBuild>
    where
        C: TypedClass,
        T: cnv_caps::ConstRisk,
    {
        let bound = bound_handler::<C, _>(binding.command(), binding.checked_in(), handler);
        self.bound.push(bound);
        self.into_state()
    }

    /// Binds `handler` to `command` (nouns then verb: `"file write"`) with class `C`,
    /// checked against the grammar by [`build`](Self::build).
    ///
    /// This is the dynamic path, for a grammar built or loaded at run time (no macro, so
    /// no generated argument structs): the handler reads its arguments by name with
    /// [`Invocation::value`] and friends, and a wrong name or type is found when it runs.
    /// The second type parameter is the class the handler takes its call with, inferred:
    /// write `.handler::<ReadWriteFS, _>(…)`.
    pub fn handler<C, T>(
        mut self,
        command: &str,
        handler: impl NamedArgsHandler<C>
        + Fn(&Invocation<'_, T>) -> Result<Output, HandlerError>
        + SameClass<C, T>,
    ) -> CliBuilder<S, CheckedAtBuild>
    where
        C: TypedClass,
        T: cnv_caps::ConstRisk,
    {
        let bound = bound_handler::<C, _>(command, None, handler);
        self.bound.push(bound);
        self.into_state()
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

    /// Every run appends its audit entries to the hash-chained log at `path` (created if
    /// absent, with its signed head `path.head` beside it), whatever the command line
    /// says; a launcher may name another in [`AUDIT_LOG_ENV`](crate::AUDIT_LOG_ENV) (`CNV_AUDIT_LOG`), which
    /// gets every entry too. No argument can add, move or remove a log. A call whose
    /// entries cannot be written does not run, and no handler's class may reach a log
    /// (rule `audit_out_of_reach`).
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.audit_log = Some(path.into());
        self
    }

    /// The secret key that signs every audit log (made with `cnv-audit keygen`), whatever
    /// the launcher says in [`AUDIT_KEY_ENV`](crate::AUDIT_KEY_ENV) (`CNV_AUDIT_KEY`). A key that cannot be
    /// loaded — missing, malformed, or readable by anyone but its owner — refuses every
    /// call (rule `audit_required`), and no handler's class may reach it (rule
    /// `audit_out_of_reach`).
    pub fn audit_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.audit_key = Some(path.into());
        self
    }

    /// A witness of the audit logs (`http://HOST[:PORT]`, running `cnv-audit witness
    /// serve`), beside any the launcher names in
    /// [`AUDIT_WITNESS_ENV`](crate::AUDIT_WITNESS_ENV) (`CNV_AUDIT_WITNESS`); call it again
    /// for more. Each call's end submits the log's signed checkpoint to every witness in
    /// the background, and a command line submits its last one before it exits; a
    /// witness that is down does not stop calls. A witness needs the audit key
    /// ([`audit_key`](Self::audit_key)): without one, or with a URL that does not read,
    /// every call is refused (rule `audit_required`).
    pub fn audit_witness(mut self, url: impl Into<String>) -> Self {
        self.settings.audit_witnesses.push(url.into());
        self
    }

    /// The workspace: the one directory the file classes may touch, every path of a
    /// handler resolved beneath it and the kernel holding the rest closed. Fixed here, no
    /// launcher or argument can move it; otherwise the launcher names it in
    /// [`WORKSPACE_ENV`](crate::WORKSPACE_ENV) (`CNV_WORKSPACE`), and by default it is the current directory.
    pub fn workspace(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.workspace = Some(path.into());
        self
    }

    /// How strictly the kernel must enforce each class (default
    /// [`Strictness::BestEffort`]: enforce what the kernel can, and say in the audit
    /// trail what it could not). With [`Strictness::Strict`] a call whose class the kernel
    /// cannot fully enforce is refused (rule `sandbox_required`); a launcher can demand it
    /// too with `CNV_SANDBOX=strict`.
    pub fn sandbox(mut self, strictness: Strictness) -> Self {
        self.settings.strictness = strictness;
        self
    }

    /// What one call of `band` may use in its worker process (memory, processes, bytes
    /// written, the answer's size, the console kept), instead of the band's defaults
    /// ([`Budgets::of`], whose table says what each band gets). A launcher can only lower
    /// them (`CNV_BUDGET`).
    ///
    /// ```
    /// use cnv_caps::ResourceBand;
    /// use cnv_cli::{Budgets, Cli};
    /// # let model: &'static cnv_grammar::GrammarModel =
    /// #     Box::leak(Box::new(cnv_grammar::GrammarModel::new("app")));
    /// let mut fast = Budgets::of(ResourceBand::Fast);
    /// fast.output_bytes = 64 << 20; // answers of up to 64 MiB
    /// let builder = Cli::builder(model).budgets(ResourceBand::Fast, fast);
    /// # let _: cnv_cli::CliBuilder<cnv_cli::NoServer, cnv_cli::NothingBound> = builder;
    /// ```
    pub fn budgets(mut self, band: ResourceBand, budgets: Budgets) -> Self {
        self.settings.budgets.insert(band, budgets);
        self
    }

    /// Runs handlers without the kernel sandbox (the scoped workspace handle, the
    /// deadline and the gate remain): only for a program that embeds cnv in a sandbox of
    /// its own, and for measuring what the sandbox costs. Nothing on the command line or
    /// in the environment can turn the sandbox off.
    pub fn without_sandbox(mut self) -> Self {
        self.settings.sandbox = false;
        self
    }

    /// The same builder with the server's settings changed by `configure` (what a
    /// server's own builder methods use: `cnv-mcp`'s idle timeout, say).
    pub fn configure_server(mut self, configure: impl FnOnce(&mut S)) -> Self {
        configure(&mut self.server);
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
    /// There only when the builder is [`Buildable`]: every verb of a grammar in item form
    /// has a typed handler (the compiler names a verb that has none), or the handlers are
    /// checked here ([`CheckedAtBuild`]). A verb left without a handler on that path is
    /// not an error here: `--help`, completions and introspection work, and calling that
    /// verb fails (exit 1) saying it has no handler; [`Cli::unbound`] lists such verbs.
    ///
    /// # Errors
    ///
    /// [`BuildErrors`] with every problem found: an invalid grammar, a handler bound to a
    /// verb the grammar does not have or with another class than the grammar declares,
    /// two handlers for one verb, a typed handler checked against another grammar.
    pub fn build(self) -> Result<Cli<S>, BuildErrors>
    where
        B: Buildable,
    {
        let mut errors = Vec::new();
        if let Err(invalid) = self.grammar.validate() {
            errors.push(BuildError::InvalidGrammar(invalid));
        }
        // Every verb's command (`"file write"`) and contract, in declaration order.
        let declared: Vec<(String, CapabilityContract)> = self
            .grammar
            .verbs()
            .map(|(path, verb)| (path.command(verb), verb.contract()))
            .collect();
        let contracts: HashMap<&str, CapabilityContract> = declared
            .iter()
            .map(|(command, contract)| (command.as_str(), *contract))
            .collect();
        let mut handlers: HashMap<String, Erased> = HashMap::with_capacity(declared.len());
        let mut mismatched = Vec::new();
        let mut configure = Vec::new();
        for bound in self.bound {
            let Some(contract) = contracts.get(bound.command.as_str()) else {
                errors.push(BuildError::UnknownVerb {
                    suggestion: cnv_caps::__private::closest(
                        &bound.command,
                        declared.iter().map(|(c, _)| c.as_str()),
                    )
                    .map(str::to_owned),
                    command: bound.command,
                });
                continue;
            };
            if handlers.contains_key(&bound.command) {
                errors.push(BuildError::DuplicateHandler {
                    command: bound.command,
                });
                continue;
            }
            // A binding the compiler checked holds for the grammar it was checked in only.
            if let Some(checked_in) = bound.checked_in
                && !std::ptr::eq(checked_in, &*self.grammar)
            {
                let declared_args: Vec<&str> = self
                    .grammar
                    .find(&bound.command.split(' ').collect::<Vec<_>>())
                    .map(|verb| {
                        // The verb's own arguments, then the program's global ones, as
                        // the item form's structs hold them.
                        verb.args()
                            .iter()
                            .chain(self.grammar.args())
                            .map(cnv_grammar::GrammarArgument::name)
                            .collect()
                    })
                    .unwrap_or_default();
                mismatched.push(bound.command.clone());
                errors.push(BuildError::ForeignGrammar {
                    command: bound.command,
                    declared: declared_args.join(", "),
                    taken: bound.typed.map(|typed| typed.args.join(", ")),
                });
                continue;
            }
            if let Some(typed) = &bound.typed {
                configure.push((bound.command.clone(), typed.configure));
            }
            // The handler keeps the contract typed by its own class, or refuses it: a
            // handler never runs under a contract of another class.
            match (bound.handler)(*contract) {
                Some(handler) => {
                    handlers.insert(bound.command, handler);
                }
                None => {
                    mismatched.push(bound.command.clone());
                    errors.push(BuildError::CapabilityMismatch {
                        command: bound.command,
                        declared: contract.class(),
                        bound: bound.class,
                    });
                }
            }
        }
        if !errors.is_empty() {
            return Err(BuildErrors(errors));
        }
        let mut command = command::build(
            &self.grammar,
            &GateText {
                policy: &self.settings.policy,
                agent_env: &self.settings.agent_env,
                http_help: S::HTTP_HELP,
            },
        );
        for (verb, configure) in configure {
            let words: Vec<&str> = verb.split(' ').collect();
            command = command::configure_verb(command, &words, configure);
        }
        // Built once: clap propagates the global flags through the whole tree when a
        // command is built, and every run parses with this same command (no clone).
        command.build();
        let env_clauses = self.grammar.args().iter().any(|arg| arg.env().is_some())
            || self
                .grammar
                .verbs()
                .any(|(_, verb)| verb.args().iter().any(|arg| arg.env().is_some()));
        Ok(Cli {
            env_clauses,
            grammar: self.grammar,
            handlers: Arc::new(handlers),
            command: Arc::new(Mutex::new(command)),
            workers: Arc::new(Workers::new(self.settings.operator_vars())),
            settings: Arc::new(self.settings),
            logs: Arc::default(),
            server: Arc::new(self.server),
        })
    }
}

/// `handler` bound to `command` with class `C`; `checked_in` is the grammar the compiler
/// checked `C` against, if it did.
fn bound_handler<C, F>(
    command: &str,
    checked_in: Option<&'static GrammarModel>,
    handler: F,
) -> Bound
where
    C: TypedClass,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
    let compiler_checked = checked_in.is_some();
    Bound {
        command: command.to_owned(),
        class: C::CLASS,
        handler: Box::new(move |contract| {
            // The one run-time decision about a handler's class, for the dynamic path
            // only; `build` holds a checked binding to the grammar it was checked in.
            let contract = if compiler_checked {
                TypedContract::__checked_by_the_compiler(contract)
            } else {
                contract.try_into().ok()?
            };
            Some(gate::erase::<C, F>(contract, handler))
        }),
        checked_in,
        typed: None,
    }
}

impl<S: Serve, B> fmt::Debug for CliBuilder<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliBuilder")
            .field("app", &self.grammar.app_name())
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
        "the handler of `{command}` is bound as `{bound}`, but the grammar declares the verb with `{declared}`; bind it with `{declared}` (its handler takes `&Invocation<'_, {declared}>`), or change the grammar"
    )]
    CapabilityMismatch {
        /// The command.
        command: String,
        /// The class in the grammar.
        declared: CapabilityClass,
        /// The class of the binding.
        bound: CapabilityClass,
    },
    /// A handler whose class the compiler checked against one grammar (through its
    /// verb's arguments struct, or `verb!`) is bound to a command line made from another.
    #[error(
        "the handler of `{command}` was checked against another grammar than this command line's{}; build the command line from the grammar the handler was checked against (whose `grammar_dsl!` generated its arguments struct, or that `verb!` names)",
        taken.as_ref().map(|taken| format!(" (it takes the arguments {taken}; this grammar declares {declared})")).unwrap_or_default()
    )]
    ForeignGrammar {
        /// The command.
        command: String,
        /// The argument names this command line's grammar declares, comma-separated.
        declared: String,
        /// The argument names the handler's struct holds, comma-separated (a typed
        /// handler's).
        taken: Option<String>,
    },
    /// Two handlers for one verb.
    #[error("`{command}` has two handlers; bind each verb once")]
    DuplicateHandler {
        /// The command.
        command: String,
    },
}

/// Every problem [`CliBuilder::build`] found, in order: the grammar, then the bindings.
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
