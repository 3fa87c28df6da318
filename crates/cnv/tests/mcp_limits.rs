//! The MCP server's limits, on real server processes over real pipes and loopback
//! sockets: the sessions cap, clients that send slowly, messages over the cap, a client
//! that stops reading, the trace of every cancelled call, and a handler's console. Each
//! test fails loudly if the finding it guards against comes back. Nothing is timed: the
//! waits are bounded only so that a failure cannot hang the run.
//!
//! The server is this test binary started again, with the serve flags in
//! `CNV_MCP_LIMITS_SERVE`: its `main` builds the command line, serves as a confined worker
//! when it is started as one, and otherwise serves MCP through `Cli::run_args`, as a
//! program built on cnv does (so the handlers run in worker processes, as users get).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cnv::cli::Output;
use cnv::prelude::*;
use cnv::{Cli, CliBuilder};
use libtest_mimic::{Arguments, Trial};
use serde_json::{Value, json};

/// The variable that makes this binary a server: the serve flags, space-separated.
const SERVE: &str = "CNV_MCP_LIMITS_SERVE";

/// The longest any wait may take before the test gives up (a failure, never a pass).
const WAIT: Duration = Duration::from_secs(60);

/// What the noisy handler writes to its console, between control characters.
const MARKER: &str = "NOISY-MARKER";

/// `Pure` in the `Medium` band (10 s): a call's band runs from its arrival, and these
/// tests load a small machine; none is about a band.
fn medium() -> CapabilityContract {
    CapabilityContract::pure()
        .with_band(ResourceBand::Medium)
        .into()
}

fn grammar() -> GrammarModel {
    GrammarModel::new("limits")
        .with_version("1.0.0")
        .with_noun(
            GrammarNoun::new("calc", "Arithmetic")
                .with_verb(
                    GrammarVerb::new("add", "Add two numbers", medium())
                        .with_arg(GrammarArgument::positional("a", "i64", "A number"))
                        .with_arg(GrammarArgument::positional("b", "i64", "Another")),
                )
                .with_verb(GrammarVerb::new(
                    "noisy",
                    "Writes to its standard output and error",
                    medium(),
                )),
        )
        .with_noun(
            // A long description makes `tools/list` a large answer (about 60 KB).
            GrammarNoun::new("pad", "Padding").with_verb(
                GrammarVerb::new("doc", "A verb with a long help", medium())
                    .with_long_help("All work and no play. ".repeat(2800)),
            ),
        )
}

fn cli() -> Cli {
    CliBuilder::from_model(grammar())
        .handler::<Pure, _>("calc add", |call| {
            let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
            Ok(Output::text(format!("{}", a + b)).with_data(json!({ "sum": a + b })))
        })
        .handler::<Pure, _>("calc noisy", |_call| {
            println!("to stdout \x1b]0;{MARKER} title\x07");
            eprintln!("\x1b[31m{MARKER}\x1b[0m to stderr\r\x1b[2K");
            Ok(Output::text("made some noise"))
        })
        .handler::<Pure, _>("pad doc", |_call| Ok(Output::none()))
        .build()
        .expect("a valid command line")
}

fn main() -> ExitCode {
    let cli = cli();
    // In a worker process of a server below, this serves calls and never returns.
    cli.serve_as_worker_if_asked();
    if let Ok(flags) = std::env::var(SERVE) {
        return cli.run_args(std::iter::once("limits").chain(flags.split(' ')));
    }
    let tests: [(&str, fn()); 8] = [
        (
            "an_initialize_past_the_sessions_cap_gets_503_with_retry_after",
            sessions_past_the_cap_get_503,
        ),
        (
            "a_half_sent_header_is_cut_off_at_the_header_timeout",
            half_sent_headers_are_cut_off,
        ),
        (
            "a_half_sent_body_gets_408_at_the_body_timeout",
            half_sent_bodies_get_408,
        ),
        (
            "oversized_stdio_messages_are_refused_while_read_and_the_server_goes_on",
            oversized_stdio_messages_are_refused,
        ),
        (
            "oversized_http_bodies_are_refused_while_read_and_the_server_goes_on",
            oversized_http_bodies_are_refused,
        ),
        (
            "a_stdio_client_that_stops_reading_cannot_grow_the_server",
            a_client_that_stops_reading_cannot_grow_the_server,
        ),
        (
            "every_call_cancelled_at_once_is_in_the_audit_trail",
            every_cancelled_call_is_recorded,
        ),
        (
            "a_handler_s_console_is_in_its_result_escaped_and_never_on_the_server_s_stderr",
            a_handler_s_console_is_in_its_result,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

// ---------------------------------------------------------------------------------------
// A server process.

/// A scratch directory: the workspace `ws/` and, beside it, the audit log.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cnv-mcp-limits-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
        Self(dir)
    }

    fn log(&self) -> PathBuf {
        self.0.join("audit.jsonl")
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// This binary serving MCP with `flags`, the operator's variables `env` on top of a clean
/// environment.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// Reads standard error until the server closes it.
    reading_stderr: Option<JoinHandle<()>>,
}

impl Server {
    fn start(scratch: &Scratch, flags: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(std::env::current_exe().expect("this test binary"));
        for (name, _) in std::env::vars() {
            if name.starts_with("CNV_") {
                command.env_remove(name);
            }
        }
        command
            .env(SERVE, flags)
            .env("CNV_WORKSPACE", scratch.0.join("ws"))
            .env("CNV_AUDIT_LOG", scratch.log())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the server starts");
        let stdout = child.stdout.take().expect("piped");
        let (lines, stdout_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let said = Arc::clone(&stderr);
        let err = child.stderr.take().expect("piped");
        let reading_stderr = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { return };
                said.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            stdout: stdout_rx,
            stderr,
            reading_stderr: Some(reading_stderr),
        }
    }

    /// The server over standard input and output, its session initialized.
    fn stdio(scratch: &Scratch, env: &[(&str, &str)]) -> Self {
        let mut server = Self::start(scratch, "--mcp-serve", env);
        server.send(&initialize(0).to_string());
        let ready = server.answer(0);
        assert!(ready.get("result").is_some(), "initialize: {ready}");
        server.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        server
    }

    /// The server over HTTP on a free loopback port, and its address.
    fn http(scratch: &Scratch, env: &[(&str, &str)]) -> (Self, String) {
        let server = Self::start(scratch, "--mcp-serve-http 127.0.0.1:0", env);
        let addr = eventually(|| {
            server.said().iter().find_map(|line| {
                let (_, rest) = line.split_once("serving MCP at http://")?;
                rest.split_once("/mcp").map(|(addr, _)| addr.to_owned())
            })
        })
        .unwrap_or_else(|| panic!("the server says where it serves: {:?}", server.said()));
        (server, addr)
    }

    fn said(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("standard input open");
        stdin.write_all(line.as_bytes()).expect("the server reads");
        stdin.write_all(b"\n").expect("the server reads");
        stdin.flush().expect("the server reads");
    }

    /// The next message on standard output.
    fn next(&self) -> Value {
        let line = self
            .stdout
            .recv_timeout(WAIT)
            .unwrap_or_else(|err| panic!("no message from the server ({err}): {:?}", self.said()));
        serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("standard output carries only JSON ({err}): {line:?}"))
    }

    /// The answer with `id`, skipping any other message.
    fn answer(&self, id: u64) -> Value {
        loop {
            let message = self.next();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// The most resident memory the server has had, in KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Closes standard input and waits for the server to end (it must, soon), and for
    /// all it wrote to standard error.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        drop(self.stdin.take());
        let until = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the server's status") {
                break status;
            }
            assert!(
                Instant::now() < until,
                "the server did not end: {:?}",
                self.said()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reading) = self.reading_stderr.take() {
            let _ = reading.join();
        }
        (status, self.said())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `found` every 20 ms until it finds something, for at most [`WAIT`].
fn eventually<T>(found: impl Fn() -> Option<T>) -> Option<T> {
    let until = Instant::now() + WAIT;
    loop {
        if let Some(found) = found() {
            return Some(found);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn initialize(id: u64) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "limits-test", "version": "1" },
        },
    })
}

fn call(id: u64, name: &str, arguments: &Value) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": name, "arguments": arguments },
    })
}

/// A `tools/call` of `calc_add` whose arguments hold an array of `count` values, about
/// two bytes each.
fn many_values(id: u64, count: usize) -> String {
    let mut line = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"calc_add","arguments":{{"a":1,"b":2,"many":["#
    );
    line.push_str(&vec!["1"; count].join(","));
    line.push_str("]}}}");
    line
}

// ---------------------------------------------------------------------------------------
// HTTP, spoken by hand: status, headers, body (chunks joined).

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The JSON of the body: the body itself, or the `data:` of its first event that has
    /// some (rmcp primes a stream with an empty one).
    fn json(&self) -> Value {
        let data = self
            .body
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .find(|data| !data.trim().is_empty())
            .unwrap_or(&self.body);
        serde_json::from_str(data.trim())
            .unwrap_or_else(|err| panic!("a JSON body ({err}): {:?}", self.body))
    }
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(WAIT)).expect("a timeout");
    stream
}

/// Sends `head` and `body` (a failed write is fine: the server may refuse before reading
/// all of it) and reads the reply to its end (every request says `Connection: close`).
fn exchange(addr: &str, head: &str, body: &[u8]) -> Reply {
    let mut stream = connect(addr);
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
    let mut raw = Vec::new();
    if let Err(err) = stream.read_to_end(&mut raw) {
        assert!(
            err.kind() == ErrorKind::ConnectionReset && !raw.is_empty(),
            "the server answers ({err}, {} bytes)",
            raw.len()
        );
    }
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP reply: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked")
    });
    let body = if chunked {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A POST of `body` to `/mcp`, in `session` if given.
fn post(addr: &str, session: Option<&str>, body: &str) -> Reply {
    let mut head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(session) = session {
        head.push_str(&format!(
            "Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-11-25\r\n"
        ));
    }
    head.push_str("\r\n");
    exchange(addr, &head, body.as_bytes())
}

/// A new session over HTTP, initialized: its id.
fn open_session(addr: &str) -> String {
    let reply = post(addr, None, &initialize(1).to_string());
    assert_eq!(reply.status, 200, "initialize: {}", reply.body);
    let id = reply
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();
    let initialized = post(
        addr,
        Some(&id),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert!(
        initialized.status < 300,
        "initialized: {}",
        initialized.status
    );
    id
}

/// `calc_add` in `session`: its sum.
fn add_over_http(addr: &str, session: &str, a: i64, b: i64) -> Value {
    let reply = post(
        addr,
        Some(session),
        &call(2, "calc_add", &json!({ "a": a, "b": b })).to_string(),
    );
    assert_eq!(reply.status, 200, "tools/call: {}", reply.body);
    reply.json()["result"]["structuredContent"]["sum"].clone()
}

// ---------------------------------------------------------------------------------------
// The tests.

/// With a cap of 3 sessions, the fourth `initialize` is refused with 503 and
/// `Retry-After`, the open sessions go on, and one ended frees its place.
fn sessions_past_the_cap_get_503() {
    let scratch = Scratch::new("sessions");
    let (server, addr) = Server::http(&scratch, &[("CNV_MCP_MAX_SESSIONS", "3")]);
    let sessions: Vec<String> = (0..3).map(|_| open_session(&addr)).collect();

    let refused = post(&addr, None, &initialize(1).to_string());
    assert_eq!(refused.status, 503, "{}", refused.body);
    let retry = refused.header("retry-after").expect("a Retry-After header");
    assert!(retry.parse::<u64>().is_ok_and(|s| s > 0), "{retry}");
    let error = refused.json();
    assert_eq!(error["error"]["code"], -32000, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("3 MCP sessions open")),
        "{error}"
    );

    // The sessions open are served as before.
    assert_eq!(add_over_http(&addr, &sessions[0], 40, 2), json!(42));

    // One ended (DELETE) frees its place: an initialize is taken again.
    let deleted = exchange(
        &addr,
        &format!(
            "DELETE /mcp HTTP/1.1\r\nHost: {addr}\r\nMcp-Session-Id: {}\r\n\
             MCP-Protocol-Version: 2025-11-25\r\nConnection: close\r\n\r\n",
            sessions[1]
        ),
        b"",
    );
    assert!(deleted.status < 300, "DELETE: {}", deleted.status);
    let again = eventually(|| {
        let reply = post(&addr, None, &initialize(1).to_string());
        (reply.status == 200).then_some(reply)
    });
    assert!(again.is_some(), "a place freed by DELETE is taken again");
    drop(server);
}

/// 50 connections that send half a header each are all closed by the server once the
/// header timeout (1 s here) has passed; none is held.
fn half_sent_headers_are_cut_off() {
    let scratch = Scratch::new("headers");
    let (server, addr) = Server::http(&scratch, &[("CNV_MCP_HEADER_TIMEOUT", "1")]);
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut stream = connect(&addr);
            stream
                .write_all(format!("POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: ").as_bytes())
                .expect("half a header sent");
            stream
        })
        .collect();
    for (n, stream) in slow.iter_mut().enumerate() {
        let mut buf = [0u8; 512];
        match stream.read(&mut buf) {
            // Closed: with nothing, or with an error status.
            Ok(read) => {
                let said = String::from_utf8_lossy(&buf[..read]);
                assert!(read == 0 || said.starts_with("HTTP/1.1 4"), "{n}: {said}");
            }
            Err(err) => assert!(
                err.kind() == ErrorKind::ConnectionReset,
                "connection {n} was held past the header timeout: {err}"
            ),
        }
    }
    // The server goes on: a whole request is answered.
    let session = open_session(&addr);
    assert_eq!(add_over_http(&addr, &session, 1, 1), json!(2));
    drop(server);
}

/// A body that stops half-way is answered 408 once the body timeout (1 s) has passed.
fn half_sent_bodies_get_408() {
    let scratch = Scratch::new("bodies");
    let (server, addr) = Server::http(&scratch, &[("CNV_MCP_BODY_TIMEOUT", "1")]);
    let mut stream = connect(&addr);
    stream
        .write_all(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
                 Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"jsonrpc\":"
            )
            .as_bytes(),
        )
        .expect("half a body sent");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let reply = parse(&raw);
    assert_eq!(reply.status, 408, "{}", reply.body);
    assert_eq!(reply.header("connection"), Some("close"));
    let session = open_session(&addr);
    assert_eq!(add_over_http(&addr, &session, 2, 2), json!(4));
    drop(server);
}

/// The bound on the server's growth while it refuses big messages, in KiB: the cap is
/// 4 MiB, so reading one costs a few MiB at most; parsing 3.9 MB of small values used to
/// cost hundreds.
const GROWTH_BOUND_KIB: u64 = 48 * 1024;

/// Over stdio: a 6 MiB line (over the byte cap) and a 3.9 MB line of 1.9 million values
/// (under it, over the values cap) are refused with -32700 and their ids, the server's
/// peak memory stays within a bound, and the next call is answered.
fn oversized_stdio_messages_are_refused() {
    let scratch = Scratch::new("stdio-big");
    let mut server = Server::stdio(&scratch, &[]);
    server.send(&call(1, "calc_add", &json!({ "a": 1, "b": 1 })).to_string());
    assert_eq!(server.answer(1)["result"]["structuredContent"]["sum"], 2);
    let before = server.peak_kib();

    let long = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"calc_add","arguments":{{"a":1,"b":2,"pad":"{}"}}}}}}"#,
        "x".repeat(6 * 1024 * 1024)
    );
    server.send(&long);
    let refused = server.answer(2);
    assert_eq!(refused["error"]["code"], -32700, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("longer than 4194304 bytes")),
        "{refused}"
    );

    let full = many_values(3, 1_900_000);
    assert!(full.len() < 4 * 1024 * 1024, "under the byte cap");
    server.send(&full);
    let refused = server.answer(3);
    assert_eq!(refused["error"]["code"], -32700, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than 65536 JSON values")),
        "{refused}"
    );

    server.send(&call(4, "calc_add", &json!({ "a": 20, "b": 22 })).to_string());
    assert_eq!(server.answer(4)["result"]["structuredContent"]["sum"], 42);
    let grew = server.peak_kib().saturating_sub(before);
    eprintln!("the server's peak grew by {grew} KiB");
    assert!(
        grew < GROWTH_BOUND_KIB,
        "the server's peak grew by {grew} KiB refusing two big messages"
    );
    assert!(server.finish().0.success());
    // The refused messages were never calls: only the two that ran are in the trail.
    let ends = scratch
        .audit()
        .iter()
        .filter(|entry| entry["event"] == "finish")
        .count();
    assert_eq!(ends, 2);
}

/// Over HTTP: a body declared longer than the cap is refused (413) before it is read, one
/// sent in chunks is stopped at the cap (413), and one of too many values is refused
/// (413, with its id); the server's peak memory stays within a bound and it goes on.
fn oversized_http_bodies_are_refused() {
    let scratch = Scratch::new("http-big");
    let (server, addr) = Server::http(&scratch, &[]);
    let session = open_session(&addr);
    assert_eq!(add_over_http(&addr, &session, 1, 1), json!(2));
    let before = server.peak_kib();

    let declared = exchange(
        &addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nMcp-Session-Id: {session}\r\n\r\n",
            6 * 1024 * 1024
        ),
        b"",
    );
    assert_eq!(declared.status, 413, "{}", declared.body);
    assert_eq!(declared.json()["error"]["code"], -32700);

    let mut chunks = Vec::new();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    for _ in 0..96 {
        chunks.extend_from_slice(chunk.as_bytes());
    }
    chunks.extend_from_slice(b"0\r\n\r\n");
    let chunked = exchange(
        &addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nMcp-Session-Id: {session}\r\n\r\n"
        ),
        &chunks,
    );
    assert_eq!(chunked.status, 413, "{}", chunked.body);

    let full = post(&addr, Some(&session), &many_values(7, 1_900_000));
    assert_eq!(full.status, 413, "{}", full.body);
    let error = full.json();
    assert_eq!(error["id"], 7, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than 65536 JSON values")),
        "{error}"
    );

    assert_eq!(add_over_http(&addr, &session, 20, 22), json!(42));
    let grew = server.peak_kib().saturating_sub(before);
    eprintln!("the server's peak grew by {grew} KiB");
    assert!(
        grew < GROWTH_BOUND_KIB,
        "the server's peak grew by {grew} KiB refusing three big bodies"
    );
    drop(server);
}

/// A client writes 2,000 `tools/list` requests (each answer is about 60 KB: 120 MB in
/// all) and reads nothing until it has written them all or the server stops reading; the
/// server's peak memory stays within a bound, and every answer still comes.
fn a_client_that_stops_reading_cannot_grow_the_server() {
    const REQUESTS: u64 = 2000;
    let scratch = Scratch::new("unread");
    let mut server = Server::stdio(&scratch, &[]);
    server.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    let listed = server.answer(1).to_string().len();
    assert!(listed > 50_000, "tools/list answers {listed} bytes");
    let before = server.peak_kib();

    let mut stdin = server.stdin.take().expect("standard input");
    let pad = "p".repeat(400);
    let (written, wrote_all) = mpsc::channel();
    let writer = std::thread::spawn(move || {
        for id in 0..REQUESTS {
            let request = format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"tools/list","params":{{"_meta":{{"pad":"{pad}"}}}}}}"#,
                id + 10
            );
            if stdin.write_all(format!("{request}\n").as_bytes()).is_err() {
                return None;
            }
        }
        let _ = written.send(());
        Some(stdin)
    });
    // A server that reads everything lets the writer finish at once; one that pushes back
    // holds it until its answers are read. Reading starts when the writer is done or
    // has been held a while; the bound holds either way, or the finding is back.
    let _ = wrote_all.recv_timeout(Duration::from_secs(5));
    let held = server.peak_kib().saturating_sub(before);
    let mut answered = 0;
    while answered < REQUESTS {
        let answer = server.next();
        assert!(answer["result"]["tools"].is_array(), "an answer: {answer}");
        answered += 1;
    }
    let stdin = writer.join().expect("the writer");
    server.stdin = stdin;
    let grew = server.peak_kib().saturating_sub(before);
    eprintln!("the server's peak grew by {grew} KiB ({held} KiB before the client read)");
    assert!(
        grew < GROWTH_BOUND_KIB,
        "the server's peak grew by {grew} KiB ({held} KiB before the client read) while its \
         client left {listed} × {REQUESTS} bytes of answers unread"
    );
    assert!(server.finish().0.success());
}

/// 100 calls, each followed at once by its `notifications/cancelled`: each is in the
/// audit trail, 100 times of 100 (there used to be 57), and the trail is intact.
fn every_cancelled_call_is_recorded() {
    const CALLS: u64 = 100;
    let scratch = Scratch::new("cancelled");
    let mut server = Server::stdio(&scratch, &[]);
    let mut burst = String::new();
    for id in 1..=CALLS {
        burst.push_str(&call(id, "calc_add", &json!({ "a": id, "b": 1 })).to_string());
        burst.push('\n');
        burst.push_str(
            &json!({
                "jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": { "requestId": id, "reason": "changed my mind" },
            })
            .to_string(),
        );
        burst.push('\n');
    }
    server.send(burst.trim_end());
    server.send(r#"{"jsonrpc":"2.0","id":1000,"method":"ping"}"#);
    assert!(server.answer(1000).get("result").is_some());
    let finished = || {
        scratch
            .audit()
            .into_iter()
            .filter(|entry| entry["event"] == "finish")
            .collect::<Vec<_>>()
    };
    let all = eventually(|| (finished().len() as u64 >= CALLS).then_some(()));
    assert!(
        all.is_some(),
        "{} of {CALLS} cancelled calls are in the audit trail",
        finished().len()
    );
    assert!(server.finish().0.success());
    let ends = finished();
    assert_eq!(ends.len() as u64, CALLS, "one end per call");
    // Each call's one end, whatever it was: cancelled (most), run (the answer came
    // first), or how the race with its cancel ended it otherwise.
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    for end in &ends {
        assert_eq!(end["session"], "limits calc add", "{end}");
        let status = end["result"]["status"].as_str().unwrap_or_default();
        *statuses.entry(status.to_owned()).or_default() += 1;
    }
    eprintln!("how the {CALLS} calls ended: {statuses:?}");
    let verified = cnv_audit::verify(&scratch.log(), None);
    assert!(verified.is_intact(), "{:?}", verified.problem);
    assert_eq!(verified.calls, CALLS as usize);
}

/// What a handler writes to its standard output and error comes back in its result,
/// every control character escaped, and never reaches the server's own standard error
/// (the operator's terminal) or standard output (the protocol's).
fn a_handler_s_console_is_in_its_result() {
    let scratch = Scratch::new("console");
    let mut server = Server::stdio(&scratch, &[]);
    server.send(&call(1, "calc_noisy", &json!({})).to_string());
    let answer = server.answer(1);
    let result = &answer["result"];
    assert_eq!(result["isError"], false, "{answer}");
    let texts: Vec<&str> = result["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|block| block["text"].as_str())
        .collect();
    let console = texts
        .iter()
        .find(|text| text.contains("the handler's console"))
        .unwrap_or_else(|| panic!("the console is in the result: {answer}"));
    assert!(
        console.matches(MARKER).count() == 2,
        "both streams: {console:?}"
    );
    assert!(
        !console.chars().any(|c| c.is_control() && c != '\n'),
        "every control character is escaped: {console:?}"
    );
    let (status, said) = server.finish();
    assert!(status.success(), "{said:?}");
    assert!(
        !said
            .iter()
            .any(|line| line.contains(MARKER) || line.chars().any(char::is_control)),
        "the handler's console reached the server's standard error: {said:?}"
    );
}
