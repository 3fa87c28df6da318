//! The session registry: sessions by id, in shards whose lookups take no lock.

use std::fmt;
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::shard::{self, Shard};
use crate::{DuplicateSession, SessionHandle, SessionId, ShardCountError};

/// The shard count of [`SessionRegistry::default`], as in the registry example
/// (`SessionRegistry::new(1024)`).
pub const DEFAULT_SHARDS: usize = 1024;

/// The largest shard count a registry accepts (`2^16`).
pub const MAX_SHARDS: usize = 1 << 16;

/// The shard is taken from bits `40..56` of [`SessionId::hash64`]: not the low bits the
/// shard's own table indexes its chunks with, and not the top 7 bits it keeps as tags.
const SHARD_SHIFT: u32 = 40;

/// Sessions by id, for many threads at once; lookups never block.
///
/// The registry is `shards` hash tables (a power of two), each on its own cache line; a
/// session's shard comes from the random bits of its id, so threads working on different
/// sessions rarely meet.
///
/// * **Lookups take no lock** and write nothing the registry shares:
///   [`get`](Self::get) (clones the session's `Arc`), [`with`](Self::with) (lends the
///   session to a closure, cloning nothing), [`contains`](Self::contains), and the sweeps
///   ([`retain`](Self::retain), [`iter`](Self::iter), [`active_sessions`](Self::active_sessions),
///   [`stats`](Self::stats), [`len`](Self::len)). A lookup pins the thread's epoch (a
///   store to a line only this thread writes) for its duration, and a removed session is
///   freed only once every lookup that could have seen it has finished.
/// * **Registering, replacing and removing** take the shard's writer lock for one table
///   operation; readers never wait for it. No user code runs while a shard is locked.
///
/// A lookup that starts after a removal (or replacement) has returned never sees the
/// removed session; a lookup running at the same time may see either.
///
/// Statistics live in the shards and are written by the writer that holds the shard's
/// lock: a lookup writes nothing shared, and [`stats`](Self::stats) adds the shards up.
///
/// ```
/// use std::sync::Arc;
/// use cnv_registry::{SessionBuilder, SessionRegistry};
/// use cnv_caps::CapabilityContract;
///
/// let registry = SessionRegistry::new(64);
/// let session = Arc::new(SessionBuilder::new().capability(CapabilityContract::pure()).build());
/// let id = session.id();
/// registry.register(Arc::clone(&session))?;
///
/// // The same id again is refused, handed back, and not counted twice.
/// let duplicate = registry.register(session).unwrap_err();
/// assert_eq!(duplicate.id(), id);
/// assert_eq!(registry.len(), 1);
///
/// assert_eq!(registry.get(&id).map(|s| s.id()), Some(id));
/// assert_eq!(registry.with(&id, |s| s.is_active()), Some(true));
/// assert!(registry.remove(&id).is_some());
/// assert!(registry.is_empty());
/// let stats = registry.stats();
/// assert_eq!((stats.registered, stats.removed, stats.rejected_duplicates), (1, 1, 1));
/// # Ok::<(), cnv_registry::DuplicateSession>(())
/// ```
pub struct SessionRegistry {
    shards: Box<[CachePadded<Shard>]>,
    mask: usize,
}

impl SessionRegistry {
    /// A registry of `shards` shards.
    ///
    /// A count that is not a power of two is **rounded up** to the next one, `0` becomes
    /// `1`, and counts above [`MAX_SHARDS`] become `MAX_SHARDS`; it never panics.
    /// [`try_new`](Self::try_new) refuses such counts instead, and
    /// [`shard_count`](Self::shard_count) says what was used.
    ///
    /// ```
    /// use cnv_registry::SessionRegistry;
    ///
    /// assert_eq!(SessionRegistry::new(1024).shard_count(), 1024);
    /// assert_eq!(SessionRegistry::new(1000).shard_count(), 1024);
    /// assert_eq!(SessionRegistry::new(0).shard_count(), 1);
    /// ```
    #[must_use]
    pub fn new(shards: usize) -> Self {
        Self::with_capacity(shards, 0)
    }

    /// A registry of exactly `shards` shards.
    ///
    /// # Errors
    ///
    /// [`ShardCountError`] when `shards` is zero, not a power of two, or above
    /// [`MAX_SHARDS`].
    ///
    /// ```
    /// use cnv_registry::{SessionRegistry, ShardCountError};
    ///
    /// let err = SessionRegistry::try_new(1000).unwrap_err();
    /// assert_eq!(err, ShardCountError::NotPowerOfTwo { requested: 1000, below: 512, above: 1024 });
    /// assert!(err.to_string().contains("use 512 or 1024"));
    /// ```
    pub fn try_new(shards: usize) -> Result<Self, ShardCountError> {
        if shards == 0 {
            Err(ShardCountError::Zero {
                suggested: DEFAULT_SHARDS,
            })
        } else if shards > MAX_SHARDS {
            Err(ShardCountError::TooMany {
                requested: shards,
                max: MAX_SHARDS,
            })
        } else if !shards.is_power_of_two() {
            let above = shards.next_power_of_two();
            Err(ShardCountError::NotPowerOfTwo {
                requested: shards,
                below: above / 2,
                above,
            })
        } else {
            Ok(Self::new(shards))
        }
    }

    /// A registry of `shards` shards (rounded as by [`new`](Self::new)) with room for
    /// about `capacity` sessions before any shard grows.
    #[must_use]
    pub fn with_capacity(shards: usize, capacity: usize) -> Self {
        let count = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        let per_shard = per_shard_capacity(capacity, count);
        let shards = (0..count)
            .map(|_| CachePadded::new(Shard::with_capacity(per_shard)))
            .collect();
        Self {
            shards,
            mask: count - 1,
        }
    }

    /// The number of shards.
    #[must_use]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// How many sessions the registry holds before some shard has to grow (the smallest
    /// shard capacity times the shard count: ids are spread evenly, so the first shard
    /// fills when about this many are registered).
    #[must_use]
    pub fn capacity(&self) -> usize {
        let smallest = self
            .shards
            .iter()
            .map(|shard| shard.capacity())
            .min()
            .unwrap_or(0);
        smallest * self.shards.len()
    }

    /// Makes room for `additional` more sessions, so that registering them does not grow
    /// the shards one by one.
    pub fn reserve(&self, additional: usize) {
        let per_shard = per_shard_capacity(additional, self.shards.len());
        for shard in &self.shards {
            let mut writer = shard.write();
            let needed = shard.counts().len + per_shard;
            writer.reserve(needed);
        }
    }

    /// Adds `session` under its id.
    ///
    /// # Errors
    ///
    /// [`DuplicateSession`] when a session with the same id is already registered. The
    /// registry keeps the one it had (an id is never silently taken over), counts the
    /// rejection in [`RegistryStats::rejected_duplicates`], and returns `session` inside
    /// the error. Use [`replace`](Self::replace) to swap a session on purpose.
    #[inline]
    pub fn register(&self, session: Arc<SessionHandle>) -> Result<(), DuplicateSession> {
        let hash = session.id().hash64();
        self.shard(hash)
            .write()
            .insert(session)
            .map_err(DuplicateSession::new)
    }

    /// Registers `session`, replacing and returning the session that had its id, if any.
    /// A replacement counts in [`RegistryStats::replaced`], not as a registration.
    #[must_use = "the replaced session is returned; drop it explicitly if it is not needed"]
    #[inline]
    pub fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        let hash = session.id().hash64();
        self.shard(hash).write().replace(session)
    }

    /// The session with this id: a new reference to it (one atomic increment of the
    /// session's reference count). Takes no lock; see [`with`](Self::with) to read a
    /// session without cloning its `Arc`.
    #[must_use]
    #[inline]
    pub fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        let guard = shard::pin();
        self.shard(hash)
            .find(id, hash, &guard)
            .map(|found| found.to_arc())
    }

    /// Calls `read` with the session with this id and returns what it returns, or `None`
    /// when no such session is registered. Takes no lock and clones nothing: the session
    /// is lent for the duration of the call.
    ///
    /// While `read` runs, the thread stays pinned, so sessions removed anywhere in the
    /// process in the meantime are not freed until it returns: keep `read` short (no
    /// blocking I/O), and clone what must outlive it ([`get`](Self::get) hands out the
    /// session itself). `read` may use the registry, including to remove this session.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cnv_registry::{SessionBuilder, SessionRegistry, StreamId};
    ///
    /// let registry = SessionRegistry::new(16);
    /// let session = Arc::new(SessionBuilder::new().name("indexer").build());
    /// let id = session.id();
    /// registry.register(session)?;
    ///
    /// let frame = registry.with(&id, |session| session.frame(StreamId::new(0), b"hi".to_vec()));
    /// assert_eq!(frame.map(|f| f.sequence()), Some(0));
    /// assert_eq!(registry.with(&id, |session| session.name().len()), Some(7));
    /// assert_eq!(registry.with(&cnv_registry::SessionId::new_v4(), |_| ()), None);
    /// # Ok::<(), cnv_registry::DuplicateSession>(())
    /// ```
    #[inline]
    pub fn with<R>(&self, id: &SessionId, read: impl FnOnce(&SessionHandle) -> R) -> Option<R> {
        let hash = id.hash64();
        let guard = shard::pin();
        self.shard(hash)
            .find(id, hash, &guard)
            .map(|found| read(found.session()))
    }

    /// Whether a session with this id is registered. Takes no lock.
    #[must_use]
    #[inline]
    pub fn contains(&self, id: &SessionId) -> bool {
        let hash = id.hash64();
        let guard = shard::pin();
        self.shard(hash).find(id, hash, &guard).is_some()
    }

    /// Removes the session with this id and returns it.
    ///
    /// Lookups that start after `remove` returns do not see the session; the registry's
    /// reference to it is given up once the lookups that might still be reading it have
    /// finished, so it is freed then if the caller dropped the returned `Arc`.
    #[must_use = "the removed session is returned; drop it explicitly if it is not needed"]
    #[inline]
    pub fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        self.shard(id.hash64()).write().remove(id)
    }

    /// Keeps the sessions for which `keep` returns `true` and removes the others
    /// (counted in [`RegistryStats::removed`]); returns how many were removed.
    ///
    /// `keep` runs with no lock held, so it may use the registry itself. Shard by shard,
    /// the registry reads the sessions as lookups do (no lock, no clone), asks `keep` about
    /// each, then removes the refused ones unless they were replaced in the meantime. As
    /// with [`with`](Self::with), the thread stays pinned while `keep` runs on a shard's
    /// sessions: keep it short.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cnv_registry::{SessionBuilder, SessionRegistry};
    ///
    /// let registry = SessionRegistry::new(8);
    /// for _ in 0..10 {
    ///     let session = SessionBuilder::new().build();
    ///     registry.register(Arc::new(session))?;
    /// }
    /// for session in registry.iter().take(4) {
    ///     session.close()?;
    /// }
    /// assert_eq!(registry.retain(|session| session.is_active()), 4);
    /// assert_eq!(registry.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&SessionHandle) -> bool) -> usize {
        let mut removed = 0;
        let mut refused: Vec<Arc<SessionHandle>> = Vec::new();
        for shard in &self.shards {
            {
                let guard = shard::pin();
                shard.for_each(&guard, |found| {
                    if !keep(found.session()) {
                        refused.push(found.to_arc());
                    }
                });
            }
            if refused.is_empty() {
                continue;
            }
            let mut writer = shard.write();
            for session in refused.drain(..) {
                // The same session, not one that replaced it in the meantime.
                if writer.remove_same(&session) {
                    removed += 1;
                }
            }
        }
        removed
    }

    /// The number of sessions registered.
    ///
    /// It reads every shard's count (no lock), so it costs `O(shards)`; the registry keeps
    /// no global count, which would be a cache line every registration and removal on
    /// every core writes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.counts().len).sum()
    }

    /// Whether no session is registered (`O(shards)`, like [`len`](Self::len)).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.counts().len == 0)
    }

    /// The number of registered sessions that are [`Active`](crate::SessionLifecycle::Active)
    /// (not suspended or closed). It reads every session's state without a lock or a
    /// clone: `O(len)`.
    #[must_use]
    pub fn active_sessions(&self) -> usize {
        let mut active = 0;
        for shard in &self.shards {
            let guard = shard::pin();
            shard.for_each(&guard, |found| {
                active += usize::from(found.session().is_active());
            });
        }
        active
    }

    /// The registry's counts, added up over the shards.
    ///
    /// Every count is written by the operation it counts, under its shard's writer lock,
    /// and read without a lock, so once the threads that used the registry have joined,
    /// the counts are exact; `sessions == registered - removed` always holds per shard.
    /// While threads are working, counts are read one after another, so a snapshot may mix
    /// moments.
    #[must_use]
    pub fn stats(&self) -> RegistryStats {
        let mut stats = RegistryStats {
            shards: self.shards.len(),
            smallest_shard: usize::MAX,
            ..RegistryStats::default()
        };
        for shard in &self.shards {
            let counts = shard.counts();
            let len = counts.len;
            stats.sessions += len;
            stats.registered += len as u64 + counts.removed;
            stats.removed += counts.removed;
            stats.replaced += counts.replaced;
            stats.rejected_duplicates += counts.rejected;
            stats.smallest_shard = stats.smallest_shard.min(len);
            stats.largest_shard = stats.largest_shard.max(len);
        }
        stats
    }

    /// The registered sessions, shard by shard.
    ///
    /// The iterator clones one shard's sessions at a time, without a lock, so it never
    /// blocks the registry. A session registered or removed
    /// during the iteration may or may not be seen; every session registered for the whole
    /// iteration is seen exactly once.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            registry: self,
            next_shard: 0,
            batch: Vec::new().into_iter(),
        }
    }

    /// The shard of the id whose [`SessionId::hash64`] is `hash`. The same hash then
    /// finds the session inside the shard's table: the id is hashed once per operation.
    #[inline]
    fn shard(&self, hash: u64) -> &Shard {
        // The mask keeps the index in bounds.
        &self.shards[(hash >> SHARD_SHIFT) as usize & self.mask]
    }
}

/// How much to reserve per shard for `capacity` sessions over `shards` shards: the mean
/// plus four standard deviations of the (binomial) share a shard receives, so almost no
/// shard grows early.
fn per_shard_capacity(capacity: usize, shards: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let mean = capacity.div_ceil(shards);
    mean + 4 * mean.isqrt() + 4
}

impl Default for SessionRegistry {
    /// A registry of [`DEFAULT_SHARDS`] shards.
    fn default() -> Self {
        Self::new(DEFAULT_SHARDS)
    }
}

impl fmt::Debug for SessionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRegistry")
            .field("shards", &self.shards.len())
            .field("sessions", &self.len())
            .finish()
    }
}

impl<'a> IntoIterator for &'a SessionRegistry {
    type Item = Arc<SessionHandle>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The iterator of [`SessionRegistry::iter`].
pub struct Iter<'a> {
    registry: &'a SessionRegistry,
    next_shard: usize,
    batch: std::vec::IntoIter<Arc<SessionHandle>>,
}

impl Iterator for Iter<'_> {
    type Item = Arc<SessionHandle>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(session) = self.batch.next() {
                return Some(session);
            }
            let shard = self.registry.shards.get(self.next_shard)?;
            self.next_shard += 1;
            let mut batch = Vec::with_capacity(shard.counts().len);
            let guard = shard::pin();
            shard.for_each(&guard, |found| batch.push(found.to_arc()));
            self.batch = batch.into_iter();
        }
    }
}

impl fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("next_shard", &self.next_shard)
            .field("buffered", &self.batch.len())
            .finish_non_exhaustive()
    }
}

/// A snapshot of a registry's counts ([`SessionRegistry::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Sessions registered now.
    pub sessions: usize,
    /// Successful registrations, ever ([`register`](SessionRegistry::register), and
    /// [`replace`](SessionRegistry::replace) of a new id).
    pub registered: u64,
    /// Removals, ever ([`remove`](SessionRegistry::remove) and
    /// [`retain`](SessionRegistry::retain)).
    pub removed: u64,
    /// Sessions swapped for another with the same id by
    /// [`replace`](SessionRegistry::replace).
    pub replaced: u64,
    /// Registrations refused because the id was already registered.
    pub rejected_duplicates: u64,
    /// The number of shards.
    pub shards: usize,
    /// Sessions in the emptiest shard.
    pub smallest_shard: usize,
    /// Sessions in the fullest shard.
    pub largest_shard: usize,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{SessionBuilder, SessionLifecycle};

    fn session() -> Arc<SessionHandle> {
        Arc::new(SessionBuilder::new().build())
    }

    #[test]
    fn shard_counts_round_and_try_new_refuses() {
        assert_eq!(SessionRegistry::new(0).shard_count(), 1);
        assert_eq!(SessionRegistry::new(3).shard_count(), 4);
        assert_eq!(SessionRegistry::new(usize::MAX).shard_count(), MAX_SHARDS);
        assert_eq!(SessionRegistry::default().shard_count(), DEFAULT_SHARDS);
        assert_eq!(
            SessionRegistry::try_new(0).unwrap_err(),
            ShardCountError::Zero {
                suggested: DEFAULT_SHARDS
            }
        );
        assert_eq!(
            SessionRegistry::try_new(MAX_SHARDS * 2).unwrap_err(),
            ShardCountError::TooMany {
                requested: MAX_SHARDS * 2,
                max: MAX_SHARDS
            }
        );
        assert_eq!(
            SessionRegistry::try_new(3).unwrap_err(),
            ShardCountError::NotPowerOfTwo {
                requested: 3,
                below: 2,
                above: 4
            }
        );
        assert_eq!(SessionRegistry::try_new(16).unwrap().shard_count(), 16);
        let message = SessionRegistry::try_new(0).unwrap_err().to_string();
        assert!(message.contains("at least one shard"), "{message}");
    }

    #[test]
    fn duplicates_are_refused_handed_back_and_not_counted() {
        let registry = SessionRegistry::new(4);
        let first = session();
        registry.register(Arc::clone(&first)).unwrap();
        let twin = Arc::new(SessionBuilder::new().id(first.id()).name("twin").build());
        let err = registry.register(Arc::clone(&twin)).unwrap_err();
        assert_eq!(err.id(), first.id());
        assert!(err.to_string().contains("already registered"), "{err}");
        assert!(Arc::ptr_eq(&err.into_session(), &twin));
        // The registry kept the first one.
        assert!(Arc::ptr_eq(&registry.get(&first.id()).unwrap(), &first));
        let stats = registry.stats();
        assert_eq!(stats.sessions, 1);
        assert_eq!(stats.registered, 1);
        assert_eq!(stats.rejected_duplicates, 1);
    }

    #[test]
    fn replace_swaps_and_counts_separately() {
        let registry = SessionRegistry::new(4);
        let first = session();
        assert!(registry.replace(Arc::clone(&first)).is_none());
        let second = Arc::new(SessionBuilder::new().id(first.id()).build());
        let previous = registry.replace(Arc::clone(&second)).unwrap();
        assert!(Arc::ptr_eq(&previous, &first));
        assert!(Arc::ptr_eq(&registry.get(&first.id()).unwrap(), &second));
        let stats = registry.stats();
        assert_eq!(
            (stats.sessions, stats.registered, stats.replaced),
            (1, 1, 1)
        );
    }

    #[test]
    fn get_contains_remove() {
        let registry = SessionRegistry::new(2);
        let s = session();
        let id = s.id();
        assert!(!registry.contains(&id));
        assert!(registry.get(&id).is_none());
        assert!(registry.remove(&id).is_none());
        registry.register(s).unwrap();
        assert!(registry.contains(&id));
        assert_eq!(registry.remove(&id).unwrap().id(), id);
        assert!(registry.remove(&id).is_none());
        let stats = registry.stats();
        assert_eq!((stats.registered, stats.removed, stats.sessions), (1, 1, 0));
    }

    #[test]
    fn active_sessions_counts_only_active_ones() {
        let registry = SessionRegistry::new(8);
        let sessions: Vec<_> = (0..10).map(|_| session()).collect();
        for s in &sessions {
            registry.register(Arc::clone(s)).unwrap();
        }
        sessions[0].suspend().unwrap();
        sessions[1].close().unwrap();
        assert_eq!(registry.len(), 10);
        assert_eq!(registry.active_sessions(), 8);
        assert_eq!(sessions[1].state(), SessionLifecycle::Closed);
    }

    #[test]
    fn iter_sees_each_session_once() {
        let registry = SessionRegistry::new(16);
        let mut ids: Vec<SessionId> = (0..500)
            .map(|_| {
                let s = session();
                let id = s.id();
                registry.register(s).unwrap();
                id
            })
            .collect();
        let mut seen: Vec<SessionId> = registry.iter().map(|s| s.id()).collect();
        ids.sort();
        seen.sort();
        assert_eq!(seen, ids);
        assert_eq!((&registry).into_iter().count(), 500);
    }

    #[test]
    fn retain_may_call_the_registry_and_skips_replaced_sessions() {
        let registry = SessionRegistry::new(1);
        let a = session();
        let b = session();
        registry.register(Arc::clone(&a)).unwrap();
        registry.register(Arc::clone(&b)).unwrap();
        // The closure uses the registry (no deadlock) and, for `a`, replaces it before
        // refusing it: the replacement must survive.
        let removed = registry.retain(|s| {
            assert!(registry.contains(&s.id()));
            if s.id() == a.id() {
                let fresh = Arc::new(SessionBuilder::new().id(a.id()).build());
                drop(registry.replace(fresh));
            }
            false
        });
        assert_eq!(removed, 1);
        assert!(registry.contains(&a.id()));
        assert!(!registry.contains(&b.id()));
    }

    #[test]
    fn capacity_hints_hold() {
        let registry = SessionRegistry::with_capacity(64, 10_000);
        assert!(registry.capacity() >= 10_000, "{}", registry.capacity());
        // An empty shard starts with one 64-byte chunk: room for 6 sessions.
        let empty = SessionRegistry::new(64);
        assert_eq!(empty.capacity(), 64 * 6);
        empty.reserve(5_000);
        assert!(empty.capacity() >= 5_000);
        assert!(format!("{empty:?}").contains("shards: 64"));
    }

    #[test]
    fn growth_keeps_every_session_findable() {
        // One shard, so its table grows through every size; removals in between leave
        // tombstones that a rebuild must not confuse with sessions.
        let registry = SessionRegistry::new(1);
        let mut kept = Vec::new();
        for round in 0..5_000 {
            let s = session();
            registry.register(Arc::clone(&s)).unwrap();
            if round % 3 == 0 {
                assert!(Arc::ptr_eq(&registry.remove(&s.id()).unwrap(), &s));
            } else {
                kept.push(s);
            }
        }
        assert_eq!(registry.len(), kept.len());
        for s in &kept {
            assert!(Arc::ptr_eq(&registry.get(&s.id()).unwrap(), s));
        }
        // A duplicate is still found after all the rebuilds.
        let twin = Arc::new(SessionBuilder::new().id(kept[7].id()).build());
        assert!(registry.register(twin).is_err());
        let stats = registry.stats();
        assert_eq!(stats.registered, 5_000);
        assert_eq!(stats.removed, 5_000 - kept.len() as u64);
        assert_eq!(stats.rejected_duplicates, 1);
    }

    #[test]
    fn reserve_on_a_filled_registry_keeps_its_sessions() {
        let registry = SessionRegistry::new(4);
        let sessions: Vec<_> = (0..300).map(|_| session()).collect();
        for s in &sessions {
            registry.register(Arc::clone(s)).unwrap();
        }
        registry.reserve(10_000);
        assert!(registry.capacity() >= 10_300, "{}", registry.capacity());
        assert!(sessions.iter().all(|s| registry.contains(&s.id())));
        assert_eq!(registry.len(), 300);
        // Reserving what is already there does not shrink anything.
        let before = registry.capacity();
        registry.reserve(1);
        assert_eq!(registry.capacity(), before);
    }

    #[test]
    fn registered_is_counted_through_replace_and_retain() {
        let registry = SessionRegistry::new(2);
        let sessions: Vec<_> = (0..20).map(|_| session()).collect();
        for s in &sessions {
            registry.register(Arc::clone(s)).unwrap();
        }
        // A replacement of a present id is not a registration; of an absent id it is.
        drop(registry.replace(Arc::new(SessionBuilder::new().id(sessions[0].id()).build())));
        drop(registry.replace(session()));
        assert_eq!(registry.retain(|s| s.id() != sessions[1].id()), 1);
        let stats = registry.stats();
        assert_eq!(
            (
                stats.sessions,
                stats.registered,
                stats.removed,
                stats.replaced
            ),
            (20, 21, 1, 1)
        );
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_shard_is_two_lines() {
        // The table pointer on one line; the writer lock and four counts on the other.
        assert_eq!(size_of::<Shard>(), 128);
        assert_eq!(size_of::<CachePadded<Shard>>(), 128);
    }

    #[test]
    fn ids_spread_over_all_shards() {
        // 200 000 random ids over 256 shards: ~781 each (σ ≈ 28). A hash that kept the
        // UUID's fixed bits would leave most shards empty.
        let registry = SessionRegistry::new(256);
        for _ in 0..200_000 {
            registry.register(session()).unwrap();
        }
        let stats = registry.stats();
        assert!(stats.smallest_shard > 600, "{stats:?}");
        assert!(stats.largest_shard < 960, "{stats:?}");
    }

    #[test]
    fn shard_and_bucket_bits_are_independent() {
        // Within one shard, the low bits (the shard's bucket index) must still vary.
        let registry = SessionRegistry::new(64);
        let mut low_bits = std::collections::HashSet::new();
        let mut found = 0;
        while found < 200 {
            let id = SessionId::new_v4();
            if std::ptr::eq(registry.shard(id.hash64()), &*registry.shards[0]) {
                found += 1;
                low_bits.insert(id.hash64() & 0xFF);
            }
        }
        assert!(low_bits.len() > 100, "{}", low_bits.len());
    }
}
