//! Handlers that overstep their class, run as processes (the `overstep` example), and the
//! attacks a hostile agent made on the `workbench` example with only its arguments: each
//! is stopped, by the kernel or by the command line, with nothing done and the refusal
//! reported.
//!
//! These tests need Landlock with TCP rules (ABI 4, Linux 6.7); they fail, loudly, on a
//! kernel without it rather than pass without testing anything.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cnv::sandbox::LandlockStatus;

mod common;

/// Panics unless the kernel enforces what these tests check.
fn require_landlock() {
    match cnv::sandbox::probe() {
        LandlockStatus::Available { abi } if abi >= 4 => {}
        status => panic!(
            "these tests need Landlock ABI 4 or later (Linux 6.7+, TCP rules), and this kernel \
             offers {status:?}: run them on a kernel with Landlock enabled; they are never skipped"
        ),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-escape-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn launch(program: &str, args: &[&str], operator: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(common::example(program));
    command
        .args(args)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_WORKSPACE")
        .env_remove("CNV_AUDIT_LOG")
        .env_remove("CNV_SANDBOX")
        .stdin(Stdio::null());
    for (name, value) in operator {
        command.env(name, value);
    }
    command.output().expect("the example runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The call was refused by the kernel: exit 1 with the OS's "permission" error, and no
/// sign that the handler got past it.
fn assert_stopped(out: &Output, what: &str) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{what}: {stdout}{stderr}");
    assert!(!stdout.contains("ESCAPED"), "{what}: {stdout}");
    assert!(
        stderr.contains("Permission denied") || stderr.contains("Operation not permitted"),
        "{what}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

#[test]
fn a_read_only_handler_cannot_write_with_std_fs() {
    require_landlock();
    let workspace = scratch("ro-write");
    let out = launch(
        "overstep",
        &["ro", "write", "written.txt"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(&out, "ReadOnlyFS writing a file");
    assert!(
        !workspace.join("written.txt").exists(),
        "nothing was written"
    );
    std::fs::remove_dir_all(&workspace).expect("cleanup");
}

/// What the guide says of a handler that bypasses its handle with `std::fs`: the kernel
/// stops it outside the workspace only. Inside, it writes as the handle would.
#[test]
fn a_read_write_handler_bypassing_its_handle_writes_in_the_workspace_and_is_stopped_outside() {
    require_landlock();
    let dir = scratch("rw-write-at");
    let (workspace, outside) = (dir.join("ws"), dir.join("outside"));
    std::fs::create_dir_all(&workspace).expect("workspace");
    std::fs::create_dir_all(&outside).expect("a directory beside it");

    let inside = workspace.join("inside.txt");
    let out = launch(
        "overstep",
        &["rw", "write-at", &inside.display().to_string(), "--yes"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&inside).expect("written"),
        "written past the handle"
    );

    let beside = outside.join("written.txt");
    let out = launch(
        "overstep",
        &["rw", "write-at", &beside.display().to_string(), "--yes"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(
        &out,
        "ReadWriteFS writing outside the workspace with std::fs",
    );
    assert!(!beside.exists(), "nothing was written outside");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_pure_handler_cannot_read_a_file() {
    require_landlock();
    let out = launch("overstep", &["pure", "read-hostname"], &[]);
    assert_stopped(&out, "Pure reading /etc/hostname");
}

#[test]
fn a_read_only_handler_cannot_read_the_environment_through_proc() {
    require_landlock();
    let workspace = scratch("environ");
    let out = launch(
        "overstep",
        &["ro", "environ"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(&out, "ReadOnlyFS reading /proc/self/environ");
    std::fs::remove_dir_all(&workspace).expect("cleanup");
}

#[test]
fn a_read_write_handler_cannot_connect_or_spawn() {
    require_landlock();
    let workspace = scratch("rw");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("address").to_string();
    let out = launch(
        "overstep",
        &["rw", "connect", &addr, "--yes"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(&out, "ReadWriteFS connecting over TCP");
    assert!(
        listener.accept().is_err(),
        "no connection reached the listener"
    );

    let marker = workspace.join("spawned");
    let out = launch(
        "overstep",
        &[
            "rw",
            "spawn",
            "/bin/sh",
            "--yes",
            "--",
            "-c",
            &format!("touch {}", marker.display()),
        ],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(&out, "ReadWriteFS spawning a program");
    let out = launch(
        "overstep",
        &["rw", "spawn", "/bin/true", "--yes"],
        &[("CNV_WORKSPACE", &workspace)],
    );
    assert_stopped(&out, "ReadWriteFS spawning /bin/true");
    assert!(!marker.exists(), "no program ran");
    std::fs::remove_dir_all(&workspace).expect("cleanup");
}

#[test]
fn a_handler_past_its_band_s_time_is_stopped_with_exit_code_5() {
    require_landlock();
    let dir = scratch("overrun");
    let log = dir.join("audit.jsonl");
    let out = launch(
        "overstep",
        &["pure", "spin"],
        &[("CNV_AUDIT_LOG", log.as_path())],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("ran past its resource band's time (100 ms, band `Instant`)"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("ESCAPED"));
    // The overrun is the session's last entry, with the exit code the caller got.
    let trail = std::fs::read_to_string(&log).expect("the log");
    let end: serde_json::Value = trail
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|entry| entry["event"] == "finish")
        .expect("a finish entry");
    assert_eq!(end["result"]["status"], "overrun", "{trail}");
    assert_eq!(end["result"]["exit_code"], 5, "{trail}");
    assert_eq!(end["result"]["band"], "Instant", "{trail}");
}

// The attacks made on the workbench example, with only its arguments.

#[test]
fn the_workspace_is_the_operator_s_and_no_argument_moves_it() {
    require_landlock();
    let workspace = scratch("no-root");
    std::fs::write(workspace.join("notes.txt"), "mine").expect("a file");
    let operator = [
        ("CNV_AGENT", Path::new("1")),
        ("CNV_WORKSPACE", workspace.as_path()),
    ];
    // `--root` is no argument at all any more.
    let out = launch(
        "workbench",
        &["file", "read", "passwd", "--root", "/etc"],
        &operator,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("unexpected argument '--root'"));
    assert!(text(&out.stdout).is_empty());
    // Paths out of the workspace fail, whatever their form.
    for path in [
        "/etc/passwd",
        "../../../../etc/passwd",
        "/proc/self/environ",
    ] {
        let out = launch("workbench", &["file", "read", path], &operator);
        assert_eq!(out.status.code(), Some(1), "{path}");
        assert!(text(&out.stdout).is_empty(), "{path}");
    }
    let out = launch("workbench", &["file", "list", "/"], &operator);
    assert_eq!(out.status.code(), Some(1));
    let out = launch("workbench", &["file", "read", "notes.txt"], &operator);
    assert_eq!(text(&out.stdout), "mine\n");
    std::fs::remove_dir_all(&workspace).expect("cleanup");
}

#[test]
fn an_agent_cannot_move_or_silence_the_audit_log() {
    require_landlock();
    let dir = scratch("audit");
    let workspace = dir.join("workspace");
    std::fs::create_dir_all(&workspace).expect("workspace");
    let log = dir.join("audit.jsonl");
    let operator = [
        ("CNV_AGENT", Path::new("1")),
        ("CNV_WORKSPACE", workspace.as_path()),
        ("CNV_AUDIT_LOG", log.as_path()),
    ];
    for args in [
        &[
            "file",
            "write",
            "a.txt",
            "--content",
            "x",
            "--justify",
            "write the file the user asked for",
            "--audit-log",
            "/dev/null",
        ][..],
        &["--audit-log", "/dev/null", "calc", "sum", "1"],
    ] {
        let out = launch("workbench", args, &operator);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("unexpected argument '--audit-log'"));
    }
    assert!(!workspace.join("a.txt").exists());
    // A flag given twice is a usage error, never a silent override.
    let out = launch(
        "workbench",
        &["--format", "json", "calc", "sum", "1", "--format", "text"],
        &operator,
    );
    assert_eq!(out.status.code(), Some(2));
    // The operator's log gets what does run.
    let out = launch(
        "workbench",
        &[
            "file",
            "write",
            "a.txt",
            "--content",
            "x",
            "--justify",
            "write the file the user asked for",
        ],
        &operator,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let logged = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logged.contains("write the file the user asked for"),
        "{logged}"
    );
    // An audit log inside the workspace a writing verb could change: refused.
    let inside = workspace.join("audit.jsonl");
    let out = launch(
        "workbench",
        &[
            "file",
            "write",
            "b.txt",
            "--content",
            "x",
            "--justify",
            "write the file the user asked for",
        ],
        &[
            ("CNV_AGENT", Path::new("1")),
            ("CNV_WORKSPACE", workspace.as_path()),
            ("CNV_AUDIT_LOG", inside.as_path()),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("rule `audit_out_of_reach`"));
    assert!(!workspace.join("b.txt").exists());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn links_out_of_the_workspace_are_refused_even_dangling_or_swapped() {
    require_landlock();
    let dir = scratch("links");
    let workspace = dir.join("workspace");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&workspace).expect("workspace");
    std::fs::create_dir_all(&outside).expect("outside");
    let operator = [("CNV_WORKSPACE", workspace.as_path())];
    // A dangling link inside the workspace that points out of it.
    std::os::unix::fs::symlink(outside.join("created.txt"), workspace.join("link"))
        .expect("a link");
    let out = launch(
        "workbench",
        &["file", "write", "link", "--content", "x", "--yes"],
        &operator,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!outside.join("created.txt").exists(), "nothing outside");

    // A directory swapped for a link out of the workspace while writes go on.
    let sub = workspace.join("sub");
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, sub, outside) = (Arc::clone(&stop), sub.clone(), outside.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::create_dir(&sub);
                let _ = std::fs::remove_dir(&sub);
                let _ = std::os::unix::fs::symlink(&outside, &sub);
                let _ = std::fs::remove_file(&sub);
            }
        })
    };
    for i in 0..60 {
        let name = format!("sub/f{i}.txt");
        let _ = launch(
            "workbench",
            &["file", "write", &name, "--content", "x", "--yes"],
            &operator,
        );
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().expect("the swapper stops");
    let escaped: Vec<_> = std::fs::read_dir(&outside)
        .expect("outside")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .collect();
    assert!(escaped.is_empty(), "written outside: {escaped:?}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
