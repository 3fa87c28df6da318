//! Identifiers — sessions (random UUIDs) and streams — and the hash that spreads session
//! ids over shards and buckets without paying for SipHash.

use core::fmt;
use core::hash::{BuildHasherDefault, Hash, Hasher};
use core::str::FromStr;

use uuid::Uuid;

/// A session's identity: a random (version 4) UUID.
///
/// [`SessionId::new_v4`] draws 122 random bits from the operating system, so ids are
/// unguessable and already uniformly spread; the registry hashes them by folding the two
/// halves together instead of running a keyed hash such as SipHash (see
/// [`SessionIdHasher`]).
///
/// ```
/// use cnv_registry::SessionId;
///
/// let id = SessionId::new_v4();
/// let text = id.to_string();
/// assert_eq!(text.parse::<SessionId>()?, id);
/// assert_eq!(id.as_uuid().get_version_num(), 4);
/// # Ok::<(), cnv_registry::uuid::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionId(Uuid);

impl SessionId {
    /// A new random id (UUID version 4, from the operating system's random source).
    #[must_use]
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id of an existing UUID, e.g. one read back from storage.
    ///
    /// The registry's hash assumes ids are random. Ids chosen by an untrusted party can
    /// be crafted to collide (the fold below is not a keyed hash), which slows the shard
    /// they land in; mint ids with [`new_v4`](Self::new_v4) and accept outside ids only
    /// from trusted storage.
    #[must_use]
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 64-bit hash of the id: the two halves of the UUID XORed together, then
    /// multiplied by an odd constant.
    ///
    /// A version 4 UUID has 6 fixed bits: the version nibble (`0100`, the high half of
    /// byte 6) and the variant (`10`, the top of byte 8). Taking either half alone would
    /// leave those bits constant, and a map that picks its shard or its tag from them
    /// uses only a fraction of its shards. Each fixed bit lands on a random bit of the
    /// other half, so all 64 bits of the fold are random; the multiply spreads ids that
    /// are *not* random (sequential test ids) over the high bits the shard and the tag
    /// are taken from. It costs one XOR and one multiply.
    #[must_use]
    pub const fn hash64(&self) -> u64 {
        let bits = self.0.as_u128();
        ((bits as u64) ^ ((bits >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl Hash for SessionId {
    /// Writes [`hash64`](Self::hash64) as one `u64`. With [`SessionIdHasher`] that *is*
    /// the hash; any other hasher (SipHash, foldhash, …) hashes those 8 bytes.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for SessionId {
    type Err = uuid::Error;

    /// Parses any of the UUID spellings `uuid` accepts (hyphenated, simple, URN, braced).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text).map(Self)
    }
}

impl From<Uuid> for SessionId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl From<SessionId> for Uuid {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

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
    fn every_bit_of_the_hash_varies() {
        // 6 bits of a v4 UUID are fixed; none of them may survive into the hash.
        let mut ones = [0u32; 64];
        let samples = 20_000;
        for _ in 0..samples {
            let hash = SessionId::new_v4().hash64();
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += u32::from((hash >> bit) & 1 == 1);
            }
        }
        for (bit, &count) in ones.iter().enumerate() {
            // Binomial(20 000, 1/2) has a standard deviation of ~71: 9 000..11 000 is
            // ±14 σ, so a random bit never fails and a fixed bit (0 or 20 000) always does.
            assert!(
                (9_000..11_000).contains(&count),
                "bit {bit} set {count} times"
            );
        }
    }

    #[test]
    fn the_raw_bytes_would_not_do() {
        // The reason for the fold: the first 8 bytes of a v4 UUID, read as a number, have
        // the version nibble at bits 52..56, which DashMap's shard choice reads.
        let raw = |id: SessionId| u64::from_le_bytes(id.0.as_bytes()[..8].try_into().unwrap());
        let id = SessionId::new_v4();
        assert_eq!((raw(id) >> 52) & 0xF, 4);
    }

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
    fn sequential_ids_spread_over_the_high_bits() {
        // Ids that are not random (tests, imports) still reach every value of the top bits.
        let mut seen = [false; 256];
        for n in 0..4096u128 {
            let hash = SessionId::from_uuid(Uuid::from_u128(n)).hash64();
            seen[(hash >> 56) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn ids_parse_and_print() {
        let id = SessionId::new_v4();
        assert_eq!(id.to_string().parse::<SessionId>().unwrap(), id);
        assert!("not-a-uuid".parse::<SessionId>().is_err());
        assert_eq!(format!("{:?}", id), format!("SessionId({id})"));
        assert_eq!(StreamId::from(7).get(), 7);
        assert_eq!(StreamId::new(2).to_string(), "stream 2");
    }
}
