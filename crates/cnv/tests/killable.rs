//! Every call is killable, bounded and accounted for: the `workbench` example run as a
//! hostile agent runs it, with only its arguments, each attack in the way it was made
//! when handlers ran on threads that could not be stopped. Each test fails loudly if its
//! attack works again.
//!
//! A handler runs in a worker process confined to its class; these tests prove what that
//! buys: an overrun is killed with everything it started, no program outlives its call,
//! the budgets hold (processes, bytes written, the answer's size, memory), serving is the
//! operator's, no unix socket outside is reached, no other process is read, and every try
//! leaves a trace.
//!
//! They need Landlock (ABI 4 or later) and, for the process budget, a `pids` cgroup the
//! tests' user may create (root on cgroup v1, as here and in CI): they fail, never skip,
//! without them.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cnv::sandbox::LandlockStatus;
use serde_json::Value;

mod common;

fn require_landlock() {
    match cnv::sandbox::probe() {
        LandlockStatus::Available { abi } if abi >= 4 => {}
        status => panic!(
            "these tests need Landlock ABI 4 or later, and this kernel offers {status:?}: run them on a kernel with Landlock enabled; they are never skipped"
        ),
    }
}

/// A fresh directory for one test, with a workspace in it.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-killable-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("workspace")).expect("scratch dir");
        Self { dir }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.join("workspace")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    /// The workbench as an operator launches it for an agent here: this workspace, this
    /// audit log, agent mode, and `extra`.
    fn agent(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut operator = vec![("CNV_AGENT", "1")];
        operator.extend_from_slice(extra);
        self.launch(args, &operator)
    }

    /// The workbench as a person runs it here (no agent mode), with `extra`.
    fn person(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        self.launch(args, extra)
    }

    fn launch(&self, args: &[&str], operator: &[(&str, &str)]) -> Output {
        let mut command = Command::new(common::example("workbench"));
        command
            .args(args)
            .env_remove("CNV_AGENT")
            .env_remove("CNV_SANDBOX")
            .env_remove("CNV_BUDGET")
            .env_remove("CNV_AUDIT_KEY")
            .env("CNV_WORKSPACE", self.workspace())
            .env("CNV_AUDIT_LOG", self.log())
            .stdin(Stdio::null());
        for (name, value) in operator {
            command.env(name, value);
        }
        command.output().expect("the example runs")
    }

    /// The `finish` entries of the audit log, in order.
    fn finishes(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .filter(|entry| entry["event"] == "finish")
            .collect()
    }

    /// The processes of this machine whose working directory is in this test's
    /// workspace: a worker, or a program a handler started, that outlived its call.
    fn survivors(&self) -> Vec<String> {
        let workspace = std::fs::canonicalize(self.workspace()).expect("the workspace");
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) else {
                continue;
            };
            if cwd.starts_with(&workspace) {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                found.push(format!(
                    "{pid}: {}",
                    String::from_utf8_lossy(&cmdline).replace('\0', " ")
                ));
            }
        }
        found
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn a_call_blocked_past_its_band_is_killed_with_its_worker() {
    require_landlock();
    let scratch = Scratch::new("fifo");
    let fifo = scratch.workspace().join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "a FIFO in the workspace");
    // Reading a FIFO nobody writes blocks for ever: the thread that used to run it could
    // not be stopped, and every such call left one behind.
    for _ in 0..3 {
        let out = scratch.agent(&["file", "read", "fifo"], &[]);
        let stderr = text(&out.stderr);
        assert_eq!(code(&out), Some(5), "{stderr}");
        assert!(
            stderr.contains("it was killed") && stderr.contains("with every process it started"),
            "{stderr}"
        );
    }
    assert_eq!(
        scratch.survivors(),
        Vec::<String>::new(),
        "nothing outlived the calls"
    );
    let finishes = scratch.finishes();
    assert_eq!(finishes.len(), 3, "{finishes:?}");
    for finish in &finishes {
        assert_eq!(finish["result"]["status"], "overrun", "{finish}");
        let message = finish["result"]["message"].as_str().expect("a message");
        assert!(
            message.starts_with("killed "),
            "the trail says what happened: {message}"
        );
        assert!(message.contains("past its band's 1000 ms"), "{message}");
    }
}

#[test]
fn the_band_s_time_runs_from_the_call_s_arrival() {
    require_landlock();
    let scratch = Scratch::new("arrival");
    // An `Instant` verb (100 ms) whose arguments alone take longer than that to parse,
    // check and record: it used to be recorded as "ran" after 1.37 s.
    let numbers = vec!["1"; 100_000];
    let mut args = vec!["calc", "sum"];
    args.extend(numbers.iter().copied());
    let out = scratch.agent(&args, &[]);
    assert_eq!(code(&out), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty(), "no sum is reported");
    let finishes = scratch.finishes();
    assert_eq!(finishes.len(), 1);
    assert_eq!(
        finishes[0]["result"]["status"], "overrun",
        "{}",
        finishes[0]
    );
}

#[test]
fn a_program_a_call_started_never_outlives_the_call() {
    require_landlock();
    let scratch = Scratch::new("late");
    // The program answers at once and leaves a child behind that writes later.
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "(sleep 1; echo late > late.txt) >/dev/null 2>&1 & echo started",
        ],
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "started\n");
    assert_eq!(
        scratch.survivors(),
        Vec::<String>::new(),
        "the child was killed with the call"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !scratch.workspace().join("late.txt").exists(),
        "nothing wrote after the call"
    );
}

#[test]
fn an_overrunning_program_is_killed_with_its_children() {
    require_landlock();
    let scratch = Scratch::new("overrun");
    // `proc run` is a `Medium` verb (10 s): past it, the program and its child die.
    let started = Instant::now();
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "sleep 30 & sleep 11; echo late > late.txt",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), Some(5), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it did not run to its end"
    );
    assert_eq!(
        scratch.survivors(),
        Vec::<String>::new(),
        "no process outlived the call"
    );
    assert!(!scratch.workspace().join("late.txt").exists());
    let finishes = scratch.finishes();
    assert_eq!(finishes[0]["result"]["status"], "overrun");
}

#[test]
fn a_fork_bomb_is_bounded_by_the_process_budget() {
    require_landlock();
    let scratch = Scratch::new("forks");
    let out = scratch.person(
        &[
            "--yes",
            "--format",
            "json",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "n=0; while [ $n -lt 200 ]; do sleep 5 & n=$((n+1)); done; echo all started",
        ],
        &[("CNV_BUDGET", "medium.processes=16")],
    );
    let stdout = text(&out.stdout);
    let answer: Value = serde_json::from_str(&stdout).expect("one JSON object");
    let gaps = answer["sandbox"]["gaps"].to_string();
    assert!(
        !gaps.contains("process-count budget"),
        "no pids cgroup could be made for the worker, so the process budget is not enforced on this machine (run the tests as root on cgroup v1, or with a delegated cgroup): {gaps}"
    );
    assert_eq!(code(&out), Some(1), "{stdout}");
    assert_ne!(
        answer["result"], "all started\n",
        "200 processes started: {stdout}"
    );
    let console = answer["console"].as_str().unwrap_or_default();
    assert!(
        console.contains("fork"),
        "the shell says it could not fork: {stdout}"
    );
    assert_eq!(scratch.survivors(), Vec::<String>::new());
}

#[test]
fn writes_past_the_written_bytes_budget_are_stopped() {
    require_landlock();
    let scratch = Scratch::new("written");
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "head -c 4194304 /dev/zero > big.bin",
        ],
        &[("CNV_BUDGET", "medium.written=1MiB")],
    );
    assert_eq!(code(&out), Some(1), "{}", text(&out.stderr));
    let size = std::fs::metadata(scratch.workspace().join("big.bin"))
        .map(|meta| meta.len())
        .unwrap_or(0);
    assert!(
        size <= 1 << 20,
        "{size} bytes were written past a 1 MiB budget"
    );
}

#[test]
fn an_answer_over_its_budget_is_refused_before_it_is_read() {
    require_landlock();
    let scratch = Scratch::new("answer");
    // 2 MiB of text: the worker can read it (the `Fast` band's memory is 100 MiB), and
    // its answer is over the 1 MiB the operator lowered the band's answer to (the band's
    // own 8 MiB takes longer to read than a `Fast` second on a loaded machine).
    let big = scratch.workspace().join("big.txt");
    std::fs::write(&big, "x".repeat(2 << 20)).expect("a big file");
    let out = scratch.agent(
        &["file", "read", "big.txt"],
        &[("CNV_BUDGET", "fast.output=1MiB")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing of it was printed");
    assert!(
        stderr.contains("over the 1048576-byte answer budget"),
        "{stderr}"
    );
    // 110 MB, which once answered 1,384 MB over MCP: past the worker's memory budget, it
    // is refused without reaching the command line's memory at all.
    let huge = std::fs::File::create(scratch.workspace().join("huge.txt")).expect("a file");
    huge.set_len(110_000_000).expect("a sparse 110 MB file");
    let out = scratch.agent(&["file", "read", "huge.txt"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("memory"),
        "the error says memory ran out: {stderr}"
    );
}

#[test]
fn serving_is_the_operator_s_and_refused_in_agent_mode() {
    require_landlock();
    let scratch = Scratch::new("serve");
    for args in [
        &["--mcp-serve-http", "127.0.0.1:0"][..],
        &["--mcp-serve"],
        &["--agent", "--mcp-serve"],
    ] {
        let out = if args[0] == "--agent" {
            scratch.person(args, &[])
        } else {
            scratch.agent(args, &[])
        };
        assert_eq!(code(&out), Some(2), "{args:?}: {}", text(&out.stderr));
    }
    let finishes = scratch.finishes();
    assert_eq!(
        finishes.len(),
        3,
        "each refusal is in the trail: {finishes:?}"
    );
    for finish in &finishes {
        assert_eq!(finish["result"]["status"], "invalid", "{finish}");
        let argv = finish["call"]["args"]["argv"].to_string();
        assert!(argv.contains("--mcp-serve"), "{argv}");
    }
}

#[test]
fn an_agent_s_usage_error_is_audited_as_an_invalid_call() {
    let scratch = Scratch::new("usage");
    let out = scratch.agent(&["file", "read", "notes.txt", "--bogus", "rm -rf /"], &[]);
    assert_eq!(code(&out), Some(2));
    let finishes = scratch.finishes();
    assert_eq!(finishes.len(), 1, "{finishes:?}");
    assert_eq!(finishes[0]["result"]["status"], "invalid");
    assert_eq!(finishes[0]["result"]["exit_code"], 2);
    assert_eq!(finishes[0]["call"]["command"], "file read notes.txt");
    assert!(
        finishes[0]["call"]["args"]["argv"]
            .to_string()
            .contains("rm -rf /")
    );
    // A person's typo is not an agent's try: nothing is recorded.
    let out = scratch.person(&["file", "read", "--bogus"], &[]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(scratch.finishes().len(), 1);
}

#[test]
fn no_program_reaches_a_unix_socket_outside_the_workspace() {
    require_landlock();
    let scratch = Scratch::new("unix");
    let path = scratch.dir.join("outside.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("a unix socket");
    listener.set_nonblocking(true).expect("nonblocking");
    // A `docker.sock` or an ssh agent's socket, in a directory outside the workspace.
    let connect = format!(
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect({:?}); print('CONNECTED')",
        path.display().to_string()
    );
    let out = scratch.person(
        &["--yes", "proc", "run", "--", "python3", "-c", &connect],
        &[],
    );
    assert_eq!(code(&out), Some(1), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("CONNECTED"));
    assert!(
        text(&out.stderr).contains("Operation not permitted"),
        "{}",
        text(&out.stderr)
    );
    match listener.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a program reached the socket: {other:?}"),
    }
}

#[test]
fn no_program_reads_another_process_s_environment() {
    require_landlock();
    let scratch = Scratch::new("environ");
    // A process of the same user, with a secret in its environment.
    let mut victim = Command::new("sleep")
        .arg("30")
        .env("CNV_TEST_SECRET", "hunter2-environ")
        .spawn()
        .expect("a victim process");
    let environ = format!("/proc/{}/environ", victim.id());
    let status = format!("/proc/{}/status", victim.id());
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            &format!("cat {environ}; cat {status}; ls /proc"),
        ],
        &[],
    );
    let _ = victim.kill();
    let _ = victim.wait();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{stdout}{stderr}"
    );
    assert!(
        !stdout.contains("sleep"),
        "the victim is not even visible: {stdout}"
    );
    assert!(stderr.contains(&environ), "reading it failed: {stderr}");
}

#[test]
fn a_program_s_home_is_the_workspace_and_nothing_of_the_launcher_s_environment() {
    require_landlock();
    let scratch = Scratch::new("home");
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "echo \"home=$HOME tmp=$TMPDIR leak=$CNV_TEST_LEAK log=$CNV_AUDIT_LOG\"",
        ],
        &[("CNV_TEST_LEAK", "from-the-launcher")],
    );
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    let workspace = scratch.workspace();
    let workspace = workspace.display();
    assert_eq!(
        text(&out.stdout),
        format!("home={workspace} tmp={workspace} leak= log=\n")
    );
}

#[test]
fn a_handler_s_console_is_captured_escaped_and_recorded() {
    require_landlock();
    let scratch = Scratch::new("console");
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "printf '\\033[2J\\033]0;owned\\007warning\\n' >&2; echo done",
        ],
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "done\n");
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "raw: {stderr:?}"
    );
    assert!(
        stderr.contains("\\u{001b}[2J") && stderr.contains("warning"),
        "{stderr}"
    );
    let finishes = scratch.finishes();
    let console = finishes[0]["console"]
        .as_str()
        .expect("the console is recorded");
    assert!(
        console.contains("\\u{001b}[2J") && console.contains("warning"),
        "{console}"
    );
}

#[test]
fn budgets_that_do_not_read_are_a_clear_error_and_nothing_runs() {
    // The launcher's budgets are the operator's: one that does not read refuses the call
    // with a message that names it, and the workspace is untouched.
    let scratch = Scratch::new("budget");
    let out = scratch.person(
        &["--yes", "file", "write", "a.txt", "--content", "x"],
        &[("CNV_BUDGET", "fast.memory=lots")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), Some(1), "{stderr}");
    assert!(
        stderr.contains("CNV_BUDGET") && stderr.contains("fast.memory=lots"),
        "{stderr}"
    );
    assert!(!scratch.workspace().join("a.txt").exists());
}

#[test]
fn a_program_s_errors_keep_their_lines() {
    require_landlock();
    let scratch = Scratch::new("lines");
    let out = scratch.person(
        &[
            "--yes",
            "proc",
            "run",
            "--",
            "sh",
            "-c",
            "echo 'fatal: one' >&2; echo 'hint: two' >&2; exit 3",
        ],
        &[],
    );
    assert_eq!(code(&out), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("\\u{000a}"),
        "line feeds shown as escapes: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.contains(&"  | fatal: one"), "{stderr}");
    assert!(lines.contains(&"  | hint: two"), "{stderr}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("error: `proc run` failed")),
        "{stderr}"
    );
}
