//! What can go wrong with keys and tokens, and what to do about it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A key file that cannot be used.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("cannot use the token key file {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: Arc<io::Error>,
    },
    /// A secret key file that others may read or write.
    #[error(
        "the token key file {} may be read or written by others (mode {mode:o}): run `chmod 600 {}`, and make a new key if others may have read it",
        path.display(),
        path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a key of the kind asked for.
    #[error("{} is not a usable token key: {problem}; make one with `cnv-token keygen --out PREFIX`", path.display())]
    Malformed {
        /// The file (or "the key", for a key given as text).
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A key file that would be overwritten.
    #[error(
        "{} exists already: a key is never overwritten; choose another PREFIX, or move the old key aside first",
        path.display()
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

impl KeyError {
    pub(crate) fn io(path: &Path, error: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error: Arc::new(error),
        }
    }

    pub(crate) fn malformed(path: &Path, problem: String) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            problem,
        }
    }
}

/// A token that cannot be made, read or used.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token does not read as a capability token, or its signatures do not verify
    /// against the operator's key (a forged, damaged or foreign token).
    #[error(
        "the capability token cannot be read or was not issued with the operator's key ({reason}); ask whoever gave it to you for a new one"
    )]
    Invalid {
        /// What the token library said.
        reason: String,
    },
    /// What a token asks to narrow cannot be written into it (a workspace directory that
    /// leaves the workspace, a scope list that grants nothing).
    #[error("cannot narrow the token: {reason}")]
    Narrowing {
        /// What is wrong.
        reason: String,
    },
    /// The token does not grant this call; `failed` names the checks that refused it.
    #[error("the capability token does not grant `{command}` ({class}): {failed}")]
    NotGranted {
        /// The command asked for.
        command: String,
        /// Its class.
        class: cnv_caps::CapabilityClass,
        /// The checks that refused it, in words (the token's own Datalog).
        failed: String,
    },
    /// The counter of a budget could not be read or moved.
    #[error("the call budget of the token cannot be counted ({reason}); the call is refused")]
    Budget {
        /// What the counter said.
        reason: String,
    },
}

impl TokenError {
    pub(crate) fn invalid(error: impl std::fmt::Display) -> Self {
        Self::Invalid {
            reason: error.to_string(),
        }
    }
}
