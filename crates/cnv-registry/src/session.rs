//! Sessions: what the registry holds.

use core::fmt;
use core::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use cnv_caps::CapabilityContract;

use crate::sync::{self, AtomicU8, AtomicU64, Mutex};
use crate::{Frame, SessionId, StreamId};

/// Where a session is in its life. A session starts [`Active`](Self::Active); it may be
/// suspended and resumed any number of times, and once [`Closed`](Self::Closed) it stays
/// closed.
///
/// ```text
/// Active ⇄ Suspended
///    ↘        ↙
///      Closed
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SessionLifecycle {
    /// Running: it may send and receive frames.
    Active,
    /// Paused by its owner; [`SessionHandle::resume`] makes it active again.
    Suspended,
    /// Finished for good. A closed session can still be looked up until it is removed
    /// from the registry ([`SessionRegistry::retain`](crate::SessionRegistry::retain)).
    Closed,
}

impl SessionLifecycle {
    const fn to_u8(self) -> u8 {
        match self {
            Self::Active => 0,
            Self::Suspended => 1,
            Self::Closed => 2,
        }
    }

    const fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Active,
            1 => Self::Suspended,
            _ => Self::Closed,
        }
    }

    /// The state's name, as `Display` prints it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for SessionLifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A lifecycle change that the session's current state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The session was not in a state the change starts from.
    #[error(
        "session {id} is {found}, so it cannot become {to}; only {expected} sessions can{hint}",
        hint = if matches!(found, SessionLifecycle::Closed) { " (a closed session stays closed: build a new one)" } else { "" }
    )]
    InvalidTransition {
        /// The session.
        id: SessionId,
        /// The state it was in.
        found: SessionLifecycle,
        /// The state the change would have led to.
        to: SessionLifecycle,
        /// The state the change starts from.
        expected: SessionLifecycle,
    },
    /// The session was already closed.
    #[error("session {id} is already closed")]
    AlreadyClosed {
        /// The session.
        id: SessionId,
    },
}

/// Number of streams whose counters live inline, lock-free, in the session.
const INLINE_STREAMS: usize = 4;

/// A session: its id, name, capability contract, creation time, lifecycle state and the
/// sequence counters of its streams.
///
/// Everything that changes (state, counters) changes through `&self`, so a session is
/// shared as `Arc<SessionHandle>` between the registry and the threads that serve it.
/// Build one with [`SessionBuilder`].
///
/// ```
/// use cnv_registry::{SessionBuilder, SessionLifecycle, StreamId};
/// use cnv_caps::CapabilityContract;
///
/// let session = SessionBuilder::new()
///     .name("indexer")
///     .capability(CapabilityContract::read_only())
///     .build();
/// assert_eq!(session.state(), SessionLifecycle::Active);
/// assert!(session.contract().is_agent_safe());
///
/// let out = StreamId::new(1);
/// assert_eq!(session.next_sequence(out), 0);
/// assert_eq!(session.next_sequence(out), 1);
/// let frame = session.frame(out, b"hello".to_vec());
/// assert_eq!(frame.sequence(), 2);
///
/// session.suspend()?;
/// session.resume()?;
/// assert_eq!(session.close()?, SessionLifecycle::Active);
/// assert!(session.resume().is_err());
/// # Ok::<(), cnv_registry::LifecycleError>(())
/// ```
// `repr(C)` with the id first: in an `Arc<SessionHandle>` the id then sits 16 bytes after
// the reference counts, so the registry's lookup compares the id on the cache line that
// cloning the `Arc` writes anyway (its table stores only the `Arc`). The contract and the
// state, what a borrowed read (`SessionRegistry::with`) most often asks, come right after
// it, within the first 40 bytes of the allocation; they fill what would otherwise be
// padding before `created_at`, so the handle stays 120 bytes.
#[repr(C)]
pub struct SessionHandle {
    id: SessionId,
    contract: CapabilityContract,
    state: AtomicU8,
    created_at: SystemTime,
    name: Box<str>,
    /// Next sequence number of streams `0..INLINE_STREAMS`.
    inline_streams: [AtomicU64; INLINE_STREAMS],
    /// Next sequence number of higher streams, as a short list (sessions have few).
    other_streams: Mutex<Vec<(StreamId, u64)>>,
    /// Under loom: a cell the registry's lock-free readers read and the destructor writes,
    /// so that loom reports a reader that could still see a session when it is freed.
    #[cfg(loom)]
    alive: loom::cell::UnsafeCell<()>,
}

#[cfg(loom)]
impl Drop for SessionHandle {
    fn drop(&mut self) {
        self.alive.with_mut(|_| ());
    }
}

impl SessionHandle {
    /// Whether this is the session with `id` (the registry's key comparison; under loom it
    /// also records the reader's access to the session's memory).
    #[inline]
    pub(crate) fn matches(&self, id: &SessionId) -> bool {
        #[cfg(loom)]
        self.alive.with(|_| ());
        self.id == *id
    }

    /// The session's id.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The session's name (empty unless [`SessionBuilder::name`] set one).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the session may do.
    #[must_use]
    pub fn contract(&self) -> CapabilityContract {
        self.contract
    }

    /// When the session was built (wall-clock time).
    #[must_use]
    pub fn created_at(&self) -> SystemTime {
        self.created_at
    }

    /// How long ago the session was built (zero if the wall clock went backwards).
    #[must_use]
    pub fn age(&self) -> Duration {
        self.created_at.elapsed().unwrap_or_default()
    }

    /// The current lifecycle state.
    #[must_use]
    pub fn state(&self) -> SessionLifecycle {
        SessionLifecycle::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Whether the session is [`Active`](SessionLifecycle::Active).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.state() == SessionLifecycle::Active
    }

    /// Pauses an active session.
    ///
    /// # Errors
    ///
    /// [`LifecycleError::InvalidTransition`] unless the session is active.
    pub fn suspend(&self) -> Result<(), LifecycleError> {
        self.transition(SessionLifecycle::Active, SessionLifecycle::Suspended)
    }

    /// Makes a suspended session active again.
    ///
    /// # Errors
    ///
    /// [`LifecycleError::InvalidTransition`] unless the session is suspended.
    pub fn resume(&self) -> Result<(), LifecycleError> {
        self.transition(SessionLifecycle::Suspended, SessionLifecycle::Active)
    }

    /// Closes the session for good and returns the state it was in. When several threads
    /// close the same session, exactly one succeeds.
    ///
    /// # Errors
    ///
    /// [`LifecycleError::AlreadyClosed`] if it was closed before.
    pub fn close(&self) -> Result<SessionLifecycle, LifecycleError> {
        let closed = SessionLifecycle::Closed.to_u8();
        let previous = SessionLifecycle::from_u8(self.state.swap(closed, Ordering::AcqRel));
        if previous == SessionLifecycle::Closed {
            Err(LifecycleError::AlreadyClosed { id: self.id })
        } else {
            Ok(previous)
        }
    }

    fn transition(
        &self,
        from: SessionLifecycle,
        to: SessionLifecycle,
    ) -> Result<(), LifecycleError> {
        self.state
            .compare_exchange(
                from.to_u8(),
                to.to_u8(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map(drop)
            .map_err(|found| LifecycleError::InvalidTransition {
                id: self.id,
                found: SessionLifecycle::from_u8(found),
                to,
                expected: from,
            })
    }

    /// Takes the next sequence number of `stream`: 0 for its first frame, then 1, 2, …
    /// Each call returns a number no other call on this session and stream returns, from
    /// any thread.
    #[must_use = "the sequence number is consumed even if it is not used"]
    pub fn next_sequence(&self, stream: StreamId) -> u64 {
        match self.inline_streams.get(stream.get() as usize) {
            Some(counter) => counter.fetch_add(1, Ordering::Relaxed),
            None => {
                let mut others = sync::lock(&self.other_streams);
                if let Some((_, next)) = others.iter_mut().find(|(s, _)| *s == stream) {
                    let sequence = *next;
                    *next += 1;
                    sequence
                } else {
                    others.push((stream, 1));
                    0
                }
            }
        }
    }

    /// How many sequence numbers of `stream` have been taken (the next one to be issued).
    #[must_use]
    pub fn sequence(&self, stream: StreamId) -> u64 {
        match self.inline_streams.get(stream.get() as usize) {
            Some(counter) => counter.load(Ordering::Relaxed),
            None => sync::lock(&self.other_streams)
                .iter()
                .find(|(s, _)| *s == stream)
                .map_or(0, |(_, next)| *next),
        }
    }

    /// A frame of this session on `stream`, with the stream's next sequence number and the
    /// current time.
    #[must_use = "the sequence number is consumed even if the frame is dropped"]
    pub fn frame(&self, stream: StreamId, payload: impl Into<Vec<u8>>) -> Frame {
        Frame::new(self.id, stream, self.next_sequence(stream), payload)
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("contract", &self.contract)
            .field("state", &self.state())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SessionHandle`].
///
/// Nothing is required: `SessionBuilder::new().build()` is a session with a fresh random
/// id, an empty name and the **least authority** — the contract
/// [`CapabilityContract::default()`] (`Pure`, `Instant`, `AgentSafe`, `Stable`): a
/// session nobody declared a capability for may compute and nothing else. Grant more
/// with [`capability`](Self::capability).
///
/// ```
/// use cnv_registry::SessionBuilder;
/// use cnv_caps::{CapabilityClass, CapabilityContract};
///
/// let plain = SessionBuilder::new().build();
/// assert_eq!(plain.contract().class(), CapabilityClass::Pure);
///
/// let fetcher = SessionBuilder::new()
///     .name("fetcher")
///     .capability(CapabilityContract::network())
///     .build();
/// assert_eq!(fetcher.contract().class(), CapabilityClass::Network);
/// assert!(!fetcher.contract().is_agent_safe());
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct SessionBuilder {
    id: Option<SessionId>,
    name: String,
    contract: CapabilityContract,
}

impl SessionBuilder {
    /// A builder for a session with a fresh id, no name and the least authority.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `id` instead of a fresh random one (to restore a session from storage; see
    /// [`SessionId::from_uuid`] about ids from outside).
    pub fn id(mut self, id: SessionId) -> Self {
        self.id = Some(id);
        self
    }

    /// Names the session, for people and logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// What the session may do: a run-time [`CapabilityContract`] or a typed one
    /// (`CapabilityContract::pure()`, `::network()`, …).
    pub fn capability(mut self, contract: impl Into<CapabilityContract>) -> Self {
        self.contract = contract.into();
        self
    }

    /// The session, [`Active`](SessionLifecycle::Active), created now.
    #[must_use]
    pub fn build(self) -> SessionHandle {
        SessionHandle {
            id: self.id.unwrap_or_else(SessionId::new_v4),
            contract: self.contract,
            state: AtomicU8::new(SessionLifecycle::Active.to_u8()),
            created_at: SystemTime::now(),
            name: self.name.into_boxed_str(),
            inline_streams: core::array::from_fn(|_| AtomicU64::new(0)),
            other_streams: Mutex::new(Vec::new()),
            #[cfg(loom)]
            alive: loom::cell::UnsafeCell::new(()),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use cnv_caps::{CapabilityClass, ResourceBand};
    use std::sync::Arc;

    #[test]
    fn the_default_session_has_the_least_authority() {
        let session = SessionBuilder::new().build();
        assert_eq!(session.contract(), CapabilityContract::default());
        assert_eq!(session.contract().class(), CapabilityClass::Pure);
        assert_eq!(session.contract().band(), ResourceBand::Instant);
        assert_eq!(session.name(), "");
        assert!(session.is_active());
        assert!(session.age() < Duration::from_secs(60));
    }

    #[test]
    fn builder_sets_every_field() {
        let id = SessionId::new_v4();
        let session = SessionBuilder::new()
            .id(id)
            .name("deploy")
            .capability(CapabilityContract::subprocess())
            .build();
        assert_eq!(session.id(), id);
        assert_eq!(session.name(), "deploy");
        assert_eq!(session.contract().class(), CapabilityClass::Subprocess);
        let debug = format!("{session:?}");
        assert!(
            debug.contains("deploy") && debug.contains("Subprocess"),
            "{debug}"
        );
    }

    #[test]
    fn the_id_comes_first_and_repr_c_adds_no_padding() {
        // The registry's lookups rely on the id sitting next to the `Arc`'s counts, and
        // borrowed reads on the contract and the state sitting right after it.
        assert_eq!(core::mem::offset_of!(SessionHandle, id), 0);
        assert!(core::mem::offset_of!(SessionHandle, contract) < 24);
        assert!(core::mem::offset_of!(SessionHandle, state) < 24);
        assert_eq!(size_of::<SessionHandle>(), 120);
    }

    #[test]
    fn lifecycle_allows_only_its_transitions() {
        let session = SessionBuilder::new().build();
        let err = session.resume().unwrap_err();
        assert_eq!(
            err,
            LifecycleError::InvalidTransition {
                id: session.id(),
                found: SessionLifecycle::Active,
                to: SessionLifecycle::Active,
                expected: SessionLifecycle::Suspended,
            }
        );
        session.suspend().unwrap();
        assert_eq!(session.state(), SessionLifecycle::Suspended);
        assert!(session.suspend().is_err());
        assert_eq!(session.close(), Ok(SessionLifecycle::Suspended));
        assert_eq!(
            session.close(),
            Err(LifecycleError::AlreadyClosed { id: session.id() })
        );
        let message = session.resume().unwrap_err().to_string();
        assert!(
            message.contains("is closed") && message.contains("build a new one"),
            "{message}"
        );
    }

    #[test]
    fn sequences_are_per_stream_and_never_repeat_across_threads() {
        let session = Arc::new(SessionBuilder::new().build());
        let streams = [
            StreamId::new(0),
            StreamId::new(3),
            StreamId::new(4),
            StreamId::new(900),
        ];
        let per_thread = 2_000;
        let taken: Vec<Vec<(StreamId, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let session = &session;
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        for i in 0..per_thread {
                            let stream = streams[i % streams.len()];
                            mine.push((stream, session.next_sequence(stream)));
                        }
                        mine
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for stream in streams {
            let mut numbers: Vec<u64> = taken
                .iter()
                .flatten()
                .filter(|(s, _)| *s == stream)
                .map(|&(_, n)| n)
                .collect();
            numbers.sort_unstable();
            let expected: Vec<u64> = (0..numbers.len() as u64).collect();
            assert_eq!(numbers, expected, "{stream}");
            assert_eq!(session.sequence(stream), numbers.len() as u64);
        }
        assert_eq!(session.sequence(StreamId::new(77)), 0);
    }
}
