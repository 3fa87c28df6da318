//! Inclusion proofs: [`prove`] shows that a line is in a log's signed (and cosigned)
//! checkpoint, and [`check_proof`] checks it offline, with the operator's public key
//! (and the witnesses') alone — for whoever must trust one entry without the log.
//!
//! # The format
//!
//! ```text
//! cnv-audit inclusion proof v1
//! line 42
//! {"prev":"…","n":42,…,"hash":"…"}            the line, byte for byte, without its newline
//! <RFC 6962 inclusion path, one base64 hash a line, the leaf's sibling first>
//!
//! cnv-audit/<log id>                           the signed checkpoint: origin,
//! 1337                                         size,
//! <base64 root>                                root,
//!
//! — cnv-audit/<log id> <base64 signature>      the log's signature,
//! — <witness> <base64 cosignature>             each witness's cosignature
//! ```

use std::fmt;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::str::FromStr;

use crate::error::ToolError;
use crate::key::AuditPublicKey;
use crate::merkle::{self, Hash};
use crate::note::{self, NoteKey, SignedNote};
use crate::submit::SideFile;
use crate::{ChainReader, MAX_LINE_BYTES, RecordBody, witness_path};

const HEADER: &str = "cnv-audit inclusion proof v1";

/// A line of a log, its inclusion path, and the signed checkpoint the path leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InclusionProof {
    /// The line's number, from 1 (leaf `line - 1`).
    pub line: u64,
    /// The line, byte for byte, without its newline.
    pub entry: String,
    /// The inclusion path.
    pub path: Vec<Hash>,
    /// The checkpoint, signed by the log's key and cosigned by its witnesses.
    pub checkpoint: SignedNote,
}

impl fmt::Display for InclusionProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{HEADER}\nline {}\n{}", self.line, self.entry)?;
        for hash in &self.path {
            writeln!(f, "{}", note::b64(hash))?;
        }
        writeln!(f)?;
        write!(f, "{}", self.checkpoint)
    }
}

impl FromStr for InclusionProof {
    type Err = ToolError;

    /// Reads a proof as [`Display`](fmt::Display) writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            |why: &str| ToolError::Proof(format!("it is not a cnv-audit inclusion proof ({why})"));
        let rest = s
            .strip_prefix(HEADER)
            .and_then(|rest| rest.strip_prefix('\n'))
            .ok_or_else(|| bad("its first line is not the header"))?;
        let (line, rest) = rest.split_once('\n').ok_or_else(|| bad("no line number"))?;
        let line = line
            .strip_prefix("line ")
            .and_then(note::decimal)
            .filter(|&line| line > 0)
            .ok_or_else(|| bad("no line number"))?;
        let (entry, rest) = rest.split_once('\n').ok_or_else(|| bad("no entry"))?;
        let (path_block, checkpoint) = match rest.strip_prefix('\n') {
            Some(checkpoint) => ("", checkpoint),
            None => rest
                .split_once("\n\n")
                .ok_or_else(|| bad("no blank line before the checkpoint"))?,
        };
        let path = path_block
            .split('\n')
            .filter(|hash| !hash.is_empty())
            .map(note::hash_b64)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("a line of the path is not a hash in base64"))?;
        if path.len() > 64 {
            return Err(bad("the path is longer than any tree's"));
        }
        let checkpoint =
            SignedNote::parse(checkpoint).map_err(|err| ToolError::Proof(err.to_string()))?;
        Ok(Self {
            line,
            entry: entry.to_owned(),
            path,
            checkpoint,
        })
    }
}

/// Proves that line `line` (from 1) of the log at `path` is in the latest checkpoint its
/// writers signed for their witnesses (kept in `FILE.witness`, with the cosignatures
/// gathered for it). Reads the log's first lines up to the checkpoint's size, under a
/// shared lock.
///
/// # Errors
///
/// [`ToolError::NoCheckpoint`] when the log has no signed checkpoint (it was never
/// witnessed), [`ToolError::NotCheckpointed`] when the line is after it,
/// [`ToolError::CheckpointMismatch`] when the log no longer holds the tree it signs,
/// [`ToolError::Io`] or [`ToolError::NotALog`] when the log cannot be read.
pub fn prove(path: &Path, line: u64) -> Result<InclusionProof, ToolError> {
    let file = crate::verify::open_log(path)?;
    let _ = file.lock_shared();
    let genesis = ChainReader::new(BufReader::new(&file))
        .next()
        .and_then(Result::ok)
        .and_then(|record| match record.body {
            RecordBody::Genesis(genesis) => Some(genesis),
            _ => None,
        })
        .ok_or_else(|| ToolError::NoCheckpoint {
            path: path.to_path_buf(),
            reason: "its first line is not an intact genesis".to_owned(),
        })?;
    let no_checkpoint = |reason: &str| ToolError::NoCheckpoint {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let side_path = witness_path(path);
    let side = crate::verify::open_log(&side_path)
        .map_err(|_| no_checkpoint(&format!("{} cannot be read", side_path.display())))?;
    let checkpoint = SideFile::read(&side, genesis.log)
        .checkpoint()
        .ok_or_else(|| no_checkpoint(&format!("{} records none", side_path.display())))?;
    let note = SignedNote::parse(&checkpoint).map_err(|err| no_checkpoint(&err.to_string()))?;
    let signed = note
        .checkpoint()
        .map_err(|err| no_checkpoint(&err.to_string()))?;
    if line == 0 || line > signed.size {
        return Err(ToolError::NotCheckpointed {
            line,
            size: signed.size,
        });
    }
    let mut leaves = Vec::new();
    let mut entry = None;
    // Reading the genesis moved the file's offset.
    let mut reader = BufReader::new(&file);
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|error| ToolError::Io {
            action: "read",
            path: path.to_path_buf(),
            error,
        })?;
    let mut buf = Vec::new();
    while (leaves.len() as u64) < signed.size {
        buf.clear();
        let read = Read::by_ref(&mut reader)
            .take(MAX_LINE_BYTES as u64 + 2)
            .read_until(b'\n', &mut buf)
            .map_err(|error| ToolError::Io {
                action: "read",
                path: path.to_path_buf(),
                error,
            })?;
        if read == 0 || buf.last() != Some(&b'\n') {
            break;
        }
        let bytes = &buf[..buf.len() - 1];
        if leaves.len() as u64 + 1 == line {
            entry = Some(String::from_utf8_lossy(bytes).into_owned());
        }
        leaves.push(merkle::leaf_hash(bytes));
    }
    let _ = file.unlock();
    let mismatch = || ToolError::CheckpointMismatch {
        path: path.to_path_buf(),
        size: signed.size,
    };
    if leaves.len() as u64 != signed.size || merkle::root(&leaves) != signed.root {
        return Err(mismatch());
    }
    let index = usize::try_from(line - 1).map_err(|_| mismatch())?;
    Ok(InclusionProof {
        line,
        entry: entry.ok_or_else(mismatch)?,
        path: merkle::inclusion_proof(index, &leaves).ok_or_else(mismatch)?,
        checkpoint: note,
    })
}

/// What [`check_proof`] found: the line is in the log's signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProofCheck {
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The line proved.
    pub line: u64,
    /// The witness keys given that cosigned the checkpoint, with the time they did
    /// (seconds since the epoch).
    pub cosigned: Vec<(AuditPublicKey, u64)>,
}

impl fmt::Display for ProofCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "line {} is in {}, in its checkpoint of {} lines signed by the key given",
            self.line, self.origin, self.size
        )?;
        for (key, time) in &self.cosigned {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(*time);
            writeln!(
                f,
                "  cosigned by {key} at {}",
                humantime::format_rfc3339_seconds(when)
            )?;
        }
        Ok(())
    }
}

/// Checks `proof` offline: the checkpoint is signed by the log's key `key` (under its
/// origin), cosigned by every witness key of `witnesses`, and the path leads from the
/// line to the checkpoint's root.
///
/// # Errors
///
/// [`ToolError::Proof`] with what does not hold.
pub fn check_proof(
    proof: &InclusionProof,
    key: &AuditPublicKey,
    witnesses: &[AuditPublicKey],
) -> Result<ProofCheck, ToolError> {
    let refuse = |why: String| ToolError::Proof(why);
    if proof.line == 0 {
        return Err(refuse(
            "it proves line 0: lines are counted from 1".to_owned(),
        ));
    }
    let checkpoint = proof
        .checkpoint
        .checkpoint()
        .map_err(|err| refuse(err.to_string()))?;
    let mut keys = vec![NoteKey::log(&checkpoint.origin, *key)];
    keys.extend(witnesses.iter().map(|key| NoteKey::cosigner(*key)));
    let verified = proof
        .checkpoint
        .verify(&keys)
        .map_err(|err| refuse(err.to_string()))?;
    if !verified.iter().any(|(index, _)| *index == 0) {
        return Err(refuse(format!(
            "the checkpoint is not signed by the key given under its origin {}",
            checkpoint.origin
        )));
    }
    let mut cosigned = Vec::new();
    for (i, witness) in witnesses.iter().enumerate() {
        match verified.iter().find(|(index, _)| *index == i + 1) {
            Some((_, Some(time))) => cosigned.push((*witness, *time)),
            _ => {
                return Err(refuse(format!(
                    "the witness key {witness} did not cosign the checkpoint"
                )));
            }
        }
    }
    let leaf = merkle::leaf_hash(proof.entry.as_bytes());
    if !merkle::verify_inclusion(
        &leaf,
        proof.line - 1,
        checkpoint.size,
        &proof.path,
        &checkpoint.root,
    ) {
        return Err(refuse(format!(
            "the path does not lead from line {} to the root of the checkpoint of {} lines: the line or the path was changed",
            proof.line, checkpoint.size
        )));
    }
    if crate::chain::quick_number(&proof.entry).map(|(_, n)| n) != Some(proof.line) {
        return Err(refuse(format!(
            "the entry does not say it is line {}",
            proof.line
        )));
    }
    Ok(ProofCheck {
        origin: checkpoint.origin,
        size: checkpoint.size,
        line: proof.line,
        cosigned,
    })
}
