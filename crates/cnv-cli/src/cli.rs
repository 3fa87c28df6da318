//! `Cli`: a command line made from a grammar, its handlers and the operator's settings.
//! Running it is `run.rs` (the command line) and `call.rs` (a call on an agent's
//! behalf), both through `dispatch.rs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use clap::Command;
use cnv_grammar::GrammarModel;

use crate::audit::OpenLogs;
use crate::execute::Workers;
use crate::gate::Erased;
use crate::settings::Settings;

/// The grammar a command line is made from: a constant or a model built at run time.
pub(crate) enum Grammar {
    Static(&'static GrammarModel),
    Owned(Arc<GrammarModel>),
}

impl Clone for Grammar {
    fn clone(&self) -> Self {
        match self {
            Self::Static(model) => Self::Static(model),
            Self::Owned(model) => Self::Owned(Arc::clone(model)),
        }
    }
}

impl std::ops::Deref for Grammar {
    type Target = GrammarModel;

    fn deref(&self) -> &GrammarModel {
        match self {
            Self::Static(model) => model,
            Self::Owned(model) => model,
        }
    }
}

/// No server: the serve flags are refused with a usage error (exit 2) that says how to
/// get one. The server of a command line made with `cnv-cli` alone (its
/// [`Serve`](crate::Serve) implementation is beside the trait).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoServer;

/// A command line made from a grammar and its handlers: parsing, `--help`, completions
/// and usage errors are clap's; the capability gate, the audit trail and the output
/// format are cnv's. See the crate documentation for the flags and exit codes.
///
/// `S` is the server behind the serve flags ([`Serve`](crate::Serve)): [`NoServer`] for a
/// command line made with `cnv-cli` alone, MCP for the facade `cnv`'s `Cli`. With
/// `cnv-cli` alone, name the type where a command line is built (`let cli: Cli = …`), as
/// the builder's server is otherwise not known.
///
/// A clone is the same command line (its handlers, settings, workers and open logs are
/// shared), for a server that hands one to each of its tasks.
pub struct Cli<S = NoServer> {
    pub(crate) grammar: Grammar,
    pub(crate) handlers: Arc<HashMap<String, Erased>>,
    /// Parsing needs `&mut Command`; the lock is held only while clap parses or renders.
    pub(crate) command: Arc<Mutex<Command>>,
    pub(crate) settings: Arc<Settings>,
    /// The confined workers that run handlers, by class and workspace.
    pub(crate) workers: Arc<Workers>,
    /// The audit logs opened so far, kept open for the next call.
    pub(crate) logs: Arc<OpenLogs>,
    /// The server behind the serve flags, with the operator's settings for it.
    pub(crate) server: Arc<S>,
    /// Whether any argument reads an environment variable (an `env:` clause).
    pub(crate) env_clauses: bool,
}

impl<S> Clone for Cli<S> {
    fn clone(&self) -> Self {
        Self {
            grammar: self.grammar.clone(),
            handlers: Arc::clone(&self.handlers),
            command: Arc::clone(&self.command),
            settings: Arc::clone(&self.settings),
            workers: Arc::clone(&self.workers),
            logs: Arc::clone(&self.logs),
            server: Arc::clone(&self.server),
            env_clauses: self.env_clauses,
        }
    }
}

impl<S> Cli<S> {
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
        &self.grammar
    }

    /// The verbs without a handler (`"note add"`: nouns, then the verb), in the grammar's
    /// order: possible only when the handlers were checked when the command line was built
    /// (a grammar made at run time, or a handler bound by name). Calling one fails with
    /// exit code 1, saying so; `--help` and introspection show it as declared. A program
    /// or its test can assert that none is left.
    #[must_use]
    pub fn unbound(&self) -> Vec<String> {
        self.grammar
            .verbs()
            .map(|(path, verb)| path.command(verb))
            .filter(|command| !self.handlers.contains_key(command))
            .collect()
    }
}

impl<S> fmt::Debug for Cli<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("app", &self.grammar.app_name())
            .field("verbs", &self.handlers.len())
            .field("agent_mode", &self.settings.agent_mode)
            .finish_non_exhaustive()
    }
}
