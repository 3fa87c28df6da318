//! `cnv-audit show` as an operator reads a call an agent made to hide something: a long
//! first argument must not push the arguments after it out of view, and `--line N` shows
//! the call whole.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use cnv_audit::{AuditLog, CallOrigin, CallRecord, CallResult};
use cnv_caps::CapabilityContract;
use cnv_typestate::{SessionConfig, SessionId, TypedSession, Unverified};

/// A fresh directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-audit-{name}-{}", SessionId::new_v4()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cnv_audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cnv-audit"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cnv-audit runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

/// 300 spaces: what pushed everything after it out of a row cut at 120 characters.
fn padding() -> String {
    " ".repeat(300)
}

/// One call of `proc run` whose first argument (by name, as the log keeps them) is the
/// padding and whose second is the command that matters, recorded as the command line
/// records a call: the session created for it, verified, escalated, and its end.
fn write_call(log: &Path) {
    let audit = Arc::new(AuditLog::open(log, None).expect("opens"));
    let args = serde_json::json!({
        "comment": padding(),
        "script": "rm -f important",
        "targets": [padding(), "/srv/important"],
        "title": "\u{1b}[2Jtidy \u{202e}up",
    });
    let record = CallRecord::new(
        "proc run",
        args.as_object().cloned().unwrap_or_default(),
        CallOrigin::CommandLine,
    );
    let config = SessionConfig::new(audit).with_call(record);
    let session = TypedSession::<Unverified>::with_config("workbench proc run", &config)
        .verify(CapabilityContract::pure());
    let mut session = session
        .escalate(
            CapabilityContract::subprocess(),
            "run the clean-up script the user asked for before the release",
        )
        .expect("long enough");
    session
        .record_finish(CallResult::Ran { exit_code: 0 })
        .expect("recorded");
}

#[test]
fn a_padded_first_argument_does_not_hide_the_ones_after_it() {
    let dir = Scratch::new("show-padding");
    let log = dir.0.join("audit.jsonl");
    write_call(&log);
    let out = cnv_audit(&["show", log.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let row = table
        .lines()
        .find(|line| line.contains("call proc run"))
        .unwrap_or_else(|| panic!("a row shows the call: {table}"));
    // The command first and whole, then every argument by name, each value cut alone.
    let call = row
        .find("call proc run: comment=")
        .expect("the command first");
    let script = row
        .find(r#"script="rm -f important""#)
        .unwrap_or_else(|| panic!("the second argument is in view: {row}"));
    assert!(call < script, "{row}");
    assert!(
        row.contains(r#""/srv/important"]"#),
        "a list's later item too: {row}"
    );
    assert!(
        row.contains(r#"title="\u001b[2Jtidy \u{202e}up""#),
        "the last too, escaped: {row}"
    );
    assert!(!row.contains(&" ".repeat(100)), "the padding is cut: {row}");
    assert!(!table.contains(['\u{1b}', '\u{202e}']), "{table}");

    // The row's line, seen whole.
    let line = row.split_whitespace().next().expect("a line number");
    let out = cnv_audit(&["show", log.to_str().expect("utf-8"), "--line", line]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let whole = text(&out.stdout);
    assert!(whole.starts_with(&format!("line {line}")), "{whole}");
    assert!(whole.contains("\ncall: proc run\n"), "{whole}");
    assert!(
        whole.contains("the log does not record the order they were given in"),
        "{whole}"
    );
    let arguments: Vec<&str> = whole
        .lines()
        .filter(|line| line.starts_with("    "))
        .collect();
    assert_eq!(
        arguments,
        [
            format!("    comment: {}", padding()).as_str(),
            "    script: rm -f important",
            format!(r#"    targets: ["{}","/srv/important"]"#, padding()).as_str(),
            "    title: \\u{001b}[2Jtidy \\u{202e}up",
        ],
        "every argument in full, one a line: {whole}"
    );
    assert!(!whole.contains(['\u{1b}', '\u{202e}']), "{whole}");
}

#[test]
fn a_line_the_log_does_not_have_is_an_error() {
    let dir = Scratch::new("show-no-line");
    let log = dir.0.join("audit.jsonl");
    write_call(&log);
    let out = cnv_audit(&["show", log.to_str().expect("utf-8"), "--line", "999"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("has no line 999"),
        "{}",
        text(&out.stderr)
    );

    // Line 1 is the genesis, shown whole too.
    let out = cnv_audit(&["show", log.to_str().expect("utf-8"), "--line", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let whole = text(&out.stdout);
    assert!(whole.contains("event: genesis"), "{whole}");
    assert!(whole.contains("said: log "), "{whole}");
}

#[test]
fn a_reader_that_stops_early_is_no_error() {
    let scratch = Scratch::new("pipe");
    let log = scratch.0.join("audit.jsonl");
    // Enough rows that the output outgrows a pipe's buffer after its reader has gone.
    for _ in 0..400 {
        write_call(&log);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_cnv-audit"))
        .args(["show", log.to_str().expect("a UTF-8 path")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cnv-audit runs");
    // `| head -1`: read one line, then close the pipe.
    let mut stdout = child.stdout.take().expect("its output");
    let mut first = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut first).expect("a first row");
    drop(stdout);
    let out = child.wait_with_output().expect("it ends");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}
