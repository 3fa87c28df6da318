//! The registry example: concurrent session management in the sharded session registry,
//! with its imports (the prelude, the registry's types, `Arc`), followed by checks of what
//! its comments promise. (Its comment "lock-free read" holds: a lookup takes no lock, it
//! pins the thread's epoch; `docs/PERFORMANCE.md` measures what that costs.)

use std::sync::Arc;

use cnv::prelude::*;
use cnv::registry::{FrameQueue, SessionBuilder, SessionRegistry, StreamId};

#[test]
// The example calls `registry.register(..)` as a statement. `register` returns a
// `Result` (a duplicate id is an error the caller should see), so the compiler warns
// about the unused result; the example is kept word for word and the assertions below
// check that every registration succeeded.
#[allow(unused_must_use)]
fn registry_example() {
    // Create registry with 1024 shards (must be power of 2)
    let registry = SessionRegistry::new(1024);

    // Register session (minimal contention)
    let session = SessionBuilder::new()
        .capability(CapabilityContract::pure())
        .build();
    let id = session.id();
    registry.register(Arc::new(session));

    // Lookup session (lock-free read)
    if let Some(session) = registry.get(&id) {
        // Use session...
        assert_eq!(session.id(), id);
        assert_eq!(session.contract().class(), CapabilityClass::Pure);
    } else {
        panic!("the session registered above is found");
    }

    // Million+ concurrent agents
    for _ in 0..1_000_000 {
        let session = SessionBuilder::new().build();
        registry.register(Arc::new(session));
    }

    // What the example promises: a million and one sessions, none lost or double counted.
    assert_eq!(registry.len(), 1_000_001);
    let stats = registry.stats();
    assert_eq!(stats.registered, 1_000_001);
    assert_eq!(stats.rejected_duplicates, 0);
    assert_eq!(stats.shards, 1024);
    // Spread: ~977 sessions per shard (σ ≈ 31); no shard is left empty or overfull.
    assert!(stats.smallest_shard > 800, "{stats:?}");
    assert!(stats.largest_shard < 1_200, "{stats:?}");
    assert_eq!(registry.active_sessions(), 1_000_001);
}

#[test]
fn a_wrong_shard_count_is_rounded_or_refused_never_a_crash() {
    // "must be power of 2": `new` rounds, `try_new` says what to use instead.
    assert_eq!(SessionRegistry::new(1000).shard_count(), 1024);
    assert_eq!(SessionRegistry::new(0).shard_count(), 1);
    let err = SessionRegistry::try_new(1000).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a session registry's shard count must be a power of two, and 1000 is not; \
         use 512 or 1024 (`SessionRegistry::new` rounds up to 1024)"
    );
}

#[test]
fn a_full_frame_queue_hands_the_frame_back() {
    let session = SessionBuilder::new().name("agent").build();
    let queue: FrameQueue = FrameQueue::new(1);
    queue
        .enqueue(session.frame(StreamId::new(0), "first"))
        .unwrap();
    let second = session.frame(StreamId::new(0), "second");
    let refused = queue.enqueue(second).unwrap_err();
    assert_eq!(refused.payload(), b"second");
    assert_eq!(refused.sequence(), 1);
    assert_eq!(queue.stats().overflows, 1);
}
