//! The MCP server of [cnv]: a grammar's verbs served to agents as MCP tools, every
//! `tools/call` through the same gate, sandbox and audit trail as the command line, in
//! agent mode always.
//!
//! [`Mcp`] is the server behind a command line's serve flags (the type parameter of
//! [`Cli`]; the facade `cnv`'s `Cli` is `Cli<Mcp>`), so any program built on the facade
//! serves with no code of its author's: its operator runs it with `--mcp-serve`
//! (standard input and output) or `--mcp-serve-http ADDR` (streamable HTTP at
//! `http://ADDR/mcp`, loopback only unless the operator sets [`MCP_ALLOW_REMOTE_ENV`], or
//! identity settings with which every caller needs a bearer token). A
//! program that serves by itself calls [`McpCli::mcp_server`] and one of
//! [`McpServer`]'s `serve_*` methods, after calling
//! [`Cli::serve_as_worker_if_asked`](cnv_cli::Cli::serve_as_worker_if_asked) at the top
//! of its `main` (so that its handlers run in worker processes of itself); the builder's
//! MCP settings are [`McpBuilder`]'s.
//!
//! * **One source of tools**: `tools/list` is [`Cli::mcp_tools`](cnv_cli::Cli::mcp_tools), the manifest
//!   `--mcp-tools` prints. No tool has an argument that reaches the workspace, the audit
//!   log or the mode: those are the operator's, from the builder and the environment.
//! * **Calls are agent calls**: `tools/call` is [`Cli::call`] with the session's
//!   [`CallOrigin::Mcp`](cnv_audit::CallOrigin::Mcp) (transport, session id, client name and version), which the
//!   audit trail records. A refusal or a handler's failure is a result with `isError:
//!   true` that says the rule and what to do; a handler's data is `structuredContent`,
//!   beside its text. An unknown tool is a JSON-RPC error (`-32602`). A client's
//!   `notifications/cancelled` stops the call ([`CancelToken`](cnv_cli::CancelToken)).
//! * **Sessions are registry sessions**: each MCP session (the stdio connection, each
//!   `Mcp-Session-Id` over HTTP) is a [`SessionHandle`](cnv_registry::SessionHandle) in
//!   the server's [`SessionRegistry`], registered at `initialize` with the client's name
//!   and version and removed when the connection ends, on HTTP `DELETE` or after the
//!   operator's idle timeout ([`MCP_IDLE_TIMEOUT_ENV`]). A request of a session that is
//!   not in the registry is refused.
//! * **Both protocol revisions on one endpoint**: a client of 2025-11-25 opens a session
//!   with `initialize` (above); a client of 2026-07-28 has none: its requests carry the
//!   version and its capabilities in `_meta`, each is served on its own (`server/discover`
//!   says what the server supports), and its calls are audited with no session id.
//! * **Quotas per principal** ([`MCP_QUOTA_ENV`], [`Quota`]): a call over one is refused
//!   before the gate, as a result with `isError` naming the quota and when it frees, and
//!   recorded under the rule `quota`. The principal is the authenticated caller where
//!   the server checks callers, else one `anonymous` principal for the server.
//! * **State shared by replicas** ([`MCP_STATE_ENV`]): in this process by default, or on
//!   Redis, where the quota counters, the legacy sessions (so that another replica
//!   restores one with the same `Mcp-Session-Id`), their principals and their SSE events
//!   (`Last-Event-ID` at any replica) live. The audit trail stays each replica's own.
//! * **Bounded by the operator** ([`McpLimits`]): at most 1,000 HTTP sessions at once
//!   (one more `initialize` is answered `503` with `Retry-After`); a request's header
//!   must arrive within 10 s and its body within 30 s (a half-sent request is dropped);
//!   a message (a stdio line, an HTTP body) of more than 4 MiB, or of more JSON values
//!   than one per 64 bytes of that, is refused while it is read, never held whole, and
//!   the server goes on; 16 calls of one session run at once and 16 more wait their
//!   turn. Over stdio the server reads no further message while the client leaves
//!   answers unread or the session's calls are all taken, so a client that stops reading
//!   stops its own requests, not the server's memory.
//!
//! * **Who calls, over HTTP** (with [`MCP_AUTH_ISSUER_ENV`], [`MCP_AUTH_AUDIENCE_ENV`],
//!   [`MCP_AUTH_JWKS_ENV`] and/or [`MCP_TOKEN_KEY_ENV`]): an OAuth 2.1 resource server.
//!   Every request carries a bearer token (a JWT access token checked against the
//!   issuer's JWKS, or a capability token checked against the operator's key), or is
//!   answered `401` with a challenge naming the RFC 9728 metadata the server publishes;
//!   the token's `cnv:` scopes bound `tools/list` and `tools/call` (`403
//!   insufficient_scope`) on top of the gate; a session answers only its opener's
//!   tokens; each call's audit entries name the principal
//!   ([`CallPrincipal`](cnv_audit::CallPrincipal)), never the token, and each refusal is
//!   recorded.
//!
//! Handlers are synchronous: a call runs on a thread of the runtime's blocking pool
//! (`Cli::call`, which hands the handler to a confined worker process), and at most
//! [`McpServer::MAX_CONCURRENT_CALLS`] run at once in the whole server; more wait their
//! turn. Every call the server takes reaches `Cli::call`, one cancelled before it started
//! too, so every try is in the audit trail.
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod calls;
mod elicit;
mod handler;
mod http;
mod message;
mod quota;
mod sessions;
mod settings;
mod state;
mod stdio;

pub use self::quota::{Quota, QuotaError, QuotaTarget, QuotaWindow};

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cnv_cli::{Cli, CliBuilder, Console, Exit, Serve, ServeRequest};
use cnv_registry::SessionRegistry;
use tokio_util::sync::CancellationToken;

use self::handler::Shared;
use self::sessions::Sessions;
use self::settings::Fixed;

/// The environment variable in which the operator sets how long an MCP session may stay
/// idle before the server ends it, in whole seconds (`0`: never), unless the program
/// fixed it with [`CliBuilder::mcp_idle_timeout`]. Default: 300 s over HTTP, none over
/// standard input and output (the connection is the session). A value that is not a
/// number refuses to serve.
pub const MCP_IDLE_TIMEOUT_ENV: &str = "CNV_MCP_IDLE_TIMEOUT";

/// The environment variable with which the operator lets `--mcp-serve-http` listen on
/// an address other than loopback (`1`; any value but empty, `0`, `false`, `no` or
/// `off`), as [`CliBuilder::mcp_allow_remote`] does. Without identity settings
/// ([`MCP_AUTH_ISSUER_ENV`], [`MCP_TOKEN_KEY_ENV`]) MCP over HTTP authenticates no one:
/// whoever reaches the address can call every tool an agent may call. With them, no
/// request is served without a bearer token, and a server may listen beyond loopback
/// without this variable.
pub const MCP_ALLOW_REMOTE_ENV: &str = "CNV_MCP_ALLOW_REMOTE";

/// The environment variable in which the operator names the authorization server whose
/// access tokens an HTTP server takes: the issuer (`iss`) they must carry, e.g.
/// `https://id.example.com/`, unless the program fixed it with
/// [`McpBuilder::mcp_auth_issuer`]. Set with [`MCP_AUTH_JWKS_ENV`] and
/// [`MCP_AUTH_AUDIENCE_ENV`]: then every request to `/mcp` needs `Authorization: Bearer
/// <JWT>` signed by a key of the issuer's JWKS (RS256, ES256 or EdDSA) for this server's
/// audience, within its `exp` and `nbf` (60 s of leeway), or is answered `401` with
/// `WWW-Authenticate: Bearer resource_metadata="…"`; its `cnv:` scopes bound which tools it
/// may list and call (`cnv:<Class>`: the verbs of that class and of every class below it;
/// `cnv:<noun>.<verb>`: one verb), on top of every rule of the gate. With identity set, the
/// server may listen beyond loopback without [`MCP_ALLOW_REMOTE_ENV`].
pub const MCP_AUTH_ISSUER_ENV: &str = "CNV_MCP_AUTH_ISSUER";

/// The environment variable in which the operator sets this server's resource identifier:
/// the audience (`aud`) its access tokens must name, and the `resource` of its protected
/// resource metadata (RFC 9728), usually its public URL (`https://mcp.example.com/mcp`),
/// unless the program fixed it with [`McpBuilder::mcp_auth_audience`]. Needed whenever the
/// server takes bearer tokens ([`MCP_AUTH_ISSUER_ENV`], [`MCP_TOKEN_KEY_ENV`]).
pub const MCP_AUTH_AUDIENCE_ENV: &str = "CNV_MCP_AUTH_AUDIENCE";

/// The environment variable in which the operator says where the authorization server's
/// JSON Web Key Set is: an `http://` URL or a file path (this build has no TLS client: an
/// `https://` URL is refused; save the set to a file, or serve it on loopback), unless the
/// program fixed it with [`McpBuilder::mcp_auth_jwks`]. It is read when the server starts
/// (a set that cannot be read refuses to serve) and again when a token names a key it
/// lacks, at most once a minute.
pub const MCP_AUTH_JWKS_ENV: &str = "CNV_MCP_AUTH_JWKS";

/// The environment variable in which the operator names the public half of their
/// capability token key (`cnv-token keygen`'s `PREFIX.pub`), unless the program fixed it
/// with [`McpBuilder::mcp_token_key`]: then the server also takes capability tokens
/// (`cnv-token mint`, narrowed by any holder with `cnv-token attenuate`) as bearer tokens,
/// verified offline against it. A bearer token of three `.`-separated parts is a JWT
/// access token; any other is read as a capability token. Needs
/// [`MCP_AUTH_AUDIENCE_ENV`].
pub const MCP_TOKEN_KEY_ENV: &str = "CNV_MCP_TOKEN_KEY";

/// The environment variable in which the operator sets how many MCP sessions an HTTP
/// server holds open at once, unless the program fixed it with
/// [`McpBuilder::mcp_max_sessions`]. Default: 1,000. One more `initialize` is answered
/// with HTTP `503 Service Unavailable` and a `Retry-After` header, until a session ends
/// (`DELETE`, its idle timeout). Over stdio the connection is the one session.
pub const MCP_MAX_SESSIONS_ENV: &str = "CNV_MCP_MAX_SESSIONS";

/// The environment variable in which the operator sets how long an HTTP client may take
/// to send a request's header, in whole seconds (`0`: no limit), unless the program fixed
/// it with [`McpBuilder::mcp_header_timeout`]. Default: 10 s. A connection whose header
/// is not whole by then (a half-sent request, or an idle connection kept alive) is
/// closed, so no client can hold the server's connections by sending slowly.
pub const MCP_HEADER_TIMEOUT_ENV: &str = "CNV_MCP_HEADER_TIMEOUT";

/// The environment variable in which the operator sets how long an HTTP client may take
/// to send a request's body, in whole seconds (`0`: no limit), unless the program fixed
/// it with [`McpBuilder::mcp_body_timeout`]. Default: 30 s. A body not whole by then is
/// answered `408 Request Timeout` and its connection closed.
pub const MCP_BODY_TIMEOUT_ENV: &str = "CNV_MCP_BODY_TIMEOUT";

/// The environment variable in which the operator sets the largest message the server
/// reads, in bytes (at least 4096), unless the program fixed it with
/// [`McpBuilder::mcp_max_message_bytes`]. Default: 4 MiB (4194304). It bounds a line over
/// stdio and a body over HTTP, and with it the JSON values one message may hold (one per
/// 64 bytes of it: 65,536 by default). A message over either is refused while it is
/// read, without being held whole: a JSON-RPC error `-32700` over stdio, HTTP
/// `413 Payload Too Large` over HTTP; the server goes on.
pub const MCP_MAX_MESSAGE_ENV: &str = "CNV_MCP_MAX_MESSAGE";

/// The environment variable in which the operator sets how many calls of one MCP session
/// run at once, unless the program fixed it with [`McpBuilder::mcp_calls_per_session`].
/// Default: 16. As many more wait their turn, in the order they came. Beyond those, over
/// stdio the server reads nothing more of the session until a call ends (the client's
/// writes wait in the pipe); over HTTP such a call is answered at once with the JSON-RPC
/// error `-32000` (nothing of it ran or was decided, and it is not in the audit trail).
pub const MCP_CALLS_PER_SESSION_ENV: &str = "CNV_MCP_CALLS_PER_SESSION";

/// The environment variable in which the operator sets quotas per principal, unless the
/// program fixed them with [`McpBuilder::mcp_quota`]: a comma-separated list of
/// `<Class or noun.verb>=<N>/<s|min|h>` (`calc.sum=5/min,ReadWriteFS=100/h`; see
/// [`Quota`]). A call over a quota is refused before the gate, in the audit trail, with a
/// tool result (`isError`) naming the quota and when it frees. The principal is the
/// authenticated caller where the server checks callers, else one `anonymous` principal
/// for the server. A list that does not read, or names a verb the program does not have,
/// refuses to serve. Default: none.
pub const MCP_QUOTA_ENV: &str = "CNV_MCP_QUOTA";

/// The environment variable in which the operator chooses where the state replicas
/// share lives, unless the program fixed it with [`McpBuilder::mcp_state`]: `memory`
/// (this process; the default) or `redis://HOST:PORT/DB` (quota counters, legacy
/// sessions and their principals, shared by every replica naming that database). A Redis
/// that cannot be reached when the server starts refuses to serve; one lost while it
/// serves refuses the calls that need it (quotas fail closed) until it is back.
pub const MCP_STATE_ENV: &str = "CNV_MCP_STATE";

/// The environment variable with which the operator runs the server supervised: `elicit`
/// (in any case) lets a person at an MCP client that declared the `elicitation`
/// capability answer what the policy asks of a person, unless the program fixed it with
/// [`McpBuilder::mcp_supervised`]. Unset, empty or `off` (also `0`, `no`, `false`,
/// `autonomous`): the default, an autonomous server, which never asks anyone. Any other
/// value refuses to serve. See [`McpSupervision`].
pub const MCP_SUPERVISED_ENV: &str = "CNV_MCP_SUPERVISED";

/// Whether a person watches the agent's calls from its MCP client, as the operator says
/// ([`MCP_SUPERVISED_ENV`], [`McpBuilder::mcp_supervised`]).
///
/// | | a client that declared `elicitation` | any other client |
/// |---|---|---|
/// | `Autonomous` (default) | agent mode: what needs a person is refused, nobody is asked | the same |
/// | `Elicit` | human mode (`Supervised`): what the policy asks of a person there (a confirmation, an approval of `Dangerous` after the justification) is asked of the person at the client, through an elicitation form; their answer is recorded as the approval | agent mode, as `Autonomous`; a refusal says approval needs such a client on a supervised server |
///
/// The policy (`EscalationPolicy::requirement` of `cnv-typestate`) decides what
/// needs a person, in either mode; a verb it never lets run in human mode is never asked
/// about. Agent mode set for the whole program (`CNV_AGENT`, the builder's) wins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum McpSupervision {
    /// Every call is the agent's alone (agent mode); nobody is asked anything.
    #[default]
    Autonomous,
    /// A person at an elicitation-capable client answers what needs a person.
    Elicit,
}

/// The idle timeout of HTTP sessions when the operator sets none: rmcp's own default.
const DEFAULT_HTTP_IDLE: Duration = Duration::from_secs(300);

/// What one server allows its clients: the operator's settings (the builder's
/// [`McpBuilder`] methods, else the `CNV_MCP_*` variables, else [`McpLimits::DEFAULT`]),
/// as [`McpServer::limits`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpLimits {
    /// HTTP sessions open at once ([`MCP_MAX_SESSIONS_ENV`]).
    pub max_sessions: usize,
    /// How long an HTTP request's header may take to arrive (`None`: no limit;
    /// [`MCP_HEADER_TIMEOUT_ENV`]).
    pub header_timeout: Option<Duration>,
    /// How long an HTTP request's body may take to arrive (`None`: no limit;
    /// [`MCP_BODY_TIMEOUT_ENV`]).
    pub body_timeout: Option<Duration>,
    /// The largest message read, in bytes ([`MCP_MAX_MESSAGE_ENV`]).
    pub max_message_bytes: usize,
    /// Calls of one session that run at once ([`MCP_CALLS_PER_SESSION_ENV`]).
    pub calls_per_session: usize,
}

impl McpLimits {
    /// The defaults: 1,000 sessions, 10 s for a header, 30 s for a body, messages of
    /// 4 MiB, 16 calls of a session at once.
    pub const DEFAULT: Self = Self {
        max_sessions: 1000,
        header_timeout: Some(Duration::from_secs(10)),
        body_timeout: Some(Duration::from_secs(30)),
        max_message_bytes: 4 * 1024 * 1024,
        calls_per_session: 16,
    };

    /// The most JSON values (array elements and object members) a message may hold: one
    /// per 64 bytes of [`max_message_bytes`](Self::max_message_bytes), so that parsing
    /// a message costs a small multiple of the cap in memory whatever its shape.
    #[must_use]
    pub const fn max_message_values(&self) -> usize {
        message::max_values(self.max_message_bytes)
    }
}

impl Default for McpLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The MCP server of a command line: the server behind `--mcp-serve` and
/// `--mcp-serve-http ADDR` (the [`Serve`] type parameter of [`Cli`]), holding what the
/// program's author decided about serving ([`McpBuilder`]); the launcher's variables
/// come on top when it serves.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Mcp {
    settings: Fixed,
}

impl Serve for Mcp {
    const HTTP_HELP: &'static str = "Serve every command as an MCP tool over streamable HTTP at \
         http://ADDR/mcp, in agent mode (IP:PORT; loopback only unless CNV_MCP_ALLOW_REMOTE=1 or \
         CNV_MCP_AUTH_* asks every caller for a bearer token)";

    fn serve(cli: &Cli<Self>, request: ServeRequest, console: &mut Console<'_>) -> Exit {
        let app = cli.model().app_name().to_owned();
        let server = McpServer::new(cli.clone(), |name| console.var(name)).map(|mut server| {
            server.signals = true;
            server
        });
        let served = server.and_then(|server| match request {
            ServeRequest::Http(addr) => {
                let mode = match server.supervision() {
                    McpSupervision::Autonomous => "agent mode",
                    McpSupervision::Elicit => {
                        "agent mode, supervised by the person at a client that supports elicitation"
                    }
                };
                server.serve_http(addr, |local| {
                    let stderr = console.stderr();
                    let _ = writeln!(
                        stderr,
                        "{app}: serving MCP at http://{local}/mcp ({mode}; stop with Ctrl-C)"
                    );
                    let _ = stderr.flush();
                })
            }
            ServeRequest::Stdio => server.serve_stdio(),
            // A request of a later kind is not this server's to serve.
            _ => Err(McpError::Connection(format!(
                "{} is not a way this server serves",
                request.flag()
            ))),
        });
        match served {
            Ok(()) => Exit::Success,
            Err(err) => {
                // A connection's error may quote what the client sent.
                let _ = writeln!(
                    console.stderr(),
                    "error: {}",
                    cnv_caps::text::escape_for_display(&err.to_string())
                );
                err.exit()
            }
        }
    }
}

/// The builder's MCP settings: the program's author's decisions about serving, which the
/// launcher's variables cannot change. Each one left unset is the launcher's (its
/// `CNV_MCP_*` variable) or the default ([`McpLimits::DEFAULT`]). In the facade's prelude.
pub trait McpBuilder: Sized {
    /// How long an MCP session may stay idle before the server ends it (`None`: never),
    /// whatever the launcher sets in [`MCP_IDLE_TIMEOUT_ENV`]. Over standard input and
    /// output an idle session ends the connection, so a program served to a desktop
    /// client usually leaves this unset there.
    #[must_use]
    fn mcp_idle_timeout(self, timeout: Option<Duration>) -> Self;

    /// Lets `--mcp-serve-http` listen on an address other than loopback (as
    /// [`MCP_ALLOW_REMOTE_ENV`] does), for anyone: without identity settings
    /// ([`mcp_auth_issuer`](Self::mcp_auth_issuer), [`mcp_token_key`](Self::mcp_token_key))
    /// the server authenticates no one, so put it behind something that does, or on a
    /// network whose every client may call every tool an agent may call. With identity
    /// settings no opt-in is needed.
    #[must_use]
    fn mcp_allow_remote(self) -> Self;

    /// How many HTTP sessions the server holds open at once (at least 1; default 1,000),
    /// whatever the launcher sets in [`MCP_MAX_SESSIONS_ENV`]. One more `initialize` is
    /// answered `503` with `Retry-After`.
    #[must_use]
    fn mcp_max_sessions(self, sessions: usize) -> Self;

    /// How long an HTTP request's header may take to arrive (`None`: no limit; default
    /// 10 s), whatever the launcher sets in [`MCP_HEADER_TIMEOUT_ENV`]. A connection whose
    /// header is not whole by then is closed.
    #[must_use]
    fn mcp_header_timeout(self, timeout: Option<Duration>) -> Self;

    /// How long an HTTP request's body may take to arrive (`None`: no limit; default
    /// 30 s), whatever the launcher sets in [`MCP_BODY_TIMEOUT_ENV`]. A body not whole by
    /// then is answered `408` and its connection closed.
    #[must_use]
    fn mcp_body_timeout(self, timeout: Option<Duration>) -> Self;

    /// The largest message the server reads, in bytes (at least 4096; default 4 MiB),
    /// whatever the launcher sets in [`MCP_MAX_MESSAGE_ENV`]; a message may also hold at
    /// most one JSON value per 64 of these bytes. A longer or fuller one is refused while
    /// it is read.
    #[must_use]
    fn mcp_max_message_bytes(self, bytes: usize) -> Self;

    /// How many calls of one session run at once (at least 1; default 16), whatever the
    /// launcher sets in [`MCP_CALLS_PER_SESSION_ENV`] (which says what happens beyond).
    #[must_use]
    fn mcp_calls_per_session(self, calls: usize) -> Self;

    /// One more quota per principal ([`Quota`]); once the program sets any, the
    /// launcher's [`MCP_QUOTA_ENV`] is not read.
    #[must_use]
    fn mcp_quota(self, quota: Quota) -> Self;

    /// Where the state replicas share lives: `memory` or `redis://HOST:PORT/DB`, whatever
    /// the launcher sets in [`MCP_STATE_ENV`] (which says what is shared). A value that
    /// is neither refuses to serve.
    #[must_use]
    fn mcp_state(self, state: impl Into<String>) -> Self;

    /// The issuer (`iss`) whose access tokens the HTTP server takes, whatever the
    /// launcher sets in [`MCP_AUTH_ISSUER_ENV`] (which says what taking them means); set
    /// with [`mcp_auth_audience`](Self::mcp_auth_audience) and
    /// [`mcp_auth_jwks`](Self::mcp_auth_jwks).
    #[must_use]
    fn mcp_auth_issuer(self, issuer: impl Into<String>) -> Self;

    /// This server's resource identifier, the audience its bearer tokens must name,
    /// whatever the launcher sets in [`MCP_AUTH_AUDIENCE_ENV`].
    #[must_use]
    fn mcp_auth_audience(self, audience: impl Into<String>) -> Self;

    /// Where the issuer's JWKS is (an `http://` URL or a file path), whatever the
    /// launcher sets in [`MCP_AUTH_JWKS_ENV`].
    #[must_use]
    fn mcp_auth_jwks(self, jwks: impl Into<String>) -> Self;

    /// The operator's public token key file, with which the HTTP server verifies
    /// capability tokens, whatever the launcher sets in [`MCP_TOKEN_KEY_ENV`].
    #[must_use]
    fn mcp_token_key(self, public_key: impl Into<std::path::PathBuf>) -> Self;

    /// Whether a person at the agent's MCP client is asked what the policy asks of a
    /// person ([`McpSupervision`]; default `Autonomous`), whatever the launcher sets in
    /// [`MCP_SUPERVISED_ENV`].
    #[must_use]
    fn mcp_supervised(self, supervision: McpSupervision) -> Self;
}

impl<B> McpBuilder for CliBuilder<Mcp, B> {
    fn mcp_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure_server(|mcp| mcp.settings.idle_timeout = Some(timeout))
    }

    fn mcp_allow_remote(self) -> Self {
        self.configure_server(|mcp| mcp.settings.allow_remote = true)
    }

    fn mcp_max_sessions(self, sessions: usize) -> Self {
        self.configure_server(|mcp| mcp.settings.max_sessions = Some(sessions))
    }

    fn mcp_header_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure_server(|mcp| mcp.settings.header_timeout = Some(timeout))
    }

    fn mcp_body_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure_server(|mcp| mcp.settings.body_timeout = Some(timeout))
    }

    fn mcp_max_message_bytes(self, bytes: usize) -> Self {
        self.configure_server(|mcp| mcp.settings.max_message_bytes = Some(bytes))
    }

    fn mcp_calls_per_session(self, calls: usize) -> Self {
        self.configure_server(|mcp| mcp.settings.calls_per_session = Some(calls))
    }

    fn mcp_quota(self, quota: Quota) -> Self {
        self.configure_server(|mcp| {
            mcp.settings.quotas.get_or_insert_with(Vec::new).push(quota);
        })
    }

    fn mcp_state(self, state: impl Into<String>) -> Self {
        let state = state.into();
        self.configure_server(|mcp| mcp.settings.state = Some(state))
    }

    fn mcp_auth_issuer(self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.configure_server(|mcp| mcp.settings.auth_issuer = Some(issuer))
    }

    fn mcp_auth_audience(self, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        self.configure_server(|mcp| mcp.settings.auth_audience = Some(audience))
    }

    fn mcp_auth_jwks(self, jwks: impl Into<String>) -> Self {
        let jwks = jwks.into();
        self.configure_server(|mcp| mcp.settings.auth_jwks = Some(jwks))
    }

    fn mcp_token_key(self, public_key: impl Into<std::path::PathBuf>) -> Self {
        let public_key = public_key.into();
        self.configure_server(|mcp| mcp.settings.token_key = Some(public_key))
    }

    fn mcp_supervised(self, supervision: McpSupervision) -> Self {
        self.configure_server(|mcp| mcp.settings.supervision = Some(supervision))
    }
}

/// Serving a command line from code: [`mcp_server`](Self::mcp_server). In the facade's
/// prelude.
pub trait McpCli {
    /// An MCP server of this command line (a clone of it: the server owns what it serves),
    /// with the operator's settings from the builder and the process's environment (the
    /// `CNV_MCP_*` variables); what `--mcp-serve` and `--mcp-serve-http` run.
    ///
    /// # Errors
    ///
    /// [`McpError::InvalidSetting`] when a variable has a value the server cannot use.
    fn mcp_server(&self) -> Result<McpServer, McpError>;
}

impl McpCli for Cli<Mcp> {
    fn mcp_server(&self) -> Result<McpServer, McpError> {
        McpServer::new(self.clone(), |name| std::env::var(name).ok())
    }
}

/// Why an MCP server did not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// An operator's variable has a value the server cannot use.
    #[error("{name}={value:?} is not {expected}; set it to one, or unset it for the default")]
    InvalidSetting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should be (`"a whole number of seconds (0: no limit)"`).
        expected: &'static str,
    },
    /// A quota of the operator's cannot be used.
    #[error("{name}: {source}")]
    InvalidQuota {
        /// Where it was set (the variable, or the builder).
        name: &'static str,
        /// What is wrong with it.
        source: QuotaError,
    },
    /// The shared state ([`MCP_STATE_ENV`]) cannot be reached when the server starts.
    #[error("{0}; start it, or fix {MCP_STATE_ENV} (redis://HOST:PORT/DB)")]
    State(String),
    /// The operator's identity settings cannot be used (incomplete, or their keys cannot
    /// be read).
    #[error("the MCP server's identity settings cannot be used: {0}")]
    Auth(String),
    /// The HTTP address is not loopback, and the operator did not allow it.
    #[error(
        "{addr} is not a loopback address, and this server authenticates no one; serve on 127.0.0.1 or [::1], set {MCP_AUTH_ISSUER_ENV}, {MCP_AUTH_AUDIENCE_ENV} and {MCP_AUTH_JWKS_ENV} (or {MCP_TOKEN_KEY_ENV}) so that every request needs a bearer token, or set {MCP_ALLOW_REMOTE_ENV}=1 (CliBuilder::mcp_allow_remote) to accept anyone's calls from other machines"
    )]
    RemoteNotAllowed {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The HTTP address cannot be listened on.
    #[error("cannot listen on {addr}: {error}; choose a free address (port 0 picks one)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        error: io::Error,
    },
    /// The async runtime the server runs on could not start.
    #[error("the MCP server's runtime could not start: {0}")]
    Runtime(io::Error),
    /// The grammar's tool manifest does not read as MCP tools (a bug in cnv).
    #[error("the tool manifest is not a valid MCP tools/list result: {0}")]
    Manifest(serde_json::Error),
    /// The connection failed before or while serving.
    #[error("the MCP connection failed: {0}")]
    Connection(String),
}

impl McpError {
    /// The exit code a command line gives for it: a usage error when the operator's
    /// settings are refused, a failure otherwise.
    fn exit(&self) -> Exit {
        match self {
            Self::InvalidSetting { .. }
            | Self::InvalidQuota { .. }
            | Self::RemoteNotAllowed { .. }
            | Self::Auth(_) => Exit::Usage,
            Self::Bind { .. }
            | Self::Runtime(_)
            | Self::Manifest(_)
            | Self::Connection(_)
            | Self::State(_) => Exit::Failed,
        }
    }
}

/// The MCP server of one [`Cli`]: its session registry, its settings, and the ways to
/// serve. Each `serve_*` call runs until its connection ends (standard input and
/// output) or [`McpShutdown::shutdown`] is called (both), on an async runtime of its own.
///
/// ```no_run
/// use cnv_mcp::{Mcp, McpCli};
/// # fn cli() -> cnv_cli::Cli<Mcp> { unimplemented!() }
/// let cli = cli();
/// // Started again as one of its own workers, the program serves calls and exits here.
/// cli.serve_as_worker_if_asked();
/// let server = cli.mcp_server()?;
/// server.serve_http("127.0.0.1:0".parse()?, |addr| eprintln!("serving http://{addr}/mcp"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct McpServer {
    /// The command line served (a clone: its handlers, settings, workers and logs are
    /// shared with the one it was made from).
    cli: Cli<Mcp>,
    sessions: Arc<Sessions>,
    shutdown: CancellationToken,
    /// The idle timeout: of HTTP sessions, and of the stdio connection.
    idle_http: Option<Duration>,
    idle_stdio: Option<Duration>,
    allow_remote: bool,
    limits: McpLimits,
    /// Quotas per principal, and where the state they are counted in lives.
    quotas: Vec<Quota>,
    state: state::StateChoice,
    /// What the HTTP server takes as bearer tokens (`None`: none is asked for).
    auth: Option<auth::AuthSettings>,
    supervision: McpSupervision,
    /// Whether SIGINT and SIGTERM shut the server down (the command line's flags).
    signals: bool,
}

impl McpServer {
    /// How many calls run at once in the whole server, whatever their sessions; more wait
    /// their turn, each holding only its request (a session's own calls are bounded by
    /// [`McpLimits::calls_per_session`]).
    pub const MAX_CONCURRENT_CALLS: usize = 16;

    /// How long a server that stops waits for the calls under way (all cancelled by then)
    /// to end and be recorded.
    const WIND_DOWN: Duration = Duration::from_secs(10);

    fn new(cli: Cli<Mcp>, var: impl Fn(&str) -> Option<String>) -> Result<Self, McpError> {
        let resolved = settings::resolve(&cli.server().settings, var)?;
        quota::check_verbs(
            &cli,
            &resolved.quotas,
            cli.server().settings.quotas.is_some(),
        )?;
        let idle = resolved.idle_timeout;
        Ok(Self {
            cli,
            sessions: Arc::new(Sessions::new(Arc::new(SessionRegistry::default()))),
            shutdown: CancellationToken::new(),
            idle_http: idle.unwrap_or(Some(DEFAULT_HTTP_IDLE)),
            idle_stdio: idle.flatten(),
            allow_remote: resolved.allow_remote,
            limits: resolved.limits,
            quotas: resolved.quotas,
            state: resolved.state,
            auth: resolved.auth,
            supervision: resolved.supervision,
            signals: false,
        })
    }

    /// The registry that holds this server's MCP sessions while they are open.
    #[must_use]
    pub fn registry(&self) -> &Arc<SessionRegistry> {
        self.sessions.registry()
    }

    /// A handle that ends every `serve_*` call of this server, from any thread.
    #[must_use]
    pub fn shutdown_handle(&self) -> McpShutdown {
        McpShutdown(self.shutdown.clone())
    }

    /// The idle timeout of HTTP sessions (`None`: they never expire).
    #[must_use]
    pub fn http_idle_timeout(&self) -> Option<Duration> {
        self.idle_http
    }

    /// Whether a person at an elicitation-capable client is asked what needs a person,
    /// as the operator set it.
    #[must_use]
    pub fn supervision(&self) -> McpSupervision {
        self.supervision
    }

    /// What this server allows its clients (sessions, time to send a request, the size of
    /// a message, calls of a session at once), as the operator set it.
    #[must_use]
    pub fn limits(&self) -> McpLimits {
        self.limits
    }

    /// The same server, silent: it does not write a line to standard error when a
    /// session opens or closes (it does by default, with the number of open sessions,
    /// for the operator).
    #[must_use]
    pub fn quiet(self) -> Self {
        self.sessions.set_quiet();
        self
    }

    /// Serves one MCP session over the process's standard input and output until the
    /// client closes its end (or the idle timeout, or [`McpShutdown::shutdown`]).
    /// Standard output carries only protocol messages.
    ///
    /// # Errors
    ///
    /// [`McpError::Runtime`], [`McpError::Manifest`] or [`McpError::Connection`].
    pub fn serve_stdio(&self) -> Result<(), McpError> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout())
    }

    /// Serves one MCP session over `read` and `write` (newline-delimited JSON-RPC, as on
    /// standard input and output) until `read` ends. A line that is not JSON gets a
    /// JSON-RPC parse error (`-32700`), as does a line over the message cap
    /// ([`McpLimits::max_message_bytes`], or its JSON values), refused as it is read. No
    /// message is read while more than a message's worth of answers is unwritten, or
    /// while the session's calls are all taken (running or waiting): the client's writes
    /// wait until it reads.
    ///
    /// # Errors
    ///
    /// [`McpError::Runtime`], [`McpError::Manifest`] or [`McpError::Connection`].
    pub fn serve_io<R, W>(&self, read: R, write: W) -> Result<(), McpError>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let runtime = runtime()?;
        let shared = self.shared(&runtime)?;
        let transport = stdio::LineTransport::new(read, write, self.idle_stdio, &self.limits);
        let stop = self.stop_signal();
        let result = runtime.block_on(stdio::serve(Arc::clone(&shared), transport, stop));
        Self::wind_down(runtime, &shared);
        result
    }

    /// Serves MCP over streamable HTTP at `http://ADDR/mcp` until
    /// [`McpShutdown::shutdown`] (or SIGINT/SIGTERM under `--mcp-serve-http`), calling
    /// `bound` with the address listened on (port 0 picks a free one) before serving.
    ///
    /// Every request's `Host` must be loopback unless remote calls are allowed, and a
    /// request with an `Origin` (a browser's) is refused. A body that is not JSON gets a
    /// JSON-RPC parse error (`-32700`, status 400). The operator's [`McpLimits`] hold: a
    /// header or body that does not arrive in time ends its connection (a body with
    /// `408`), a body over the message cap is `413`, an `initialize` past the sessions
    /// cap is `503` with `Retry-After`.
    ///
    /// # Errors
    ///
    /// [`McpError::RemoteNotAllowed`], [`McpError::Bind`], [`McpError::Runtime`],
    /// [`McpError::Manifest`].
    pub fn serve_http(
        &self,
        addr: SocketAddr,
        bound: impl FnOnce(SocketAddr),
    ) -> Result<(), McpError> {
        let loopback = addr.ip().is_loopback();
        if !loopback && !self.allow_remote && self.auth.is_none() {
            return Err(McpError::RemoteNotAllowed { addr });
        }
        let runtime = runtime()?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .and_then(|listener| listener.local_addr().map(|local| (listener, local)));
        let (listener, local) = listener.map_err(|error| McpError::Bind { addr, error })?;
        let shared = self.shared(&runtime)?;
        let auth = match &self.auth {
            Some(settings) => {
                let scopes = shared.scopes_supported();
                Some(Arc::new(
                    runtime.block_on(auth::Auth::new(settings, scopes))?,
                ))
            }
            None => None,
        };
        bound(local);
        let options = http::Options {
            idle: self.idle_http,
            // Clients beyond loopback name the server by a `Host` of theirs.
            remote: self.allow_remote || (self.auth.is_some() && !loopback),
            limits: self.limits,
        };
        let stop = self.stop_signal();
        let result = runtime.block_on(http::serve(
            Arc::clone(&shared),
            listener,
            options,
            auth,
            stop,
        ));
        Self::wind_down(runtime, &shared);
        result
    }

    /// What every session of a `serve_*` call shares, with the shared state connected;
    /// the command line's workers are started now, so that the first calls do not wait
    /// for them.
    fn shared(&self, runtime: &tokio::runtime::Runtime) -> Result<Arc<Shared>, McpError> {
        let state = runtime.block_on(self.state.connect(self.cli.model().app_name()))?;
        let quotas = quota::Quotas::new(self.quotas.clone(), state);
        let shared = Shared::new(
            &self.cli,
            Arc::clone(&self.sessions),
            self.limits,
            quotas,
            self.supervision,
        )?;
        self.cli.prestart_workers();
        Ok(shared)
    }

    /// Ends a `serve_*` call: the runtime is shut down, which drops every request still
    /// under way (cancelling its call), then the calls still running are waited for, so
    /// that each is in the audit trail before `serve_*` returns. A read of standard input
    /// cannot be cancelled: it is left behind.
    fn wind_down(runtime: tokio::runtime::Runtime, shared: &Shared) {
        runtime.shutdown_timeout(Duration::from_millis(100));
        shared.calls.wait_idle(Self::WIND_DOWN);
    }

    /// What ends the server: its shutdown handle, and the signals when it serves a
    /// command line's flags.
    fn stop_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let shutdown = self.shutdown.clone();
        let signals = self.signals;
        async move {
            if signals {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = terminated() => shutdown.cancel(),
                }
            } else {
                shutdown.cancelled().await;
            }
        }
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("app", &self.cli.model().app_name())
            .field("sessions", &self.registry().len())
            .field("idle_http", &self.idle_http)
            .field("idle_stdio", &self.idle_stdio)
            .field("allow_remote", &self.allow_remote)
            .field("limits", &self.limits)
            .field("quotas", &self.quotas)
            .field("state", &self.state)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Ends the `serve_*` calls of one [`McpServer`] (every session is closed and
/// unregistered). Cheap to clone, usable from any thread.
#[derive(Clone, Debug)]
pub struct McpShutdown(CancellationToken);

impl McpShutdown {
    /// Asks the server to stop: no new session or call is taken, the open ones end.
    pub fn shutdown(&self) {
        self.0.cancel();
    }
}

/// The runtime a server runs on: multi-threaded, dropped when its serving ends.
fn runtime() -> Result<tokio::runtime::Runtime, McpError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cnv mcp")
        .build()
        .map_err(McpError::Runtime)
}

/// SIGINT or (on Unix) SIGTERM.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
