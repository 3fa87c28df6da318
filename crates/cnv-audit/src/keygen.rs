//! The operator's key pair on disk: [`keygen`] writes `PREFIX.key` and `PREFIX.pub`,
//! [`public_key`] reads the public half back for `verify --key`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ToolError;
use crate::key::{AuditKey, AuditPublicKey};

/// The two files [`keygen`] wrote, and the public key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyFiles {
    /// `PREFIX.key`: the secret key, mode 0600. Give its path to the command line
    /// (`CNV_AUDIT_KEY`); keep it from the agent.
    pub secret: PathBuf,
    /// `PREFIX.pub`: the public key, for `cnv-audit verify --key`.
    pub public: PathBuf,
    /// The public key.
    pub public_key: AuditPublicKey,
}

/// Makes a new key pair and writes `PREFIX.key` (mode 0600) and `PREFIX.pub`. Existing
/// files are never overwritten.
///
/// # Errors
///
/// [`ToolError::Exists`] when either file exists; [`ToolError::Key`] when one cannot be
/// written, or the system has no randomness to give. When the public file cannot be written, the secret file is
/// removed again, so a failed run leaves nothing half made.
pub fn keygen(prefix: &Path) -> Result<KeyFiles, ToolError> {
    let secret = with_suffix(prefix, ".key");
    let public = with_suffix(prefix, ".pub");
    for path in [&secret, &public] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(ToolError::Exists { path: path.clone() });
        }
    }
    let key = AuditKey::generate()?;
    key.save(&secret)?;
    let public_key = key.public_key();
    if let Err(err) = public_key.save(&public) {
        let _ = fs::remove_file(&secret);
        return Err(err.into());
    }
    Ok(KeyFiles {
        secret,
        public,
        public_key,
    })
}

/// Reads the public key given as `--key`: a `PREFIX.pub` file, or the 64 hex digits of
/// the key itself.
///
/// # Errors
///
/// [`ToolError::Key`] when it is neither.
pub fn public_key(arg: &str) -> Result<AuditPublicKey, ToolError> {
    if arg.len() == 64 && arg.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(arg.to_ascii_lowercase().parse()?);
    }
    Ok(AuditPublicKey::load(arg)?)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::KeyError;

    #[test]
    fn public_keys_are_read_from_hex_or_a_file() {
        let key = AuditKey::generate().expect("random").public_key();
        assert_eq!(public_key(&key.to_string()).expect("hex"), key);
        assert!(matches!(
            public_key("/nonexistent/key.pub"),
            Err(ToolError::Key(KeyError::Io { .. }))
        ));
    }
}
