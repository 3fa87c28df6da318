//! What the sandbox costs a command.
//!
//! Group `sandbox/restrict_thread`: a thread is started, restricted to a class (one
//! Landlock ruleset, the seccomp filter of its sockets) and joined (cnv), beside a
//! thread started and joined alone (the peer): the difference is the restriction. The
//! kernel probe is done once per process and is not in these rows.
//!
//! Group `sandbox/process`: the program `sandboxed-exit` from start to exit, sandboxed
//! the way a command-line program is before its handler (workspace opened, the
//! Landlock probe, memory limited, thread restricted) beside the same
//! program exiting at once, and, to tell the layers' costs apart, sandboxed with
//! Landlock alone.

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::thread;

use cnv::CapabilityClass;
use cnv_sandbox::{Strictness, Workspace, probe, restrict_current_thread};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const PROGRAM: &str = env!("CARGO_BIN_EXE_sandboxed-exit");

fn workspace_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-bench-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the bench workspace");
    dir
}

fn restrict_thread(c: &mut Criterion) {
    let dir = workspace_dir();
    let workspace = Workspace::open(&dir).expect("open the workspace");
    // The probe runs once per process; leave it out of the rows.
    black_box(probe());
    let mut group = c.benchmark_group("sandbox/restrict_thread");
    for &class in CapabilityClass::ALL {
        group.bench_with_input(
            BenchmarkId::new("cnv spawn + restrict_current_thread", class),
            &class,
            |b, &class| {
                b.iter(|| {
                    thread::scope(|scope| {
                        scope
                            .spawn(|| {
                                restrict_current_thread(
                                    class,
                                    Some(&workspace),
                                    Strictness::BestEffort,
                                )
                                .expect("restrict")
                            })
                            .join()
                            .expect("the thread")
                    })
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("spawn alone", class),
            &class,
            |b, &class| {
                b.iter(|| {
                    thread::scope(|scope| {
                        scope.spawn(|| black_box(class)).join().expect("the thread")
                    })
                });
            },
        );
    }
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

fn process(c: &mut Criterion) {
    let dir = workspace_dir();
    let mut group = c.benchmark_group("sandbox/process");
    let run = |args: &[&std::ffi::OsStr]| {
        let status = Command::new(PROGRAM)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run sandboxed-exit");
        assert!(status.success(), "sandboxed-exit failed: {status}");
    };
    for class in [CapabilityClass::Pure, CapabilityClass::ReadWriteFS] {
        let name = class.name();
        group.bench_with_input(BenchmarkId::new("cnv sandboxed", class), &class, |b, _| {
            b.iter(|| run(&[name.as_ref(), dir.as_os_str()]));
        });
        group.bench_with_input(
            BenchmarkId::new("sandboxed, Landlock only (no seccomp)", class),
            &class,
            |b, _| {
                b.iter(|| run(&[name.as_ref(), dir.as_os_str(), "landlock-only".as_ref()]));
            },
        );
        group.bench_with_input(BenchmarkId::new("plain", class), &class, |b, _| {
            b.iter(|| run(&[]));
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, restrict_thread, process);
criterion_main!(benches);
