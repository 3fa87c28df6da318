//! The session registry against its peers, one criterion group per operation, with a
//! million sessions: the registry as it was before its lookups became lock-free (the same
//! 8-byte shard tables behind one `RwLock` per shard: `cnv_benches::baseline`), `DashMap`
//! with its default hasher (SipHash), with foldhash and with cnv's `SessionIdHasher` (the
//! best hasher we found); one `Mutex<HashMap>`; and textbook sharding, 1024
//! `RwLock<HashMap>` shards with the default hasher.
//!
//! `registry/register` grows every map from empty; `registry/register_presized` sizes
//! every map for the million first, each through its own capacity API (`Presized`), so
//! that a capacity hint is compared with the peers' capacity hints, never with their growth.
//!
//! Every contestant hands out an `Arc<SessionHandle>` from `get`, as the registry does;
//! `registry/get` also has a row for the registry's borrow-style read
//! (`SessionRegistry::with`), which clones nothing. Lookups take their ids from a separate
//! array, never from the session (which would bring the session into the cache before the
//! map is asked), and the 2-thread ceilings share the same sessions as the shared maps, so
//! their reference counts are written by both threads as in the shared rows.
//! Before the groups run, the bench prints the memory a session costs at 1M sessions.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use cnv::registry::{SessionBuilder, SessionHandle, SessionId, SessionRegistry};
use cnv_benches::baseline::LockedRegistry;
use cnv_benches::maps::{
    DashMapDefault, DashMapFoldhash, DashMapIdHasher, MutexMap, Presized, PrivateMap, SHARDS,
    SessionMap, ShardedRwLockMap, resident_bytes, sessions, shuffled_ids,
};
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};

/// Sessions in every map.
const N: usize = 1_000_000;

/// Calls `$f(name, make, args…)` for each contestant, subject first; `make` builds an
/// empty map. Each call is monomorphized: no dynamic dispatch is measured.
macro_rules! for_each_map {
    ($f:ident($($arg:expr),*)) => {
        $f("cnv SessionRegistry", || SessionRegistry::new(SHARDS), $($arg),*);
        $f("RwLock-sharded registry (before lock-free reads)", LockedRegistry::default, $($arg),*);
        $f("dashmap (default SipHash)", DashMapDefault::default, $($arg),*);
        $f("dashmap (foldhash)", DashMapFoldhash::default, $($arg),*);
        $f("dashmap (cnv id hasher)", DashMapIdHasher::default, $($arg),*);
        $f("Mutex<HashMap> (default hasher)", MutexMap::default, $($arg),*);
        $f("textbook: 1024 RwLock<HashMap> shards", ShardedRwLockMap::default, $($arg),*);
    };
}

/// Like `for_each_map!`, but every map is sized for `N` sessions up front, each through
/// its own API (`Presized`).
macro_rules! for_each_presized_map {
    ($f:ident($($arg:expr),*)) => {
        $f("cnv SessionRegistry::with_capacity", || SessionRegistry::presized(N), $($arg),*);
        $f("RwLock-sharded registry (before lock-free reads)", || LockedRegistry::presized(N), $($arg),*);
        $f("dashmap (default SipHash)", || DashMapDefault::presized(N), $($arg),*);
        $f("dashmap (foldhash)", || DashMapFoldhash::presized(N), $($arg),*);
        $f("dashmap (cnv id hasher)", || DashMapIdHasher::presized(N), $($arg),*);
        $f("Mutex<HashMap> (default hasher)", || MutexMap::presized(N), $($arg),*);
        $f("textbook: 1024 RwLock<HashMap> shards", || ShardedRwLockMap::presized(N), $($arg),*);
    };
}

fn filled<M: SessionMap>(make: impl Fn() -> M, all: &[Arc<SessionHandle>]) -> M {
    let map = make();
    for s in all {
        map.insert(Arc::clone(s));
    }
    map
}

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn register_one<M: SessionMap>(
    name: &str,
    make: impl Fn() -> M,
    group: &mut Group<'_>,
    all: &[Arc<SessionHandle>],
) {
    group.bench_function(name, |b| {
        b.iter_batched(
            || (make(), all.to_vec()),
            |(map, batch)| {
                for s in &batch {
                    map.insert(Arc::clone(s));
                }
                (map, batch)
            },
            BatchSize::PerIteration,
        );
    });
}

fn register(c: &mut Criterion) {
    let all = sessions(N);
    let mut group = c.benchmark_group("registry/register");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(N as u64));
    for_each_map!(register_one(&mut group, &all));
    group.finish();
}

/// `register` again, with every map sized for the million up front (each through its own
/// capacity API), so no table grows during the measurement.
fn register_presized(c: &mut Criterion) {
    let all = sessions(N);
    let mut group = c.benchmark_group("registry/register_presized");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(N as u64));
    for_each_presized_map!(register_one(&mut group, &all));
    group.finish();
}

fn get_one<M: SessionMap>(
    name: &str,
    make: impl Fn() -> M,
    group: &mut Group<'_>,
    all: &[Arc<SessionHandle>],
    ids: &[SessionId],
) {
    let map = filled(make, all);
    let mut i = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            let id = &ids[i];
            i += 1;
            if i == ids.len() {
                i = 0;
            }
            map.get(id)
        });
    });
}

fn get(c: &mut Criterion) {
    let all = sessions(N);
    let ids = shuffled_ids(&all, 0x5EED);
    let mut group = c.benchmark_group("registry/get");
    group.throughput(Throughput::Elements(1));
    for_each_map!(get_one(&mut group, &all, &ids));
    // The borrow-style read: the closure reads the session's contract; no `Arc` is cloned
    // or dropped.
    let registry = filled(|| SessionRegistry::new(SHARDS), &all);
    let mut i = 0;
    group.bench_function("cnv SessionRegistry::with (borrow, no Arc clone)", |b| {
        b.iter(|| {
            let id = &ids[i];
            i += 1;
            if i == ids.len() {
                i = 0;
            }
            registry.with(id, SessionHandle::contract)
        });
    });
    group.finish();
}

fn remove_one<M: SessionMap>(
    name: &str,
    make: impl Fn() -> M,
    group: &mut Group<'_>,
    all: &[Arc<SessionHandle>],
    ids: &[SessionId],
) {
    group.bench_function(name, |b| {
        b.iter_batched(
            || filled(&make, all),
            |map| {
                for id in ids {
                    black_box(map.remove(id));
                }
                map
            },
            BatchSize::PerIteration,
        );
    });
}

fn remove(c: &mut Criterion) {
    let all = sessions(N);
    let ids = shuffled_ids(&all, 0xD0_0D);
    let mut group = c.benchmark_group("registry/remove");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(N as u64));
    for_each_map!(remove_one(&mut group, &all, &ids));
    group.finish();
}

/// Runs `op(thread, k)` for `k in 0..iters` on each of two threads started together and
/// returns the slower thread's time: the time of `iters` operations per thread with both
/// threads running.
fn two_threads(iters: u64, op: &(dyn Fn(usize, u64) + Sync)) -> Duration {
    let barrier = Barrier::new(2);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for k in 0..iters {
                        op(t, k);
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

fn mix_one<M: SessionMap>(
    name: &str,
    make: impl Fn() -> M,
    group: &mut Group<'_>,
    all: &[Arc<SessionHandle>],
    twins: &[Arc<SessionHandle>],
    order: &[usize],
    ids: &[SessionId],
) {
    let map = filled(make, all);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|t, k| {
                let at = (k as usize + t * N / 2) % N;
                if k % 10 == 9 {
                    let pool = if (k / 10) % 2 == 0 { twins } else { all };
                    black_box(map.replace(Arc::clone(&pool[order[at]])));
                } else {
                    // The id comes from its own array: reading it from the session would
                    // bring the session into the cache before the map is asked.
                    black_box(map.get(&ids[at]));
                }
            })
        });
    });
}

/// 90 % `get`, 10 % `replace` of an existing id, on two threads sharing one map.
fn get_update_mix(c: &mut Criterion) {
    let all = sessions(N);
    let twins: Vec<Arc<SessionHandle>> = all
        .iter()
        .map(|s| Arc::new(SessionBuilder::new().id(s.id()).build()))
        .collect();
    let ids = shuffled_ids(&all, 0x90_10);
    let order: Vec<usize> = {
        let index: std::collections::HashMap<SessionId, usize> =
            all.iter().enumerate().map(|(i, s)| (s.id(), i)).collect();
        ids.iter().map(|id| index[id]).collect()
    };
    let mut group = c.benchmark_group("registry/get_update_90_10_2threads");
    // Two operations per iteration: one on each thread.
    group.throughput(Throughput::Elements(2));
    for_each_map!(mix_one(&mut group, &all, &twins, &order, &ids));
    group.finish();
}

/// `get` on two threads sharing one map, 2 threads each looking up ids of its own half of
/// one random order (so they rarely want the same session at the same moment).
fn shared_two_threads<M: SessionMap>(
    name: &str,
    map: &M,
    group: &mut Group<'_>,
    ids: &[SessionId],
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|t, k| {
                black_box(map.get(&ids[(k as usize + t * N / 2) % N]));
            })
        });
    });
}

/// `get` on two threads sharing one registry (the registry, the registry before lock-free
/// reads, DashMap), against two *ceilings* where no map is shared: each thread with a
/// registry of its own, and each thread with a plain `HashMap` of its own with no lock at
/// all. Every row holds the **same** sessions and uses the same id order, so in every row
/// both threads clone (write the reference counts of) the same sessions.
fn get_two_threads(c: &mut Criterion) {
    let all = sessions(N);
    let ids = shuffled_ids(&all, 0x2_7123);
    let mut group = c.benchmark_group("registry/get_2threads");
    group.throughput(Throughput::Elements(2));

    let registry = filled(|| SessionRegistry::new(SHARDS), &all);
    shared_two_threads("cnv SessionRegistry (shared)", &registry, &mut group, &ids);
    drop(registry);

    let locked = filled(LockedRegistry::default, &all);
    shared_two_threads(
        "RwLock-sharded registry (before lock-free reads, shared)",
        &locked,
        &mut group,
        &ids,
    );
    drop(locked);

    let dash = filled(DashMapIdHasher::default, &all);
    shared_two_threads("dashmap (cnv id hasher, shared)", &dash, &mut group, &ids);
    drop(dash);

    // Each thread: a registry of its own over the same sessions. Nothing but the sessions
    // is shared: the cost of sharing the registry is the difference to the shared row.
    let own: Vec<SessionRegistry> = (0..2)
        .map(|_| filled(|| SessionRegistry::new(SHARDS), &all))
        .collect();
    group.bench_function("private registries, one per thread", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|t, k| {
                black_box(own[t].get(&ids[(k as usize + t * N / 2) % N]));
            })
        });
    });
    drop(own);

    // Each thread: a plain map of its own with no lock at all, over the same sessions: the
    // machine's ceiling for a lookup that hands out an `Arc`.
    let private: Vec<PrivateMap> = (0..2)
        .map(|_| all.iter().map(|s| (s.id(), Arc::clone(s))).collect())
        .collect();
    group.bench_function("private HashMaps, one per thread, no lock (ceiling)", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|t, k| {
                black_box(private[t].get(&ids[(k as usize + t * N / 2) % N]).cloned());
            })
        });
    });
    group.finish();
}

/// The maps whose memory the report measures, each in a fresh process.
const MEMORY_PROBES: [&str; 7] = [
    "cnv SessionRegistry (1024 shards)",
    "cnv SessionRegistry (1024 shards, with_capacity(1M))",
    "RwLock-sharded registry before lock-free reads (1024 shards)",
    "RwLock-sharded registry before lock-free reads (1024 shards, with_capacity(1M))",
    "dashmap (default SipHash)",
    "dashmap (cnv id hasher)",
    "textbook: 1024 RwLock<HashMap> shards",
];

/// Measures one map (`probe` names it; `"handles"` measures the sessions alone) in this
/// process and returns the growth of resident memory per session, in bytes.
fn memory_probe(probe: &str) -> Option<f64> {
    fn fill<M: SessionMap>(map: M, all: &[Arc<SessionHandle>]) -> M {
        for s in all {
            map.insert(Arc::clone(s));
        }
        map
    }
    let start = resident_bytes()?;
    let all = sessions(N);
    let after_handles = resident_bytes()?;
    if probe == "handles" {
        return Some(after_handles.saturating_sub(start) as f64 / N as f64);
    }
    // Each arm measures while its map is alive.
    let after = match MEMORY_PROBES.iter().position(|p| *p == probe)? {
        0 => {
            let map = fill(SessionRegistry::new(SHARDS), &all);
            black_box(&map);
            resident_bytes()?
        }
        1 => {
            let map = fill(SessionRegistry::with_capacity(SHARDS, N), &all);
            black_box(&map);
            resident_bytes()?
        }
        2 => {
            let map = fill(LockedRegistry::default(), &all);
            black_box(&map);
            resident_bytes()?
        }
        3 => {
            let map = fill(LockedRegistry::with_capacity(SHARDS, N), &all);
            black_box(&map);
            resident_bytes()?
        }
        4 => {
            let map = fill(DashMapDefault::default(), &all);
            black_box(&map);
            resident_bytes()?
        }
        5 => {
            let map = fill(DashMapIdHasher::default(), &all);
            black_box(&map);
            resident_bytes()?
        }
        _ => {
            let map = fill(ShardedRwLockMap::default(), &all);
            black_box(&map);
            resident_bytes()?
        }
    };
    Some(after.saturating_sub(after_handles) as f64 / N as f64)
}

/// Prints the memory a session costs at 1M sessions: the growth of resident memory,
/// measured for each map in a fresh process (this bench run again with
/// `CNV_MEMORY_PROBE` set), so that memory one map freed cannot flatter the next.
fn memory_report() {
    let probe = |name: &str| -> Option<f64> {
        let output = std::process::Command::new(std::env::current_exe().ok()?)
            .env("CNV_MEMORY_PROBE", name)
            .output()
            .ok()?;
        String::from_utf8(output.stdout).ok()?.trim().parse().ok()
    };
    let Some(handles) = probe("handles") else {
        println!("memory: resident memory is not measurable here (/proc/self/statm); skipped");
        return;
    };
    println!(
        "memory at {N} sessions: size_of::<SessionHandle>() = {} B; {handles:.1} B resident per Arc<SessionHandle> (its allocation: Arc counts, handle, allocator overhead)",
        size_of::<SessionHandle>(),
    );
    for name in MEMORY_PROBES {
        match probe(name) {
            Some(bytes) => println!(
                "memory at {N} sessions: {name}: {bytes:.1} B resident per entry, on top of the session"
            ),
            None => println!("memory at {N} sessions: {name}: probe failed"),
        }
    }
}

criterion::criterion_group!(
    benches,
    register,
    register_presized,
    get,
    remove,
    get_update_mix,
    get_two_threads
);

fn main() {
    if let Ok(probe) = std::env::var("CNV_MEMORY_PROBE") {
        if let Some(bytes) = memory_probe(&probe) {
            println!("{bytes}");
        }
        return;
    }
    // Skip the memory report when a filter names only other benches.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<f64>().is_err())
        .collect();
    if filters.is_empty() || filters.iter().any(|f| f.contains("registry")) {
        memory_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
