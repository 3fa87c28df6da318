//! [`AuditLog`]: the operator's audit log in a file, anchored, signed and shared by
//! every run.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::chain::{
    self, BodyOut, ChainHash, ChainHead, Genesis, HEAD_BYTES, HeadFinding, LogId, MAX_LINE_BYTES,
    RecordBody, Recovery, Sig, Tip, TornTail,
};
use crate::error::{AuditError, ChainError};
use crate::http::WitnessUrl;
use crate::key::AuditKey;
use crate::merkle;
use crate::note::{self, Checkpoint};
use crate::submit::{
    self, Answer, FLUSH_TIMEOUT, Job, Outcome, Point, SideFile, Submitted, Submitter,
    WitnessReport, Witnessing,
};
use crate::{AuditEntry, AuditSink};

/// The operator's audit log: hash-chained JSON Lines in a file that every run appends
/// to, anchored by a genesis line, signed at checkpoints by the operator's
/// [`AuditKey`], with a signed head kept beside it (`FILE.head`).
///
/// ```no_run
/// use std::sync::Arc;
/// use cnv_audit::{AuditKey, AuditLog};
/// use cnv_typestate::SessionConfig;
///
/// let key = AuditKey::load("/etc/cnv/audit.key")?;
/// let log = Arc::new(AuditLog::open("/var/log/cnv/audit.jsonl", Some(&key))?);
/// // … restrict the process (the log's files are open already) …
/// let config = SessionConfig::new(log.clone());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # What `open` accepts
///
/// A regular file that is empty, absent (it is created, mode 0600) or already a cnv
/// audit log. Links, devices, pipes, directories and files that cnv did not write are
/// refused with [`AuditError::NotALog`], which says nothing about what they hold. The
/// same goes for `FILE.head`, which is created beside a new log.
///
/// Every file handle is opened by `open`: recording afterwards touches no path, so a
/// process may restrict itself (Landlock) right after opening the log. `AuditLog` is
/// `Send + Sync`: a watchdog thread may record through it while the main thread runs a
/// restricted handler.
///
/// # Appending
///
/// Each entry is written under an exclusive lock on the log ([`File::lock`]), after the
/// writer made sure it knows the chain's last line: if the file is longer or shorter
/// than this writer left it, another process wrote (or someone cut it), and the writer
/// reads the last line again — backwards from the end, never more than
/// [`MAX_LINE_BYTES`]. So processes that run one after another, or at the same time,
/// extend one chain.
///
/// # Checkpoints
///
/// A signature costs about five times what hashing and writing an entry costs (see
/// `docs/PERFORMANCE.md`), so the log signs *checkpoints*, not entries: the genesis, each
/// recovery, and each entry that starts or ends a call's handler
/// ([`AuditEvent::is_checkpoint`](crate::AuditEvent::is_checkpoint): the one signing cadence) carry a signature of the
/// log's id, their number and their hash — which vouches for every line before them,
/// since each line holds the hash of the one before. At each checkpoint the head beside
/// the log is rewritten with the same signature; dropping the log signs the head if
/// entries were written since the last one. Without a key the same happens unsigned: the
/// chain and the head still catch a careless edit or cut, but not a forger.
///
/// # Repairs
///
/// A writer that stopped in the middle of a line (a crash, `SIGXFSZ`, a full disk)
/// leaves a partial line. The next writer cuts it off and writes a *recovery* line that
/// records its length and hash, then goes on: a torn tail never blocks later runs. A
/// head that disagrees with the log (the log was cut, replaced or deleted while the
/// head survived, or the head was deleted) is recorded the same way, and
/// `cnv-audit verify` reports it as the place where the trail breaks.
pub struct AuditLog {
    log: Arc<Log>,
    /// The thread that submits checkpoints to the log's witnesses, if it has any.
    witnessing: Option<Submitter>,
}

/// The log's files and what this writer knows of them, shared with the submitter.
pub(crate) struct Log {
    path: PathBuf,
    key: Option<AuditKey>,
    state: Mutex<State>,
}

/// The open files and what this writer knows of the chain.
struct State {
    log: File,
    head: File,
    /// Whether `open` created the head file (it did not exist).
    head_created: bool,
    id: Option<LogId>,
    /// The log's length after this writer's last write. If the file still has it under
    /// the lock, nobody wrote since, and `tip` is the chain's last line.
    end: u64,
    tip: Tip,
    /// The signature on line `tip.n`, when it carries one (to reuse in the head).
    tip_sig: Option<Sig>,
    /// The line the head beside the log vouches for.
    checkpoint: u64,
    /// The side file of a witnessed log (`FILE.witness`).
    side: Option<File>,
    /// The tree of the log's lines as far as this writer extended it (witnessed logs).
    tree: Option<Point>,
    /// The tree at the last submission and the leaves appended since: the proof from
    /// there, without reading the log again.
    recent: Option<(Point, Vec<merkle::Hash>)>,
}

/// The most leaves [`State::recent`] keeps (1 MiB of hashes); past them a proof reads the
/// log.
const MAX_RECENT: usize = 32 * 1024;

impl AuditLog {
    /// Opens the log at `path` (creating it when absent) and its head `path.head`,
    /// signing with `key` when given. A new log gets a genesis line that names a new
    /// random log id and `key`'s public half.
    ///
    /// # Errors
    ///
    /// * [`AuditError::NotALog`] when `path` (or its head) is not a regular file that is
    ///   empty or a cnv audit log (head);
    /// * [`AuditError::KeyMismatch`] when the log was started with another key, or
    ///   without one while `key` is given, or with one while it is not;
    /// * [`AuditError::Chain`] when its last complete line is damaged (edited, or longer
    ///   than any entry may be);
    /// * [`AuditError::Io`] when a file cannot be opened, read or written.
    pub fn open(path: impl AsRef<Path>, key: Option<&AuditKey>) -> Result<Self, AuditError> {
        Ok(Self {
            log: Arc::new(Log::open(path.as_ref(), key, false)?),
            witnessing: None,
        })
    }

    /// Opens the log at `path` as [`open`](Self::open) does, and has its checkpoints
    /// cosigned by `witnesses` (their URLs: `http://HOST[:PORT][/PREFIX]`): at the end of
    /// each call (each [`Finish`](crate::AuditEvent::Finish) entry) a thread of the log's
    /// own signs a C2SP checkpoint of the log with `key` and submits it to each witness,
    /// with the consistency proof from the last checkpoint that witness cosigned. The
    /// call does not wait for it; a newer call's end asked for during a submission is
    /// submitted by the next one, at most one submission every `interval`. A witness
    /// that is down does not stop calls: the lines stay *unwitnessed* by it
    /// ([`witnessing`](Self::witnessing) says so) until a later submission covers them.
    /// Dropping the log submits what is left, waiting for it at most 10 s. The state of
    /// witnessing is kept beside the log in `FILE.witness` ([`witness_path`](crate::witness_path)).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open); [`AuditError::Witness`] without a key (a witness
    /// cosigns only signed checkpoints), or when the submitting thread cannot start.
    pub fn open_witnessed(
        path: impl AsRef<Path>,
        key: &AuditKey,
        witnesses: Vec<WitnessUrl>,
        interval: Duration,
    ) -> Result<Self, AuditError> {
        let log = Arc::new(Log::open(path.as_ref(), Some(key), true)?);
        if witnesses.is_empty() {
            return Ok(Self {
                log,
                witnessing: None,
            });
        }
        let theirs = Arc::clone(&log);
        let witnessing =
            Submitter::start(interval, move || theirs.submit(&witnesses)).map_err(|err| {
                AuditError::Witness {
                    reason: format!("the thread that submits checkpoints cannot start: {err}"),
                }
            })?;
        Ok(Self {
            log,
            witnessing: Some(witnessing),
        })
    }

    /// The log's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.log.path
    }

    /// The log's id, from its genesis.
    #[must_use]
    pub fn id(&self) -> Option<LogId> {
        self.log.lock().id
    }

    /// Submits the log's latest checkpoint to its witnesses now and waits for their
    /// answers (at most `timeout`); `None` when the log has no witnesses, or they did
    /// not all answer in time.
    #[must_use]
    pub fn witness_now(&self, timeout: Duration) -> Option<Vec<WitnessReport>> {
        self.witnessing.as_ref()?.flush(timeout)
    }

    /// What the log's writers recorded about its witnesses: the latest checkpoint
    /// signed for them, and how far each has cosigned the log.
    #[must_use]
    pub fn witnessing(&self) -> Option<Witnessing> {
        self.log
            .locked(|state| {
                Ok(state
                    .side
                    .as_ref()
                    .zip(state.id)
                    .map(|(side, id)| Witnessing::from(&SideFile::read(side, id))))
            })
            .ok()
            .flatten()
    }
}

impl Log {
    fn open(path: &Path, key: Option<&AuditKey>, witnessed: bool) -> Result<Self, AuditError> {
        let path = path.to_path_buf();
        let (log, _) = open_regular(&path, true)?;
        // A file that is not a log is refused before anything is created beside it.
        let len = log.metadata().map_err(|err| io_error(&path, err))?.len();
        if len > 0
            && matches!(
                read_genesis(&log, len).map_err(|err| io_error(&path, err))?,
                GenesisRead::NotOurs
            )
        {
            return Err(AuditError::NotALog {
                path: path.display().to_string(),
            });
        }
        let head_path = chain::head_path(&path);
        let (head, head_created) = open_regular(&head_path, false)?;
        let side = if witnessed {
            Some(open_regular(&crate::witness_path(&path), false)?.0)
        } else {
            None
        };
        let this = Self {
            path,
            key: key.cloned(),
            state: Mutex::new(State {
                log,
                head,
                head_created,
                id: None,
                end: u64::MAX,
                tip: Tip::EMPTY,
                tip_sig: None,
                checkpoint: 0,
                side,
                tree: None,
                recent: None,
            }),
        };
        this.locked(|state| this.attach(state, true))?;
        Ok(this)
    }

    /// Signs the head beside the log for the chain as it stands, if entries were
    /// written since the last checkpoint (by this process or another): what dropping the
    /// log does.
    fn sign_head(&self) -> Result<(), AuditError> {
        self.locked(|state| {
            let id = self.attach(state, false)?;
            if state.checkpoint < state.tip.n {
                self.write_head(state, id)?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the state with the log locked: the in-process mutex for threads, the
    /// exclusive file lock ([`File::lock`]) for processes.
    fn locked<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, AuditError>,
    ) -> Result<T, AuditError> {
        let mut state = self.lock();
        state.log.lock().map_err(|err| self.io(err))?;
        let result = f(&mut state);
        // Closing the file would release the lock too; an unlock error leaves nothing to
        // undo.
        let _ = state.log.unlock();
        result
    }

    /// Makes `state` agree with the file, under the lock: a new log gets its genesis; a
    /// log that another writer extended is read again from its end; a partial last
    /// line, or a head that disagrees with the log, is repaired and recorded. Returns
    /// the log's id.
    fn attach(&self, state: &mut State, opening: bool) -> Result<LogId, AuditError> {
        let meta = state.log.metadata().map_err(|err| self.io(err))?;
        if meta.nlink() == 0 {
            return Err(AuditError::Deleted {
                path: self.path.display().to_string(),
            });
        }
        let len = meta.len();
        if let Some(id) = state.id.filter(|_| len == state.end) {
            return Ok(id);
        }
        let head = self.read_head(state)?;
        if len == 0 {
            let finding = match head {
                HeadState::Absent | HeadState::Empty => None,
                // A file beside a new log that is not a head may be someone's: leave it.
                HeadState::Unreadable if opening => {
                    return Err(AuditError::NotALog {
                        path: chain::head_path(&self.path).display().to_string(),
                    });
                }
                HeadState::Unreadable => Some(HeadFinding::Unreadable),
                HeadState::Head(head) => Some(HeadFinding::Disagreed(head)),
            };
            return self.start(state, None, finding);
        }
        let genesis = match read_genesis(&state.log, len).map_err(|err| self.io(err))? {
            GenesisRead::NotOurs => {
                return Err(AuditError::NotALog {
                    path: self.path.display().to_string(),
                });
            }
            GenesisRead::Torn(torn) => {
                // The first writer stopped inside the genesis: nothing was recorded yet.
                state.log.set_len(0).map_err(|err| self.io(err))?;
                return self.start(state, Some(torn), None);
            }
            GenesisRead::Complete(genesis) => genesis,
        };
        self.check_key(&genesis)?;
        let (line, start, torn) = match read_tail(&state.log, len).map_err(|err| self.io(err))? {
            TailRead::Found { line, start, torn } => (line, start, torn),
            TailRead::TooLong { start } => {
                return Err(self.damaged(state, start, |line| ChainError::Malformed {
                    line,
                    reason: format!("it is longer than {MAX_LINE_BYTES} bytes"),
                }));
            }
        };
        let framed = match chain::frame(0, &line) {
            Ok(framed) => framed,
            Err(err) => {
                return Err(self.damaged(state, start, |line| match err {
                    ChainError::Edited { .. } => ChainError::Edited { line },
                    _ => ChainError::Malformed {
                        line,
                        reason: "it is not a cnv audit entry".to_owned(),
                    },
                }));
            }
        };
        let Some((_, n)) = chain::quick_number(framed.text) else {
            return Err(self.damaged(state, start, |line| ChainError::Malformed {
                line,
                reason: "it has no line number".to_owned(),
            }));
        };
        state.id = Some(genesis.log);
        state.tip = Tip {
            n,
            hash: framed.hash,
        };
        // A signature read from the file is not reused for the head: it may be forged.
        state.tip_sig = None;
        state.end = len;
        let torn = match torn {
            Some((at, bytes)) => {
                state.log.set_len(at).map_err(|err| self.io(err))?;
                state.end = at;
                Some(TornTail {
                    bytes: bytes.len() as u64,
                    sha256: ChainHash::of(&bytes),
                })
            }
            None => None,
        };
        let finding = match head {
            HeadState::Absent if genesis.head => Some(HeadFinding::Missing),
            HeadState::Absent | HeadState::Empty => {
                state.checkpoint = 0;
                None
            }
            HeadState::Unreadable => Some(HeadFinding::Unreadable),
            HeadState::Head(head) => {
                state.checkpoint = head.entries;
                let agrees = head.log == genesis.log
                    && (head.entries < n || (head.entries == n && head.hash == framed.hash));
                (!agrees).then_some(HeadFinding::Disagreed(head))
            }
        };
        if torn.is_some() || finding.is_some() {
            self.append(
                state,
                genesis.log,
                &BodyOut::Recovery(&Recovery {
                    torn,
                    head: finding,
                }),
                true,
            )?;
            self.write_head(state, genesis.log)?;
        }
        Ok(genesis.log)
    }

    /// Writes the genesis of a new log (the file is empty), then a recovery when there
    /// is something to record, and the head.
    fn start(
        &self,
        state: &mut State,
        torn: Option<TornTail>,
        finding: Option<HeadFinding>,
    ) -> Result<LogId, AuditError> {
        let id = LogId::random().map_err(|err| AuditError::Random {
            path: self.path.display().to_string(),
            reason: err.to_string(),
        })?;
        state.id = Some(id);
        state.end = 0;
        state.tip = Tip::EMPTY;
        state.tip_sig = None;
        state.checkpoint = 0;
        let genesis = Genesis {
            format: chain::FORMAT.to_owned(),
            log: id,
            public_key: self.key.as_ref().map(AuditKey::public_key),
            head: true,
        };
        self.append(state, id, &BodyOut::Genesis(&genesis), true)?;
        if torn.is_some() || finding.is_some() {
            let recovery = Recovery {
                torn,
                head: finding,
            };
            self.append(state, id, &BodyOut::Recovery(&recovery), true)?;
        }
        self.write_head(state, id)?;
        Ok(id)
    }

    fn check_key(&self, genesis: &Genesis) -> Result<(), AuditError> {
        let given = self.key.as_ref().map(AuditKey::public_key);
        if genesis.public_key == given {
            return Ok(());
        }
        Err(AuditError::KeyMismatch {
            path: self.path.display().to_string(),
            log: genesis.public_key.map_or_else(
                || "without a key".to_owned(),
                |key| format!("with key {key}"),
            ),
            given: given.map_or_else(
                || "no key was given".to_owned(),
                |key| format!("the key given is {key}"),
            ),
        })
    }

    /// Appends one line after the tip, signed when `sign` and the log has a key. A
    /// failed write is cut back, so no partial line stays behind when the error can be
    /// reported.
    fn append(
        &self,
        state: &mut State,
        id: LogId,
        body: &BodyOut<'_>,
        sign: bool,
    ) -> Result<(), AuditError> {
        let signed = std::cell::Cell::new(None);
        let signer = |n: u64, hash: &ChainHash| {
            let sig = self
                .key
                .as_ref()
                .map(|key| key.sign_checkpoint(&id, n, hash));
            signed.set(sig);
            sig
        };
        let sign = sign && self.key.is_some();
        let line = chain::encode(
            state.tip,
            body,
            sign.then_some(&signer as chain::Signer<'_>),
        )?;
        // The file is in append mode: the line lands at the end, in one call.
        if let Err(err) = (&state.log).write_all(&line.bytes) {
            // Cut back to where the line began (under the lock, so no other writer is in
            // between); if even that fails, the next writer finds a torn tail.
            let _ = state.log.set_len(state.end);
            return Err(self.io(err));
        }
        // The tree follows the line when it stood where the line was written.
        let (tip, end) = (state.tip.n, state.end);
        if let Some(tree) = state
            .tree
            .as_mut()
            .filter(|tree| tree.size() == tip && tree.end == end)
        {
            let leaf = merkle::line_leaf(&line.bytes);
            tree.frontier.push(leaf);
            tree.end += line.bytes.len() as u64;
            tree.hash = line.tip.hash;
            if let Some((_, leaves)) = state.recent.as_mut()
                && leaves.len() < MAX_RECENT
            {
                leaves.push(leaf);
            } else {
                state.recent = None;
            }
        }
        state.end += line.bytes.len() as u64;
        state.tip = line.tip;
        state.tip_sig = signed.get();
        Ok(())
    }

    /// Rewrites the head for the tip, with the tip's own signature when it has one.
    fn write_head(&self, state: &mut State, id: LogId) -> Result<(), AuditError> {
        let signature = match (&self.key, state.tip_sig) {
            (None, _) => None,
            (Some(_), Some(sig)) => Some(sig),
            (Some(key), None) => Some(key.sign_checkpoint(&id, state.tip.n, &state.tip.hash)),
        };
        let head = ChainHead {
            log: id,
            entries: state.tip.n,
            hash: state.tip.hash,
            signature,
        };
        let head_io = |err| AuditError::Io {
            target: chain::head_path(&self.path).display().to_string(),
            error: Arc::new(err),
        };
        state
            .head
            .write_all_at(&head.to_bytes(), 0)
            .map_err(head_io)?;
        let len = state.head.metadata().map_err(head_io)?.len();
        if len != HEAD_BYTES as u64 {
            state.head.set_len(HEAD_BYTES as u64).map_err(head_io)?;
        }
        state.checkpoint = state.tip.n;
        Ok(())
    }

    fn read_head(&self, state: &mut State) -> Result<HeadState, AuditError> {
        let created = std::mem::take(&mut state.head_created);
        let head_io = |err| AuditError::Io {
            target: chain::head_path(&self.path).display().to_string(),
            error: Arc::new(err),
        };
        let len = state.head.metadata().map_err(head_io)?.len();
        if len == 0 {
            // Created by this `open` and still empty: there was no head. (Another
            // process opening a new log at the same moment may have created it; then it
            // has written its head by the time this one holds the lock.)
            return Ok(if created {
                HeadState::Absent
            } else {
                HeadState::Empty
            });
        }
        if len > 4 * HEAD_BYTES as u64 {
            return Ok(HeadState::Unreadable);
        }
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        state.head.read_exact_at(&mut bytes, 0).map_err(head_io)?;
        Ok(ChainHead::parse(&bytes).map_or(HeadState::Unreadable, HeadState::Head))
    }

    /// The error for a damaged line at the end of the log, which starts at `start`; its
    /// number is counted here, on the error path only, so appending never reads more
    /// than the end of a long log.
    fn damaged(
        &self,
        state: &State,
        start: u64,
        error: impl FnOnce(usize) -> ChainError,
    ) -> AuditError {
        let line = count_lines(&state.log, start).map_or(0, |lines| lines + 1);
        AuditError::Chain {
            path: self.path.display().to_string(),
            error: error(line),
        }
    }

    fn io(&self, err: io::Error) -> AuditError {
        io_error(&self.path, err)
    }

    /// A panic cannot happen between writing a line and moving the tip, so a poisoned
    /// lock still holds a state that agrees with the file (and `attach` checks it).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Log {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.locked(|state| {
            let id = self.attach(state, false)?;
            let checkpoint = entry.event.is_checkpoint();
            self.append(state, id, &BodyOut::Entry(entry), checkpoint)?;
            if checkpoint {
                self.write_head(state, id)?;
            }
            Ok(())
        })
    }
}

/// What a round of submission prepared under the lock.
struct Prepared {
    tree: Point,
    origin: String,
    side: SideFile,
    jobs: Vec<Job>,
    /// Witnesses that need nothing this round, with their outcome.
    settled: Vec<Outcome>,
}

impl Log {
    /// One round of submission to `witnesses` (the submitter thread's): the tree brought
    /// up to the log's last line under the lock; the checkpoint signed and sent to each
    /// witness at once, unlocked; a witness that holds another size than the writers
    /// knew is sent the proof from that size; the outcomes merged into the side file
    /// under the lock.
    fn submit(&self, witnesses: &[WitnessUrl]) -> Vec<WitnessReport> {
        let all_failed = |reason: String| {
            witnesses
                .iter()
                .map(|url| WitnessReport {
                    url: url.clone(),
                    outcome: Submitted::Failed {
                        reason: reason.clone(),
                    },
                })
                .collect()
        };
        let Some(key) = self.key.as_ref() else {
            return all_failed("the log has no key to sign its checkpoints".to_owned());
        };
        let prepared = match self.locked(|state| self.prepare(state, witnesses)) {
            Ok(prepared) => prepared,
            Err(err) => return all_failed(err.to_string()),
        };
        let Prepared {
            tree,
            origin,
            side,
            jobs,
            mut settled,
        } = prepared;
        let checkpoint = Checkpoint::new(origin, tree.size(), tree.frontier.root());
        let note = note::sign_checkpoint(key, &checkpoint).to_string();
        let answered: Vec<(Job, Answer)> = std::thread::scope(|scope| {
            let running: Vec<_> = jobs
                .into_iter()
                .map(|job| {
                    let note = &note;
                    scope.spawn(move || {
                        let answer = submit::post(&job, note);
                        (job, answer)
                    })
                })
                .collect();
            running
                .into_iter()
                .filter_map(|thread| thread.join().ok())
                .collect()
        });
        for (job, answer) in answered {
            settled.push(self.settle(job, answer, &tree, &side, &note));
        }
        let written = self.locked(|state| {
            let Some(file) = state.side.as_ref() else {
                return Ok(());
            };
            let Some(id) = state.id else { return Ok(()) };
            for outcome in &mut settled {
                if let Submitted::Covered { size } = outcome.submitted
                    && size > state.tip.n
                {
                    outcome.submitted = Submitted::Ahead {
                        size,
                        lines: state.tip.n,
                    };
                }
            }
            let mut side = SideFile::read(file, id);
            submit::merge(&mut side, &tree, &note, &settled);
            side.write(file).map_err(|err| self.side_error(err))
        });
        if let Err(err) = written {
            for outcome in &mut settled {
                if matches!(outcome.submitted, Submitted::Cosigned { .. }) {
                    outcome.submitted = Submitted::Failed {
                        reason: format!("cosigned, but not recorded beside the log: {err}"),
                    };
                }
            }
        }
        settled
            .into_iter()
            .map(|outcome| WitnessReport {
                url: outcome.url,
                outcome: outcome.submitted,
            })
            .collect()
    }

    fn side_error(&self, err: io::Error) -> AuditError {
        AuditError::Io {
            target: crate::witness_path(&self.path).display().to_string(),
            error: Arc::new(err),
        }
    }

    /// Under the lock: the tree brought to the log's last line (extended from where
    /// this writer or the side file left it, else from line 1), and what to send each
    /// witness.
    fn prepare(&self, state: &mut State, witnesses: &[WitnessUrl]) -> Result<Prepared, AuditError> {
        let id = self.attach(state, false)?;
        let Some(file) = state.side.as_ref() else {
            return Err(AuditError::Witness {
                reason: "the log was opened without witnesses".to_owned(),
            });
        };
        let side = SideFile::read(file, id);
        let tip = state.tip;
        let fits = |tree: &Point| tree.size() == tip.n && tree.hash == tip.hash;
        let mut tree = state
            .tree
            .take()
            .or_else(|| side.tree())
            .unwrap_or_else(Point::start);
        let extended = submit::extend(&state.log, &mut tree, state.end, u64::MAX, None)
            .map_err(|err| self.io(err))?;
        if !extended || !fits(&tree) {
            // Not a place in this log (it was cut or replaced since): from line 1.
            tree = Point::start();
            submit::extend(&state.log, &mut tree, state.end, u64::MAX, None)
                .map_err(|err| self.io(err))?;
        }
        if !fits(&tree) {
            return Err(AuditError::Witness {
                reason: format!(
                    "the log's lines do not read as one chain up to line {}: run `cnv-audit verify {}`",
                    tip.n,
                    self.path.display()
                ),
            });
        }
        state.tree = Some(tree.clone());
        let recent = state.recent.replace((tree.clone(), Vec::new()));
        let mut jobs = Vec::new();
        let mut settled = Vec::new();
        for url in witnesses {
            let known = side.cosigned(url);
            match known {
                Some(known) if known == tree => settled.push(Outcome {
                    url: url.clone(),
                    submitted: Submitted::Cosigned { size: tree.size() },
                    cosigned: None,
                }),
                Some(known) if known.size() > tree.size() => settled.push(Outcome {
                    url: url.clone(),
                    submitted: Submitted::Ahead {
                        size: known.size(),
                        lines: tree.size(),
                    },
                    cosigned: None,
                }),
                known => {
                    let proof = match (&known, &recent) {
                        // Where the last submission left it: from the leaves kept since.
                        (Some(known), Some((base, leaves)))
                            if base == known
                                && base.size() + leaves.len() as u64 == tree.size() =>
                        {
                            known.frontier.consistency_proof(leaves)
                        }
                        (Some(known), _) => submit::proof_between(&state.log, known, &tree)
                            .map_err(|err| self.io(err))?,
                        (None, _) => None,
                    };
                    // Without a proof from where the writers left it (a new witness,
                    // or a point the log no longer holds), it is asked its size.
                    let (old, proof) = match (known, proof) {
                        (Some(known), Some(proof)) => (known.size(), proof),
                        _ => (0, Vec::new()),
                    };
                    jobs.push(Job {
                        url: url.clone(),
                        old,
                        proof,
                    });
                }
            }
        }
        Ok(Prepared {
            tree,
            origin: crate::origin(&id),
            side,
            jobs,
            settled,
        })
    }

    /// What a witness's answer means; a 409 with a size below the checkpoint's is
    /// answered again with the proof from that size.
    fn settle(
        &self,
        job: Job,
        answer: Answer,
        tree: &Point,
        side: &SideFile,
        note: &str,
    ) -> Outcome {
        let outcome = |submitted, cosigned| Outcome {
            url: job.url.clone(),
            submitted,
            cosigned,
        };
        let cosigned = |line: String| {
            outcome(
                Submitted::Cosigned { size: tree.size() },
                Some((tree.clone(), line)),
            )
        };
        match answer {
            Answer::Cosigned(line) => cosigned(line),
            Answer::Failed(reason) => outcome(Submitted::Failed { reason }, None),
            Answer::Holds(size) if size > tree.size() => outcome(Submitted::Covered { size }, None),
            Answer::Holds(size) if size == job.old => outcome(
                Submitted::Failed {
                    reason: format!("it answered that it holds {size} lines, the size it was sent"),
                },
                None,
            ),
            Answer::Holds(size) => {
                let proof = self.locked(|state| {
                    let point = submit::point_at(&state.log, side, state.end, size)
                        .map_err(|err| self.io(err))?;
                    Ok(match point {
                        Some(point) => submit::proof_between(&state.log, &point, tree)
                            .map_err(|err| self.io(err))?,
                        None => None,
                    })
                });
                let proof = match proof {
                    Ok(Some(proof)) => proof,
                    Ok(None) => {
                        return outcome(
                            Submitted::Failed {
                                reason: format!(
                                    "it holds a checkpoint of {size} lines, and the log's first {size} lines cannot be read as a chain"
                                ),
                            },
                            None,
                        );
                    }
                    Err(err) => {
                        return outcome(
                            Submitted::Failed {
                                reason: err.to_string(),
                            },
                            None,
                        );
                    }
                };
                let again = Job {
                    url: job.url.clone(),
                    old: size,
                    proof,
                };
                match submit::post(&again, note) {
                    Answer::Cosigned(line) => cosigned(line),
                    Answer::Holds(now) if now > tree.size() => {
                        outcome(Submitted::Covered { size: now }, None)
                    }
                    Answer::Holds(now) => outcome(
                        Submitted::Failed {
                            reason: format!(
                                "it moved from {size} to {now} lines while it was sent a proof; the next submission tries again"
                            ),
                        },
                        None,
                    ),
                    Answer::Failed(reason) => outcome(Submitted::Failed { reason }, None),
                }
            }
        }
    }
}

impl AuditSink for AuditLog {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.log.record(entry)?;
        if entry.event == crate::AuditEvent::Finish
            && let Some(witnessing) = &self.witnessing
        {
            witnessing.ask();
        }
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // A log that `open` refused was never attached: leave its files alone.
        if self.log.lock().id.is_none() {
            return;
        }
        // Best effort: a failure here has nobody to report to, and the next writer's
        // checkpoint covers these entries.
        let _ = self.log.sign_head();
        // A command line that ends submits its last checkpoint before it exits.
        if let Some(witnessing) = self.witnessing.take() {
            witnessing.finish(FLUSH_TIMEOUT);
        }
    }
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.log.lock();
        f.debug_struct("AuditLog")
            .field("path", &self.log.path)
            .field("id", &state.id)
            .field("lines", &state.tip.n)
            .field("signed", &self.log.key.is_some())
            .field("witnessed", &self.witnessing.is_some())
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path, err: io::Error) -> AuditError {
    AuditError::Io {
        target: path.display().to_string(),
        error: Arc::new(err),
    }
}

enum HeadState {
    /// There was no head file: `open` created it.
    Absent,
    /// The head file is empty (a writer stopped before its first checkpoint).
    Empty,
    Unreadable,
    Head(ChainHead),
}

/// Opens `path` for reading and appending (the log) or writing (the head), refusing
/// anything but a regular file: links (`O_NOFOLLOW`), devices and pipes are refused from
/// their metadata before they are opened, and the opened file is checked again (it must
/// be the regular file that was looked at). Creates it, mode 0600, when absent; says
/// whether it did.
fn open_regular(path: &Path, append: bool) -> Result<(File, bool), AuditError> {
    let not_a_log = || AuditError::NotALog {
        path: path.display().to_string(),
    };
    let io_error = |err| io_error(path, err);
    let mut options = OpenOptions::new();
    options
        .read(true)
        .mode(0o600)
        // No link is followed, no terminal becomes ours, and a pipe that slipped in
        // between the look and the open does not block.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    if append {
        options.append(true);
    } else {
        options.write(true);
    }
    let looked = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Some(meta),
        Ok(_) => return Err(not_a_log()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(io_error(err)),
    };
    let refuse_links = |err: io::Error| {
        if err.raw_os_error() == Some(libc::ELOOP) {
            not_a_log()
        } else {
            io_error(err)
        }
    };
    let (file, created) = match &looked {
        Some(_) => (options.open(path).map_err(refuse_links)?, false),
        None => match options.clone().create_new(true).open(path) {
            Ok(file) => (file, true),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                (options.open(path).map_err(refuse_links)?, false)
            }
            Err(err) => return Err(io_error(err)),
        },
    };
    let meta = file.metadata().map_err(io_error)?;
    let same = looked
        .as_ref()
        .is_none_or(|looked| (looked.dev(), looked.ino()) == (meta.dev(), meta.ino()));
    if !meta.is_file() || !same {
        return Err(not_a_log());
    }
    Ok((file, created))
}

enum GenesisRead {
    Complete(Box<Genesis>),
    /// The file holds only the start of a genesis line.
    Torn(TornTail),
    NotOurs,
}

/// A genesis line is a few hundred bytes; a first line longer than this is not one.
const GENESIS_WINDOW: u64 = 4096;

fn read_genesis(file: &File, len: u64) -> io::Result<GenesisRead> {
    let mut bytes = vec![0; usize::try_from(len.min(GENESIS_WINDOW)).unwrap_or(0)];
    file.read_exact_at(&mut bytes, 0)?;
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        let prefix = format!("{{\"prev\":\"{}\",\"n\":1,\"genesis\":", ChainHash::GENESIS);
        let torn = len <= GENESIS_WINDOW
            && prefix
                .as_bytes()
                .starts_with(&bytes[..bytes.len().min(prefix.len())]);
        return Ok(if torn {
            GenesisRead::Torn(TornTail {
                bytes: len,
                sha256: ChainHash::of(&bytes),
            })
        } else {
            GenesisRead::NotOurs
        });
    };
    let Ok(framed) = chain::frame(1, &bytes[..end]) else {
        return Ok(GenesisRead::NotOurs);
    };
    Ok(match chain::parse(1, &framed) {
        Ok(parsed) if parsed.n == 1 && parsed.prev == ChainHash::GENESIS => match parsed.body {
            RecordBody::Genesis(genesis) if genesis.format == chain::FORMAT => {
                GenesisRead::Complete(Box::new(genesis))
            }
            _ => GenesisRead::NotOurs,
        },
        _ => GenesisRead::NotOurs,
    })
}

enum TailRead {
    Found {
        /// The last complete line, without its newline.
        line: Vec<u8>,
        /// Where it starts.
        start: u64,
        /// A partial line after it: where it starts, and its bytes.
        torn: Option<(u64, Vec<u8>)>,
    },
    /// The last line (or the partial one) is longer than any line may be; it starts at
    /// or before `start`.
    TooLong {
        /// Where the part read of it starts (its line number is counted from there).
        start: u64,
    },
}

/// Reads the end of a log that has at least one complete line: the last complete line
/// and any partial line after it. The window read from the end doubles until it holds
/// them, and stops at twice the longest line, so the cost is linear in the last line,
/// whatever the size of the file.
fn read_tail(file: &File, len: u64) -> io::Result<TailRead> {
    let limit = MAX_LINE_BYTES as u64 + 1;
    let max_window = len.min(2 * limit);
    let mut window = len.min(8192);
    loop {
        let start = len - window;
        let mut bytes = vec![0; usize::try_from(window).unwrap_or(0)];
        file.read_exact_at(&mut bytes, start)?;
        match locate_tail(&bytes, start == 0) {
            Some((line, torn_at)) => {
                if let Some(at) = torn_at.filter(|at| (bytes.len() - at) as u64 > limit) {
                    return Ok(TailRead::TooLong {
                        start: start + at as u64,
                    });
                }
                if line.len() as u64 > limit {
                    return Ok(TailRead::TooLong {
                        start: start + line.start as u64,
                    });
                }
                let torn = torn_at.map(|at| (start + at as u64, bytes[at..].to_vec()));
                return Ok(TailRead::Found {
                    start: start + line.start as u64,
                    line: bytes[line].to_vec(),
                    torn,
                });
            }
            None if window >= max_window => {
                // No two newlines in the window: its last newline (if any) ends a line
                // that is too long, or what follows it is.
                let at = bytes
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |at| at + 1);
                return Ok(TailRead::TooLong {
                    start: start + at as u64,
                });
            }
            None => window = (window * 2).min(max_window),
        }
    }
}

/// In `bytes` (the end of the file; `whole` when it is all of it), the range of the last
/// complete line (without its newline) and where a partial line after it starts.
fn locate_tail(bytes: &[u8], whole: bool) -> Option<(std::ops::Range<usize>, Option<usize>)> {
    let last_newline = bytes.iter().rposition(|&b| b == b'\n')?;
    let torn = (last_newline + 1 < bytes.len()).then_some(last_newline + 1);
    let start = match bytes[..last_newline].iter().rposition(|&b| b == b'\n') {
        Some(at) => at + 1,
        None if whole => 0,
        None => return None,
    };
    Some((start..last_newline, torn))
}

/// How many newlines the first `len` bytes of `file` hold.
fn count_lines(file: &File, len: u64) -> io::Result<usize> {
    let mut count = 0;
    let mut buf = vec![0; 64 * 1024];
    let mut offset = 0;
    while offset < len {
        let want = usize::try_from(len - offset).map_or(buf.len(), |left| left.min(buf.len()));
        let read = file.read_at(&mut buf[..want], offset)?;
        if read == 0 {
            break;
        }
        count += buf[..read].iter().filter(|&&b| b == b'\n').count();
        offset += read as u64;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_tail_finds_the_last_line_and_a_partial_one() {
        assert_eq!(locate_tail(b"a\nbc\n", true), Some((2..4, None)));
        assert_eq!(locate_tail(b"a\nbc\nde", true), Some((2..4, Some(5))));
        assert_eq!(locate_tail(b"bc\n", true), Some((0..2, None)));
        assert_eq!(
            locate_tail(b"bc\n", false),
            None,
            "the line may start earlier"
        );
        assert_eq!(locate_tail(b"bcde", true), None);
    }
}
