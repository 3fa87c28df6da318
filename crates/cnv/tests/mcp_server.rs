//! The MCP server in process, driven by rmcp's own client over an in-memory pipe (the
//! stdio transport), and the serve flags of the `workbench` example run as a process.
//!
//! Each test builds a small command line whose handlers count their runs, serves it on a
//! thread of its own (`McpServer::serve_io`), and calls it as an agent would: the tools
//! are the command line's manifest, agent-safe calls run, others need a justification,
//! `Dangerous` never runs, every call is in the operator's audit log with its MCP
//! session, a cancelled call stops, and the session is in the registry exactly while it
//! is open.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use cnv::cli::{HandlerError, Invocation, Output};
use cnv::mcp::{McpError, McpServer};
use cnv::prelude::*;
use cnv::{Cli, CliBuilder};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    JsonObject,
};
use rmcp::service::{RoleClient, RunningService, ServiceError, ServiceExt};
use serde_json::{Value, json};

mod common;

/// Opens once the test lets the slow handler finish.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*open {
            open = self
                .opened
                .wait(open)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn open(&self) {
        *self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

/// What the handlers did.
#[derive(Default)]
struct Runs {
    add: AtomicUsize,
    write: AtomicUsize,
    wipe: AtomicUsize,
    slow_started: AtomicUsize,
    slow_finished: AtomicUsize,
    release: Gate,
}

/// A scratch directory: the workspace `ws/` and, beside it, the audit log.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-mcp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
        Self { dir }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.join("ws")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
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
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn grammar() -> GrammarModel {
    GrammarModel::new("bench")
        .with_version("2.0.0")
        .with_noun(
            GrammarNoun::new("calc", "Arithmetic")
                .with_verb(
                    GrammarVerb::new("add", "Add two numbers", CapabilityContract::pure())
                        .with_arg(GrammarArgument::positional("a", "i64", "A number"))
                        .with_arg(GrammarArgument::positional("b", "i64", "Another")),
                )
                .with_verb(GrammarVerb::new(
                    "fail",
                    "Always fails",
                    CapabilityContract::pure(),
                ))
                .with_verb(GrammarVerb::new(
                    "slow",
                    "Waits until released",
                    CapabilityContract::pure().with_band(ResourceBand::Slow),
                )),
        )
        .with_noun(
            GrammarNoun::new("file", "Files")
                .with_verb(
                    GrammarVerb::new("write", "Write a file", CapabilityContract::read_write())
                        .with_arg(GrammarArgument::positional("path", "PathBuf", "The file"))
                        .with_arg(GrammarArgument::named("content", "String", "The text")),
                )
                .with_verb(GrammarVerb::new(
                    "wipe",
                    "Delete everything",
                    CapabilityContract::dangerous(),
                )),
        )
}

fn cli(scratch: &Scratch, runs: &Arc<Runs>, configure: fn(CliBuilder) -> CliBuilder) -> Cli {
    let (add, write, wipe, slow) = (
        Arc::clone(runs),
        Arc::clone(runs),
        Arc::clone(runs),
        Arc::clone(runs),
    );
    let builder = CliBuilder::from_model(grammar())
        .workspace(scratch.workspace())
        .audit_log(scratch.log())
        .handler::<Pure, _>("calc add", move |call| {
            add.add.fetch_add(1, Ordering::SeqCst);
            let (a, b): (i64, i64) = (call.value("a")?, call.value("b")?);
            Ok(Output::text(format!("{}", a + b)).with_data(json!({ "sum": a + b })))
        })
        .handler::<Pure, _>("calc fail", |_call| {
            Err(HandlerError::msg("the disk is full"))
        })
        .handler::<Pure, _>("calc slow", move |_call| {
            slow.slow_started.fetch_add(1, Ordering::SeqCst);
            slow.release.wait();
            slow.slow_finished.fetch_add(1, Ordering::SeqCst);
            Ok(Output::text("done"))
        })
        .handler::<ReadWriteFS, _>("file write", move |call: &Invocation<'_, ReadWriteFS>| {
            write.write.fetch_add(1, Ordering::SeqCst);
            let path: PathBuf = call.value("path")?;
            let content: String = call.value("content")?;
            call.workspace()?.write(&path, &content)?;
            Ok(Output::text(format!("wrote {}", path.display())))
        })
        .handler::<Dangerous, _>("file wipe", move |_call| {
            wipe.wipe.fetch_add(1, Ordering::SeqCst);
            Ok(Output::none())
        });
    configure(builder).build().expect("a valid command line")
}

fn args(value: Value) -> JsonObject {
    value.as_object().cloned().expect("an object")
}

fn call(name: &'static str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name).with_arguments(args(arguments))
}

/// The `error` object of an `isError` result.
fn error_of(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result
        .structured_content
        .as_ref()
        .and_then(|content| content.get("error"))
        .cloned()
        .expect("structuredContent.error")
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|content| content.as_text())
        .map(|text| text.text.clone())
        .unwrap_or_default()
}

type Client = RunningService<RoleClient, ClientConfig>;

/// Serves `cli` over an in-memory pipe on a thread of its own while `test` runs as an MCP
/// client (rmcp's), and returns once the server has stopped.
fn with_session<T>(
    server: &McpServer,
    test: impl AsyncFnOnce(&Client) -> T,
) -> (T, Result<(), McpError>) {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    std::thread::scope(|scope| {
        let serving = scope.spawn(move || {
            let (read, write) = tokio::io::split(server_io);
            server.serve_io(read, write)
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let out = runtime.block_on(async {
            let client = ClientConfig::new(
                ClientCapabilities::default(),
                Implementation::new("rust-test", "9.9.9"),
            )
            .serve(client_io)
            .await
            .expect("the handshake");
            let out = test(&client).await;
            let _ = client.cancel().await;
            out
        });
        drop(runtime);
        (out, serving.join().expect("the server thread"))
    })
}

/// Waits (up to 10 s) for `done`, checking every 20 ms.
fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn tools_are_the_manifest_and_an_agent_safe_call_round_trips() {
    let scratch = Scratch::new("round-trip");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let (result, served) = with_session(&server, async |client| {
        let info = client.peer_info().expect("the server introduced itself");
        assert_eq!(info.protocol_version.as_str(), "2025-11-25");
        assert_eq!(
            info.server_info.as_ref().map(|s| s.name.as_str()),
            Some("bench")
        );
        let registered: Vec<String> = server
            .registry()
            .iter()
            .map(|session| session.name().to_owned())
            .collect();
        assert_eq!(registered, ["mcp stdio rust-test 9.9.9"]);

        let tools = client.list_all_tools().await.expect("tools/list");
        let listed = serde_json::to_value(&tools).expect("encodes");
        assert_eq!(listed, cli.mcp_tools()["tools"], "one source of tools");

        client
            .call_tool(call("calc_add", json!({ "a": 2, "b": 3 })))
            .await
            .expect("tools/call")
    });
    served.expect("the server ends cleanly");
    assert_eq!(result.is_error, Some(false));
    assert_eq!(result.structured_content, Some(json!({ "sum": 5 })));
    assert_eq!(text_of(&result), "5");
    assert_eq!(runs.add.load(Ordering::SeqCst), 1);
}

#[test]
fn an_unjustified_write_is_refused_with_its_rule_and_a_justified_one_runs_and_is_audited() {
    let scratch = Scratch::new("justify");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let ((refused, short, ran, session), served) = with_session(&server, async |client| {
        let session = server.registry().iter().next().expect("a session").id();
        let refused = client
            .call_tool(call(
                "file_write",
                json!({ "path": "a.txt", "content": "x" }),
            ))
            .await
            .expect("tools/call");
        let short = client
            .call_tool(call(
                "file_write",
                json!({ "path": "a.txt", "content": "x", "justification": "I want to" }),
            ))
            .await
            .expect("tools/call");
        let ran = client
            .call_tool(call(
                "file_write",
                json!({
                    "path": "b.txt",
                    "content": "notes",
                    "justification": "the user asked for the notes to be saved",
                }),
            ))
            .await
            .expect("tools/call");
        (refused, short, ran, session)
    });
    served.expect("the server ends cleanly");

    for result in [&refused, &short] {
        let error = error_of(result);
        assert_eq!(error["rule"], "min_justification", "{error}");
        assert!(
            error["hint"]
                .as_str()
                .is_some_and(|hint| hint.contains("`justification`")),
            "{error}"
        );
        assert!(text_of(result).contains("to proceed"), "{result:?}");
    }
    assert!(
        !scratch.workspace().join("a.txt").exists(),
        "nothing written"
    );
    assert_eq!(ran.is_error, Some(false), "{ran:?}");
    assert_eq!(
        std::fs::read_to_string(scratch.workspace().join("b.txt")).expect("written"),
        "notes"
    );
    assert_eq!(runs.write.load(Ordering::SeqCst), 1);

    // Three calls, each created with the MCP session and its client, each ended.
    let entries = scratch.audit();
    let created: Vec<&Value> = entries.iter().filter(|e| e["event"] == "create").collect();
    assert_eq!(created.len(), 3, "{entries:?}");
    for entry in &created {
        let origin = &entry["call"]["origin"];
        assert_eq!(origin["via"], "mcp");
        assert_eq!(origin["transport"], "stdio");
        assert_eq!(origin["session_id"], session.to_string());
        assert_eq!(origin["client_name"], "rust-test");
        assert_eq!(origin["client_version"], "9.9.9");
    }
    let ends: Vec<&Value> = entries
        .iter()
        .filter(|e| e["event"] == "finish")
        .map(|e| &e["result"]["status"])
        .collect();
    assert_eq!(ends, ["denied", "denied", "ran"]);
    let verified = cnv_audit::verify(&scratch.log(), None);
    assert!(verified.is_intact(), "{:?}", verified.problem);
    assert_eq!(verified.calls, 3);
}

#[test]
fn dangerous_never_runs_and_a_handler_s_failure_is_an_error_result() {
    let scratch = Scratch::new("dangerous");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let ((wipe, failed), served) = with_session(&server, async |client| {
        let wipe = client
            .call_tool(call(
                "file_wipe",
                json!({ "justification": "the operator said the workspace may be wiped clean today" }),
            ))
            .await
            .expect("tools/call");
        let failed = client
            .call_tool(call("calc_fail", json!({})))
            .await
            .expect("tools/call");
        (wipe, failed)
    });
    served.expect("the server ends cleanly");
    assert_eq!(error_of(&wipe)["rule"], "dangerous_never_autonomous");
    assert_eq!(runs.wipe.load(Ordering::SeqCst), 0, "Dangerous never ran");
    let error = error_of(&failed);
    assert_eq!(error["kind"], "failed");
    assert!(text_of(&failed).contains("the disk is full"), "{failed:?}");
}

#[test]
fn a_supervised_server_asks_nobody_a_client_without_elicitation_and_says_what_approval_needs() {
    let scratch = Scratch::new("supervised");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| {
        b.mcp_supervised(cnv::mcp::McpSupervision::Elicit)
    });
    let server = cli.mcp_server().expect("settings").quiet();
    assert_eq!(server.supervision(), cnv::mcp::McpSupervision::Elicit);
    let (wipe, served) = with_session(&server, async |client| {
        client
            .call_tool(call(
                "file_wipe",
                json!({ "justification": "the operator said the workspace may be wiped clean today" }),
            ))
            .await
            .expect("tools/call")
    });
    served.expect("the server ends cleanly");
    // rmcp's client here declares no elicitation: the call is the agent's alone.
    assert_eq!(error_of(&wipe)["rule"], "dangerous_never_autonomous");
    let message = error_of(&wipe)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("did not declare the `elicitation` capability")
            && message.contains("on a supervised server"),
        "{message}"
    );
    assert_eq!(runs.wipe.load(Ordering::SeqCst), 0, "Dangerous never ran");
}

#[test]
fn unknown_tools_are_protocol_errors_and_wrong_types_are_error_results() {
    let scratch = Scratch::new("malformed");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let ((unknown, wrong, extra, after), served) = with_session(&server, async |client| {
        let unknown = client.call_tool(call("no_such_tool", json!({}))).await;
        let wrong = client
            .call_tool(call("calc_add", json!({ "a": "two", "b": [3] })))
            .await
            .expect("tools/call");
        let extra = client
            .call_tool(call(
                "calc_add",
                json!({ "a": 1, "b": 2, "workspace": "/" }),
            ))
            .await
            .expect("tools/call");
        let after = client
            .call_tool(call("calc_add", json!({ "a": 1, "b": 1 })))
            .await
            .expect("tools/call");
        (unknown, wrong, extra, after)
    });
    served.expect("the server ends cleanly");
    match unknown {
        Err(ServiceError::McpError(error)) => assert_eq!(error.code.0, -32602, "{error:?}"),
        other => panic!("an unknown tool is a JSON-RPC error, not {other:?}"),
    }
    assert_eq!(error_of(&wrong)["kind"], "invalid_arguments");
    let error = error_of(&extra);
    assert_eq!(error["kind"], "invalid_arguments");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("no argument `workspace`")),
        "{error}"
    );
    assert_eq!(after.structured_content, Some(json!({ "sum": 2 })));
    assert_eq!(runs.add.load(Ordering::SeqCst), 1, "only the good call ran");

    // Every call is in the operator's log, the refused ones as they were asked for.
    let entries = scratch.audit();
    let ends: Vec<(&Value, &Value)> = entries
        .iter()
        .filter(|e| e["event"] == "finish")
        .map(|e| (&e["result"]["status"], &e["call"]["command"]))
        .collect();
    assert_eq!(
        ends,
        [
            (&json!("invalid"), &json!("no_such_tool")),
            (&json!("invalid"), &json!("calc add")),
            (&json!("invalid"), &json!("calc add")),
            (&json!("ran"), &Value::Null),
        ],
        "{entries:#?}"
    );
    let refused = entries
        .iter()
        .find(|e| e["call"]["command"] == "no_such_tool")
        .expect("the unknown tool's entry");
    assert_eq!(refused["call"]["origin"]["via"], "mcp");
    assert_eq!(refused["call"]["origin"]["client_name"], "rust-test");
    let workspace = entries
        .iter()
        .find(|e| e["call"]["args"]["workspace"] == "/")
        .expect("the arguments the agent sent, in full");
    assert_eq!(workspace["outcome"], "denied");
    let verified = cnv_audit::verify(&scratch.log(), None);
    assert!(verified.is_intact(), "{:?}", verified.problem);
    assert_eq!(verified.calls, 4);
}

#[test]
fn a_cancelled_call_stops_and_its_end_is_recorded() {
    let scratch = Scratch::new("cancel");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let (after, served) = with_session(&server, async |client| {
        // Dropping the call's future (here, at its timeout) makes rmcp's client send
        // `notifications/cancelled`.
        let slow = client.call_tool(call("calc_slow", json!({})));
        assert!(
            tokio::time::timeout(Duration::from_millis(300), slow)
                .await
                .is_err(),
            "the slow call waits for its release"
        );
        let ended = eventually(|| {
            scratch
                .audit()
                .iter()
                .any(|entry| entry["event"] == "finish" && entry["result"]["status"] == "cancelled")
        });
        assert!(ended, "the call ended as cancelled: {:?}", scratch.audit());
        assert_eq!(runs.slow_started.load(Ordering::SeqCst), 1);
        assert_eq!(runs.slow_finished.load(Ordering::SeqCst), 0);
        client
            .call_tool(call("calc_add", json!({ "a": 40, "b": 2 })))
            .await
            .expect("the server goes on serving")
    });
    served.expect("the server ends cleanly");
    assert_eq!(after.structured_content, Some(json!({ "sum": 42 })));
    let cancelled = scratch
        .audit()
        .into_iter()
        .find(|entry| entry["result"]["status"] == "cancelled")
        .expect("recorded");
    assert_eq!(cancelled["result"]["exit_code"], 130);
    assert_eq!(cancelled["session"], "bench calc slow");
    // The abandoned handler finishes on its own thread; its answer goes nowhere.
    runs.release.open();
    assert!(eventually(|| runs.slow_finished.load(Ordering::SeqCst) == 1));
    assert!(cnv_audit::verify(&scratch.log(), None).is_intact());
}

#[test]
fn the_registry_holds_the_session_exactly_while_it_is_open() {
    let scratch = Scratch::new("registry");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    assert!(server.registry().is_empty());
    let (open, served) = with_session(&server, async |_client| {
        server
            .registry()
            .iter()
            .map(|session| (session.name().to_owned(), session.is_active()))
            .collect::<Vec<_>>()
    });
    served.expect("the server ends cleanly");
    assert_eq!(open, [("mcp stdio rust-test 9.9.9".to_owned(), true)]);
    assert!(
        server.registry().is_empty(),
        "removed when the connection ended"
    );
}

#[test]
fn an_idle_session_ends_after_the_operator_s_timeout() {
    let scratch = Scratch::new("idle");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| {
        b.mcp_idle_timeout(Some(Duration::from_secs(1)))
    });
    let server = cli.mcp_server().expect("settings").quiet();
    let (after_idle, served) = with_session(&server, async |client| {
        assert_eq!(server.registry().len(), 1);
        let gone = eventually(|| server.registry().is_empty());
        assert!(gone, "the idle session left the registry");
        client
            .call_tool(call("calc_add", json!({ "a": 1, "b": 1 })))
            .await
    });
    served.expect("the server ends cleanly");
    assert!(
        after_idle.is_err(),
        "the connection is closed: {after_idle:?}"
    );
}

#[test]
fn http_serves_loopback_only_unless_the_operator_allows_more_and_stops_on_shutdown() {
    let scratch = Scratch::new("http");
    let runs = Arc::new(Runs::default());
    let cli = cli(&scratch, &runs, |b| b);
    let server = cli.mcp_server().expect("settings").quiet();
    let refused = server.serve_http("0.0.0.0:0".parse().expect("an address"), |_| {
        panic!("never bound")
    });
    assert!(
        matches!(refused, Err(McpError::RemoteNotAllowed { .. })),
        "{refused:?}"
    );
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("CNV_MCP_ALLOW_REMOTE"), "{message}");

    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    let shutdown = server.shutdown_handle();
    let served = std::thread::scope(|scope| {
        let serving = scope.spawn(|| {
            server.serve_http("127.0.0.1:0".parse().expect("an address"), |addr| {
                let _ = bound_tx.send(addr);
            })
        });
        let addr = bound_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server bound");
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
        shutdown.shutdown();
        serving.join().expect("the server thread")
    });
    served.expect("shut down cleanly");
}

/// The example program as an operator runs it.
fn workbench(args: &[&str], env: &[(&str, &str)], workspace: &Path) -> std::process::Output {
    let mut command = Command::new(common::example("workbench"));
    command
        .args(args)
        .env_remove("CNV_MCP_IDLE_TIMEOUT")
        .env_remove("CNV_MCP_ALLOW_REMOTE")
        .env("CNV_WORKSPACE", workspace)
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the example runs")
}

/// Arguments, the operator's variables, and what standard error must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn the_serve_flags_refuse_what_the_operator_did_not_ask_for() {
    let scratch = Scratch::new("flags");
    let ws = scratch.workspace();
    let cases: [Case<'_>; 6] = [
        (
            &["--mcp-serve-http", "0.0.0.0:0"],
            &[],
            "CNV_MCP_ALLOW_REMOTE=1",
        ),
        (
            &["--mcp-serve"],
            &[("CNV_MCP_SUPERVISED", "yes")],
            "CNV_MCP_SUPERVISED=\"yes\" is not `elicit`",
        ),
        (
            &["--mcp-serve"],
            &[("CNV_MCP_IDLE_TIMEOUT", "soon")],
            "CNV_MCP_IDLE_TIMEOUT=\"soon\" is not a whole number of seconds",
        ),
        (&["--mcp-serve", "calc", "sum", "1"], &[], "give no command"),
        (&["--mcp-serve", "--agent"], &[], "cannot be used with"),
        (
            &["--mcp-serve", "--mcp-serve-http", "127.0.0.1:0"],
            &[],
            "cannot be used with",
        ),
    ];
    for (args, env, said) in cases {
        let out = workbench(args, env, &ws);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout is the protocol's");
    }
    // Standard input closed before `initialize`: nothing to serve, a clean end.
    let out = workbench(&["--mcp-serve"], &[], &ws);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
