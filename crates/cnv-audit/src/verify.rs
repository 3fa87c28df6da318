//! [`verify`]: a log checked line by line, against the operator's key and the signed
//! head beside it, with a report that names the line where the trail breaks.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use cnv_caps::SessionId;
use cnv_caps::text::escape_for_display;

use crate::error::ToolError;
use crate::http::{self, WitnessUrl};
use crate::merkle::{Frontier, Hash};
use crate::note::{Checkpoint, NoteKey, SignedNote};
use crate::submit::{SideFile, TIMEOUT, Witnessing};
use crate::witness::origin_hash;
use crate::{
    AuditEvent, AuditPublicKey, ChainError, ChainHash, ChainHead, ChainReader, ChainRecord, LogId,
    RecordBody, Verdict, head_path, witness_path,
};
/// The first problem [`verify`] found, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The line of the log where the trail breaks, when there is one.
    pub line: Option<usize>,
    /// What is wrong, and what it means.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) if !self.message.starts_with("line ") => {
                write!(f, "line {line}: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

/// What [`verify`] found about the head beside the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadCheck {
    /// Not compared: the log breaks before its end.
    NotChecked,
    /// There is no `FILE.head` (a problem only for a log that keeps one).
    Absent,
    /// `FILE.head` is not a cnv head.
    Unreadable,
    /// The head was read; `agrees` when it names this log, a line it holds and that
    /// line's hash, with a valid signature if the log has a key.
    Read {
        /// How many lines the head vouches for.
        entries: u64,
        /// Whether it carries a signature.
        signed: bool,
        /// Whether it agrees with the log.
        agrees: bool,
    },
}

/// What [`verify`] checked and found. It prints as the report of `cnv-audit verify`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verification {
    /// The log.
    pub path: PathBuf,
    /// Lines read and found intact: the genesis, the entries, any recoveries.
    pub lines: usize,
    /// Audit entries among them.
    pub entries: usize,
    /// Distinct sessions the entries belong to.
    pub sessions: usize,
    /// Decisions of the escalation policy (escalations allowed or denied).
    pub decisions: usize,
    /// How many of those were denied.
    pub denied: usize,
    /// Calls whose end is recorded ([`AuditEvent::Finish`] entries).
    pub calls: usize,
    /// Torn tails a writer found and repaired: the recovery's line and the partial
    /// line's length in bytes. Not problems (a writer stopped mid-line, and nothing it
    /// had finished was lost), but worth knowing.
    pub repairs: Vec<(usize, u64)>,
    /// The hash of line 1.
    pub first_hash: Option<ChainHash>,
    /// The hash of the last intact line.
    pub last_hash: Option<ChainHash>,
    /// The log's id.
    pub log: Option<LogId>,
    /// The key the log's genesis names.
    pub public_key: Option<AuditPublicKey>,
    /// Whether the log's key was compared with the key given (and matched, unless
    /// there is a problem at line 1).
    pub key_given: bool,
    /// The last line a signature in the log vouches for.
    pub signed_through: usize,
    /// The head beside the log.
    pub head: HeadCheck,
    /// The log's origin, the name its witnesses know it by.
    pub origin: Option<String>,
    /// What the log's writers recorded about its witnesses (`FILE.witness`), when they
    /// keep one.
    pub witnessing: Option<Witnessing>,
    /// What each witness asked ([`verify_witnessed`]) vouches for.
    pub witnesses: Vec<WitnessCheck>,
    /// How many of them had to confirm the log.
    pub quorum: usize,
    /// The first problem, if any: the log is intact only without one.
    pub problem: Option<Problem>,
}

impl Verification {
    /// Whether the log is intact: every line checks, the key is the one given, the head
    /// agrees, and every line is covered by a signature (for a log that has a key).
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }

    fn new(path: &Path, key_given: bool) -> Self {
        Self {
            path: path.to_path_buf(),
            lines: 0,
            entries: 0,
            sessions: 0,
            decisions: 0,
            denied: 0,
            calls: 0,
            repairs: Vec::new(),
            first_hash: None,
            last_hash: None,
            log: None,
            public_key: None,
            key_given,
            signed_through: 0,
            head: HeadCheck::NotChecked,
            origin: None,
            witnessing: None,
            witnesses: Vec::new(),
            quorum: 0,
            problem: None,
        }
    }

    fn fail(&mut self, line: Option<usize>, message: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some(Problem {
                line,
                message: message.into(),
            });
        }
    }
}

/// Checks the log at `path`, and the head beside it, against `key` when given.
///
/// The lines are checked as [`ChainReader`] does. Then:
///
/// * with `key`, the genesis must name it (else the log is not the one the key signs:
///   it was replaced, or started with another key — line 1);
/// * the head `FILE.head`, when the log keeps one, must exist, name this log, vouch for
///   a line the log holds with that line's hash, and carry a valid signature if the log
///   has a key (else the log was cut, rewritten or replaced, or the head removed);
/// * in a log with a key, every line must be covered by a signature, in the log or in
///   the head (else the lines after the last checkpoint were added by someone without
///   the key — or a call is still running, or its writer was stopped before its end).
///
/// Without `key` the signatures are checked against the key the log names, which
/// proves only that the log is consistent, not that it is the operator's.
///
/// The log is read under a shared lock, so a writer is never caught in the middle of
/// a line. Never fails: what cannot be read is the report's problem.
#[must_use]
pub fn verify(path: &Path, key: Option<&AuditPublicKey>) -> Verification {
    let mut report = Verification::new(path, key.is_some());
    let head_file = head_path(path);
    let head = read_head(&head_file);
    let file = match open_log(path) {
        Ok(file) => file,
        Err(ToolError::Io { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
            let message = match &head {
                HeadRead::Head(head) => format!(
                    "the log does not exist, but {} records {} lines of log {}: the log was deleted or moved",
                    head_file.display(),
                    head.entries,
                    head.log
                ),
                _ => {
                    report.fail(None, format!("{} does not exist", path.display()));
                    return report;
                }
            };
            report.fail(Some(1), message);
            return report;
        }
        Err(err) => {
            report.fail(None, err.to_string());
            return report;
        }
    };
    // Readers share the lock; a writer holds it alone while it appends.
    let _ = file.lock_shared();
    let mut reader = ChainReader::new(BufReader::new(&file));
    let mut sessions: HashSet<SessionId> = HashSet::new();
    // The line the head names, whose hash it records.
    let head_line = match &head {
        HeadRead::Head(head) => usize::try_from(head.entries).ok(),
        _ => None,
    };
    let mut head_line_hash = None;
    for record in reader.by_ref() {
        match record {
            Ok(record) => {
                if Some(record.line) == head_line {
                    head_line_hash = Some(record.hash);
                }
                if !tally(&mut report, &mut sessions, &record, key) {
                    break;
                }
            }
            Err(ChainError::Genesis { line: 1 }) if report.lines == 0 && is_empty(&file) => {
                let message = match &head {
                    HeadRead::Head(head) => format!(
                        "the log is empty, but {} records {} lines: it was cut to nothing",
                        head_file.display(),
                        head.entries
                    ),
                    _ => "the log is empty: it has no genesis, so nothing in it can be checked"
                        .to_owned(),
                };
                report.fail(Some(1), message);
            }
            Err(err) => report.fail(err.line(), err.to_string()),
        }
    }
    if let Some(log) = reader.summary().log {
        report.origin = Some(crate::origin(&log));
        let side = witness_path(path);
        if let Ok(side) = open_log(&side) {
            report.witnessing = Some(Witnessing::from(&SideFile::read(&side, log)));
        }
    }
    let _ = file.unlock();
    report.sessions = sessions.len();
    let summary = reader.summary();
    report.lines = summary.entries;
    report.first_hash = summary.first;
    report.last_hash = (summary.entries > 0).then_some(summary.head);
    report.log = summary.log;
    report.public_key = summary.public_key;
    report.signed_through = summary.signed_through;
    if report.problem.is_none() {
        check_head(&mut report, &reader, head_line_hash, &head, &head_file);
    }
    if report.problem.is_none() && report.public_key.is_some() {
        let covered = match report.head {
            HeadCheck::Read {
                entries,
                agrees: true,
                ..
            } => report
                .signed_through
                .max(usize::try_from(entries).unwrap_or(usize::MAX)),
            _ => report.signed_through,
        };
        if covered < report.lines {
            report.fail(
                Some(covered + 1),
                format!(
                    "lines {}–{} are not covered by a signature: they were written after the last checkpoint (a call still running, or a writer stopped before the end of its call), or added by someone without the key; the next checkpoint covers them if they are genuine",
                    covered + 1,
                    report.lines
                ),
            );
        }
    }
    report
}

/// Counts one record; returns `false` when the report found a problem in it.
fn tally(
    report: &mut Verification,
    sessions: &mut HashSet<SessionId>,
    record: &ChainRecord,
    key: Option<&AuditPublicKey>,
) -> bool {
    report.lines = record.line;
    match &record.body {
        RecordBody::Genesis(genesis) => {
            if let Some(key) = key
                && genesis.public_key.as_ref() != Some(key)
            {
                let named = genesis
                    .public_key
                    .map_or_else(|| "no key".to_owned(), |key| format!("key {key}"));
                report.fail(
                    Some(1),
                    format!(
                        "the log's genesis names {named}, not the key given ({key}): this is not a log that key signs — it was replaced, or started with another key"
                    ),
                );
                return false;
            }
        }
        RecordBody::Entry(entry) => {
            report.entries += 1;
            sessions.insert(entry.session_id);
            match entry.event {
                AuditEvent::Escalate => {
                    report.decisions += 1;
                    if entry.outcome == Verdict::Denied {
                        report.denied += 1;
                    }
                }
                AuditEvent::Finish => report.calls += 1,
                AuditEvent::Create
                | AuditEvent::Verify
                | AuditEvent::Narrow
                | AuditEvent::Start => {}
            }
        }
        RecordBody::Recovery(recovery) => {
            if let Some(torn) = recovery.torn {
                report.repairs.push((record.line, torn.bytes));
            }
        }
    }
    true
}

fn check_head<R>(
    report: &mut Verification,
    reader: &ChainReader<R>,
    head_line_hash: Option<ChainHash>,
    head: &HeadRead,
    head_file: &Path,
) where
    R: io::BufRead,
{
    let keeps_head = reader.genesis().is_some_and(|genesis| genesis.head);
    match head {
        HeadRead::Absent => {
            report.head = HeadCheck::Absent;
            if keeps_head {
                report.fail(
                    None,
                    format!(
                        "{} is missing: the head this log keeps beside it was deleted, so lines cut off the log's end could go unseen",
                        head_file.display()
                    ),
                );
            }
        }
        HeadRead::Unreadable(why) => {
            report.head = HeadCheck::Unreadable;
            report.fail(None, format!("{}: {why}", head_file.display()));
        }
        HeadRead::Head(head) => {
            let mut agrees = true;
            let lines = report.lines;
            if Some(head.log) != report.log {
                agrees = false;
                report.fail(
                    Some(1),
                    format!(
                        "this is not the log that {} names (log {}): the log was replaced",
                        head_file.display(),
                        head.log
                    ),
                );
            } else if usize::try_from(head.entries).map_or(true, |entries| entries > lines) {
                agrees = false;
                report.fail(
                    Some(lines + 1),
                    format!(
                        "the log ends at line {lines}, but its head records {} lines: lines {}–{} were cut off its end",
                        head.entries,
                        lines + 1,
                        head.entries
                    ),
                );
            } else if head_line_hash != Some(head.hash) {
                agrees = false;
                report.fail(
                    usize::try_from(head.entries).ok(),
                    format!(
                        "line {} does not have the hash its head records for it: the log was rewritten at or before that line",
                        head.entries
                    ),
                );
            } else if let Some(key) = report.public_key
                && !head.is_signed_by(&key)
            {
                agrees = false;
                report.fail(
                    None,
                    format!(
                        "{} is not signed by the log's key: the head was forged or damaged",
                        head_file.display()
                    ),
                );
            }
            report.head = HeadCheck::Read {
                entries: head.entries,
                signed: head.is_signed(),
                agrees,
            };
        }
    }
}

fn is_empty(file: &File) -> bool {
    file.metadata().is_ok_and(|meta| meta.len() == 0)
}

enum HeadRead {
    Absent,
    Unreadable(String),
    Head(ChainHead),
}

fn read_head(path: &Path) -> HeadRead {
    let file = match open_log(path) {
        Ok(file) => file,
        Err(ToolError::Io { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
            return HeadRead::Absent;
        }
        Err(ToolError::NotALog { .. }) => {
            return HeadRead::Unreadable(
                "not a regular file, so not the head a writer keeps".to_owned(),
            );
        }
        Err(err) => return HeadRead::Unreadable(err.to_string()),
    };
    let mut bytes = Vec::new();
    if let Err(err) = file.take(4096).read_to_end(&mut bytes) {
        return HeadRead::Unreadable(format!("cannot read it: {err}"));
    }
    ChainHead::parse(&bytes).map_or_else(
        || HeadRead::Unreadable("not a cnv audit head: it was replaced or damaged".to_owned()),
        HeadRead::Head,
    )
}

/// Opens a log (or head) for reading: a regular file, not a link; a pipe or device is
/// refused from its metadata before it is opened, and never blocks the reader.
pub(crate) fn open_log(path: &Path) -> Result<File, ToolError> {
    let io_error = |error| ToolError::Io {
        action: "read",
        path: path.to_path_buf(),
        error,
    };
    let meta = fs::symlink_metadata(path).map_err(io_error)?;
    if !meta.file_type().is_file() {
        return Err(ToolError::NotALog {
            path: path.to_path_buf(),
        });
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|error| {
            if error.raw_os_error() == Some(libc::ELOOP) {
                ToolError::NotALog {
                    path: path.to_path_buf(),
                }
            } else {
                io_error(error)
            }
        })?;
    if !file.metadata().map_err(io_error)?.is_file() {
        return Err(ToolError::NotALog {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = escape_for_display(&self.path.display().to_string());
        match &self.problem {
            None => writeln!(f, "{path}: intact")?,
            Some(problem) => {
                writeln!(f, "{path}: NOT intact")?;
                writeln!(f, "  problem     {problem}")?;
            }
        }
        let before = if self.problem.is_some() {
            " (read up to the problem)"
        } else {
            ""
        };
        writeln!(
            f,
            "  checked     {} lines{before}: entries {}, sessions {}, decisions {} (denied {}), calls ended {}",
            self.lines, self.entries, self.sessions, self.decisions, self.denied, self.calls
        )?;
        if let Some(log) = self.log {
            writeln!(f, "  log         {log}")?;
        }
        match (self.public_key, self.key_given) {
            (Some(key), true) => writeln!(f, "  signed by   {key} (the key given)")?,
            (Some(key), false) => writeln!(
                f,
                "  signed by   {key} (the key the log names: pass --key to check it is yours)"
            )?,
            (None, _) if self.log.is_some() => {
                writeln!(f, "  signed by   nobody: the log was started without a key")?;
            }
            (None, _) => {}
        }
        if self.public_key.is_some() {
            writeln!(f, "  signatures  vouch for lines 1–{}", self.signed_through)?;
        }
        if let Some(hash) = self.first_hash {
            writeln!(f, "  first hash  {hash}")?;
        }
        if let Some(hash) = self.last_hash {
            writeln!(f, "  last hash   {hash} (line {})", self.lines)?;
        }
        match self.head {
            HeadCheck::NotChecked => {
                writeln!(f, "  head        not compared: the log breaks first")?;
            }
            HeadCheck::Absent => writeln!(f, "  head        none")?,
            HeadCheck::Unreadable => writeln!(f, "  head        unreadable")?,
            HeadCheck::Read {
                entries,
                signed,
                agrees,
            } => writeln!(
                f,
                "  head        {entries} lines, {}, {}",
                if signed { "signed" } else { "unsigned" },
                if agrees {
                    "agrees with the log"
                } else {
                    "disagrees with the log"
                }
            )?,
        }
        if let Some(origin) = &self.origin {
            writeln!(f, "  origin      {origin}")?;
        }
        if let Some(witnessing) = &self.witnessing {
            for record in &witnessing.witnesses {
                let url = escape_for_display(&record.url);
                let cosigned = record.cosigned.map_or_else(
                    || "nothing cosigned yet".to_owned(),
                    |size| format!("cosigned lines 1–{size}"),
                );
                match &record.error {
                    Some(error) => writeln!(
                        f,
                        "  submitted   {url}: {cosigned}; the latest checkpoint is unwitnessed by it: {}",
                        escape_for_display(error)
                    )?,
                    None => writeln!(f, "  submitted   {url}: {cosigned}")?,
                }
            }
        }
        for check in &self.witnesses {
            writeln!(f, "  witness     {}: {}", check.url, check.finding)?;
        }
        if !self.witnesses.is_empty() {
            let confirmed = self
                .witnesses
                .iter()
                .filter(|check| matches!(check.finding, WitnessFinding::Confirmed { .. }))
                .count();
            writeln!(
                f,
                "  quorum      {confirmed} of {} witnesses confirm the log (needed: {})",
                self.witnesses.len(),
                self.quorum
            )?;
        }
        for (line, bytes) in &self.repairs {
            writeln!(
                f,
                "  repaired    line {line}: a partial line of {bytes} bytes was removed (a writer stopped in the middle of it)"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_prints_its_line_once() {
        let problem = Problem {
            line: Some(4),
            message: "it was cut".into(),
        };
        assert_eq!(problem.to_string(), "line 4: it was cut");
        let problem = Problem {
            line: Some(4),
            message: "line 4 of the audit log was changed".into(),
        };
        assert_eq!(problem.to_string(), "line 4 of the audit log was changed");
    }
}

/// A witness to ask, and its public key: `URL=PUBKEY` on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessKey {
    /// Its URL.
    pub url: WitnessUrl,
    /// Its public key (made by `cnv-audit keygen`).
    pub key: AuditPublicKey,
}

impl WitnessKey {
    /// A witness at `url` with the key `key`.
    #[must_use]
    pub fn new(url: WitnessUrl, key: AuditPublicKey) -> Self {
        Self { url, key }
    }
}

impl std::str::FromStr for WitnessKey {
    type Err = ToolError;

    /// Reads `URL=PUBKEY`: the URL up to the first `=`, then a `.pub` file or 64 hex
    /// digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| ToolError::WitnessSpec {
            spec: escape_for_display(s),
            reason,
        };
        let (url, key) = s
            .split_once('=')
            .ok_or_else(|| error("it has no `=`".to_owned()))?;
        let url = url
            .parse()
            .map_err(|err: crate::UrlError| error(err.reason.to_owned()))?;
        let key = crate::public_key(key).map_err(|err| error(err.to_string()))?;
        Ok(Self { url, key })
    }
}

/// What one witness vouches for about a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessFinding {
    /// It cosigned a checkpoint of `size` lines that the log holds: the log was not
    /// rolled back or forked before that line.
    Confirmed {
        /// The checkpoint's size.
        size: u64,
        /// When it cosigned it (seconds since the epoch).
        time: u64,
    },
    /// It never cosigned a checkpoint of this log.
    NeverCosigned,
    /// It could not be asked.
    Unreachable {
        /// Why.
        reason: String,
    },
    /// What it answered is not a checkpoint of this log signed by its key and cosigned
    /// by the witness's.
    Invalid {
        /// Why.
        reason: String,
    },
    /// It cosigned more lines than the log has: the log and its head were rolled back
    /// (or cut).
    RolledBack {
        /// The size it cosigned.
        size: u64,
        /// The lines the log has.
        lines: u64,
    },
    /// It cosigned `size` lines, and the log's first `size` lines have another root: the
    /// log was rewritten (forked) after the witness saw it.
    Forked {
        /// The size it cosigned.
        size: u64,
    },
}

impl fmt::Display for WitnessFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Confirmed { size, time } => {
                let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(*time);
                write!(
                    f,
                    "confirms lines 1–{size} (cosigned at {})",
                    humantime::format_rfc3339_seconds(when)
                )
            }
            Self::NeverCosigned => f.write_str("never cosigned a checkpoint of this log"),
            Self::Unreachable { reason } => write!(f, "cannot be asked: {reason}"),
            Self::Invalid { reason } => write!(f, "answered no valid checkpoint: {reason}"),
            Self::RolledBack { size, lines } => write!(
                f,
                "ROLLED BACK: it cosigned {size} lines of this log, and the log has {lines}"
            ),
            Self::Forked { size } => write!(
                f,
                "FORKED: it cosigned {size} lines of this log, and the log's first {size} lines have another root"
            ),
        }
    }
}

/// What one witness was found to vouch for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessCheck {
    /// The witness.
    pub url: WitnessUrl,
    /// What it vouches for.
    pub finding: WitnessFinding,
}

/// Checks the log at `path` as [`verify`] does, then asks each of `witnesses` for the
/// latest checkpoint it cosigned for the log's origin, and checks it against the log:
/// signed by the log's key (`key`, else the one the log names) and cosigned by the
/// witness's, of a size the log holds, with the root of the log's first lines. A witness
/// that cosigned more lines than the log has (the log and its head were rolled back) or
/// another root (the log was forked) is the report's problem, naming the witness and
/// the sizes, whatever the others say; fewer than `quorum` witnesses confirming the log
/// is one too.
#[must_use]
pub fn verify_witnessed(
    path: &Path,
    key: Option<&AuditPublicKey>,
    witnesses: &[WitnessKey],
    quorum: usize,
) -> Verification {
    let mut report = verify(path, key);
    report.quorum = quorum;
    if witnesses.is_empty() {
        return report;
    }
    let (Some(origin), Some(log_key)) = (report.origin.clone(), key.copied().or(report.public_key))
    else {
        report.fail(
            None,
            "the log names no id or no key, so its witnesses cannot be asked about it",
        );
        return report;
    };
    let fetched: Vec<Result<(Checkpoint, u64), WitnessFinding>> = std::thread::scope(|scope| {
        let asking: Vec<_> = witnesses
            .iter()
            .map(|witness| {
                let origin = &origin;
                scope.spawn(move || fetch(witness, origin, log_key))
            })
            .collect();
        asking
            .into_iter()
            .map(|thread| {
                thread.join().unwrap_or_else(|_| {
                    Err(WitnessFinding::Unreachable {
                        reason: "asking it failed".to_owned(),
                    })
                })
            })
            .collect()
    });
    let sizes: Vec<u64> = fetched
        .iter()
        .filter_map(|fetched| fetched.as_ref().ok().map(|(checkpoint, _)| checkpoint.size))
        .collect();
    let (lines, roots) = match tree_roots(path, &sizes) {
        Ok(found) => found,
        Err(err) => {
            report.fail(None, err.to_string());
            return report;
        }
    };
    for (witness, fetched) in witnesses.iter().zip(fetched) {
        let finding = match fetched {
            Err(finding) => finding,
            Ok((checkpoint, _)) if checkpoint.size > lines => WitnessFinding::RolledBack {
                size: checkpoint.size,
                lines,
            },
            Ok((checkpoint, _)) if roots.get(&checkpoint.size) != Some(&checkpoint.root) => {
                WitnessFinding::Forked {
                    size: checkpoint.size,
                }
            }
            Ok((checkpoint, time)) => WitnessFinding::Confirmed {
                size: checkpoint.size,
                time,
            },
        };
        match &finding {
            WitnessFinding::RolledBack { size, lines } => report.fail(
                None,
                format!(
                    "witness {} cosigned a checkpoint of {size} lines of this log, but the log has {lines} lines: the log and its head were rolled back (or cut) after the witness saw them",
                    witness.url
                ),
            ),
            WitnessFinding::Forked { size } => report.fail(
                Some(usize::try_from(*size).unwrap_or(usize::MAX)),
                format!(
                    "witness {} cosigned a checkpoint of {size} lines of this log, and the log's first {size} lines have another root: the log was rewritten (forked) after the witness saw it",
                    witness.url
                ),
            ),
            _ => {}
        }
        report.witnesses.push(WitnessCheck {
            url: witness.url.clone(),
            finding,
        });
    }
    let confirmed = report
        .witnesses
        .iter()
        .filter(|check| matches!(check.finding, WitnessFinding::Confirmed { .. }))
        .count();
    if confirmed < quorum {
        let others: Vec<String> = report
            .witnesses
            .iter()
            .filter(|check| !matches!(check.finding, WitnessFinding::Confirmed { .. }))
            .map(|check| format!("{}: {}", check.url, check.finding))
            .collect();
        report.fail(
            None,
            format!(
                "{confirmed} of {} witnesses confirm the log, fewer than the quorum of {quorum} ({})",
                witnesses.len(),
                others.join("; ")
            ),
        );
    }
    report
}

/// The latest checkpoint `witness` cosigned for `origin`, checked: signed by `log_key`,
/// cosigned by the witness; and the cosignature's time.
fn fetch(
    witness: &WitnessKey,
    origin: &str,
    log_key: AuditPublicKey,
) -> Result<(Checkpoint, u64), WitnessFinding> {
    let invalid = |reason: String| WitnessFinding::Invalid { reason };
    let answer = http::call(
        &witness.url,
        "GET",
        &format!("/{}/checkpoint", origin_hash(origin)),
        b"",
        TIMEOUT,
    )
    .map_err(|err| WitnessFinding::Unreachable {
        reason: err.to_string(),
    })?;
    match answer.status {
        200 => {}
        404 => return Err(WitnessFinding::NeverCosigned),
        status => return Err(invalid(format!("it answered {status}"))),
    }
    let text = String::from_utf8(answer.body).map_err(|_| invalid("not UTF-8".to_owned()))?;
    let note = SignedNote::parse(&text).map_err(|err| invalid(err.to_string()))?;
    let checkpoint = note.checkpoint().map_err(|err| invalid(err.to_string()))?;
    if checkpoint.origin != origin {
        return Err(invalid("a checkpoint of another log".to_owned()));
    }
    let keys = [
        NoteKey::log(origin, log_key),
        NoteKey::cosigner(witness.key),
    ];
    let verified = note.verify(&keys).map_err(|err| invalid(err.to_string()))?;
    if !verified.iter().any(|(index, _)| *index == 0) {
        return Err(invalid(
            "the checkpoint is not signed by the log's key".to_owned(),
        ));
    }
    let time = verified
        .iter()
        .find_map(|(index, time)| (*index == 1).then_some(*time).flatten())
        .ok_or_else(|| invalid("the checkpoint is not cosigned by the witness's key".to_owned()))?;
    Ok((checkpoint, time))
}

/// The roots of the log's first lines at each of `sizes`, and how many complete lines
/// it has (counted up to the largest size asked for, or to its end).
fn tree_roots(
    path: &Path,
    sizes: &[u64],
) -> Result<(u64, std::collections::HashMap<u64, Hash>), ToolError> {
    use std::io::BufRead;
    let mut roots = std::collections::HashMap::new();
    let Some(&max) = sizes.iter().max() else {
        return Ok((0, roots));
    };
    let file = open_log(path)?;
    let _ = file.lock_shared();
    let mut reader = BufReader::with_capacity(64 * 1024, &file);
    let mut frontier = Frontier::new();
    let mut line = Vec::new();
    while frontier.size() < max {
        line.clear();
        let read = Read::by_ref(&mut reader)
            .take(crate::MAX_LINE_BYTES as u64 + 2)
            .read_until(b'\n', &mut line)
            .map_err(|error| ToolError::Io {
                action: "read",
                path: path.to_path_buf(),
                error,
            })?;
        if read == 0 || line.last() != Some(&b'\n') {
            break;
        }
        frontier.push(crate::merkle::line_leaf(&line));
        if sizes.contains(&frontier.size()) {
            roots.insert(frontier.size(), frontier.root());
        }
    }
    let _ = file.unlock();
    Ok((frontier.size(), roots))
}
