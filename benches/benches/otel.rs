//! What traces and metrics cost a call: exporting on against off.
//!
//! * `otel/dispatch` — one call of an agent-safe verb through `Cli::run_in` with the
//!   sandbox off (parse, gate, audit, handler: the cheapest call, so the one where
//!   tracing weighs most), first with exporting off (the process's variables name no
//!   endpoint: each call checks one flag), then on, exporting to a collector on loopback
//!   that answers every request (six spans and a count per call, handed to the SDK's
//!   batch thread, which sends them while the bench goes on). Exporting starts once in a
//!   process and is never switched off, so the off row runs first.
//! * `otel/process` — a whole command-line call, from the process's start to its exit
//!   (the `cli-process` program, `calc sum 1 2 3`, its handler in a confined worker
//!   process), without the endpoint variable and with it: then the process also starts
//!   the exporters and, before it exits, sends its spans and metrics to the collector and
//!   waits for its answers. Criterion measures one after the other, so before the group
//!   the bench also runs them interleaved (rounds of 20 calls to each in turn, 15 rounds)
//!   and prints each one's median time per call and their ratio.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use cnv::cli::Console;
use cnv::prelude::*;
use cnv::telemetry;
use criterion::{Criterion, criterion_group, criterion_main};

grammar_dsl! {
    static GRAMMAR = app "bench" version "1.0.0" {
        noun "calc" help "Arithmetic" {
            verb "sum" {
                capability: Pure, resource: Instant, help: "Adds numbers",
                args: [numbers: Vec<f64> "The numbers"],
            }
        }
    }
}

fn sum(args: calc::Sum) -> Result<Output, HandlerError> {
    Ok(Output::text(args.numbers.iter().sum::<f64>().to_string()))
}

/// A collector on loopback that answers every request 200 (and decodes nothing): the
/// exporter's side of the wire, at loopback speed. Its base URL.
fn collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    url
}

/// Reads each request's head and body and answers it, until the client closes.
fn answer(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let _ = writer.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
        );
    }
}

fn dispatch(c: &mut Criterion) {
    let cli = Cli::builder(&GRAMMAR)
        .without_sandbox()
        .bind(sum)
        .build()
        .expect("a valid grammar");
    let argv = ["bench", "calc", "sum", "1", "2", "3"];
    let mut call = || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let exit = cli.run_in(black_box(argv), &mut Console::for_tests(&mut out, &mut err));
        assert_eq!(exit, Exit::Success);
        black_box(out)
    };
    let mut group = c.benchmark_group("otel/dispatch");
    assert!(
        std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none(),
        "the off row needs a process whose variables name no endpoint"
    );
    group.bench_function(
        "exporting off (Cli::run_in, sandbox off: parse, gate, audit, handler)",
        |b| b.iter(&mut call),
    );
    assert!(!telemetry::is_on());
    telemetry::start_with_endpoint("bench", &collector()).expect("exporting starts");
    group.bench_function(
        "cnv, exporting on (the same call, its spans and metrics to a loopback collector)",
        |b| b.iter(&mut call),
    );
    group.finish();
}

/// The `cli-process` program, which cargo builds for the benches.
const CLI_PROCESS: &str = env!("CARGO_BIN_EXE_cli-process");

fn process(c: &mut Criterion) {
    let workspace = std::env::temp_dir().join(format!("cnv-bench-otel-{}", std::process::id()));
    std::fs::create_dir_all(&workspace).expect("a workspace");
    let url = collector();
    let run = |exporting: bool| {
        let mut command = std::process::Command::new(CLI_PROCESS);
        command
            .args(["calc", "sum", "1", "2", "3"])
            .env("CNV_WORKSPACE", &workspace)
            .env_remove("CNV_AGENT")
            .env_remove("CNV_AUDIT_LOG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env_remove("OTEL_SDK_DISABLED")
            .stdin(std::process::Stdio::null());
        if exporting {
            command.env("OTEL_EXPORTER_OTLP_ENDPOINT", &url);
        }
        let out = command.output().expect("cli-process runs");
        assert!(
            out.status.success(),
            "cli-process: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        black_box(out.stdout)
    };
    const ROUNDS: usize = 15;
    const CALLS: u32 = 20;
    let mut on = Vec::with_capacity(ROUNDS);
    let mut off = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        for (exporting, times) in [(true, &mut on), (false, &mut off)] {
            let started = std::time::Instant::now();
            for _ in 0..CALLS {
                run(exporting);
            }
            times.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS));
        }
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (on, off) = (median(&mut on), median(&mut off));
    println!(
        "otel/process interleaved (median of {ROUNDS} rounds of {CALLS} calls): exporting on {on:.1} µs, off {off:.1} µs: {:.2}×",
        on / off
    );
    let mut group = c.benchmark_group("otel/process");
    group.sample_size(30);
    group.bench_function(
        "cnv, exporting on (spans and metrics sent to a loopback collector before exit)",
        |b| b.iter(|| run(true)),
    );
    group.bench_function("exporting off (no endpoint variable)", |b| {
        b.iter(|| run(false));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&workspace);
}

criterion_group!(benches, dispatch, process);
criterion_main!(benches);
