//! The JSON Lines sinks and the hash chain that makes their logs tamper-evident.
//!
//! # Format
//!
//! One entry per line. Each line is the entry's JSON object with two more fields: `prev`
//! first, the hash of the line before it (64 zeros for the first line of a chain), and
//! `hash` last, the SHA-256 of the line's own bytes up to (not including) `,"hash":`.
//! Hashes are lower-case hex.
//!
//! ```text
//! {"prev":"000…000","timestamp":"2026-11-26T13:25:01.123456Z","session":"my-app",…,"hash":"9f2c…"}
//! {"prev":"9f2c…","timestamp":…,"hash":"41d7…"}
//! ```
//!
//! Editing a line breaks its own hash; deleting, inserting or moving a line breaks the
//! `prev` link of the line after it. [`verify_chain`] checks both.
//!
//! # What the chain does not protect
//!
//! There is no secret: someone who can rewrite the file can recompute every hash after
//! an edit, and cutting lines off the **end** leaves a valid, shorter chain. Keep the
//! head ([`ChainSummary::head`], or the last line's `hash`) somewhere the writer of the
//! log cannot change, and compare it after `verify_chain`.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditSink};
use crate::error::{AuditError, ChainError};

/// A SHA-256 hash in the chain, printed as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The `prev` of the first line of a chain: 64 zeros.
    pub const GENESIS: Self = Self([0; 32]);

    fn of(bytes: &[u8]) -> Self {
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
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
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
        parse_hex(s).ok_or_else(|| ChainError::Malformed {
            line: 0,
            reason: format!("`{s}` is not a hash: expected 64 lower-case hex digits"),
        })
    }
}

fn parse_hex(s: &str) -> Option<ChainHash> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(ChainHash(out))
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What sits between `prev` and `hash` on a line.
#[derive(Serialize)]
struct LineOut<'a> {
    prev: ChainHash,
    #[serde(flatten)]
    entry: &'a AuditEntry,
}

/// A line read back.
#[derive(Deserialize)]
struct LineIn {
    prev: String,
    hash: String,
    #[serde(flatten)]
    entry: AuditEntry,
}

const HASH_FIELD: &str = ",\"hash\":\"";

/// Encodes `entry` as one line (without the newline) following `prev`; returns the line
/// and its hash.
fn encode(prev: ChainHash, entry: &AuditEntry) -> Result<(String, ChainHash), AuditError> {
    let mut line = serde_json::to_string(&LineOut { prev, entry })
        .map_err(|err| AuditError::Encode(Arc::new(err)))?;
    // `{…}` -> `{…` + `,"hash":"…"}`; the hash covers everything before `,"hash":`.
    line.pop();
    let hash = ChainHash::of(line.as_bytes());
    line.push_str(HASH_FIELD);
    line.push_str(&hash.to_string());
    line.push_str("\"}");
    Ok((line, hash))
}

/// Checks one line on its own (numbered from 1 for messages): it is an entry, and its
/// hash matches its bytes. Returns its `prev`, its hash and the entry.
fn check_line(number: usize, line: &str) -> Result<(ChainHash, ChainHash, AuditEntry), ChainError> {
    let malformed = |reason: String| ChainError::Malformed {
        line: number,
        reason,
    };
    let parsed: LineIn = serde_json::from_str(line).map_err(|err| malformed(err.to_string()))?;
    let prev = parse_hex(&parsed.prev)
        .ok_or_else(|| malformed("`prev` is not 64 lower-case hex digits".into()))?;
    let hash = parse_hex(&parsed.hash)
        .ok_or_else(|| malformed("`hash` is not 64 lower-case hex digits".into()))?;
    // A `"` inside a JSON string is always escaped, so the last `,"hash":"` is the field
    // itself; the line must end right after its value.
    let at = line
        .rfind(HASH_FIELD)
        .ok_or_else(|| malformed("no `hash` field".into()))?;
    if line[at + HASH_FIELD.len()..] != format!("{}\"}}", parsed.hash) {
        return Err(malformed("`hash` is not the last field of the line".into()));
    }
    if ChainHash::of(&line.as_bytes()[..at]) != hash {
        return Err(ChainError::Edited { line: number });
    }
    Ok((prev, hash, parsed.entry))
}

/// What [`verify_chain`] found in an intact log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainSummary {
    /// How many entries the log holds.
    pub entries: usize,
    /// The hash of the last line ([`ChainHash::GENESIS`] for an empty log). Compare it
    /// with a copy kept elsewhere to detect lines cut off the end.
    pub head: ChainHash,
}

/// Reads a JSON Lines audit log and checks its hash chain: every line is an entry, every
/// line's hash matches its bytes, every `prev` is the hash of the line before it, and
/// the first `prev` is the genesis hash. A log written by several runs (see
/// [`JsonLinesFile`]) is one chain and verifies as one.
///
/// ```
/// use cnv_typestate::{JsonLinesSink, SessionConfig, TypedSession, Unverified, verify_chain};
/// use std::sync::Arc;
///
/// let sink = Arc::new(JsonLinesSink::new(Vec::new()));
/// let config = SessionConfig::new(sink.clone());
/// let session = TypedSession::<Unverified>::with_config("app", &config)
///     .verify(cnv_caps::CapabilityContract::pure());
/// drop((session, config));
/// let log = Arc::try_unwrap(sink).expect("sessions dropped").into_inner();
/// let summary = verify_chain(&log[..]).expect("intact");
/// assert_eq!(summary.entries, 2); // created, verified
///
/// let tampered = String::from_utf8(log).unwrap().replacen("\"Pure\"", "\"Dangerous\"", 1);
/// assert!(verify_chain(tampered.as_bytes()).is_err());
/// ```
///
/// # Errors
///
/// The first problem found, with its line number: [`ChainError::Edited`],
/// [`ChainError::BrokenLink`] (a line deleted, inserted or moved),
/// [`ChainError::Malformed`], [`ChainError::Truncated`], or [`ChainError::Io`].
pub fn verify_chain<R: BufRead>(mut reader: R) -> Result<ChainSummary, ChainError> {
    let mut expected = ChainHash::GENESIS;
    let mut entries = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|err| ChainError::Io(Arc::new(err)))?;
        if read == 0 {
            break;
        }
        let number = entries + 1;
        if buf.pop() != Some(b'\n') {
            return Err(ChainError::Truncated { line: number });
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        let line = std::str::from_utf8(&buf).map_err(|err| ChainError::Malformed {
            line: number,
            reason: err.to_string(),
        })?;
        let (prev, hash, _) = check_line(number, line)?;
        if prev != expected {
            return Err(ChainError::BrokenLink { line: number });
        }
        expected = hash;
        entries = number;
    }
    Ok(ChainSummary {
        entries,
        head: expected,
    })
}

/// Audit entries as hash-chained JSON Lines, written to any [`Write`] and flushed after
/// every entry.
///
/// A new sink starts a chain; [`continuing`](Self::continuing) extends one whose head the
/// caller knows. For a file that several runs append to, use [`JsonLinesFile`], which
/// finds the head itself.
pub struct JsonLinesSink<W: Write + Send> {
    state: Mutex<(W, ChainHash)>,
}

impl<W: Write + Send> JsonLinesSink<W> {
    /// A sink that starts a new chain.
    #[must_use]
    pub fn new(writer: W) -> Self {
        Self::continuing(writer, ChainHash::GENESIS)
    }

    /// A sink whose first line follows `head`, the hash of the last line already written
    /// elsewhere.
    #[must_use]
    pub fn continuing(writer: W, head: ChainHash) -> Self {
        Self {
            state: Mutex::new((writer, head)),
        }
    }

    /// The hash of the last line written (the genesis hash before the first).
    #[must_use]
    pub fn head(&self) -> ChainHash {
        self.lock().1
    }

    /// The writer back.
    #[must_use]
    pub fn into_inner(self) -> W {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// A panic cannot happen between writing a line and moving the head, so a poisoned
    /// lock still holds the right head.
    fn lock(&self) -> MutexGuard<'_, (W, ChainHash)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W: Write + Send> AuditSink for JsonLinesSink<W> {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        let mut state = self.lock();
        let (line, hash) = encode(state.1, entry)?;
        let io_error = |err| AuditError::Io {
            target: "the JSON Lines writer".into(),
            error: Arc::new(err),
        };
        state.0.write_all(line.as_bytes()).map_err(io_error)?;
        state.0.write_all(b"\n").map_err(io_error)?;
        state.0.flush().map_err(io_error)?;
        state.1 = hash;
        Ok(())
    }
}

impl<W: Write + Send> fmt::Debug for JsonLinesSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesSink")
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}

/// A hash-chained JSON Lines audit log in a file that separate runs append to: `--audit-log
/// FILE`.
///
/// Every entry is written under an exclusive lock on the file ([`File::lock`]), after
/// reading the hash of the file's last line, so runs that follow each other — or run at
/// the same time — extend one chain, and [`verify_chain`] checks the whole file.
/// [`open`](Self::open) refuses a file whose last line is damaged rather than start a
/// second chain after it.
pub struct JsonLinesFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonLinesFile {
    /// Opens (or creates) the log at `path` for appending, after checking its last line.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] when the file cannot be opened or read; [`AuditError::Chain`]
    /// when its last line is incomplete, not an entry, or does not match its hash.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        Self::open_with(path.as_ref(), true)
    }

    /// Opens the log at `path` for appending only if the file already exists, after
    /// checking its last line: for a path chosen by someone who may not create files
    /// (an agent's `--audit-log`). An existing file that is not an audit log is refused
    /// by the check of its last line; an empty file starts a chain.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open); a file that does not exist is [`AuditError::Io`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        Self::open_with(path.as_ref(), false)
    }

    fn open_with(path: &Path, create: bool) -> Result<Self, AuditError> {
        let path = path.to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(create)
            .open(&path)
            .map_err(|err| io_error(&path, err))?;
        let log = Self {
            path,
            file: Mutex::new(file),
        };
        log.head()?;
        Ok(log)
    }

    /// The log's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hash of the file's last line, read now.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn head(&self) -> Result<ChainHash, AuditError> {
        let file = self.lock();
        let _guard = FileLock::exclusive(&file).map_err(|err| io_error(&self.path, err))?;
        self.read_head(&file)
    }

    fn read_head(&self, file: &File) -> Result<ChainHash, AuditError> {
        match last_line(file).map_err(|err| io_error(&self.path, err))? {
            LastLine::Empty => Ok(ChainHash::GENESIS),
            LastLine::Complete { start, text } => {
                // Line numbers are for messages only: counted on the error path alone, so
                // appending never reads more than the last line of a long log.
                let number = || {
                    count_lines_before(file, start)
                        .map(|before| before + 1)
                        .map_err(|err| io_error(&self.path, err))
                };
                let Ok(text) = String::from_utf8(text) else {
                    return Err(self.chain_error(ChainError::Malformed {
                        line: number()?,
                        reason: "the line is not valid UTF-8".to_owned(),
                    }));
                };
                match check_line(0, &text) {
                    Ok((_, hash, _)) => Ok(hash),
                    Err(_) => {
                        let line = number()?;
                        let err = check_line(line, &text)
                            .err()
                            .unwrap_or(ChainError::Malformed {
                                line,
                                reason: "the line changed while it was read".to_owned(),
                            });
                        Err(self.chain_error(err))
                    }
                }
            }
            LastLine::Incomplete { number } => {
                Err(self.chain_error(ChainError::Truncated { line: number }))
            }
        }
    }

    fn chain_error(&self, error: ChainError) -> AuditError {
        AuditError::Chain {
            path: self.path.display().to_string(),
            error,
        }
    }

    fn lock(&self) -> MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AuditSink for JsonLinesFile {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        let file = self.lock();
        let _guard = FileLock::exclusive(&file).map_err(|err| io_error(&self.path, err))?;
        let prev = self.read_head(&file)?;
        let (mut line, _) = encode(prev, entry)?;
        line.push('\n');
        let length = file
            .metadata()
            .map_err(|err| io_error(&self.path, err))?
            .len();
        // The file is in append mode: the write lands at the end, in one call.
        let mut writer = &*file;
        let written = writer
            .write_all(line.as_bytes())
            .and_then(|()| writer.flush());
        if let Err(err) = written {
            // A part of a line would refuse every later run; cut the file back to where
            // the entry began (under the lock, so no other writer is in between).
            let _ = file.set_len(length);
            return Err(io_error(&self.path, err));
        }
        Ok(())
    }
}

impl fmt::Debug for JsonLinesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path, err: io::Error) -> AuditError {
    AuditError::Io {
        target: path.display().to_string(),
        error: Arc::new(err),
    }
}

/// An exclusive advisory lock on a file, released on drop.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File) -> io::Result<Self> {
        file.lock()?;
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; an unlock error leaves nothing to undo.
        let _ = self.0.unlock();
    }
}

enum LastLine {
    Empty,
    /// The last line, without its newline, and the offset where it starts.
    Complete {
        start: u64,
        text: Vec<u8>,
    },
    Incomplete {
        number: usize,
    },
}

/// Reads the last line of `file` by scanning back from the end in blocks; lines are
/// counted only for an incomplete last line, whose number goes into an error.
fn last_line(mut file: &File) -> io::Result<LastLine> {
    const BLOCK: u64 = 4096;
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(LastLine::Empty);
    }
    let mut last = [0];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        return Ok(LastLine::Incomplete {
            number: count_lines(file)? + 1,
        });
    }
    // Scan back from the byte before the final newline for the previous newline.
    let end = len - 1;
    let mut start = end;
    let mut text = Vec::new();
    while start > 0 {
        let from = start.saturating_sub(BLOCK);
        let mut block = vec![0; usize::try_from(start - from).unwrap_or(0)];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block)?;
        if let Some(at) = block.iter().rposition(|&b| b == b'\n') {
            block.drain(..=at);
            block.append(&mut text);
            text = block;
            start = from + at as u64 + 1;
            break;
        }
        block.append(&mut text);
        text = block;
        start = from;
    }
    if text.last() == Some(&b'\r') {
        text.pop();
    }
    Ok(LastLine::Complete { start, text })
}

fn count_lines(mut file: &File) -> io::Result<usize> {
    let len = file.seek(SeekFrom::End(0))?;
    count_lines_before(file, len)
}

fn count_lines_before(mut file: &File, end: u64) -> io::Result<usize> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = io::BufReader::new(file.take(end));
    let mut count = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(count);
        }
        count += buf.iter().filter(|&&b| b == b'\n').count();
        let consumed = buf.len();
        reader.consume(consumed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, Outcome};
    use crate::state::RunMode;
    use cnv_caps::CapabilityClass;
    use cnv_caps::SessionId;

    fn entry(n: usize) -> AuditEntry {
        let mut entry = AuditEntry::new(
            &format!("session-{n}"),
            SessionId::new_v4(),
            RunMode::Autonomous,
            AuditEvent::Escalate,
            Outcome::Allowed,
        );
        entry.from = Some(CapabilityClass::Pure);
        entry.to = Some(CapabilityClass::Network);
        entry.justification = Some(format!("reason {n} with \"quotes\",\"hash\":\"x\" inside"));
        entry
    }

    fn log_of(n: usize) -> Vec<String> {
        let sink = JsonLinesSink::new(Vec::new());
        for i in 0..n {
            sink.record(&entry(i)).expect("writes to memory");
        }
        let text = String::from_utf8(sink.into_inner()).expect("utf-8");
        text.lines().map(str::to_owned).collect()
    }

    fn join(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn an_intact_log_verifies_and_reports_its_head() {
        let lines = log_of(5);
        let summary = verify_chain(join(&lines).as_bytes()).expect("intact");
        assert_eq!(summary.entries, 5);
        let last = check_line(5, &lines[4]).expect("line ok").1;
        assert_eq!(summary.head, last);
        assert!(lines[0].starts_with(&format!("{{\"prev\":\"{}\"", ChainHash::GENESIS)));
        assert_eq!(
            verify_chain(&b""[..]).expect("empty is intact"),
            ChainSummary {
                entries: 0,
                head: ChainHash::GENESIS
            }
        );
    }

    #[test]
    fn an_edited_line_is_detected() {
        let mut lines = log_of(4);
        lines[1] = lines[1].replace("\"Network\"", "\"Pure\"");
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::Edited { line: 2 })
        ));
        // Editing the last line is detected too: it carries its own hash.
        let mut lines = log_of(4);
        lines[3] = lines[3].replace("reason 3", "reason 9");
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::Edited { line: 4 })
        ));
    }

    #[test]
    fn a_deleted_line_is_detected() {
        for deleted in 0..3 {
            let mut lines = log_of(4);
            lines.remove(deleted);
            let err = verify_chain(join(&lines).as_bytes()).unwrap_err();
            assert!(
                matches!(err, ChainError::BrokenLink { line } if line == deleted + 1),
                "deleting line {}: {err}",
                deleted + 1
            );
        }
    }

    #[test]
    fn swapped_lines_are_detected() {
        let mut lines = log_of(4);
        lines.swap(1, 2);
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::BrokenLink { line: 2 })
        ));
    }

    #[test]
    fn a_cut_tail_changes_the_head() {
        let lines = log_of(4);
        let full = verify_chain(join(&lines).as_bytes()).expect("intact");
        let cut = verify_chain(join(&lines[..3]).as_bytes()).expect("still a chain");
        assert_ne!(
            full.head, cut.head,
            "compare the head with a copy kept elsewhere"
        );
    }

    #[test]
    fn garbage_and_truncation_are_detected() {
        let lines = log_of(2);
        let mut text = join(&lines);
        text.push_str("{\"prev\":");
        assert!(matches!(
            verify_chain(text.as_bytes()),
            Err(ChainError::Truncated { line: 3 })
        ));
        let text = format!("{}not json\n", join(&lines));
        assert!(matches!(
            verify_chain(text.as_bytes()),
            Err(ChainError::Malformed { line: 3, .. })
        ));
        // A `hash` that is not the last field.
        let moved = lines[0].replacen("{\"prev\"", "{\"extra\":1,\"prev\"", 1);
        assert!(verify_chain(format!("{moved}\n").as_bytes()).is_err());
    }

    #[test]
    fn hashes_print_and_parse() {
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
    }

    #[test]
    fn a_failing_writer_surfaces_its_error() {
        #[derive(Debug)]
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = JsonLinesSink::new(Full);
        let err = sink.record(&entry(0)).unwrap_err();
        assert!(matches!(err, AuditError::Io { .. }));
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(
            sink.head(),
            ChainHash::GENESIS,
            "a failed write does not move the head"
        );
    }

    #[test]
    fn continuing_extends_a_chain() {
        let first = JsonLinesSink::new(Vec::new());
        first.record(&entry(0)).expect("writes");
        let head = first.head();
        let mut log = first.into_inner();
        let second = JsonLinesSink::continuing(Vec::new(), head);
        second.record(&entry(1)).expect("writes");
        log.extend(second.into_inner());
        assert_eq!(verify_chain(&log[..]).expect("one chain").entries, 2);
    }

    #[test]
    fn last_line_reads_long_lines_across_blocks() {
        let dir = std::env::temp_dir().join(format!("cnv-last-line-{}", SessionId::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("log.jsonl");
        let long = "y".repeat(10_000);
        std::fs::write(&path, format!("short\n{long}\n")).expect("write");
        let file = File::open(&path).expect("open");
        match last_line(&file).expect("reads") {
            LastLine::Complete { start, text } => {
                assert_eq!(start, 6, "the line starts after `short\\n`");
                assert_eq!(text, long.as_bytes());
            }
            _ => panic!("expected a complete line"),
        }
        std::fs::write(&path, "one\ntwo").expect("write");
        let file = File::open(&path).expect("open");
        assert!(matches!(
            last_line(&file),
            Ok(LastLine::Incomplete { number: 2 })
        ));
        std::fs::write(&path, "only\n").expect("write");
        let file = File::open(&path).expect("open");
        assert!(matches!(
            last_line(&file),
            Ok(LastLine::Complete { start: 0, .. })
        ));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
