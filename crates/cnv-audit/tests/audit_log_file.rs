//! `AuditLog`: separate runs append to one anchored chain, runs at the same time do not
//! fork it, a torn tail is repaired and recorded, a head that disagrees with the log is
//! recorded, and anything that is not a log is refused without a word about its content.

use std::fs;
use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use cnv_audit::*;
use cnv_caps::{CapabilityClass, CapabilityContract, ResourceBand, Rule, RunMode};
use cnv_typestate::*;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cnv-typestate-{name}-{}", SessionId::new_v4()));
        fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    fn log(&self) -> PathBuf {
        self.0.join("audit.jsonl")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One "run" of a program: open the log, run a session through a few steps, close.
fn run(path: &Path, name: &str, key: Option<&AuditKey>) {
    let sink = Arc::new(AuditLog::open(path, key).expect("opens"));
    let config = SessionConfig::new(sink);
    let session =
        TypedSession::<Unverified>::with_config(name, &config).verify(CapabilityContract::pure());
    let denied = session
        .escalate(CapabilityContract::network(), "too short")
        .expect_err("denied");
    let session = denied
        .into_session()
        .escalate(
            CapabilityContract::network(),
            "Download the signed release index from the mirror",
        )
        .expect("allowed");
    assert!(session.audit_error().is_none());
}

fn verify(path: &Path) -> Result<ChainSummary, ChainError> {
    verify_chain(BufReader::new(fs::File::open(path).expect("open")))
}

fn head_of(path: &Path) -> ChainHead {
    ChainHead::parse(&fs::read(head_path(path)).expect("the head exists")).expect("a head")
}

fn records(path: &Path) -> Vec<ChainRecord> {
    ChainReader::new(BufReader::new(fs::File::open(path).expect("open")))
        .collect::<Result<_, _>>()
        .expect("intact")
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

#[test]
fn separate_runs_extend_one_anchored_chain_and_keep_its_head() {
    let dir = TempDir::new("runs");
    let path = dir.log();
    for i in 0..3 {
        run(&path, &format!("run-{i}"), None);
        let summary = verify(&path).expect("intact after each run");
        assert_eq!(
            summary.entries,
            1 + 4 * (i + 1),
            "the genesis and four a run"
        );
        // Dropping the log signed (here: wrote) a checkpoint for its last line.
        let head = head_of(&path);
        assert_eq!(head.entries, summary.entries as u64);
        assert_eq!(head.hash, summary.head);
        assert_eq!(Some(head.log), summary.log);
    }
    let genesis_lines = lines(&path)
        .iter()
        .filter(|l| l.contains("\"genesis\":"))
        .count();
    assert_eq!(genesis_lines, 1, "only line 1 starts the chain");
    let mode = fs::metadata(&path).expect("exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a new log is the operator's alone");
}

#[test]
fn a_multi_run_log_with_a_line_edited_deleted_or_swapped_fails() {
    let dir = TempDir::new("tamper");
    let path = dir.log();
    for i in 0..3 {
        run(&path, &format!("run-{i}"), None);
    }
    let lines = lines(&path);
    assert_eq!(lines.len(), 13);

    // Edited: the denial at the boundary between two runs becomes an approval.
    let mut edited = lines.clone();
    edited[7] = edited[7].replace("\"denied\"", "\"allowed\"");
    assert_ne!(edited[7], lines[7]);
    write_lines(&path, &edited);
    assert!(matches!(verify(&path), Err(ChainError::Edited { line: 8 })));

    // Deleted: the first line of the second run.
    let mut deleted = lines.clone();
    deleted.remove(5);
    write_lines(&path, &deleted);
    assert!(matches!(
        verify(&path),
        Err(ChainError::BrokenLink { line: 6 })
    ));

    // Swapped: the last line of run 1 and the first of run 2.
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    write_lines(&path, &swapped);
    assert!(matches!(
        verify(&path),
        Err(ChainError::BrokenLink { line: 5 })
    ));

    write_lines(&path, &lines);
    assert_eq!(verify(&path).expect("restored").entries, 13);
}

#[test]
fn a_torn_tail_is_cut_recorded_and_the_chain_goes_on() {
    let dir = TempDir::new("torn");
    let path = dir.log();
    run(&path, "first", None);
    let before = lines(&path);
    // A writer that stopped in the middle of its line, after the last checkpoint.
    let partial = &before[4][..120];
    let mut text = fs::read_to_string(&path).expect("read");
    text.push_str(partial);
    fs::write(&path, &text).expect("write");
    assert!(matches!(
        verify(&path),
        Err(ChainError::Truncated { line: 6 })
    ));

    run(&path, "second", None);
    let records = records(&path);
    assert_eq!(records.len(), 1 + 4 + 1 + 4);
    let RecordBody::Recovery(recovery) = &records[5].body else {
        panic!("line 6 is the recovery: {:?}", records[5]);
    };
    let torn = recovery.torn.expect("it records the torn tail");
    assert_eq!(torn.bytes, 120);
    assert!(
        recovery.head.is_none(),
        "the head agreed: a crash, not a cut"
    );
    assert!(
        !fs::read_to_string(&path)
            .expect("read")
            .contains(&format!("{partial}{{"))
    );
}

#[test]
fn cutting_into_a_signed_line_is_recorded_as_a_disagreeing_head() {
    let dir = TempDir::new("cut");
    let path = dir.log();
    run(&path, "first", None);
    let text = fs::read_to_string(&path).expect("read");
    // The last line is covered by the head; cutting it in half is not a crash.
    fs::write(&path, &text[..text.len() - 10]).expect("write");
    run(&path, "second", None);
    let err = verify(&path).expect_err("the cut is in the trail");
    assert!(
        matches!(err, ChainError::HeadDisagreed { line: 5, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("recorded 5 entries"), "{err}");
}

#[test]
fn an_edited_last_line_is_refused_rather_than_continued() {
    let dir = TempDir::new("edited");
    let path = dir.log();
    run(&path, "first", None);
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replace("signed release", "signed relaxed")).expect("write");
    let err = AuditLog::open(&path, None).expect_err("edited last line");
    assert!(
        matches!(
            err,
            AuditError::Chain {
                error: ChainError::Edited { line: 5 },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cnv-audit verify"), "{err}");
}

#[test]
fn concurrent_writers_do_not_fork_the_chain() {
    let dir = TempDir::new("concurrent");
    let path = dir.log();
    // Two handles opened separately, as two processes would: the file lock, not the
    // in-process mutex, keeps them apart.
    let writers: Vec<_> = (0..2)
        .map(|_| Arc::new(AuditLog::open(&path, None).expect("opens")))
        .collect();
    std::thread::scope(|scope| {
        for (i, sink) in writers.iter().enumerate() {
            scope.spawn(move || {
                let config = SessionConfig::new(sink.clone());
                for j in 0..25 {
                    let mut session =
                        TypedSession::<Unverified>::with_config(format!("w{i}-{j}"), &config);
                    session
                        .record_finish(CallResult::Ran { exit_code: 0 })
                        .expect("recorded");
                }
            });
        }
    });
    assert_eq!(verify(&path).expect("one chain").entries, 1 + 100);
}

#[test]
fn what_is_not_a_log_is_refused_without_a_word_about_it() {
    let dir = TempDir::new("refused");
    // A directory.
    let err = AuditLog::open(&dir.0, None).expect_err("a directory");
    assert!(matches!(err, AuditError::NotALog { .. }), "{err}");
    // A character device: nothing is written to it, and it is not opened to find out.
    for device in ["/dev/null", "/dev/kmsg"] {
        if Path::new(device).exists() {
            let err = AuditLog::open(device, None).expect_err(device);
            assert!(matches!(err, AuditError::NotALog { .. }), "{device}: {err}");
        }
    }
    // A FIFO: refused without blocking on it.
    let fifo = dir.0.join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo is needed for this test");
    let err = AuditLog::open(&fifo, None).expect_err("a FIFO");
    assert!(matches!(err, AuditError::NotALog { .. }), "{err}");
    // A link, even to a real log.
    let real = dir.0.join("real.jsonl");
    run(&real, "real", None);
    let link = dir.0.join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let err = AuditLog::open(&link, None).expect_err("a link");
    assert!(matches!(err, AuditError::NotALog { .. }), "{err}");
    // A file someone else wrote: no line number, no content, nothing created beside it.
    let foreign = dir.0.join("passwd");
    let passwd = "root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000::/home/agent:\n";
    fs::write(&foreign, passwd).expect("write");
    let err = AuditLog::open(&foreign, None).expect_err("a foreign file");
    let message = err.to_string();
    assert!(matches!(err, AuditError::NotALog { .. }), "{message}");
    assert!(
        !message.contains("root") && !message.contains("line"),
        "{message}"
    );
    assert!(
        !head_path(&foreign).exists(),
        "nothing is created beside it"
    );
    assert_eq!(
        fs::read_to_string(&foreign).expect("read"),
        passwd,
        "untouched"
    );
    // A huge file without a newline is refused at once (it is not read to its end).
    let huge = dir.0.join("huge");
    fs::write(&huge, vec![b'y'; 16 << 20]).expect("write");
    let err = AuditLog::open(&huge, None).expect_err("no newline");
    assert!(matches!(err, AuditError::NotALog { .. }), "{err}");
    // A log whose head is not a head is refused when the log is new (the file beside
    // it may be someone's).
    let fresh = dir.0.join("fresh.jsonl");
    fs::write(head_path(&fresh), "my notes\n").expect("write");
    let err = AuditLog::open(&fresh, None).expect_err("a foreign head");
    assert!(matches!(err, AuditError::NotALog { path } if path.ends_with(".head")));
    assert_eq!(
        fs::read_to_string(head_path(&fresh)).expect("read"),
        "my notes\n"
    );
}

#[test]
fn a_log_whose_tail_is_longer_than_any_line_is_refused() {
    let dir = TempDir::new("long-tail");
    let path = dir.log();
    run(&path, "first", None);
    let mut text = fs::read(&path).expect("read");
    text.extend(vec![b'z'; 3 << 20]);
    fs::write(&path, &text).expect("write");
    let err = AuditLog::open(&path, None).expect_err("not a torn line of ours");
    assert!(
        matches!(
            err,
            AuditError::Chain {
                error: ChainError::Malformed { line: 6, .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_entry_longer_than_a_line_may_be_is_refused_and_nothing_runs() {
    let dir = TempDir::new("too-long");
    let path = dir.log();
    let log = Arc::new(AuditLog::open(&path, None).expect("opens"));
    let config = SessionConfig::new(log.clone());
    let session =
        TypedSession::<Unverified>::with_config("big", &config).verify(CapabilityContract::pure());
    let size = fs::metadata(&path).expect("exists").len();
    let huge = "why ".repeat(MAX_LINE_BYTES / 4);
    let denied = session
        .escalate(CapabilityContract::network(), huge.as_str())
        .expect_err("the entry cannot be recorded");
    assert!(
        matches!(
            denied.error(),
            EscalationError::Audit(AuditError::TooLong { .. })
        ),
        "{}",
        denied.error()
    );
    assert_eq!(
        fs::metadata(&path).expect("exists").len(),
        size,
        "nothing written"
    );
    drop((denied, config, log));
    verify(&path).expect("still intact");
}

#[test]
fn control_and_bidirectional_characters_are_escaped_in_the_log() {
    let dir = TempDir::new("escapes");
    let path = dir.log();
    let why = "$(touch pwned)\u{1b}[2J\u{9b}31m\u{202e}gnp.exe\u{200b} and a reason long enough";
    {
        let log = Arc::new(AuditLog::open(&path, None).expect("opens"));
        let config = SessionConfig::new(log);
        let session = TypedSession::<Unverified>::with_config("esc\u{7}ape", &config)
            .verify(CapabilityContract::pure());
        let _session = session
            .escalate(CapabilityContract::network(), why)
            .expect("allowed");
    }
    let bytes = fs::read(&path).expect("read");
    let text = String::from_utf8(bytes).expect("utf-8");
    for raw in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{200b}', '\u{7}'] {
        assert!(!text.contains(raw), "{raw:?} is stored raw");
    }
    assert!(text.contains("\\u202egnp.exe\\u200b"), "{text}");
    // Read back, the text is what was given.
    let justification = records(&path)
        .into_iter()
        .find_map(|record| match record.body {
            RecordBody::Entry(entry) if entry.event == AuditEvent::Escalate => entry.justification,
            _ => None,
        });
    assert_eq!(justification.as_deref(), Some(why));
    // A shell that sources the log runs nothing: there is no line a shell would run
    // without a syntax error first, and no raw command substitution outside quotes.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(". {} 2>/dev/null; true", path.display()))
        .current_dir(&dir.0)
        .output()
        .expect("sh runs");
    assert!(out.status.success());
    assert!(!dir.0.join("pwned").exists(), "the log ran a command");
}

#[test]
fn signed_logs_sign_the_genesis_each_call_s_end_and_the_head() {
    let dir = TempDir::new("signed");
    let path = dir.log();
    let key = AuditKey::generate().expect("random");
    {
        let log = Arc::new(AuditLog::open(&path, Some(&key)).expect("opens"));
        let config = SessionConfig::new(log.clone());
        let mut session = TypedSession::<Unverified>::with_config("calc", &config)
            .verify(CapabilityContract::pure());
        session
            .record_finish(CallResult::Ran { exit_code: 0 })
            .expect("recorded");
        // Before the end of the call, the head vouches for the finish line.
        assert_eq!(head_of(&path).entries, 4);
        // A watchdog thread records the end of another call without its session.
        let sink: Arc<dyn AuditSink> = log.clone();
        let session = TypedSession::<Unverified>::with_config("slow", &config);
        let (name, id) = (session.name().to_owned(), session.id());
        std::thread::spawn(move || {
            let entry = AuditEntry::finish(
                &name,
                id,
                RunMode::Autonomous,
                CallResult::Overrun {
                    exit_code: 5,
                    band: ResourceBand::Instant,
                    message: "ran longer than 100 ms".into(),
                },
            );
            sink.record(&entry).expect("recorded from another thread");
        })
        .join()
        .expect("the watchdog ends");
    }
    let records = records(&path);
    let signed: Vec<usize> = records
        .iter()
        .filter(|r| r.signed)
        .map(|r| r.line)
        .collect();
    assert_eq!(signed, [1, 4, 6], "the genesis and the two ends of a call");
    let summary = verify(&path).expect("intact");
    assert_eq!(summary.public_key, Some(key.public_key()));
    assert_eq!(summary.signed_through, 6);
    let head = head_of(&path);
    assert!(head.is_signed_by(&key.public_key()));
    assert!(!head.is_signed_by(&AuditKey::generate().expect("random").public_key()));
    let RecordBody::Entry(overrun) = &records[5].body else {
        panic!("an entry");
    };
    assert_eq!(overrun.outcome, Verdict::Denied);
    assert!(matches!(
        overrun.result,
        Some(CallResult::Overrun {
            band: ResourceBand::Instant,
            ..
        })
    ));
}

#[test]
fn a_log_is_signed_by_one_key_from_its_genesis_on() {
    let dir = TempDir::new("keys");
    let path = dir.log();
    let key = AuditKey::generate().expect("random");
    run(&path, "first", Some(&key));
    let other = AuditKey::generate().expect("random");
    for (given, says) in [
        (Some(&other), "the key given is"),
        (None, "no key was given"),
    ] {
        let err = AuditLog::open(&path, given).expect_err("another key");
        assert!(matches!(err, AuditError::KeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
    let unsigned = dir.0.join("unsigned.jsonl");
    run(&unsigned, "first", None);
    let err = AuditLog::open(&unsigned, Some(&key)).expect_err("a log without a key");
    assert!(err.to_string().contains("without a key"), "{err}");
}

#[test]
fn recording_touches_no_path_after_open() {
    // What a process restricted by Landlock after opening the log relies on: the log
    // and its head are written through the files `open` opened, wherever their paths
    // now point.
    let dir = TempDir::new("no-path");
    let path = dir.log();
    let log = Arc::new(AuditLog::open(&path, None).expect("opens"));
    let moved = dir.0.join("moved.jsonl");
    fs::rename(&path, &moved).expect("rename the log");
    fs::rename(head_path(&path), head_path(&moved)).expect("rename the head");
    let config = SessionConfig::new(log.clone());
    let mut session = TypedSession::<Unverified>::with_config("after", &config);
    session
        .record_finish(CallResult::Ran { exit_code: 0 })
        .expect("recorded through the open files");
    assert!(
        !path.exists() && !head_path(&path).exists(),
        "nothing recreated"
    );
    assert_eq!(verify(&moved).expect("intact").entries, 3);
    assert_eq!(head_of(&moved).entries, 3);
}

#[test]
fn a_log_deleted_while_in_use_stops_recording() {
    let dir = TempDir::new("deleted");
    let path = dir.log();
    let log = Arc::new(AuditLog::open(&path, None).expect("opens"));
    fs::remove_file(&path).expect("delete");
    let config = SessionConfig::new(log);
    let session = TypedSession::<Unverified>::with_config("lost", &config);
    assert!(
        matches!(session.audit_error(), Some(AuditError::Deleted { .. })),
        "{:?}",
        session.audit_error()
    );
    let denied = session
        .verify(CapabilityContract::pure())
        .escalate(
            CapabilityContract::network(),
            "Download the signed release index from the mirror",
        )
        .expect_err("nothing runs unrecorded");
    assert_eq!(denied.error().rule(), Rule::AuditRequired);
}

#[test]
fn a_new_log_where_a_head_survived_records_the_lost_log() {
    let dir = TempDir::new("lost");
    let path = dir.log();
    run(&path, "first", None);
    let old = head_of(&path);
    fs::remove_file(&path).expect("delete the log, keep its head");
    run(&path, "second", None);
    let err = verify(&path).expect_err("the loss is in the trail");
    assert!(
        matches!(err, ChainError::HeadDisagreed { line: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&old.log.to_string()), "{err}");
}

#[test]
fn a_deleted_head_is_recorded() {
    let dir = TempDir::new("no-head");
    let path = dir.log();
    run(&path, "first", None);
    fs::remove_file(head_path(&path)).expect("delete the head");
    run(&path, "second", None);
    let err = verify(&path).expect_err("the loss is in the trail");
    assert!(
        matches!(err, ChainError::HeadDisagreed { line: 6, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn the_call_is_recorded_in_full() {
    let dir = TempDir::new("call");
    let path = dir.log();
    let content = "x".repeat(5_000);
    let args = serde_json::json!({ "path": "notes.txt", "content": content });
    let call = CallRecord::new(
        "file write",
        args.as_object().cloned().unwrap_or_default(),
        CallOrigin::Mcp {
            transport: McpTransport::StreamableHttp,
            session_id: Some("mcp-7".into()),
            client_name: Some("inspector".into()),
            client_version: Some("1.2".into()),
            principal: None,
        },
    );
    {
        let log = Arc::new(AuditLog::open(&path, None).expect("opens"));
        let config = SessionConfig::new(log).with_call(call.clone());
        let session = TypedSession::<Unverified>::with_config("workbench file write", &config)
            .verify(CapabilityContract::pure());
        let mut session = session
            .escalate(
                CapabilityContract::read_write(),
                "save the meeting notes the user dictated",
            )
            .expect("allowed");
        session
            .record_finish(CallResult::Failed {
                exit_code: 1,
                message: "disk full".into(),
            })
            .expect("recorded");
    }
    let records = records(&path);
    let RecordBody::Entry(create) = &records[1].body else {
        panic!("line 2 is the creation");
    };
    assert_eq!(create.call.as_ref(), Some(&call));
    let RecordBody::Entry(finish) = &records[4].body else {
        panic!("line 5 is the end");
    };
    assert_eq!(finish.event, AuditEvent::Finish);
    assert_eq!(finish.to, Some(CapabilityClass::ReadWriteFS));
    assert_eq!(finish.detail.as_deref(), Some("disk full"));
    assert_eq!(finish.result.as_ref().map(CallResult::exit_code), Some(1));
}

/// Set in a child process: the log it appends to.
const CHILD_LOG: &str = "CNV_TYPESTATE_CHILD_LOG";

/// The child half of `separate_processes_extend_one_chain`: does nothing unless started
/// by it.
#[test]
fn child_process_run() {
    if let Some(path) = std::env::var_os(CHILD_LOG) {
        run(Path::new(&path), "child", None);
    }
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_process_run", "--test-threads", "1"])
        .env(CHILD_LOG, path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the test binary")
}

#[test]
fn separate_processes_extend_one_chain() {
    let dir = TempDir::new("processes");
    let path = dir.log();
    // Three runs one after the other, then three at the same time.
    for _ in 0..3 {
        assert!(spawn_child(&path).wait().expect("waits").success());
    }
    let children: Vec<_> = (0..3).map(|_| spawn_child(&path)).collect();
    for mut child in children {
        assert!(child.wait().expect("waits").success());
    }
    let summary = verify(&path).expect("one chain across six processes");
    assert_eq!(summary.entries, 1 + 6 * 4);
    assert_eq!(head_of(&path).entries, summary.entries as u64);
}

#[test]
fn processes_starting_a_new_log_together_write_one_genesis() {
    for round in 0..5 {
        let dir = TempDir::new(&format!("together-{round}"));
        let path = dir.log();
        let children: Vec<_> = (0..4).map(|_| spawn_child(&path)).collect();
        for mut child in children {
            assert!(child.wait().expect("waits").success());
        }
        // One genesis, no recovery: none of them took another's new head for a lost one.
        let summary = verify(&path).expect("one chain, nothing recorded as lost");
        assert_eq!(summary.entries, 1 + 4 * 4);
    }
}
