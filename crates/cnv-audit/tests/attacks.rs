//! The audit trail, tried as a hostile agent would: logs written by the library as a
//! command line writes them, attacked the way an agent with a shell would, and checked by
//! the `cnv-audit` binary — which must report each attack with the line where the trail
//! breaks, and exit 0 only for an intact log.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use cnv_audit::{AuditKey, AuditLog, CallOrigin, CallRecord, CallResult, head_path};
use cnv_caps::CapabilityContract;
use cnv_typestate::{SessionConfig, SessionId, TypedSession, Unverified};
use sha2::{Digest, Sha256};

/// A fresh directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-audit-{name}-{}", SessionId::new_v4()));
        fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The operator's key pair, made by `cnv-audit keygen`.
    fn keygen(&self) -> (PathBuf, PathBuf) {
        let prefix = self.path("operator");
        let out = cnv_audit(&["keygen", "--out", prefix.to_str().expect("utf-8")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (self.path("operator.key"), self.path("operator.pub"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
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
    String::from_utf8_lossy(bytes).into_owned()
}

fn verify(log: &Path, public: &Path) -> (bool, String) {
    let out = cnv_audit(&[
        "verify",
        log.to_str().expect("utf-8"),
        "--key",
        public.to_str().expect("utf-8"),
    ]);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    (out.status.success(), text(&out.stdout))
}

/// One call of a command line, as the command line records it: the session is created
/// for the call, verified, escalated, and the end of the call is recorded.
fn call(log: &Arc<AuditLog>, command: &str, why: &str) {
    let args = serde_json::json!({ "path": "notes.txt", "content": "meeting notes" });
    let record = CallRecord::new(
        command,
        args.as_object().cloned().unwrap_or_default(),
        CallOrigin::CommandLine,
    );
    let config = SessionConfig::new(log.clone()).with_call(record);
    let session = TypedSession::<Unverified>::with_config(format!("workbench {command}"), &config)
        .verify(CapabilityContract::pure());
    match session.escalate(CapabilityContract::read_write(), why) {
        Ok(mut session) => session
            .record_finish(CallResult::Ran { exit_code: 0 })
            .expect("recorded"),
        Err(denied) => {
            let rule = denied.error().rule();
            let message = denied.error().to_string();
            denied
                .into_session()
                .record_finish(CallResult::Denied {
                    exit_code: 3,
                    rule,
                    message,
                })
                .expect("recorded");
        }
    }
}

/// A log of `calls` calls by separate runs, signed with the operator's key. Each call
/// is four lines (created, verified, escalated, finished) after the genesis.
fn write_log(log: &Path, key: &Path, calls: usize) {
    let key = AuditKey::load(key).expect("the operator's key");
    for i in 0..calls {
        let audit = Arc::new(AuditLog::open(log, Some(&key)).expect("opens"));
        let why = if i % 3 == 2 {
            "tidy"
        } else {
            "save the meeting notes the user dictated"
        };
        call(&audit, "file write", why);
    }
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(path, text).expect("write");
}

/// The hash a line records for itself.
fn hash_of(line: &str) -> String {
    let at = line.rfind(",\"hash\":\"").expect("hash") + 9;
    line[at..at + 64].to_owned()
}

/// What an attacker with a text editor and `sha256sum` does (about ten lines of
/// Python): keep the lines before `from` as they are, and from there give each line the
/// hash of the line before it (and, with `renumber`, its new place), hash it again, and
/// drop the signature it cannot make.
fn rehash(lines: &[String], from: usize, renumber: bool) -> Vec<String> {
    let mut out: Vec<String> = lines[..from].to_vec();
    let mut prev = out
        .last()
        .map_or_else(|| "0".repeat(64), |line| hash_of(line));
    for (i, line) in lines.iter().enumerate().skip(from) {
        let body_start = line.find(",\"n\":").expect("n") + 5;
        let after_n = &line[body_start..];
        let digits = after_n.find(',').expect("comma");
        let n = if renumber {
            (i + 1).to_string()
        } else {
            after_n[..digits].to_owned()
        };
        let hash_at = line.rfind(",\"hash\":\"").expect("hash");
        let content = format!(
            "{{\"prev\":\"{prev}\",\"n\":{n}{}",
            &line[body_start + digits..hash_at]
        );
        let hash: String = Sha256::digest(content.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        out.push(format!("{content},\"hash\":\"{hash}\"}}"));
        prev = hash;
    }
    out
}

#[test]
fn an_intact_log_verifies_and_says_what_it_checked() {
    let dir = Scratch::new("intact");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 3);
    let (intact, report) = verify(&log, &public);
    assert!(intact, "{report}");
    assert!(report.contains(": intact"), "{report}");
    assert!(
        report.contains(
            "checked     13 lines: entries 12, sessions 3, decisions 3 (denied 1), calls ended 3"
        ),
        "{report}"
    );
    assert!(report.contains("(the key given)"), "{report}");
    assert!(
        report.contains("head        13 lines, signed, agrees"),
        "{report}"
    );
    let lines = lines(&log);
    let first = &lines[0][lines[0].rfind("\"hash\":\"").expect("hash") + 8..][..64];
    assert!(report.contains(&format!("first hash  {first}")), "{report}");
    // The key may be given as its hex digits too.
    let hex = fs::read_to_string(&public).expect("read");
    let hex = hex.trim_end().rsplit(' ').next().expect("the key");
    let out = cnv_audit(&["verify", log.to_str().expect("utf-8"), "--key", hex]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn deleting_the_log_is_reported_while_its_head_survives() {
    let dir = Scratch::new("deleted");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 2);
    fs::remove_file(&log).expect("the agent deletes the log");
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 1: the log does not exist"),
        "{report}"
    );
    assert!(report.contains("records 9 lines"), "{report}");

    // Emptied rather than deleted.
    write_log(&dir.path("b.jsonl"), &key, 1);
    fs::write(dir.path("b.jsonl"), "").expect("the agent empties the log");
    let (intact, report) = verify(&dir.path("b.jsonl"), &public);
    assert!(!intact, "{report}");
    assert!(report.contains("line 1: the log is empty"), "{report}");

    // Both deleted: there is nothing to verify, and that is not intact either.
    fs::remove_file(head_path(&log)).expect("and its head");
    let (intact, report) = verify(&log, &public);
    assert!(!intact && report.contains("does not exist"), "{report}");

    // The next run starts a new log, and records that the old one was lost.
    write_log(&dir.path("c.jsonl"), &key, 1);
    fs::remove_file(dir.path("c.jsonl")).expect("delete, keep the head");
    write_log(&dir.path("c.jsonl"), &key, 1);
    let (intact, report) = verify(&dir.path("c.jsonl"), &public);
    assert!(!intact, "{report}");
    assert!(report.contains("problem     line 2 of the audit log records that the head beside the log recorded 5 entries"), "{report}");
}

#[test]
fn cutting_the_tail_is_reported_where_the_log_now_ends() {
    let dir = Scratch::new("cut");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 3);
    let all = lines(&log);
    // The agent removes its last call, and the denial before it.
    write_lines(&log, &all[..5]);
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 6: the log ends at line 5, but its head records 13 lines: lines 6–13 were cut off its end"),
        "{report}"
    );
    // Cutting and deleting the head too: the log says it keeps one.
    fs::remove_file(head_path(&log)).expect("delete the head");
    let (intact, report) = verify(&log, &public);
    assert!(!intact && report.contains(".head is missing"), "{report}");
}

#[test]
fn deleting_an_entry_and_rehashing_the_rest_is_reported_where_it_happened() {
    let dir = Scratch::new("rehash");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 3);
    let mut edited = lines(&log);
    assert_eq!(edited.len(), 13);
    // Line 12 is the denied escalation of the third call; line 4 the allowed one of the
    // first. The agent removes the first call's escalation (line 4).
    edited.remove(3);

    // Re-hashed, renumbered, signatures dropped: the first line the writer signs after
    // the cut has lost its signature.
    write_lines(&log, &rehash(&edited, 3, true));
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 4 of the audit log ends a call"),
        "{report}"
    );
    assert!(report.contains("carries no signature"), "{report}");

    // Re-hashed with the old signatures kept: they do not match the new lines.
    let kept: Vec<String> = rehash(&edited, 3, true)
        .into_iter()
        .zip(&edited)
        .map(|(new, old)| match old.rfind(",\"sig\":\"") {
            Some(at) if new != *old => format!("{}{}", &new[..new.len() - 1], &old[at..]),
            _ => new,
        })
        .collect();
    write_lines(&log, &kept);
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 4 of the audit log carries a signature that does not match it: the log was changed after line 1"),
        "{report}"
    );

    // Re-hashed without renumbering: the line after the cut has the wrong number.
    write_lines(&log, &rehash(&edited, 3, false));
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 4 of the audit log says it is line 5"),
        "{report}"
    );

    // Not re-hashed at all: the chain breaks at the line after the cut.
    write_lines(&log, &edited);
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 4 of the audit log does not follow"),
        "{report}"
    );
}

#[test]
fn replacing_the_log_with_a_fresh_chain_is_reported_at_line_1() {
    let dir = Scratch::new("replaced");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 3);
    // The agent writes a tidy new log with the library (it has no operator key: none,
    // or one of its own), and moves it over the operator's, head and all.
    let forged = dir.path("forged.jsonl");
    {
        let audit = Arc::new(AuditLog::open(&forged, None).expect("opens"));
        call(
            &audit,
            "file write",
            "save the meeting notes the user dictated",
        );
    }
    fs::rename(&forged, &log).expect("replace the log");
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 1: the log's genesis names no key, not the key given"),
        "{report}"
    );
    fs::rename(head_path(&forged), head_path(&log)).expect("replace the head");
    let (intact, report) = verify(&log, &public);
    assert!(
        !intact && report.contains("line 1: the log's genesis names no key"),
        "{report}"
    );

    // With a key of its own.
    let own = AuditKey::generate().expect("random");
    {
        let audit = Arc::new(AuditLog::open(&forged, Some(&own)).expect("opens"));
        call(
            &audit,
            "file write",
            "save the meeting notes the user dictated",
        );
    }
    fs::rename(&forged, &log).expect("replace the log");
    fs::rename(head_path(&forged), head_path(&log)).expect("replace the head");
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains(&format!(
            "line 1: the log's genesis names key {}",
            own.public_key()
        )),
        "{report}"
    );
    // Without --key the forged log is consistent, and the report says whose it is.
    let out = cnv_audit(&["verify", log.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("pass --key to check it is yours"));
}

#[test]
fn appending_lines_without_the_key_is_reported() {
    let dir = Scratch::new("appended");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 2);
    // The agent forges a call of its own after the last checkpoint: a chain it can
    // compute, but not sign.
    let mut all = lines(&log);
    all.extend(all[5..9].to_vec());
    write_lines(&log, &rehash(&all, 9, true));
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 13 of the audit log ends a call"),
        "{report}"
    );

    // Without the end of the call, the lines are past every signature.
    all.truncate(12);
    write_lines(&log, &rehash(&all, 9, true));
    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 10: lines 10–12 are not covered by a signature"),
        "{report}"
    );
}

#[test]
fn a_writer_killed_by_sigxfsz_leaves_a_tail_the_next_run_repairs() {
    let dir = Scratch::new("xfsz");
    let (key, public) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 1);
    let size = fs::metadata(&log).expect("exists").len();
    // `ulimit -f` counts 512-byte blocks: the child may write about 700 bytes more, and
    // its entry is several kilobytes, so the kernel stops it in the middle of the line.
    let blocks = (size + 700).div_ceil(512);
    let script = format!(
        "ulimit -f {blocks}; exec \"$0\" --exact child_writes_one_long_call --test-threads 1"
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .arg(std::env::current_exe().expect("the test binary"))
        .env(CHILD_LOG, &log)
        .env(CHILD_KEY, &key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sh runs");
    assert_eq!(status.signal(), Some(libc_sigxfsz()), "{status:?}");
    let torn = fs::read(&log).expect("read");
    assert!(
        torn.len() as u64 > size && torn.last() != Some(&b'\n'),
        "a partial line"
    );

    let (intact, report) = verify(&log, &public);
    assert!(!intact, "{report}");
    assert!(
        report.contains("problem     line 6 of the audit log is incomplete"),
        "{report}"
    );

    // The next run is not blocked: it cuts the partial line, records that it did, and
    // the chain goes on.
    write_log(&log, &key, 1);
    let (intact, report) = verify(&log, &public);
    assert!(intact, "{report}");
    assert!(
        report.contains("repaired    line 6: a partial line of"),
        "{report}"
    );
    assert!(report.contains("checked     10 lines"), "{report}");
}

fn libc_sigxfsz() -> i32 {
    // SIGXFSZ on Linux (every architecture cnv supports).
    25
}

/// Set in a child process: the log it appends to and the key it signs with.
const CHILD_LOG: &str = "CNV_AUDIT_TEST_CHILD_LOG";
const CHILD_KEY: &str = "CNV_AUDIT_TEST_CHILD_KEY";

/// The child half of the `SIGXFSZ` test: does nothing unless started by it.
#[test]
fn child_writes_one_long_call() {
    let (Some(log), Some(key)) = (std::env::var_os(CHILD_LOG), std::env::var_os(CHILD_KEY)) else {
        return;
    };
    let key = AuditKey::load(key).expect("the key");
    let audit = Arc::new(AuditLog::open(log, Some(&key)).expect("opens"));
    let args = serde_json::json!({ "content": "x".repeat(8_000) });
    let record = CallRecord::new(
        "file write",
        args.as_object().cloned().unwrap_or_default(),
        CallOrigin::CommandLine,
    );
    let config = SessionConfig::new(audit).with_call(record);
    let _session = TypedSession::<Unverified>::with_config("workbench file write", &config);
}

#[test]
fn what_is_not_a_log_is_refused_without_quoting_it() {
    let dir = Scratch::new("foreign");
    let (_, public) = dir.keygen();
    let fifo = dir.path("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo is needed for this test");
    let passwd = dir.path("passwd");
    fs::write(&passwd, "root:x:0:0:root:/root:/bin/sh\n").expect("write");
    let link = dir.path("link");
    std::os::unix::fs::symlink(&passwd, &link).expect("symlink");
    for target in [
        fifo.as_path(),
        Path::new("/dev/null"),
        passwd.as_path(),
        link.as_path(),
    ] {
        let (intact, report) = verify(target, &public);
        assert!(!intact, "{report}");
        assert!(
            report.contains("not a cnv audit"),
            "{}: {report}",
            target.display()
        );
        assert!(!report.contains("root:"), "never quotes the file: {report}");
    }
    assert_eq!(
        fs::read_to_string(&passwd).expect("read"),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
}

#[test]
fn show_prints_the_decisions_with_control_characters_escaped() {
    let dir = Scratch::new("show");
    let (key, _) = dir.keygen();
    let log = dir.path("audit.jsonl");
    write_log(&log, &key, 1);
    {
        let key = AuditKey::load(&key).expect("the key");
        let audit = Arc::new(AuditLog::open(&log, Some(&key)).expect("opens"));
        call(
            &audit,
            "file write",
            "\u{1b}]0;pwned\u{7}\u{1b}[2J save the notes \u{202e}txt.exe",
        );
    }
    let out = cnv_audit(&["show", log.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(table.contains("\\u{001b}]0;pwned\\u{0007}"), "{table}");
    assert!(table.contains("\\u{202e}txt.exe"), "{table}");
    assert!(table.contains("genesis"), "{table}");
    assert!(table.contains("Pure → ReadWriteFS"), "{table}");
    assert!(table.contains("min_justification"), "{table}");
    assert!(
        table.contains(r#"call file write: content="meeting notes", path="notes.txt""#),
        "{table}"
    );
    assert!(table.contains("ran (exit 0)"), "{table}");
    assert_eq!(table.lines().count(), 1 + 9, "a header and a row a line");

    // A broken chain: the rows stop where it breaks, and the exit says so.
    let mut all = lines(&log);
    all.remove(2);
    write_lines(&log, &all);
    let out = cnv_audit(&["show", log.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 1 + 2);
    assert!(text(&out.stderr).contains("line 3 of the audit log does not follow"));
}

#[test]
fn keygen_writes_a_private_key_and_never_overwrites_one() {
    let dir = Scratch::new("keygen");
    let (key, public) = dir.keygen();
    let mode = fs::metadata(&key).expect("exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret = fs::read(&key).expect("read");
    assert!(AuditKey::load(&key).is_ok());
    assert!(
        fs::read_to_string(&public)
            .expect("read")
            .starts_with("cnv-audit-public-key ed25519 ")
    );
    let out = cnv_audit(&[
        "keygen",
        "--out",
        dir.path("operator").to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("exists already"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read(&key).expect("read"), secret, "the old key is kept");
    // A key others may read is refused by the writer.
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = AuditKey::load(&key).expect_err("readable by others");
    assert!(err.to_string().contains("chmod 600"), "{err}");
}
