//! The registry under several threads: exact counts once they join, duplicates refused
//! exactly once per id, lookups that see every registered session.

#![cfg(not(loom))]

use std::sync::{Arc, Barrier};
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
