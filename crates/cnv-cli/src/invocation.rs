//! `Invocation`: what a handler receives — a session that holds the verb's capability,
//! and the parsed arguments.

use core::any::type_name;
use core::fmt;
use core::str::FromStr;

use clap::ArgMatches;
use cnv_caps::{ConstRisk, Environment, Subprocess};
use cnv_grammar::GrammarVerb;
use cnv_sandbox::{Workspace, WorkspaceHandle};
use cnv_typestate::SessionRef;

use crate::console::Vars;
use crate::output::{ArgError, HandlerError, type_label};

/// One call of a verb, handed to its handler.
///
/// `C` is the capability class the handler was bound with, which is the class the
/// grammar declares for the verb (checked when the command line is built, or at compile
/// time with [`verb!`](crate::verb)). [`session`](Self::session) is a type-state session
/// that holds `C` — reached by verification or by a justified escalation — and the
/// handler runs inside its [`execute`](cnv_typestate::SessionRef::execute).
///
/// A handler of a file class reaches the operator's workspace only through
/// [`workspace`](Invocation::<ReadOnlyFS>::workspace): a directory handle beneath which
/// every path is resolved (`..`, absolute paths and links out of it fail), read-only for
/// `ReadOnlyFS`. Handlers of `Pure`, `Environment` and `Network` get no handle at all.
///
/// Arguments are read by name (the dynamic path, for a grammar built at run time) and
/// parsed into the type the handler asks for with `FromStr`; a grammar declared with
/// `grammar_dsl!` in item form gives its handlers typed argument structs instead (see
/// [`CliBuilder::bind`](crate::CliBuilder::bind)).
pub struct Invocation<'a, C: ConstRisk> {
    pub(crate) session: SessionRef<'a, C>,
    pub(crate) command: &'a str,
    pub(crate) verb: &'a GrammarVerb,
    /// The program's global arguments, which the handler reads like the verb's own.
    pub(crate) globals: &'a [cnv_grammar::GrammarArgument],
    pub(crate) matches: &'a ArgMatches,
    pub(crate) agent: bool,
    pub(crate) justification: Option<&'a str>,
    pub(crate) workspace: Option<&'a Workspace>,
    /// The environment the call sees.
    pub(crate) vars: &'a Vars,
}

/// The error when a handler of a file class runs without the operator's workspace (a
/// command line never runs one that way).
fn no_workspace() -> HandlerError {
    HandlerError::msg(
        "this call has no workspace; the operator sets it with `CliBuilder::workspace` or `CNV_WORKSPACE`",
    )
}

impl Invocation<'_, Environment> {
    /// The environment variable `name`, as the call sees it: the process's environment
    /// (in a test, the test console's variables only, [`Console::with_env`](crate::Console::with_env));
    /// never one of the operator's settings (`CNV_AUDIT_LOG`, `CNV_AUDIT_KEY`,
    /// `CNV_WORKSPACE`, `CNV_SANDBOX`, `CNV_BUDGET`, the agent variable). `None` when it is
    /// not set; a value that is not UTF-8 is read lossily.
    #[must_use]
    pub fn env(&self, name: &str) -> Option<String> {
        self.vars.get(name)
    }
}

impl Invocation<'_, Subprocess> {
    /// A program to run in the workspace, set up as the sandbox runs programs: its working
    /// directory the workspace, a clean environment (`PATH` the system's, `HOME` and
    /// `TMPDIR` the workspace, `LANG=C.UTF-8`: so `git` finds no `~/.gitconfig` outside
    /// it), standard input empty, standard output and error captured (`.output()` returns
    /// them). Add its arguments and run it:
    ///
    /// ```no_run
    /// # use cnv_cli::{HandlerError, Invocation, Output};
    /// # use cnv_caps::Subprocess;
    /// fn status(call: &Invocation<'_, Subprocess>) -> Result<Output, HandlerError> {
    ///     let out = call.program("git")?.args(["status", "--short"]).output()?;
    ///     Ok(Output::text(String::from_utf8_lossy(&out.stdout)))
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// When the call has no workspace (a command line always gives one).
    pub fn program(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Result<std::process::Command, HandlerError> {
        let workspace = self.workspace.ok_or_else(no_workspace)?;
        let mut command = std::process::Command::new(program);
        command
            .current_dir(workspace.path())
            .env_clear()
            .envs(cnv_sandbox::worker::program_env(Some(workspace.path())))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        Ok(command)
    }
}

impl<'a, C: WorkspaceHandle> Invocation<'a, C> {
    /// The operator's workspace, as the handle the class receives
    /// ([`WorkspaceHandle`]): a [`ReadOnlyDir`](cnv_sandbox::ReadOnlyDir) that offers no
    /// way to write for `ReadOnlyFS`, the workspace's [`Dir`](cnv_sandbox::cap_std::fs::Dir)
    /// for `ReadWriteFS`, `Subprocess` and `Dangerous`. Every path is resolved beneath it
    /// (`..`, absolute paths and links out of it fail, whatever the kernel allows); the
    /// other classes have no workspace.
    ///
    /// # Errors
    ///
    /// When the call has no workspace (not through a command line).
    pub fn workspace(&self) -> Result<C::Handle<'a>, HandlerError> {
        self.workspace.map(C::handle).ok_or_else(no_workspace)
    }
}

impl<'a, C: ConstRisk> Invocation<'a, C> {
    /// The session the handler runs under: it holds `C`.
    #[must_use]
    pub fn session(&self) -> &SessionRef<'a, C> {
        &self.session
    }

    /// The command, nouns then verb: `"file write"`.
    #[must_use]
    pub fn command(&self) -> &str {
        self.command
    }

    /// The verb's declaration in the grammar.
    #[must_use]
    pub fn verb(&self) -> &GrammarVerb {
        self.verb
    }

    /// Whether the command line runs in agent mode (`--agent` or the agent environment
    /// variable).
    #[must_use]
    pub fn is_agent_mode(&self) -> bool {
        self.agent
    }

    /// The `--justify` text, if one was given.
    #[must_use]
    pub fn justification(&self) -> Option<&str> {
        self.justification
    }

    /// The value of the argument `name`, parsed into `T` (the given value, or else the
    /// declared default).
    ///
    /// # Errors
    ///
    /// [`ArgError::Unknown`] if the verb declares no such argument (the handler's
    /// mistake: exit 1 when returned with `?`), [`ArgError::Missing`] if it was not given
    /// and has no default, and [`ArgError::Invalid`] if the value does not parse into `T`
    /// (the caller's: exit 2).
    pub fn value<T>(&self, name: &str) -> Result<T, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.optional(name)?.ok_or_else(|| ArgError::Missing {
            command: self.command.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The value of the argument `name` parsed into `T`, or `None` when it was not given
    /// and has no default.
    ///
    /// # Errors
    ///
    /// As [`value`](Self::value), except that an absent value is `Ok(None)`.
    pub fn optional<T>(&self, name: &str) -> Result<Option<T>, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.values(name)?.into_iter().next())
    }

    /// Every value of the argument `name` (a repeatable option or the last positional),
    /// each parsed into `T`; empty when none was given.
    ///
    /// # Errors
    ///
    /// [`ArgError::Unknown`] if the verb declares no such argument, and
    /// [`ArgError::Invalid`] if a value does not parse into `T`.
    pub fn values<T>(&self, name: &str) -> Result<Vec<T>, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.raw(name)?
            .into_iter()
            .map(|raw| {
                raw.parse::<T>().map_err(|err| ArgError::Invalid {
                    command: self.command.to_owned(),
                    name: name.to_owned(),
                    value: raw.to_owned(),
                    type_name: type_label(type_name::<T>()),
                    reason: err.to_string(),
                })
            })
            .collect()
    }

    /// Whether the switch `name` (a named `bool` argument) was given.
    ///
    /// # Errors
    ///
    /// [`ArgError::Unknown`] if the verb declares no such argument, and
    /// [`ArgError::Invalid`] if it is not a `bool`.
    pub fn flag(&self, name: &str) -> Result<bool, ArgError> {
        Ok(self.optional::<bool>(name)?.unwrap_or(false))
    }

    /// The raw text values of `name`, defaults included.
    fn raw(&self, name: &str) -> Result<Vec<&'a str>, ArgError> {
        if self.verb.arg(name).is_none() && !self.globals.iter().any(|arg| arg.name() == name) {
            return Err(ArgError::Unknown {
                command: self.command.to_owned(),
                name: name.to_owned(),
                declared: if self.verb.args().is_empty() {
                    "none".to_owned()
                } else {
                    self.verb
                        .args()
                        .iter()
                        .map(|arg| format!("`{}`", arg.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        }
        // Declared in the grammar, so declared to clap: absent means not given.
        let Ok(Some(values)) = self.matches.try_get_raw(name) else {
            return Ok(Vec::new());
        };
        values
            .map(|value| {
                value.to_str().ok_or_else(|| ArgError::NotUtf8 {
                    command: self.command.to_owned(),
                    name: name.to_owned(),
                })
            })
            .collect()
    }
}

impl<C: ConstRisk> fmt::Debug for Invocation<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("command", &self.command)
            .field("class", &C::CLASS)
            .field("agent", &self.agent)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}
