//! Reading a log back: [`ChainReader`] checks every line as it yields it, and
//! [`verify_chain`] reads a whole log.

use std::io::BufRead;
use std::sync::Arc;
use std::time::SystemTime;

use crate::chain::{self, ChainHash, Genesis, LogId, MAX_LINE_BYTES, RecordBody, Tip};
use crate::error::ChainError;
use crate::key::AuditPublicKey;

/// One line of a log, checked: its hash matches its bytes, it follows the line before
/// it, it carries its number, and its signature (if any) verifies under the key the
/// genesis names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainRecord {
    /// The line number, from 1.
    pub line: usize,
    /// The line's hash.
    pub hash: ChainHash,
    /// Whether the line carries a checkpoint signature (verified).
    pub signed: bool,
    /// When it was written, as the line says.
    pub timestamp: Option<SystemTime>,
    /// What the line records.
    pub body: RecordBody,
}

/// What a log holds, as far as it was read and found intact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainSummary {
    /// How many lines were read: the genesis, the entries and any recoveries.
    pub entries: usize,
    /// The hash of the last line ([`ChainHash::GENESIS`] before the first).
    pub head: ChainHash,
    /// The hash of line 1 (the genesis), once read.
    pub first: Option<ChainHash>,
    /// The log's id, from its genesis.
    pub log: Option<LogId>,
    /// The key that signs the log, from its genesis.
    pub public_key: Option<AuditPublicKey>,
    /// The last line whose signature verified (0: none). Every line up to it is vouched
    /// for by the key; lines after it are not, until the next checkpoint (or the head
    /// beside the log) covers them.
    pub signed_through: usize,
}

/// Reads a log line by line, checking each line as it goes, and yields each as a
/// [`ChainRecord`]; the first problem is the last item. The rules are the writer's:
///
/// * line 1 is a genesis (its `prev` is 64 zeros), and no other line is;
/// * every line's `hash` is the SHA-256 of its bytes up to `,"hash":` — else
///   [`ChainError::Edited`];
/// * every `prev` is the hash of the line before — else [`ChainError::BrokenLink`]
///   (a line deleted, inserted or moved);
/// * every line's `n` is its place — else [`ChainError::Misnumbered`];
/// * in a log whose genesis names a key, every signature verifies under it
///   ([`ChainError::BadSignature`], which names the last good one), and the lines the
///   writer always signs (the genesis, a recovery, the start and the end of a call's
///   handler: [`AuditEvent::is_checkpoint`](crate::AuditEvent::is_checkpoint)) carry one
///   ([`ChainError::Unsigned`]);
/// * a recovery that found the head disagreeing with the log is a problem
///   ([`ChainError::HeadDisagreed`]); one that removed a partial line is not (a writer
///   stopped mid-line, and nothing it had finished was lost);
/// * no line is longer than [`MAX_LINE_BYTES`], and the last ends with a newline
///   ([`ChainError::Truncated`]).
///
/// What it cannot know from the lines alone — that the log is the operator's (compare
/// [`ChainSummary::public_key`] with the operator's key) and that nothing was cut off
/// its end (compare with the head beside it) — is for the caller: `cnv-audit verify`
/// does both.
#[derive(Debug)]
pub struct ChainReader<R> {
    reader: R,
    line: usize,
    tip: Tip,
    genesis: Option<Genesis>,
    first: Option<ChainHash>,
    signed_through: usize,
    done: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> ChainReader<R> {
    /// A reader of the log `reader` yields.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            tip: Tip::EMPTY,
            genesis: None,
            first: None,
            signed_through: 0,
            done: false,
            buf: Vec::new(),
        }
    }

    /// The genesis, once line 1 was read.
    #[must_use]
    pub fn genesis(&self) -> Option<&Genesis> {
        self.genesis.as_ref()
    }

    /// What was read so far and found intact.
    #[must_use]
    pub fn summary(&self) -> ChainSummary {
        ChainSummary {
            entries: self.line,
            head: self.tip.hash,
            first: self.first,
            log: self.genesis.as_ref().map(|genesis| genesis.log),
            public_key: self.genesis.as_ref().and_then(|genesis| genesis.public_key),
            signed_through: self.signed_through,
        }
    }

    /// Reads the next line into `buf` (without its newline); `Ok(None)` at the end.
    fn read_line(&mut self, number: usize) -> Result<Option<()>, ChainError> {
        self.buf.clear();
        let mut newline = false;
        loop {
            let available = self
                .reader
                .fill_buf()
                .map_err(|err| ChainError::Io(Arc::new(err)))?;
            if available.is_empty() {
                break;
            }
            let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], true),
                None => (available, false),
            };
            let consumed = chunk.len() + usize::from(found);
            // Never buffer more than one byte past the limit.
            let room = (MAX_LINE_BYTES + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.reader.consume(consumed);
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(ChainError::Malformed {
                    line: number,
                    reason: format!("it is longer than {MAX_LINE_BYTES} bytes"),
                });
            }
            if found {
                newline = true;
                break;
            }
        }
        if self.buf.is_empty() && !newline {
            return Ok(None);
        }
        if !newline {
            return Err(ChainError::Truncated { line: number });
        }
        Ok(Some(()))
    }

    fn next_record(&mut self) -> Result<Option<ChainRecord>, ChainError> {
        let number = self.line + 1;
        if self.read_line(number)?.is_none() {
            return if number == 1 {
                // An empty log has no genesis: everything it held is gone.
                Err(ChainError::Genesis { line: 1 })
            } else {
                Ok(None)
            };
        }
        let framed = chain::frame(number, &self.buf)?;
        let parsed = chain::parse(number, &framed)?;
        if parsed.prev != self.tip.hash {
            return Err(if number == 1 {
                ChainError::Genesis { line: 1 }
            } else {
                ChainError::BrokenLink { line: number }
            });
        }
        if usize::try_from(parsed.n).ok() != Some(number) {
            return Err(ChainError::Misnumbered {
                line: number,
                found: parsed.n,
            });
        }
        let must_sign = match (&parsed.body, number) {
            (RecordBody::Genesis(genesis), 1) => {
                if genesis.format != chain::FORMAT {
                    return Err(ChainError::Malformed {
                        line: 1,
                        reason: "the genesis names a format this cnv does not read".to_owned(),
                    });
                }
                self.genesis = Some(genesis.clone());
                true
            }
            (RecordBody::Genesis(_), _) | (_, 1) => {
                return Err(ChainError::Genesis { line: number });
            }
            (RecordBody::Recovery(recovery), _) => {
                if let Some(finding) = &recovery.head {
                    return Err(ChainError::HeadDisagreed {
                        line: number,
                        finding: finding.to_string(),
                    });
                }
                true
            }
            (RecordBody::Entry(entry), _) => entry.event.is_checkpoint(),
        };
        let genesis = self
            .genesis
            .as_ref()
            .ok_or(ChainError::Genesis { line: 1 })?;
        let signed = match (framed.sig, genesis.public_key) {
            (Some(sig), Some(key)) => {
                let message = chain::checkpoint_message(&genesis.log, parsed.n, &framed.hash);
                if !key.verifies(&message, &sig) {
                    return Err(ChainError::BadSignature {
                        line: number,
                        since: self.signed_through,
                    });
                }
                self.signed_through = number;
                true
            }
            (Some(_), None) => {
                return Err(ChainError::Malformed {
                    line: number,
                    reason: "it carries a signature, but the log's genesis names no key".to_owned(),
                });
            }
            (None, Some(_)) if must_sign => return Err(ChainError::Unsigned { line: number }),
            (None, _) => false,
        };
        if number == 1 {
            self.first = Some(framed.hash);
        }
        self.tip = Tip {
            n: parsed.n,
            hash: framed.hash,
        };
        self.line = number;
        Ok(Some(ChainRecord {
            line: number,
            hash: framed.hash,
            signed,
            timestamp: parsed.timestamp,
            body: parsed.body,
        }))
    }
}

impl<R: BufRead> Iterator for ChainReader<R> {
    type Item = Result<ChainRecord, ChainError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_record().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// Reads a whole log with a [`ChainReader`] and returns its summary, or the first
/// problem with its line number. A log written by several runs (see
/// [`AuditLog`](crate::AuditLog)) is one chain and verifies as one.
///
/// ```
/// use cnv_audit::{JsonLinesSink, verify_chain};
/// use cnv_typestate::{SessionConfig, TypedSession, Unverified};
/// use std::sync::Arc;
///
/// let sink = Arc::new(JsonLinesSink::new(Vec::new()));
/// let config = SessionConfig::new(sink.clone());
/// let session = TypedSession::<Unverified>::with_config("app", &config)
///     .verify(cnv_caps::CapabilityContract::pure());
/// drop((session, config));
/// let log = Arc::try_unwrap(sink).expect("sessions dropped").into_inner();
/// let summary = verify_chain(&log[..]).expect("intact");
/// assert_eq!(summary.entries, 3); // the genesis, created, verified
///
/// let tampered = String::from_utf8(log).unwrap().replacen("\"Pure\"", "\"Dangerous\"", 1);
/// assert!(verify_chain(tampered.as_bytes()).is_err());
/// ```
///
/// It checks the lines only: whether the key is the operator's and whether lines were
/// cut off the end are answered with the head beside the log, by `cnv-audit verify`.
///
/// # Errors
///
/// The first problem found, with its line number (see [`ChainReader`]).
pub fn verify_chain<R: BufRead>(reader: R) -> Result<ChainSummary, ChainError> {
    let mut reader = ChainReader::new(reader);
    for record in reader.by_ref() {
        record?;
    }
    Ok(reader.summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditEntry, AuditEvent, AuditSink, JsonLinesSink, Verdict};
    use cnv_caps::RunMode;
    use cnv_caps::SessionId;

    fn log_of(n: usize) -> Vec<String> {
        let sink = JsonLinesSink::new(Vec::new());
        for _ in 0..n {
            let entry = AuditEntry::new(
                "s",
                SessionId::new_v4(),
                RunMode::Autonomous,
                AuditEvent::Create,
                Verdict::Allowed,
            );
            sink.record(&entry).expect("writes");
        }
        String::from_utf8(sink.into_inner())
            .expect("utf-8")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn check(lines: &[String]) -> Result<ChainSummary, ChainError> {
        let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
        verify_chain(text.as_bytes())
    }

    #[test]
    fn an_empty_log_has_no_genesis() {
        assert!(matches!(
            verify_chain(&b""[..]),
            Err(ChainError::Genesis { line: 1 })
        ));
    }

    #[test]
    fn a_second_genesis_is_refused() {
        let mut lines = log_of(1);
        // A whole second log appended: its genesis does not follow the first log.
        lines.extend(log_of(1));
        let err = check(&lines).expect_err("two logs");
        assert!(matches!(err, ChainError::BrokenLink { line: 3 }), "{err}");
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused() {
        let mut lines = log_of(1);
        lines.push("x".repeat(MAX_LINE_BYTES + 10));
        let err = check(&lines).expect_err("too long");
        assert!(
            matches!(err, ChainError::Malformed { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_signature_in_a_log_without_a_key_is_refused() {
        let mut lines = log_of(1);
        let last = lines.pop().expect("a line");
        lines.push(format!(
            "{}\",\"sig\":\"{}\"}}",
            &last[..last.len() - 2],
            "0".repeat(128)
        ));
        let err = check(&lines).expect_err("signed without a key");
        assert!(err.to_string().contains("names no key"), "{err}");
    }

    #[test]
    fn the_summary_names_the_log_and_its_ends() {
        let lines = log_of(2);
        let summary = check(&lines).expect("intact");
        assert_eq!(summary.entries, 3);
        assert!(summary.log.is_some());
        assert_eq!(summary.public_key, None);
        assert_eq!(summary.signed_through, 0);
        assert!(summary.first.is_some() && summary.first != Some(summary.head));
    }
}
