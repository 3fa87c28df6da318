//! The session registry: sessions by id, in shards, each behind its own lock.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::{DuplicateSession, SessionHandle, SessionId, ShardCountError};

/// The shard count of [`SessionRegistry::default`], as in the seed's example.
pub const DEFAULT_SHARDS: usize = 1024;

/// The largest shard count a registry accepts (`2^16`).
pub const MAX_SHARDS: usize = 1 << 16;

/// The shard is taken from bits `40..56` of [`SessionId::hash64`]: not the low bits the
/// shard's own table indexes its buckets with, and not the top 7 bits it keeps as tags.
const SHARD_SHIFT: u32 = 40;

/// Sessions by id, for many threads at once.
///
/// The registry is `shards` hash maps (a power of two), each behind its own
/// reader-writer lock and on its own cache line; a session's shard comes from the random
/// bits of its id, so threads working on different sessions rarely meet. Lookups share
/// the shard's lock; registering and removing take it alone for the time of one hash-map
/// operation. No user code ever runs while a shard is locked.
///
/// Statistics live in the shards and are written under the lock the operation already
/// holds: a lookup writes nothing shared, and [`stats`](Self::stats) adds the shards up.
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
/// assert!(registry.remove(&id).is_some());
/// assert!(registry.is_empty());
/// let stats = registry.stats();
/// assert_eq!((stats.registered, stats.removed, stats.rejected_duplicates), (1, 1, 1));
/// # Ok::<(), cnv_registry::DuplicateSession>(())
/// ```
pub struct SessionRegistry {
    shards: Box<[CachePadded<RwLock<Shard>>]>,
    mask: usize,
}

/// One shard: its sessions and the counts of what happened to it, all under one lock.
///
/// The table stores the `Arc<SessionHandle>` alone (8 bytes a bucket): the key is the id
/// the session already holds, so it is not stored a second time, and the table's hash of
/// a session is [`SessionId::hash64`] of that id. Comparing a candidate dereferences the
/// `Arc`; the id is the session's first field, next to the `Arc`'s reference count, so a
/// lookup that finds its session touches the line its `Arc` clone writes anyway.
///
/// The number of registrations is not stored: it is `sessions.len() + removed` (every
/// registration adds one session, every removal takes one away, a replacement neither).
///
/// `repr(C)` keeps the declared order: behind the lock's state (16 bytes with std's
/// futex-based lock on Linux), the table (32 bytes) and `removed` share the lock's cache
/// line, so `get`, `register` and `remove` touch one line of the shard; the rarely
/// written counts come last.
#[derive(Default)]
#[repr(C)]
struct Shard {
    sessions: HashTable<Arc<SessionHandle>>,
    removed: u64,
    replaced: u64,
    rejected: u64,
}

impl Shard {
    fn registered(&self) -> u64 {
        self.sessions.len() as u64 + self.removed
    }

    /// Makes room for one more session, so that the table's own insert never grows it.
    #[inline]
    fn make_room(&mut self) {
        if self.sessions.len() == self.sessions.capacity() {
            self.grow(self.sessions.len() + 1);
        }
    }

    /// Rebuilds the table with room for at least `needed` sessions (and at least twice
    /// the sessions it holds, so growing one by one costs `O(1)` amortized).
    ///
    /// Growing has to hash every session again, and the table does not store hashes (that
    /// would double its size), so each one costs a read of the session: a cache miss and,
    /// with a million sessions, a TLB miss. The table's own growth reads each session
    /// between the probes of the new table, one after another (measured: 156 ms to
    /// register 1M sessions). Here the sessions are taken out first, then their ids read
    /// in a loop of a few instructions whose iterations do not depend on each other, so
    /// the processor overlaps the misses (134 ms); the moves then touch only the new table.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
        // Everything that allocates comes before the sessions leave the old table, so a
        // failed allocation leaves the shard as it was.
        let mut table = HashTable::with_capacity(needed.max(2 * self.sessions.len()));
        let mut sessions = Vec::with_capacity(self.sessions.len());
        let mut hashes = Vec::with_capacity(self.sessions.len());
        sessions.extend(self.sessions.drain());
        hashes.extend(sessions.iter().map(|s| s.id().hash64()));
        for (hash, session) in hashes.into_iter().zip(sessions) {
            table.insert_unique(hash, session, rehash);
        }
        self.sessions = table;
    }
}

/// The table's hash of a stored session: the hash of its id (used when a table grows).
#[inline]
fn rehash(session: &Arc<SessionHandle>) -> u64 {
    session.id().hash64()
}

/// The table's equality test for `id`.
#[inline]
fn has_id(id: SessionId) -> impl Fn(&Arc<SessionHandle>) -> bool {
    move |session| session.id() == id
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
            .map(|_| {
                CachePadded::new(RwLock::new(Shard {
                    sessions: HashTable::with_capacity(per_shard),
                    ..Shard::default()
                }))
            })
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
            .map(|shard| read(shard).sessions.capacity())
            .min()
            .unwrap_or(0);
        smallest * self.shards.len()
    }

    /// Makes room for `additional` more sessions, so that registering them does not grow
    /// the shards one by one.
    pub fn reserve(&self, additional: usize) {
        let per_shard = per_shard_capacity(additional, self.shards.len());
        for shard in &self.shards {
            let mut shard = write(shard);
            let needed = shard.sessions.len() + per_shard;
            if needed > shard.sessions.capacity() {
                shard.grow(needed);
            }
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
        let id = session.id();
        let hash = id.hash64();
        let mut shard = write(self.shard(hash));
        shard.make_room();
        match shard.sessions.entry(hash, has_id(id), rehash) {
            Entry::Occupied(_) => {
                shard.rejected += 1;
                Err(DuplicateSession::new(session))
            }
            Entry::Vacant(slot) => {
                slot.insert(session);
                Ok(())
            }
        }
    }

    /// Registers `session`, replacing and returning the session that had its id, if any.
    /// A replacement counts in [`RegistryStats::replaced`], not as a registration.
    #[must_use = "the replaced session is returned; drop it explicitly if it is not needed"]
    #[inline]
    pub fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        let id = session.id();
        let hash = id.hash64();
        let mut shard = write(self.shard(hash));
        shard.make_room();
        match shard.sessions.entry(hash, has_id(id), rehash) {
            Entry::Occupied(mut slot) => {
                let previous = std::mem::replace(slot.get_mut(), session);
                shard.replaced += 1;
                Some(previous)
            }
            Entry::Vacant(slot) => {
                slot.insert(session);
                None
            }
        }
    }

    /// The session with this id.
    #[must_use]
    #[inline]
    pub fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        read(self.shard(hash))
            .sessions
            .find(hash, has_id(*id))
            .cloned()
    }

    /// Whether a session with this id is registered.
    #[must_use]
    #[inline]
    pub fn contains(&self, id: &SessionId) -> bool {
        let hash = id.hash64();
        read(self.shard(hash))
            .sessions
            .find(hash, has_id(*id))
            .is_some()
    }

    /// Removes the session with this id and returns it.
    #[must_use = "the removed session is returned; drop it explicitly if it is not needed"]
    #[inline]
    pub fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        let mut shard = write(self.shard(hash));
        let (removed, _) = shard.sessions.find_entry(hash, has_id(*id)).ok()?.remove();
        shard.removed += 1;
        Some(removed)
    }

    /// Keeps the sessions for which `keep` returns `true` and removes the others
    /// (counted in [`RegistryStats::removed`]); returns how many were removed.
    ///
    /// `keep` runs with no lock held, so it may use the registry itself. Shard by shard,
    /// the registry takes a snapshot, asks `keep` about each session, then removes the
    /// refused ones unless they were replaced in the meantime.
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
        for shard in &self.shards {
            let snapshot: Vec<Arc<SessionHandle>> = read(shard).sessions.iter().cloned().collect();
            let refused: Vec<Arc<SessionHandle>> = snapshot
                .into_iter()
                .filter(|session| !keep(session))
                .collect();
            if refused.is_empty() {
                continue;
            }
            let mut shard = write(shard);
            for session in &refused {
                // The same session, not one that replaced it in the meantime.
                let same = |candidate: &Arc<SessionHandle>| Arc::ptr_eq(candidate, session);
                if let Ok(entry) = shard.sessions.find_entry(session.id().hash64(), same) {
                    entry.remove();
                    shard.removed += 1;
                    removed += 1;
                }
            }
        }
        removed
    }

    /// The number of sessions registered.
    ///
    /// It visits every shard (sharing each lock briefly), so it costs `O(shards)`; the
    /// registry keeps no global count, which would be a cache line every registration
    /// and removal on every core writes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| read(shard).sessions.len())
            .sum()
    }

    /// Whether no session is registered (`O(shards)`, like [`len`](Self::len)).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shards
            .iter()
            .all(|shard| read(shard).sessions.is_empty())
    }

    /// The number of registered sessions that are [`Active`](crate::SessionLifecycle::Active)
    /// (not suspended or closed). It reads every session's state: `O(len)`.
    #[must_use]
    pub fn active_sessions(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                read(shard)
                    .sessions
                    .iter()
                    .filter(|session| session.is_active())
                    .count()
            })
            .sum()
    }

    /// The registry's counts, added up over the shards.
    ///
    /// Every count is written under its shard's lock by the operation it counts, so once
    /// the threads that used the registry have joined, the counts are exact;
    /// `sessions == registered - removed` always holds per shard. While threads are
    /// working, shards are read one after another, so a snapshot may mix moments.
    #[must_use]
    pub fn stats(&self) -> RegistryStats {
        let mut stats = RegistryStats {
            shards: self.shards.len(),
            smallest_shard: usize::MAX,
            ..RegistryStats::default()
        };
        for shard in &self.shards {
            let shard = read(shard);
            let len = shard.sessions.len();
            stats.sessions += len;
            stats.registered += shard.registered();
            stats.removed += shard.removed;
            stats.replaced += shard.replaced;
            stats.rejected_duplicates += shard.rejected;
            stats.smallest_shard = stats.smallest_shard.min(len);
            stats.largest_shard = stats.largest_shard.max(len);
        }
        stats
    }

    /// The registered sessions, shard by shard.
    ///
    /// The iterator copies one shard's sessions at a time (holding its lock only for the
    /// copy), so it never blocks the registry for long. A session registered or removed
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
    fn shard(&self, hash: u64) -> &RwLock<Shard> {
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

#[inline]
fn read(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
    // A shard's data stays consistent even if a thread panicked while holding the lock:
    // its critical sections are single hash-map operations and counter increments.
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

#[inline]
fn write(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
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
            let batch: Vec<_> = read(shard).sessions.iter().cloned().collect();
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
        let empty = SessionRegistry::new(64);
        assert_eq!(empty.capacity(), 0);
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
    fn a_shard_with_its_lock_fits_in_two_lines() {
        // Table (32 bytes) and three counts; with std's 16-byte lock header, 72 bytes.
        assert_eq!(size_of::<Shard>(), 56);
        assert!(size_of::<RwLock<Shard>>() <= 128);
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
