//! `cargo xtask`: the project's automation, as a plain Rust program (matklad's pattern).
//!
//! * `cargo xtask ci` — format check, the module check (no import circles within a
//!   crate), clippy, docs, the loom models, every test. If it passes locally, CI is green.
//! * `cargo xtask ui` — re-bless the trybuild snapshots (`TRYBUILD=overwrite`).
//! * `cargo xtask bench` — run the criterion benches and write `docs/PERFORMANCE.md`.
//! * `cargo xtask doc` — build the API documentation as CI does.
//! * `cargo xtask mcp-venv` — make the Python venv of the MCP end-to-end tests
//!   (`target/mcp-venv`, the official SDK at its pinned version); `ci` does it first.
//! * `cargo xtask redis` — make `redis-server` available for the tests of MCP replicas
//!   (the Debian package, with `apt-get`, when it is missing); `ci` does it first.

#![forbid(unsafe_code)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod modules;
mod redis;
mod venv;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci      format check, module circles, clippy (-D warnings), docs (-D warnings), loom
          models, every test
  ui      re-bless the trybuild snapshots (TRYBUILD=overwrite)
  bench   run the criterion benches and write docs/PERFORMANCE.md
          (extra arguments go to criterion, e.g. `cargo xtask bench registry`)
  doc     build the API documentation with -D warnings
  mcp-venv  make target/mcp-venv, the Python MCP SDK the end-to-end tests drive
  redis     make redis-server available (apt-get) for the tests of MCP replicas";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("ui") => ui(),
        Some("bench") => bench::run(&args[1..]),
        Some("doc") => doc(),
        Some("mcp-venv") => venv::run(),
        Some("redis") => redis::run(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every check CI runs, in order, stopping at the first failure. Each crate is built once
/// per kind of build (check for clippy and docs, test build for the tests), all in the
/// dev profile and the shared `target/` directory.
fn ci() -> Result<(), String> {
    let started = Instant::now();
    step("format", cargo(&["fmt", "--all", "--check"]))?;
    println!("\n==> modules: no file of a crate imports another in a circle");
    modules::check(&workspace_root())?;
    step(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step("doc", doc_command())?;
    step(
        "doc tests",
        cargo(&["test", "--workspace", "--doc", "--locked"]),
    )?;
    step("loom models", loom_command())?;
    // Every library crate packages (metadata, file list, versioned paths). The full
    // verification (`cargo package --workspace`) compiles every crate once more from its
    // tarball, a second build that CI skips; it is run by hand before a release.
    step(
        "package",
        cargo(&[
            "package",
            "--workspace",
            "--no-verify",
            "--locked",
            "--allow-dirty",
        ]),
    )?;
    // The MCP server's end-to-end test drives it with the official Python SDK.
    venv::run()?;
    // The tests of MCP replicas start Redis servers of their own.
    redis::run()?;
    println!(
        "\n==> checks passed in {:.0?}; the tests run last, and their summary ends the run",
        started.elapsed()
    );
    run("tests", test_command())
}

/// The test run: cargo-nextest when it is installed (one summary for the workspace),
/// otherwise `cargo test`. Both build the same targets in the same profile.
fn test_command() -> Command {
    let nextest = Command::new(cargo_path())
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if nextest {
        cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
            "--failure-output",
            "final",
        ])
    } else {
        cargo(&[
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--examples",
            "--locked",
            "--no-fail-fast",
        ])
    }
}

/// The loom models of the atomics we wrote ourselves (`crates/*/tests/loom.rs`), built with
/// `--cfg loom` in their own target directory so that this build never invalidates the
/// main one. Same `dev` profile as every other step: the models are small, and a release
/// build would cost more time than it saves (measured: 10 s in dev, 20 s in release).
fn loom_command() -> Command {
    let mut command = cargo(&[
        "test",
        "--package",
        "cnv-registry",
        "--test",
        "loom",
        "--locked",
        "--target-dir",
        "target/loom",
    ]);
    command.env("RUSTFLAGS", "--cfg loom");
    command
}

fn ui() -> Result<(), String> {
    let mut command = cargo(&["test", "--package", "cnv", "--test", "compile_fail"]);
    command.env("TRYBUILD", "overwrite");
    step("re-bless trybuild snapshots", command)
}

fn doc() -> Result<(), String> {
    step("doc", doc_command())
}

fn doc_command() -> Command {
    let mut command = cargo(&["doc", "--workspace", "--no-deps", "--locked"]);
    command.env("RUSTDOCFLAGS", "-D warnings");
    command
}

/// Runs one step, printing its name and command first and its time after.
fn step(name: &str, command: Command) -> Result<(), String> {
    let started = Instant::now();
    run(name, command)?;
    println!("==> {name}: ok ({:.1?})", started.elapsed());
    Ok(())
}

/// Runs one step, printing its name and command first; the command's own output is the
/// last thing printed.
fn run(name: &str, mut command: Command) -> Result<(), String> {
    println!("\n==> {name}: {}", describe(&command));
    let status = command
        .status()
        .map_err(|err| format!("could not start `{}`: {err}", describe(&command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("step `{name}` failed ({status}); stopping here"))
    }
}

/// A `cargo` command (the same cargo that runs xtask) run from the workspace root.
fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(cargo_path());
    command.args(args).current_dir(workspace_root());
    command
}

fn cargo_path() -> PathBuf {
    env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// The workspace this run was started in. `cargo run` names xtask's directory at run time;
/// the path compiled in is only the fallback, since a target directory shared by two
/// checkouts may hold an xtask built from the other one.
fn workspace_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn describe(command: &Command) -> String {
    let mut text = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            text.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    let program = Path::new(command.get_program());
    text.push_str(&program.file_name().unwrap_or_default().to_string_lossy());
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
