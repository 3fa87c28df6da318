//! The registry as it was before its lookups became lock-free, kept as a bench contestant:
//! `shards` `RwLock`s (each on its own cache line) around a `hashbrown::HashTable` of
//! `Arc<SessionHandle>` (8-byte buckets keyed by the id inside the session), the shard taken
//! from bits 40..56 of `SessionId::hash64`, growth by the registry's own rebuild.
//!
//! This is a copy of that code's hot paths (`register`, `replace`, `get`, `remove`,
//! `with_capacity`), not a re-implementation: the lock-free registry's targets are ratios
//! against it, measured in the same run.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cnv::registry::{SessionHandle, SessionId};
use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// The shard index comes from these bits of [`SessionId::hash64`].
const SHARD_SHIFT: u32 = 40;

/// The registry with a read lock per lookup (the design before lock-free reads).
#[derive(Debug)]
pub struct LockedRegistry {
    shards: Box<[CachePadded<RwLock<Shard>>]>,
    mask: usize,
}

#[derive(Debug, Default)]
#[repr(C)]
struct Shard {
    sessions: HashTable<Arc<SessionHandle>>,
    removed: u64,
    replaced: u64,
    rejected: u64,
}

impl Shard {
    #[inline]
    fn make_room(&mut self) {
        if self.sessions.len() == self.sessions.capacity() {
            self.grow(self.sessions.len() + 1);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
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

#[inline]
fn rehash(session: &Arc<SessionHandle>) -> u64 {
    session.id().hash64()
}

#[inline]
fn has_id(id: SessionId) -> impl Fn(&Arc<SessionHandle>) -> bool {
    move |session| session.id() == id
}

impl LockedRegistry {
    /// A registry of `shards` shards (a power of two) with room for about `capacity`
    /// sessions.
    #[must_use]
    pub fn with_capacity(shards: usize, capacity: usize) -> Self {
        let count = shards.clamp(1, 1 << 16).next_power_of_two();
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

    /// Adds `session` under its id; `false` if the id was taken.
    #[must_use]
    #[inline]
    pub fn register(&self, session: Arc<SessionHandle>) -> bool {
        let id = session.id();
        let hash = id.hash64();
        let mut shard = write(self.shard(hash));
        shard.make_room();
        match shard.sessions.entry(hash, has_id(id), rehash) {
            Entry::Occupied(_) => {
                shard.rejected += 1;
                false
            }
            Entry::Vacant(slot) => {
                slot.insert(session);
                true
            }
        }
    }

    /// Registers `session`, returning the one it replaced.
    #[must_use]
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

    /// The session with this id (the `Arc` cloned out under the shard's read lock).
    #[must_use]
    #[inline]
    pub fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        read(self.shard(hash))
            .sessions
            .find(hash, has_id(*id))
            .cloned()
    }

    /// Removes the session with this id.
    #[must_use]
    #[inline]
    pub fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        let mut shard = write(self.shard(hash));
        let (removed, _) = shard.sessions.find_entry(hash, has_id(*id)).ok()?.remove();
        shard.removed += 1;
        Some(removed)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        &self.shards[(hash >> SHARD_SHIFT) as usize & self.mask]
    }
}

fn per_shard_capacity(capacity: usize, shards: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let mean = capacity.div_ceil(shards);
    mean + 4 * mean.isqrt() + 4
}

#[inline]
fn read(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

#[inline]
fn write(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
}
