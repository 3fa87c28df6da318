//! `SessionId`: the one identity of a session, shared by type-state sessions, their audit
//! trail and the session registry (feature `session-id`).

use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use alloc::string::String;
use uuid::Uuid;

/// A session's identity: a random (version 4) UUID, printed hyphenated.
///
/// One type names a session everywhere in cnv: a `TypedSession` and every audit entry it
/// writes, and a `SessionHandle` in the registry. [`SessionId::new_v4`] draws 122 random
/// bits from the operating system, so ids are unguessable and already uniformly spread;
/// [`hash64`](Self::hash64) folds them into a hash without running a keyed hash such as
/// SipHash.
///
/// ```
/// use cnv_caps::SessionId;
///
/// let id = SessionId::new_v4();
/// let text = id.to_string();
/// assert_eq!(text.parse::<SessionId>()?, id);
/// assert_eq!(id.as_uuid().get_version_num(), 4);
/// # Ok::<(), cnv_caps::ParseSessionIdError>(())
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
    /// [`hash64`](Self::hash64) assumes ids are random. Ids chosen by an untrusted party
    /// can be crafted to collide (the fold is not a keyed hash), which slows the registry
    /// shard they land in; mint ids with [`new_v4`](Self::new_v4) and accept outside ids
    /// only from trusted storage.
    #[must_use]
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The id as a 128-bit number.
    #[must_use]
    pub const fn as_u128(self) -> u128 {
        self.0.as_u128()
    }

    /// The 64-bit hash of the id: the two halves of the UUID XORed together, then
    /// multiplied by an odd constant.
    ///
    /// A version 4 UUID has 6 fixed bits: the version nibble (`0100`, the high half of
    /// byte 6) and the variant (`10`, the top of byte 8). Taking either half alone would
    /// leave those bits constant, and a map that picks its shard or its tag from them
    /// uses only a fraction of its shards. Each fixed bit lands on a random bit of the
    /// other half, so all 64 bits of the fold are random; the multiply spreads ids that
    /// are *not* random (sequential test ids) over the high bits a shard and a tag are
    /// taken from. It costs one XOR and one multiply.
    #[must_use]
    pub const fn hash64(&self) -> u64 {
        let bits = self.0.as_u128();
        ((bits as u64) ^ ((bits >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl Hash for SessionId {
    /// Writes [`hash64`](Self::hash64) as one `u64`. With the registry's
    /// `SessionIdHasher` that *is* the hash; any other hasher (SipHash, foldhash, …)
    /// hashes those 8 bytes.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0.hyphenated())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for SessionId {
    type Err = ParseSessionIdError;

    /// Parses any of the UUID spellings `uuid` accepts (hyphenated, simple, URN, braced).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text)
            .map(Self)
            .map_err(|_| ParseSessionIdError { input: text.into() })
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

/// A session id that is not a UUID.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSessionIdError {
    /// The text that was refused.
    pub input: String,
}

impl fmt::Display for ParseSessionIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a session id; expected a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8",
            self.input
        )
    }
}

impl core::error::Error for ParseSessionIdError {}

#[cfg(feature = "serde")]
impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

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
        let id = SessionId::new_v4();
        let mut first = [0u8; 8];
        first.copy_from_slice(&id.0.as_bytes()[..8]);
        assert_eq!((u64::from_le_bytes(first) >> 52) & 0xF, 4);
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
        assert_eq!(id.to_string().parse::<SessionId>(), Ok(id));
        let err = "not-a-uuid".parse::<SessionId>().unwrap_err();
        assert!(
            err.to_string().contains("`not-a-uuid` is not a session id"),
            "{err}"
        );
        assert_eq!(format!("{id:?}"), format!("SessionId({id})"));
        assert_eq!(SessionId::from_uuid(*id.as_uuid()).as_u128(), id.as_u128());
    }
}
