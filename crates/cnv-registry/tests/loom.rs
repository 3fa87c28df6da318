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
