//! The examples of the guide's chapter 3 ("Sessions at scale"), word for word, so the
//! guide cannot drift from the API.

use std::sync::Arc;

use cnv::prelude::*;
use cnv::registry::*;

#[test]
fn sessions() {
    let session = SessionBuilder::new()
        .name("indexer")
        .capability(CapabilityContract::read_only())
        .build();
    assert_eq!(session.state(), SessionLifecycle::Active);
    assert_eq!(session.contract().class(), CapabilityClass::ReadOnlyFS);
}

#[test]
fn the_registry() {
    let registry = SessionRegistry::new(1024);
    let session = Arc::new(SessionBuilder::new().build());
    let id = session.id();
    registry.register(Arc::clone(&session)).expect("a fresh id");

    assert!(registry.register(session).is_err()); // the same id again: refused
    assert_eq!(registry.get(&id).map(|s| s.id()), Some(id));
    assert_eq!(registry.len(), 1);
}

#[test]
fn frame_queues() {
    let queue: FrameQueue = FrameQueue::new(1024);
    let session = SessionBuilder::new().build();
    let frame = session.frame(StreamId::new(0), b"hello".to_vec());
    queue.enqueue(frame).expect("room for one");
    let frame = queue.dequeue().expect("one frame");
    assert_eq!(frame.payload(), b"hello");
}

#[test]
fn the_strict_shard_count_message_is_the_guides() {
    let err = SessionRegistry::try_new(1000).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a session registry's shard count must be a power of two, and 1000 is not; \
         use 512 or 1024 (`SessionRegistry::new` rounds up to 1024)"
    );
}
