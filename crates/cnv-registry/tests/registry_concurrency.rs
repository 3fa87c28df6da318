//! The registry under several threads: exact counts once they join, duplicates refused
//! exactly once per id, lock-free lookups that see every registered session while shards
//! grow, never see a session after its removal, and never outlive the sessions they read;
//! removed sessions are freed (counted through weak references) once no reader can see
//! them.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Weak};
use std::thread;

use cnv_registry::{SessionBuilder, SessionHandle, SessionId, SessionRegistry};

const THREADS: usize = 4;
const PER_THREAD: usize = 25_000;

#[test]
fn concurrent_registration_ends_with_the_exact_count() {
    let registry = SessionRegistry::new(64);
    let barrier = Barrier::new(THREADS);
    let ids: Vec<Vec<SessionId>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    (0..PER_THREAD)
                        .map(|_| {
                            let session = Arc::new(SessionBuilder::new().build());
                            let id = session.id();
                            registry.register(session).expect("fresh ids are unique");
                            id
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total = THREADS * PER_THREAD;
    assert_eq!(registry.len(), total);
    let stats = registry.stats();
    assert_eq!(stats.sessions, total);
    assert_eq!(stats.registered, total as u64);
    assert_eq!(stats.rejected_duplicates, 0);
    assert!(ids.iter().flatten().all(|id| registry.contains(id)));
    assert_eq!(registry.iter().count(), total);
}

#[test]
fn racing_duplicates_are_refused_exactly_once_each() {
    // Every thread registers its own handle for each of the same ids: one wins per id.
    let registry = SessionRegistry::new(16);
    let ids: Vec<SessionId> = (0..10_000).map(|_| SessionId::new_v4()).collect();
    let barrier = Barrier::new(THREADS);
    let won: usize = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    ids.iter()
                        .filter(|&&id| {
                            let session = Arc::new(SessionBuilder::new().id(id).build());
                            registry.register(session).is_ok()
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(won, ids.len());
    let stats = registry.stats();
    assert_eq!(stats.sessions, ids.len());
    assert_eq!(stats.registered, ids.len() as u64);
    assert_eq!(
        stats.rejected_duplicates,
        ((THREADS - 1) * ids.len()) as u64
    );
}

#[test]
fn readers_see_sessions_while_writers_churn() {
    let registry = SessionRegistry::new(32);
    let stable: Vec<Arc<SessionHandle>> = (0..5_000)
        .map(|_| Arc::new(SessionBuilder::new().build()))
        .collect();
    for session in &stable {
        registry.register(Arc::clone(session)).unwrap();
    }
    let churned = thread::scope(|scope| {
        let writers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut churned = 0u64;
                    for _ in 0..10_000 {
                        let session = Arc::new(SessionBuilder::new().build());
                        let id = session.id();
                        registry.register(session).unwrap();
                        assert!(registry.remove(&id).is_some());
                        churned += 1;
                    }
                    churned
                })
            })
            .collect();
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..4 {
                    for session in &stable {
                        let found = registry.get(&session.id()).expect("stable sessions stay");
                        assert!(Arc::ptr_eq(&found, session));
                    }
                }
            });
        }
        writers.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    let stats = registry.stats();
    assert_eq!(stats.sessions, stable.len());
    assert_eq!(stats.registered, stable.len() as u64 + churned);
    assert_eq!(stats.removed, churned);
}

/// Drives the registry's collector until `freed` holds: registers and removes sessions in
/// a scratch registry, so this thread retires garbage and, every few dozen retirements,
/// advances the epoch and frees what has expired (as any thread that writes to a registry
/// does). Bounded: returns whether `freed` held within `rounds` removals, so a collector
/// that never frees fails the caller's assertion instead of hanging the test.
fn reclaim_until(rounds: usize, freed: impl Fn() -> bool) -> bool {
    let scratch = SessionRegistry::new(1);
    for _ in 0..rounds {
        if freed() {
            return true;
        }
        let session = Arc::new(SessionBuilder::new().build());
        let id = session.id();
        scratch.register(session).unwrap();
        drop(scratch.remove(&id));
    }
    freed()
}

#[test]
fn lookups_race_registration_removal_replacement_and_growth() {
    // Four shards, so every shard's table grows through many sizes while readers look.
    let registry = SessionRegistry::new(4);
    let stable: Vec<Arc<SessionHandle>> = (0..2_000)
        .map(|_| Arc::new(SessionBuilder::new().build()))
        .collect();
    for session in &stable {
        registry.register(Arc::clone(session)).unwrap();
    }
    const CHURN: usize = 20_000;
    let churn: Vec<Arc<SessionHandle>> = (0..CHURN)
        .map(|_| Arc::new(SessionBuilder::new().build()))
        .collect();
    let weak: Vec<Weak<SessionHandle>> = churn.iter().map(Arc::downgrade).collect();
    let churn_ids: Vec<SessionId> = churn.iter().map(|s| s.id()).collect();
    let done = AtomicBool::new(false);
    let lookups = AtomicUsize::new(0);
    // Writers and readers start together, and every reader makes at least one full pass.
    let start = Barrier::new(4);

    let (registered, removed) = thread::scope(|scope| {
        // Two writers: one registers its half and removes every other session again, the
        // other does the same and replaces some sessions with twins of the same id.
        let writers: Vec<_> = churn
            .chunks(CHURN / 2)
            .enumerate()
            .map(|(w, mine)| {
                let (registry, start) = (&registry, &start);
                let mine = mine.to_vec();
                scope.spawn(move || {
                    start.wait();
                    let (mut registered, mut removed) = (0usize, 0usize);
                    for (i, session) in mine.into_iter().enumerate() {
                        let id = session.id();
                        registry.register(session).unwrap();
                        registered += 1;
                        if i % 2 == 0 {
                            let gone = registry.remove(&id).expect("registered just now");
                            assert_eq!(gone.id(), id);
                            // A lookup that starts after the removal returned never sees it.
                            assert!(registry.get(&id).is_none());
                            assert!(registry.with(&id, |_| ()).is_none());
                            removed += 1;
                        } else if w == 1 && i % 5 == 1 {
                            let twin = Arc::new(SessionBuilder::new().id(id).name("twin").build());
                            assert_eq!(registry.replace(twin).map(|s| s.id()), Some(id));
                        }
                    }
                    (registered, removed)
                })
            })
            .collect();
        // Two readers: stable sessions are always found, and the very same `Arc`; churned
        // ids are found or not, but a found session always has the id that was asked for.
        for r in 0..2 {
            let (registry, stable, churn_ids, done, lookups, start) =
                (&registry, &stable, &churn_ids, &done, &lookups, &start);
            scope.spawn(move || {
                start.wait();
                let mut n = 0usize;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    for (k, session) in stable.iter().enumerate().skip(r).step_by(7) {
                        let found = registry.get(&session.id()).expect("stable sessions stay");
                        assert!(Arc::ptr_eq(&found, session));
                        let id = churn_ids[(k * 31 + n) % churn_ids.len()];
                        if let Some(seen) = registry.with(&id, SessionHandle::id) {
                            assert_eq!(seen, id);
                        }
                        if let Some(found) = registry.get(&id) {
                            assert_eq!(found.id(), id);
                        }
                        n += 1;
                    }
                    if finished {
                        break;
                    }
                }
                lookups.fetch_add(n, Ordering::Relaxed);
            });
        }
        let totals: Vec<(usize, usize)> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        done.store(true, Ordering::Release);
        totals
            .into_iter()
            .fold((0, 0), |(a, b), (r, m)| (a + r, b + m))
    });

    assert!(lookups.load(Ordering::Relaxed) > 0);
    // Every session is counted: the stable ones, and each churned one registered once and
    // removed at most once.
    assert_eq!(registered, CHURN);
    assert_eq!(removed, CHURN / 2);
    let stats = registry.stats();
    assert_eq!(stats.sessions, stable.len() + CHURN - removed);
    assert_eq!(registry.len(), stats.sessions);
    assert_eq!(stats.registered, (stable.len() + CHURN) as u64);
    assert_eq!(stats.removed, removed as u64);
    assert_eq!(stats.replaced, (CHURN / 2).div_ceil(10) as u64);
    assert_eq!(registry.iter().count(), stats.sessions);
    for (i, id) in churn_ids.iter().enumerate() {
        // Each writer removed the sessions at even positions of its half.
        assert_eq!(registry.contains(id), (i % (CHURN / 2)) % 2 == 1, "{i}");
    }
    assert!(stable.iter().all(|s| registry.contains(&s.id())));

    // Drop counting: the removed sessions and the replaced ones are freed once the
    // collector has run; every session still registered is alive.
    drop(churn);
    let dead = |w: &Weak<SessionHandle>| w.strong_count() == 0;
    let expected_dead = removed + (CHURN / 2).div_ceil(10);
    assert!(reclaim_until(100_000, || weak
        .iter()
        .filter(|w| dead(w))
        .count()
        == expected_dead));
    for (i, w) in weak.iter().enumerate() {
        let replaced = i >= CHURN / 2 && (i - CHURN / 2) % 5 == 1;
        let removed = (i % (CHURN / 2)).is_multiple_of(2);
        assert_eq!(dead(w), removed || replaced, "{i}");
    }
}

#[test]
fn a_removed_session_lives_while_a_reader_holds_it_and_is_freed_after() {
    let registry = SessionRegistry::new(8);
    let session = Arc::new(SessionBuilder::new().name("held").build());
    let id = session.id();
    let weak = Arc::downgrade(&session);
    registry.register(session).unwrap();
    let entered = Barrier::new(2);
    let removed = Barrier::new(2);

    thread::scope(|scope| {
        scope.spawn(|| {
            let name = registry.with(&id, |session| {
                entered.wait();
                // Meanwhile the session is removed, every `Arc` to it is dropped, and the
                // collector is driven: the reader still holds it, so it is still alive.
                removed.wait();
                assert_eq!(weak.strong_count(), 1);
                session.name().to_owned()
            });
            assert_eq!(name.as_deref(), Some("held"));
        });
        entered.wait();
        drop(registry.remove(&id).expect("registered"));
        // A lookup that starts after the removal returned never sees it.
        assert!(registry.get(&id).is_none());
        assert!(!registry.contains(&id));
        // Nothing the collector does can free the session while the reader is pinned.
        assert!(
            !reclaim_until(10_000, || weak.strong_count() == 0),
            "freed while a reader held it"
        );
        removed.wait();
    });
    // The reader is gone: the session is freed, exactly once.
    assert!(reclaim_until(100_000, || weak.strong_count() == 0));
    assert!(weak.upgrade().is_none());
    assert_eq!(registry.stats().removed, 1);
}

#[test]
fn dropping_the_registry_frees_its_sessions_at_once() {
    let sessions: Vec<Arc<SessionHandle>> = (0..1_000)
        .map(|_| Arc::new(SessionBuilder::new().build()))
        .collect();
    let weak: Vec<Weak<SessionHandle>> = sessions.iter().map(Arc::downgrade).collect();
    let registry = SessionRegistry::new(2);
    for session in sessions {
        registry.register(session).unwrap();
    }
    assert!(weak.iter().all(|w| w.strong_count() == 1));
    drop(registry);
    // No reader can reach a dropped registry: its sessions go with it, no collector needed.
    assert!(weak.iter().all(|w| w.strong_count() == 0));
}
