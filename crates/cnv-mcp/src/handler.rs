//! The MCP handler: one instance per MCP session (the stdio connection; each HTTP
//! session, made by the transport's factory), sharing the server's tools, registry,
//! command line and calls.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use cnv_audit::{CallOrigin, McpTransport};
use cnv_caps::{CapabilityClass, ResourceBand, Rule, SessionId};
use rmcp::model::Extensions;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, CustomRequest,
    CustomResult, ErrorCode, Implementation, InitializeRequestParams, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::transport::streamable_http_server::SessionRestoreMarker;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use cnv_cli::{CallOutcome, CancelToken, Cli, TraceContext};

use crate::auth;
use crate::calls::{Arrival, Called, Calls, Counter, Job, Ticket};
use crate::elicit::Elicitor;
use crate::quota::Quotas;
use crate::sessions::{Session, SessionPlace, Sessions, stateless_origin};
use crate::state::Principal;
use crate::{MCP_CALLS_PER_SESSION_ENV, Mcp, McpError, McpLimits, McpServer, McpSupervision};

/// The newest protocol revision with an `initialize` handshake and sessions: what an
/// `initialize` is answered with at most, and a session is what the registry holds.
const PROTOCOL: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// The newest revision served: 2026-07-28, without sessions. Its requests carry the
/// version and the client's capabilities in `_meta` and are served one by one (over HTTP
/// by a handler made for the request), with no registry session.
const NEWEST: ProtocolVersion = ProtocolVersion::V_2026_07_28;

/// The verb behind one tool.
struct ToolVerb {
    command: String,
    class: CapabilityClass,
    band: ResourceBand,
}

/// What every session of one server shares.
pub(crate) struct Shared {
    /// `tools/list`: the command line's manifest, read once.
    tools: Arc<[Tool]>,
    /// Each tool's verb: its command (`"file_write"` → `"file write"`), its class (which a
    /// caller's token must reach) and its band.
    verbs: HashMap<String, ToolVerb>,
    info: ServerConfig,
    pub(crate) sessions: Arc<Sessions>,
    /// The command line the calls go to (a clone: its parts are shared).
    pub(crate) cli: Cli<Mcp>,
    /// The server's calls: its places, those under way.
    pub(crate) calls: Arc<Calls>,
    pub(crate) limits: McpLimits,
    /// Quotas per principal, and the state replicas share.
    pub(crate) quotas: Quotas,
    /// Whether a person at an elicitation-capable client answers what needs a person.
    supervision: McpSupervision,
}

impl Shared {
    /// The shared state of a server of `cli`.
    ///
    /// # Errors
    ///
    /// [`McpError::Manifest`] when the manifest does not read as MCP tools.
    pub(crate) fn new(
        cli: &Cli<Mcp>,
        sessions: Arc<Sessions>,
        limits: McpLimits,
        quotas: Quotas,
        supervision: McpSupervision,
    ) -> Result<Arc<Self>, McpError> {
        let manifest = cli.mcp_tools();
        let list: ListToolsResult = serde_json::from_value(manifest).map_err(McpError::Manifest)?;
        // Each verb's tool is named by the grammar's one rule (`NounPath::tool_name`), the
        // one the manifest was written with.
        let verbs = cli
            .model()
            .verbs()
            .map(|(path, verb)| {
                let tool = ToolVerb {
                    command: path.command(verb),
                    class: verb.contract().class(),
                    band: verb.contract().band(),
                };
                (path.tool_name(verb), tool)
            })
            .collect();
        let model = cli.model();
        let app = model.app_name();
        let supervised = match supervision {
            McpSupervision::Autonomous => "",
            McpSupervision::Elicit => {
                " This server is supervised: when your client supports elicitation, a call that \
                 needs a person (a tool that is not agent-safe, or `Dangerous` with its \
                 justification) is shown to the person at your client, who approves or declines \
                 it; without elicitation, such calls are the agent's alone, as described above."
            }
        };
        let info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                app.to_owned(),
                model.version().unwrap_or("0.0.0").to_owned(),
            ))
            .with_protocol_version(PROTOCOL)
            .with_instructions(format!(
                "The tools of `{app}`: each is one of its commands, with its capability in \
                 `_meta[\"cnv/contract\"]` and what an agent must give in \
                 `_meta[\"cnv/agent\"]`. Agent-safe tools run as they are; the others need a \
                 `justification` argument saying why the call needs its capability, and \
                 `Dangerous` or interactive-only ones never run for an agent (they are listed \
                 so that you know they exist). A refused call is a result with isError that \
                 names the rule and what to do. Every call is recorded in the operator's audit \
                 log.{supervised}"
            ));
        Ok(Arc::new(Self {
            tools: list.tools.into(),
            verbs,
            info,
            sessions,
            cli: cli.clone(),
            calls: Calls::new(McpServer::MAX_CONCURRENT_CALLS),
            limits,
            quotas,
            supervision,
        }))
    }
}

impl Shared {
    /// The command and class of the tool `name`, if it is one.
    pub(crate) fn verb(&self, name: &str) -> Option<(&str, CapabilityClass)> {
        let verb = self.verbs.get(name)?;
        Some((verb.command.as_str(), verb.class))
    }

    /// The scopes the server's metadata lists: each class's, each verb's.
    pub(crate) fn scopes_supported(&self) -> Vec<String> {
        auth::scopes_supported(
            self.verbs
                .values()
                .map(|verb| (verb.class, verb.command.as_str())),
        )
    }
}

/// The handler of one MCP session.
pub(crate) struct CnvServer {
    shared: Arc<Shared>,
    transport: McpTransport,
    /// Set by `initialize`; its registry entry is removed when the handler is dropped
    /// (the connection or the HTTP session's worker ended).
    session: OnceLock<Session>,
    /// Its place under the HTTP sessions cap, kept while the session lives.
    place: OnceLock<SessionPlace>,
    /// The places of its calls that run at once.
    running: Arc<Semaphore>,
    /// Its calls under way, counted here when the transport does not (HTTP; the stdio
    /// transport gives each call a ticket as it reads it).
    under_way: Arc<Counter>,
}

/// The extension the HTTP session manager puts on an `initialize` message: the id of
/// the session rmcp made, which is also its id in the registry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpSession(pub(crate) SessionId);

impl CnvServer {
    /// A handler for a session over `transport`.
    pub(crate) fn new(shared: Arc<Shared>, transport: McpTransport) -> Self {
        let running = Arc::new(Semaphore::new(shared.limits.calls_per_session));
        Self {
            shared,
            transport,
            session: OnceLock::new(),
            place: OnceLock::new(),
            running,
            under_way: Arc::default(),
        }
    }

    /// The ticket that counts a call among its session's while it is under way: the one
    /// the stdio transport gave it when it read it, or one of the handler's own, refused
    /// when the session already has as many calls running and waiting as it may.
    fn ticket(&self, extensions: &Extensions) -> Result<Ticket, ErrorData> {
        if let Some(ticket) = extensions.get::<Ticket>() {
            return Ok(ticket.clone());
        }
        let per_session = self.shared.limits.calls_per_session;
        let ticket = self.under_way.enter();
        if self.under_way.get() > 2 * per_session {
            return Err(ErrorData::new(
                ErrorCode(-32000),
                format!(
                    "this session has {per_session} calls running and {per_session} waiting, the most the operator allows ({MCP_CALLS_PER_SESSION_ENV}); wait for an answer, then call again"
                ),
                Some(json!({ "calls_per_session": per_session })),
            ));
        }
        Ok(ticket)
    }

    /// How the request's calls arrived, as the audit trail records them: through this
    /// handler's session, or, for a request of 2026-07-28 (no session), through no session,
    /// with the client `_meta` names.
    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<CallOrigin, ErrorData> {
        let caller = auth::caller(&context.extensions);
        if self.session.get().is_none()
            && let Some(version) = context.meta.protocol_version()
            && !version.has_initialize()
        {
            let client = context.meta.client_info();
            return Ok(stateless_origin(self.transport, client.as_ref(), &caller));
        }
        self.session().map(|session| session.origin(&caller))
    }

    /// This handler's session, if `initialize` made one and the registry still holds it.
    fn session(&self) -> Result<&Session, ErrorData> {
        let Some(session) = self.session.get() else {
            return Err(ErrorData::invalid_request(
                "no MCP session: send `initialize` first (protocol 2025-11-25 or older), or carry the protocol version and the client's capabilities in each request's `_meta` (2026-07-28)",
                None,
            ));
        };
        if !self.shared.sessions.is_open(&session.id) {
            return Err(ErrorData::invalid_request(
                "this MCP session is closed (ended by the operator or its idle timeout); start a new one with `initialize`",
                None,
            ));
        }
        Ok(session)
    }
}

impl Drop for CnvServer {
    fn drop(&mut self) {
        if let Some(session) = self.session.get() {
            self.shared
                .sessions
                .close(&session.id, "its connection ended");
        }
    }
}

impl ServerHandler for CnvServer {
    fn get_info(&self) -> ServerConfig {
        self.shared.info.clone()
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&NEWEST))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        if self.session.get().is_some() {
            return Err(ErrorData::invalid_request(
                "this MCP session is initialized already",
                None,
            ));
        }
        let result = self.negotiate_initialize(&request)?;
        // Over HTTP the session manager names the session; over stdio the connection is
        // the session, and its id is new.
        let id = context
            .extensions
            .get::<HttpSession>()
            .map_or_else(SessionId::new_v4, |session| session.0);
        if self.transport == McpTransport::StreamableHttp {
            self.bind_principal(&id, &context).await?;
        }
        let session = Session::new(
            id,
            self.transport,
            &request.client_info.name,
            &request.client_info.version,
            &auth::caller(&context.extensions),
        );
        self.shared.sessions.open(&session).map_err(|err| {
            ErrorData::invalid_request(format!("the session cannot be registered: {err}"), None)
        })?;
        if let Err(session) = self.session.set(session) {
            // Two `initialize` at once on one connection: the first one keeps it.
            self.shared
                .sessions
                .close(&session.id, "initialized twice at once");
            return Err(ErrorData::invalid_request(
                "this MCP session is initialized already",
                None,
            ));
        }
        if let Some(place) =
            http_parts(&context.extensions).and_then(|parts| parts.extensions.get::<SessionPlace>())
        {
            let _ = self.place.set(place.clone());
        }
        context.peer.set_peer_info(request);
        Ok(result)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.caller(&context)?;
        // Only the tools the caller's token grants (all of them without one).
        let caller = auth::caller(&context.extensions);
        let tools = self
            .shared
            .tools
            .iter()
            .filter(|tool| {
                self.shared
                    .verb(&tool.name)
                    .is_some_and(|(command, class)| caller.lists(class, command))
            })
            .cloned()
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared
            .tools
            .iter()
            .find(|tool| tool.name == name)
            .cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let origin = self.caller(&context)?;
        let arrival = arrival(&context.extensions).unwrap_or_else(Instant::now);
        let ticket = self.ticket(&context.extensions)?;
        // An unknown tool is handed to the command line too, which records the refusal
        // in the operator's trail; its answer is a protocol error (`tool_result`).
        let mut retry_after = None;
        let name = request.name.as_ref();
        let (tool, band) = match self.shared.verbs.get(name) {
            Some(ToolVerb {
                command,
                class,
                band,
            }) => {
                // Counted, or refused, before the gate: a small step of its own.
                let principal = principal(&context);
                let called = match self.shared.quotas.admit(&principal, command, *class).await {
                    Ok(()) => Called::Command(command.clone()),
                    Err(over) => {
                        retry_after = over.retry_after;
                        Called::Refused {
                            command: command.clone(),
                            refusal: over.refusal,
                        }
                    }
                };
                (called, Some(*band))
            }
            None => (Called::Unknown(request.name.to_string()), None),
        };
        // Progress for a slow verb, when the client asked for it with a token.
        let progress = context
            .meta
            .get_progress_token()
            .filter(|_| band.is_some_and(reports_progress))
            .map(|token| Progress {
                peer: context.peer.clone(),
                token,
                tool: escape(&request.name),
            });
        let cancel = CancelToken::new();
        // Dropped before the answer (the server is stopping): the call is cancelled.
        let _cancel_on_drop = CancelOnDrop(cancel.clone());
        let trace = trace_context(&request, &context);
        // The person at the client, when the operator runs the server supervised and the
        // client said it can ask its user.
        let supervised = match self.shared.supervision {
            McpSupervision::Elicit => Supervised::Asked(Elicitor::of(&context)),
            McpSupervision::Autonomous => Supervised::No,
        };
        let supervisor = match &supervised {
            Supervised::Asked(elicitor) => elicitor.clone(),
            Supervised::No => None,
        };
        let job = Job::new(
            self.shared.cli.clone(),
            &self.shared.calls,
            tool,
            request.arguments.unwrap_or_default(),
            origin,
            cancel,
            arrival,
            ticket,
        )
        .with_trace(trace)
        .with_supervisor(supervisor);
        let run = job.run(&self.running, &context.ct);
        let outcome = match progress {
            Some(progress) => progress.while_running(run).await,
            None => run.await,
        };
        match outcome {
            Some(outcome) => tool_result(outcome, &supervised)
                .map(|result| with_retry_after(result, retry_after))
                .map(Into::into),
            // No answer is sent for a cancelled request.
            None => Err(cancelled()),
        }
    }

    /// A known method whose parameters did not parse reaches the server as a custom
    /// request: say so (`-32602`) rather than rmcp's "method not found" with the name.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        const KNOWN: &[&str] = &["initialize", "ping", "tools/list", "tools/call"];
        let method = request.method.as_str();
        if KNOWN.contains(&method) {
            Err(ErrorData::invalid_params(
                format!("malformed parameters for `{method}`"),
                None,
            ))
        } else {
            Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("method `{}` not found", escape(method)),
                None,
            ))
        }
    }
}

/// Who makes the request: the authenticated caller where the server checks callers,
/// else the server's one `anonymous` principal.
fn principal(context: &RequestContext<RoleServer>) -> Principal {
    let caller = auth::caller(&context.extensions);
    match caller.principal() {
        Some(_) => Principal::new(&caller.key()),
        None => Principal::anonymous(),
    }
}

impl CnvServer {
    /// Binds a new HTTP session to its principal in the shared state, or, when the
    /// session is restored on this replica from the shared state, checks that its
    /// principal is the one it was made for (a session stays its principal's).
    async fn bind_principal(
        &self,
        id: &SessionId,
        context: &RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let principal = principal(context);
        let state = self.shared.quotas.state();
        let session = id.to_string();
        let unavailable = |err: crate::state::StateError| {
            ErrorData::new(
                ErrorCode(-32000),
                format!("{err}; the session cannot be opened until it is back"),
                None,
            )
        };
        if context.extensions.get::<SessionRestoreMarker>().is_some() {
            let owner = state
                .session_principal(&session)
                .await
                .map_err(unavailable)?;
            if owner.is_some_and(|owner| owner != principal) {
                return Err(ErrorData::invalid_request(
                    "this MCP session belongs to another principal; start a session of your own with `initialize`",
                    None,
                ));
            }
            return Ok(());
        }
        state
            .bind_session(&session, &principal)
            .await
            .map_err(unavailable)
    }
}

/// `result` with when to call again, for a call refused over its quota:
/// `structuredContent.error.retry_after_seconds`.
fn with_retry_after(mut result: CallToolResult, retry_after: Option<Duration>) -> CallToolResult {
    if let Some(after) = retry_after
        && let Some(error) = result
            .structured_content
            .as_mut()
            .and_then(|content| content.get_mut("error"))
    {
        error["retry_after_seconds"] = Value::from(after.as_secs());
    }
    result
}

/// Whether a call of a verb of `band` reports its progress to a client that asks
/// (`_meta.progressToken`): the slow bands, whose calls may run for a minute or more.
const fn reports_progress(band: ResourceBand) -> bool {
    match band {
        ResourceBand::Slow | ResourceBand::Cold => true,
        ResourceBand::Instant | ResourceBand::Fast | ResourceBand::Medium => false,
    }
}

/// How often a call under way tells its client it still runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// The progress notifications of one call: to the client that sent the request, for
/// its token.
struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
    /// The tool's name, escaped.
    tool: String,
}

impl Progress {
    /// Runs `call`, telling the client it runs: once at once, then every
    /// [`PROGRESS_EVERY`] until the call ends, each notification with a higher
    /// `progress` (the count of notifications so far), no `total` (a call's length is not
    /// known) and the seconds it has run in its message. Each is sent before the call is
    /// polled again, so none can follow the response, which is sent only once this
    /// returns.
    async fn while_running<F: Future>(self, call: F) -> F::Output {
        tokio::pin!(call);
        let started = Instant::now();
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut step: u32 = 0;
        loop {
            tokio::select! {
                biased;
                output = &mut call => return output,
                _ = ticks.tick() => {
                    step = step.saturating_add(1);
                    let note = ProgressNotificationParam::new(self.token.clone(), f64::from(step))
                        .with_message(format!(
                            "running `{}` ({} s)",
                            self.tool,
                            started.elapsed().as_secs()
                        ));
                    // A client that cannot take it (gone, say) does not stop the call.
                    let _unsent = self.peer.notify_progress(note).await;
                }
            }
        }
    }
}

/// The error of a cancelled request (never sent: the client cancelled it).
fn cancelled() -> ErrorData {
    ErrorData::new(ErrorCode(-32800), "the request was cancelled", None)
}

/// A name a client sent, quoted in a message: at most 128 characters, control
/// characters escaped.
fn escape(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(128)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().nth(128).is_some() {
        out.push('…');
    }
    out
}

/// Cancels the call when the request's future is dropped before the call answered.
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        // Cancelling a call that has answered does nothing: its wait is over.
        self.0.cancel();
    }
}

/// The `Parts` of the HTTP request a message came in, which rmcp puts in its
/// extensions.
fn http_parts(extensions: &Extensions) -> Option<&Parts> {
    extensions.get::<Parts>()
}

/// The caller's W3C trace context: the request's `_meta.traceparent` (with its
/// `tracestate`), else the `traceparent` header (and `tracestate`) of the HTTP request
/// that carried it.
fn trace_context(
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
) -> Option<TraceContext> {
    // rmcp moves a request's `_meta` to its context.
    let meta = [
        request.meta.as_ref().map(|meta| &meta.0),
        Some(&context.meta.0),
    ];
    if let Some(meta) = meta
        .into_iter()
        .flatten()
        .find(|meta| meta.get_traceparent().is_some())
    {
        let traceparent = TraceContext::new(meta.get_traceparent().unwrap_or_default());
        return Some(match meta.get_tracestate() {
            Some(tracestate) => traceparent.with_tracestate(tracestate),
            None => traceparent,
        });
    }
    let headers = &http_parts(&context.extensions)?.headers;
    let traceparent = headers.get("traceparent")?.to_str().ok()?;
    let context = TraceContext::new(traceparent);
    Some(
        match headers
            .get("tracestate")
            .and_then(|value| value.to_str().ok())
        {
            Some(tracestate) => context.with_tracestate(tracestate),
            None => context,
        },
    )
}

/// When the request was read, as its transport noted it.
fn arrival(extensions: &Extensions) -> Option<Instant> {
    extensions
        .get::<Arrival>()
        .or_else(|| http_parts(extensions).and_then(|parts| parts.extensions.get::<Arrival>()))
        .map(|arrival| arrival.0)
}

/// Whether a call was supervised by the person at its client.
enum Supervised {
    /// The server is autonomous.
    No,
    /// The server is supervised; the person is asked through the client, if it declared
    /// elicitation (`None`: it did not).
    Asked(Option<Arc<Elicitor>>),
}

/// What a refusal that needed a person adds for a supervised server's client that cannot
/// ask its user.
const NO_ELICITATION: &str = "this server is supervised, but this client did not declare the \
     `elicitation` capability, so no person could be asked: approval needs an MCP client that \
     supports elicitation, on a supervised server";

/// A call's outcome as a tool result: what ran is its text and its data as
/// `structuredContent`; what was refused, failed or overran is `isError: true` with what
/// happened and what to do, in words and in `structuredContent.error`.
fn tool_result(outcome: CallOutcome, supervised: &Supervised) -> Result<CallToolResult, ErrorData> {
    match outcome {
        CallOutcome::Ran(output) => {
            let structured = output.data().map(|data| match data {
                Value::Object(_) => data.clone(),
                // `structuredContent` is an object (schema 2025-11-25).
                other => json!({ "result": other }),
            });
            let mut result =
                CallToolResult::success(vec![ContentBlock::text(output.as_text().to_owned())]);
            result.structured_content = structured;
            Ok(with_console(result, output.console()))
        }
        // Not finding the tool is a protocol error, as the specification's example.
        CallOutcome::UnknownCommand { command } => Err(ErrorData::invalid_params(
            format!(
                "unknown tool `{}`; tools/list names this server's tools",
                escape(&command)
            ),
            None,
        )),
        CallOutcome::InvalidArguments { message } => Ok(invalid_arguments(&message)),
        // A value the handler's type refuses is the caller's to fix, as clap's are.
        CallOutcome::Failed(err) if err.is_usage() => Ok(invalid_arguments(&err.to_string())),
        CallOutcome::Refused(refusal) => {
            // A refusal that needed a person, from a supervised server to a client that
            // cannot ask its user, says what approval needs.
            let message = match (supervised, refusal.rule) {
                (
                    Supervised::Asked(None),
                    Rule::DangerousNeverAutonomous | Rule::HumanApproval | Rule::HumanConfirmation,
                ) => format!("{}; {NO_ELICITATION}", refusal.message),
                _ => refusal.message.clone(),
            };
            Ok(error_result(
                "refused",
                &message,
                Some(&refusal.rule.to_string()),
                Some(&refusal.hint),
            ))
        }
        CallOutcome::Failed(err) => Ok(with_console(
            error_result("failed", &err.to_string(), None, None),
            err.console(),
        )),
        CallOutcome::Overran {
            budget,
            after,
            console,
        } => Ok(with_console(
            error_result(
                "overrun",
                &format!(
                    "the call ran past its resource band's {} ms: it was killed {} ms after it arrived, with every process it started",
                    budget.as_millis(),
                    after.as_millis()
                ),
                None,
                Some("the operator or the program's author can give the command a slower band"),
            ),
            console.as_deref(),
        )),
        CallOutcome::Cancelled { .. } => Err(cancelled()),
    }
}

/// `result` with what the handler wrote to its standard output and error (captured by its
/// worker process, escaped) as one more text block, marked as the handler's console.
fn with_console(mut result: CallToolResult, console: Option<&str>) -> CallToolResult {
    if let Some(console) = console {
        result.content.push(ContentBlock::text(format!(
            "the handler's console (its standard output and error):\n{console}"
        )));
    }
    result
}

/// The result of a call whose arguments the verb refused.
fn invalid_arguments(message: &str) -> CallToolResult {
    error_result(
        "invalid_arguments",
        &format!("invalid arguments: {message}"),
        None,
        Some("call the tool again with the arguments its inputSchema declares"),
    )
}

/// An `isError` result: the message and what to do as text, and the same as
/// `structuredContent.error` (`kind`, `message`, `rule`, `hint`).
fn error_result(
    kind: &str,
    message: &str,
    rule: Option<&str>,
    hint: Option<&str>,
) -> CallToolResult {
    let text = match hint {
        Some(hint) => format!("{message}\nto proceed: {hint}"),
        None => message.to_owned(),
    };
    let mut error = json!({ "kind": kind, "message": message });
    if let Some(rule) = rule {
        error["rule"] = Value::from(rule);
    }
    if let Some(hint) = hint {
        error["hint"] = Value::from(hint);
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "error": error }));
    result
}
