//! The `workbench` example run as a process, the way a person and an agent run it: help,
//! usage errors, the agent-mode gate with its audit log and its effects on disk, the
//! justified escalation, `Dangerous` in both modes, introspection, and malformed input.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cnv::prelude::*;
use serde_json::Value;

#[path = "../examples/workbench/grammar.rs"]
mod grammar;

mod common;

/// The example binary, which `cargo test` and `cargo nextest` build before the tests.
fn workbench() -> PathBuf {
    common::example("workbench")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-workbench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The example as a launcher starts it: the operator's environment (`CNV_WORKSPACE`,
/// `CNV_AUDIT_LOG`, `CNV_AGENT`, …) and nothing else of ours.
fn launch(args: &[&str], operator: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(workbench());
    command
        .args(args)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_WORKSPACE")
        .env_remove("CNV_AUDIT_LOG")
        .env_remove("CNV_AUDIT_KEY")
        .env_remove("CNV_SANDBOX")
        .stdin(Stdio::null());
    for (name, value) in operator {
        command.env(name, value);
    }
    command.output().expect("the example runs")
}

fn run(args: &[&str]) -> Output {
    launch(args, &[])
}

/// `CNV_AGENT=1`, as a launcher sets it for an agent.
fn agent() -> (&'static str, &'static Path) {
    ("CNV_AGENT", Path::new("1"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn assert_no_panic(out: &Output) {
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.code().is_some(), "killed by a signal: {out:?}");
}

fn audit_lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[test]
fn help_lists_every_noun_and_the_gate() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(
        help.contains("Usage: workbench [OPTIONS] [COMMAND]"),
        "{help}"
    );
    for noun in ["calc", "file", "env", "net", "proc", "workspace"] {
        assert!(help.contains(&format!("  {noun} ")), "{noun}: {help}");
    }
    assert!(help.contains("--agent"), "{help}");
    assert!(help.contains("3 denied by the capability gate"), "{help}");

    let out = run(&["file", "write", "--help"]);
    let help = text(&out.stdout);
    assert!(
        help.contains("Capability: ReadWriteFS (risk 6), band Fast"),
        "{help}"
    );
    assert!(help.contains("--content <CONTENT>"), "{help}");
    assert!(help.contains("-a, --append"), "{help}");
}

#[test]
fn a_usage_error_is_clap_s_with_exit_code_2() {
    let out = run(&["file", "wirte"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: unrecognized subcommand 'wirte'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a similar subcommand exists: 'write'"),
        "{stderr}"
    );
    assert_no_panic(&out);
}

/// Whether `stderr` holds a raw control or bidirectional character: anything a terminal
/// would obey rather than show, but the line feeds of the layout.
fn holds_raw_controls(stderr: &str) -> bool {
    stderr
        .chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn an_agent_s_escape_sequences_in_a_refused_argument_reach_the_terminal_escaped() {
    // An unknown flag: clap refuses it and quotes it.
    let out = launch(
        &[
            "file",
            "write",
            "notes.txt",
            "--content",
            "x",
            "--\u{1b}[2Jx\u{202e}",
        ],
        &[agent()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    // The ANSI sequence is escaped, or dropped by clap (its `color` feature, which some
    // crate of a program may turn on).
    assert!(
        stderr.contains("unexpected argument '--\\u{001b}[2Jx\\u{202e}' found")
            || stderr.contains("unexpected argument '--x\\u{202e}' found"),
        "{stderr}"
    );
    assert!(!out.stderr.contains(&0x1b), "{stderr}");
    assert!(!holds_raw_controls(&stderr), "{stderr}");
    // clap's layout is kept.
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("Usage: workbench file write")),
        "{stderr}"
    );
    assert_no_panic(&out);

    // An invalid value of a typed argument, with a line feed that would forge a line.
    let out = launch(
        &[
            "net",
            "send",
            "1.2.3.4:x\u{1b}]0;owned\u{7}\u{202e}\nUsage: workbench workspace wipe",
        ],
        &[agent()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "invalid value '1.2.3.4:x\\u{001b}]0;owned\\u{0007}\\u{202e}\\u{000a}Usage: workbench workspace wipe' for '<ADDR>'"
        ) || stderr.contains(
            "invalid value '1.2.3.4:x\\u{202e}\\u{000a}Usage: workbench workspace wipe' for '<ADDR>'"
        ),
        "{stderr}"
    );
    assert!(!out.stderr.contains(&0x1b), "{stderr}");
    assert!(!holds_raw_controls(&stderr), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|line| line.starts_with("Usage: workbench workspace")),
        "{stderr}"
    );
    assert_no_panic(&out);

    // The same refusal as JSON: the message is escaped there too.
    let out = launch(
        &[
            "--format",
            "json",
            "calc",
            "sum",
            "1",
            "t\u{1b}[2J\u{202e}o",
        ],
        &[agent()],
    );
    assert_eq!(out.status.code(), Some(2));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let message = answer["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("invalid value 't\\u{001b}[2J\\u{202e}o'")
            || message.contains("invalid value 't\\u{202e}o'"),
        "{message}"
    );
    assert!(!holds_raw_controls(message), "{message}");
}

#[test]
fn an_agent_without_a_justification_is_denied_audited_and_nothing_is_written() {
    let dir = scratch("denied");
    let log = dir.join("audit.jsonl");
    let workspace = dir.join("workspace");
    std::fs::create_dir_all(&workspace).expect("workspace");
    let operator = [
        agent(),
        ("CNV_WORKSPACE", workspace.as_path()),
        ("CNV_AUDIT_LOG", log.as_path()),
    ];
    let args = ["file", "write", "notes.txt", "--content", "hello"];
    let out = launch(&args, &operator);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: `file write` is not agent-safe (`ReadWriteFS`, safety `HumanReviewRequired`): \
             in agent mode it needs a justification of at least 20 characters, and none was given"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("(rule `min_justification`)"), "{stderr}");
    assert!(
        stderr.contains("to proceed: re-run with --justify"),
        "{stderr}"
    );
    assert!(
        !workspace.join("notes.txt").exists(),
        "the denied write left no file"
    );
    let lines = audit_lines(&log);
    let denial = lines.last().expect("an audit line");
    assert_eq!(denial["outcome"], "denied");
    assert_eq!(denial["rule"], "min_justification");
    assert_eq!(denial["to"], "ReadWriteFS");
    assert_eq!(denial["mode"], "Autonomous");

    // The same refusal as one JSON object.
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json", "--justify", "too short"]);
    let out = launch(&json_args, &operator);
    assert_eq!(out.status.code(), Some(3));
    let value: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(value["ok"], false);
    assert_eq!(value["exit_code"], 3);
    assert_eq!(value["error"]["kind"], "denied");
    assert_eq!(value["error"]["rule"], "min_justification");
    assert_eq!(value["error"]["required"], 20);
    assert_eq!(value["error"]["given"], 9);
    assert!(!workspace.join("notes.txt").exists());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_justified_escalation_runs_writes_its_file_and_the_log_verifies() {
    let dir = scratch("justified");
    let log = dir.join("audit.jsonl");
    let workspace = dir.join("workspace");
    std::fs::create_dir_all(&workspace).expect("workspace");
    let operator = [
        agent(),
        ("CNV_WORKSPACE", workspace.as_path()),
        ("CNV_AUDIT_LOG", log.as_path()),
    ];
    let denied = launch(
        &["file", "write", "a/notes.txt", "--content", "x"],
        &operator,
    );
    assert_eq!(denied.status.code(), Some(3));
    let out = launch(
        &[
            "file",
            "write",
            "a/notes.txt",
            "--content",
            "meeting notes",
            "--justify",
            "save the meeting notes the user dictated",
        ],
        &operator,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(workspace.join("a/notes.txt")).expect("written"),
        "meeting notes"
    );
    assert_eq!(text(&out.stdout), "wrote 13 bytes to a/notes.txt\n");
    // Reading it back is agent-safe: no justification.
    let out = launch(&["file", "read", "a/notes.txt"], &operator);
    assert_eq!(text(&out.stdout), "meeting notes\n");

    let lines = audit_lines(&log);
    let escalation = lines
        .iter()
        .find(|e| e["event"] == "escalate" && e["outcome"] == "allowed")
        .expect("the escalation is audited");
    assert_eq!(escalation["from"], "Pure");
    assert_eq!(escalation["to"], "ReadWriteFS");
    assert_eq!(
        escalation["justification"],
        "save the meeting notes the user dictated"
    );
    // Three processes appended to one chain, and it verifies.
    let summary = verify_chain(BufReader::new(
        std::fs::File::open(&log).expect("open the log"),
    ))
    .expect("the chain verifies");
    assert_eq!(summary.entries, lines.len());

    // An edited line breaks the chain.
    let edited =
        std::fs::read_to_string(&log)
            .expect("read")
            .replacen("\"denied\"", "\"allowed\"", 1);
    assert!(verify_chain(edited.as_bytes()).is_err());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn dangerous_is_refused_in_agent_mode_whatever_the_justification() {
    let dir = scratch("dangerous");
    std::fs::write(dir.join("keep.txt"), "keep").expect("a file to keep");
    let operator = [("CNV_WORKSPACE", dir.as_path())];
    let long = "the user asked to reset the workspace before the next experiment, twice over";
    for args in [
        vec!["--agent", "workspace", "wipe"],
        vec!["--agent", "workspace", "wipe", "--justify", long],
        vec!["--agent", "workspace", "wipe", "--justify", long, "--yes"],
    ] {
        let out = launch(&args, &operator);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("it never runs in agent mode"), "{stderr}");
        assert!(
            stderr.contains("rule `dangerous_never_autonomous`"),
            "{stderr}"
        );
    }
    let out = launch(
        &["workspace", "wipe", "--justify", long],
        &[agent(), ("CNV_WORKSPACE", dir.as_path())],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "agent mode through the environment"
    );
    assert!(dir.join("keep.txt").exists(), "nothing was deleted");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_person_without_a_justification_for_dangerous_is_not_told_about_agent_mode() {
    let dir = scratch("person-dangerous");
    std::fs::write(dir.join("keep.txt"), "keep").expect("a file to keep");
    let out = launch(&["workspace", "wipe"], &[("CNV_WORKSPACE", dir.as_path())]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("agent"),
        "a person is told about agent mode: {stderr}"
    );
    assert!(
        stderr.contains("needs a justification of at least 50 characters before you approve it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("you are then asked to approve it"),
        "{stderr}"
    );
    assert!(dir.join("keep.txt").exists(), "nothing was deleted");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn dangerous_runs_for_a_person_who_approves_at_a_terminal() {
    // `script` (util-linux) gives the example a pseudo-terminal, as a person's shell does.
    // Without it the test cannot run, and says so: it never passes unrun.
    let script = which("script").unwrap_or_else(|()| {
        panic!("this test needs `script` (util-linux, on the PATH) to give the example a terminal")
    });
    let dir = scratch("approved");
    std::fs::create_dir_all(dir.join("sub")).expect("sub");
    std::fs::write(dir.join("sub/file.txt"), "x").expect("file");
    std::fs::write(dir.join("top.txt"), "y").expect("file");
    let command = format!(
        "CNV_WORKSPACE={} {} workspace wipe --justify 'clear the scratch workspace before the next benchmark run'",
        dir.display(),
        workbench().display()
    );
    let mut child = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"Dangerous\n")
        .expect("answer");
    let out = child.wait_with_output().expect("finishes");
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("asks for capability `Dangerous` (risk 10)"),
        "{shown}"
    );
    assert!(shown.contains("removed 2 entries"), "{shown}");
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}

#[test]
fn the_grammar_flag_prints_the_model() {
    let out = run(&["--grammar"]);
    assert_eq!(out.status.code(), Some(0));
    let printed = GrammarModel::from_json(&text(&out.stdout)).expect("the JSON loads back");
    assert_eq!(printed, grammar::GRAMMAR);

    let out = run(&["--mcp-tools"]);
    let tools: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(tools["tools"].as_array().map(Vec::len), Some(9));
    // The grammar's manifest, tool for tool, with what the policy asks of an agent.
    let plain = grammar::GRAMMAR.to_mcp_tools();
    for (tool, plain) in tools["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(plain["tools"].as_array().into_iter().flatten())
    {
        assert_eq!(tool["name"], plain["name"]);
        assert_eq!(tool["annotations"], plain["annotations"]);
        assert_eq!(
            tool["_meta"]["cnv/contract"],
            plain["_meta"]["cnv/contract"]
        );
        assert!(tool["_meta"]["cnv/agent"]["needs"].is_string(), "{tool}");
    }

    let out = run(&["--capabilities"]);
    let table = text(&out.stdout);
    assert!(table.contains("workspace wipe  Dangerous    10"), "{table}");
}

#[test]
fn the_other_classes_do_real_work_when_justified() {
    // Network: a loopback echo server.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("address");
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        let mut line = String::new();
        BufReader::new(&stream)
            .read_line(&mut line)
            .expect("a line");
        (&stream)
            .write_all(format!("echo: {line}").as_bytes())
            .expect("reply");
    });
    let out = run(&[
        "--agent",
        "net",
        "send",
        &addr.to_string(),
        "--message",
        "hello",
        "--justify",
        "check that the local test service answers",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "echo: hello\n");
    server.join().expect("the server saw the line");

    // Subprocess.
    let out = run(&[
        "--agent",
        "proc",
        "run",
        "echo",
        "from a child",
        "--justify",
        "print a greeting through the system echo program for the demo",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "from a child\n");

    // Environment.
    let out = Command::new(workbench())
        .args([
            "--agent",
            "env",
            "get",
            "CNV_DEMO_VALUE",
            "--justify",
            "read the demo setting for the report",
        ])
        .env_remove("CNV_AGENT")
        .env("CNV_DEMO_VALUE", "42")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");

    // Pure.
    let out = run(&["--agent", "calc", "sum", "1", "2", "3.5"]);
    assert_eq!(text(&out.stdout), "6.5\n");
}

#[test]
fn malformed_input_is_a_clear_error_and_never_a_panic() {
    let out = run(&["flie", "read", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unrecognized subcommand 'flie'"));
    assert_no_panic(&out);

    let out = run(&["calc", "sum", "1", "two"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'two'"),
        "{}",
        text(&out.stderr)
    );
    assert_no_panic(&out);

    // Typed arguments are parsed by clap, with the type's own message, before the gate.
    let out = run(&["net", "send", "not-an-address", "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("invalid value 'not-an-address' for '<ADDR>': invalid socket address syntax"),
        "{}",
        text(&out.stderr)
    );
    assert_no_panic(&out);

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let out = Command::new(workbench())
            .args(["file", "read"])
            .arg(std::ffi::OsStr::from_bytes(b"\xffbad"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("invalid UTF-8"),
            "{}",
            text(&out.stderr)
        );
        assert_no_panic(&out);
    }

    let dir = scratch("escape");
    let out = launch(
        &["file", "read", "../../etc/passwd"],
        &[("CNV_WORKSPACE", dir.as_path())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a path led outside of the filesystem"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).expect("cleanup");

    let out = run(&[
        "--agent",
        "net",
        "send",
        "10.0.0.1:80",
        "--justify",
        "this address is not on the loopback interface",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a loopback address"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn an_agent_variable_that_is_not_utf8_still_means_agent_mode() {
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(workbench())
        .args(["proc", "run", "echo", "hello", "--yes"])
        .env("CNV_AGENT", std::ffi::OsStr::from_bytes(b"1\xff"))
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[cfg(unix)]
#[test]
fn a_log_that_fills_up_stops_the_call_and_stays_a_valid_chain() {
    // `ulimit -f` caps the size of files the process writes (in 512-byte blocks); with
    // SIGXFSZ ignored, a write past it fails. The log's genesis fits in 512 bytes, the
    // session's creation (which holds the call in full) does not: the call must not run,
    // and what the log holds must stay a valid chain.
    let dir = scratch("full");
    let log = dir.join("audit.jsonl");
    let root = dir.join("root");
    std::fs::create_dir_all(&root).expect("root");
    let command = format!(
        "trap '' XFSZ; ulimit -f 1; CNV_AUDIT_LOG={} CNV_WORKSPACE={} exec {} file write a.txt --content x --yes",
        log.display(),
        root.display(),
        workbench().display()
    );
    let out = Command::new("sh")
        .args(["-c", &command])
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("rule `audit_required`"),
        "{}",
        text(&out.stderr)
    );
    assert!(!root.join("a.txt").exists(), "nothing ran unrecorded");
    let capped = verify_chain(BufReader::new(std::fs::File::open(&log).expect("open")))
        .expect("the log is still a valid chain");
    // Without the cap the next run appends to the same chain.
    let out = launch(
        &["file", "write", "a.txt", "--content", "x", "--yes"],
        &[
            ("CNV_AUDIT_LOG", log.as_path()),
            ("CNV_WORKSPACE", root.as_path()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(root.join("a.txt").exists(), "the call ran");
    let summary = verify_chain(BufReader::new(std::fs::File::open(&log).expect("open")))
        .expect("the chain continues");
    assert!(
        summary.entries > capped.entries,
        "{summary:?} after {capped:?}"
    );
    let lines = std::fs::read_to_string(&log).expect("read");
    assert!(
        lines.lines().any(|line| line.contains(r#""status":"ran""#)),
        "{lines}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_signed_trail_verifies_with_the_operator_s_key_and_names_every_call() {
    let dir = scratch("signed");
    let root = dir.join("root");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::create_dir_all(&keys).expect("keys");
    let key = cnv_audit::keygen(&keys.join("operator")).expect("a key pair");
    let log = dir.join("audit.jsonl");
    let operator = [
        ("CNV_AUDIT_LOG", log.as_path()),
        ("CNV_AUDIT_KEY", key.secret.as_path()),
        ("CNV_WORKSPACE", root.as_path()),
    ];
    let out = launch(
        &[
            "file",
            "write",
            "notes.txt",
            "--content",
            "minutes",
            "--yes",
        ],
        &operator,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut as_agent = operator.to_vec();
    as_agent.push(agent());
    let out = launch(&["proc", "run", "echo", "hi"], &as_agent);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));

    let verified = cnv_audit::verify(&log, Some(&key.public_key));
    assert!(verified.is_intact(), "{:?}", verified.problem);
    assert_eq!(verified.calls, 2, "{verified:?}");
    assert_eq!(verified.signed_through, verified.lines, "{verified:?}");
    let lines = std::fs::read_to_string(&log).expect("read");
    assert!(
        lines.contains(r#""args":{"append":false,"content":"minutes","path":"notes.txt"}"#),
        "the creation holds every argument: {lines}"
    );

    // Another key does not vouch for this trail.
    let other = cnv_audit::keygen(&keys.join("other")).expect("another pair");
    assert!(!cnv_audit::verify(&log, Some(&other.public_key)).is_intact());

    // An agent that cuts the tail off the log the example wrote is caught at the cut.
    let text = std::fs::read_to_string(&log).expect("read");
    let kept: Vec<&str> = text.lines().take(verified.lines - 2).collect();
    std::fs::write(&log, kept.join("\n") + "\n").expect("cut");
    let cut = cnv_audit::verify(&log, Some(&key.public_key));
    let problem = cut.problem.expect("the cut is reported");
    assert_eq!(
        problem.line,
        Some(verified.lines - 1),
        "{}",
        problem.message
    );
    // One that deletes the log while its head survives is caught at line 1.
    std::fs::remove_file(&log).expect("delete");
    std::fs::write(&log, "").expect("an empty log in its place");
    let gone = cnv_audit::verify(&log, Some(&key.public_key));
    assert!(!gone.is_intact());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_key_the_handler_could_read_refuses_the_call() {
    let dir = scratch("key-in-reach");
    let root = dir.join("root");
    std::fs::create_dir_all(&root).expect("root");
    let key = cnv_audit::keygen(&root.join("operator")).expect("a key pair");
    let log = dir.join("audit.jsonl");
    let out = launch(
        &["file", "read", "operator.key"],
        &[
            ("CNV_AUDIT_LOG", log.as_path()),
            ("CNV_AUDIT_KEY", key.secret.as_path()),
            ("CNV_WORKSPACE", root.as_path()),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("rule `audit_out_of_reach`"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stdout).contains(&std::fs::read_to_string(&key.secret).expect("key")),
        "the key was not printed"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn an_answer_that_cannot_be_written_is_a_failure() {
    // A full disk: the answer is lost, the caller is told so, and the exit code says it.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let out = Command::new(workbench())
        .args(["calc", "sum", "1"])
        .env_remove("CNV_AGENT")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the output could not be written"),
        "{}",
        text(&out.stderr)
    );

    // A reader that has gone (`| head`): the same exit code, and nothing to say about it.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(workbench())
        .args(["--grammar"])
        .env_remove("CNV_AGENT")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "");
}
