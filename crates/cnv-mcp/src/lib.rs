//! The MCP server of [cnv]: a grammar's verbs served to agents as MCP tools, every
//! `tools/call` through the same gate, sandbox and audit trail as the command line, in
//! agent mode always.
//!
//! [`Mcp`] is the server behind a command line's serve flags (the type parameter of
//! [`Cli`]; the facade `cnv`'s `Cli` is `Cli<Mcp>`), so any program built on the facade
//! serves with no code of its author's: its operator runs it with `--mcp-serve`
//! (standard input and output) or `--mcp-serve-http ADDR` (streamable HTTP at
//! `http://ADDR/mcp`, loopback only unless the operator sets [`MCP_ALLOW_REMOTE_ENV`]). A
//! program that serves by itself calls [`McpCli::mcp_server`] and one of
//! [`McpServer`]'s `serve_*` methods; the builder's MCP settings are [`McpBuilder`]'s.
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
//!
//! Handlers are synchronous and borrow nothing from the server's async runtime: a small
//! pool of dispatcher threads, scoped to the call that serves and holding `&Cli`, takes
//! the calls from the protocol's tasks through a bounded queue (at most
//! [`McpServer::MAX_CONCURRENT_CALLS`] run at once; more wait their turn).
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dispatch;
mod handler;
mod http;
mod sessions;
mod stdio;

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

/// The environment variable in which the operator sets how long an MCP session may stay
/// idle before the server ends it, in whole seconds (`0`: never), unless the program
/// fixed it with [`CliBuilder::mcp_idle_timeout`]. Default: 300 s over HTTP, none over
/// standard input and output (the connection is the session). A value that is not a
/// number refuses to serve.
pub const MCP_IDLE_TIMEOUT_ENV: &str = "CNV_MCP_IDLE_TIMEOUT";

/// The environment variable with which the operator lets `--mcp-serve-http` listen on
/// an address other than loopback (`1`; any value but empty, `0`, `false`, `no` or
/// `off`), as [`CliBuilder::mcp_allow_remote`] does. MCP over HTTP has no authentication
/// of its own: whoever reaches the address can call every tool an agent may call.
pub const MCP_ALLOW_REMOTE_ENV: &str = "CNV_MCP_ALLOW_REMOTE";

/// The idle timeout of HTTP sessions when the operator sets none: rmcp's own default.
const DEFAULT_HTTP_IDLE: Duration = Duration::from_secs(300);

/// The MCP server of a command line: the server behind `--mcp-serve` and
/// `--mcp-serve-http ADDR` (the [`Serve`] type parameter of [`Cli`]), holding what the
/// program's author decided about serving ([`McpBuilder`]); the launcher's variables
/// come on top when it serves.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Mcp {
    /// `Some(None)`: sessions never expire; `None`: the launcher's or the default.
    idle_timeout: Option<Option<Duration>>,
    allow_remote: bool,
}

impl Serve for Mcp {
    const HTTP_HELP: &'static str = "Serve every command as an MCP tool over streamable HTTP at \
         http://ADDR/mcp, in agent mode (IP:PORT; loopback only unless CNV_MCP_ALLOW_REMOTE=1)";

    fn serve(cli: &Cli<Self>, request: ServeRequest, console: &mut Console<'_>) -> Exit {
        let app = cli.model().app_name().to_owned();
        let server = McpServer::new(cli, |name| console.var(name)).map(|mut server| {
            server.signals = true;
            server
        });
        let served = server.and_then(|server| match request {
            ServeRequest::Http(addr) => server.serve_http(addr, |local| {
                let stderr = console.stderr();
                let _ = writeln!(
                    stderr,
                    "{app}: serving MCP at http://{local}/mcp (agent mode; stop with Ctrl-C)"
                );
                let _ = stderr.flush();
            }),
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
/// launcher's variables cannot loosen. In the facade's prelude.
pub trait McpBuilder: Sized {
    /// How long an MCP session may stay idle before the server ends it (`None`: never),
    /// whatever the launcher sets in [`MCP_IDLE_TIMEOUT_ENV`]. Over standard input and
    /// output an idle session ends the connection, so a program served to a desktop
    /// client usually leaves this unset there.
    #[must_use]
    fn mcp_idle_timeout(self, timeout: Option<Duration>) -> Self;

    /// Lets `--mcp-serve-http` listen on an address other than loopback (as
    /// [`MCP_ALLOW_REMOTE_ENV`] does). MCP over HTTP has no authentication of its own: put
    /// the server behind something that has, or on a network whose every client may call
    /// every tool an agent may call.
    #[must_use]
    fn mcp_allow_remote(self) -> Self;
}

impl<B> McpBuilder for CliBuilder<Mcp, B> {
    fn mcp_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure_server(|mcp| mcp.idle_timeout = Some(timeout))
    }

    fn mcp_allow_remote(self) -> Self {
        self.configure_server(|mcp| mcp.allow_remote = true)
    }
}

/// Serving a command line from code: [`mcp_server`](Self::mcp_server). In the facade's
/// prelude.
pub trait McpCli {
    /// An MCP server of this command line, with the operator's settings from the builder
    /// and the process's environment ([`MCP_IDLE_TIMEOUT_ENV`], [`MCP_ALLOW_REMOTE_ENV`]);
    /// what `--mcp-serve` and `--mcp-serve-http` run.
    ///
    /// # Errors
    ///
    /// [`McpError::InvalidSetting`] when a variable has a value the server cannot use.
    fn mcp_server(&self) -> Result<McpServer<'_>, McpError>;
}

impl McpCli for Cli<Mcp> {
    fn mcp_server(&self) -> Result<McpServer<'_>, McpError> {
        McpServer::new(self, |name| std::env::var(name).ok())
    }
}

/// Why an MCP server did not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// An operator's variable has a value the server cannot use.
    #[error(
        "{name}={value:?} is not a whole number of seconds; set it to one (0: sessions never expire) or unset it"
    )]
    InvalidSetting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The HTTP address is not loopback, and the operator did not allow it.
    #[error(
        "{addr} is not a loopback address, and MCP over HTTP has no authentication of its own; serve on 127.0.0.1 or [::1], or set {MCP_ALLOW_REMOTE_ENV}=1 (CliBuilder::mcp_allow_remote) to accept calls from other machines"
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
            Self::InvalidSetting { .. } | Self::RemoteNotAllowed { .. } => Exit::Usage,
            Self::Bind { .. } | Self::Runtime(_) | Self::Manifest(_) | Self::Connection(_) => {
                Exit::Failed
            }
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
/// let server = cli.mcp_server()?;
/// server.serve_http("127.0.0.1:0".parse()?, |addr| eprintln!("serving http://{addr}/mcp"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct McpServer<'cli> {
    cli: &'cli Cli<Mcp>,
    sessions: Arc<Sessions>,
    shutdown: CancellationToken,
    /// The idle timeout: of HTTP sessions, and of the stdio connection.
    idle_http: Option<Duration>,
    idle_stdio: Option<Duration>,
    allow_remote: bool,
    /// Whether SIGINT and SIGTERM shut the server down (the command line's flags).
    signals: bool,
}

impl<'cli> McpServer<'cli> {
    /// How many calls run at once; more wait in a queue (four times as long) and then
    /// hold their client's request until a place frees.
    pub const MAX_CONCURRENT_CALLS: usize = 16;

    fn new(cli: &'cli Cli<Mcp>, var: impl Fn(&str) -> Option<String>) -> Result<Self, McpError> {
        let settings = cli.server();
        let idle = match settings.idle_timeout {
            Some(fixed) => Some(fixed),
            None => match var(MCP_IDLE_TIMEOUT_ENV).filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(0) => Some(None),
                    Ok(seconds) => Some(Some(Duration::from_secs(seconds))),
                    Err(_) => {
                        return Err(McpError::InvalidSetting {
                            name: MCP_IDLE_TIMEOUT_ENV,
                            value,
                        });
                    }
                },
            },
        };
        let allow_remote = settings.allow_remote
            || var(MCP_ALLOW_REMOTE_ENV).is_some_and(|value| cnv_cli::switch_is_on(&value));
        Ok(Self {
            cli,
            sessions: Arc::new(Sessions::new(Arc::new(SessionRegistry::default()))),
            shutdown: CancellationToken::new(),
            idle_http: idle.unwrap_or(Some(DEFAULT_HTTP_IDLE)),
            idle_stdio: idle.flatten(),
            allow_remote,
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
    /// [`McpError::Runtime`] or [`McpError::Connection`].
    pub fn serve_stdio(&self) -> Result<(), McpError> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout())
    }

    /// Serves one MCP session over `read` and `write` (newline-delimited JSON-RPC, as on
    /// standard input and output) until `read` ends. A line that is not JSON gets a
    /// JSON-RPC parse error (`-32700`); a line longer than 4 MiB is refused whole.
    ///
    /// # Errors
    ///
    /// [`McpError::Runtime`] or [`McpError::Connection`].
    pub fn serve_io<R, W>(&self, read: R, write: W) -> Result<(), McpError>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let runtime = runtime()?;
        let transport = stdio::LineTransport::new(read, write, self.idle_stdio);
        let stop = self.stop_signal();
        self.with_dispatchers(runtime, |runtime, shared| {
            runtime.block_on(stdio::serve(shared, transport, stop))
        })
    }

    /// Serves MCP over streamable HTTP at `http://ADDR/mcp` until
    /// [`McpShutdown::shutdown`] (or SIGINT/SIGTERM under `--mcp-serve-http`), calling
    /// `bound` with the address listened on (port 0 picks a free one) before serving.
    ///
    /// Every request's `Host` must be loopback unless remote calls are allowed, and a
    /// request with an `Origin` (a browser's) is refused. A body that is not JSON gets a
    /// JSON-RPC parse error (`-32700`, status 400).
    ///
    /// # Errors
    ///
    /// [`McpError::RemoteNotAllowed`], [`McpError::Bind`], [`McpError::Runtime`].
    pub fn serve_http(
        &self,
        addr: SocketAddr,
        bound: impl FnOnce(SocketAddr),
    ) -> Result<(), McpError> {
        if !addr.ip().is_loopback() && !self.allow_remote {
            return Err(McpError::RemoteNotAllowed { addr });
        }
        let runtime = runtime()?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .and_then(|listener| listener.local_addr().map(|local| (listener, local)));
        let (listener, local) = listener.map_err(|error| McpError::Bind { addr, error })?;
        bound(local);
        let options = http::Options {
            idle: self.idle_http,
            remote: self.allow_remote,
        };
        let stop = self.stop_signal();
        self.with_dispatchers(runtime, |runtime, shared| {
            runtime.block_on(http::serve(shared, listener, options, stop))
        })
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

    /// Runs `serve` with the dispatcher threads started (scoped to this call, each
    /// holding `&Cli`), then shuts the runtime down and waits for them.
    fn with_dispatchers(
        &self,
        runtime: tokio::runtime::Runtime,
        serve: impl FnOnce(&tokio::runtime::Runtime, Arc<Shared>) -> Result<(), McpError>,
    ) -> Result<(), McpError> {
        let (queue, jobs) = dispatch::queue(Self::MAX_CONCURRENT_CALLS);
        let shared = Shared::new(self.cli, Arc::clone(&self.sessions), queue)?;
        std::thread::scope(|scope| {
            for n in 0..Self::MAX_CONCURRENT_CALLS {
                let jobs = &jobs;
                let cli = self.cli;
                let started = std::thread::Builder::new()
                    .name(format!("cnv mcp dispatcher {n}"))
                    .spawn_scoped(scope, move || dispatch::serve(cli, jobs));
                if let Err(err) = started {
                    // Fewer dispatchers serve as well, only fewer at once; none cannot.
                    if n == 0 {
                        return Err(McpError::Runtime(err));
                    }
                    break;
                }
            }
            let result = serve(&runtime, shared);
            // The protocol's tasks hold the queue's senders: shutting the runtime down
            // drops them (cancelling their calls), so the dispatchers see the queue close
            // and end. A read of standard input cannot be cancelled: it is left behind.
            runtime.shutdown_timeout(Duration::from_millis(100));
            result
        })
    }
}

impl fmt::Debug for McpServer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("app", &self.cli.model().app_name())
            .field("sessions", &self.registry().len())
            .field("idle_http", &self.idle_http)
            .field("idle_stdio", &self.idle_stdio)
            .field("allow_remote", &self.allow_remote)
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
