//! MCP over streamable HTTP at `/mcp`: rmcp's `StreamableHttpService` with a session
//! manager that keeps the registry in step, behind a thin edge that answers a body that
//! is not JSON with a JSON-RPC parse error.
//!
//! rmcp's `LocalSessionManager` keeps what the protocol needs per session (the worker
//! task, its channels, the SSE streams and their resumption caches, the idle timer); the
//! registry keeps who the session is and whether it is open. The manager here wraps the
//! local one: it names each new session to its handler (whose `initialize` registers it
//! with the client's name), answers "is there such a session" from the registry first, and
//! removes the session from the registry whenever rmcp closes it (`DELETE`, the idle
//! timeout, the server's shutdown).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use cnv_audit::McpTransport;
use cnv_caps::SessionId;
use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::{
    SessionId as HttpSessionId, SessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::McpError;
use crate::handler::{CnvServer, HttpSession, Shared};
use crate::sessions::Sessions;

/// The largest request body read (rmcp's own limit).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What the operator decided for the HTTP server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// How long a session may stay idle (`None`: forever).
    pub(crate) idle: Option<Duration>,
    /// Whether a `Host` other than loopback is accepted.
    pub(crate) remote: bool,
}

/// Serves `/mcp` on `listener` until `stop` completes; then every session ends.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    options: Options,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), McpError> {
    let ct = CancellationToken::new();
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ct.child_token())
        // A browser's request (it carries an `Origin`) is refused: no web page may call
        // the tools of a server on this machine.
        .enforce_origin_validation();
    if options.remote {
        // The operator opened the server to other machines, whose `Host` is theirs to
        // choose; loopback servers keep rmcp's check against DNS rebinding.
        config = config.disable_allowed_hosts();
    }
    let sessions = Arc::new(RegistrySessionManager::new(
        Arc::clone(&shared.sessions),
        options.idle,
    ));
    let factory = {
        let shared = Arc::clone(&shared);
        move || {
            Ok(CnvServer::new(
                Arc::clone(&shared),
                McpTransport::StreamableHttp,
                None,
            ))
        }
    };
    let service = StreamableHttpService::new(factory, sessions, config);
    let router = axum::Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn(jsonrpc_edge));
    let shutdown = {
        let ct = ct.clone();
        async move {
            stop.await;
            // Ends every session's worker and stream.
            ct.cancel();
        }
    };
    // Answers go out as several small writes (SSE events); without TCP_NODELAY, Nagle's
    // algorithm holds each after the first until the client's delayed ACK (40 ms).
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    ct.cancel();
    served.map_err(|err| McpError::Connection(err.to_string()))
}

/// rmcp's local session manager, with the registry as the record of which sessions
/// are open.
struct RegistrySessionManager {
    inner: LocalSessionManager,
    sessions: Arc<Sessions>,
}

impl RegistrySessionManager {
    fn new(sessions: Arc<Sessions>, idle: Option<Duration>) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = idle;
        Self { inner, sessions }
    }
}

/// The registry's id of an rmcp session (rmcp makes UUID v4 ids, as the registry's).
fn registry_id(id: &HttpSessionId) -> Option<SessionId> {
    id.parse().ok()
}

impl SessionManager for RegistrySessionManager {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(HttpSessionId, Self::Transport), Self::Error> {
        self.inner.create_session().await
    }

    async fn initialize_session(
        &self,
        id: &HttpSessionId,
        mut message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        let Some(registry_id) = registry_id(id) else {
            // Not an id the registry can hold: no session.
            let _ = self.inner.close_session(id).await;
            return Err(LocalSessionManagerError::SessionNotFound(id.clone()));
        };
        // The handler's `initialize` registers the session under this id.
        message.insert_extension(HttpSession(registry_id));
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &HttpSessionId) -> Result<bool, Self::Error> {
        let open = registry_id(id).is_some_and(|id| self.sessions.is_open(&id));
        if !open {
            return Ok(false);
        }
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &HttpSessionId) -> Result<(), Self::Error> {
        if let Some(registry_id) = registry_id(id) {
            self.sessions
                .close(&registry_id, "closed over HTTP or idle");
        }
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &HttpSessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &HttpSessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &HttpSessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &HttpSessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.resume(id, last_event_id).await
    }
}

/// What rmcp leaves to the application at the edge: a POST body that is not JSON gets a
/// JSON-RPC parse error (rmcp answers `415 text/plain`), and `DELETE`'s `202` becomes
/// `204` (a client expects 200 or 204 for a session it ended).
async fn jsonrpc_edge(request: Request, next: Next) -> Response {
    match *request.method() {
        Method::POST => {
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            // Checked, not built: rmcp parses the message itself.
            if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                let body = serde_json::json!({
                    "jsonrpc": "2.0",
                    "error": { "code": -32700, "message": format!("Parse error: {err}") },
                });
                return (
                    StatusCode::BAD_REQUEST,
                    [(CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response();
            }
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Method::DELETE => {
            let mut response = next.run(request).await;
            if response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::NO_CONTENT;
            }
            response
        }
        _ => next.run(request).await,
    }
}
