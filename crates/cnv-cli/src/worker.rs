//! The worker process's side of a call: the program, started again as a worker by its
//! command line (`execute.rs`), serves calls instead of parsing its own arguments.
//!
//! Its `main` builds the same `Cli` and reaches [`Cli::run`] (or a server), which asks
//! [`Cli::serve_as_worker_if_asked`] first: in a worker, that confines the process as the
//! command line says (`cnv-sandbox`'s `worker::serve`) and answers each call it is sent
//! by running the verb's handler, then exits; anywhere else it returns at once, and the
//! command line may start workers of itself from then on.

use std::collections::HashSet;
use std::io;

use cnv_sandbox::worker::{self, WorkerContext};
use cnv_sandbox::{Grant, Workspace, WorkspaceAccess};

use crate::cli::Cli;
use crate::console::{Console, Vars};
use crate::execute::worker_spec;
use crate::gate::WorkerCall;
use crate::protocol::{Reply, Request, os_argv};
use crate::serve::Serve;
use crate::settings::BUDGET_ENV;

impl<S: Serve> Cli<S> {
    /// In a worker process of this program, serves calls and exits (it never returns);
    /// in any other process, returns at once, and from then on this program's handlers
    /// run in worker processes it starts of itself (see the crate documentation).
    ///
    /// [`run`](Self::run), [`run_args`](Self::run_args) and the servers call it first: a
    /// program that only calls [`call`](Self::call) (a server of its own) calls it at the
    /// top of `main`, before it starts any thread, after building the `Cli` exactly as
    /// every start of the program does. Without it, handlers run on confined threads of
    /// the calling process, which an overrun cannot kill.
    pub fn serve_as_worker_if_asked(&self) {
        if worker::is_worker() {
            worker::serve(&mut |request, context| self.answer(request, context).encode());
        }
        crate::execute::enable_worker_processes();
    }

    /// Starts one worker process for every kind of call the grammar has (each class and
    /// band its verbs declare), so that a server's first calls do not wait for a worker
    /// to start; and from then on, starts a worker in place of every one that is killed.
    /// The servers call it when they start; a worker that cannot be started now is
    /// started by the first call that needs it (and its error is that call's).
    pub fn prestart_workers(&self) {
        let (mut out, mut err) = (io::sink(), io::sink());
        let console = Console::new(&mut out, &mut err);
        let path = self.workspace(&console);
        let strictness = self.strictness(&console);
        let launcher = console.var(BUDGET_ENV);
        let mut kinds = HashSet::new();
        let mut specs = Vec::new();
        for (_, verb) in self.grammar.verbs() {
            let contract = verb.contract();
            let (class, band) = (contract.class(), contract.band());
            if !kinds.insert((class, band)) {
                continue;
            }
            let Ok(budgets) = self.settings.budgets(band, launcher.as_deref()) else {
                continue;
            };
            let workspace = if Grant::of(class).filesystem.handle() == WorkspaceAccess::None {
                None
            } else {
                match Workspace::open(&path) {
                    Ok(workspace) => Some(workspace),
                    Err(_) => continue,
                }
            };
            specs.push(worker_spec(
                class,
                band,
                budgets,
                workspace.as_ref(),
                strictness,
            ));
        }
        self.workers.prestart(&specs);
    }

    /// The answer to one call the command line sent.
    fn answer(&self, request: &[u8], context: &WorkerContext<'_>) -> Reply {
        let failed = |message: String| Reply::Failed {
            message,
            usage: false,
        };
        let Some(request) = Request::decode(request) else {
            return failed("the worker process could not read the call it was sent".to_owned());
        };
        let parsed = self
            .lock_command()
            .try_get_matches_from_mut(os_argv(&request.argv));
        let matches = match parsed {
            Ok(matches) => matches,
            Err(err) => {
                return failed(format!(
                    "the worker process could not parse the call it was sent ({}); the program must build the same command line at every start",
                    err.kind()
                ));
            }
        };
        let mut leaf = &matches;
        while let Some((_, sub)) = leaf.subcommand() {
            leaf = sub;
        }
        let words: Vec<&str> = request.command.split(' ').collect();
        let (Some(verb), Some(handler)) = (
            self.grammar.find(&words),
            self.handlers.get(&request.command),
        ) else {
            return failed(format!(
                "the worker process has no verb `{}`; the program must build the same command line at every start",
                request.command
            ));
        };
        let vars = Vars::of_process(&self.settings.operator_vars());
        let result = (handler.in_worker)(WorkerCall {
            command: &request.command,
            verb,
            globals: self.grammar.args(),
            matches: leaf,
            session: &request.session,
            session_id: request.session_id,
            mode: request.mode,
            justification: request.justification.as_deref(),
            workspace: context.workspace,
            vars: &vars,
        });
        match result {
            Ok(output) => Reply::Output {
                text: output.as_text().to_owned(),
                data: output.data().map(ToString::to_string),
            },
            Err(err) => Reply::Failed {
                message: err.to_string(),
                usage: err.is_usage(),
            },
        }
    }
}
