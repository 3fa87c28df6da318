//! `cargo xtask redis`: makes `redis-server` available for the tests of MCP replicas
//! sharing state (each test starts servers of its own on free loopback ports). When it is
//! not on the `PATH`, the Debian package `redis-server` is installed with `apt-get`
//! (as root, or through `sudo`). Nothing is started here, and no system service is
//! enabled: the package's own service is stopped if installing it started one.
//!
//! The tests that need it (`crates/cnv/tests/mcp_replicas.rs`) fail, saying to run this,
//! when it is missing.

use std::process::Command;

use crate::step;

/// The program the tests start.
const SERVER: &str = "redis-server";

pub(crate) fn run() -> Result<(), String> {
    if found() {
        println!("\n==> redis: {SERVER} is installed");
        return Ok(());
    }
    let root = is_root();
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    step("redis: apt-get update", apt(&["update", "-q"]))?;
    step(
        "redis: apt-get install redis-server",
        apt(&[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "redis-server",
        ]),
    )?;
    // A package installed in a container may have started its service; the tests start
    // their own servers, on ports of their own.
    let _ = Command::new("service")
        .args(["redis-server", "stop"])
        .output();
    if found() {
        Ok(())
    } else {
        Err(format!(
            "{SERVER} is still not on the PATH after installing the package redis-server; install it (https://redis.io/docs/latest/operate/oss_and_stack/install/) and run again"
        ))
    }
}

/// Whether `redis-server` runs.
fn found() -> bool {
    Command::new(SERVER)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Whether this process runs as root (then `apt-get` needs no `sudo`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
