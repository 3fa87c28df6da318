//! The session maps the registry benches compare: cnv's `SessionRegistry` and its peers,
//! behind one trait so every bench runs the same code on each.

use std::collections::HashMap;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use cnv::registry::{
    BuildSessionIdHasher, SessionBuilder, SessionHandle, SessionId, SessionRegistry,
};
use dashmap::DashMap;

use crate::baseline::LockedRegistry;

/// What the benches do to a map of sessions. Every implementation hands out an
/// `Arc<SessionHandle>` from `get`, as the registry does, so all do the same work.
pub trait SessionMap: Sync {
    /// Adds a session under its id (ids in the benches are always fresh).
    fn insert(&self, session: Arc<SessionHandle>);
    /// The session with this id.
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>>;
    /// Removes the session with this id.
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>>;
    /// Puts `session` in place of the one with its id.
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>>;
}

/// A map that can be sized up front for `capacity` sessions, each in the way its own API
/// offers: the registry and the textbook shards reserve the same amount per shard (the
/// registry's `with_capacity` rule), `DashMap` and `HashMap` their own `with_capacity`.
pub trait Presized: SessionMap + Sized {
    /// An empty map with room for `capacity` sessions.
    fn presized(capacity: usize) -> Self;
}

/// The shard count of the registry and of textbook sharding in the benches.
pub const SHARDS: usize = 1024;

impl Presized for SessionRegistry {
    fn presized(capacity: usize) -> Self {
        Self::with_capacity(SHARDS, capacity)
    }
}

impl Presized for LockedRegistry {
    fn presized(capacity: usize) -> Self {
        Self::with_capacity(SHARDS, capacity)
    }
}

impl Default for LockedRegistry {
    fn default() -> Self {
        Self::with_capacity(SHARDS, 0)
    }
}

impl SessionMap for LockedRegistry {
    fn insert(&self, session: Arc<SessionHandle>) {
        let registered = self.register(session);
        debug_assert!(registered);
    }
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        LockedRegistry::get(self, id)
    }
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        LockedRegistry::remove(self, id)
    }
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        LockedRegistry::replace(self, session)
    }
}

impl<S: BuildHasher + Clone + Default + Send + Sync> Presized
    for DashMap<SessionId, Arc<SessionHandle>, S>
{
    fn presized(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, S::default())
    }
}

impl Presized for MutexMap {
    fn presized(capacity: usize) -> Self {
        Self(Mutex::new(HashMap::with_capacity(capacity)))
    }
}

impl Presized for ShardedRwLockMap {
    fn presized(capacity: usize) -> Self {
        // What `SessionRegistry::with_capacity` reserves per shard: the mean share plus
        // four standard deviations.
        let mean = capacity.div_ceil(SHARDS);
        let per_shard = mean + 4 * mean.isqrt() + 4;
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_capacity(per_shard)))
                .collect(),
        }
    }
}

impl SessionMap for SessionRegistry {
    fn insert(&self, session: Arc<SessionHandle>) {
        let registered = self.register(session);
        debug_assert!(registered.is_ok());
    }
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        SessionRegistry::get(self, id)
    }
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        SessionRegistry::remove(self, id)
    }
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        SessionRegistry::replace(self, session)
    }
}

impl<S: BuildHasher + Clone + Send + Sync> SessionMap
    for DashMap<SessionId, Arc<SessionHandle>, S>
{
    fn insert(&self, session: Arc<SessionHandle>) {
        DashMap::insert(self, session.id(), session);
    }
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        DashMap::get(self, id).map(|entry| Arc::clone(entry.value()))
    }
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        DashMap::remove(self, id).map(|(_, session)| session)
    }
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        DashMap::insert(self, session.id(), session)
    }
}

/// DashMap with its default hasher (SipHash-1-3, randomly keyed).
pub type DashMapDefault = DashMap<SessionId, Arc<SessionHandle>>;
/// DashMap with foldhash, the fastest general-purpose hasher we tried.
pub type DashMapFoldhash = DashMap<SessionId, Arc<SessionHandle>, foldhash::fast::RandomState>;
/// DashMap with cnv's own `SessionIdHasher`: the best hasher we found for session ids.
pub type DashMapIdHasher = DashMap<SessionId, Arc<SessionHandle>, BuildSessionIdHasher>;

/// One `Mutex<HashMap>` with the standard library's default hasher.
#[derive(Debug, Default)]
pub struct MutexMap(Mutex<HashMap<SessionId, Arc<SessionHandle>>>);

impl SessionMap for MutexMap {
    fn insert(&self, session: Arc<SessionHandle>) {
        self.lock().insert(session.id(), session);
    }
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        self.lock().get(id).cloned()
    }
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        self.lock().remove(id)
    }
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        self.lock().insert(session.id(), session)
    }
}

impl MutexMap {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<SessionHandle>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Textbook sharding: 1024 `RwLock<HashMap>` shards, the shard chosen by hashing the id
/// with the standard library's `DefaultHasher`, each map with the default hasher.
#[derive(Debug)]
pub struct ShardedRwLockMap {
    shards: Box<[RwLockShard]>,
}

type RwLockShard = RwLock<HashMap<SessionId, Arc<SessionHandle>>>;

impl Default for ShardedRwLockMap {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }
}

impl ShardedRwLockMap {
    fn shard(&self, id: &SessionId) -> &RwLockShard {
        let mut hasher = DefaultHasher::new();
        id.as_uuid().hash(&mut hasher);
        &self.shards[(hasher.finish() as usize) & (self.shards.len() - 1)]
    }
}

impl SessionMap for ShardedRwLockMap {
    fn insert(&self, session: Arc<SessionHandle>) {
        let shard = self.shard(&session.id());
        shard
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.id(), session);
    }
    fn get(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        self.shard(id)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }
    fn remove(&self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        self.shard(id)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }
    fn replace(&self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        let shard = self.shard(&session.id());
        shard
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.id(), session)
    }
}

/// A plain `HashMap` with cnv's id hasher and no lock: what one thread reaches on a map
/// nobody else touches.
pub type PrivateMap = HashMap<SessionId, Arc<SessionHandle>, BuildSessionIdHasher>;

/// `n` fresh sessions.
#[must_use]
pub fn sessions(n: usize) -> Vec<Arc<SessionHandle>> {
    (0..n)
        .map(|_| Arc::new(SessionBuilder::new().build()))
        .collect()
}

/// The ids of `sessions`, in a random order (a fixed-seed shuffle, so runs compare).
#[must_use]
pub fn shuffled_ids(sessions: &[Arc<SessionHandle>], seed: u64) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = sessions.iter().map(|s| s.id()).collect();
    let mut state = seed | 1;
    for i in (1..ids.len()).rev() {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ids.swap(i, (state % (i as u64 + 1)) as usize);
    }
    ids
}

/// The resident memory of this process in bytes, from `/proc/self/statm` (Linux), or
/// `None` elsewhere.
#[must_use]
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(map: &dyn SessionMap) {
        let all = sessions(100);
        for s in &all {
            map.insert(Arc::clone(s));
        }
        for s in &all {
            assert!(Arc::ptr_eq(&map.get(&s.id()).unwrap(), s));
        }
        let twin = Arc::new(SessionBuilder::new().id(all[0].id()).build());
        assert!(Arc::ptr_eq(
            &map.replace(Arc::clone(&twin)).unwrap(),
            &all[0]
        ));
        assert!(Arc::ptr_eq(&map.remove(&all[0].id()).unwrap(), &twin));
        assert!(map.get(&all[0].id()).is_none());
    }

    #[test]
    fn every_peer_behaves_like_a_map() {
        exercise(&SessionRegistry::new(16));
        exercise(&LockedRegistry::default());
        exercise(&DashMapDefault::default());
        exercise(&DashMapFoldhash::default());
        exercise(&DashMapIdHasher::default());
        exercise(&MutexMap::default());
        exercise(&ShardedRwLockMap::default());
    }

    #[test]
    fn presized_maps_behave_like_maps() {
        exercise(&SessionRegistry::presized(1_000));
        exercise(&LockedRegistry::presized(1_000));
        exercise(&DashMapDefault::presized(1_000));
        exercise(&DashMapIdHasher::presized(1_000));
        exercise(&MutexMap::presized(1_000));
        let textbook = ShardedRwLockMap::presized(1_000_000);
        exercise(&textbook);
        // Every textbook shard got the registry's per-shard reserve (977 + 4·31 + 4 = 1105).
        assert!(textbook.shards.iter().all(|shard| {
            shard
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .capacity()
                >= 1_105
        }));
        assert!(SessionRegistry::presized(1_000_000).capacity() >= 1_000_000);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let all = sessions(1000);
        let mut shuffled = shuffled_ids(&all, 7);
        assert_ne!(
            shuffled[..10],
            all.iter().map(|s| s.id()).collect::<Vec<_>>()[..10]
        );
        shuffled.sort();
        let mut ids: Vec<_> = all.iter().map(|s| s.id()).collect();
        ids.sort();
        assert_eq!(shuffled, ids);
    }
}
