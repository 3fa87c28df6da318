//! Both protocol revisions on one endpoint, quotas per principal and MCP replicas sharing
//! state, driven by the official Python MCP SDK (the venv `cargo xtask mcp-venv` makes) against the `workbench` example, with real
//! `redis-server` processes (`cargo xtask redis` installs the program; the script starts
//! one of its own on a free loopback port and kills it at the end).
//!
//! The script (`tests/mcp/replicas.py`) checks, over stdio and HTTP, that exactly N of
//! N+k calls are admitted under a quota, what a refused call is told and that it is in the
//! audit trail; that settings the server cannot use refuse to serve; and, with two
//! replicas behind a round-robin proxy sharing one Redis, that a session made on one
//! replica goes on at the other, that the replicas share one quota (calls one after the
//! other, and a burst at once over both), that Redis stopped
//! and started again mid-run refuses and then serves the calls under a quota, that a
//! stream one replica answered is resumed (`Last-Event-ID`) at the other, and that the
//! client goes on when a replica is killed.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// The venv's Python: `mcp-venv` in the target directory this test was built in.
fn venv_python() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf();
    let python = target.join("mcp-venv").join("bin").join("python");
    assert!(
        python.exists(),
        "the Python MCP SDK's venv is missing ({} does not exist): make it with \
         `cargo xtask mcp-venv` (`cargo xtask ci` makes it before the tests); this test \
         never skips",
        python.display()
    );
    python
}

/// `redis-server`, which must be installed: this test never skips.
fn redis_server() -> PathBuf {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "redis-server is not on the PATH: install it with `cargo xtask redis` (`cargo xtask \
         ci` does it before the tests); this test never skips"
    );
    PathBuf::from("redis-server")
}

/// A fresh scratch directory `name` with the workspace `ws/`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
    std::fs::write(dir.join("ws").join("hello.txt"), "hello").expect("a file");
    dir
}

/// Runs the script `name` in the venv with `args`, and asserts that all its checks passed.
fn run_script(name: &str, args: &[&Path]) {
    let out = Command::new(venv_python())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/mcp")
                .join(name),
        )
        .args(args)
        .output()
        .expect("the venv's Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "the Python client's checks failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// `eras.py`: clients of 2026-07-28 (no session) and of 2025-11-25 (a session) on one
/// endpoint, over HTTP and stdio, with `server/discover`, the audit trail of both and one
/// quota counting both.
#[test]
fn both_protocol_revisions_are_served_on_one_endpoint() {
    let workbench = common::example("workbench");
    let dir = scratch("eras");
    run_script("eras.py", &[&workbench, &dir]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn quotas_hold_and_replicas_share_sessions_and_quotas_through_redis() {
    let redis = redis_server();
    let workbench = common::example("workbench");
    let dir = scratch("replicas");
    run_script("replicas.py", &[&workbench, &redis, &dir]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
