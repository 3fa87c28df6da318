//! A writer's side of witnessing: the Merkle tree of the log kept as it grows, the side
//! file `FILE.witness` (where each witness stands), and the thread that submits the
//! log's checkpoints to its witnesses without holding up a call.
//!
//! # The side file
//!
//! `FILE.witness` is a cache and a record, rewritten in place under the log's lock:
//!
//! * `tree`: the frontier of the log's tree at some line, with that line's end and hash,
//!   so a writer that opens the log extends the tree from there instead of from line 1;
//! * `checkpoint`: the latest checkpoint signed for a witness, with the cosignatures
//!   gathered for it (what `cnv-audit prove` proves against);
//! * `witnesses`: for each witness URL, the checkpoint it cosigned last (the frontier
//!   again: the next consistency proof starts there), its cosignature, and the reason the
//!   latest one is not cosigned yet (down, refused) — the log's *unwitnessed* tail.
//!
//! Every frontier is checked against the log before it is used (the line it ends at must
//! be the line the log holds), so a stale, damaged or missing side file costs a re-read
//! of the log, never a wrong root.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::chain::{self, ChainHash, LogId, MAX_LINE_BYTES};
use crate::http::{self, WitnessUrl};
use crate::merkle::{self, Frontier, Hash};
use crate::note;

/// How often a log's thread submits checkpoints to its witnesses at most, as cnv's
/// command lines and servers set it: 100 ms. Submitting at every call's end, back to
/// back, cost an audited call 1.28–1.41× its time in the bench (`audit/witness`: the
/// rounds take the machine's other core); once every 100 ms, 0.97–1.13× (see
/// docs/decisions.md, witnessing). A command line that ends submits at once.
pub const DEFAULT_WITNESS_INTERVAL: Duration = Duration::from_millis(100);

/// How long a submission waits for each connect, read and write of a witness.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(3);

/// How long dropping a log waits for its last checkpoint to be submitted.
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes a side file may have.
const MAX_SIDE_FILE: u64 = 1 << 20;

/// The path of the witnessing state kept beside the log at `log`: `FILE.witness`.
#[must_use]
pub fn witness_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".witness");
    name.into()
}

/// A place in the log: the tree of its first lines, where the last of them ends, and
/// its hash (the `prev` of the next line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) frontier: Frontier,
    pub(crate) end: u64,
    pub(crate) hash: ChainHash,
}

impl Point {
    /// Before line 1.
    pub(crate) const fn start() -> Self {
        Self {
            frontier: Frontier::new(),
            end: 0,
            hash: ChainHash::GENESIS,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.frontier.size()
    }
}

/// A [`Point`] in the side file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PointFile {
    size: u64,
    end: u64,
    hash: ChainHash,
    frontier: Vec<String>,
}

impl From<&Point> for PointFile {
    fn from(point: &Point) -> Self {
        Self {
            size: point.size(),
            end: point.end,
            hash: point.hash,
            frontier: point.frontier.nodes().iter().map(note::b64).collect(),
        }
    }
}

impl PointFile {
    fn point(&self) -> Option<Point> {
        let nodes = self
            .frontier
            .iter()
            .map(|node| note::hash_b64(node))
            .collect::<Option<Vec<_>>>()?;
        Some(Point {
            frontier: Frontier::from_parts(self.size, nodes)?,
            end: self.end,
            hash: self.hash,
        })
    }
}

/// `FILE.witness`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SideFile {
    cnv_audit_witness: u32,
    log: Option<LogId>,
    tree: Option<PointFile>,
    /// The latest checkpoint signed, with the cosignatures gathered for it.
    checkpoint: Option<String>,
    witnesses: BTreeMap<String, WitnessFile>,
}

/// Where one witness stands, as far as the writers know.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WitnessFile {
    /// The latest checkpoint it cosigned.
    cosigned: Option<PointFile>,
    /// Its cosignature line of that checkpoint.
    cosignature: Option<String>,
    /// A size it said it cosigned that the log did not hold when it said so.
    ahead: Option<u64>,
    /// Why the latest checkpoint is not cosigned by it.
    error: Option<String>,
}

impl SideFile {
    /// Reads the side file of the log `log`; an empty, damaged or another log's file
    /// reads as empty.
    pub(crate) fn read(file: &File, log: LogId) -> Self {
        let empty = Self {
            cnv_audit_witness: 1,
            log: Some(log),
            ..Self::default()
        };
        let Ok(meta) = file.metadata() else {
            return empty;
        };
        if meta.len() == 0 || meta.len() > MAX_SIDE_FILE {
            return empty;
        }
        let mut bytes = vec![0; usize::try_from(meta.len()).unwrap_or(0)];
        if file.read_exact_at(&mut bytes, 0).is_err() {
            return empty;
        }
        match serde_json::from_slice::<Self>(&bytes) {
            Ok(side) if side.cnv_audit_witness == 1 && side.log == Some(log) => side,
            _ => empty,
        }
    }

    /// Rewrites the side file in place (under the log's lock).
    pub(crate) fn write(&self, file: &File) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(self).map_err(io::Error::other)?;
        bytes.push(b'\n');
        file.write_all_at(&bytes, 0)?;
        file.set_len(bytes.len() as u64)
    }

    /// The latest checkpoint signed, with the cosignatures gathered for it.
    pub(crate) fn checkpoint(&self) -> Option<String> {
        self.checkpoint.clone()
    }

    /// The tree the side file records, if any.
    pub(crate) fn tree(&self) -> Option<Point> {
        self.tree.as_ref().and_then(PointFile::point)
    }

    /// Where `url` stands: its cosigned point.
    pub(crate) fn cosigned(&self, url: &WitnessUrl) -> Option<Point> {
        self.witnesses
            .get(url.as_str())
            .and_then(|w| w.cosigned.as_ref())
            .and_then(PointFile::point)
    }

    /// Every point the side file records, to start a proof from.
    fn points(&self) -> impl Iterator<Item = Point> + '_ {
        self.tree().into_iter().chain(
            self.witnesses
                .values()
                .filter_map(|w| w.cosigned.as_ref().and_then(PointFile::point)),
        )
    }
}

/// Reads a file from `pos` to `end` with positioned reads (the log is open for
/// appending, and other threads read it too).
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let read = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += read as u64;
        Ok(read)
    }
}

/// Extends `point` over the complete lines of `file` after it, up to the byte `end` and
/// at most to `stop` lines, checking that each follows the one before; the leaves read
/// go to `leaves` too. `Ok(false)` when a line does not follow (the point is not a place
/// in this log: the log was cut or replaced since).
pub(crate) fn extend(
    file: &File,
    point: &mut Point,
    end: u64,
    stop: u64,
    mut leaves: Option<&mut Vec<Hash>>,
) -> io::Result<bool> {
    if point.end > end {
        return Ok(false);
    }
    let mut reader = BufReader::with_capacity(
        64 * 1024,
        At {
            file,
            pos: point.end,
            end,
        },
    );
    let mut line = Vec::new();
    while point.size() < stop {
        line.clear();
        let read = Read::by_ref(&mut reader)
            .take(MAX_LINE_BYTES as u64 + 2)
            .read_until(b'\n', &mut line)?;
        if read == 0 || line.last() != Some(&b'\n') {
            break;
        }
        let bytes = &line[..line.len() - 1];
        let Ok(framed) = chain::frame(0, bytes) else {
            return Ok(false);
        };
        let Some((prev, n)) = chain::quick_number(framed.text) else {
            return Ok(false);
        };
        if prev != point.hash || n != point.size() + 1 {
            return Ok(false);
        }
        let leaf = merkle::leaf_hash(bytes);
        point.frontier.push(leaf);
        if let Some(leaves) = leaves.as_deref_mut() {
            leaves.push(leaf);
        }
        point.end += read as u64;
        point.hash = framed.hash;
    }
    Ok(true)
}

/// The point of the log at `size` lines: from a point the side file records at or before
/// it when one still fits the log, else from line 1.
pub(crate) fn point_at(
    file: &File,
    side: &SideFile,
    end: u64,
    size: u64,
) -> io::Result<Option<Point>> {
    let mut starts: Vec<Point> = side.points().filter(|p| p.size() <= size).collect();
    starts.sort_by_key(|p| std::cmp::Reverse(p.size()));
    starts.push(Point::start());
    for mut point in starts {
        if extend(file, &mut point, end, size, None)? && point.size() == size {
            return Ok(Some(point));
        }
    }
    Ok(None)
}

/// The consistency proof from `from` to `to` (a later point of the same log): the
/// leaves between them are read from the log. `None` when `from` is not a place before
/// `to` in this log.
pub(crate) fn proof_between(
    file: &File,
    from: &Point,
    to: &Point,
) -> io::Result<Option<Vec<Hash>>> {
    if from.size() > to.size() {
        return Ok(None);
    }
    let mut point = from.clone();
    let mut leaves = Vec::new();
    if !extend(file, &mut point, to.end, to.size(), Some(&mut leaves))? || point != *to {
        return Ok(None);
    }
    Ok(from.frontier.consistency_proof(&leaves))
}

/// How one witness took a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submitted {
    /// It cosigned the checkpoint of `size` lines.
    Cosigned {
        /// The checkpoint's size.
        size: u64,
    },
    /// It had cosigned a later checkpoint of this log already, which the log holds
    /// (another writer of the log submitted it).
    Covered {
        /// The size it cosigned.
        size: u64,
    },
    /// It cosigned a checkpoint of more lines than the log holds: the log was rolled
    /// back (or forked) after the witness saw it. `cnv-audit verify --witness` fails on
    /// it; the writer goes on, and the witness refuses every checkpoint of this log.
    Ahead {
        /// The size it cosigned.
        size: u64,
        /// The lines the log held.
        lines: u64,
    },
    /// It could not be reached, or refused the checkpoint; the lines stay unwitnessed by
    /// it until a later submission (whose consistency proof covers them) succeeds.
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// How one witness took the log's latest checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessReport {
    /// The witness.
    pub url: WitnessUrl,
    /// What it did.
    pub outcome: Submitted,
}

/// What a round of submission sends one witness.
pub(crate) struct Job {
    pub(crate) url: WitnessUrl,
    pub(crate) old: u64,
    pub(crate) proof: Vec<Hash>,
}

/// What one witness answered a round.
pub(crate) enum Answer {
    Cosigned(String),
    /// The witness holds this size (a 409).
    Holds(u64),
    Failed(String),
}

/// Sends one add-checkpoint request.
pub(crate) fn post(job: &Job, note: &str) -> Answer {
    let mut body = format!("old {}\n", job.old);
    for hash in &job.proof {
        body.push_str(&note::b64(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    let answer = match http::call(
        &job.url,
        "POST",
        "/add-checkpoint",
        body.as_bytes(),
        TIMEOUT,
    ) {
        Ok(answer) => answer,
        Err(err) => return Answer::Failed(format!("cannot reach it: {err}")),
    };
    let text = String::from_utf8_lossy(&answer.body);
    let text = cnv_caps::text::escape_for_display(text.trim_end());
    match answer.status {
        200 => {
            let line = answer
                .body
                .split(|&b| b == b'\n')
                .next()
                .unwrap_or_default();
            match std::str::from_utf8(line)
                .ok()
                .filter(|line| note::NoteSignature::parse(line).is_ok())
            {
                Some(line) => Answer::Cosigned(format!("{line}\n")),
                None => Answer::Failed("it answered 200 without a cosignature line".to_owned()),
            }
        }
        409 => match note::decimal(text.as_ref()) {
            Some(size) => Answer::Holds(size),
            None => Answer::Failed("it answered 409 without its size".to_owned()),
        },
        status => Answer::Failed(format!("it answered {status}: {text}")),
    }
}

/// The outcome of one witness in a round, and the point it now stands at.
pub(crate) struct Outcome {
    pub(crate) url: WitnessUrl,
    pub(crate) submitted: Submitted,
    /// The checkpoint it cosigned (this round's) and its cosignature line.
    pub(crate) cosigned: Option<(Point, String)>,
}

/// Merges a round's outcomes into the side file: a witness's record moves forward only.
pub(crate) fn merge(side: &mut SideFile, tree: &Point, note: &str, outcomes: &[Outcome]) {
    let newer_tree = side.tree().is_none_or(|known| known.size() <= tree.size());
    if newer_tree {
        side.tree = Some(PointFile::from(tree));
    }
    // The checkpoint kept: this round's, unless the side file holds a later one; the
    // same checkpoint keeps the cosignatures gathered for it before.
    let known = side
        .checkpoint
        .as_deref()
        .and_then(|text| note::SignedNote::parse(text).ok());
    let known_size = known
        .as_ref()
        .and_then(|note| note.checkpoint().ok())
        .map(|checkpoint| checkpoint.size);
    let ours = note::SignedNote::parse(note).ok();
    let mut checkpoint = match (known, ours) {
        (Some(_), _) if known_size.is_some_and(|size| size > tree.size()) => None,
        (Some(known), Some(ours)) if known.text == ours.text => Some(known),
        (_, ours) => ours,
    };
    for outcome in outcomes {
        let record = side
            .witnesses
            .entry(outcome.url.as_str().to_owned())
            .or_default();
        match &outcome.submitted {
            Submitted::Cosigned { .. } | Submitted::Covered { .. } => {
                record.error = None;
                record.ahead = None;
            }
            Submitted::Ahead { size, .. } => {
                record.ahead = Some(*size);
                record.error = Some(format!(
                    "it cosigned {size} lines of this log, more than the log holds"
                ));
            }
            Submitted::Failed { reason } => record.error = Some(reason.clone()),
        }
        if let Some((point, line)) = &outcome.cosigned {
            let known = record.cosigned.as_ref().map_or(0, |p| p.size);
            if point.size() >= known {
                record.cosigned = Some(PointFile::from(point));
                record.cosignature = Some(line.clone());
            }
            if let (Some(note), Ok(signature)) = (
                checkpoint.as_mut(),
                note::NoteSignature::parse(line.trim_end()),
            ) && note.text == tree_text(note, point)
            {
                // A witness's newer cosignature replaces its older one.
                note.signatures
                    .retain(|old| old.name != signature.name || old.key_id != signature.key_id);
                note.signatures.push(signature);
            }
        }
    }
    if let Some(note) = checkpoint {
        side.checkpoint = Some(note.to_string());
    }
}

/// The note's text when it is the checkpoint of `point`'s size (else something else).
fn tree_text(note: &note::SignedNote, point: &Point) -> String {
    match note.checkpoint() {
        Ok(checkpoint)
            if checkpoint.size == point.size() && checkpoint.root == point.frontier.root() =>
        {
            note.text.clone()
        }
        _ => String::new(),
    }
}

/// What `FILE.witness` says about the witnesses of a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessRecord {
    /// The witness's URL.
    pub url: String,
    /// The size of the latest checkpoint it cosigned, as far as the writers know.
    pub cosigned: Option<u64>,
    /// A size it said it cosigned, above what the log held.
    pub ahead: Option<u64>,
    /// Why the latest checkpoint is not cosigned by it.
    pub error: Option<String>,
}

/// What the writers of a log recorded about its witnesses (`FILE.witness`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Witnessing {
    /// The latest checkpoint signed for the witnesses, with the cosignatures gathered
    /// for it: a C2SP signed note.
    pub checkpoint: Option<String>,
    /// Each witness.
    pub witnesses: Vec<WitnessRecord>,
}

impl From<&SideFile> for Witnessing {
    fn from(side: &SideFile) -> Self {
        Self {
            checkpoint: side.checkpoint.clone(),
            witnesses: side
                .witnesses
                .iter()
                .map(|(url, w)| WitnessRecord {
                    url: url.clone(),
                    cosigned: w.cosigned.as_ref().map(|p| p.size),
                    ahead: w.ahead,
                    error: w.error.clone(),
                })
                .collect(),
        }
    }
}

/// What the submitter thread is asked, and has done.
#[derive(Debug, Default)]
struct Pending {
    /// Rounds asked for (a counter).
    asked: u64,
    /// Rounds done (the counter's value when the last round started).
    done: u64,
    stop: bool,
    /// A flush waits: the interval does not hold the next round back.
    urgent: bool,
    /// The thread waits for a round to be asked (and must be woken for one).
    idle: bool,
    last: Vec<WitnessReport>,
}

#[derive(Debug, Default)]
struct Signal {
    pending: Mutex<Pending>,
    changed: Condvar,
}

impl Signal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The thread that submits a log's checkpoints: asked at each call's end, it runs one
/// round at a time (a newer checkpoint asked for during a round is submitted by the
/// next), at most one round per `interval`.
#[derive(Debug)]
pub(crate) struct Submitter {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Submitter {
    /// Starts the thread; `round` submits the log's latest checkpoint.
    pub(crate) fn start(
        interval: Duration,
        round: impl Fn() -> Vec<WitnessReport> + Send + 'static,
    ) -> io::Result<Self> {
        let signal = Arc::new(Signal::default());
        let theirs = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("cnv-audit-witness".to_owned())
            .spawn(move || {
                let mut last_round: Option<Instant> = None;
                loop {
                    let target = {
                        let mut pending = theirs.lock();
                        while pending.asked == pending.done && !pending.stop {
                            pending.idle = true;
                            pending = theirs
                                .changed
                                .wait(pending)
                                .unwrap_or_else(PoisonError::into_inner);
                        }
                        pending.idle = false;
                        if pending.asked == pending.done {
                            return;
                        }
                        let since = last_round.map(|at| at.elapsed());
                        if let Some(wait) = since
                            .and_then(|since| interval.checked_sub(since))
                            .filter(|_| !pending.stop && !pending.urgent)
                        {
                            // Too soon: wait out the interval (a flush or a stop cuts it).
                            drop(
                                theirs
                                    .changed
                                    .wait_timeout(pending, wait)
                                    .unwrap_or_else(PoisonError::into_inner),
                            );
                            continue;
                        }
                        pending.urgent = false;
                        pending.asked
                    };
                    last_round = Some(Instant::now());
                    let reports = round();
                    let mut pending = theirs.lock();
                    pending.done = pending.done.max(target);
                    pending.last = reports;
                    theirs.changed.notify_all();
                }
            })?;
        Ok(Self {
            signal,
            thread: Some(thread),
        })
    }

    /// Asks for a round (the log's latest checkpoint); returns at once. The thread is
    /// woken only when it waits for work: a round under way, or an interval being
    /// waited out, picks the request up by itself.
    pub(crate) fn ask(&self) {
        let mut pending = self.signal.lock();
        pending.asked += 1;
        if pending.idle {
            self.signal.changed.notify_all();
        }
    }

    /// Asks for a round now (the interval does not hold it back) and waits until it is
    /// done, at most `timeout`: its reports, or `None` when it did not end in time.
    pub(crate) fn flush(&self, timeout: Duration) -> Option<Vec<WitnessReport>> {
        let deadline = Instant::now() + timeout;
        let mut pending = self.signal.lock();
        pending.asked += 1;
        let target = pending.asked;
        pending.urgent = true;
        self.signal.changed.notify_all();
        while pending.done < target {
            let left = deadline.checked_duration_since(Instant::now())?;
            pending = self
                .signal
                .changed
                .wait_timeout(pending, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Some(pending.last.clone())
    }

    /// Submits what is left (waiting at most `timeout`) and stops the thread. A thread
    /// still waiting on a witness is left to finish alone.
    pub(crate) fn finish(mut self, timeout: Duration) {
        let done = self.flush(timeout).is_some();
        self.signal.lock().stop = true;
        self.signal.changed.notify_all();
        if let Some(thread) = self.thread.take()
            && done
        {
            let _ = thread.join();
        }
    }
}
