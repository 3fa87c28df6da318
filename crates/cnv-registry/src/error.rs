//! The errors of this crate.

use std::sync::Arc;

use crate::{SessionHandle, SessionId};

/// [`SessionRegistry::try_new`](crate::SessionRegistry::try_new) was given a shard count
/// it cannot use. ([`SessionRegistry::new`](crate::SessionRegistry::new) rounds instead.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardCountError {
    /// Zero shards.
    #[error(
        "a session registry needs at least one shard, and 0 was asked for; \
         pass a power of two such as {suggested}"
    )]
    Zero {
        /// A sensible shard count for this machine.
        suggested: usize,
    },
    /// A count that is not a power of two (shards are chosen with a bit mask).
    #[error(
        "a session registry's shard count must be a power of two, and {requested} is not; \
         use {below} or {above} (`SessionRegistry::new` rounds up to {above})"
    )]
    NotPowerOfTwo {
        /// The count asked for.
        requested: usize,
        /// The power of two below it.
        below: usize,
        /// The power of two above it.
        above: usize,
    },
    /// More shards than the registry supports.
    #[error(
        "a session registry has at most {max} shards, and {requested} were asked for; \
         more shards do not help past a few per core"
    )]
    TooMany {
        /// The count asked for.
        requested: usize,
        /// The largest count allowed.
        max: usize,
    },
}

/// [`SessionRegistry::register`](crate::SessionRegistry::register) was given a session
/// whose id is already registered. The registry keeps the session it had, counts the
/// rejection, and hands the new one back: [`into_session`](Self::into_session).
#[derive(Debug, thiserror::Error)]
#[error(
    "session {} is already registered; the registry kept the session it had and did not \
     count this one (build a new session for a fresh id, or call `replace` to swap it in)",
    .session.id()
)]
pub struct DuplicateSession {
    session: Arc<SessionHandle>,
}

impl DuplicateSession {
    pub(crate) fn new(session: Arc<SessionHandle>) -> Self {
        Self { session }
    }

    /// The id that was already registered.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.session.id()
    }

    /// The session that was not registered.
    #[must_use]
    pub fn into_session(self) -> Arc<SessionHandle> {
        self.session
    }
}

/// [`FrameQueue::try_new`](crate::FrameQueue::try_new) was given a capacity it cannot use.
/// ([`FrameQueue::new`](crate::FrameQueue::new) clamps instead.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapacityError {
    /// Capacity zero: such a queue could never hold a frame.
    #[error("a frame queue needs room for at least one frame, and capacity 0 was asked for")]
    Zero,
    /// More slots than the queue supports.
    #[error(
        "a frame queue holds at most {max} frames, and {requested} were asked for; \
         a bounded queue that large is a memory leak waiting to happen — apply back-pressure instead"
    )]
    TooLarge {
        /// The capacity asked for.
        requested: usize,
        /// The largest capacity allowed.
        max: usize,
    },
}
