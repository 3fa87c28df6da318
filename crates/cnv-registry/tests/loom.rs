//! Loom models of the atomics this crate wrote itself: the session lifecycle and the frame
//! queue's striped counter with its thread slots. Run by `cargo xtask ci` as
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p cnv-registry --test loom --target-dir target/loom
//! ```
//!
//! Loom explores every interleaving of the models' atomic operations (crossbeam's queue,
//! which uses `std` atomics, runs as one step). Under loom each counter has one stripe,
//! so the second thread of a model counts on the shared fallback. Loom cannot take a lock
//! in a thread-local destructor, so a model thread gives its counter slot back by calling
//! what the destructor calls (`__loom_release_thread_slot`).

#![cfg(loom)]

use loom::thread;
use std::sync::Arc;

use cnv_registry::{FrameQueue, LifecycleError, SessionBuilder, SessionLifecycle};

#[test]
fn racing_closes_succeed_exactly_once() {
    loom::model(|| {
        let session = Arc::new(SessionBuilder::new().build());
        let other = Arc::clone(&session);
        let closer = thread::spawn(move || other.close());
        let mine = session.close();
        let theirs = closer.join().unwrap();
        assert_eq!(u8::from(mine.is_ok()) + u8::from(theirs.is_ok()), 1);
        assert_eq!(session.state(), SessionLifecycle::Closed);
    });
}

#[test]
fn suspend_racing_close_never_reopens() {
    loom::model(|| {
        let session = Arc::new(SessionBuilder::new().build());
        let other = Arc::clone(&session);
        let suspender = thread::spawn(move || other.suspend());
        let closed_from = session.close().expect("the only closer");
        let suspended = suspender.join().unwrap();
        match suspended {
            // Suspend went first: close saw it.
            Ok(()) => assert_eq!(closed_from, SessionLifecycle::Suspended),
            // Close went first: suspend saw a closed session.
            Err(LifecycleError::InvalidTransition { found, .. }) => {
                assert_eq!(found, SessionLifecycle::Closed);
                assert_eq!(closed_from, SessionLifecycle::Active);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert_eq!(session.state(), SessionLifecycle::Closed);
        assert!(session.resume().is_err());
    });
}

#[test]
fn counts_are_exact_after_join() {
    loom::model(|| {
        let queue = Arc::new(FrameQueue::<u32>::new(2));
        let producers: Vec<_> = (0..2)
            .map(|n| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    let accepted = u64::from(queue.enqueue(n).is_ok());
                    let taken = u64::from(queue.dequeue().is_some());
                    (accepted, taken)
                })
            })
            .collect();
        let (mut accepted, mut taken) = (0, 0);
        for producer in producers {
            let (a, t) = producer.join().unwrap();
            accepted += a;
            taken += t;
        }
        let stats = queue.stats();
        assert_eq!(stats.enqueued, accepted);
        assert_eq!(stats.dequeued, taken);
        assert_eq!(stats.enqueued, stats.dequeued + stats.len as u64);
        assert_eq!(stats.overflows, 2 - accepted);
    });
}

#[test]
fn a_recycled_slot_keeps_the_counts_of_its_previous_thread() {
    loom::model(|| {
        let queue = Arc::new(FrameQueue::<u32>::new(8));
        // The first thread takes slot 0 (the one stripe), counts, exits, and gives it back.
        let first = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                queue.enqueue(1).unwrap();
                cnv_registry::__loom_release_thread_slot();
            })
        };
        first.join().unwrap();
        // Two more threads race for slot 0: one adds to the stripe the first thread
        // left, the other counts on the shared counter.
        let racers: Vec<_> = (0..2)
            .map(|n| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || queue.enqueue(n).unwrap())
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        assert_eq!(queue.stats().enqueued, 3);
        assert_eq!(queue.len(), 3);
    });
}

// ---------------------------------------------------------------------------------------
// The registry's lock-free reads. Under loom the registry's own epoch collector
// (src/shard/epoch.rs) runs with `fence(SeqCst)` in place of membarrier(2), and a
// session's and a table's memory carry a cell that readers read and the destructor
// writes: loom reports any interleaving in which a session or a table could be freed
// while a reader can still reach it. After the threads join, a model drives the collector
// (`__loom_collect`) and counts what was freed. Ids are fixed, so that every execution of
// a model probes the same chunks.

use cnv_registry::{SessionHandle, SessionId, SessionRegistry, uuid::Uuid};
use loom::sync::atomic::{AtomicBool, Ordering};
use std::sync::Weak;

/// Runs `model` with a preemption bound that keeps the registry models to seconds.
fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(model);
}

fn session(n: u128) -> Arc<SessionHandle> {
    Arc::new(
        SessionBuilder::new()
            .id(SessionId::from_uuid(Uuid::from_u128(n)))
            .build(),
    )
}

/// A one-shard registry holding sessions `1..=count`; returns it with weak references to
/// them, to count drops.
fn registry_with(count: u128) -> (Arc<SessionRegistry>, Vec<Weak<SessionHandle>>) {
    let registry = Arc::new(SessionRegistry::new(1));
    let weak = (1..=count)
        .map(|n| {
            let session = session(n);
            let weak = Arc::downgrade(&session);
            registry.register(session).unwrap();
            weak
        })
        .collect();
    (registry, weak)
}

fn id(n: u128) -> SessionId {
    SessionId::from_uuid(Uuid::from_u128(n))
}

#[test]
fn get_racing_remove_sees_the_whole_session_or_none() {
    check(|| {
        let (registry, weak) = registry_with(1);
        let remover = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || drop(registry.remove(&id(1)).expect("registered")))
        };
        if let Some(found) = registry.get(&id(1)) {
            assert_eq!(found.id(), id(1));
        }
        remover.join().unwrap();
        assert!(registry.get(&id(1)).is_none());
        // Every reference is gone and no reader is pinned: the session was freed, once.
        cnv_registry::__loom_collect();
        assert!(weak[0].upgrade().is_none());
        assert!(registry.is_empty());
    });
}

#[test]
fn with_racing_remove_never_reads_freed_memory() {
    check(|| {
        let (registry, weak) = registry_with(1);
        let remover = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || drop(registry.remove(&id(1))))
        };
        // The closure reads the session while the remover may be dropping its reference.
        let seen = registry.with(&id(1), |session| session.name().len() + 1);
        assert!(matches!(seen, None | Some(1)));
        remover.join().unwrap();
        cnv_registry::__loom_collect();
        assert!(weak[0].upgrade().is_none());
    });
}

#[test]
fn a_lookup_after_removal_never_sees_the_session() {
    check(|| {
        let (registry, _weak) = registry_with(1);
        let removed = Arc::new(AtomicBool::new(false));
        let remover = {
            let (registry, removed) = (Arc::clone(&registry), Arc::clone(&removed));
            thread::spawn(move || {
                drop(registry.remove(&id(1)));
                removed.store(true, Ordering::Release);
            })
        };
        if removed.load(Ordering::Acquire) {
            assert!(registry.get(&id(1)).is_none());
            assert!(!registry.contains(&id(1)));
        }
        remover.join().unwrap();
    });
}

#[test]
fn get_racing_growth_finds_every_present_session() {
    check(|| {
        // One chunk holds 6 sessions: the seventh registration moves them to a new table.
        let (registry, weak) = registry_with(6);
        let grower = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.register(session(7)).unwrap())
        };
        // Present before and after the growth: found in the old table or the new one.
        assert!(registry.with(&id(3), |s| s.id()).is_some());
        assert!(registry.get(&id(6)).is_some());
        grower.join().unwrap();
        assert_eq!(registry.len(), 7);
        assert!((1..=7).all(|n| registry.contains(&id(n))));
        drop(registry);
        cnv_registry::__loom_collect();
        assert!(weak.iter().all(|w| w.upgrade().is_none()));
    });
}

#[test]
fn get_racing_replace_sees_the_old_or_the_new_session() {
    check(|| {
        let (registry, weak) = registry_with(1);
        let twin = Arc::new(SessionBuilder::new().id(id(1)).name("twin").build());
        let twin_weak = Arc::downgrade(&twin);
        let replacer = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.replace(twin).expect("registered"))
        };
        let seen = registry
            .get(&id(1))
            .expect("an id being replaced is never missing");
        assert!(seen.name().is_empty() || seen.name() == "twin");
        drop(seen);
        let previous = replacer.join().unwrap();
        assert!(previous.name().is_empty());
        drop(previous);
        // The replaced session is freed; the twin stays while the registry holds it.
        cnv_registry::__loom_collect();
        assert!(weak[0].upgrade().is_none());
        assert_eq!(
            registry.with(&id(1), |s| s.name().to_owned()).as_deref(),
            Some("twin")
        );
        drop(registry);
        cnv_registry::__loom_collect();
        assert!(twin_weak.upgrade().is_none());
    });
}

#[test]
fn a_reused_slot_is_never_mistaken_for_the_session_that_left_it() {
    check(|| {
        let (registry, weak) = registry_with(1);
        let churner = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                drop(registry.remove(&id(1)));
                // Takes the slot session 1 left.
                registry.register(session(2)).unwrap();
            })
        };
        if let Some(found) = registry.get(&id(1)) {
            assert_eq!(found.id(), id(1));
        }
        if let Some(found) = registry.get(&id(2)) {
            assert_eq!(found.id(), id(2));
        }
        churner.join().unwrap();
        assert!(registry.get(&id(1)).is_none());
        assert!(registry.contains(&id(2)));
        cnv_registry::__loom_collect();
        assert!(weak[0].upgrade().is_none());
    });
}

#[test]
fn racing_writers_on_one_shard_keep_exact_counts() {
    check(|| {
        let (registry, _weak) = registry_with(1);
        let registrar = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.register(session(2)).is_ok())
        };
        let removed = registry.remove(&id(1)).is_some();
        assert!(registrar.join().unwrap());
        assert!(removed);
        let stats = registry.stats();
        assert_eq!((stats.sessions, stats.registered, stats.removed), (1, 2, 1));
        assert_eq!(
            registry.iter().map(|s| s.id()).collect::<Vec<_>>(),
            vec![id(2)]
        );
    });
}
