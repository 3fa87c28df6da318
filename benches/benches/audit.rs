//! What an audited decision costs in the operator's log, per entry: the entry built,
//! encoded (escaping control characters), hashed into the chain, written to the file
//! under its lock, and flushed — and, at a checkpoint, signed with ed25519 and the head
//! beside the log rewritten.
//!
//! Group `audit/entry` appends one decision (an escalation refused by the policy, with
//! its rule and message) per iteration to a log on disk:
//!
//! * `cnv: chained, signed at each call's end` — the subject, what an `AuditLog` with a
//!   key does: every fourth entry ends a call (`Finish`) and is a signed checkpoint, as
//!   in a command-line call of four entries (created, verified, escalated, finished);
//! * `cnv: chained, signed every entry` — the cadence not chosen: a checkpoint after
//!   every entry;
//! * `cnv: chained, unsigned` — an `AuditLog` without a key (the head is still written
//!   at each call's end);
//! * `same bytes, unhashed (write + flush)` — the peer: the same entry built and
//!   encoded by plain `serde_json`, written to an append-mode file and flushed, with no
//!   chain, lock, hash or signature.
//!
//! Each sample writes a fresh log, so the files stay small.
//!
//! Group `audit/verify` reads back a log of 1,000 lines with `ChainReader` (every line's
//! hash, link and number checked), signed at each call's end or not: verification is
//! what the operator pays for each signature again, at about twice the cost of making
//! it.
//!
//! Group `audit/witness` times a call (five entries, two of them signed) to a signed log
//! whose checkpoints a witness on loopback cosigns (a `Witness` served by a thread of
//! the bench), per call:
//!
//! * `cnv: … every 100 ms at most` — the subject, the cadence chosen
//!   (`DEFAULT_WITNESS_INTERVAL`): the log's thread submits at a call's end, at most one
//!   round per 100 ms;
//! * `… every call's end` — rounds back to back, as many as the witness answers;
//! * `… its tree kept, submitted once an hour` — what the Merkle tree costs alone;
//! * `… before it returns` — the call waits for the witness (what a command line pays
//!   once, at its exit);
//! * `… not witnessed` — the same calls to a signed log without witnesses.
//!
//! Each sample alternates chunks of 20 calls to its own log with as many to a log of the
//! other kind of its pair (the subject's with the unwitnessed, and back), timing only its
//! own: the machine is shared, and its load drifts between two rows run one after the
//! other by more than witnessing costs.
//!
//! Group `audit/tlog` is a million-line log's tree: its frontier and its root computed
//! once, an inclusion proof (what `cnv-audit prove` computes), a consistency proof from
//! a frontier (what a writer sends a witness), and checking each. The sizes of a
//! checkpoint and of the proofs at a million lines are printed to standard error.

use std::fs::{self, OpenOptions};
use std::hint::black_box;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::net::TcpListener;

use cnv::audit::merkle::{self, Frontier, Hash};
use cnv::audit::{
    AuditEntry, AuditKey, AuditLog, AuditSink, CallResult, ChainReader, DEFAULT_WITNESS_INTERVAL,
    Submitted, TrustedLog, Witness, WitnessConfig, WitnessUrl, note,
};
use cnv::caps::{CapabilityClass, ResourceBand, SessionId};
use cnv::typestate::{EscalationError, RunMode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const WHY: &str = "tidy the workspace before the run";

/// A fresh directory for one sample's log, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-bench-audit-{}", SessionId::new_v4()));
        fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn log(&self) -> PathBuf {
        self.0.join("audit.jsonl")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The entry of iteration `i` of calls `call_len` entries long: an escalation, then the
/// start of the call's handler and its end (the two entries a log signs); with
/// `call_len` 0, escalations only (nothing signed), with 1, ends only (every entry signed).
fn decision(session: SessionId, i: u64, call_len: u64) -> AuditEntry {
    if call_len > 1 && i % call_len == call_len - 2 {
        return AuditEntry::start(
            "workbench file write notes.txt",
            session,
            RunMode::Autonomous,
            CapabilityClass::ReadWriteFS,
        );
    }
    if call_len > 0 && i % call_len == call_len - 1 {
        return AuditEntry::finish(
            "workbench file write notes.txt",
            session,
            RunMode::Autonomous,
            CallResult::Overrun {
                exit_code: 5,
                band: ResourceBand::Fast,
                message: "ran longer than 1 s".to_owned(),
            },
        );
    }
    let error = EscalationError::JustificationTooShort {
        from: CapabilityClass::Pure,
        to: CapabilityClass::ReadWriteFS,
        required: 40,
        given: 33,
    };
    AuditEntry::denial(
        "workbench file write notes.txt",
        session,
        RunMode::Autonomous,
        Some(CapabilityClass::Pure),
        CapabilityClass::ReadWriteFS,
        black_box(WHY),
        &error,
    )
}

/// Times `iters` appends to a fresh log.
fn append(iters: u64, key: Option<&AuditKey>, call_len: u64) -> Duration {
    let scratch = Scratch::new();
    let log = AuditLog::open(scratch.log(), key).expect("opens");
    let session = SessionId::new_v4();
    let start = Instant::now();
    for i in 0..iters {
        log.record(&decision(session, i, call_len))
            .expect("recorded");
    }
    let elapsed = start.elapsed();
    drop(log);
    elapsed
}

fn entry(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit/entry");
    group.throughput(Throughput::Elements(1));
    group.sample_size(40);
    group.measurement_time(Duration::from_secs(4));
    let key = AuditKey::generate().expect("random");
    // A call the gate admits is five entries: created, verified, escalated, started, finished.
    group.bench_function("cnv: chained, signed at each call's start and end", |b| {
        b.iter_custom(|iters| append(iters, Some(&key), 5));
    });
    group.bench_function("cnv: chained, signed every entry", |b| {
        b.iter_custom(|iters| append(iters, Some(&key), 1));
    });
    group.bench_function("cnv: chained, unsigned", |b| {
        b.iter_custom(|iters| append(iters, None, 5));
    });
    group.bench_function("same bytes, unhashed (write + flush)", |b| {
        b.iter_custom(|iters| {
            let scratch = Scratch::new();
            let mut file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(scratch.log())
                .expect("opens");
            let session = SessionId::new_v4();
            let start = Instant::now();
            for i in 0..iters {
                let mut line = serde_json::to_vec(&decision(session, i, 5)).expect("encodes");
                line.push(b'\n');
                file.write_all(&line).expect("written");
                file.flush().expect("flushed");
            }
            start.elapsed()
        });
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    const LINES: u64 = 1000;
    let mut group = c.benchmark_group("audit/verify");
    group.throughput(Throughput::Elements(LINES));
    let key = AuditKey::generate().expect("random");
    let scratch = Scratch::new();
    let write = |name: &str, key: Option<&AuditKey>| {
        let path = scratch.0.join(name);
        let log = AuditLog::open(&path, key).expect("opens");
        let session = SessionId::new_v4();
        for i in 1..LINES {
            log.record(&decision(session, i, 5)).expect("recorded");
        }
        drop(log);
        fs::read(&path).expect("read")
    };
    let signed = write("signed.jsonl", Some(&key));
    let unsigned = write("unsigned.jsonl", None);
    group.bench_function("cnv: read back, signed at each call's end", |b| {
        b.iter(|| {
            let reader = ChainReader::new(BufReader::new(black_box(&signed[..])));
            reader
                .map(|record| record.expect("intact").line)
                .sum::<usize>()
        });
    });
    group.bench_function("read back, unsigned", |b| {
        b.iter(|| {
            let reader = ChainReader::new(BufReader::new(black_box(&unsigned[..])));
            reader
                .map(|record| record.expect("intact").line)
                .sum::<usize>()
        });
    });
    group.finish();
}

/// A witness served on a loopback port by a thread of this process, for logs signed by
/// `log_key`: its URL (the witness's state is kept in `scratch`).
fn serve_witness(scratch: &Scratch, log_key: &AuditKey) -> WitnessUrl {
    let trusted: TrustedLog = format!("cnv-audit/*={}", log_key.public_key())
        .parse()
        .expect("a trusted log");
    let witness = Witness::open(WitnessConfig::new(
        AuditKey::generate().expect("random"),
        scratch.0.join("witness"),
        vec![trusted],
    ))
    .expect("the witness opens");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    std::thread::spawn(move || witness.serve(&listener));
    url.parse().expect("a witness URL")
}

/// How a log in the `audit/witness` bench is witnessed.
#[derive(Clone, Copy)]
enum Witnessed {
    /// Not at all: a signed log.
    Not,
    /// By the log's thread, at most once per interval.
    Every(Duration),
    /// Before each call returns.
    Waited,
}

/// A log opened for a sample of the `audit/witness` bench.
fn witnessed_log(
    scratch: &Scratch,
    name: &str,
    key: &AuditKey,
    url: &WitnessUrl,
    how: Witnessed,
) -> AuditLog {
    let path = scratch.0.join(name);
    match how {
        Witnessed::Not => AuditLog::open(path, Some(key)),
        Witnessed::Every(interval) => {
            AuditLog::open_witnessed(path, key, vec![url.clone()], interval)
        }
        Witnessed::Waited => AuditLog::open_witnessed(path, key, vec![url.clone()], Duration::ZERO),
    }
    .expect("opens")
}

/// `calls` calls of five entries each (created, verified, escalated, started, finished).
fn run_calls(log: &AuditLog, session: SessionId, from: u64, calls: u64, how: Witnessed) {
    for i in from * 5..(from + calls) * 5 {
        log.record(&decision(session, i, 5)).expect("recorded");
        if matches!(how, Witnessed::Waited) && i % 5 == 4 {
            let reports = log.witness_now(Duration::from_secs(10)).expect("answered");
            assert!(
                matches!(reports[0].outcome, Submitted::Cosigned { .. }),
                "{reports:?}"
            );
        }
    }
}

/// Times `calls` calls to a fresh log witnessed as `timed` says, in chunks that
/// alternate with as many untimed calls to a log witnessed as `other` says: both rows
/// of a pair run under the same load (the machine is shared, and its load drifts more
/// between two rows run one after the other than witnessing costs).
fn paired(
    calls: u64,
    key: &AuditKey,
    url: &WitnessUrl,
    timed: Witnessed,
    other: Witnessed,
) -> Duration {
    const CHUNK: u64 = 20;
    let scratch = Scratch::new();
    let timed_log = witnessed_log(&scratch, "timed.jsonl", key, url, timed);
    let other_log = witnessed_log(&scratch, "other.jsonl", key, url, other);
    let session = SessionId::new_v4();
    let mut elapsed = Duration::ZERO;
    let mut done = 0;
    while done < calls {
        let chunk = CHUNK.min(calls - done);
        run_calls(&other_log, session, done, chunk, other);
        let start = Instant::now();
        run_calls(&timed_log, session, done, chunk, timed);
        elapsed += start.elapsed();
        done += chunk;
    }
    drop((timed_log, other_log));
    elapsed
}

fn witness(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit/witness");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    let key = AuditKey::generate().expect("random");
    let scratch = Scratch::new();
    let url = serve_witness(&scratch, &key);
    let chosen = Witnessed::Every(DEFAULT_WITNESS_INTERVAL);
    group.bench_function(
        "cnv: a call, witnessed in the background, every 100 ms at most",
        |b| b.iter_custom(|iters| paired(iters, &key, &url, chosen, Witnessed::Not)),
    );
    group.bench_function(
        "a call, witnessed in the background, every call's end",
        |b| {
            b.iter_custom(|iters| {
                paired(
                    iters,
                    &key,
                    &url,
                    Witnessed::Every(Duration::ZERO),
                    Witnessed::Not,
                )
            });
        },
    );
    group.bench_function("a call, its tree kept, submitted once an hour", |b| {
        b.iter_custom(|iters| {
            paired(
                iters,
                &key,
                &url,
                Witnessed::Every(Duration::from_secs(3600)),
                Witnessed::Not,
            )
        });
    });
    group.bench_function("a call, witnessed before it returns", |b| {
        b.iter_custom(|iters| paired(iters, &key, &url, Witnessed::Waited, Witnessed::Not));
    });
    group.bench_function("a call, not witnessed", |b| {
        b.iter_custom(|iters| paired(iters, &key, &url, Witnessed::Not, chosen));
    });
    group.finish();
}

/// A log of a million lines, as its Merkle tree sees it.
fn tlog(c: &mut Criterion) {
    const LINES: usize = 1_000_000;
    let mut group = c.benchmark_group("audit/tlog");
    group.sample_size(10);
    let leaves: Vec<Hash> = (0..LINES)
        .map(|i| merkle::leaf_hash(format!("{{\"prev\":\"…\",\"n\":{}}}", i + 1).as_bytes()))
        .collect();
    let frontier = Frontier::of(&leaves);
    let root = frontier.root();
    let key = AuditKey::generate().expect("random");
    let origin = cnv::audit::origin(
        &AuditLog::open(Scratch::new().log(), None)
            .expect("opens")
            .id()
            .expect("an id"),
    );
    let mut note = note::sign_checkpoint(&key, &note::Checkpoint::new(origin, LINES as u64, root));
    let checkpoint_alone = note.to_string().len();
    for i in 0..3 {
        let witness = AuditKey::generate().expect("random");
        note.signatures.push(note::cosign(
            &witness,
            &format!("witness.example/w{i}"),
            1_700_000_000,
            &note.text,
        ));
    }
    let inclusion = merkle::inclusion_proof(LINES / 2, &leaves).expect("a leaf");
    let older = Frontier::of(&leaves[..LINES - 5]);
    let consistency = older
        .consistency_proof(&leaves[LINES - 5..])
        .expect("a proof");
    let far = Frontier::of(&leaves[..LINES / 3]);
    let far_proof = far
        .consistency_proof(&leaves[LINES / 3..])
        .expect("a proof");
    // Sizes as sent: base64 hashes of 44 characters, one a line.
    eprintln!(
        "audit/tlog sizes at {LINES} lines: checkpoint {checkpoint_alone} B signed, {} B with 3 cosignatures; inclusion proof {} hashes ({} B); consistency proof {} hashes ({} B) from 5 lines back, {} hashes ({} B) from a third of the log",
        note.to_string().len(),
        inclusion.len(),
        inclusion.len() * 45,
        consistency.len(),
        consistency.len() * 45,
        far_proof.len(),
        far_proof.len() * 45,
    );
    group.bench_function(
        "cnv: frontier of 1M leaves (the tree of a log read once)",
        |b| {
            b.iter(|| Frontier::of(black_box(&leaves)).root());
        },
    );
    group.bench_function("root of 1M leaves (RFC 6962 recursion)", |b| {
        b.iter(|| merkle::root(black_box(&leaves)));
    });
    group.bench_function("inclusion proof at 1M (prove)", |b| {
        b.iter(|| merkle::inclusion_proof(black_box(LINES / 2), &leaves));
    });
    group.bench_function("consistency proof from a frontier, 5 lines", |b| {
        b.iter(|| older.consistency_proof(black_box(&leaves[LINES - 5..])));
    });
    group.bench_function("verify an inclusion proof at 1M", |b| {
        b.iter(|| {
            merkle::verify_inclusion(
                &leaves[LINES / 2],
                (LINES / 2) as u64,
                LINES as u64,
                black_box(&inclusion),
                &root,
            )
        });
    });
    group.bench_function("verify a consistency proof at 1M", |b| {
        b.iter(|| {
            merkle::verify_consistency(
                (LINES - 5) as u64,
                LINES as u64,
                black_box(&consistency),
                &older.root(),
                &root,
            )
        });
    });
    group.finish();
}

criterion_group!(benches, entry, verify, witness, tlog);
criterion_main!(benches);
