//! The line format of a cnv audit log: one place that writes a line and one that reads
//! it back, used by the writers ([`AuditLog`](crate::AuditLog),
//! [`JsonLinesSink`](crate::JsonLinesSink)) and by the readers
//! ([`ChainReader`](crate::ChainReader), the `cnv-audit` tool).
//!
//! # A line
//!
//! ```text
//! {"prev":"<64 hex>","n":<number>,<the record's fields>,"hash":"<64 hex>"[,"sig":"<128 hex>"]}
//! ```
//!
//! * `prev` is the hash of the line before (64 zeros on line 1), `n` the line's number
//!   from 1;
//! * `hash` is the SHA-256 of the line's bytes up to (not including) `,"hash":`;
//! * `sig`, on a checkpoint of a log that has a key, is the ed25519 signature of
//!   [`checkpoint_message`] — the log's id, `n` and `hash` — so it vouches for the line
//!   and, through the chain, for every line before it.
//!
//! Line 1 is the genesis (`"genesis":{…}`), which names the log and its public key; a
//! `"recovery":{…}` line says what a writer found wrong and repaired; every other line
//! is an [`AuditEntry`](crate::AuditEntry). Strings are written with every character
//! that is escaped when shown (controls, format characters, line and paragraph
//! separators, default-ignorable code points: see
//! [`is_escaped_when_shown`](cnv_caps::text::is_escaped_when_shown)) as a `\uXXXX`
//! escape, so the bytes of a log never move a terminal's cursor or hide text.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::entry::rfc3339;
use crate::error::{AuditError, ChainError};
use cnv_caps::text::is_escaped_when_shown;

/// The longest line a log may hold, in bytes (1 MiB): a writer refuses an entry that
/// would be longer ([`AuditError::TooLong`]), and a reader never buffers more than this
/// to find a line's end.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The format named in a genesis line.
pub(crate) const FORMAT: &str = "cnv-audit/1";

/// A SHA-256 hash in the chain, printed as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The `prev` of line 1 (the genesis): 64 zeros.
    pub const GENESIS: Self = Self([0; 32]);

    pub(crate) fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({self})")
    }
}

impl FromStr for ChainHash {
    type Err = ChainError;

    /// Parses 64 lower-case hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex(s).map(Self).ok_or_else(|| ChainError::Malformed {
            line: 0,
            reason: "not a hash: expected 64 lower-case hex digits".to_owned(),
        })
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_hex(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lower-case hex digits"))
    }
}

/// The identity of a log: 16 random bytes chosen when its genesis is written, printed as
/// 32 lower-case hex digits. Every checkpoint signature covers it, so a signature cannot
/// be moved from one log to another.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId([u8; 16]);

impl LogId {
    /// A fresh random id.
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The 16 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogId({self})")
    }
}

impl Serialize for LogId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_hex(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("expected 32 lower-case hex digits"))
    }
}

/// An ed25519 signature, 128 hex digits in a log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sig(pub(crate) [u8; 64]);

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sig({self})")
    }
}

impl Serialize for Sig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_hex(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("expected 128 lower-case hex digits"))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the lower-case hex digits of `bytes` to `out` (a table, not `fmt`: the chain
/// writes three hashes a line).
pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(2 * bytes.len());
    for &byte in bytes {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0xF)]);
    }
}

pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let mut out = Vec::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    // Hex digits are ASCII.
    f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
}

/// Parses exactly `2 * N` lower-case hex digits.
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0; N];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// What a checkpoint signature signs: a domain tag, the log's id, the line's number and
/// its hash (88 bytes). The same message signs a line's `sig` and the head beside the
/// log, so a head copied from a checkpoint line verifies, and nothing else does.
#[must_use]
pub fn checkpoint_message(log: &LogId, entries: u64, hash: &ChainHash) -> [u8; 88] {
    const DOMAIN: &[u8; 32] = b"cnv-audit checkpoint v1\0\0\0\0\0\0\0\0\0";
    let mut message = [0; 88];
    message[..32].copy_from_slice(DOMAIN);
    message[32..48].copy_from_slice(&log.0);
    message[48..56].copy_from_slice(&entries.to_be_bytes());
    message[56..].copy_from_slice(&hash.0);
    message
}

/// The first line of a log: it names the log and the key that signs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Genesis {
    /// The format, `cnv-audit/1`.
    pub format: String,
    /// The log's id.
    pub log: LogId,
    /// The operator's public key, which signs every checkpoint; `None` for a log kept
    /// without a key (hash-chained, not signed).
    pub public_key: Option<crate::AuditPublicKey>,
    /// Whether the writer keeps a head beside the log (`FILE.head`); an
    /// [`AuditLog`](crate::AuditLog) does, a [`JsonLinesSink`](crate::JsonLinesSink) does
    /// not. A log that says so and has no head has lost it.
    pub head: bool,
}

/// A line written by a writer that found something to repair before it went on: the
/// chain continues after it, and it says what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recovery {
    /// A partial last line (a writer stopped in the middle of it: a crash, `SIGXFSZ`, a
    /// full disk), removed before this line was written.
    pub torn: Option<TornTail>,
    /// The head beside the log, when it disagreed with the log: the log was cut,
    /// replaced or rewritten after that head was written, or the head was deleted.
    pub head: Option<HeadFinding>,
}

/// The partial line a [`Recovery`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TornTail {
    /// Its length in bytes.
    pub bytes: u64,
    /// The SHA-256 of its bytes.
    pub sha256: ChainHash,
}

/// What a writer found in place of a head that agrees with the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeadFinding {
    /// The log says it keeps a head, and there was none.
    Missing,
    /// The head file held something that is not a head.
    Unreadable,
    /// A head that does not match the log: another log's, or one that records more
    /// entries than the log holds, or another hash for its last entry.
    Disagreed(ChainHead),
}

impl fmt::Display for HeadFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the head beside the log was missing"),
            Self::Unreadable => f.write_str("the head beside the log was not a cnv head"),
            Self::Disagreed(head) => write!(
                f,
                "the head beside the log recorded {} entries ending in {} of log {}",
                head.entries, head.hash, head.log
            ),
        }
    }
}

/// The signed head kept beside a log (`FILE.head`): the log's id, how many lines it held
/// at its last checkpoint, the hash of that last line, and the signature of
/// [`checkpoint_message`] over them. A log that is shorter than its head, or whose line
/// at `entries` has another hash, or that is another log, was cut, rewritten or
/// replaced after the checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChainHead {
    /// The log's id.
    pub log: LogId,
    /// How many lines the log held at the checkpoint.
    pub entries: u64,
    /// The hash of line `entries`.
    pub hash: ChainHash,
    #[serde(rename = "sig")]
    pub(crate) signature: Option<Sig>,
}

/// The size of a head file: one JSON object padded with spaces, then a newline, written
/// with one positioned write so a reader never sees half of two heads.
pub(crate) const HEAD_BYTES: usize = 512;

/// A head file: the head and the format's version.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadFile {
    cnv_audit_head: u32,
    log: LogId,
    entries: u64,
    hash: ChainHash,
    sig: Option<Sig>,
}

impl ChainHead {
    /// Whether the head carries a signature.
    #[must_use]
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Whether the head is signed by `key`.
    #[must_use]
    pub fn is_signed_by(&self, key: &crate::AuditPublicKey) -> bool {
        self.signature.is_some_and(|sig| {
            key.verifies(
                &checkpoint_message(&self.log, self.entries, &self.hash),
                &sig,
            )
        })
    }

    /// Reads a head file's bytes; `None` when they are not a cnv head.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?.trim_end();
        let file: HeadFile = serde_json::from_str(text).ok()?;
        (file.cnv_audit_head == 1).then_some(Self {
            log: file.log,
            entries: file.entries,
            hash: file.hash,
            signature: file.sig,
        })
    }

    /// The head file's bytes: [`HEAD_BYTES`] long.
    pub(crate) fn to_bytes(self) -> [u8; HEAD_BYTES] {
        let json = serde_json::to_vec(&HeadFile {
            cnv_audit_head: 1,
            log: self.log,
            entries: self.entries,
            hash: self.hash,
            sig: self.signature,
        })
        .unwrap_or_default();
        let mut out = [b' '; HEAD_BYTES];
        let len = json.len().min(HEAD_BYTES - 1);
        out[..len].copy_from_slice(&json[..len]);
        out[HEAD_BYTES - 1] = b'\n';
        out
    }
}

/// The path of the head kept beside the log at `log`: `FILE.head`.
#[must_use]
pub fn head_path(log: &std::path::Path) -> std::path::PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    name.into()
}

/// A record of the log, as written.
pub(crate) enum BodyOut<'a> {
    Genesis(&'a Genesis),
    Entry(&'a crate::AuditEntry),
    Recovery(&'a Recovery),
}

#[derive(Serialize)]
struct GenesisOut<'a> {
    genesis: &'a Genesis,
    #[serde(with = "rfc3339")]
    timestamp: SystemTime,
}

#[derive(Serialize)]
struct RecoveryOut<'a> {
    recovery: &'a Recovery,
    #[serde(with = "rfc3339")]
    timestamp: SystemTime,
}

/// Where the chain stands: the number and hash of the last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tip {
    pub(crate) n: u64,
    pub(crate) hash: ChainHash,
}

impl Tip {
    /// Before line 1.
    pub(crate) const EMPTY: Self = Self {
        n: 0,
        hash: ChainHash::GENESIS,
    };
}

/// One encoded line, newline included.
pub(crate) struct Encoded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) tip: Tip,
}

const HASH_FIELD: &[u8] = b",\"hash\":\"";
const SIG_FIELD: &[u8] = b"\",\"sig\":\"";

/// Signs line `n` whose hash is given; `None` without a key.
pub(crate) type Signer<'a> = &'a dyn Fn(u64, &ChainHash) -> Option<Sig>;

/// Encodes `body` as the line after `tip`, signed by `sign` when given (it receives
/// the line's number and hash and returns the signature, if it has a key).
pub(crate) fn encode(
    tip: Tip,
    body: &BodyOut<'_>,
    sign: Option<Signer<'_>>,
) -> Result<Encoded, AuditError> {
    let n = tip.n + 1;
    let mut bytes = Vec::with_capacity(1024);
    bytes.extend_from_slice(b"{\"prev\":\"");
    push_hex(&mut bytes, &tip.hash.0);
    bytes.extend_from_slice(b"\",\"n\":");
    let _ = write!(bytes, "{n}");
    let start = bytes.len();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Escaping);
    let encoded = match body {
        BodyOut::Genesis(genesis) => GenesisOut {
            genesis,
            timestamp: crate::entry::now(),
        }
        .serialize(&mut serializer),
        BodyOut::Entry(entry) => entry.serialize(&mut serializer),
        BodyOut::Recovery(recovery) => RecoveryOut {
            recovery,
            timestamp: crate::entry::now(),
        }
        .serialize(&mut serializer),
    };
    encoded.map_err(|err| AuditError::Encode(Arc::new(err)))?;
    // `…"n":7` + `{"timestamp":…}` -> `…"n":7,"timestamp":…`
    bytes[start] = b',';
    bytes.pop(); // the body's closing brace
    let hash = ChainHash::of(&bytes);
    bytes.extend_from_slice(HASH_FIELD);
    push_hex(&mut bytes, &hash.0);
    if let Some(sig) = sign.and_then(|sign| sign(n, &hash)) {
        bytes.extend_from_slice(SIG_FIELD);
        push_hex(&mut bytes, &sig.0);
    }
    bytes.extend_from_slice(b"\"}\n");
    if bytes.len() > MAX_LINE_BYTES {
        return Err(AuditError::TooLong {
            bytes: bytes.len(),
            limit: MAX_LINE_BYTES,
        });
    }
    Ok(Encoded {
        bytes,
        tip: Tip { n, hash },
    })
}

/// A line whose hash matches its bytes, split into its parts (not yet parsed as JSON).
pub(crate) struct Framed<'a> {
    /// The whole line, without its newline.
    pub(crate) text: &'a str,
    pub(crate) hash: ChainHash,
    pub(crate) sig: Option<Sig>,
}

/// Checks the frame of one line (without its newline): `hash` (and `sig`) last, the hash
/// matching the bytes before it. `number` is for messages.
pub(crate) fn frame(number: usize, line: &[u8]) -> Result<Framed<'_>, ChainError> {
    let malformed = |reason: &str| ChainError::Malformed {
        line: number,
        reason: reason.to_owned(),
    };
    let text = std::str::from_utf8(line).map_err(|_| malformed("it is not UTF-8 text"))?;
    // A `"` inside a JSON string is always escaped, so the last `,"hash":"` of a line is
    // the field itself, and the line must end right after it (and its signature).
    let at = rfind(line, HASH_FIELD).ok_or_else(|| malformed("it has no `hash` field"))?;
    let rest = &text[at + HASH_FIELD.len()..];
    const UNSIGNED: usize = 64 + 2;
    const SIGNED: usize = 64 + SIG_FIELD.len() + 128 + 2;
    let closed = rest.ends_with("\"}");
    let (hash, sig) = match rest.len() {
        UNSIGNED if closed => (&rest[..64], None),
        SIGNED if closed && rest.as_bytes()[64..].starts_with(SIG_FIELD) => {
            (&rest[..64], Some(&rest[64 + SIG_FIELD.len()..SIGNED - 2]))
        }
        _ => return Err(malformed("`hash` is not the last field of the line")),
    };
    let hash = parse_hex(hash)
        .map(ChainHash)
        .ok_or_else(|| malformed("`hash` is not 64 lower-case hex digits"))?;
    let sig = match sig {
        Some(sig) => Some(
            parse_hex(sig)
                .map(Sig)
                .ok_or_else(|| malformed("`sig` is not 128 lower-case hex digits"))?,
        ),
        None => None,
    };
    if ChainHash::of(&line[..at]) != hash {
        return Err(ChainError::Edited { line: number });
    }
    Ok(Framed { text, hash, sig })
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|window| window == needle)
}

/// A record read back from a line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordBody {
    /// Line 1: the log's name and key.
    Genesis(Genesis),
    /// An audit entry.
    Entry(Box<crate::AuditEntry>),
    /// A writer's repair.
    Recovery(Recovery),
}

/// A framed line parsed: its `prev`, `n` and record.
pub(crate) struct Parsed {
    pub(crate) prev: ChainHash,
    pub(crate) n: u64,
    pub(crate) timestamp: Option<SystemTime>,
    pub(crate) body: RecordBody,
}

pub(crate) fn parse(number: usize, framed: &Framed<'_>) -> Result<Parsed, ChainError> {
    let malformed = |reason: String| ChainError::Malformed {
        line: number,
        reason,
    };
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(framed.text).map_err(|err| malformed(err.to_string()))?;
    let mut take = |field: &str| {
        map.remove(field)
            .ok_or_else(|| malformed(format!("it has no `{field}` field")))
    };
    let prev: ChainHash =
        serde_json::from_value(take("prev")?).map_err(|err| malformed(format!("`prev`: {err}")))?;
    let n: u64 =
        serde_json::from_value(take("n")?).map_err(|err| malformed(format!("`n`: {err}")))?;
    map.remove("hash");
    map.remove("sig");
    let field = |name: &str, err: serde_json::Error| malformed(format!("`{name}`: {err}"));
    let timestamp = |map: &serde_json::Map<String, serde_json::Value>| {
        map.get("timestamp")
            .and_then(serde_json::Value::as_str)
            .and_then(|text| humantime::parse_rfc3339(text).ok())
    };
    let (timestamp, body) = if let Some(genesis) = map.remove("genesis") {
        let genesis: Genesis =
            serde_json::from_value(genesis).map_err(|err| field("genesis", err))?;
        (timestamp(&map), RecordBody::Genesis(genesis))
    } else if let Some(recovery) = map.remove("recovery") {
        let recovery: Recovery =
            serde_json::from_value(recovery).map_err(|err| field("recovery", err))?;
        (timestamp(&map), RecordBody::Recovery(recovery))
    } else {
        let entry: crate::AuditEntry = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|err| malformed(err.to_string()))?;
        (Some(entry.timestamp), RecordBody::Entry(Box::new(entry)))
    };
    Ok(Parsed {
        prev,
        n,
        timestamp,
        body,
    })
}

/// The `n` of a framed line, read without parsing the whole line: it follows `prev` at
/// a fixed place in every line this crate writes.
pub(crate) fn quick_number(text: &str) -> Option<(ChainHash, u64)> {
    let rest = text.strip_prefix("{\"prev\":\"")?;
    let prev = parse_hex(rest.get(..64)?).map(ChainHash)?;
    let rest = rest.get(64..)?.strip_prefix("\",\"n\":")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    Some((prev, rest[..digits].parse().ok()?))
}

/// A `serde_json` formatter that also escapes, as `\uXXXX`, every character that
/// [`is_escaped_when_shown`] names (DEL, C1 controls, bidirectional overrides, zero-width
/// characters, the line and paragraph separators, …): JSON escapes only C0 controls,
/// and a terminal reading the log must see no raw escape. `$` and `` ` `` are escaped
/// too, so a shell that sources a log by mistake finds no expansion in it: each line
/// is one word (the command is not found), and no string in it expands.
pub(crate) struct Escaping;

impl serde_json::ser::Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json escaped C0, `"` and `\\` already; what remains to escape is DEL,
        // `$`, `` ` `` and some non-ASCII characters. Clean runs are written whole.
        let bytes = fragment.as_bytes();
        let mut start = 0;
        let mut at = 0;
        // Skip the bytes that never need escaping (almost all of them), in one scan.
        while let Some(skip) = bytes[at..]
            .iter()
            .position(|&b| b >= 0x7F || b == b'$' || b == b'`')
        {
            at += skip;
            // `at` is a char boundary: it only ever advances by whole characters.
            let c = fragment[at..].chars().next().unwrap_or('\u{FFFD}');
            let width = c.len_utf8();
            if needs_escape(c) {
                writer.write_all(&bytes[start..at])?;
                let mut units = [0; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    let digits = unit.to_be_bytes();
                    let mut escaped = *b"\\u0000";
                    escaped[2] = HEX[usize::from(digits[0] >> 4)];
                    escaped[3] = HEX[usize::from(digits[0] & 0xF)];
                    escaped[4] = HEX[usize::from(digits[1] >> 4)];
                    escaped[5] = HEX[usize::from(digits[1] & 0xF)];
                    writer.write_all(&escaped)?;
                }
                start = at + width;
            }
            at += width;
        }
        writer.write_all(&bytes[start..])
    }
}

fn needs_escape(c: char) -> bool {
    is_escaped_when_shown(c as u32) || matches!(c, '$' | '`')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_and_round_trip() {
        let text = "a\u{1b}[2J\u{202e}b\u{85}c\u{7f}d\u{200b}e\u{e0041}f\u{2028}g é $(x) `y`";
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Escaping);
        text.serialize(&mut serializer).expect("encodes");
        let json = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            json,
            r#""a\u001b[2J\u202eb\u0085c\u007fd\u200be\udb40\udc41f\u2028g é \u0024(x) \u0060y\u0060""#
        );
        assert!(json.chars().all(|c| !needs_escape(c) && !c.is_control()));
        let back: String = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back, text);
    }

    #[test]
    fn hex_round_trips() {
        let hash = ChainHash::of(b"abc");
        assert_eq!(
            hash.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash.to_string().parse::<ChainHash>().expect("parses"), hash);
        assert!("xyz".parse::<ChainHash>().is_err());
        assert!(
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
                .parse::<ChainHash>()
                .is_err()
        );
        assert_eq!(parse_hex::<2>("0aff"), Some([10, 255]));
        assert_eq!(parse_hex::<2>("0af"), None);
    }

    #[test]
    fn heads_have_a_fixed_size_and_round_trip() {
        let head = ChainHead {
            log: LogId([7; 16]),
            entries: u64::MAX,
            hash: ChainHash::of(b"x"),
            signature: Some(Sig([9; 64])),
        };
        let bytes = head.to_bytes();
        assert_eq!(bytes.len(), HEAD_BYTES);
        assert_eq!(ChainHead::parse(&bytes), Some(head));
        assert_eq!(ChainHead::parse(b"root:x:0:0:root:/root:/bin/sh\n"), None);
        assert_eq!(ChainHead::parse(b"{}"), None);
    }

    #[test]
    fn the_checkpoint_message_binds_log_number_and_hash() {
        let (log, hash) = (LogId([1; 16]), ChainHash::of(b"line"));
        let message = checkpoint_message(&log, 3, &hash);
        assert_ne!(message, checkpoint_message(&LogId([2; 16]), 3, &hash));
        assert_ne!(message, checkpoint_message(&log, 4, &hash));
        assert_ne!(
            message,
            checkpoint_message(&log, 3, &ChainHash::of(b"other"))
        );
        assert!(message.starts_with(b"cnv-audit checkpoint v1\0"));
    }

    #[test]
    fn quick_number_reads_prev_and_n() {
        let text = format!("{{\"prev\":\"{}\",\"n\":42,\"x\":1}}", ChainHash::GENESIS);
        assert_eq!(quick_number(&text), Some((ChainHash::GENESIS, 42)));
        assert_eq!(quick_number("{\"n\":1}"), None);
    }
}
