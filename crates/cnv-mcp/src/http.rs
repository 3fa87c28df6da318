//! MCP over streamable HTTP at `/mcp`: rmcp's `StreamableHttpService` with a session
//! manager that keeps the registry in step, behind an edge that holds the operator's
//! limits, on an HTTP/1 accept loop of our own.
//!
//! rmcp's `LocalSessionManager` keeps what the protocol needs per session (the worker
//! task, its channels, the SSE streams and their resumption caches, the idle timer); the
//! registry keeps who the session is and whether it is open. The manager here wraps the
//! local one: it names each new session to its handler (whose `initialize` registers it
//! with the client's name), answers "is there such a session" from the registry first, and
//! removes the session from the registry whenever rmcp closes it (`DELETE`, the idle
//! timeout, the server's shutdown).
//!
//! The accept loop is hyper's HTTP/1 connection with a timer, so that a request's header
//! must arrive within the operator's time (axum's `serve` sets none, and 500 half-sent
//! requests held their connections for as long as their clients liked). The edge
//! ([`edge`]) bounds the rest before rmcp sees a request: the sessions cap, the body's
//! time and size (its length refused before it is read, a body without one stopped at the
//! cap), and the JSON values of the message. With the operator's identity settings it
//! also decides who is calling ([`crate::auth`]): a request without a bearer token the
//! server accepts is answered `401` (a token in the query string `400`), one naming a
//! session another principal opened `404`, a `tools/call` beyond its token `403`, each
//! refusal recorded in the audit trail; the protected resource metadata (RFC 9728) is
//! served at `/.well-known/oauth-protected-resource` and `…/mcp`.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use cnv_audit::{CallOrigin, CallPrincipal, McpTransport};
use cnv_caps::{Rule, SessionId};
use cnv_cli::{AgentCall, Refusal};
use futures::Stream;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::RestoreOutcome;
use rmcp::transport::streamable_http_server::session::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::store::EventStore;
use rmcp::transport::streamable_http_server::{
    SessionId as HttpSessionId, SessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Auth, Caller, Unauthenticated, WELL_KNOWN};
use crate::calls::Arrival;
use crate::handler::{CnvServer, HttpSession, Shared};
use crate::message::{self, Refused, ValueCount};
use crate::sessions::{SessionCap, Sessions};
use crate::{MCP_MAX_SESSIONS_ENV, McpError, McpLimits};

/// The `Retry-After` of a refused `initialize`, in seconds: sessions end with a client's
/// `DELETE` or their idle timeout, not at once.
const RETRY_AFTER_SECONDS: u64 = 5;

/// How long a server that stops waits for its connections to end (their sessions are
/// cancelled, so their streams end at once; a client still sending is cut off).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What the operator decided for the HTTP server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// How long a session may stay idle (`None`: forever).
    pub(crate) idle: Option<Duration>,
    /// Whether a `Host` other than loopback is accepted.
    pub(crate) remote: bool,
    /// Sessions, times, the message cap.
    pub(crate) limits: McpLimits,
}

/// Serves `/mcp` on `listener` until `stop` completes; then every session ends.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    options: Options,
    auth: Option<Arc<Auth>>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), McpError> {
    let ct = CancellationToken::new();
    let limits = options.limits;
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ct.child_token())
        .with_max_request_body_bytes(limits.max_message_bytes)
        // A browser's request (it carries an `Origin`) is refused: no web page may call
        // the tools of a server on this machine.
        .enforce_origin_validation();
    // Sessions other replicas can restore, when the state is shared (Redis).
    config.session_store = shared.quotas.state().session_store();
    if options.remote {
        // The operator opened the server to other machines, whose `Host` is theirs to
        // choose; loopback servers keep rmcp's check against DNS rebinding.
        config = config.disable_allowed_hosts();
    }
    let sessions = Arc::new(RegistrySessionManager::new(
        Arc::clone(&shared.sessions),
        options.idle,
        shared.quotas.state().event_store(),
    ));
    let factory = {
        let shared = Arc::clone(&shared);
        move || {
            Ok(CnvServer::new(
                Arc::clone(&shared),
                McpTransport::StreamableHttp,
            ))
        }
    };
    let service = StreamableHttpService::new(factory, sessions, config);
    let edge = Edge {
        limits,
        cap: SessionCap::new(limits.max_sessions),
        auth: auth.clone(),
        shared: Arc::clone(&shared),
    };
    let mut router = axum::Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(Arc::new(edge), self::edge));
    if let Some(auth) = auth {
        // Added after the edge's layer: the metadata is served to anyone, without a token.
        let metadata = move || {
            let body = auth.metadata().to_owned();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        };
        router = router
            .route(WELL_KNOWN, axum::routing::get(metadata.clone()))
            .route(&format!("{WELL_KNOWN}/mcp"), axum::routing::get(metadata));
    }
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let connections = TaskTracker::new();
    let mut stop = pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors, or a connection reset before it was accepted: wait a
            // little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Answers go out as several small writes (SSE events); without TCP_NODELAY,
        // Nagle's algorithm holds each after the first until the client's delayed ACK
        // (40 ms).
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let closing = ct.clone();
        connections.spawn(async move {
            let mut connection = pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = closing.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    // Ends every session's worker and stream, then every connection.
    ct.cancel();
    connections.close();
    let _ = tokio::time::timeout(CLOSE_WAIT, connections.wait()).await;
    Ok(())
}

/// rmcp's local session manager, with the registry as the record of which sessions
/// are open.
struct RegistrySessionManager {
    inner: LocalSessionManager,
    sessions: Arc<Sessions>,
}

impl RegistrySessionManager {
    fn new(
        sessions: Arc<Sessions>,
        idle: Option<Duration>,
        events: Option<Arc<dyn EventStore>>,
    ) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = idle;
        if let Some(events) = events {
            // Streams resumable at any replica sharing the state.
            inner = inner.with_event_store(events);
        }
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

    /// A session another replica made, restored here from the shared state (its
    /// `initialize` is replayed to its new handler, which registers it).
    async fn restore_session(
        &self,
        id: HttpSessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        self.inner.restore_session(id).await
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}

/// What the edge holds: the operator's limits, the sessions cap's places, and the
/// identity check.
struct Edge {
    limits: McpLimits,
    cap: Arc<SessionCap>,
    /// `None`: no token is asked for, every caller is anonymous.
    auth: Option<Arc<Auth>>,
    shared: Arc<Shared>,
}

/// The longest session id an audit entry of a refused request records, in characters
/// (the client chose it).
const MAX_RECORDED_SESSION_ID: usize = 64;

impl Edge {
    /// Records a request the edge refused by `rule` as a denied call (an `MCP <method>`
    /// or the tool's command, with its arguments), for the operator's trail.
    async fn record(
        &self,
        asked: Asked,
        headers: &HeaderMap,
        principal: Option<CallPrincipal>,
        rule: Rule,
        message: String,
        hint: &'static str,
    ) {
        let session_id = headers.get("mcp-session-id").map(|id| {
            String::from_utf8_lossy(id.as_bytes())
                .chars()
                .take(MAX_RECORDED_SESSION_ID)
                .collect()
        });
        let cli = self.shared.cli.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            let origin = CallOrigin::Mcp {
                transport: McpTransport::StreamableHttp,
                session_id,
                client_name: None,
                client_version: None,
                principal,
            };
            let call = AgentCall::new(&asked.command, &asked.arguments).with_origin(origin);
            let _refused = cli.refuse(&call, Refusal::new(rule, message, hint));
        });
        // A refusal the trail could not record is the operator's to see (its head stops
        // short); the request is refused either way.
        let _ = recorded.await;
    }
}

/// What a refused request asked for, as its audit entry names it.
struct Asked {
    command: String,
    arguments: Map<String, Value>,
}

impl Asked {
    /// A request with no message to name it (`GET`, `DELETE`).
    fn http(method: &Method) -> Self {
        Self {
            command: format!("HTTP {method} /mcp"),
            arguments: Map::new(),
        }
    }
}

/// What a message asks for, when the server checks callers: what it asks first (for a
/// refusal's entry), and the `tools/call` requests of the message (or of a batch), each
/// with its tool's name and arguments.
struct Peeked {
    first: Asked,
    calls: Vec<(String, Map<String, Value>)>,
}

fn peek(bytes: &[u8], shared: &Shared) -> Peeked {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let messages = match value {
        Value::Array(messages) => messages,
        other => vec![other],
    };
    let mut first = None;
    let mut calls = Vec::new();
    for message in &messages {
        let method = message.get("method").and_then(Value::as_str);
        let params = message.get("params");
        let name = params
            .and_then(|params| params.get("name"))
            .and_then(Value::as_str);
        let arguments = params
            .and_then(|params| params.get("arguments"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let (Some("tools/call"), Some(name)) = (method, name) {
            calls.push((name.to_owned(), arguments.clone()));
        }
        if first.is_none() {
            let command = match (method, name) {
                (Some("tools/call"), Some(name)) => shared
                    .verb(name)
                    .map_or_else(|| name.to_owned(), |(command, _)| command.to_owned()),
                (Some(method), _) => format!("MCP {method}"),
                (None, _) => "MCP (a message with no method)".to_owned(),
            };
            first = Some(Asked { command, arguments });
        }
    }
    Peeked {
        first: first.unwrap_or_else(|| Asked::http(&Method::POST)),
        calls,
    }
}

/// The answer to a request naming a session that is not the caller's: as for a session
/// that does not exist.
fn no_such_session() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        -32001,
        "Session not found: no such MCP session is open for you; start one with `initialize`"
            .to_owned(),
        None,
    )
}

/// What rmcp leaves to the application at the edge. A POST's body must arrive within the
/// body timeout (`408`) and fit the message cap (`413`, refused from its `Content-Length`
/// before it is read, or at the cap for one without), and hold no more JSON values than
/// the cap allows (`413`); then an `initialize` without an `Mcp-Session-Id` (the one
/// request that makes a session) takes a place under the sessions cap (`503` with
/// `Retry-After` when none is free); a body that is not JSON gets a JSON-RPC parse error
/// (rmcp answers `415 text/plain`).
/// `DELETE`'s `202` becomes `204` (a client expects 200 or 204 for a session it ended).
async fn edge(State(edge): State<Arc<Edge>>, mut request: Request, next: Next) -> Response {
    let caller = match &edge.auth {
        None => Ok(Caller::anonymous()),
        Some(auth) => {
            auth.authenticate(request.headers(), request.uri().query())
                .await
        }
    };
    if let (Ok(caller), Some(id)) = (&caller, request.headers().get("mcp-session-id")) {
        let id = String::from_utf8_lossy(id.as_bytes());
        if edge.shared.sessions.belongs_to_another(&id, caller) {
            edge.record(
                Asked::http(request.method()),
                request.headers(),
                caller.principal().cloned(),
                Rule::Scope,
                "the request named an MCP session another principal opened; it was answered as if there were no such session".to_owned(),
                "a session is used only with the token of whoever opened it",
            )
            .await;
            return no_such_session();
        }
    }
    if *request.method() == Method::POST {
        return post(&edge, request, next, caller).await;
    }
    let caller = match caller {
        Ok(caller) => caller,
        Err(why) => {
            let asked = Asked::http(request.method());
            return unauthenticated(&edge, asked, request.headers(), &why).await;
        }
    };
    request.extensions_mut().insert(caller);
    match *request.method() {
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

/// Records a request refused for its bearer token and answers it (`401`, or `400` for a
/// token in the query string).
async fn unauthenticated(
    edge: &Edge,
    asked: Asked,
    headers: &HeaderMap,
    why: &Unauthenticated,
) -> Response {
    let Some(auth) = &edge.auth else {
        // No token is asked for without identity settings: never reached.
        return refusal(StatusCode::UNAUTHORIZED, -32001, why.message(), None);
    };
    edge.record(
        asked,
        headers,
        None,
        Rule::BearerToken,
        why.message(),
        "send `Authorization: Bearer <token>` with a token this server accepts (its metadata: /.well-known/oauth-protected-resource)",
    )
    .await;
    auth.unauthenticated(why)
}

async fn post(
    edge: &Edge,
    request: Request,
    next: Next,
    caller: Result<Caller, Unauthenticated>,
) -> Response {
    let limits = &edge.limits;
    let (mut parts, body) = request.into_parts();
    let max = limits.max_message_bytes;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return too_large(Refused::TooLong(max), None);
    }
    let read = axum::body::to_bytes(body, max);
    let read = match limits.body_timeout {
        Some(limit) => match tokio::time::timeout(limit, read).await {
            Ok(read) => read,
            Err(_) => {
                return refusal(
                    StatusCode::REQUEST_TIMEOUT,
                    -32700,
                    format!(
                        "Parse error: the request's body did not arrive within {} s",
                        limit.as_secs()
                    ),
                    None,
                );
            }
        },
        None => read.await,
    };
    let Ok(bytes) = read else {
        // Over the cap (without a length), or the client went away.
        return too_large(Refused::TooLong(max), None);
    };
    let values = limits.max_message_values();
    if ValueCount::exceeds(&bytes, values) {
        return too_large(
            Refused::TooManyValues(values),
            message::leading_id(&bytes[..bytes.len().min(message::ID_PREFIX)]),
        );
    }
    // Only an `initialize` makes a session (a request of 2026-07-28 makes none, and holds
    // no place while it is served).
    let place = if parts.headers.contains_key("mcp-session-id") || !is_initialize(&bytes) {
        None
    } else {
        let Some(place) = edge.cap.take() else {
            let max = edge.cap.max();
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                -32000,
                format!(
                    "the server has {max} MCP sessions open, the most the operator allows ({MCP_MAX_SESSIONS_ENV}); try again after {RETRY_AFTER_SECONDS} s, or end a session you no longer use (DELETE)"
                ),
                message::leading_id(&bytes[..bytes.len().min(message::ID_PREFIX)]),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            return response;
        };
        Some(place)
    };
    // Checked, not built: rmcp parses the message itself.
    if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        let body = json!({
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
    let caller = match (&edge.auth, caller) {
        (None, caller) => caller.unwrap_or_else(|_| Caller::anonymous()),
        (Some(_), Err(why)) => {
            let asked = peek(&bytes, &edge.shared).first;
            return unauthenticated(edge, asked, &parts.headers, &why).await;
        }
        (Some(auth), Ok(caller)) => {
            // Every call the message asks for is within the caller's token, or none runs.
            for (name, arguments) in peek(&bytes, &edge.shared).calls {
                let Some((command, class)) = edge.shared.verb(&name) else {
                    // No such tool: the handler refuses it, and records that.
                    continue;
                };
                if let Err(not_granted) = caller.admit(class, command) {
                    let asked = Asked {
                        command: command.to_owned(),
                        arguments,
                    };
                    edge.record(
                        asked,
                        &parts.headers,
                        caller.principal().cloned(),
                        Rule::Scope,
                        not_granted.message.clone(),
                        "ask for a token with the scope the refusal names",
                    )
                    .await;
                    return auth.forbidden(&not_granted);
                }
            }
            caller
        }
    };
    parts.extensions.insert(caller);
    parts.extensions.insert(Arrival(Instant::now()));
    if let Some(place) = place {
        // Kept by the session's handler if this request makes one.
        parts.extensions.insert(place);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether `body` is an `initialize` request (a JSON object whose `method` is
/// `initialize`), read without building the rest of it.
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Method<'a> {
        #[serde(borrow, default)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Method<'_>>(body)
        .is_ok_and(|message| message.method.as_deref() == Some("initialize"))
}

/// `413` for a message over the cap, its connection closed (its body may be unread).
fn too_large(why: Refused, id: Option<Value>) -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        -32700,
        format!("Parse error: {}", why.message()),
        id,
    )
}

/// A refusal at the edge: `status`, a JSON-RPC error as the body, and the connection
/// closed after it (the request's body may not have been read).
fn refusal(status: StatusCode, code: i64, message: String, id: Option<Value>) -> Response {
    let mut body = json!({
        "jsonrpc": "2.0",
        "id": Value::Null,
        "error": { "code": code, "message": message },
    });
    if let Some(id) = id {
        body["id"] = id;
    }
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CONNECTION, HeaderValue::from_static("close")),
        ],
        body.to_string(),
    )
        .into_response()
}
