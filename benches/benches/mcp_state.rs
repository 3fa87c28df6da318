//! The MCP server's shared state: in this process against Redis on loopback.
//!
//! * `mcp_state/call_http` — one `tools/call` round trip of a `Pure` verb (`calc add`)
//!   over streamable HTTP on loopback, in a legacy session, under a quota the calls never
//!   reach, measured from rmcp's own client. `cnv (state in memory)` counts the quota in
//!   the process (the default); `the same, state on Redis` counts it with one Lua script on a
//!   `redis-server` on loopback, stores the session for other replicas and appends each
//!   SSE event to Redis for resumption (`CNV_MCP_STATE=redis://…`). The target is Redis
//!   at most 1.3× memory.
//!
//! Criterion measures each on its own, one after the other; before the group the bench
//! also measures them interleaved (both serving at once, rounds of calls to each in turn)
//! and prints each one's median time per call and their ratio: the ratio to trust on a
//! shared machine.
//!
//! Then it holds 100,000 legacy HTTP sessions open on one replica of each state, in a
//! fresh process (this bench run again with `CNV_MCP_STATE_PROBE` set), and prints the
//! replica's resident memory per session and, for Redis, the memory Redis uses per
//! session.
//!
//! The sessions report takes a few minutes; `CNV_BENCH_SKIP_SESSIONS=1` leaves it out.
//!
//! `redis-server` must be installed (`cargo xtask redis`); the bench starts its own on a
//! free loopback port, without persistence, and stops it at the end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cnv::mcp::{McpBuilder, McpServer, McpShutdown, Quota};
use cnv::prelude::*;
use criterion::{Criterion, Throughput};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

type Client = RunningService<RoleClient, ClientConfig>;

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

/// The command line, its state in `state` (`memory` or a Redis URL), under a quota of
/// `calc add` that no run of the bench reaches.
fn cli(state: &str) -> Cli {
    let quota: Quota = "calc.add=4000000000/h".parse().expect("a quota");
    CliBuilder::from_model(grammar())
        .handler::<Pure, _>("calc add", |call| {
            let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
            Ok(Output::text((a + b).to_string()).with_data(json!({ "sum": a + b })))
        })
        .mcp_quota(quota)
        .mcp_state(state)
        .build()
        .expect("a valid command line")
}

/// A `redis-server` of the bench's own on a free loopback port, stopped when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: install it with `cargo xtask redis`");
        let server = Self { child, port };
        for _ in 0..500 {
            if server
                .command("PING")
                .is_some_and(|answer| answer.starts_with("+PONG"))
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One inline command's answer.
    fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut answer = vec![0; 64 * 1024];
        std::thread::sleep(Duration::from_millis(50));
        let read = stream.read(&mut answer).ok()?;
        Some(String::from_utf8_lossy(&answer[..read]).into_owned())
    }

    /// The memory Redis uses, in bytes (`INFO memory`'s `used_memory`).
    fn used_memory(&self) -> Option<u64> {
        let info = self.command("INFO memory")?;
        info.lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|bytes| bytes.trim().parse().ok())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// Shuts a server down however its scope is left.
struct StopOnDrop(McpShutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// Serves `server` over HTTP on a thread of `scope` and connects a client to it.
fn serve<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    server: &'scope McpServer,
    client_runtime: &tokio::runtime::Runtime,
) -> (Client, StopOnDrop) {
    let stop = StopOnDrop(server.shutdown_handle());
    let (bound, addr) = std::sync::mpsc::channel();
    scope.spawn(move || {
        server
            .serve_http("127.0.0.1:0".parse().expect("addr"), move |addr| {
                let _ = bound.send(addr);
            })
            .expect("served");
    });
    let addr = addr.recv().expect("bound");
    let client = client_runtime
        .block_on(async {
            client_config()
                .serve(StreamableHttpClientTransport::from_uri(format!(
                    "http://{addr}/mcp"
                )))
                .await
        })
        .expect("handshake");
    (client, stop)
}

/// The rows: the subject (its id starts with `cnv`, as `cargo xtask bench` expects) and
/// the same server with its state on Redis.
const NAMES: [&str; 2] = [
    "cnv (state in memory)",
    "the same, state on Redis (loopback)",
];

/// Both states measured interleaved; prints each one's median time per call and the
/// ratio of Redis to memory.
fn interleaved_report(redis: &RedisServer) {
    const ROUNDS: usize = 30;
    const CALLS: u64 = 200;
    let client_runtime = runtime();
    let servers =
        [cli("memory"), cli(&redis.url())].map(|cli| cli.mcp_server().expect("settings").quiet());
    let medians = std::thread::scope(|scope| {
        let mut clients = Vec::new();
        let mut stops = Vec::new();
        for server in &servers {
            let (client, stop) = serve(scope, server, &client_runtime);
            clients.push(client);
            stops.push(stop);
        }
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
    println!(
        "mcp_state interleaved (HTTP, median of {ROUNDS} rounds of {CALLS} calls): {} {:.1} µs | {} {:.1} µs ({:.2}× memory)",
        NAMES[0],
        medians[0],
        NAMES[1],
        medians[1],
        medians[1] / medians[0]
    );
}

/// The criterion group: each state measured on its own, in turn.
fn call_http(c: &mut Criterion, redis: &RedisServer) {
    let client_runtime = runtime();
    let mut group = c.benchmark_group("mcp_state/call_http");
    group.throughput(Throughput::Elements(1));
    for (name, state) in NAMES.into_iter().zip(["memory".to_owned(), redis.url()]) {
        let server = cli(&state).mcp_server().expect("settings").quiet();
        std::thread::scope(|scope| {
            let (client, _stop) = serve(scope, &server, &client_runtime);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| client_runtime.block_on(calls(&client, iters)));
            });
            let _ = client_runtime.block_on(client.cancel());
        });
    }
    group.finish();
}

/// The probe: serves with `state` over HTTP on a free loopback port, prints the port,
/// and stops when standard input closes.
fn probe(state: &str) {
    let server = cli(state).mcp_server().expect("settings").quiet();
    let shutdown = server.shutdown_handle();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        shutdown.shutdown();
    });
    server
        .serve_http("127.0.0.1:0".parse().expect("addr"), |addr| {
            println!("{}", addr.port());
            let _ = std::io::stdout().flush();
        })
        .expect("served");
}

/// A probe process and its address.
struct Probe {
    child: Child,
    url: String,
}

impl Probe {
    fn start(state: &str, sessions: usize) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this bench"))
            .env("CNV_MCP_STATE_PROBE", state)
            .env("CNV_MCP_MAX_SESSIONS", (sessions + 1000).to_string())
            .env("CNV_MCP_IDLE_TIMEOUT", "3600")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the probe starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the probe's port");
        let port: u16 = line.trim().parse().expect("a port");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    /// Resident memory, in bytes.
    fn resident(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kib| kib.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
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

/// Opens `count` raw legacy sessions on `url` (initialize, then initialized), 64 at a
/// time; returns how many opened.
async fn open_sessions(http: &reqwest::Client, url: &str, count: usize) -> usize {
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
            let accept = "application/json, text/event-stream";
            let response = http
                .post(&url)
                .header("Accept", accept)
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
                .header("Accept", accept)
                .header("Content-Type", "application/json")
                .header("Mcp-Session-Id", &id)
                .header("MCP-Protocol-Version", "2025-11-25")
                .body(initialized)
                .send()
                .await
                .ok()?;
            Some(())
        });
    }
    let mut opened = 0;
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(())) = done {
            opened += 1;
        }
    }
    opened
}

/// Memory per open legacy session at 100,000 sessions on one replica, for each state.
fn sessions_report(redis: &RedisServer) {
    const SESSIONS: usize = 100_000;
    let runtime = runtime();
    let http = reqwest::Client::new();
    for (name, state) in NAMES.into_iter().zip(["memory".to_owned(), redis.url()]) {
        let probe = Probe::start(&state, SESSIONS);
        runtime.block_on(open_sessions(&http, &probe.url, 100));
        let before = probe.resident();
        let redis_before = redis.used_memory().unwrap_or(0);
        let started = Instant::now();
        let opened = runtime.block_on(open_sessions(&http, &probe.url, SESSIONS));
        let took = started.elapsed();
        let per_session = probe.resident().saturating_sub(before) as f64 / opened.max(1) as f64;
        let in_redis = redis
            .used_memory()
            .unwrap_or(0)
            .saturating_sub(redis_before) as f64
            / opened.max(1) as f64;
        let redis_part = if state == "memory" {
            String::new()
        } else {
            format!(", and {:.2} KiB in Redis per session", in_redis / 1024.0)
        };
        println!(
            "mcp_state sessions: {name}: {opened} of {SESSIONS} legacy sessions open on one replica (in {:.1} s): {:.1} KiB resident per session{redis_part}",
            took.as_secs_f64(),
            per_session / 1024.0,
        );
    }
}

fn main() {
    // Started again as a worker, this program serves the handler's calls in a confined
    // process and exits.
    cli("memory").serve_as_worker_if_asked();
    if let Ok(state) = std::env::var("CNV_MCP_STATE_PROBE") {
        probe(&state);
        return;
    }
    let redis = RedisServer::start();
    let mut criterion = Criterion::default().configure_from_args();
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<f64>().is_err())
        .collect();
    if filters.is_empty() || filters.iter().any(|f| f.contains("mcp_state")) {
        interleaved_report(&redis);
        if std::env::var_os("CNV_BENCH_SKIP_SESSIONS").is_none() {
            sessions_report(&redis);
        }
    }
    call_http(&mut criterion, &redis);
    criterion.final_summary();
}
