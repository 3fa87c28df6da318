//! The operator's signing key and its public half.
//!
//! # Files
//!
//! One line each, the raw 32 bytes of the key in lower-case hex after a label that says
//! what the file holds (`cnv-audit keygen` writes both):
//!
//! ```text
//! PREFIX.key   cnv-audit-secret-key ed25519 <64 hex digits>     mode 0600
//! PREFIX.pub   cnv-audit-public-key ed25519 <64 hex digits>
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::chain::{ChainHash, LogId, Sig, checkpoint_message, parse_hex, write_hex};
use crate::error::KeyError;

const SECRET_LABEL: &str = "cnv-audit-secret-key ed25519 ";
const PUBLIC_LABEL: &str = "cnv-audit-public-key ed25519 ";
/// A key file is one short line; anything longer is not one.
const MAX_KEY_FILE: u64 = 1024;

/// The operator's ed25519 signing key: it signs the genesis of a log, its checkpoints
/// and its head, so that nobody without it can produce a log that verifies as the
/// operator's. Load it with [`load`](Self::load) before any handler runs (`CNV_AUDIT_KEY`
/// names the file).
///
/// Its [`Debug`](fmt::Debug) shows the public half only; the secret is zeroed when the
/// key is dropped.
#[derive(Clone)]
pub struct AuditKey {
    signing: SigningKey,
}

impl AuditKey {
    /// A new random key (from the operating system's generator).
    ///
    /// # Errors
    ///
    /// [`KeyError::Random`] when the system has no randomness to give.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0; 32]);
        getrandom::fill(&mut *seed).map_err(|err| KeyError::Random(err.to_string()))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a key file written by `cnv-audit keygen` (or [`save`](Self::save)).
    ///
    /// # Errors
    ///
    /// [`KeyError::Exposed`] when group or others may read or write the file (it must be
    /// `chmod 600`), [`KeyError::Io`] when it cannot be read, [`KeyError::Malformed`]
    /// when it is not a secret key file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let mut file = File::open(path).map_err(|err| KeyError::io(path, err))?;
        let meta = file.metadata().map_err(|err| KeyError::io(path, err))?;
        if !meta.is_file() {
            return Err(KeyError::malformed(path, "it is not a regular file"));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut text = Zeroizing::new(String::new());
        Read::by_ref(&mut file)
            .take(MAX_KEY_FILE)
            .read_to_string(&mut text)
            .map_err(|err| KeyError::io(path, err))?;
        let hex = text
            .trim_end()
            .strip_prefix(SECRET_LABEL)
            .ok_or_else(|| not_a_key(path, "secret", text.starts_with(PUBLIC_LABEL)))?;
        let seed = Zeroizing::new(
            parse_hex::<32>(hex)
                .ok_or_else(|| KeyError::malformed(path, "the key is not 64 hex digits"))?,
        );
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Writes the key to a new file at `path`, mode 0600. An existing file is never
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] when the file exists or cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        let path = path.as_ref();
        let text = Zeroizing::new(format!("{SECRET_LABEL}{}\n", Hex(self.signing.as_bytes())));
        write_new(path, text.as_bytes(), 0o600)
    }

    /// The public half, which verifies what this key signs.
    #[must_use]
    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey(self.signing.verifying_key())
    }

    /// The key of a fixed seed (test vectors).
    #[cfg(test)]
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The Ed25519 signature of `message` (a C2SP note or cosignature).
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Signs the checkpoint of line `entries` of `log`, whose hash is `hash`.
    pub(crate) fn sign_checkpoint(&self, log: &LogId, entries: u64, hash: &ChainHash) -> Sig {
        Sig(self
            .signing
            .sign(&checkpoint_message(log, entries, hash))
            .to_bytes())
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// The public half of an [`AuditKey`]: named in a log's genesis, given to
/// `cnv-audit verify --key`. Prints as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AuditPublicKey(VerifyingKey);

impl AuditPublicKey {
    /// Reads a public key file written by `cnv-audit keygen` (or [`save`](Self::save)).
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] when it cannot be read, [`KeyError::Malformed`] when it is not a
    /// public key file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let mut text = String::new();
        File::open(path)
            .and_then(|file| file.take(MAX_KEY_FILE).read_to_string(&mut text))
            .map_err(|err| KeyError::io(path, err))?;
        let hex = text
            .trim_end()
            .strip_prefix(PUBLIC_LABEL)
            .ok_or_else(|| not_a_key(path, "public", text.starts_with(SECRET_LABEL)))?;
        hex.parse()
            .map_err(|_| KeyError::malformed(path, "the key is not a valid ed25519 public key"))
    }

    /// Writes the key to a new file at `path` (mode 0644). An existing file is never
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] when the file exists or cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        write_new(
            path.as_ref(),
            format!("{PUBLIC_LABEL}{self}\n").as_bytes(),
            0o644,
        )
    }

    /// The 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Whether `sig` is this key's signature of `message` (strict ed25519 verification).
    pub(crate) fn verifies(&self, message: &[u8], sig: &Sig) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.0.verify_strict(message, &signature).is_ok()
    }
}

impl fmt::Display for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.0.as_bytes())
    }
}

impl fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditPublicKey({self})")
    }
}

impl FromStr for AuditPublicKey {
    type Err = KeyError;

    /// Parses 64 lower-case hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = parse_hex::<32>(s).ok_or_else(|| {
            KeyError::malformed(Path::new("the key"), "it is not 64 lower-case hex digits")
        })?;
        VerifyingKey::from_bytes(&bytes).map(Self).map_err(|_| {
            KeyError::malformed(Path::new("the key"), "it is not a valid ed25519 public key")
        })
    }
}

impl Serialize for AuditPublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AuditPublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom("expected an ed25519 public key in hex"))
    }
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.0)
    }
}

fn not_a_key(path: &Path, kind: &str, other_kind: bool) -> KeyError {
    let reason = if other_kind {
        format!("it holds the other half of a key pair, not a {kind} key")
    } else {
        format!("it is not a cnv-audit {kind} key file")
    };
    KeyError::Malformed {
        path: path.to_path_buf(),
        reason,
    }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|err| KeyError::io(path, err))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| KeyError::io(path, err))
}

impl KeyError {
    fn io(path: &Path, error: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error: Arc::new(error),
        }
    }

    fn malformed(path: &Path, reason: &str) -> Self {
        Self::Malformed {
            path: PathBuf::from(path),
            reason: reason.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cnv-key-{name}-{}", cnv_caps::SessionId::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn keys_round_trip_through_their_files() {
        let dir = scratch("round-trip");
        let key = AuditKey::generate().expect("random");
        key.save(dir.join("k.key")).expect("writes");
        key.public_key().save(dir.join("k.pub")).expect("writes");
        let mode = std::fs::metadata(dir.join("k.key"))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = AuditKey::load(dir.join("k.key")).expect("loads");
        assert_eq!(loaded.public_key(), key.public_key());
        let public = AuditPublicKey::load(dir.join("k.pub")).expect("loads");
        assert_eq!(public, key.public_key());
        assert!(!format!("{key:?}").contains(&Hex(key.signing.as_bytes()).to_string()));
        // Never overwritten.
        assert!(matches!(
            AuditKey::generate()
                .expect("random")
                .save(dir.join("k.key")),
            Err(KeyError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = scratch("exposed");
        let path = dir.join("k.key");
        AuditKey::generate()
            .expect("random")
            .save(&path)
            .expect("writes");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = AuditKey::load(&path).expect_err("group-readable");
        assert!(
            matches!(err, KeyError::Exposed { mode: 0o640, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
        // A command line refuses to record (and to run) with the same message.
        let audit = crate::AuditError::from(err.clone());
        assert_eq!(audit.to_string(), err.to_string());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn the_halves_are_not_confused() {
        let dir = scratch("halves");
        let key = AuditKey::generate().expect("random");
        key.save(dir.join("k.key")).expect("writes");
        key.public_key().save(dir.join("k.pub")).expect("writes");
        std::fs::set_permissions(dir.join("k.pub"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let err = AuditKey::load(dir.join("k.pub")).expect_err("a public key");
        assert!(err.to_string().contains("other half"), "{err}");
        let err = AuditPublicKey::load(dir.join("k.key")).expect_err("a secret key");
        assert!(err.to_string().contains("other half"), "{err}");
        std::fs::write(dir.join("junk"), "hello").expect("write");
        std::fs::set_permissions(dir.join("junk"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let err = AuditKey::load(dir.join("junk")).expect_err("junk");
        assert!(
            !err.to_string().contains("hello"),
            "never quotes the file: {err}"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let key = AuditKey::generate().expect("random");
        let (log, hash) = (LogId::random().expect("random"), ChainHash::of(b"x"));
        let sig = key.sign_checkpoint(&log, 5, &hash);
        let public = key.public_key();
        assert!(public.verifies(&checkpoint_message(&log, 5, &hash), &sig));
        assert!(!public.verifies(&checkpoint_message(&log, 6, &hash), &sig));
        let other = AuditKey::generate().expect("random").public_key();
        assert!(!other.verifies(&checkpoint_message(&log, 5, &hash), &sig));
        assert_eq!(
            public
                .to_string()
                .parse::<AuditPublicKey>()
                .expect("parses"),
            public
        );
    }
}
