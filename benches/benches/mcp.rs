//! The MCP server against a plain rmcp server with the same handler and no gate.
//!
//! * `mcp/call_stdio` — one `tools/call` round trip of a `Pure` verb (`calc add`) over
//!   the stdio transport, here an in-memory pipe (a process's pipes add the same system
//!   calls to both), measured from rmcp's own client. `cnv` is the server every `Cli`
//!   serves with `--mcp-serve`: the registry lookup of the session, the call run on a
//!   thread of the runtime's blocking pool, clap's parsing, the gate's type-state session
//!   audited to memory (no log configured), the handler in a worker process the kernel
//!   confines to `Pure` (this bench's `main` serves as that worker when it is started as
//!   one, as a program built on cnv does). `cnv audited` adds the operator's signed log
//!   (hash-chained, a signature at each call's end). `cnv without the sandbox` runs the
//!   handler on the calling thread (`CliBuilder::without_sandbox`). `rmcp plain` is an
//!   rmcp `ServerHandler` that lists the same tool and runs the same arithmetic inline in
//!   `call_tool`.
//! * `mcp/call_http` — the same over streamable HTTP (rmcp's reqwest client, loopback);
//!   the plain peer is rmcp's `StreamableHttpService` on its `LocalSessionManager`, in
//!   axum, as cnv's is. `cnv with bearer tokens` is `cnv` as an OAuth resource server:
//!   every request carries an RS256 access token, verified against the issuer's JWKS
//!   (read once, from a file, then cached) with its audience, issuer, times and scope.
//!
//! Criterion measures each server on its own, one after the other, so a change in the
//! machine's load between them moves their ratio (on our shared 2-core machine, by up to
//! a third). Before the groups, the bench therefore also measures them interleaved (all
//! serving at once, rounds of calls to each in turn) and prints each one's median time per
//! call beside the plain peer's: the ratio to trust.
//!
//! Then it holds 1,000 and 10,000 HTTP sessions open on each server, in a fresh process
//! (this bench run again with `CNV_MCP_PROBE` set), and prints the resident memory each
//! session costs and the calls per second 32 concurrent clients get across the open
//! sessions.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cnv::audit::AuditKey;

use cnv::mcp::{McpServer, McpShutdown};
use cnv::prelude::*;
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig,
    ContentBlock, Implementation, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
    streamable_http_client::StreamableHttpClientTransportConfig,
};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The grammar: one `Pure` verb.
fn grammar() -> GrammarModel {
    GrammarModel::new("bench").with_version("1.0.0").with_noun(
        GrammarNoun::new("calc", "Arithmetic").with_verb(
            GrammarVerb::new("add", "Add two numbers", CapabilityContract::pure())
                .with_arg(GrammarArgument::positional("a", "i64", "A number"))
                .with_arg(GrammarArgument::positional("b", "i64", "Another")),
        ),
    )
}

/// The command line, its audit trail in `audited` (a log and its key) when given.
fn cli(audited: Option<&PathBuf>) -> Cli {
    let builder = CliBuilder::from_model(grammar()).handler::<Pure, _>("calc add", |call| {
        let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
        Ok(Output::text((a + b).to_string()).with_data(json!({ "sum": a + b })))
    });
    let builder = match audited {
        Some(dir) => builder
            .audit_log(dir.join("audit.jsonl"))
            .audit_key(dir.join("operator.key")),
        None => builder,
    };
    builder.build().expect("a valid command line")
}

/// The command line with its handlers run on the calling thread, unconfined
/// (`CliBuilder::without_sandbox`): what the sandbox's worker hop costs a call.
fn cli_without_sandbox() -> Cli {
    CliBuilder::from_model(grammar())
        .handler::<Pure, _>("calc add", |call| {
            let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
            Ok(Output::text((a + b).to_string()).with_data(json!({ "sum": a + b })))
        })
        .without_sandbox()
        .build()
        .expect("a valid command line")
}

/// The issuer and audience of the bench's access tokens.
const ISSUER: &str = "https://id.bench";
const AUDIENCE: &str = "https://mcp.bench/mcp";

/// An authorization server of the bench's own: its JWKS in a file, and an access token
/// it issued for the server (RS256, the algorithm identity providers sign with by
/// default), granting `cnv:Pure`.
struct Identity {
    dir: PathBuf,
    token: String,
}

impl Identity {
    fn new() -> Self {
        use jsonwebtoken::jwk::{Jwk, JwkSet};
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let dir = std::env::temp_dir().join(format!("cnv-bench-idp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let secret = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("a key");
        let key = EncodingKey::from_rsa_der(secret.to_pkcs1_der().expect("der").as_bytes());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK");
        jwk.common.key_id = Some("bench".to_owned());
        let jwks = serde_json::to_vec(&JwkSet { keys: vec![jwk] }).expect("JSON");
        std::fs::write(dir.join("jwks.json"), jwks).expect("the JWKS");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("bench".to_owned());
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "bench", "azp": "bench-client",
            "exp": now + 86_400, "nbf": now - 10, "scope": "cnv:Pure",
        });
        let token = jsonwebtoken::encode(&header, &claims, &key).expect("signed");
        Self { dir, token }
    }

    /// The command line served as a resource server of this authorization server.
    fn cli(&self) -> Cli {
        CliBuilder::from_model(grammar())
            .handler::<Pure, _>("calc add", |call| {
                let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
                Ok(Output::text((a + b).to_string()).with_data(json!({ "sum": a + b })))
            })
            .mcp_auth_issuer(ISSUER)
            .mcp_auth_audience(AUDIENCE)
            .mcp_auth_jwks(self.dir.join("jwks.json").display().to_string())
            .build()
            .expect("a valid command line")
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory with a fresh signing key, for the audited rows.
fn audited_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-bench-mcp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    AuditKey::generate()
        .and_then(|key| key.save(dir.join("operator.key")))
        .expect("a key");
    dir
}

/// The plain peer: rmcp's `ServerHandler` with the same tool and the same arithmetic,
/// run inline, no gate, no registry.
#[derive(Clone)]
struct Plain {
    tools: Arc<[Tool]>,
}

impl Plain {
    fn new() -> Self {
        let list: ListToolsResult =
            serde_json::from_value(cli(None).mcp_tools()).expect("the same tools");
        Self {
            tools: list.tools.into(),
        }
    }
}

impl ServerHandler for Plain {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bench", "1.0.0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "calc_add" {
            return Err(ErrorData::invalid_params("unknown tool", None));
        }
        let args = request.arguments.unwrap_or_default();
        let number = |name: &str| args.get(name).and_then(Value::as_i64);
        let (Some(a), Some(b)) = (number("a"), number("b")) else {
            return Ok(
                CallToolResult::error(vec![ContentBlock::text("a and b are integers")]).into(),
            );
        };
        let mut result = CallToolResult::success(vec![ContentBlock::text((a + b).to_string())]);
        result.structured_content = Some(json!({ "sum": a + b }));
        Ok(result.into())
    }
}

type Client = RunningService<RoleClient, ClientConfig>;

fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("bench-client", "1.0.0"),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `iters` sequential calls, timed.
async fn calls(client: &Client, iters: u64) -> Duration {
    let started = Instant::now();
    for n in 0..iters {
        let arguments = json!({ "a": n, "b": 1 });
        let result = client
            .call_tool(
                CallToolRequestParams::new("calc_add")
                    .with_arguments(arguments.as_object().cloned().unwrap_or_default()),
            )
            .await
            .expect("tools/call");
        assert_eq!(result.is_error, Some(false), "{result:?}");
    }
    started.elapsed()
}

fn bench_client(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, client: &Client) {
    let runtime = runtime();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| runtime.block_on(calls(client, iters)));
    });
}

/// The two transports measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// Newline-delimited JSON-RPC over an in-memory pipe.
    Stdio,
    /// Streamable HTTP on loopback.
    Http,
}

/// Shuts a cnv server down however its scope is left (a panic included), so that the
/// scope never waits for a server nobody stops.
struct StopOnDrop(McpShutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// Serves `server` over `transport` on a thread of `scope` and connects a client to it.
fn serve_cnv<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    server: &'scope McpServer,
    transport: Transport,
    client_runtime: &tokio::runtime::Runtime,
    token: Option<&str>,
) -> (Client, StopOnDrop) {
    let stop = StopOnDrop(server.shutdown_handle());
    let client = match transport {
        Transport::Stdio => {
            let (server_io, client_io) = tokio::io::duplex(64 * 1024);
            scope.spawn(move || {
                let (read, write) = tokio::io::split(server_io);
                server.serve_io(read, write).expect("served");
            });
            client_runtime
                .block_on(client_config().serve(client_io))
                .expect("handshake")
        }
        Transport::Http => {
            let (bound, addr) = std::sync::mpsc::channel();
            scope.spawn(move || {
                server
                    .serve_http("127.0.0.1:0".parse().expect("addr"), move |addr| {
                        let _ = bound.send(addr);
                    })
                    .expect("served");
            });
            let addr = addr.recv().expect("bound");
            http_client(client_runtime, format!("http://{addr}/mcp"), token)
        }
    };
    (client, stop)
}

/// The plain peer, serving over `transport` on a runtime of its own, and a client of it.
struct PlainServing {
    /// Its tasks serve; dropped (after `stop`) when the serving ends.
    _runtime: tokio::runtime::Runtime,
    stop: CancellationToken,
}

impl PlainServing {
    fn start(transport: Transport, client_runtime: &tokio::runtime::Runtime) -> (Client, Self) {
        let runtime = runtime();
        let stop = CancellationToken::new();
        let client = match transport {
            Transport::Stdio => {
                let (server_io, client_io) = tokio::io::duplex(64 * 1024);
                let stopped = stop.clone();
                runtime.spawn(async move {
                    let running = Plain::new()
                        .serve_with_ct(server_io, stopped)
                        .await
                        .expect("handshake");
                    let _ = running.waiting().await;
                });
                client_runtime
                    .block_on(client_config().serve(client_io))
                    .expect("handshake")
            }
            Transport::Http => {
                let listener = runtime
                    .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                runtime.spawn(plain_http(listener, stop.clone()));
                http_client(client_runtime, format!("http://{addr}/mcp"), None)
            }
        };
        (
            client,
            Self {
                _runtime: runtime,
                stop,
            },
        )
    }
}

impl Drop for PlainServing {
    fn drop(&mut self) {
        // Its sessions end; the runtime is dropped after this, with its tasks.
        self.stop.cancel();
    }
}

/// The criterion group of `transport`: each server measured on its own, in turn.
fn call_group(c: &mut Criterion, transport: Transport) {
    let audited = audited_dir();
    let client_runtime = runtime();
    let group_name = match transport {
        Transport::Stdio => "mcp/call_stdio",
        Transport::Http => "mcp/call_http",
    };
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    let identity = Identity::new();
    let mut servers = vec![
        ("cnv", cli(None), None),
        ("cnv audited (signed log)", cli(Some(&audited)), None),
        ("cnv without the sandbox", cli_without_sandbox(), None),
    ];
    if transport == Transport::Http {
        servers.push((
            "cnv with bearer tokens (cached JWKS)",
            identity.cli(),
            Some(identity.token.as_str()),
        ));
    }
    for (name, cli, token) in servers {
        let server = cli.mcp_server().expect("settings").quiet();
        std::thread::scope(|scope| {
            let (client, _stop) = serve_cnv(scope, &server, transport, &client_runtime, token);
            bench_client(&mut group, name, &client);
            let _ = client_runtime.block_on(client.cancel());
        });
    }
    let (client, _plain) = PlainServing::start(transport, &client_runtime);
    bench_client(&mut group, "rmcp plain (no gate)", &client);
    let _ = client_runtime.block_on(client.cancel());
    group.finish();
    let _ = std::fs::remove_dir_all(&audited);
}

fn call_stdio(c: &mut Criterion) {
    call_group(c, Transport::Stdio);
}

fn call_http(c: &mut Criterion) {
    call_group(c, Transport::Http);
}

/// The servers' cost against one another with the machine's load shared fairly: every
/// server serves at once, and rounds of 200 calls go to each in turn (30 rounds); prints
/// each one's median time per call and its ratio to the plain peer.
fn interleaved_report(transport: Transport) {
    const ROUNDS: usize = 30;
    const CALLS: u64 = 200;
    let audited = audited_dir();
    let client_runtime = runtime();
    let identity = Identity::new();
    let mut clis = vec![
        (cli(None), None),
        (cli(Some(&audited)), None),
        (cli_without_sandbox(), None),
    ];
    let mut names = vec!["cnv", "cnv audited (signed log)", "cnv without the sandbox"];
    if transport == Transport::Http {
        clis.push((identity.cli(), Some(identity.token.as_str())));
        names.push("cnv with bearer tokens (cached JWKS)");
    }
    names.push("rmcp plain (no gate)");
    let servers: Vec<(McpServer, Option<&str>)> = clis
        .iter()
        .map(|(cli, token)| (cli.mcp_server().expect("settings").quiet(), *token))
        .collect();
    let medians = std::thread::scope(|scope| {
        let mut clients = Vec::new();
        let mut stops = Vec::new();
        for (server, token) in &servers {
            let (client, stop) = serve_cnv(scope, server, transport, &client_runtime, *token);
            clients.push(client);
            stops.push(stop);
        }
        let (plain, _plain) = PlainServing::start(transport, &client_runtime);
        clients.push(plain);
        let mut per_call: Vec<Vec<f64>> = vec![Vec::new(); clients.len()];
        for _ in 0..ROUNDS {
            for (client, times) in clients.iter().zip(&mut per_call) {
                let took = client_runtime.block_on(calls(client, CALLS));
                times.push(took.as_secs_f64() * 1e6 / CALLS as f64);
            }
        }
        for client in clients {
            let _ = client_runtime.block_on(client.cancel());
        }
        per_call
            .into_iter()
            .map(|mut times| {
                times.sort_by(f64::total_cmp);
                times[times.len() / 2]
            })
            .collect::<Vec<f64>>()
    });
    let plain = medians[medians.len() - 1];
    let rows: Vec<String> = names
        .iter()
        .zip(&medians)
        .map(|(name, median)| format!("{name} {median:.1} µs ({:.2}× plain)", median / plain))
        .collect();
    println!(
        "mcp interleaved ({transport:?}, median of {ROUNDS} rounds of {CALLS} calls): {}",
        rows.join(" | ")
    );
    let _ = std::fs::remove_dir_all(&audited);
}

/// The plain peer's HTTP server on `listener`, until `stop` is cancelled: rmcp's
/// `StreamableHttpService` on its `LocalSessionManager`, in axum, as cnv's is.
async fn plain_http(listener: tokio::net::TcpListener, stop: CancellationToken) {
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stop.child_token())
        .enforce_origin_validation();
    let plain = Plain::new();
    let service = StreamableHttpService::new(
        move || Ok(plain.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let router = axum::Router::new().route_service("/mcp", service);
    // As cnv's server does: no 40 ms waits for delayed ACKs between SSE writes.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
}

/// rmcp's HTTP client of `url`, sending `token` as its bearer token when given.
fn http_client(runtime: &tokio::runtime::Runtime, url: String, token: Option<&str>) -> Client {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    runtime
        .block_on(async {
            client_config()
                .serve(StreamableHttpClientTransport::from_config(config))
                .await
        })
        .expect("handshake")
}

/// The probe: serves `which` (`cnv` or `plain`) over HTTP on a free loopback port, prints
/// the port, and stops when standard input closes.
fn probe(which: &str) {
    let stdin_closed = |stop: Box<dyn FnOnce() + Send>| {
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            stop();
        });
    };
    let announce = |port: u16| {
        println!("{port}");
        let _ = std::io::stdout().flush();
    };
    if which == "cnv" {
        let cli = cli(None);
        let server = cli.mcp_server().expect("settings").quiet();
        let shutdown = server.shutdown_handle();
        stdin_closed(Box::new(move || shutdown.shutdown()));
        server
            .serve_http("127.0.0.1:0".parse().expect("addr"), |addr| {
                announce(addr.port());
            })
            .expect("served");
    } else {
        let runtime = runtime();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        announce(listener.local_addr().expect("addr").port());
        let stop = CancellationToken::new();
        let stopper = stop.clone();
        stdin_closed(Box::new(move || stopper.cancel()));
        runtime.block_on(plain_http(listener, stop));
    }
}

/// A probe process and its address.
struct Probe {
    child: Child,
    url: String,
}

impl Probe {
    fn start(which: &str) -> Option<Self> {
        let mut child = Command::new(std::env::current_exe().ok()?)
            .env("CNV_MCP_PROBE", which)
            // The probe holds 10,100 sessions open: ten times cnv's default cap.
            .env("CNV_MCP_MAX_SESSIONS", "20000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        let port: u16 = line.trim().parse().ok()?;
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        })
    }

    /// Resident memory, in bytes.
    fn resident(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // Standard input closed: the probe stops; a probe that does not is killed.
        drop(self.child.stdin.take());
        for _ in 0..500 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ACCEPT: &str = "application/json, text/event-stream";

/// Opens `count` raw sessions on `url` (initialize, then initialized), `concurrency` at
/// a time, and returns their ids.
async fn open_sessions(http: &reqwest::Client, url: &str, count: usize) -> Vec<String> {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "bench-probe", "version": "1" },
        },
    })
    .to_string();
    let initialized =
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }).to_string();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (http, url, initialize, initialized) = (
            http.clone(),
            url.to_owned(),
            initialize.clone(),
            initialized.clone(),
        );
        let semaphore = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.ok()?;
            let response = http
                .post(&url)
                .header("Accept", ACCEPT)
                .header("Content-Type", "application/json")
                .body(initialize)
                .send()
                .await
                .ok()?;
            let id = response
                .headers()
                .get("mcp-session-id")?
                .to_str()
                .ok()?
                .to_owned();
            let _ = response.bytes().await;
            http.post(&url)
                .header("Accept", ACCEPT)
                .header("Content-Type", "application/json")
                .header("Mcp-Session-Id", &id)
                .header("MCP-Protocol-Version", "2025-11-25")
                .body(initialized)
                .send()
                .await
                .ok()?;
            Some(id)
        });
    }
    let mut ids = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(id)) = done {
            ids.push(id);
        }
    }
    ids
}

/// Calls per second that 32 concurrent clients get for `seconds`, each call on the next
/// of the open `sessions`.
async fn calls_per_second(http: &reqwest::Client, url: &str, sessions: &[String]) -> f64 {
    let sessions: Arc<[String]> = sessions.into();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32usize {
        let (http, url, sessions, done) = (
            http.clone(),
            url.to_owned(),
            Arc::clone(&sessions),
            Arc::clone(&done),
        );
        tasks.spawn(async move {
            let mut n = worker;
            while Instant::now() < deadline {
                let id = &sessions[n % sessions.len()];
                n += 32;
                let body = json!({
                    "jsonrpc": "2.0", "id": n, "method": "tools/call",
                    "params": { "name": "calc_add", "arguments": { "a": n, "b": 1 } },
                })
                .to_string();
                let Ok(response) = http
                    .post(&url)
                    .header("Accept", ACCEPT)
                    .header("Content-Type", "application/json")
                    .header("Mcp-Session-Id", id)
                    .header("MCP-Protocol-Version", "2025-11-25")
                    .body(body)
                    .send()
                    .await
                else {
                    continue;
                };
                if response
                    .text()
                    .await
                    .is_ok_and(|text| text.contains("\"sum\""))
                {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Prints memory per open session and calls per second, for each server, at 1,000 and
/// 10,000 sessions.
fn sessions_report() {
    let runtime = runtime();
    let http = reqwest::Client::new();
    for count in [1_000, 10_000] {
        for (which, name) in [("cnv", "cnv"), ("plain", "rmcp plain (no gate)")] {
            let Some(probe) = Probe::start(which) else {
                println!("mcp sessions: {name}: the probe did not start");
                continue;
            };
            let warm = runtime.block_on(open_sessions(&http, &probe.url, 100));
            let before = probe.resident().unwrap_or(0);
            let started = Instant::now();
            let ids = runtime.block_on(open_sessions(&http, &probe.url, count));
            let opened_in = started.elapsed();
            let after = probe.resident().unwrap_or(0);
            let per_session = after.saturating_sub(before) as f64 / ids.len().max(1) as f64;
            let mut all = warm;
            all.extend(ids.iter().cloned());
            let rate = runtime.block_on(calls_per_second(&http, &probe.url, &all));
            println!(
                "mcp sessions: {name}: {} of {count} sessions open (in {:.1} s): {:.1} KiB resident per session, {:.0} calls/s from 32 clients across them",
                ids.len(),
                opened_in.as_secs_f64(),
                per_session / 1024.0,
                rate,
            );
        }
    }
}

criterion::criterion_group!(benches, call_stdio, call_http);

fn main() {
    // Started again as a worker, this program serves the handler's calls in a confined
    // process and exits; otherwise every server below runs its handlers in such workers,
    // as a program's users get (the command lines all bind the same handler).
    cli(None).serve_as_worker_if_asked();
    if let Ok(which) = std::env::var("CNV_MCP_PROBE") {
        probe(&which);
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<f64>().is_err())
        .collect();
    if filters.is_empty() || filters.iter().any(|f| f.contains("mcp")) {
        interleaved_report(Transport::Stdio);
        interleaved_report(Transport::Http);
        sessions_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
