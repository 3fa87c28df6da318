//! Processes that try to escape their capability class, and are stopped by the kernel.
//!
//! Each test starts this binary again with `CNV_ESCAPE_ROLE` set. The child restricts
//! itself as a class (or limits its memory), tries what the test
//! names and prints one `attempt=outcome` line per try; the parent asserts each outcome
//! (`err:13:…` is Landlock's `EACCES`, `err:1:…` the seccomp filter's or a Landlock
//! scope's `EPERM`) and what is, and is not, on disk or at its listeners.
//!
//! These tests need Landlock ABI 4 or later (Linux 6.7). Without it they fail, loudly:
//! a sandbox test that cannot run is a failure, never a skip.

mod common;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::symlink;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Output};

use cnv_caps::{CapabilityClass, ResourceBand};
use cnv_sandbox::{
    LandlockStatus, Sandbox, SandboxError, Strictness, Workspace, limit_memory, probe,
};
use common::Scratch;
use libtest_mimic::{Arguments, Trial};

const ROLE: &str = "CNV_ESCAPE_ROLE";
const CLASS: &str = "CNV_ESCAPE_CLASS";
const WORKSPACE: &str = "CNV_ESCAPE_WORKSPACE";
const OUTSIDE: &str = "CNV_ESCAPE_OUTSIDE";
const STRICT: &str = "CNV_ESCAPE_STRICT";
const SIMULATE_ABI: &str = "CNV_ESCAPE_SIMULATE_ABI";
const NO_SECCOMP: &str = "CNV_ESCAPE_NO_SECCOMP";
const ON_THREAD: &str = "CNV_ESCAPE_ON_THREAD";
const TCP: &str = "CNV_ESCAPE_TCP";
const UDP: &str = "CNV_ESCAPE_UDP";
const UNIX_PATH: &str = "CNV_ESCAPE_UNIX_PATH";
const ABSTRACT: &str = "CNV_ESCAPE_ABSTRACT";
const SECRET: &str = "CNV_ESCAPE_SECRET";
/// The memory child's band.
const MODE: &str = "CNV_ESCAPE_MODE";

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(ROLE) {
        return child::run(&role);
    }
    let tests: &[(&str, fn())] = &[
        (
            "the_kernel_has_landlock_abi_4_or_later",
            kernel_has_landlock,
        ),
        (
            "read_only_fs_cannot_write_beneath_the_workspace_with_std_fs",
            read_only_fs_cannot_write,
        ),
        (
            "read_only_fs_cannot_read_proc_self_environ",
            read_only_fs_cannot_read_environ,
        ),
        ("pure_cannot_read_etc_hostname", pure_cannot_read_hostname),
        ("pure_cannot_send_udp", pure_cannot_send_udp),
        (
            "read_write_fs_cannot_connect_to_a_local_listener_or_spawn_bin_true",
            read_write_fs_cannot_connect_or_spawn,
        ),
        (
            "landlock_alone_refuses_tcp_to_a_class_without_network",
            landlock_alone_refuses_tcp,
        ),
        (
            "read_write_fs_writes_beneath_the_workspace_and_nowhere_else",
            read_write_fs_writes_inside_only,
        ),
        (
            "a_dangling_link_inside_the_workspace_cannot_write_outside",
            dangling_link_cannot_write_outside,
        ),
        (
            "subprocess_runs_bin_true_and_its_programs_write_only_beneath_the_workspace",
            subprocess_runs_programs_inside_only,
        ),
        (
            "network_connects_and_resolves_names_but_touches_no_file",
            network_connects_but_touches_no_file,
        ),
        (
            "scopes_refuse_signals_and_abstract_sockets_outside_the_sandbox",
            scopes_refuse_signals_and_abstract_sockets,
        ),
        ("dangerous_is_not_restricted", dangerous_is_not_restricted),
        (
            "the_restriction_stays_on_its_thread_and_passes_to_the_threads_it_starts",
            restriction_is_per_thread,
        ),
        (
            "strict_refuses_before_restricting_on_an_older_abi",
            strict_refuses_on_an_older_abi,
        ),
        (
            "best_effort_on_an_older_abi_reports_what_it_leaves_open",
            best_effort_reports_gaps,
        ),
        (
            "without_landlock_nothing_is_enforced_and_the_report_says_so",
            without_landlock_nothing_is_enforced,
        ),
        (
            "known_gap_environment_variables_in_memory_stay_readable",
            known_gap_environment_in_memory,
        ),
        (
            "no_class_short_of_dangerous_reaches_a_unix_socket_by_path",
            unix_sockets_by_path_are_refused,
        ),
        (
            "the_memory_limit_refuses_allocations_past_the_band",
            memory_limit_refuses_large_allocations,
        ),
    ];
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// Panics, with what to do, unless the kernel has Landlock ABI 4 or later.
fn require_landlock() -> u8 {
    match probe() {
        LandlockStatus::Available { abi } if abi >= 4 => abi,
        other => panic!(
            "the sandbox escape tests need Landlock ABI 4 or later (Linux 6.7 with Landlock \
             enabled), and this kernel reports: {other}. They must run, not be skipped: run \
             them on a kernel with Landlock enabled (lsm=landlock,… on its command line)."
        ),
    }
}

// ---------------------------------------------------------------------------------------
// The parent side: start a child, read its outcomes.

struct Child {
    role: &'static str,
    class: CapabilityClass,
    env: Vec<(&'static str, OsString)>,
    attempts: Vec<&'static str>,
}

impl Child {
    fn new(class: CapabilityClass) -> Self {
        Self {
            role: "attempts",
            class,
            env: Vec::new(),
            attempts: Vec::new(),
        }
    }

    fn role(mut self, role: &'static str) -> Self {
        self.role = role;
        self
    }

    fn scratch(self, scratch: &Scratch) -> Self {
        self.env(WORKSPACE, scratch.workspace())
            .env(OUTSIDE, scratch.outside())
    }

    fn env(mut self, key: &'static str, value: impl Into<OsString>) -> Self {
        self.env.push((key, value.into()));
        self
    }

    fn attempts(mut self, attempts: &[&'static str]) -> Self {
        self.attempts.extend_from_slice(attempts);
        self
    }

    fn run(self) -> Outcomes {
        let exe = std::env::current_exe().expect("the test binary's path");
        let output = Command::new(exe)
            .env(ROLE, self.role)
            .env(CLASS, self.class.name())
            .env(SECRET, "hunter2")
            .envs(self.env)
            .args(&self.attempts)
            .output()
            .expect("start the child process");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let outcomes = stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        Outcomes { outcomes, output }
    }
}

struct Outcomes {
    outcomes: HashMap<String, String>,
    output: Output,
}

impl Outcomes {
    fn context(&self) -> String {
        format!(
            "child {} \nstdout:\n{}\nstderr:\n{}",
            self.output.status,
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    fn get(&self, attempt: &str) -> &str {
        self.outcomes
            .get(attempt)
            .unwrap_or_else(|| panic!("the child reported no `{attempt}`; {}", self.context()))
    }

    fn assert(&self, attempt: &str, expected: &str) -> &Self {
        assert_eq!(self.get(attempt), expected, "{attempt}: {}", self.context());
        self
    }

    /// Refused by Landlock: `EACCES`.
    fn refused_by_landlock(&self, attempt: &str) -> &Self {
        self.assert(attempt, "err:13:PermissionDenied")
    }

    /// Refused by the seccomp filter (or a Landlock scope): `EPERM`.
    fn refused_with_eperm(&self, attempt: &str) -> &Self {
        self.assert(attempt, "err:1:PermissionDenied")
    }

    fn succeeded(&self, attempt: &str) -> &Self {
        self.assert(attempt, "ok")
    }

    fn enforcement(&self) -> serde_json::Value {
        serde_json::from_str(self.get("enforcement")).expect("the report is JSON")
    }

    fn exited_cleanly(&self) -> &Self {
        assert!(self.output.status.success(), "{}", self.context());
        self
    }
}

/// Nobody connected to the listener.
fn assert_no_connection(listener: &TcpListener) {
    listener.set_nonblocking(true).expect("nonblocking");
    match listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("a restricted child connected from {peer}"),
        Err(error) => panic!("accept failed: {error}"),
    }
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener")
}

fn address(listener: &TcpListener) -> String {
    listener.local_addr().expect("local address").to_string()
}

fn write_file(path: PathBuf, contents: &str) {
    std::fs::write(path, contents).expect("write a fixture");
}

// ---------------------------------------------------------------------------------------
// The tests.

fn kernel_has_landlock() {
    let abi = require_landlock();
    assert!(abi >= 4);
}

fn read_only_fs_cannot_write() {
    require_landlock();
    let scratch = Scratch::new("ro-write");
    write_file(scratch.workspace().join("existing.txt"), "original");
    let child = Child::new(CapabilityClass::ReadOnlyFS)
        .scratch(&scratch)
        .env(STRICT, "1")
        .attempts(&[
            "write-new",
            "overwrite",
            "remove",
            "mkdir",
            "handle-write",
            "write-outside",
            "read-inside",
            "handle-read",
            "exec-true",
        ])
        .run();
    child
        .exited_cleanly()
        .refused_by_landlock("write-new")
        .refused_by_landlock("overwrite")
        .refused_by_landlock("remove")
        .refused_by_landlock("mkdir")
        .refused_by_landlock("handle-write")
        .refused_by_landlock("write-outside")
        .refused_with_eperm("exec-true")
        .succeeded("read-inside")
        .succeeded("handle-read");
    let report = child.enforcement();
    assert_eq!(report["restricted"], true);
    assert_eq!(report["filesystem"], "enforced");
    assert_eq!(common::entries(&scratch.workspace()), ["existing.txt"]);
    assert_eq!(
        std::fs::read_to_string(scratch.workspace().join("existing.txt")).expect("read"),
        "original"
    );
    assert!(scratch.outside_entries().is_empty());
}

fn read_only_fs_cannot_read_environ() {
    require_landlock();
    let scratch = Scratch::new("ro-environ");
    Child::new(CapabilityClass::ReadOnlyFS)
        .scratch(&scratch)
        .attempts(&["read-environ", "read-hostname"])
        .run()
        .exited_cleanly()
        .refused_by_landlock("read-environ")
        .refused_by_landlock("read-hostname");
}

fn pure_cannot_read_hostname() {
    require_landlock();
    let child = Child::new(CapabilityClass::Pure)
        .env(STRICT, "1")
        .attempts(&["read-hostname", "read-environ", "list-root", "exec-true"])
        .run();
    child
        .exited_cleanly()
        .refused_by_landlock("read-hostname")
        .refused_by_landlock("read-environ")
        .refused_by_landlock("list-root")
        .refused_with_eperm("exec-true");
    assert_eq!(child.enforcement()["sockets"], "enforced");
}

fn pure_cannot_send_udp() {
    require_landlock();
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    receiver.set_nonblocking(true).expect("nonblocking");
    Child::new(CapabilityClass::Pure)
        .env(UDP, receiver.local_addr().expect("address").to_string())
        .attempts(&["udp-send", "unix-path"])
        .env(UNIX_PATH, "/nonexistent/socket")
        .run()
        .exited_cleanly()
        .refused_with_eperm("udp-send")
        .refused_with_eperm("unix-path");
    let mut buffer = [0; 16];
    let received = receiver.recv(&mut buffer);
    assert!(
        matches!(&received, Err(error) if error.kind() == ErrorKind::WouldBlock),
        "a datagram arrived: {received:?}"
    );
}

fn read_write_fs_cannot_connect_or_spawn() {
    require_landlock();
    let scratch = Scratch::new("rw-tcp");
    let listener = listener();
    Child::new(CapabilityClass::ReadWriteFS)
        .scratch(&scratch)
        .env(STRICT, "1")
        .env(TCP, address(&listener))
        .attempts(&["tcp-connect", "tcp-bind", "exec-true"])
        .run()
        .exited_cleanly()
        // The seccomp filter refuses the socket itself.
        .refused_with_eperm("tcp-connect")
        .refused_with_eperm("tcp-bind")
        .refused_with_eperm("exec-true");
    assert_no_connection(&listener);
}

fn landlock_alone_refuses_tcp() {
    require_landlock();
    let scratch = Scratch::new("rw-tcp-landlock");
    let listener = listener();
    let child = Child::new(CapabilityClass::ReadWriteFS)
        .scratch(&scratch)
        .env(NO_SECCOMP, "1")
        .env(TCP, address(&listener))
        .attempts(&["tcp-connect", "tcp-bind"])
        .run();
    child
        .exited_cleanly()
        .refused_by_landlock("tcp-connect")
        .refused_by_landlock("tcp-bind");
    assert_eq!(child.enforcement()["tcp"], "enforced");
    assert_eq!(child.enforcement()["sockets"], "not_enforced");
    assert_no_connection(&listener);
}

fn read_write_fs_writes_inside_only() {
    require_landlock();
    let scratch = Scratch::new("rw-inside");
    write_file(scratch.workspace().join("existing.txt"), "original");
    Child::new(CapabilityClass::ReadWriteFS)
        .scratch(&scratch)
        .env(STRICT, "1")
        .attempts(&[
            "write-new",
            "handle-write",
            "mkdir",
            "overwrite",
            "write-outside",
            "read-hostname",
        ])
        .run()
        .exited_cleanly()
        .succeeded("write-new")
        .succeeded("handle-write")
        .succeeded("mkdir")
        .succeeded("overwrite")
        .refused_by_landlock("write-outside")
        .refused_by_landlock("read-hostname");
    assert_eq!(
        common::entries(&scratch.workspace()),
        ["escape-handle.txt", "escape.txt", "existing.txt", "new-dir"]
    );
    assert_eq!(
        std::fs::read_to_string(scratch.workspace().join("existing.txt")).expect("read"),
        "overwritten"
    );
    assert!(scratch.outside_entries().is_empty());
}

fn dangling_link_cannot_write_outside() {
    require_landlock();
    let scratch = Scratch::new("rw-dangling");
    symlink(
        scratch.outside().join("created"),
        scratch.workspace().join("dangling"),
    )
    .expect("symlink");
    Child::new(CapabilityClass::ReadWriteFS)
        .scratch(&scratch)
        .attempts(&["write-dangling"])
        .run()
        .exited_cleanly()
        .refused_by_landlock("write-dangling");
    assert!(scratch.outside_entries().is_empty());
}

fn subprocess_runs_programs_inside_only() {
    require_landlock();
    let scratch = Scratch::new("subprocess");
    write_file(scratch.outside().join("secret"), "secret");
    let listener = listener();
    let child = Child::new(CapabilityClass::Subprocess)
        .scratch(&scratch)
        .env(STRICT, "1")
        .env(TCP, address(&listener))
        .attempts(&[
            "exec-true",
            "sh-write-inside",
            "sh-write-outside",
            "sh-read-outside",
            "write-outside",
            "read-outside",
            "read-hostname",
            "tcp-connect",
            "tcp-bind",
        ])
        .run();
    child
        .exited_cleanly()
        .succeeded("exec-true")
        .succeeded("sh-write-inside")
        .succeeded("read-hostname")
        .succeeded("tcp-connect")
        .refused_by_landlock("write-outside")
        .refused_by_landlock("read-outside")
        .refused_by_landlock("tcp-bind");
    // The shell starts, and its redirection or read outside the workspace fails.
    for attempt in ["sh-write-outside", "sh-read-outside"] {
        assert!(
            child.get(attempt).starts_with("exit:"),
            "{attempt}: {}",
            child.context()
        );
    }
    assert_eq!(child.enforcement()["execution"], "granted");
    assert_eq!(common::entries(&scratch.workspace()), ["from-sh.txt"]);
    assert_eq!(scratch.outside_entries(), ["secret"]);
    listener.accept().expect("the subprocess class may connect");
}

fn network_connects_but_touches_no_file() {
    require_landlock();
    let scratch = Scratch::new("network");
    write_file(scratch.workspace().join("existing.txt"), "original");
    let listener = listener();
    let child = Child::new(CapabilityClass::Network)
        .scratch(&scratch)
        .env(STRICT, "1")
        .env(TCP, address(&listener))
        .env(UNIX_PATH, "/nonexistent/socket")
        .attempts(&[
            "tcp-connect",
            "resolve-localhost",
            "udp-bind",
            "tcp-bind",
            "write-new",
            "read-inside",
            "read-hostname",
            "unix-path",
            "exec-true",
        ])
        .run();
    child
        .exited_cleanly()
        .succeeded("tcp-connect")
        .succeeded("resolve-localhost")
        .succeeded("udp-bind")
        .refused_by_landlock("tcp-bind")
        .refused_by_landlock("write-new")
        .refused_by_landlock("read-inside")
        .refused_by_landlock("read-hostname")
        .refused_with_eperm("unix-path")
        .refused_with_eperm("exec-true");
    let (mut stream, _) = listener.accept().expect("the network class may connect");
    let mut received = String::new();
    stream.read_to_string(&mut received).expect("read");
    assert_eq!(received, "hello");
    assert_eq!(common::entries(&scratch.workspace()), ["existing.txt"]);
}

fn scopes_refuse_signals_and_abstract_sockets() {
    let abi = require_landlock();
    assert!(
        abi >= 6,
        "scopes need Landlock ABI 6 (Linux 6.12); this kernel has ABI {abi}"
    );
    let scratch = Scratch::new("scopes");
    let name = format!("cnv-sandbox-escape-{}", std::process::id());
    let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
    let abstract_listener = UnixListener::bind_addr(&address).expect("bind abstract");
    abstract_listener
        .set_nonblocking(true)
        .expect("nonblocking");
    // Subprocess may create any socket: only the Landlock scope stands in the way.
    Child::new(CapabilityClass::Subprocess)
        .scratch(&scratch)
        .env(ABSTRACT, &name)
        .attempts(&["unix-abstract", "signal-parent"])
        .run()
        .exited_cleanly()
        .refused_with_eperm("unix-abstract")
        .refused_with_eperm("signal-parent");
    Child::new(CapabilityClass::Pure)
        .env(ABSTRACT, &name)
        .attempts(&["unix-abstract", "signal-parent"])
        .run()
        .exited_cleanly()
        .refused_with_eperm("unix-abstract")
        .refused_with_eperm("signal-parent");
    assert!(
        matches!(abstract_listener.accept(), Err(error) if error.kind() == ErrorKind::WouldBlock),
        "a restricted child reached the abstract socket"
    );
    // The same child, unrestricted, gets through: the refusals above are the sandbox's.
    Child::new(CapabilityClass::Dangerous)
        .env(ABSTRACT, &name)
        .attempts(&["unix-abstract", "signal-parent"])
        .run()
        .exited_cleanly()
        .succeeded("unix-abstract")
        .succeeded("signal-parent");
}

fn dangerous_is_not_restricted() {
    require_landlock();
    let scratch = Scratch::new("dangerous");
    let child = Child::new(CapabilityClass::Dangerous)
        .scratch(&scratch)
        .env(STRICT, "1")
        .attempts(&["read-hostname", "write-outside", "exec-true"])
        .run();
    child
        .exited_cleanly()
        .succeeded("read-hostname")
        .succeeded("write-outside")
        .succeeded("exec-true");
    let report = child.enforcement();
    assert_eq!(report["restricted"], false);
    assert_eq!(report["filesystem"], "granted");
    assert_eq!(scratch.outside_entries(), ["escape.txt"]);
}

fn restriction_is_per_thread() {
    require_landlock();
    Child::new(CapabilityClass::Pure)
        .env(ON_THREAD, "1")
        .attempts(&["read-hostname", "thread-read-hostname"])
        .run()
        .exited_cleanly()
        // On the restricted worker, and on a thread it started afterwards.
        .refused_by_landlock("read-hostname")
        .refused_by_landlock("thread-read-hostname")
        // The main thread, never restricted, still reads.
        .succeeded("main-read-hostname");
}

fn strict_refuses_on_an_older_abi() {
    require_landlock();
    let scratch = Scratch::new("strict");
    let child = Child::new(CapabilityClass::Network)
        .scratch(&scratch)
        .env(STRICT, "1")
        .env(SIMULATE_ABI, "3")
        .attempts(&["read-hostname"])
        .run();
    child.exited_cleanly().assert("restrict", "not-enforced");
    let report = child.enforcement();
    assert_eq!(report["restricted"], false);
    assert_eq!(report["applied_abi"], 3);
    assert_eq!(report["tcp"], "not_enforced");
    // Refused before restricting: the thread was left as it was.
    child.succeeded("read-hostname");
}

fn best_effort_reports_gaps() {
    require_landlock();
    let scratch = Scratch::new("best-effort");
    let listener = listener();
    let child = Child::new(CapabilityClass::ReadWriteFS)
        .scratch(&scratch)
        .env(SIMULATE_ABI, "3")
        .env(NO_SECCOMP, "1")
        .env(TCP, address(&listener))
        .attempts(&["tcp-connect", "write-outside", "write-new"])
        .run();
    let report = child.enforcement();
    assert_eq!(report["restricted"], true);
    assert_eq!(report["simulated"], true);
    assert_eq!(report["filesystem"], "partial");
    assert_eq!(report["tcp"], "not_enforced");
    assert!(
        report["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .any(|gap| gap.as_str().is_some_and(|gap| gap.contains("TCP"))),
        "{report}"
    );
    // What the report says is open is open; what ABI 3 enforces still holds.
    child
        .exited_cleanly()
        .succeeded("tcp-connect")
        .refused_by_landlock("write-outside")
        .succeeded("write-new");
    listener.accept().expect("the gap is real");
    assert!(scratch.outside_entries().is_empty());
}

fn without_landlock_nothing_is_enforced() {
    require_landlock();
    let child = Child::new(CapabilityClass::Pure)
        .env(SIMULATE_ABI, "0")
        .env(NO_SECCOMP, "1")
        .attempts(&["read-hostname"])
        .run();
    let report = child.enforcement();
    assert_eq!(report["applied_abi"], 0);
    assert_eq!(report["filesystem"], "not_enforced");
    assert_eq!(report["execution"], "not_enforced");
    assert_eq!(report["sockets"], "not_enforced");
    child.exited_cleanly().succeeded("read-hostname");
}

fn known_gap_environment_in_memory() {
    require_landlock();
    Child::new(CapabilityClass::Pure)
        .attempts(&["env-secret", "read-environ"])
        .run()
        .exited_cleanly()
        // In memory: no kernel can hide it (see the crate documentation).
        .succeeded("env-secret")
        // Through the file system: closed.
        .refused_by_landlock("read-environ");
}

fn unix_sockets_by_path_are_refused() {
    require_landlock();
    let scratch = Scratch::new("unix-path");
    let path = scratch.outside().join("socket");
    let unix_listener = UnixListener::bind(&path).expect("bind a unix socket");
    unix_listener.set_nonblocking(true).expect("nonblocking");
    // Landlock controls connecting to a socket by path from ABI 9 on; below it the seccomp
    // filter refuses unix sockets by domain, for `Subprocess` (and the programs it runs)
    // as for every class whose sockets are filtered. Only `Dangerous` reaches one.
    for class in [CapabilityClass::Subprocess, CapabilityClass::ReadWriteFS] {
        Child::new(class)
            .scratch(&scratch)
            .env(UNIX_PATH, &path)
            .attempts(&["unix-path"])
            .run()
            .exited_cleanly()
            .refused_with_eperm("unix-path");
    }
    match unix_listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        other => panic!("a confined child reached the unix socket: {other:?}"),
    }
}

fn memory_limit_refuses_large_allocations() {
    let limited = Child::new(CapabilityClass::Pure)
        .role("memory")
        .env(MODE, "Instant")
        .run();
    limited
        .exited_cleanly()
        .succeeded("reserve-1-mib")
        .assert("reserve-64-mib", "refused");
    let baseline: u64 = limited.get("baseline").parse().expect("a number");
    assert!(baseline > 0);
    println!("a Rust test process's address space when it set the limit: {baseline} bytes");
    Child::new(CapabilityClass::Pure)
        .role("memory")
        .env(MODE, "Cold")
        .run()
        .exited_cleanly()
        .succeeded("reserve-1-mib")
        .succeeded("reserve-64-mib");
}

// ---------------------------------------------------------------------------------------
// The child side: restrict, try, report.

mod child {
    use super::*;

    pub(super) fn run(role: &str) -> ExitCode {
        let class: CapabilityClass = var(CLASS)
            .and_then(|class| class.parse().ok())
            .expect("CNV_ESCAPE_CLASS names a class");
        match role {
            "attempts" => attempts(class),
            "memory" => memory(),
            other => panic!("unknown child role {other}"),
        }
        ExitCode::SUCCESS
    }

    fn var(key: &str) -> Option<String> {
        std::env::var(key).ok()
    }

    fn path(key: &str) -> PathBuf {
        var(key).unwrap_or_else(|| panic!("{key} is set")).into()
    }

    fn report(name: &str, outcome: &str) {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{name}={outcome}").expect("write to stdout");
        stdout.flush().expect("flush stdout");
    }

    fn outcome<T>(result: std::io::Result<T>) -> String {
        match result {
            Ok(_) => "ok".to_owned(),
            Err(error) => format!(
                "err:{}:{:?}",
                error.raw_os_error().unwrap_or(-1),
                error.kind()
            ),
        }
    }

    fn exit_status(result: std::io::Result<std::process::ExitStatus>) -> String {
        match result {
            Ok(status) if status.success() => "ok".to_owned(),
            Ok(status) => format!("exit:{status}"),
            Err(error) => outcome::<()>(Err(error)),
        }
    }

    fn restrict(class: CapabilityClass, workspace: Option<&Workspace>) -> bool {
        let mut sandbox = Sandbox::new(class);
        if let Some(workspace) = workspace {
            sandbox = sandbox.workspace(workspace);
        }
        if var(STRICT).is_some() {
            sandbox = sandbox.strictness(Strictness::Strict);
        }
        if let Some(abi) = var(SIMULATE_ABI) {
            sandbox = sandbox.simulate_abi(abi.parse().expect("an ABI number"));
        }
        if var(NO_SECCOMP).is_some() {
            sandbox = sandbox.without_seccomp();
        }
        match sandbox.restrict_current_thread() {
            Ok(enforcement) => {
                report("restrict", "ok");
                report(
                    "enforcement",
                    &serde_json::to_string(&enforcement).expect("serialize"),
                );
                true
            }
            Err(SandboxError::NotEnforced {
                report: enforcement,
            }) => {
                report("restrict", "not-enforced");
                report(
                    "enforcement",
                    &serde_json::to_string(&enforcement).expect("serialize"),
                );
                false
            }
            Err(error) => panic!("cannot restrict the child: {error}"),
        }
    }

    fn attempts(class: CapabilityClass) {
        let workspace =
            var(WORKSPACE).map(|path| Workspace::open(path).expect("open the workspace"));
        let attempts: Vec<String> = std::env::args().skip(1).collect();
        if var(ON_THREAD).is_some() {
            // A worker restricted as the class, the way a server runs calls.
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    restrict(class, workspace.as_ref());
                    for attempt in &attempts {
                        report(attempt, &try_one(attempt, workspace.as_ref()));
                    }
                });
            });
            report(
                "main-read-hostname",
                &try_one("read-hostname", workspace.as_ref()),
            );
        } else {
            restrict(class, workspace.as_ref());
            for attempt in &attempts {
                report(attempt, &try_one(attempt, workspace.as_ref()));
            }
        }
    }

    fn try_one(attempt: &str, workspace: Option<&Workspace>) -> String {
        let ws = || path(WORKSPACE);
        match attempt {
            "write-new" => outcome(std::fs::write(ws().join("escape.txt"), "escape")),
            "overwrite" => outcome(
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(ws().join("existing.txt"))
                    .and_then(|mut file| file.write_all(b"overwritten")),
            ),
            "remove" => outcome(std::fs::remove_file(ws().join("existing.txt"))),
            "mkdir" => outcome(std::fs::create_dir(ws().join("new-dir"))),
            "handle-write" => outcome(
                workspace
                    .expect("a workspace")
                    .dir()
                    .write("escape-handle.txt", "escape"),
            ),
            "handle-read" => outcome(
                workspace
                    .expect("a workspace")
                    .read_only()
                    .read_to_string("existing.txt"),
            ),
            "read-inside" => outcome(std::fs::read(ws().join("existing.txt"))),
            "write-outside" => outcome(std::fs::write(path(OUTSIDE).join("escape.txt"), "x")),
            "read-outside" => outcome(std::fs::read(path(OUTSIDE).join("secret"))),
            "write-dangling" => outcome(std::fs::write(ws().join("dangling"), "escape")),
            "read-hostname" => outcome(std::fs::read("/etc/hostname")),
            "read-environ" => outcome(std::fs::read("/proc/self/environ")),
            "list-root" => outcome(std::fs::read_dir("/")),
            "env-secret" => match std::env::var(SECRET) {
                Ok(secret) if secret == "hunter2" => "ok".to_owned(),
                other => format!("missing: {other:?}"),
            },
            "exec-true" => exit_status(Command::new("/bin/true").status()),
            "sh-write-inside" => exit_status(
                Command::new("/bin/sh")
                    .args(["-c", "echo inside > \"$1\"", "sh"])
                    .arg(ws().join("from-sh.txt"))
                    .status(),
            ),
            "sh-write-outside" => exit_status(
                Command::new("/bin/sh")
                    .args(["-c", "echo outside > \"$1\"", "sh"])
                    .arg(path(OUTSIDE).join("from-sh.txt"))
                    .stderr(std::process::Stdio::null())
                    .status(),
            ),
            "sh-read-outside" => exit_status(
                Command::new("/bin/sh")
                    .args(["-c", "cat \"$1\"", "sh"])
                    .arg(path(OUTSIDE).join("secret"))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status(),
            ),
            "tcp-connect" => outcome(
                TcpStream::connect(var(TCP).expect("a TCP address"))
                    .and_then(|mut stream| stream.write_all(b"hello")),
            ),
            "tcp-bind" => outcome(TcpListener::bind("127.0.0.1:0")),
            "udp-bind" => outcome(UdpSocket::bind("127.0.0.1:0")),
            "udp-send" => outcome(
                UdpSocket::bind("127.0.0.1:0")
                    .and_then(|socket| socket.send_to(b"escape", var(UDP).expect("a UDP address"))),
            ),
            "unix-path" => outcome(UnixStream::connect(path(UNIX_PATH))),
            "unix-abstract" => {
                let name = var(ABSTRACT).expect("an abstract name");
                outcome(
                    SocketAddr::from_abstract_name(name.as_bytes())
                        .and_then(|address| UnixStream::connect_addr(&address)),
                )
            }
            "signal-parent" => {
                let parent = i32::try_from(std::os::unix::process::parent_id())
                    .ok()
                    .and_then(rustix::process::Pid::from_raw)
                    .expect("a parent process");
                outcome(rustix::process::test_kill_process(parent).map_err(std::io::Error::from))
            }
            "resolve-localhost" => outcome(("localhost", 80).to_socket_addrs()),
            "thread-read-hostname" => {
                std::thread::spawn(|| outcome(std::fs::read("/etc/hostname")))
                    .join()
                    .expect("the thread")
            }
            other => panic!("unknown attempt {other}"),
        }
    }

    /// Limits memory to a band (`CNV_ESCAPE_MODE` names it) and reserves 1 and 64 MiB.
    fn memory() {
        let band: ResourceBand = var(MODE)
            .and_then(|band| band.parse().ok())
            .expect("a band");
        let limit = limit_memory(band).expect("limit memory");
        if let Some(limit) = limit {
            report("baseline", &limit.baseline_bytes.to_string());
        }
        for (name, mib) in [("reserve-1-mib", 1), ("reserve-64-mib", 64)] {
            let mut buffer: Vec<u8> = Vec::new();
            let result = buffer.try_reserve_exact(mib << 20);
            report(name, if result.is_ok() { "ok" } else { "refused" });
        }
    }
}
