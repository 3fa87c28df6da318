//! `--audit-log FILE`: separate runs append to one hash chain, runs at the same time do
//! not fork it, and a damaged file is refused rather than continued.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cnv_caps::CapabilityContract;
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
fn run(path: &Path, name: &str) {
    let sink = Arc::new(JsonLinesFile::open(path).expect("opens"));
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

#[test]
fn separate_runs_extend_one_chain() {
    let dir = TempDir::new("runs");
    let path = dir.log();
    for i in 0..3 {
        run(&path, &format!("run-{i}"));
        let summary = verify(&path).expect("intact after each run");
        assert_eq!(summary.entries, 4 * (i + 1));
        let head = JsonLinesFile::open(&path)
            .expect("opens")
            .head()
            .expect("reads");
        assert_eq!(summary.head, head);
    }
    let text = fs::read_to_string(&path).expect("read");
    let first_prevs = text
        .lines()
        .filter(|l| l.starts_with(&format!("{{\"prev\":\"{}\"", ChainHash::GENESIS)))
        .count();
    assert_eq!(first_prevs, 1, "only the very first line starts a chain");
}

#[test]
fn a_multi_run_log_with_a_line_edited_deleted_or_swapped_fails() {
    let dir = TempDir::new("tamper");
    let path = dir.log();
    for i in 0..3 {
        run(&path, &format!("run-{i}"));
    }
    let lines: Vec<String> = fs::read_to_string(&path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 12);
    let write = |lines: &[String]| {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        fs::write(&path, text).expect("write");
    };

    // Edited: the denial at the boundary between two runs becomes an approval.
    let mut edited = lines.clone();
    edited[6] = edited[6].replace("\"denied\"", "\"allowed\"");
    assert_ne!(edited[6], lines[6]);
    write(&edited);
    assert!(matches!(verify(&path), Err(ChainError::Edited { line: 7 })));

    // Deleted: the first line of the second run.
    let mut deleted = lines.clone();
    deleted.remove(4);
    write(&deleted);
    assert!(matches!(
        verify(&path),
        Err(ChainError::BrokenLink { line: 5 })
    ));

    // Swapped: the last line of run 1 and the first of run 2.
    let mut swapped = lines.clone();
    swapped.swap(3, 4);
    write(&swapped);
    assert!(matches!(
        verify(&path),
        Err(ChainError::BrokenLink { line: 4 })
    ));

    write(&lines);
    assert_eq!(verify(&path).expect("restored").entries, 12);
}

#[test]
fn a_damaged_tail_is_refused_rather_than_continued() {
    let dir = TempDir::new("damaged");
    let path = dir.log();
    run(&path, "first");
    let text = fs::read_to_string(&path).expect("read");

    // A cut last line (a crash mid-write).
    fs::write(&path, &text[..text.len() - 10]).expect("write");
    let err = JsonLinesFile::open(&path).expect_err("incomplete last line");
    assert!(
        matches!(
            err,
            AuditError::Chain {
                error: ChainError::Truncated { line: 4 },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("move it aside"), "{err}");

    // An edited last line.
    fs::write(&path, text.replace("signed release", "signed relaxed")).expect("write");
    let err = JsonLinesFile::open(&path).expect_err("edited last line");
    assert!(
        matches!(
            err,
            AuditError::Chain {
                error: ChainError::Edited { line: 4 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn concurrent_writers_do_not_fork_the_chain() {
    let dir = TempDir::new("concurrent");
    let path = dir.log();
    // Two handles opened separately, as two processes would: the file lock, not the
    // in-process mutex, keeps them apart.
    let writers: Vec<_> = (0..2)
        .map(|_| Arc::new(JsonLinesFile::open(&path).expect("opens")))
        .collect();
    std::thread::scope(|scope| {
        for (i, sink) in writers.iter().enumerate() {
            scope.spawn(move || {
                let config = SessionConfig::new(sink.clone());
                for j in 0..25 {
                    let session =
                        TypedSession::<Unverified>::with_config(format!("w{i}-{j}"), &config);
                    assert!(session.audit_error().is_none());
                }
            });
        }
    });
    assert_eq!(verify(&path).expect("one chain").entries, 50);
}

#[test]
fn an_unwritable_log_is_an_error_not_a_silence() {
    let dir = TempDir::new("unwritable");
    // A directory cannot be opened as a log.
    let err = JsonLinesFile::open(&dir.0).expect_err("a directory");
    assert!(matches!(err, AuditError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains(&dir.0.display().to_string()),
        "{err}"
    );
}

/// Set in a child process: the log it appends to.
const CHILD_LOG: &str = "CNV_TYPESTATE_CHILD_LOG";

/// The child half of `separate_processes_extend_one_chain`: does nothing unless started
/// by it.
#[test]
fn child_process_run() {
    if let Some(path) = std::env::var_os(CHILD_LOG) {
        run(Path::new(&path), "child");
    }
}

fn spawn_child(path: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
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
    assert_eq!(summary.entries, 6 * 4);
}
