//! MCP sessions as sessions of the registry: registered at `initialize`, looked up on
//! every request, removed once (whichever of the connection's end, HTTP `DELETE`, the
//! idle timeout or the server's shutdown comes first), each change told to the operator
//! on standard error with the number of sessions open; and the operator's cap on how many
//! HTTP sessions may be open at once ([`SessionCap`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use cnv_audit::{CallOrigin, CallPrincipal, McpTransport};
use cnv_caps::SessionId;
use cnv_caps::text::escape_for_display;
use cnv_registry::{DuplicateSession, SessionBuilder, SessionRegistry};

use crate::auth::{Caller, Owners};

/// The longest client name or version kept (in characters): they reach the registry,
/// the audit trail and the operator's terminal, and a client chooses them.
const MAX_CLIENT_TEXT: usize = 128;

/// The registry of one server, and whether session changes are told on standard error.
#[derive(Debug)]
pub(crate) struct Sessions {
    registry: Arc<SessionRegistry>,
    quiet: AtomicBool,
    /// Held while a change is made and told, so that the lines say the counts in the
    /// order the changes were made (two sessions closing at once used to print their
    /// counts the other way round, and the last line said one was still open).
    telling: Mutex<()>,
    /// Who opened each open session (by its id as a client sends it).
    owners: Owners,
}

/// One open MCP session, as its handler keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) transport: McpTransport,
    pub(crate) client_name: String,
    pub(crate) client_version: String,
    /// Who opened it, as their bearer token said (`None`: no token is asked for).
    pub(crate) principal: Option<CallPrincipal>,
}

impl Session {
    /// The session of `id`, for a client that introduced itself with `name` and
    /// `version` (cut to a sane length).
    pub(crate) fn new(
        id: SessionId,
        transport: McpTransport,
        name: &str,
        version: &str,
        opener: &Caller,
    ) -> Self {
        let clip = |text: &str| text.chars().take(MAX_CLIENT_TEXT).collect::<String>();
        Self {
            id,
            transport,
            client_name: clip(name),
            client_version: clip(version),
            principal: opener.principal().cloned(),
        }
    }

    /// How a call of this session by `caller` arrived, as the audit trail records it:
    /// with who called (never their token).
    pub(crate) fn origin(&self, caller: &Caller) -> CallOrigin {
        CallOrigin::Mcp {
            transport: self.transport,
            session_id: Some(self.id.to_string()),
            client_name: Some(self.client_name.clone()),
            client_version: Some(self.client_version.clone()),
            principal: caller.principal().cloned(),
        }
    }
}

/// How a call of a request without a session (protocol 2026-07-28) arrived: over
/// `transport`, from the client its `_meta` names (cut to a sane length), in no session,
/// by `caller`.
pub(crate) fn stateless_origin(
    transport: McpTransport,
    client: Option<&rmcp::model::Implementation>,
    caller: &Caller,
) -> CallOrigin {
    let clip = |text: &str| text.chars().take(MAX_CLIENT_TEXT).collect::<String>();
    CallOrigin::Mcp {
        transport,
        session_id: None,
        client_name: client.map(|client| clip(&client.name)),
        client_version: client.map(|client| clip(&client.version)),
        principal: caller.principal().cloned(),
    }
}

impl Sessions {
    pub(crate) fn new(registry: Arc<SessionRegistry>) -> Self {
        Self {
            registry,
            quiet: AtomicBool::new(false),
            telling: Mutex::new(()),
            owners: Owners::default(),
        }
    }

    pub(crate) fn registry(&self) -> &Arc<SessionRegistry> {
        &self.registry
    }

    pub(crate) fn set_quiet(&self) {
        self.quiet.store(true, Ordering::Relaxed);
    }

    /// Registers `session`: a `SessionHandle` named after its client and transport.
    ///
    /// # Errors
    ///
    /// The registry's, when a session of that id is open already.
    pub(crate) fn open(&self, session: &Session) -> Result<(), DuplicateSession> {
        let handle = SessionBuilder::new()
            .id(session.id)
            .name(format!(
                "mcp {} {} {}",
                transport_name(session.transport),
                session.client_name,
                session.client_version
            ))
            .build();
        let _telling = self.telling.lock().unwrap_or_else(PoisonError::into_inner);
        self.registry.register(Arc::new(handle))?;
        self.owners
            .insert(session.id.to_string(), session.principal.clone());
        if !self.quiet.load(Ordering::Relaxed) {
            // The client names itself: shown to the operator, never obeyed by a terminal.
            eprintln!(
                "cnv mcp: session {} opened over {} by \"{}\" \"{}\" ({} open)",
                session.id,
                transport_name(session.transport),
                escape_for_display(&session.client_name),
                escape_for_display(&session.client_version),
                self.registry.len()
            );
        }
        Ok(())
    }

    /// Whether the session of `id` is in the registry and active: the one lookup every
    /// request of a session makes (a borrowed, lock-free read).
    pub(crate) fn is_open(&self, id: &SessionId) -> bool {
        self.registry
            .with(id, cnv_registry::SessionHandle::is_active)
            .unwrap_or(false)
    }

    /// Whether the open session a client names `id` belongs to another principal than
    /// `caller`'s: such a request is answered as if there were no such session.
    pub(crate) fn belongs_to_another(&self, id: &str, caller: &Caller) -> bool {
        self.owners.belongs_to_another(id, caller.principal())
    }

    /// Removes the session of `id` (closed first, so that a handle still held elsewhere
    /// says so); `why` says what ended it. Removing it twice is removing it once.
    pub(crate) fn close(&self, id: &SessionId, why: &str) {
        let _telling = self.telling.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = self.registry.remove(id) {
            self.owners.remove(&id.to_string());
            let _ = handle.close();
            if !self.quiet.load(Ordering::Relaxed) {
                eprintln!(
                    "cnv mcp: session {id} closed: {why} ({} open)",
                    self.registry.len()
                );
            }
        }
    }
}

/// The operator's cap on HTTP sessions: a place is taken by each `initialize` without an
/// `Mcp-Session-Id` once its body is read, and kept by the session's handler for as long
/// as the session lives; at the cap, the request is refused (`503`). A session another
/// replica made and this one restores takes none.
#[derive(Debug)]
pub(crate) struct SessionCap {
    taken: AtomicUsize,
    max: usize,
}

impl SessionCap {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            taken: AtomicUsize::new(0),
            max,
        })
    }

    /// The most sessions open at once.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A place, if fewer than the cap are taken.
    pub(crate) fn take(self: &Arc<Self>) -> Option<SessionPlace> {
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |taken| {
                (taken < self.max).then_some(taken + 1)
            })
            .ok()?;
        Some(SessionPlace(Arc::new(Taken(Arc::clone(self)))))
    }
}

/// A place under the sessions cap, free again once every clone is dropped (it travels
/// in the `initialize` request's extensions to the session's handler, which keeps it).
#[derive(Clone, Debug)]
pub(crate) struct SessionPlace(#[allow(dead_code, reason = "held for its Drop")] Arc<Taken>);

#[derive(Debug)]
struct Taken(Arc<SessionCap>);

impl Drop for Taken {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::SeqCst);
    }
}

fn transport_name(transport: McpTransport) -> &'static str {
    match transport {
        McpTransport::Stdio => "stdio",
        McpTransport::StreamableHttp => "http",
        // `McpTransport` may grow; this server serves only the two above.
        _ => "another transport",
    }
}
