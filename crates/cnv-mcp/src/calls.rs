//! From a `tools/call` to `Cli::call`: the places a call waits for (one of its session's,
//! one of the server's), the thread it runs on, and the promise that every call the
//! server took reaches `Cli::call`, so that every try is in the audit trail.
//!
//! `Cli::call` is synchronous: it waits for the handler's answer from a confined worker
//! process, up to the verb's band. The server owns a clone of the `Cli` (its parts are
//! shared), so a call runs on a thread of the runtime's blocking pool (`spawn_blocking`),
//! with no hand-off through a queue of our own. The places bound what runs at once (the
//! session's, then the server's [`McpServer::MAX_CONCURRENT_CALLS`](crate::McpServer::MAX_CONCURRENT_CALLS));
//! a call waiting for one holds only its request.
//!
//! A call is a [`Job`] from the moment the server takes it: run, it is handed to
//! `Cli::call`; cancelled before it got its places, it is handed to `Cli::call` with its
//! token cancelled (which records it as cancelled before the gate); dropped unrun (the
//! server stopping under it), its `Drop` does the same. The server waits for the jobs
//! under way before it returns ([`Calls::wait_idle`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cnv_audit::CallOrigin;
use cnv_cli::{AgentCall, CallOutcome, CancelToken, Cli, HandlerError, TraceContext};
use serde_json::{Map, Value};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::Mcp;
use crate::elicit::Elicitor;

/// When a request was read: a call's band runs from here ([`AgentCall::with_arrival`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arrival(pub(crate) Instant);

/// What a `tools/call` names.
#[derive(Debug)]
pub(crate) enum Called {
    /// A verb: its command (`"file write"`).
    Command(String),
    /// A name no tool has, as the client sent it: refused, and recorded in the trail.
    Unknown(String),
    /// A verb refused before the gate by the server's own rule (a quota): its command
    /// and the refusal, recorded in the trail; it takes no place among the calls.
    Refused {
        command: String,
        refusal: cnv_cli::Refusal,
    },
}

/// The calls of one server: the places of those that run, and the count of those under
/// way (taken, not yet recorded), which a server that stops waits for.
#[derive(Debug)]
pub(crate) struct Calls {
    running: Arc<Semaphore>,
    under_way: Mutex<usize>,
    ended: Condvar,
}

impl Calls {
    /// The calls of a server that runs at most `running` at once.
    pub(crate) fn new(running: usize) -> Arc<Self> {
        Arc::new(Self {
            running: Arc::new(Semaphore::new(running)),
            under_way: Mutex::new(0),
            ended: Condvar::new(),
        })
    }

    /// Waits until no call is under way, or `limit` has passed.
    pub(crate) fn wait_idle(&self, limit: Duration) {
        let until = Instant::now() + limit;
        let mut under_way = self
            .under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *under_way > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            under_way = self
                .ended
                .wait_timeout(under_way, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn enter(&self) {
        *self
            .under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
    }

    fn leave(&self) {
        let mut under_way = self
            .under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *under_way -= 1;
        if *under_way == 0 {
            self.ended.notify_all();
        }
    }
}

/// A count of things under way that someone may wait to see fall: a session's calls.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    value: AtomicUsize,
    fell: Notify,
}

impl Counter {
    /// How many are under way.
    pub(crate) fn get(&self) -> usize {
        self.value.load(Ordering::SeqCst)
    }

    /// One more, until the returned ticket (and every clone of it) is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> Ticket {
        self.value.fetch_add(1, Ordering::SeqCst);
        Ticket(Arc::new(Entered(Arc::clone(self))))
    }

    /// Waits until fewer than `limit` are under way (cancel-safe).
    pub(crate) async fn below(&self, limit: usize) {
        loop {
            let fell = self.fell.notified();
            tokio::pin!(fell);
            fell.as_mut().enable();
            if self.get() < limit {
                return;
            }
            fell.await;
        }
    }
}

/// One thing counted by a [`Counter`] while it lasts; clones share it (a request's
/// extensions are cloned).
#[derive(Clone, Debug)]
pub(crate) struct Ticket(#[allow(dead_code, reason = "held for its Drop")] Arc<Entered>);

#[derive(Debug)]
struct Entered(Arc<Counter>);

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.value.fetch_sub(1, Ordering::SeqCst);
        self.0.fell.notify_waiters();
    }
}

/// One call the server took, on its way to `Cli::call`, which it reaches exactly once
/// (see the module documentation).
pub(crate) struct Job {
    cli: Cli<Mcp>,
    tool: Called,
    arguments: Map<String, Value>,
    origin: CallOrigin,
    cancel: CancelToken,
    arrival: Instant,
    /// The caller's trace, which the call's spans continue.
    trace: Option<TraceContext>,
    calls: Arc<Calls>,
    /// Whether it was handed to `Cli::call` (then `Drop` does nothing more).
    handed: bool,
    /// Its places, and its session's ticket: released when it ends.
    places: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
    /// The person at the client who answers what needs a person, if the call has one.
    supervisor: Option<Arc<Elicitor>>,
    _ticket: Ticket,
}

impl Job {
    /// A call of `tool` the server took, under way (and counted by `calls`) until it is
    /// recorded; `ticket` counts it in its session until then.
    #[allow(
        clippy::too_many_arguments,
        reason = "a call's parts, named where it is made"
    )]
    pub(crate) fn new(
        cli: Cli<Mcp>,
        calls: &Arc<Calls>,
        tool: Called,
        arguments: Map<String, Value>,
        origin: CallOrigin,
        cancel: CancelToken,
        arrival: Instant,
        ticket: Ticket,
    ) -> Self {
        calls.enter();
        Self {
            cli,
            tool,
            arguments,
            origin,
            cancel,
            arrival,
            trace: None,
            calls: Arc::clone(calls),
            handed: false,
            places: None,
            supervisor: None,
            _ticket: ticket,
        }
    }

    /// The same call, continuing the caller's trace `trace`.
    pub(crate) fn with_trace(mut self, trace: Option<TraceContext>) -> Self {
        self.trace = trace;
        self
    }

    /// The same call, supervised by the person `supervisor` asks (if any).
    pub(crate) fn with_supervisor(mut self, supervisor: Option<Arc<Elicitor>>) -> Self {
        self.supervisor = supervisor;
        self
    }

    /// Waits for a place among its session's calls (`session`) and then among the
    /// server's, and runs the call; or, when `ct` (the client's cancel) comes first, hands
    /// the call to `Cli::call` cancelled, so that it is recorded. `None`: cancelled, no
    /// answer is due.
    pub(crate) async fn run(
        mut self,
        session: &Arc<Semaphore>,
        ct: &CancellationToken,
    ) -> Option<CallOutcome> {
        if !matches!(self.tool, Called::Refused { .. }) {
            match places(session, &self.calls.running, ct).await {
                Some(places) => self.places = Some(places),
                None => self.cancel.cancel(),
            }
        }
        let cancel = self.cancel.clone();
        let handle = tokio::task::spawn_blocking(move || self.call());
        tokio::select! {
            joined = handle => {
                let outcome = joined.unwrap_or_else(|_| failed_inside());
                (!ct.is_cancelled()).then_some(outcome)
            }
            // The call goes on to its end (cancelled, it ends soon) and is recorded; no
            // answer is sent for a cancelled request.
            () = ct.cancelled() => {
                cancel.cancel();
                None
            }
        }
    }

    /// Hands the call to `Cli::call` (or, for an unknown tool, `Cli::refuse_unknown`).
    fn call(mut self) -> CallOutcome {
        self.handed = true;
        let origin = std::mem::replace(&mut self.origin, CallOrigin::Program);
        let supervisor = self.supervisor.take();
        self.hand_over(origin, supervisor.as_deref())
    }

    /// Hands the call to the command line, supervised by `supervisor` if given.
    fn hand_over(&self, origin: CallOrigin, supervisor: Option<&Elicitor>) -> CallOutcome {
        let (Called::Command(name) | Called::Unknown(name) | Called::Refused { command: name, .. }) =
            &self.tool;
        let mut call = AgentCall::new(name, &self.arguments)
            .with_origin(origin)
            .with_cancel(self.cancel.clone())
            .with_arrival(self.arrival)
            .with_trace_context(self.trace.clone());
        if let Some(supervisor) = supervisor {
            call = call.with_supervisor(supervisor);
        }
        // Nothing a client sends may take the server down: a panic in cnv's own code is
        // this call's failure, and the server goes on.
        catch_unwind(AssertUnwindSafe(|| match &self.tool {
            Called::Command(_) => self.cli.call(&call),
            Called::Unknown(_) => self.cli.refuse_unknown(&call),
            Called::Refused { refusal, .. } => self.cli.refuse(&call, refusal.clone()),
        }))
        .unwrap_or_else(|_| failed_inside())
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if !self.handed {
            // Never run (the server stopped under it): cancelled before the gate, and
            // recorded as such.
            self.cancel.cancel();
            let origin = std::mem::replace(&mut self.origin, CallOrigin::Program);
            // Cancelled, it ends before the gate: nobody is asked anything.
            let _recorded = self.hand_over(origin, None);
        }
        self.places = None;
        self.calls.leave();
    }
}

/// A place among the session's calls, then among the server's, unless `ct` comes first.
async fn places(
    session: &Arc<Semaphore>,
    server: &Arc<Semaphore>,
    ct: &CancellationToken,
) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
    async fn place(
        semaphore: &Arc<Semaphore>,
        ct: &CancellationToken,
    ) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(semaphore).try_acquire_owned() {
            return Some(permit);
        }
        tokio::select! {
            biased;
            () = ct.cancelled() => None,
            permit = Arc::clone(semaphore).acquire_owned() => permit.ok(),
        }
    }
    if ct.is_cancelled() {
        return None;
    }
    let session = place(session, ct).await?;
    let server = place(server, ct).await?;
    Some((session, server))
}

/// The outcome of a call whose handling panicked in cnv's own code.
fn failed_inside() -> CallOutcome {
    CallOutcome::Failed(HandlerError::msg(
        "the call failed inside the server (a bug in cnv); the server goes on",
    ))
}
