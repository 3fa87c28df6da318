//! Witnessing, end to end: logs written by the library as a command line writes them
//! (one run, one call, then the log is dropped, which submits its checkpoint), witnesses
//! run as `cnv-audit witness serve` processes on loopback ports, and `cnv-audit verify
//! --witness` asked what they vouch for. A log and its head rolled back together, or
//! forked, verify on their own; the witnesses catch both.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cnv_audit::{
    AuditKey, AuditLog, CallOrigin, CallRecord, CallResult, Submitted, WitnessUrl, head_path,
    witness_path,
};
use cnv_caps::CapabilityContract;
use cnv_typestate::{SessionConfig, SessionId, TypedSession, Unverified};

/// A fresh directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-witness-{name}-{}", SessionId::new_v4()));
        fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A key pair made by `cnv-audit keygen`: (secret, public).
    fn keygen(&self, name: &str) -> (PathBuf, PathBuf) {
        let prefix = self.path(name);
        let out = cnv_audit(&["keygen", "--out", s(&prefix)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (
            self.path(&format!("{name}.key")),
            self.path(&format!("{name}.pub")),
        )
    }

    fn log(&self) -> PathBuf {
        self.path("audit.jsonl")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8")
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

/// A free loopback port (for a witness that must come back where it was).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A `cnv-audit witness serve` process, killed on drop.
struct WitnessProcess {
    child: Child,
    url: String,
    /// Its standard output, kept open while it runs.
    _out: BufReader<std::process::ChildStdout>,
}

impl WitnessProcess {
    /// Starts a witness with the key `key` and the state `state` on `port` (0: any),
    /// trusting every cnv log signed by `log_public`.
    fn start(key: &Path, state: &Path, log_public: &Path, port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cnv-audit"))
            .args([
                "witness",
                "serve",
                &format!("127.0.0.1:{port}"),
                "--key",
                s(key),
                "--state",
                s(state),
                "--log",
                &format!("cnv-audit/*={}", s(log_public)),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the witness starts");
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut first)
            .expect("the witness says where it serves");
        let Some(at) = first.find("http://") else {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err);
            panic!("the witness did not start: {first}{err}");
        };
        let url = first[at..].trim_end().to_owned();
        Self {
            child,
            url,
            _out: out,
        }
    }

    /// Kills the witness (as a crash would) and waits for it.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The `--witness URL=PUBKEY` argument for it.
    fn arg(&self, public: &Path) -> String {
        format!("{}={}", self.url, s(public))
    }

    fn witness_url(&self) -> WitnessUrl {
        self.url.parse().expect("a witness URL")
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run of a command line: the log opened with its witnesses, one call recorded
/// (created, verified, escalated, finished), and the log dropped — which submits the
/// checkpoint before the run ends.
fn run(log: &Path, key: &Path, witnesses: &[&WitnessProcess], command: &str) {
    let log = Arc::new(open(log, key, witnesses));
    call(&log, command);
}

fn open(log: &Path, key: &Path, witnesses: &[&WitnessProcess]) -> AuditLog {
    let key = AuditKey::load(key).expect("the operator's key");
    let urls = witnesses.iter().map(|w| w.witness_url()).collect();
    AuditLog::open_witnessed(log, &key, urls, Duration::ZERO).expect("opens")
}

fn call(log: &Arc<AuditLog>, command: &str) {
    let args = serde_json::json!({ "path": "notes.txt", "content": "meeting notes" });
    let record = CallRecord::new(
        command,
        args.as_object().cloned().unwrap_or_default(),
        CallOrigin::CommandLine,
    );
    let config = SessionConfig::new(log.clone()).with_call(record);
    let mut session =
        TypedSession::<Unverified>::with_config(format!("workbench {command}"), &config)
            .verify(CapabilityContract::pure())
            .escalate(
                CapabilityContract::read_write(),
                "save the meeting notes the user dictated",
            )
            .expect("allowed");
    session
        .record_finish(CallResult::Ran { exit_code: 0 })
        .expect("recorded: a witness never stops a call");
}

fn line_count(path: &Path) -> usize {
    fs::read_to_string(path).expect("read").lines().count()
}

/// `cnv-audit verify LOG --key PUB [extra…]`: whether it passed, and its report.
fn verify(log: &Path, public: &Path, extra: &[String]) -> (bool, String) {
    let mut args = vec![
        "verify".to_owned(),
        s(log).to_owned(),
        "--key".to_owned(),
        s(public).to_owned(),
    ];
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cnv_audit(&args);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    (out.status.success(), text(&out.stdout))
}

/// The log's three files, as an attacker copies them.
fn files(log: &Path) -> [PathBuf; 3] {
    [log.to_path_buf(), head_path(log), witness_path(log)]
}

fn save(log: &Path, dir: &Scratch) -> Vec<(PathBuf, PathBuf)> {
    files(log)
        .into_iter()
        .enumerate()
        .map(|(i, file)| {
            let copy = dir.path(&format!("copy-{i}"));
            fs::copy(&file, &copy).expect("copy");
            (file, copy)
        })
        .collect()
}

fn restore(saved: &[(PathBuf, PathBuf)]) {
    for (file, copy) in saved {
        fs::copy(copy, file).expect("put back");
    }
}

#[test]
fn a_rollback_of_the_log_and_its_head_is_caught_by_the_witness() {
    let dir = Scratch::new("rollback");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let w = WitnessProcess::start(&wkey, &dir.path("state"), &public, 0);
    let log = dir.log();
    run(&log, &key, &[&w], "file write");
    run(&log, &key, &[&w], "file write");
    let before = line_count(&log);
    let saved = save(&log, &dir);
    run(&log, &key, &[&w], "file delete");
    run(&log, &key, &[&w], "file delete");
    let after = line_count(&log);
    let (ok, report) = verify(&log, &public, &[format!("--witness={}", w.arg(&wpub))]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("confirms lines 1–{after}")),
        "{report}"
    );
    // The attacker puts the log, its head and the witnessing state back as they were.
    restore(&saved);
    let (ok, report) = verify(&log, &public, &[]);
    assert!(ok, "the head alone cannot see a rollback: {report}");
    let (ok, report) = verify(&log, &public, &[format!("--witness={}", w.arg(&wpub))]);
    assert!(!ok, "{report}");
    assert!(
        report.contains(&format!(
            "witness {} cosigned a checkpoint of {after} lines of this log, but the log has {before} lines",
            w.url
        )),
        "{report}"
    );
    assert!(report.contains("rolled back"), "{report}");
}

#[test]
fn a_fork_is_caught_by_the_witness_and_refused_by_it() {
    let dir = Scratch::new("fork");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let w = WitnessProcess::start(&wkey, &dir.path("state"), &public, 0);
    let log = dir.log();
    run(&log, &key, &[&w], "file write");
    let saved = save(&log, &dir);
    run(&log, &key, &[&w], "file write");
    run(&log, &key, &[&w], "file write");
    let cosigned = line_count(&log);
    restore(&saved);
    // Another history, longer than the one the witness saw.
    for _ in 0..3 {
        run(&log, &key, &[&w], "file delete");
    }
    assert!(line_count(&log) > cosigned);
    // The writer's next submission is refused as a fork.
    let audit = open(&log, &key, &[&w]);
    let reports = audit
        .witness_now(Duration::from_secs(20))
        .expect("answered");
    assert!(
        matches!(&reports[0].outcome, Submitted::Failed { reason } if reason.contains("422")),
        "{reports:?}"
    );
    drop(audit);
    let (ok, report) = verify(&log, &public, &[format!("--witness={}", w.arg(&wpub))]);
    assert!(!ok, "{report}");
    assert!(
        report.contains(&format!(
            "witness {} cosigned a checkpoint of {cosigned} lines of this log, and the log's first {cosigned} lines have another root",
            w.url
        )),
        "{report}"
    );
    assert!(
        fs::read_dir(dir.path("state").join("evidence"))
            .expect("evidence")
            .count()
            >= 1,
        "the witness keeps the forked checkpoint as evidence"
    );
}

#[test]
fn a_restarted_witness_keeps_its_state() {
    let dir = Scratch::new("restart");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let port = free_port();
    let state = dir.path("state");
    let w = WitnessProcess::start(&wkey, &state, &public, port);
    let log = dir.log();
    run(&log, &key, &[&w], "file write");
    run(&log, &key, &[&w], "file write");
    let lines = line_count(&log);
    w.kill();
    let w = WitnessProcess::start(&wkey, &state, &public, port);
    let witness = [format!("--witness={}", w.arg(&wpub))];
    let (ok, report) = verify(&log, &public, &witness);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("confirms lines 1–{lines}")),
        "{report}"
    );
    // It still remembers what it cosigned: a rollback after the restart is caught.
    let saved = save(&log, &dir);
    run(&log, &key, &[&w], "file write");
    restore(&saved);
    let (ok, report) = verify(&log, &public, &witness);
    assert!(!ok, "{report}");
    assert!(
        report.contains(&format!("the log has {lines} lines")),
        "{report}"
    );
}

#[test]
fn a_witness_down_does_not_stop_calls_and_is_caught_up_when_back() {
    let dir = Scratch::new("down");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let port = free_port();
    let state = dir.path("state");
    let w = WitnessProcess::start(&wkey, &state, &public, port);
    let log = dir.log();
    run(&log, &key, &[&w], "file write");
    let witnessed = line_count(&log);
    let url = w.url.clone();
    let arg = w.arg(&wpub);
    w.kill();
    // Calls go on while it is down: their entries are written, and left unwitnessed.
    {
        let key = AuditKey::load(&key).expect("key");
        let audit = Arc::new(
            AuditLog::open_witnessed(&log, &key, vec![url.parse().expect("url")], Duration::ZERO)
                .expect("opens"),
        );
        call(&audit, "file write");
        call(&audit, "file write");
        let reports = audit
            .witness_now(Duration::from_secs(20))
            .expect("answered");
        assert!(
            matches!(&reports[0].outcome, Submitted::Failed { reason } if reason.contains("cannot reach")),
            "{reports:?}"
        );
        let witnessing = audit.witnessing().expect("recorded");
        assert_eq!(witnessing.witnesses[0].cosigned, Some(witnessed as u64));
        assert!(witnessing.witnesses[0].error.is_some());
    }
    let written = line_count(&log);
    assert!(written > witnessed);
    let (ok, report) = verify(&log, &public, &[]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!(
            "{url}: cosigned lines 1–{witnessed}; the latest checkpoint is unwitnessed by it"
        )),
        "{report}"
    );
    // Back, with its state: it still vouches for what it saw …
    let w = WitnessProcess::start(&wkey, &state, &public, port);
    assert_eq!(w.url, url);
    let (ok, report) = verify(&log, &public, &[format!("--witness={arg}")]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("confirms lines 1–{witnessed}")),
        "{report}"
    );
    // … and the next submission covers the gap with one consistency proof.
    run(&log, &key, &[&w], "file write");
    let all = line_count(&log);
    let (ok, report) = verify(&log, &public, &[format!("--witness={arg}")]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("confirms lines 1–{all}")),
        "{report}"
    );
    assert!(!report.contains("unwitnessed"), "{report}");
}

#[test]
fn a_quorum_of_two_of_three() {
    let dir = Scratch::new("quorum");
    let (key, public) = dir.keygen("operator");
    let keys: Vec<(PathBuf, PathBuf)> = (1..=3)
        .map(|i| dir.keygen(&format!("witness{i}")))
        .collect();
    let witnesses: Vec<WitnessProcess> = keys
        .iter()
        .enumerate()
        .map(|(i, (wkey, _))| {
            WitnessProcess::start(wkey, &dir.path(&format!("state{i}")), &public, 0)
        })
        .collect();
    let args: Vec<String> = witnesses
        .iter()
        .zip(&keys)
        .map(|(w, (_, wpub))| format!("--witness={}", w.arg(wpub)))
        .collect();
    let log = dir.log();
    let all: Vec<&WitnessProcess> = witnesses.iter().collect();
    run(&log, &key, &all, "file write");
    let saved = save(&log, &dir);
    run(&log, &key, &all, "file write");
    let mut witnesses = witnesses;
    let third = witnesses.pop().expect("three");
    let third_url = third.url.clone();
    third.kill();
    let (ok, report) = verify(&log, &public, &args);
    assert!(!ok, "every witness given must confirm by default: {report}");
    assert!(
        report.contains(&format!("{third_url}: cannot be asked")),
        "{report}"
    );
    assert!(
        report.contains("2 of 3 witnesses confirm the log, fewer than the quorum of 3"),
        "{report}"
    );
    let mut two = args.clone();
    two.push("--quorum=2".to_owned());
    let (ok, report) = verify(&log, &public, &two);
    assert!(ok, "{report}");
    assert!(
        report.contains("2 of 3 witnesses confirm the log (needed: 2)"),
        "{report}"
    );
    // A rollback that one witness saw fails whatever the quorum.
    restore(&saved);
    let mut one = args.clone();
    one.push("--quorum=1".to_owned());
    let (ok, report) = verify(&log, &public, &one);
    assert!(!ok, "{report}");
    assert!(report.contains("rolled back"), "{report}");
}

#[test]
fn a_line_is_proved_against_the_cosigned_checkpoint_and_checked_offline() {
    let dir = Scratch::new("prove");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let w = WitnessProcess::start(&wkey, &dir.path("state"), &public, 0);
    let log = dir.log();
    for _ in 0..3 {
        run(&log, &key, &[&w], "file write");
    }
    // Rounds with nothing new to cosign keep the cosignatures gathered for the checkpoint.
    let audit = open(&log, &key, &[&w]);
    for _ in 0..2 {
        let reports = audit
            .witness_now(Duration::from_secs(20))
            .expect("answered");
        assert!(
            matches!(reports[0].outcome, Submitted::Cosigned { size: 13 }),
            "{reports:?}"
        );
    }
    drop(audit);
    let out = cnv_audit(&["prove", s(&log), "6"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let proof = text(&out.stdout);
    assert!(
        proof.starts_with("cnv-audit inclusion proof v1\nline 6\n"),
        "{proof}"
    );
    let line6 = fs::read_to_string(&log)
        .expect("read")
        .lines()
        .nth(5)
        .expect("line 6")
        .to_owned();
    assert!(
        proof.contains(&line6),
        "the proof carries the line: {proof}"
    );
    let file = dir.path("proof.txt");
    fs::write(&file, &proof).expect("write");
    let check = |file: &Path, key: &Path, extra: &[&str]| {
        let mut args = vec!["prove", "--check", s(file), "--key", s(key)];
        args.extend_from_slice(extra);
        cnv_audit(&args)
    };
    let out = check(&file, &public, &["--witness-key", s(&wpub)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("line 6 is in cnv-audit/"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("cosigned by"),
        "{}",
        text(&out.stdout)
    );
    // Another line in the proof, or another operator's key, does not check.
    let line7 = fs::read_to_string(&log)
        .expect("read")
        .lines()
        .nth(6)
        .expect("line 7")
        .to_owned();
    let forged = dir.path("forged.txt");
    fs::write(&forged, proof.replace(&line6, &line7)).expect("write");
    let out = check(&forged, &public, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("the inclusion proof does not hold"),
        "{}",
        text(&out.stderr)
    );
    let out = check(&file, &wpub, &[]);
    assert!(!out.status.success());
    // A line after the checkpoint is refused with what to do.
    let out = cnv_audit(&["prove", s(&log), "999"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not in the latest signed checkpoint"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_witness_refuses_logs_it_does_not_trust_and_survives_garbage() {
    let dir = Scratch::new("refuse");
    let (key, public) = dir.keygen("operator");
    let (_, stranger) = dir.keygen("stranger");
    let (wkey, wpub) = dir.keygen("witness");
    let w = WitnessProcess::start(&wkey, &dir.path("state"), &stranger, 0);
    let addr = w.url.trim_start_matches("http://").to_owned();
    for garbage in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: 20\r\n\r\nold 0\n\nnot a note\n",
        b"GET /../../etc/passwd HTTP/1.1\r\n\r\n",
        b"POST /add-checkpoint HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\n",
    ] {
        let mut stream = TcpStream::connect(&addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.write_all(garbage).expect("sent");
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "{answer}"
        );
    }
    // A log signed by a key it does not trust is refused, and the call still runs.
    let log = dir.log();
    let audit = open(&log, &key, &[&w]);
    let audit = Arc::new(audit);
    call(&audit, "file write");
    let reports = audit
        .witness_now(Duration::from_secs(20))
        .expect("answered");
    assert!(
        matches!(&reports[0].outcome, Submitted::Failed { reason } if reason.contains("403")),
        "{reports:?}"
    );
    drop(audit);
    let (ok, report) = verify(&log, &public, &[format!("--witness={}", w.arg(&wpub))]);
    assert!(!ok, "{report}");
    assert!(
        report.contains("never cosigned a checkpoint of this log"),
        "{report}"
    );
}

#[test]
fn a_server_s_log_is_witnessed_as_its_calls_end() {
    let dir = Scratch::new("server");
    let (key, public) = dir.keygen("operator");
    let (wkey, wpub) = dir.keygen("witness");
    let w = WitnessProcess::start(&wkey, &dir.path("state"), &public, 0);
    let log = dir.log();
    // One log kept open across calls, as a server keeps it: each submission proves
    // from the last one with the leaves kept since.
    let audit = Arc::new(open(&log, &key, &[&w]));
    for _ in 0..3 {
        call(&audit, "file write");
        let reports = audit
            .witness_now(Duration::from_secs(20))
            .expect("answered");
        let lines = line_count(&log) as u64;
        assert_eq!(
            reports[0].outcome,
            Submitted::Cosigned { size: lines },
            "{reports:?}"
        );
    }
    drop(audit);
    let (ok, report) = verify(&log, &public, &[format!("--witness={}", w.arg(&wpub))]);
    assert!(ok, "{report}");
    assert!(
        report.contains(&format!("confirms lines 1–{}", line_count(&log))),
        "{report}"
    );
}
