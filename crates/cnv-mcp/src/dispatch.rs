//! From the protocol's async tasks to `Cli::call`: a bounded queue of calls and the
//! dispatcher threads that take them.
//!
//! `Cli::call` is synchronous (it waits for a handler on a confined worker thread) and
//! the server holds the `Cli` by reference, which no `'static` task may. So the tasks
//! queue each call with a channel for its answer, and a fixed set of threads, scoped to
//! the serving call and holding `&Cli`, run them. The queue is bounded: when every
//! dispatcher is busy and the queue is full, a task waits to queue its call
//! (backpressure reaches the client as a slower answer, never as unbounded memory).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};

use cnv_audit::CallOrigin;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use cnv_cli::{AgentCall, CallOutcome, CancelToken, Cli, HandlerError};

use crate::Mcp;

/// What a `tools/call` names.
pub(crate) enum Called {
    /// A verb: its command (`"file write"`).
    Command(String),
    /// A name no tool has, as the client sent it: refused, and recorded in the trail.
    Unknown(String),
}

/// One `tools/call`, on its way to a dispatcher.
pub(crate) struct Job {
    /// The tool called.
    pub(crate) tool: Called,
    /// The tool's arguments, as the client sent them.
    pub(crate) arguments: Map<String, Value>,
    /// The MCP session and its client.
    pub(crate) origin: CallOrigin,
    /// Cancelled when the client cancels the request (or goes away).
    pub(crate) cancel: CancelToken,
    /// Where the outcome goes.
    pub(crate) reply: oneshot::Sender<CallOutcome>,
}

/// The receiving end the dispatchers share: one waits on the channel at a time.
pub(crate) type Jobs = Mutex<mpsc::Receiver<Job>>;

/// A queue of calls for `dispatchers` dispatchers.
pub(crate) fn queue(dispatchers: usize) -> (mpsc::Sender<Job>, Jobs) {
    let (sender, receiver) = mpsc::channel(dispatchers * 4);
    (sender, Mutex::new(receiver))
}

/// A dispatcher's life: take calls until every sender is gone.
pub(crate) fn serve(cli: &Cli<Mcp>, jobs: &Jobs) {
    loop {
        let job = jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocking_recv();
        let Some(job) = job else {
            return;
        };
        if job.reply.is_closed() {
            // The request was cancelled or its client went away while the call waited:
            // the call stops before the gate, and the trail says so.
            job.cancel.cancel();
        }
        let (Called::Command(name) | Called::Unknown(name)) = &job.tool;
        let call = AgentCall::new(name, &job.arguments)
            .with_origin(job.origin)
            .with_cancel(job.cancel);
        // Nothing a client sends may take the server down: a panic in cnv's own code is
        // this call's failure, and the dispatcher goes on.
        let outcome = catch_unwind(AssertUnwindSafe(|| match &job.tool {
            Called::Command(_) => cli.call(&call),
            Called::Unknown(_) => cli.refuse_unknown(&call),
        }))
        .unwrap_or_else(|_| {
            CallOutcome::Failed(HandlerError::msg(
                "the call failed inside the server (a bug in cnv); the server goes on",
            ))
        });
        let _ = job.reply.send(outcome);
    }
}
