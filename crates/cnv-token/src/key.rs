//! The operator's token keys: an ed25519 key pair whose secret half mints capability
//! tokens and whose public half every replica verifies them with, offline.
//!
//! Files, one line each, the raw 32 bytes of the key in lower-case hex after a label:
//!
//! ```text
//! PREFIX.key   cnv-token-secret-key ed25519 <64 hex digits>     mode 0600
//! PREFIX.pub   cnv-token-public-key ed25519 <64 hex digits>
//! ```

use core::fmt;
use core::str::FromStr;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use biscuit_auth::builder::Algorithm;
use biscuit_auth::{KeyPair, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::error::KeyError;

const SECRET_LABEL: &str = "cnv-token-secret-key ed25519 ";
const PUBLIC_LABEL: &str = "cnv-token-public-key ed25519 ";

/// The operator's secret key: mints root capability tokens. Kept in a file only its owner
/// may read.
pub struct TokenKey(KeyPair);

impl TokenKey {
    /// A new key pair from the operating system's randomness.
    #[must_use]
    pub fn generate() -> Self {
        Self(KeyPair::new())
    }

    /// Reads a secret key file (`PREFIX.key`).
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the file cannot be read, others may read it, or it is not a
    /// token secret key.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let meta = fs::metadata(path).map_err(|error| KeyError::io(path, error))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text =
            Zeroizing::new(fs::read_to_string(path).map_err(|error| KeyError::io(path, error))?);
        let hex = text
            .trim_end()
            .strip_prefix(SECRET_LABEL)
            .ok_or_else(|| KeyError::malformed(path, label_problem(&text, "secret")))?;
        let key = PrivateKey::from_bytes_hex(hex, Algorithm::Ed25519)
            .map_err(|_| KeyError::malformed(path, "the key is not 64 hex digits".to_owned()))?;
        Ok(Self(KeyPair::from(&key)))
    }

    /// Writes the secret key to `path` (mode 0600), never over an existing file.
    ///
    /// # Errors
    ///
    /// [`KeyError::Exists`] when the file exists; the system's error otherwise.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        let path = path.as_ref();
        let text = Zeroizing::new(format!(
            "{SECRET_LABEL}{}\n",
            self.0.private().to_bytes_hex()
        ));
        write_new(path, text.as_bytes(), 0o600)
    }

    /// The public half, for every replica that verifies tokens.
    #[must_use]
    pub fn public_key(&self) -> TokenPublicKey {
        TokenPublicKey(self.0.public())
    }

    pub(crate) fn pair(&self) -> &KeyPair {
        &self.0
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// The operator's public token key: what a replica verifies capability tokens with.
/// Prints and parses as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenPublicKey(PublicKey);

impl TokenPublicKey {
    /// Reads a public key file (`PREFIX.pub`).
    ///
    /// # Errors
    ///
    /// [`KeyError`] when it cannot be read or is not a token public key.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|error| KeyError::io(path, error))?;
        let hex = text
            .trim_end()
            .strip_prefix(PUBLIC_LABEL)
            .ok_or_else(|| KeyError::malformed(path, label_problem(&text, "public")))?;
        hex.parse()
            .map_err(|_| KeyError::malformed(path, "the key is not 64 hex digits".to_owned()))
    }

    /// Writes the public key to `path`, never over an existing file.
    ///
    /// # Errors
    ///
    /// [`KeyError::Exists`] when the file exists; the system's error otherwise.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        write_new(
            path.as_ref(),
            format!("{PUBLIC_LABEL}{self}\n").as_bytes(),
            0o644,
        )
    }

    pub(crate) fn key(&self) -> PublicKey {
        self.0
    }
}

impl fmt::Display for TokenPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_bytes_hex())
    }
}

impl fmt::Debug for TokenPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenPublicKey({self})")
    }
}

impl FromStr for TokenPublicKey {
    type Err = KeyError;

    /// Reads 64 lower-case hex digits.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        let valid = text.len() == 64
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !valid {
            return Err(KeyError::malformed(
                Path::new("the key"),
                "it is not 64 lower-case hex digits".to_owned(),
            ));
        }
        PublicKey::from_bytes_hex(text, Algorithm::Ed25519)
            .map(Self)
            .map_err(|_| {
                KeyError::malformed(
                    Path::new("the key"),
                    "it is not an ed25519 public key".to_owned(),
                )
            })
    }
}

/// Why a key file does not start with the label it should.
fn label_problem(text: &str, kind: &str) -> String {
    let other = if kind == "secret" {
        PUBLIC_LABEL
    } else {
        SECRET_LABEL
    };
    if text.starts_with(other) {
        format!("it holds the other half of a key pair, not a {kind} key")
    } else {
        format!("it is not a cnv-token {kind} key file")
    }
}

/// Writes `bytes` to a new file at `path` with `mode`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                KeyError::io(path, error)
            }
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| KeyError::io(path, error))
}

/// The two files of a new key pair.
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyFiles {
    /// `PREFIX.key`, the secret key (mode 0600).
    pub secret: PathBuf,
    /// `PREFIX.pub`, the public key.
    pub public: PathBuf,
    /// The public key.
    pub public_key: TokenPublicKey,
}

/// Makes a new key pair and writes `PREFIX.key` and `PREFIX.pub`, never over existing files.
///
/// # Errors
///
/// [`KeyError`] when a file exists or cannot be written.
pub fn keygen(prefix: &Path) -> Result<KeyFiles, KeyError> {
    let with = |extension: &str| {
        let mut path = prefix.as_os_str().to_owned();
        path.push(extension);
        PathBuf::from(path)
    };
    let (secret, public) = (with(".key"), with(".pub"));
    let key = TokenKey::generate();
    key.save(&secret)?;
    key.public_key().save(&public)?;
    Ok(KeyFiles {
        secret,
        public,
        public_key: key.public_key(),
    })
}
