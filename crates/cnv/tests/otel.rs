//! Traces and metrics, exported to a real OTLP/HTTP receiver on loopback inside the test
//! (`POST /v1/traces` and `/v1/metrics`, protobuf bodies decoded with the protocol's own
//! messages): the `workbench` example run as a command line and as an MCP server (stdio,
//! and HTTP), as an operator runs it with `OTEL_EXPORTER_OTLP_ENDPOINT` set.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::{Value, json};

mod common;
mod otlp;

use otlp::{Collector, WAIT};

/// A trace id and a span id an agent's trace context names.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

// ---------------------------------------------------------------------------------------
// The example, as an operator runs it.

fn workbench() -> PathBuf {
    common::example("workbench")
}

/// A scratch directory: the workspace `ws/` and, beside it, the audit log.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-otel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The example, with the operator's `env` on top of an environment with no `CNV_` or
/// `OTEL_` variable of the test's.
fn command(scratch: &Scratch, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(workbench());
    for (name, _) in std::env::vars() {
        if name.starts_with("CNV_") || name.starts_with("OTEL_") || name.starts_with("TRACE") {
            command.env_remove(name);
        }
    }
    command
        .env("CNV_WORKSPACE", scratch.0.join("ws"))
        .env("CNV_AUDIT_LOG", scratch.0.join("audit.jsonl"));
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn run(scratch: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(scratch, env)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the example runs")
}

fn endpoint(receiver: &Collector) -> (&'static str, &str) {
    ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url.as_str())
}

/// No attribute of any span holds `secret`.
fn nowhere(receiver: &Collector, secret: &str) {
    for span in &receiver.spans {
        for (key, value) in &span.attributes {
            assert!(
                !value.contains(secret),
                "`{key}` of `{}` holds {secret:?}: {value}",
                span.name
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The command line.

#[test]
fn a_command_line_call_exports_its_spans_their_structure_and_its_metrics() {
    let scratch = Scratch::new("cli");
    let mut receiver = Collector::start();
    let out = run(
        &scratch,
        &["calc", "sum", "40", "2"],
        &[endpoint(&receiver)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    // The command line flushed before it exited: everything is here.
    receiver.drain();

    let call = receiver.one("cnv.call").clone();
    assert_eq!(call.parent, "", "a new trace: {call:?}");
    assert_eq!(call.service, "workbench");
    assert_eq!(call.kind, SpanKind::Internal as i32);
    assert!(!call.error);
    for (key, value) in [
        ("cnv.command", "calc sum"),
        ("cnv.class", "Pure"),
        ("cnv.band", "Instant"),
        ("cnv.mode", "Supervised"),
        ("cnv.origin", "command_line"),
        ("cnv.result", "ran"),
        ("cnv.exit_code", "0"),
    ] {
        assert_eq!(call.attr(key), Some(value), "{key}: {call:?}");
    }
    let gate = receiver.one("cnv.gate");
    assert_eq!(gate.parent, call.span_id);
    assert_eq!(gate.attr("cnv.decision"), Some("admitted"));
    let sandbox = receiver.one("cnv.sandbox");
    assert_eq!(sandbox.parent, call.span_id);
    assert_eq!(sandbox.attr("cnv.containment"), Some("process"));
    assert_eq!(sandbox.attr("cnv.worker.started"), Some("true"));
    let handler = receiver.one("cnv.handler");
    assert_eq!(
        handler.parent, sandbox.span_id,
        "the handler is within the sandbox"
    );
    let audits = receiver.named("cnv.audit");
    let entries: Vec<&str> = audits
        .iter()
        .map(|span| span.attr("cnv.audit.entry").unwrap_or_default())
        .collect();
    assert_eq!(entries.len(), 2, "{audits:#?}");
    assert!(
        entries.contains(&"start") && entries.contains(&"finish"),
        "{entries:?}"
    );
    for span in &receiver.spans {
        assert_eq!(span.trace_id, call.trace_id, "one trace: {span:?}");
        assert!(!span.error, "{span:?}");
    }
    assert_eq!(receiver.spans.len(), 6, "{:#?}", receiver.spans);
    // No argument value is recorded.
    nowhere(&receiver, "40");
    assert!(call.attr("cnv.arguments").is_none());

    assert_eq!(
        receiver.count("cnv.calls", &[("cnv.class", "Pure"), ("cnv.result", "ran")]),
        1,
        "{:#?}",
        receiver.points
    );
}

#[test]
fn a_refusal_names_its_rule_and_is_counted_and_its_justification_is_not_recorded() {
    let scratch = Scratch::new("refusal");
    let mut receiver = Collector::start();
    let out = run(
        &scratch,
        &[
            "--agent",
            "file",
            "write",
            "secret-name.txt",
            "--content",
            "secret-content",
            "--justify",
            "secret why",
        ],
        &[endpoint(&receiver)],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    receiver.drain();

    let call = receiver.one("cnv.call");
    assert!(call.error, "a call that did not run is an error: {call:?}");
    assert_eq!(call.attr("cnv.result"), Some("denied"));
    assert_eq!(call.attr("cnv.rule"), Some("min_justification"));
    assert_eq!(call.attr("cnv.exit_code"), Some("3"));
    assert_eq!(call.attr("cnv.mode"), Some("Autonomous"));
    let gate = receiver.one("cnv.gate");
    assert_eq!(gate.attr("cnv.decision"), Some("refused"));
    assert_eq!(gate.attr("cnv.rule"), Some("min_justification"));
    assert!(receiver.named("cnv.sandbox").is_empty(), "nothing ran");
    for secret in ["secret-name", "secret-content", "secret why"] {
        nowhere(&receiver, secret);
    }
    assert_eq!(
        receiver.count("cnv.refusals", &[("cnv.rule", "min_justification")]),
        1,
        "{:#?}",
        receiver.points
    );
    assert_eq!(
        receiver.count(
            "cnv.calls",
            &[("cnv.class", "ReadWriteFS"), ("cnv.result", "denied")]
        ),
        1
    );
}

#[test]
fn argument_values_and_justifications_are_recorded_only_when_the_operator_opts_in() {
    let scratch = Scratch::new("opt-in");
    let mut receiver = Collector::start();
    let out = run(
        &scratch,
        &[
            "--agent",
            "file",
            "write",
            "opted-in.txt",
            "--content",
            "opted-in content",
            "--justify",
            "the operator asked for this note to be written",
        ],
        &[endpoint(&receiver), ("CNV_OTEL_RECORD_ARGUMENTS", "1")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    receiver.drain();
    let call = receiver.one("cnv.call");
    let arguments: Value =
        serde_json::from_str(call.attr("cnv.arguments").expect("recorded")).expect("JSON");
    assert_eq!(arguments["path"], "opted-in.txt", "{arguments}");
    assert_eq!(
        call.attr("cnv.justification"),
        Some("the operator asked for this note to be written")
    );
}

#[test]
fn with_otel_sdk_disabled_nothing_is_exported() {
    let scratch = Scratch::new("disabled");
    let mut receiver = Collector::start();
    let out = run(
        &scratch,
        &["calc", "sum", "1", "2"],
        &[endpoint(&receiver), ("OTEL_SDK_DISABLED", "true")],
    );
    assert!(out.status.success());
    receiver.drain();
    assert!(receiver.spans.is_empty() && receiver.points.is_empty());
    // The same receiver hears the same call once exporting is on: silence meant disabled.
    let out = run(
        &scratch,
        &["calc", "sum", "1", "2"],
        &[endpoint(&receiver), ("OTEL_SDK_DISABLED", "false")],
    );
    assert!(out.status.success());
    receiver.drain();
    assert_eq!(receiver.named("cnv.call").len(), 1);
}

#[test]
fn with_only_the_traces_endpoint_set_metrics_go_nowhere() {
    // The exporter's default for metrics, which must stay silent: nothing names it.
    let mut default = Collector::start_at("127.0.0.1:4318");
    let scratch = Scratch::new("traces-only");
    let mut receiver = Collector::start();
    let traces = format!("{}/v1/traces", receiver.url);
    let out = run(
        &scratch,
        &["calc", "sum", "1", "2"],
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.as_str())],
    );
    assert!(out.status.success());
    receiver.drain();
    default.drain();
    assert_eq!(receiver.named("cnv.call").len(), 1, "{:#?}", receiver.spans);
    assert_eq!(receiver.metric_requests, 0, "{:#?}", receiver.points);
    assert_eq!(
        default.requests, 0,
        "nothing goes to localhost:4318 unasked"
    );
}

#[test]
fn a_launcher_s_traceparent_variable_is_continued() {
    let scratch = Scratch::new("launcher");
    let mut receiver = Collector::start();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let out = run(
        &scratch,
        &["calc", "sum", "1"],
        &[endpoint(&receiver), ("TRACEPARENT", traceparent.as_str())],
    );
    assert!(out.status.success());
    receiver.drain();
    let call = receiver.one("cnv.call");
    assert_eq!(
        (call.trace_id.as_str(), call.parent.as_str()),
        (TRACE_ID, PARENT_ID)
    );
}

#[test]
fn no_handler_reads_the_exporter_s_settings() {
    let scratch = Scratch::new("headers");
    let receiver = Collector::start();
    let out = run(
        &scratch,
        &["env", "get", "OTEL_EXPORTER_OTLP_HEADERS", "--yes"],
        &[
            endpoint(&receiver),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer collector-secret",
            ),
        ],
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(!said.contains("collector-secret"), "{said}");
    assert!(said.contains("is not set"), "{said}");
}

// ---------------------------------------------------------------------------------------
// The MCP server.

/// The example serving MCP over standard input and output, exporting to `receiver`.
struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl StdioServer {
    fn start(scratch: &Scratch, receiver: &Collector) -> Self {
        let mut child = command(scratch, &[endpoint(receiver)])
            .arg("--mcp-serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("open");
        writeln!(stdin, "{message}").expect("the server reads");
        stdin.flush().expect("the server reads");
    }

    fn answer(&self, id: u64) -> Value {
        loop {
            let line = self.lines.recv_timeout(WAIT).expect("an answer");
            let message: Value = serde_json::from_str(&line).expect("JSON");
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Closes standard input: the server ends, sending what it traced first.
    fn finish(mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + WAIT;
        while self.child.try_wait().expect("a status").is_none() {
            assert!(Instant::now() < until, "the server did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "otel-test", "version": "1" },
        },
    })
}

#[test]
fn an_mcp_tools_call_with_meta_traceparent_continues_the_agent_s_trace() {
    let scratch = Scratch::new("mcp-stdio");
    let mut receiver = Collector::start();
    let mut server = StdioServer::start(&scratch, &receiver);
    server.send(&initialize());
    assert!(server.answer(0).get("result").is_some());
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    server.send(&json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "calc_sum",
            "arguments": { "numbers": [20, 22] },
            "_meta": {
                "traceparent": format!("00-{TRACE_ID}-{PARENT_ID}-01"),
                "tracestate": "agent=1",
            },
        },
    }));
    let answer = server.answer(1);
    assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
    // A second call without context starts a trace of its own.
    server.send(&json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "calc_sum", "arguments": { "numbers": [1] } },
    }));
    let _ = server.answer(2);
    server.finish();
    receiver.drain();

    let calls = receiver.named("cnv.call");
    assert_eq!(calls.len(), 2, "{:#?}", receiver.spans);
    let continued = calls
        .iter()
        .find(|span| span.trace_id == TRACE_ID)
        .unwrap_or_else(|| panic!("the agent's trace continues: {calls:#?}"));
    assert_eq!(continued.parent, PARENT_ID);
    assert_eq!(continued.trace_state, "agent=1", "its tracestate goes on");
    assert_eq!(continued.kind, SpanKind::Server as i32);
    assert_eq!(continued.attr("cnv.origin"), Some("mcp"));
    assert_eq!(continued.attr("cnv.mcp.transport"), Some("stdio"));
    assert_eq!(continued.attr("cnv.command"), Some("calc sum"));
    assert_eq!(continued.attr("cnv.result"), Some("ran"));
    let children = receiver
        .spans
        .iter()
        .filter(|span| span.parent == continued.span_id)
        .count();
    assert_eq!(
        children, 4,
        "gate, two audit entries, sandbox: {:#?}",
        receiver.spans
    );
    let other = calls
        .iter()
        .find(|span| span.trace_id != TRACE_ID)
        .expect("the second");
    assert_eq!(other.parent, "");
    assert_eq!(
        receiver.count("cnv.calls", &[("cnv.class", "Pure"), ("cnv.result", "ran")]),
        2
    );
}

/// A POST of `body` to the MCP endpoint at `addr`, with `headers`; the reply's status,
/// headers and body.
fn post(
    addr: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Vec<(String, String)>, String) {
    let body = body.to_string();
    let mut head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(WAIT)).expect("a timeout");
    stream.write_all(head.as_bytes()).expect("sent");
    stream.write_all(body.as_bytes()).expect("sent");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("an answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

#[test]
fn an_http_traceparent_header_continues_the_agent_s_trace() {
    let scratch = Scratch::new("mcp-http");
    let mut receiver = Collector::start();
    // Spans are sent every 100 ms: the server is stopped by a kill, with no flush.
    let mut child = command(
        &scratch,
        &[endpoint(&receiver), ("OTEL_BSP_SCHEDULE_DELAY", "100")],
    )
    .args(["--mcp-serve-http", "127.0.0.1:0"])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the server starts");
    let stderr = child.stderr.take().expect("piped");
    let mut said = BufReader::new(stderr).lines();
    let addr = loop {
        let line = said
            .next()
            .expect("the server says where it serves")
            .expect("text");
        if let Some((_, rest)) = line.split_once("serving MCP at http://")
            && let Some((addr, _)) = rest.split_once("/mcp")
        {
            break addr.to_owned();
        }
    };
    std::thread::spawn(move || for _ in said {});
    let (status, headers, body) = post(&addr, &[], &initialize());
    assert_eq!(status, 200, "{body}");
    let session = headers
        .iter()
        .find(|(name, _)| name == "mcp-session-id")
        .map(|(_, value)| value.clone())
        .expect("a session");
    let in_session = [
        ("Mcp-Session-Id", session.as_str()),
        ("MCP-Protocol-Version", "2025-11-25"),
    ];
    let (status, _, _) = post(
        &addr,
        &in_session,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert!(status < 300);
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let mut with_context = in_session.to_vec();
    with_context.push(("traceparent", traceparent.as_str()));
    let (status, _, body) = post(
        &addr,
        &with_context,
        &json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "calc_sum", "arguments": { "numbers": [1, 2] } },
        }),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"isError\":false"), "{body}");
    receiver.until("the call's span", |r| {
        !r.named("cnv.call").is_empty() && r.spans.len() >= 6
    });
    let _ = child.kill();
    let _ = child.wait();
    let call = receiver.one("cnv.call");
    assert_eq!(
        (call.trace_id.as_str(), call.parent.as_str()),
        (TRACE_ID, PARENT_ID)
    );
    assert_eq!(call.attr("cnv.mcp.transport"), Some("streamable_http"));
    assert!(call.attr("cnv.mcp.session_id").is_some());
    for span in &receiver.spans {
        assert_eq!(span.trace_id, TRACE_ID, "{span:?}");
    }
}
