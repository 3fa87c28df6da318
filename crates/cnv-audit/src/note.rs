//! C2SP signed notes, checkpoints and cosignatures: the text formats a log and its
//! witnesses exchange.
//!
//! * A **checkpoint** (C2SP `tlog-checkpoint`) names a log (its *origin*), a tree size and
//!   the RFC 6962 root of the log's first `size` lines ([`Checkpoint`]).
//! * A **signed note** (C2SP `signed-note`) is a text, a blank line, and signature lines
//!   `— <key name> base64(key ID || signature)` ([`SignedNote`]). The log signs its
//!   checkpoints with the operator's key as an Ed25519 note signature (type `0x01`)
//!   whose key name is the origin.
//! * A **cosignature** (C2SP `tlog-cosignature`, `cosignature/v1`, type `0x04`) is a
//!   witness's timestamped signature of a checkpoint: "as of this time, this is the
//!   largest consistent tree I have seen for this origin".
//!
//! The key ID of a key is `SHA-256(name || "\n" || type || public key)[:4]`; its
//! *vkey*, the text a C2SP verifier is configured with, is
//! `<name>+<8 hex digits of the key ID>+base64(type || public key)` ([`vkey`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::chain::Sig;
use crate::key::{AuditKey, AuditPublicKey};
use crate::merkle::Hash;

/// The signature type of an Ed25519 note signature (a log's signature of its checkpoint).
pub const ED25519: u8 = 0x01;

/// The signature type of a `cosignature/v1` (a witness's timestamped Ed25519 signature).
pub const COSIGNATURE_V1: u8 = 0x04;

/// The most signature lines a note may carry here (C2SP: at least 16 must be accepted).
pub const MAX_SIGNATURES: usize = 64;

/// Why a note, a checkpoint or a signature line was refused. Nothing of the text is
/// quoted but the names of keys.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The text is not a signed note or a checkpoint.
    #[error("not a C2SP signed checkpoint: {0}")]
    Malformed(&'static str),
    /// No signature line is from a key the verifier knows.
    #[error(
        "the note carries no signature from a key given: it was signed by another key (check the public key and the log's origin), or not at all"
    )]
    NoKnownSignature,
    /// A signature line from a known key does not verify.
    #[error(
        "the signature of {name} on the note does not verify: the note was changed after it was signed, or the signature was forged"
    )]
    BadSignature {
        /// The key name of the line.
        name: String,
    },
}

/// The key ID of `public_key` under `name` for `signature_type`:
/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
#[must_use]
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8; 32]) -> u32 {
    let hash = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', signature_type])
        .chain_update(public_key)
        .finalize();
    u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]])
}

/// The C2SP verifier key of `public_key` under `name`:
/// `<name>+<key ID, 8 hex digits>+base64(type || public key)`.
#[must_use]
pub fn vkey(name: &str, signature_type: u8, public_key: &AuditPublicKey) -> String {
    let mut raw = Vec::with_capacity(33);
    raw.push(signature_type);
    raw.extend_from_slice(public_key.as_bytes());
    format!(
        "{name}+{:08x}+{}",
        key_id(name, signature_type, public_key.as_bytes()),
        B64.encode(raw)
    )
}

/// The origin of the log `log`: `cnv-audit/<its id, 32 hex digits>`. A log's id is random
/// and written in its genesis, so every log (every replica's) has an origin of its own,
/// and the origin is never stored: it is read from the genesis.
#[must_use]
pub fn origin(log: &crate::LogId) -> String {
    format!("cnv-audit/{log}")
}

/// Whether `name` may name a key (and so a log's origin): not empty, and no Unicode
/// space or `+`.
#[must_use]
pub fn is_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c < ' ')
}

/// A tree head as C2SP `tlog-checkpoint` writes it: the origin, the size and the root,
/// one a line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The log's origin (for a cnv log, [`origin`] of its id).
    pub origin: String,
    /// How many leaves (lines) the tree has.
    pub size: u64,
    /// Its RFC 6962 root.
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint of `size` leaves with root `root` of the log `origin`.
    #[must_use]
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
        }
    }

    /// The note text: `origin\nsize\nbase64(root)\n`.
    #[must_use]
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Reads a note text. Extension lines (after the root) are accepted and ignored, as
    /// C2SP allows; a size with leading zeros, a root that is not 32 bytes in base64, or
    /// an empty line is refused.
    ///
    /// # Errors
    ///
    /// [`NoteError::Malformed`] with what is wrong.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text.strip_suffix('\n').ok_or(NoteError::Malformed(
            "the checkpoint does not end in a newline",
        ))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if !is_key_name(origin) {
            return Err(NoteError::Malformed(
                "the origin is empty or holds a space or `+`",
            ));
        }
        let size = lines.next().and_then(decimal).ok_or(NoteError::Malformed(
            "the second line is not a size in decimal",
        ))?;
        let root = lines.next().and_then(hash_b64).ok_or(NoteError::Malformed(
            "the third line is not a hash in base64",
        ))?;
        if lines.any(str::is_empty) {
            return Err(NoteError::Malformed("the checkpoint has an empty line"));
        }
        Ok(Self::new(origin, size, root))
    }
}

/// A decimal number without leading zeros (but `0`).
pub(crate) fn decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// A 32-byte hash in standard padded base64.
pub(crate) fn hash_b64(text: &str) -> Option<Hash> {
    if text.len() != 44 {
        return None;
    }
    B64.decode(text).ok()?.try_into().ok()
}

/// A hash in standard padded base64.
pub(crate) fn b64(hash: &Hash) -> String {
    B64.encode(hash)
}

/// One signature line of a note: `— <name> base64(key ID || signature)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: u32,
    /// The signature bytes (64 for Ed25519, 72 for a cosignature: the timestamp, then the
    /// Ed25519 signature).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, newline included.
    #[must_use]
    pub fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, B64.encode(raw))
    }

    /// Reads one line (without its newline).
    ///
    /// # Errors
    ///
    /// [`NoteError::Malformed`] when it is not a signature line.
    pub fn parse(line: &str) -> Result<Self, NoteError> {
        let malformed = NoteError::Malformed("a signature line is not `— <name> <base64>`");
        let rest = line.strip_prefix("\u{2014} ").ok_or(malformed.clone())?;
        let (name, encoded) = rest.split_once(' ').ok_or(malformed.clone())?;
        if !is_key_name(name) || encoded.len() > 4096 {
            return Err(malformed);
        }
        let raw = B64.decode(encoded).map_err(|_| malformed.clone())?;
        if raw.len() < 5 {
            return Err(malformed);
        }
        let (id, signature) = raw.split_at(4);
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }

    /// The timestamp of a cosignature (its first 8 bytes, big-endian), if it is one.
    #[must_use]
    pub fn timestamp(&self) -> Option<u64> {
        let bytes: [u8; 8] = self.signature.get(..8)?.try_into().ok()?;
        (self.signature.len() == 72).then(|| u64::from_be_bytes(bytes))
    }
}

/// A C2SP signed note: a text ending in a newline, then signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedNote {
    /// The text, final newline included.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// A note of `text` (which must end in a newline) with no signature yet.
    #[must_use]
    pub fn new(text: String) -> Self {
        Self {
            text,
            signatures: Vec::new(),
        }
    }

    /// Reads a note: UTF-8 with no control character but newlines, the text separated
    /// from the signature lines by the last blank line, at least one and at most
    /// [`MAX_SIGNATURES`] signature lines.
    ///
    /// # Errors
    ///
    /// [`NoteError::Malformed`] with what is wrong.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("the note holds a control character"));
        }
        if !note.ends_with('\n') {
            return Err(NoteError::Malformed("the note does not end in a newline"));
        }
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed(
            "the note has no blank line before its signatures",
        ))?;
        let text = &note[..=split];
        let block = &note[split + 2..];
        let mut signatures = Vec::new();
        for line in block.strip_suffix('\n').unwrap_or(block).split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed("the note has too many signatures"));
            }
            signatures.push(NoteSignature::parse(line)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The checkpoint the text holds.
    ///
    /// # Errors
    ///
    /// [`NoteError::Malformed`] when the text is not a checkpoint.
    pub fn checkpoint(&self) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse(&self.text)
    }

    /// Verifies the note against `keys`, as C2SP says: signature lines of unknown keys
    /// are ignored, a line of a known key that does not verify rejects the note, and at
    /// least one known key must have signed. Returns, for each line that verified, the
    /// index of its key in `keys` and the cosignature's timestamp (for a cosigner).
    ///
    /// # Errors
    ///
    /// [`NoteError::BadSignature`] or [`NoteError::NoKnownSignature`].
    pub fn verify(&self, keys: &[NoteKey]) -> Result<Vec<(usize, Option<u64>)>, NoteError> {
        let mut verified = Vec::new();
        for line in &self.signatures {
            let Some(index) = keys.iter().position(|key| key.matches(line)) else {
                continue;
            };
            match keys[index].check(&self.text, line) {
                Some(timestamp) => verified.push((index, timestamp)),
                None => {
                    return Err(NoteError::BadSignature {
                        name: line.name.clone(),
                    });
                }
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(verified)
    }
}

impl fmt::Display for SignedNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for line in &self.signatures {
            f.write_str(&line.line())?;
        }
        Ok(())
    }
}

/// A key a verifier of notes trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoteKey {
    /// The key name its lines carry; `None` for a cosigner known by its key alone (a
    /// `cosignature/v1` does not sign the cosigner's name, so a key with any name whose
    /// key ID matches is this cosigner).
    pub name: Option<String>,
    /// [`ED25519`] or [`COSIGNATURE_V1`].
    pub signature_type: u8,
    /// The public key.
    pub key: AuditPublicKey,
}

impl NoteKey {
    /// A log's key: Ed25519 note signatures under the log's origin.
    #[must_use]
    pub fn log(origin: &str, key: AuditPublicKey) -> Self {
        Self {
            name: Some(origin.to_owned()),
            signature_type: ED25519,
            key,
        }
    }

    /// A witness's key: cosignatures under any name (see [`name`](Self::name)).
    #[must_use]
    pub fn cosigner(key: AuditPublicKey) -> Self {
        Self {
            name: None,
            signature_type: COSIGNATURE_V1,
            key,
        }
    }

    pub(crate) fn matches(&self, line: &NoteSignature) -> bool {
        self.name.as_ref().is_none_or(|name| *name == line.name)
            && line.key_id == key_id(&line.name, self.signature_type, self.key.as_bytes())
    }

    /// `Some(timestamp)` when `line` is this key's valid signature of `text`.
    fn check(&self, text: &str, line: &NoteSignature) -> Option<Option<u64>> {
        match self.signature_type {
            ED25519 => {
                let sig: [u8; 64] = line.signature.as_slice().try_into().ok()?;
                self.key
                    .verifies(text.as_bytes(), &Sig(sig))
                    .then_some(None)
            }
            COSIGNATURE_V1 => {
                let timestamp = line.timestamp()?;
                let sig: [u8; 64] = line.signature[8..].try_into().ok()?;
                let good = i64::try_from(timestamp).is_ok()
                    && self
                        .key
                        .verifies(&cosignature_message(timestamp, text), &Sig(sig));
                good.then_some(Some(timestamp))
            }
            _ => None,
        }
    }
}

/// The message a `cosignature/v1` signs: `cosignature/v1\ntime <t>\n` and the checkpoint.
fn cosignature_message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

/// The log's signature of `checkpoint`: an Ed25519 note signature whose key name is the
/// origin.
#[must_use]
pub fn sign_checkpoint(key: &AuditKey, checkpoint: &Checkpoint) -> SignedNote {
    let text = checkpoint.text();
    let public = key.public_key();
    let signature = NoteSignature {
        name: checkpoint.origin.clone(),
        key_id: key_id(&checkpoint.origin, ED25519, public.as_bytes()),
        signature: key.sign(text.as_bytes()).to_vec(),
    };
    SignedNote {
        text,
        signatures: vec![signature],
    }
}

/// A witness's `cosignature/v1` of the checkpoint `text`, at `timestamp` (seconds since
/// the epoch, at most `i64::MAX`), under the key name `name`.
#[must_use]
pub fn cosign(key: &AuditKey, name: &str, timestamp: u64, text: &str) -> NoteSignature {
    let timestamp = timestamp.min(i64::MAX as u64);
    let mut signature = Vec::with_capacity(72);
    signature.extend_from_slice(&timestamp.to_be_bytes());
    signature.extend_from_slice(&key.sign(&cosignature_message(timestamp, text)));
    NoteSignature {
        name: name.to_owned(),
        key_id: key_id(name, COSIGNATURE_V1, key.public_key().as_bytes()),
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(bytes: &[u8]) -> AuditPublicKey {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hex.parse().expect("a public key")
    }

    #[test]
    fn the_c2sp_signed_note_example_verifies() {
        // C2SP signed-note: vkey example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k
        let raw = B64
            .decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .expect("base64");
        assert_eq!(raw[0], ED25519);
        let key = public(&raw[1..]);
        assert_eq!(
            vkey("example.com/foo", ED25519, &key),
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        );
        let text = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let note = SignedNote::parse(text).expect("a note");
        assert_eq!(note.text, "This is an example message.\n");
        assert_eq!(note.to_string(), text);
        let keys = [NoteKey::log("example.com/foo", key)];
        assert_eq!(note.verify(&keys), Ok(vec![(0, None)]));
        let mut changed = note.clone();
        changed.text = "This is an example message!\n".to_owned();
        assert_eq!(
            changed.verify(&keys),
            Err(NoteError::BadSignature {
                name: "example.com/foo".to_owned()
            })
        );
        // Another name with the same key is another key: ignored, so nothing verifies.
        let other = [NoteKey::log("example.com/bar", key)];
        assert_eq!(note.verify(&other), Err(NoteError::NoKnownSignature));
    }

    #[test]
    fn the_c2sp_checkpoint_example_parses() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let checkpoint = Checkpoint::parse(text).expect("a checkpoint");
        assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
        assert_eq!(checkpoint.size, 20_852_163);
        assert_eq!(checkpoint.text(), text);
        for bad in [
            "o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\n",
            "o o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
        let extended = format!("{text}extension\n");
        assert_eq!(Checkpoint::parse(&extended), Ok(checkpoint));
    }

    #[test]
    fn a_cosignature_matches_the_fixed_vector() {
        // Log seed [7; 32], witness seed [9; 32], timestamp 1679315147: the research
        // notes' vector, checked independently (Python `cryptography`).
        let log = AuditKey::from_seed([7; 32]);
        let witness = AuditKey::from_seed([9; 32]);
        assert_eq!(
            vkey("witness.example/w1", COSIGNATURE_V1, &witness.public_key()),
            "witness.example/w1+24b5d9fe+BP0XJDhaoMdbZPt4zWAvodmR/ev3axPFjtcC6sg16fYY"
        );
        let leaves: Vec<Hash> = (0..5)
            .map(|i| crate::merkle::leaf_hash(format!("{{\"n\":{i}}}").as_bytes()))
            .collect();
        let checkpoint = Checkpoint::new("example.com/cnv-audit", 5, crate::merkle::root(&leaves));
        let mut note = sign_checkpoint(&log, &checkpoint);
        let cosignature = cosign(&witness, "witness.example/w1", 1_679_315_147, &note.text);
        note.signatures.push(cosignature);
        assert_eq!(
            note.to_string(),
            "example.com/cnv-audit\n5\nh9UMXqS06cZqY1DcnPgMhWQabcLU6G++7tynUvpM20w=\n\n\
             \u{2014} example.com/cnv-audit w7W3jeN/a8pC/vF1GoVTQafl9SlwQHKj9qYzw0I1YHNHU9waqvUq8OV2tHC8SMMjfRQsrXWBY+Xehdl/PHd7pKPthwQ=\n\
             \u{2014} witness.example/w1 JLXZ/gAAAABkGFDLQ/JcCzsoi72KZnaKDyyPANN6ARcHklXS3LzY2KUGXy1+oIyFCeE8vxhxwux/hc4ZkSmydCCLmB48D1cFNgUvBg==\n"
        );
        let parsed = SignedNote::parse(&note.to_string()).expect("a note");
        let keys = [
            NoteKey::log("example.com/cnv-audit", log.public_key()),
            NoteKey::cosigner(witness.public_key()),
        ];
        assert_eq!(
            parsed.verify(&keys),
            Ok(vec![(0, None), (1, Some(1_679_315_147))])
        );
        // The log's key is not a cosigner, and a cosigner's key does not sign notes.
        assert_eq!(
            parsed.verify(&[NoteKey::cosigner(log.public_key())]),
            Err(NoteError::NoKnownSignature)
        );
        let mut late = parsed.clone();
        late.signatures[1].signature[7] ^= 1; // another timestamp
        assert!(matches!(
            late.verify(&keys),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn garbage_is_refused_without_a_panic() {
        for bad in [
            "",
            "\n",
            "\n\n",
            "text\n\n",
            "text\n\n\u{2014} \n",
            "text\n\n\u{2014} name !!!\n",
            "text\n\n\u{2014} name AAAA\n",
            "text\n\n\u{2014} na+me AAAAAAAA\n",
            "text\r\n\n\u{2014} name AAAAAAAA\n",
            "text\n\nname AAAAAAAA\n",
        ] {
            assert!(SignedNote::parse(bad).is_err(), "{bad:?}");
        }
        let many = format!(
            "t\n\n{}",
            "\u{2014} n AAAAAAAA\n".repeat(MAX_SIGNATURES + 1)
        );
        assert!(SignedNote::parse(&many).is_err());
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("00"), None);
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("+1"), None);
    }
}
