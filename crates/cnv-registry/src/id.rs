//! Streams within a session, and the hash that spreads session ids over shards and
//! buckets without paying for SipHash. The session id itself, [`SessionId`], is cnv's
//! one session identity, defined in `cnv-caps` and shared with type-state sessions and
//! their audit trail.

use core::fmt;
use core::hash::{BuildHasherDefault, Hasher};

pub use cnv_caps::SessionId;

/// A [`Hasher`] for [`SessionId`] keys: the hash *is* [`SessionId::hash64`], so a lookup
/// pays one XOR and one multiply instead of SipHash's rounds.
///
/// The registry itself calls [`SessionId::hash64`] directly (its shard tables store only
/// the sessions and take the hash as a number); this hasher gives other maps keyed by
/// `SessionId` (and the benches' `DashMap` peer) the same hash:
/// `HashMap<SessionId, V, BuildSessionIdHasher>`.
///
/// Fed anything other than one `u64`, it falls back to a simple multiplicative mix
/// (FxHash's). That is fine for a few small keys and is **not** resistant to crafted
/// collisions: use it for `SessionId`s, not for keys an adversary chooses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionIdHasher(u64);

impl Hasher for SessionIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        // The first (and, for a `SessionId`, only) word is taken as it is; later words
        // are mixed in FxHash's way.
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(if self.0 == 0 {
            1
        } else {
            0x51_7C_C1_B7_27_22_0A_95
        });
    }
}

/// Builds [`SessionIdHasher`]s: the `S` of `HashMap<SessionId, V, S>`.
pub type BuildSessionIdHasher = BuildHasherDefault<SessionIdHasher>;

/// A stream within a session (stdin, stdout, a tool's event channel, …): a small number
/// the application chooses. Each session numbers the frames of each stream separately
/// ([`SessionHandle::next_sequence`](crate::SessionHandle::next_sequence)).
///
/// Streams `0` to `3` have lock-free counters inside the session; higher numbers are
/// counted in a small locked list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream `id`.
    #[must_use]
    pub const fn new(id: u32) -> Self {
        Self(id)
    }

    /// The stream's number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl From<u32> for StreamId {
    fn from(id: u32) -> Self {
        Self(id)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_hasher_returns_the_fold() {
        let id = SessionId::new_v4();
        assert_eq!(BuildSessionIdHasher::default().hash_one(id), id.hash64());
        // Other keys still hash, and differently.
        let build = BuildSessionIdHasher::default();
        assert_ne!(build.hash_one("a"), build.hash_one("b"));
        assert_ne!(build.hash_one((1u64, 2u64)), build.hash_one((2u64, 1u64)));
    }

    #[test]
    fn streams_print() {
        assert_eq!(StreamId::from(7).get(), 7);
        assert_eq!(StreamId::new(2).to_string(), "stream 2");
    }
}
