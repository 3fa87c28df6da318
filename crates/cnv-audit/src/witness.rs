//! The witness: a C2SP `tlog-witness` server for the operator's logs (see [`Witness`]).

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::chain::push_hex;
use crate::error::KeyError;
use crate::http::{self, Reply, Request};
use crate::key::{AuditKey, AuditPublicKey};
use crate::merkle::{self, Hash};
use crate::note::{self, COSIGNATURE_V1, NoteKey, SignedNote};

/// The most bytes of an add-checkpoint request's body.
pub const MAX_REQUEST: usize = 16 * 1024;

/// The most consistency proof lines a request may carry.
const MAX_PROOF: usize = 63;

/// The most refused checkpoints a witness keeps as evidence for one origin.
const MAX_EVIDENCE: usize = 16;

/// The content type of a 409's body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why a witness cannot start, or a setting of it cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The state directory (or a file in it) cannot be created, read or written.
    #[error(
        "cannot use the witness state {}: {error}; check that the directory exists and is writable by the witness",
        path.display()
    )]
    State {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        error: Arc<io::Error>,
    },
    /// Another witness serves the state directory.
    #[error(
        "another witness serves {} already (it holds {}/lock): stop it, or give this one another --state",
        path.display(),
        path.display()
    )]
    Locked {
        /// The state directory.
        path: PathBuf,
    },
    /// A saved checkpoint cannot be read back.
    #[error(
        "{} is not a checkpoint this witness saved ({reason}): the state is damaged; restore it from a backup (a witness that forgets a log's checkpoint can no longer see that log rolled back), or move the file aside to trust that log anew",
        path.display()
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--log ORIGIN=PUBKEY` setting cannot be read.
    #[error(
        "`{spec}` does not name a trusted log ({reason}): write ORIGIN=PUBKEY, the log's origin (`cnv-audit/<log id>`, as `cnv-audit verify` prints it, or a prefix ending in `*`: `cnv-audit/*` for every log the key signs) and its public key (a .pub file or 64 hex digits)"
    )]
    LogSpec {
        /// The setting (escaped).
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The witness's key is a key of a log it trusts.
    #[error(
        "the witness's key is also the key of the trusted log `{origin}`: give the witness a key of its own (`cnv-audit keygen --out witness`)"
    )]
    SharedKey {
        /// The trusted origin.
        origin: String,
    },
    /// The witness's name cannot name a key.
    #[error(
        "`{0}` cannot name a witness's key: a name is not empty and has no space or `+` (e.g. `witness.example/w1`)"
    )]
    Name(String),
    /// The witness's key cannot be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A log a witness trusts: its origin (or a prefix of origins) and the key that signs its
/// checkpoints. Reads from `ORIGIN=PUBKEY`, where PUBKEY is a `.pub` file or 64 hex
/// digits and ORIGIN may end in `*` to trust every origin with that prefix the key signs
/// (`cnv-audit/*=ops.pub`: every cnv log of the operator, each replica's its own).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustedLog {
    /// The origin, or the prefix of origins when [`prefix`](Self::prefix).
    pub origin: String,
    /// Whether `origin` is a prefix (it was written with a final `*`).
    pub prefix: bool,
    /// The key that signs the log's checkpoints.
    pub key: AuditPublicKey,
}

impl TrustedLog {
    /// Whether the log trusts `origin`.
    #[must_use]
    pub fn covers(&self, origin: &str) -> bool {
        if self.prefix {
            origin.starts_with(&self.origin)
        } else {
            origin == self.origin
        }
    }
}

impl FromStr for TrustedLog {
    type Err = WitnessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| WitnessError::LogSpec {
            spec: cnv_caps::text::escape_for_display(s),
            reason: reason.to_owned(),
        };
        let (origin, key) = s.split_once('=').ok_or_else(|| error("it has no `=`"))?;
        let (origin, prefix) = match origin.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (origin, false),
        };
        if !(note::is_key_name(origin) || prefix && origin.is_empty()) {
            return Err(error("the origin is empty or holds a space or `+`"));
        }
        let key = crate::public_key(key).map_err(|err| error(&err.to_string()))?;
        Ok(Self {
            origin: origin.to_owned(),
            prefix,
            key,
        })
    }
}

/// How a witness is set up.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WitnessConfig {
    /// Its key (made by `cnv-audit keygen`), which signs its cosignatures.
    pub key: AuditKey,
    /// Its key name in the cosignature lines; `None`: `cnv-audit-witness/<the first 16 hex
    /// digits of its public key>`.
    pub name: Option<String>,
    /// Its state directory.
    pub state: PathBuf,
    /// The logs it cosigns for.
    pub logs: Vec<TrustedLog>,
}

impl WitnessConfig {
    /// A witness with `key`, keeping its state in `state`, cosigning for `logs`.
    #[must_use]
    pub fn new(key: AuditKey, state: impl Into<PathBuf>, logs: Vec<TrustedLog>) -> Self {
        Self {
            key,
            name: None,
            state: state.into(),
            logs,
        }
    }

    /// Names the witness's key in its cosignatures.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The latest checkpoint cosigned for one log.
#[derive(Clone, Debug)]
struct Latest {
    size: u64,
    root: Hash,
    /// The cosigned note: the checkpoint, the log's signature, the cosignature.
    note: String,
}

/// A C2SP `tlog-witness` that cosigns the checkpoints of the logs it trusts,
/// each only when it extends the last one it cosigned for that log — so that a log and
/// its head rolled back together, or forked, no longer match what the witness vouches
/// for.
///
/// # The protocol
///
/// `POST <prefix>/add-checkpoint` with the body
///
/// ```text
/// old <size of the checkpoint the client believes the witness cosigned last>
/// <consistency proof from that size, one base64 hash a line, at most 63>
///
/// <the log's signed checkpoint: origin, size, root, a blank line, signature lines>
/// ```
///
/// is answered, in this order of checks:
///
/// | status | when |
/// |---|---|
/// | 400 | the body is not that, or `old` is above the checkpoint's size |
/// | 404 | the origin is not one the witness trusts |
/// | 403 | no signature of the origin's trusted key, or one that does not verify |
/// | 409 | `old` is not the size the witness cosigned last for the origin (0 if none); the body is that size and a newline, `Content-Type: text/x.tlog.size` |
/// | 422 | the proof does not show the checkpoint extends the one cosigned (a fork), the same size has another root, a proof was sent from size 0, or a checkpoint of size 0 has a root other than the empty tree's |
/// | 200 | cosigned: the body is the cosignature line, `— <name> base64(key ID, timestamp, signature)` |
///
/// A checkpoint of the size cosigned last, with the same root, is cosigned again with a
/// fresh timestamp. `GET <prefix>/<origin hash>/checkpoint` (the origin hash: SHA-256 of
/// the origin in lower-case hex) answers the latest checkpoint cosigned for the origin —
/// the log's verified signature and the witness's cosignature — or 404 when it never
/// cosigned one. `GET <prefix>/` says the witness's name and vkey.
///
/// # The state
///
/// `DIR/checkpoints/<origin hash>` holds the latest cosigned note of each log, replaced
/// atomically (written beside, `fsync`ed, renamed over, the directory `fsync`ed) before
/// the 200 is sent, while the witness holds the lock that every check of that log takes:
/// a crash before the rename leaves the previous checkpoint, and nothing was cosigned.
/// `DIR/evidence/` keeps signed checkpoints refused with 422 (a log's own key signed a
/// fork), the first 16 of each log. `DIR/lock` is held while a witness serves the
/// directory, so one at a time does. A witness refuses to start on a state it cannot
/// read: forgetting a log's checkpoint would let that log be rolled back unseen.
pub struct Witness {
    key: AuditKey,
    name: String,
    dir: PathBuf,
    logs: Vec<TrustedLog>,
    /// By origin hash: the latest cosigned checkpoint. Held across each check and save.
    latest: Mutex<HashMap<String, Latest>>,
    _lock: File,
}

impl fmt::Debug for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Witness")
            .field("name", &self.name)
            .field("state", &self.dir)
            .field("logs", &self.logs.len())
            .finish_non_exhaustive()
    }
}

/// The origin hash of `origin`: SHA-256 in lower-case hex, the name of its state file
/// and of its path on a witness.
#[must_use]
pub fn origin_hash(origin: &str) -> String {
    let mut out = Vec::with_capacity(64);
    push_hex(&mut out, &Sha256::digest(origin.as_bytes()));
    String::from_utf8(out).unwrap_or_default()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl Witness {
    /// Opens the state directory (creating it and its subdirectories, mode 0700), takes
    /// its lock and reads every checkpoint saved in it.
    ///
    /// # Errors
    ///
    /// [`WitnessError::State`], [`WitnessError::Locked`], [`WitnessError::Damaged`] (a
    /// saved checkpoint that cannot be read: the witness does not start without it),
    /// [`WitnessError::Name`], [`WitnessError::SharedKey`].
    pub fn open(config: WitnessConfig) -> Result<Self, WitnessError> {
        let public = config.key.public_key();
        let name = config.name.unwrap_or_else(|| {
            let mut hex = Vec::new();
            push_hex(&mut hex, &public.as_bytes()[..8]);
            format!("cnv-audit-witness/{}", String::from_utf8_lossy(&hex))
        });
        if !note::is_key_name(&name) {
            return Err(WitnessError::Name(cnv_caps::text::escape_for_display(
                &name,
            )));
        }
        if let Some(log) = config.logs.iter().find(|log| log.key == public) {
            return Err(WitnessError::SharedKey {
                origin: log.origin.clone(),
            });
        }
        let dir = config.state;
        let state_error = |path: &Path| {
            let path = path.to_path_buf();
            move |error| WitnessError::State {
                path,
                error: Arc::new(error),
            }
        };
        for sub in [dir.clone(), dir.join("checkpoints"), dir.join("evidence")] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&sub)
                .map_err(state_error(&sub))?;
        }
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(state_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(WitnessError::Locked { path: dir });
            }
            Err(fs::TryLockError::Error(error)) => return Err(state_error(&lock_path)(error)),
        }
        let mut latest = HashMap::new();
        let checkpoints = dir.join("checkpoints");
        for entry in fs::read_dir(&checkpoints).map_err(state_error(&checkpoints))? {
            let path = entry.map_err(state_error(&checkpoints))?.path();
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if file_name.ends_with(".tmp") {
                // A save that never got renamed: what it held was never answered.
                let _ = fs::remove_file(&path);
                continue;
            }
            let damaged = |reason: &str| WitnessError::Damaged {
                path: path.clone(),
                reason: reason.to_owned(),
            };
            let bytes = fs::read(&path).map_err(state_error(&path))?;
            let text = String::from_utf8(bytes).map_err(|_| damaged("it is not UTF-8"))?;
            let note = SignedNote::parse(&text).map_err(|err| damaged(&err.to_string()))?;
            let checkpoint = note.checkpoint().map_err(|err| damaged(&err.to_string()))?;
            let hash = origin_hash(&checkpoint.origin);
            if hash != file_name {
                return Err(damaged("its name is not the hash of the origin it holds"));
            }
            latest.insert(
                hash,
                Latest {
                    size: checkpoint.size,
                    root: checkpoint.root,
                    note: text,
                },
            );
        }
        Ok(Self {
            key: config.key,
            name,
            dir,
            logs: config.logs,
            latest: Mutex::new(latest),
            _lock: lock,
        })
    }

    /// The witness's key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The witness's C2SP verifier key (`<name>+<key ID>+base64(0x04 || key)`), for
    /// verifiers that are not cnv.
    #[must_use]
    pub fn vkey(&self) -> String {
        note::vkey(&self.name, COSIGNATURE_V1, &self.key.public_key())
    }

    /// The latest checkpoint cosigned for `origin`, as a note with the log's signature
    /// and the cosignature; `None` when it never cosigned one.
    #[must_use]
    pub fn latest(&self, origin: &str) -> Option<String> {
        self.lock()
            .get(&origin_hash(origin))
            .map(|latest| latest.note.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Latest>> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers an add-checkpoint request's body: the status, and the body of the answer
    /// (see [`Witness`]). Never panics on any input.
    #[must_use]
    pub fn add_checkpoint(&self, body: &[u8]) -> (u16, String) {
        let reply = self.add(body);
        (
            reply.status,
            String::from_utf8_lossy(&reply.body).into_owned(),
        )
    }

    fn add(&self, body: &[u8]) -> Reply {
        let bad = |why: &str| Reply::text(400, format!("{why}\n"));
        let Ok(body) = std::str::from_utf8(body) else {
            return bad("the body is not UTF-8");
        };
        let Some((old_line, rest)) = body.split_once('\n') else {
            return bad("the body has no `old` line");
        };
        let Some(old) = old_line.strip_prefix("old ").and_then(note::decimal) else {
            return bad("the first line is not `old <size>`");
        };
        // No proof line: the blank line comes first; else the first blank line ends the
        // proof (the note has a blank line of its own).
        let Some((proof_block, note_text)) = rest
            .strip_prefix('\n')
            .map(|note| ("", note))
            .or_else(|| rest.split_once("\n\n"))
        else {
            return bad("the proof is not followed by a blank line");
        };
        let mut proof = Vec::new();
        for line in proof_block.split('\n').filter(|line| !line.is_empty()) {
            let Some(hash) = note::hash_b64(line) else {
                return bad("a proof line is not a hash in base64");
            };
            proof.push(hash);
        }
        if proof.len() > MAX_PROOF {
            return bad("the proof has more than 63 lines");
        }
        let note = match SignedNote::parse(note_text) {
            Ok(note) => note,
            Err(err) => return bad(&err.to_string()),
        };
        let checkpoint = match note.checkpoint() {
            Ok(checkpoint) => checkpoint,
            Err(err) => return bad(&err.to_string()),
        };
        let keys: Vec<NoteKey> = self
            .logs
            .iter()
            .filter(|log| log.covers(&checkpoint.origin))
            .map(|log| NoteKey::log(&checkpoint.origin, log.key))
            .collect();
        if keys.is_empty() {
            return Reply::text(
                404,
                "this witness does not know the checkpoint's origin: its operator trusts a log with --log ORIGIN=PUBKEY\n",
            );
        }
        if let Err(err) = note.verify(&keys) {
            return Reply::text(403, format!("{err}\n"));
        }
        if old > checkpoint.size {
            return bad("the old size is above the checkpoint's size");
        }
        let hash = origin_hash(&checkpoint.origin);
        let mut latest = self.lock();
        let known = latest.get(&hash);
        let cosigned = known.map_or(0, |known| known.size);
        if old != cosigned {
            return Reply {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{cosigned}\n").into_bytes(),
                no_cache: false,
            };
        }
        let refused = if checkpoint.size == 0 && checkpoint.root != merkle::empty_root() {
            Some("a checkpoint of size 0 has the root of the empty tree")
        } else if old == 0 && !proof.is_empty() {
            Some("from size 0 the proof is empty")
        } else if old > 0
            && known.is_some_and(|known| {
                !merkle::verify_consistency(
                    old,
                    checkpoint.size,
                    &proof,
                    &known.root,
                    &checkpoint.root,
                )
            })
        {
            Some(if old == checkpoint.size {
                "the checkpoint has the size of the one cosigned last, and another root: the log forked"
            } else {
                "the consistency proof does not show that the checkpoint extends the one cosigned last: the log forked, or the proof is wrong"
            })
        } else {
            None
        };
        if let Some(why) = refused {
            self.keep_evidence(&hash, &note);
            return Reply::text(422, format!("{why}\n"));
        }
        // The note kept: the checkpoint, the log's signatures (each verified, since a
        // known key's line that does not verify refuses the note), the cosignature.
        let mut kept = SignedNote::new(note.text.clone());
        kept.signatures = note
            .signatures
            .iter()
            .filter(|line| keys.iter().any(|key| key.matches(line)))
            .cloned()
            .collect();
        let cosignature = note::cosign(&self.key, &self.name, now(), &note.text);
        kept.signatures.push(cosignature.clone());
        let text = kept.to_string();
        if let Err(err) = self.save(&hash, &text) {
            return Reply::text(
                500,
                format!(
                    "the witness could not save the checkpoint, so it does not cosign it: {err}\n"
                ),
            );
        }
        latest.insert(
            hash,
            Latest {
                size: checkpoint.size,
                root: checkpoint.root,
                note: text,
            },
        );
        Reply::text(200, cosignature.line())
    }

    /// Replaces `checkpoints/<hash>` atomically: written beside, synced, renamed, the
    /// directory synced.
    fn save(&self, hash: &str, text: &str) -> io::Result<()> {
        let dir = self.dir.join("checkpoints");
        let temp = dir.join(format!("{hash}.tmp"));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, dir.join(hash))?;
        File::open(&dir)?.sync_all()
    }

    /// Keeps a signed checkpoint refused as a fork: at most [`MAX_EVIDENCE`] per origin
    /// (the first ones: a writer that goes on forking is not let fill the disk).
    fn keep_evidence(&self, hash: &str, note: &SignedNote) {
        let dir = self.dir.join("evidence");
        for n in 0..MAX_EVIDENCE {
            let created = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir.join(format!("{hash}.{n}")));
            match created {
                Ok(mut file) => {
                    let _ = file.write_all(note.to_string().as_bytes());
                    return;
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(_) => return,
            }
        }
    }

    fn handle(&self, request: &Request) -> Reply {
        let path = request.path.as_str();
        if path == "/add-checkpoint" {
            return if request.method == "POST" {
                self.add(&request.body)
            } else {
                Reply::text(405, "add-checkpoint takes a POST\n")
            };
        }
        if path == "/" {
            return if request.method == "GET" {
                Reply::text(
                    200,
                    format!(
                        "cnv-audit witness\nname {}\nvkey {}\n",
                        self.name,
                        self.vkey()
                    ),
                )
            } else {
                Reply::text(405, "/ takes a GET\n")
            };
        }
        let hash = path
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix("/checkpoint"))
            .filter(|hash| {
                hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
        match (hash, request.method.as_str()) {
            (Some(hash), "GET") => match self.lock().get(hash) {
                Some(latest) => Reply {
                    status: 200,
                    content_type: "text/plain; charset=utf-8",
                    body: latest.note.clone().into_bytes(),
                    no_cache: true,
                },
                None => Reply::text(
                    404,
                    "this witness never cosigned a checkpoint of that log\n",
                ),
            },
            (Some(_), _) => Reply::text(405, "a checkpoint takes a GET\n"),
            (None, _) => Reply::text(
                404,
                "not found: this witness serves POST /add-checkpoint and GET /<origin hash>/checkpoint\n",
            ),
        }
    }

    /// Serves the witness on `listener` until the process ends: each connection on a
    /// thread of its own (at most 64 at once), one request each, every read and write
    /// waiting at most 10 s.
    ///
    /// # Errors
    ///
    /// When the listener itself fails.
    pub fn serve(self, listener: &TcpListener) -> io::Result<()> {
        let this = Arc::new(self);
        http::serve(
            listener,
            MAX_REQUEST,
            Arc::new(move |request: Request| this.handle(&request)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{Frontier, leaf_hash, root};
    use crate::note::{Checkpoint, sign_checkpoint};

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "cnv-witness-{name}-{}",
                cnv_caps::SessionId::new_v4()
            ));
            Self(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const ORIGIN: &str = "cnv-audit/0123456789abcdef0123456789abcdef";

    fn leaves(n: usize, fork: &str) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("line {i}{fork}").as_bytes()))
            .collect()
    }

    fn body(old: u64, proof: &[Hash], note: &SignedNote) -> Vec<u8> {
        let mut out = format!("old {old}\n");
        for hash in proof {
            out.push_str(&note::b64(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&note.to_string());
        out.into_bytes()
    }

    fn signed(log: &AuditKey, origin: &str, leaves: &[Hash]) -> SignedNote {
        sign_checkpoint(
            log,
            &Checkpoint::new(origin, leaves.len() as u64, root(leaves)),
        )
    }

    fn witness(dir: &Dir, log: &AuditKey) -> Witness {
        let trusted = TrustedLog {
            origin: "cnv-audit/".to_owned(),
            prefix: true,
            key: log.public_key(),
        };
        let key = AuditKey::from_seed([9; 32]);
        Witness::open(WitnessConfig::new(key, &dir.0, vec![trusted]).with_name("w.example/1"))
            .expect("opens")
    }

    #[test]
    fn the_witness_cosigns_only_what_extends_what_it_cosigned() {
        let dir = Dir::new("extends");
        let log = AuditKey::from_seed([7; 32]);
        let w = witness(&dir, &log);
        let all = leaves(9, "");
        // First sight: old 0, no proof.
        let (status, line) = w.add_checkpoint(&body(0, &[], &signed(&log, ORIGIN, &all[..3])));
        assert_eq!(status, 200, "{line}");
        let mut cosigned = signed(&log, ORIGIN, &all[..3]);
        cosigned
            .signatures
            .push(note::NoteSignature::parse(line.trim_end()).expect("a line"));
        let keys = [
            NoteKey::log(ORIGIN, log.public_key()),
            NoteKey::cosigner(AuditKey::from_seed([9; 32]).public_key()),
        ];
        let verified = cosigned.verify(&keys).expect("verifies");
        assert_eq!(verified.len(), 2);
        assert!(line.starts_with("\u{2014} w.example/1 "));
        // A client that does not know the witness's size learns it.
        let (status, size) = w.add_checkpoint(&body(0, &[], &signed(&log, ORIGIN, &all[..5])));
        assert_eq!((status, size.as_str()), (409, "3\n"));
        // A proof from 3 to 5.
        let proof = Frontier::of(&all[..3])
            .consistency_proof(&all[3..5])
            .expect("a proof");
        let (status, _) = w.add_checkpoint(&body(3, &proof, &signed(&log, ORIGIN, &all[..5])));
        assert_eq!(status, 200);
        // The same again: cosigned again.
        let (status, _) = w.add_checkpoint(&body(5, &[], &signed(&log, ORIGIN, &all[..5])));
        assert_eq!(status, 200);
        // A fork: 5 -> 9 over other leaves.
        let forked = leaves(9, " forked");
        let proof = Frontier::of(&forked[..5])
            .consistency_proof(&forked[5..])
            .expect("a proof");
        let (status, why) = w.add_checkpoint(&body(5, &proof, &signed(&log, ORIGIN, &forked)));
        assert_eq!(status, 422, "{why}");
        assert_eq!(
            fs::read_dir(dir.0.join("evidence")).expect("dir").count(),
            1
        );
        // The same size with another root.
        let (status, why) = w.add_checkpoint(&body(5, &[], &signed(&log, ORIGIN, &forked[..5])));
        assert_eq!(status, 422, "{why}");
        assert!(why.contains("forked"), "{why}");
        // A wrong proof.
        let proof = Frontier::of(&all[..5])
            .consistency_proof(&all[5..])
            .expect("a proof");
        let mut wrong = proof.clone();
        wrong[0][0] ^= 1;
        assert_eq!(
            w.add_checkpoint(&body(5, &wrong, &signed(&log, ORIGIN, &all)))
                .0,
            422
        );
        assert_eq!(
            w.add_checkpoint(&body(5, &proof, &signed(&log, ORIGIN, &all)))
                .0,
            200
        );
        // What is served: the checkpoint of 9, the log's signature and the cosignature.
        let served = SignedNote::parse(&w.latest(ORIGIN).expect("cosigned")).expect("a note");
        assert_eq!(served.checkpoint().expect("a checkpoint").size, 9);
        assert_eq!(served.verify(&keys).expect("verifies").len(), 2);
    }

    #[test]
    fn each_refusal_has_its_status() {
        let dir = Dir::new("refusals");
        let log = AuditKey::from_seed([7; 32]);
        let w = witness(&dir, &log);
        let all = leaves(4, "");
        let other = AuditKey::from_seed([8; 32]);
        let status = |body: Vec<u8>| w.add_checkpoint(&body).0;
        assert_eq!(
            status(body(0, &[], &signed(&log, "example.com/log", &all))),
            404
        );
        assert_eq!(status(body(0, &[], &signed(&other, ORIGIN, &all))), 403);
        let mut tampered = signed(&log, ORIGIN, &all);
        tampered.signatures[0].signature[0] ^= 1;
        assert_eq!(status(body(0, &[], &tampered)), 403);
        assert_eq!(status(body(5, &[], &signed(&log, ORIGIN, &all))), 400);
        assert_eq!(status(body(0, &all[..1], &signed(&log, ORIGIN, &all))), 422);
        let empty = |root: Hash| sign_checkpoint(&log, &Checkpoint::new(ORIGIN, 0, root));
        assert_eq!(status(body(0, &[], &empty([1; 32]))), 422);
        assert_eq!(status(body(0, &[], &empty(merkle::empty_root()))), 200);
        let mut long = body(0, &[], &signed(&log, ORIGIN, &all));
        long.splice(
            6..6,
            format!("{}\n", note::b64(&[0; 32])).repeat(64).into_bytes(),
        );
        assert_eq!(status(long), 400);
        for garbage in [
            &b""[..],
            b"\xff\xfe",
            b"old 1",
            b"new 1\n\n",
            b"old 01\n\n",
            b"old 1\nnot base64\n\n",
            b"old 0\n\nnot a note\n",
            b"old 0\n\norigin\n\n\xe2\x80\x94 x AAAAAAAA\n",
        ] {
            assert_eq!(status(garbage.to_vec()), 400, "{garbage:?}");
        }
    }

    #[test]
    fn a_restarted_witness_keeps_its_state_and_one_serves_a_directory() {
        let dir = Dir::new("restart");
        let log = AuditKey::from_seed([7; 32]);
        let all = leaves(6, "");
        {
            let w = witness(&dir, &log);
            assert_eq!(
                w.add_checkpoint(&body(0, &[], &signed(&log, ORIGIN, &all)))
                    .0,
                200
            );
            let second = Witness::open(WitnessConfig::new(
                AuditKey::from_seed([9; 32]),
                &dir.0,
                Vec::new(),
            ));
            assert!(
                matches!(second, Err(WitnessError::Locked { .. })),
                "{second:?}"
            );
        }
        let w = witness(&dir, &log);
        let (status, size) = w.add_checkpoint(&body(0, &[], &signed(&log, ORIGIN, &all)));
        assert_eq!((status, size.as_str()), (409, "6\n"));
        let reply = w.handle(&Request {
            method: "GET".to_owned(),
            path: format!("/{}/checkpoint", origin_hash(ORIGIN)),
            body: Vec::new(),
        });
        assert_eq!(reply.status, 200);
        assert!(String::from_utf8_lossy(&reply.body).starts_with(ORIGIN));
        drop(w);
        // A damaged state refuses to start.
        fs::write(dir.0.join("checkpoints").join(origin_hash(ORIGIN)), "junk").expect("write");
        let damaged = Witness::open(WitnessConfig::new(
            AuditKey::from_seed([9; 32]),
            &dir.0,
            Vec::new(),
        ));
        assert!(
            matches!(damaged, Err(WitnessError::Damaged { .. })),
            "{damaged:?}"
        );
    }

    #[test]
    fn routes_and_settings() {
        let dir = Dir::new("routes");
        let log = AuditKey::from_seed([7; 32]);
        let w = witness(&dir, &log);
        let get = |method: &str, path: &str| {
            w.handle(&Request {
                method: method.to_owned(),
                path: path.to_owned(),
                body: Vec::new(),
            })
            .status
        };
        assert_eq!(get("GET", "/"), 200);
        assert_eq!(get("GET", "/add-checkpoint"), 405);
        assert_eq!(
            get("GET", &format!("/{}/checkpoint", origin_hash(ORIGIN))),
            404
        );
        assert_eq!(
            get("POST", &format!("/{}/checkpoint", origin_hash(ORIGIN))),
            405
        );
        assert_eq!(get("GET", "/../../etc/passwd"), 404);
        assert_eq!(w.vkey().split('+').next(), Some("w.example/1"));
        assert_eq!(
            origin_hash("example.com/behind-the-sofa").len(),
            64,
            "lower-case hex"
        );
        let key = log.public_key().to_string();
        let trusted: TrustedLog = format!("cnv-audit/*={key}").parse().expect("a setting");
        assert!(trusted.covers(ORIGIN) && !trusted.covers("example.com/x"));
        let exact: TrustedLog = format!("{ORIGIN}={key}").parse().expect("a setting");
        assert!(exact.covers(ORIGIN) && !exact.covers("cnv-audit/other"));
        for bad in [
            "no-equals",
            "a b=00",
            &format!("x+y={key}"),
            "o=/nonexistent.pub",
        ] {
            assert!(bad.parse::<TrustedLog>().is_err(), "{bad}");
        }
        let shared = Witness::open(WitnessConfig::new(
            log.clone(),
            dir.0.join("other"),
            vec![exact],
        ));
        assert!(matches!(shared, Err(WitnessError::SharedKey { .. })));
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics_and_is_never_cosigned(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            static DIR: std::sync::OnceLock<(Dir, Witness)> = std::sync::OnceLock::new();
            let (_, w) = DIR.get_or_init(|| {
                let dir = Dir::new("garbage");
                let w = witness(&dir, &AuditKey::from_seed([7; 32]));
                (dir, w)
            });
            let mut body = b"old 0\n\n".to_vec();
            body.extend_from_slice(&bytes);
            for body in [bytes.clone(), body] {
                let (status, _) = w.add_checkpoint(&body);
                proptest::prop_assert!((400..500).contains(&status), "{status}");
            }
        }
    }
}
