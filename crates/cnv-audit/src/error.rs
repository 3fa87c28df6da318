//! The errors of the audit trail: an entry that cannot be recorded ([`AuditError`]), a
//! key that cannot be used ([`KeyError`]), a log that does not read back as a chain
//! ([`ChainError`]).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Why an entry could not be recorded. Each message carries its cause (the I/O error,
/// the damaged line), so printing the error prints everything; the cause is also a field
/// for programs that inspect it.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Writing or flushing failed.
    #[error(
        "cannot write the audit entry to {target}: {error}; check that it is writable and the disk is not full"
    )]
    Io {
        /// What was written to (a path, or "the JSON Lines writer").
        target: String,
        /// The I/O error.
        error: Arc<io::Error>,
    },
    /// The entry could not be encoded as JSON.
    #[error("cannot encode the audit entry as JSON: {0}")]
    Encode(Arc<serde_json::Error>),
    /// An existing log cannot be continued because its last line is damaged.
    #[error(
        "cannot continue the audit log {path}: {error}; inspect it with `cnv-audit verify {path}`, then move it and its head ({path}.head) aside to start a new log"
    )]
    Chain {
        /// The log's path.
        path: String,
        /// What is wrong with it.
        error: ChainError,
    },
    /// The destination is not a cnv audit log (a device, a pipe, a link, a directory, or
    /// a file that cnv did not write). Nothing about its content is said.
    #[error(
        "{path} is not a cnv audit log: an audit log is a regular file, not a link, that is empty or was written by cnv; name a new file instead"
    )]
    NotALog {
        /// The path.
        path: String,
    },
    /// An entry would be longer than a line of the log may be.
    #[error(
        "the audit entry is {bytes} bytes, more than the {limit} a line of the audit log may hold, so the call was not recorded (and does not run); pass shorter arguments"
    )]
    TooLong {
        /// The entry's length as a line.
        bytes: usize,
        /// [`MAX_LINE_BYTES`](crate::MAX_LINE_BYTES).
        limit: usize,
    },
    /// The log is signed by another key than the one given, or one of them is absent.
    #[error(
        "the audit log {path} was started {log}, but {given}: a log is signed by one key from its genesis on; give the log's key, or move the log and its head ({path}.head) aside to start a new one"
    )]
    KeyMismatch {
        /// The log's path.
        path: String,
        /// The key the log names, described (`with key …` or `without a key`).
        log: String,
        /// The key given, described.
        given: String,
    },
    /// The log's file was deleted while the program was writing it: what it would
    /// record is lost, so nothing more is recorded (and nothing more runs).
    #[error(
        "the audit log {path} was deleted while this program was writing it, so the entry cannot be kept; run `cnv-audit verify {path}` and find out who deleted it"
    )]
    Deleted {
        /// The log's path.
        path: String,
    },
    /// The operator's key could not be loaded (so nothing can be recorded as the
    /// operator's, and nothing runs).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The operating system could not give the random bytes of a new log's id.
    #[error("cannot start the audit log {path}: the system gave no random bytes ({reason})")]
    Random {
        /// The log's path.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// The log's witnesses cannot be set up.
    #[error("cannot have the audit log witnessed: {reason}")]
    Witness {
        /// What is wrong.
        reason: String,
    },
    /// A sink of the program's own (an [`AuditSink`](crate::AuditSink) it implemented)
    /// could not record the entry.
    #[error("the audit sink {sink} cannot record the entry: {error}")]
    Sink {
        /// Which sink, as the program names it.
        sink: String,
        /// What it said.
        error: Arc<dyn std::error::Error + Send + Sync>,
    },
}

/// Why an audit key cannot be used. The message carries the cause.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("cannot use the audit key file {}: {error}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        error: Arc<io::Error>,
    },
    /// A secret key file that group or others may read or write.
    #[error(
        "the audit key file {} may be read or written by others (mode {mode:o}): run `chmod 600 {}`, and make a new key if others may have read it",
        path.display(),
        path.display()
    )]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a key of the kind asked for. Its content is not quoted.
    #[error("{} is not a usable audit key: {reason}; make one with `cnv-audit keygen --out PREFIX`", path.display())]
    Malformed {
        /// The key file (or `the key` for a key given as text).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system could not give the random bytes of a new key.
    #[error("cannot make an audit key: the system gave no random bytes ({0})")]
    Random(String),
}

/// A problem in a JSON Lines audit log. The message carries the cause.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The log could not be read.
    #[error("cannot read the audit log: {0}")]
    Io(Arc<io::Error>),
    /// A line is not a cnv audit entry.
    #[error(
        "line {line} of the audit log is not a cnv audit entry ({reason}): the log is damaged, or is not a cnv audit log"
    )]
    Malformed {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A line's content does not match its hash.
    #[error(
        "line {line} of the audit log was changed after it was written: its hash does not match its content"
    )]
    Edited {
        /// The line number, from 1.
        line: usize,
    },
    /// A line's `prev` is not the hash of the line before it.
    #[error(
        "line {line} of the audit log does not follow the line before it: a line was deleted, inserted or moved at this point"
    )]
    BrokenLink {
        /// The line number, from 1.
        line: usize,
    },
    /// The last line has no newline.
    #[error(
        "line {line} of the audit log is incomplete (it has no newline): the writer stopped in the middle of it, or the file was cut"
    )]
    Truncated {
        /// The line number, from 1.
        line: usize,
    },
    /// A line's number is not its place in the log.
    #[error(
        "line {line} of the audit log says it is line {found}: lines were deleted or inserted before it"
    )]
    Misnumbered {
        /// The line number, from 1.
        line: usize,
        /// The number the line carries.
        found: u64,
    },
    /// Line 1 is not a genesis, or a genesis appears later.
    #[error(
        "line {line} of the audit log {}: a log starts with one genesis that names it, and has no other",
        if *line == 1 { "is not the genesis of a cnv audit log" } else { "is a second genesis" }
    )]
    Genesis {
        /// The line number, from 1.
        line: usize,
    },
    /// A checkpoint's signature does not verify under the log's key.
    #[error(
        "line {line} of the audit log carries a signature that does not match it: the log was changed after line {since} (its last good signature) and re-hashed, or the signature was copied from elsewhere"
    )]
    BadSignature {
        /// The line number, from 1.
        line: usize,
        /// The last line whose signature verified (0: none, not even the genesis).
        since: usize,
    },
    /// A line that the writer always signs carries no signature.
    #[error(
        "line {line} of the audit log ends a call (or starts the log, or repairs it) but carries no signature: its signature was removed, or the line was written without the log's key"
    )]
    Unsigned {
        /// The line number, from 1.
        line: usize,
    },
    /// A writer found the head beside the log disagreeing with the log, and recorded it.
    #[error(
        "line {line} of the audit log records that {finding} when a writer opened it: the log was cut, replaced or deleted, or its head removed, before that line"
    )]
    HeadDisagreed {
        /// The line number of the recovery, from 1.
        line: usize,
        /// What the writer found, described.
        finding: String,
    },
}

impl ChainError {
    /// The line number of the problem, when it is in a line (not an I/O error).
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Io(_) => None,
            Self::Malformed { line, .. }
            | Self::Edited { line }
            | Self::BrokenLink { line }
            | Self::Truncated { line }
            | Self::Misnumbered { line, .. }
            | Self::Genesis { line }
            | Self::BadSignature { line, .. }
            | Self::Unsigned { line }
            | Self::HeadDisagreed { line, .. } => Some(*line),
        }
    }
}

/// What went wrong outside a log's content: a key that cannot be read or made, a file
/// that cannot be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// A key file.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A file could not be opened, read or written.
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        /// What was being done (`read`, `write to`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// A key file [`keygen`](crate::keygen) would write exists already.
    #[error(
        "{} exists already: a key is never overwritten; choose another PREFIX, or move the old key aside first",
        path.display()
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a cnv audit log; nothing about its content is said.
    #[error(
        "{} is not a cnv audit log: a log is a regular file (not a link, device or pipe) that cnv wrote",
        path.display()
    )]
    NotALog {
        /// The file.
        path: PathBuf,
    },
    /// A witness cannot start, or a trusted log given to it cannot be read.
    #[error(transparent)]
    Witness(#[from] crate::WitnessError),
    /// A witness URL cannot be read.
    #[error(transparent)]
    Url(#[from] crate::UrlError),
    /// A `--witness URL=PUBKEY` cannot be read.
    #[error(
        "`{spec}` does not name a witness ({reason}): write URL=PUBKEY, the witness's URL (http://HOST:PORT) and its public key (the .pub file `cnv-audit keygen` made for it, or its 64 hex digits)"
    )]
    WitnessSpec {
        /// The text given (escaped).
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The witness cannot listen where it was told to.
    #[error("cannot listen on {addr}: {error}; give a free ADDR, as 127.0.0.1:7380")]
    Listen {
        /// The address given (escaped).
        addr: String,
        /// The I/O error.
        error: io::Error,
    },
    /// The log has no signed checkpoint to prove a line against.
    #[error(
        "{} has no signed checkpoint to prove against ({reason}): a log's checkpoints are signed when its writer has witnesses (CNV_AUDIT_WITNESS)",
        path.display()
    )]
    NoCheckpoint {
        /// The log.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The line asked for is not in the latest signed checkpoint.
    #[error(
        "line {line} is not in the latest signed checkpoint, which covers lines 1–{size}: prove it once the end of a later call is witnessed"
    )]
    NotCheckpointed {
        /// The line asked for.
        line: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The log no longer holds the tree its latest checkpoint signs.
    #[error(
        "{} does not hold the tree its latest signed checkpoint names ({size} lines): it was cut or rewritten since; run `cnv-audit verify` on it",
        path.display()
    )]
    CheckpointMismatch {
        /// The log.
        path: PathBuf,
        /// The checkpoint's size.
        size: u64,
    },
    /// An inclusion proof does not hold.
    #[error("the inclusion proof does not hold: {0}")]
    Proof(String),
    /// [`show_line`](crate::show_line) was asked for a line the log does not have.
    #[error(
        "{} has no line {line}: it has {lines} intact lines (line 1 is its genesis)",
        path.display()
    )]
    NoSuchLine {
        /// The log.
        path: PathBuf,
        /// The line asked for.
        line: usize,
        /// How many lines the log has.
        lines: usize,
    },
}
