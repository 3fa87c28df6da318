//! [`JsonLinesSink`]: the log's line format to any [`Write`].

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::chain::{self, BodyOut, ChainHash, Genesis, LogId, Tip};
use crate::error::AuditError;
use crate::{AuditEntry, AuditSink};

/// Audit entries as hash-chained JSON Lines — the format of an
/// [`AuditLog`](crate::AuditLog), without its key, head or file handling — written to any
/// [`Write`] and flushed after every entry: a pipe, a socket, a buffer in a test.
///
/// The first entry is preceded by a genesis line that names a new random log id and no
/// key, so [`verify_chain`](crate::verify_chain) checks what it wrote; nothing is signed.
/// For the operator's log, which must survive crashes, concurrent writers and an agent
/// trying to erase it, use [`AuditLog`](crate::AuditLog).
pub struct JsonLinesSink<W: Write + Send> {
    state: Mutex<State<W>>,
}

struct State<W> {
    writer: W,
    log: Option<LogId>,
    tip: Tip,
}

impl<W: Write + Send> JsonLinesSink<W> {
    /// A sink that starts a new log on `writer` with its first entry.
    #[must_use]
    pub fn new(writer: W) -> Self {
        Self {
            state: Mutex::new(State {
                writer,
                log: None,
                tip: Tip::EMPTY,
            }),
        }
    }

    /// The hash of the last line written ([`ChainHash::GENESIS`] before the first).
    #[must_use]
    pub fn head(&self) -> ChainHash {
        self.lock().tip.hash
    }

    /// The writer back.
    #[must_use]
    pub fn into_inner(self) -> W {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .writer
    }

    /// A panic cannot happen between writing a line and moving the tip, so a poisoned
    /// lock still holds the right tip.
    fn lock(&self) -> MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W: Write> State<W> {
    fn write(&mut self, body: &BodyOut<'_>) -> Result<(), AuditError> {
        let line = chain::encode(self.tip, body, None)?;
        let io_error = |err| AuditError::Io {
            target: "the JSON Lines writer".into(),
            error: Arc::new(err),
        };
        self.writer.write_all(&line.bytes).map_err(io_error)?;
        self.writer.flush().map_err(io_error)?;
        self.tip = line.tip;
        Ok(())
    }
}

impl<W: Write + Send> AuditSink for JsonLinesSink<W> {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        let mut state = self.lock();
        if state.log.is_none() {
            let log = LogId::random().map_err(|err| AuditError::Random {
                path: "the JSON Lines writer".to_owned(),
                reason: err.to_string(),
            })?;
            state.write(&BodyOut::Genesis(&Genesis {
                format: chain::FORMAT.to_owned(),
                log,
                public_key: None,
                head: false,
            }))?;
            state.log = Some(log);
        }
        state.write(&BodyOut::Entry(entry))
    }
}

impl<W: Write + Send> fmt::Debug for JsonLinesSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("JsonLinesSink")
            .field("log", &state.log)
            .field("lines", &state.tip.n)
            .field("head", &state.tip.hash)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::error::ChainError;
    use crate::verify_chain;
    use crate::{AuditEvent, Verdict};
    use cnv_caps::RunMode;
    use cnv_caps::{CapabilityClass, SessionId};

    fn entry(n: usize) -> AuditEntry {
        let mut entry = AuditEntry::new(
            &format!("session-{n}"),
            SessionId::new_v4(),
            RunMode::Autonomous,
            AuditEvent::Escalate,
            Verdict::Allowed,
        );
        entry.from = Some(CapabilityClass::Pure);
        entry.to = Some(CapabilityClass::Network);
        entry.justification = Some(format!("reason {n} with \"quotes\",\"hash\":\"x\" inside"));
        entry
    }

    /// The lines of a log of a genesis and `n` entries.
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
        let sink = JsonLinesSink::new(Vec::new());
        for i in 0..5 {
            sink.record(&entry(i)).expect("writes");
        }
        let head = sink.head();
        let text = sink.into_inner();
        let summary = verify_chain(&text[..]).expect("intact");
        assert_eq!(summary.entries, 6, "the genesis and five entries");
        assert_eq!(summary.head, head);
        let lines = log_of(1);
        assert!(lines[0].starts_with(&format!("{{\"prev\":\"{}\",\"n\":1,", ChainHash::GENESIS)));
        assert!(lines[0].contains("\"genesis\":{"), "{}", lines[0]);
        assert!(lines[0].contains("\"public_key\":null"), "{}", lines[0]);
    }

    #[test]
    fn an_edited_line_is_detected() {
        let mut lines = log_of(4);
        lines[2] = lines[2].replace("\"Network\"", "\"Pure\"");
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::Edited { line: 3 })
        ));
        // Editing the last line is detected too: it carries its own hash.
        let mut lines = log_of(4);
        lines[4] = lines[4].replace("reason 3", "reason 9");
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::Edited { line: 5 })
        ));
    }

    #[test]
    fn a_deleted_line_is_detected() {
        for deleted in 1..4 {
            let mut lines = log_of(4);
            lines.remove(deleted);
            let err = verify_chain(join(&lines).as_bytes()).unwrap_err();
            assert!(
                matches!(err, ChainError::BrokenLink { line } if line == deleted + 1),
                "deleting line {}: {err}",
                deleted + 1
            );
        }
        // Deleting the genesis leaves a log without one.
        let mut lines = log_of(2);
        lines.remove(0);
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::BrokenLink { line: 1 } | ChainError::Genesis { line: 1 })
        ));
    }

    #[test]
    fn swapped_lines_are_detected() {
        let mut lines = log_of(4);
        lines.swap(2, 3);
        assert!(matches!(
            verify_chain(join(&lines).as_bytes()),
            Err(ChainError::BrokenLink { line: 3 })
        ));
    }

    #[test]
    fn garbage_and_truncation_are_detected() {
        let lines = log_of(2);
        let mut text = join(&lines);
        text.push_str("{\"prev\":");
        assert!(matches!(
            verify_chain(text.as_bytes()),
            Err(ChainError::Truncated { line: 4 })
        ));
        let text = format!("{}not json\n", join(&lines));
        assert!(matches!(
            verify_chain(text.as_bytes()),
            Err(ChainError::Malformed { line: 4, .. })
        ));
        // A `hash` that is not the last field.
        let moved = lines[1].replacen("\"n\":2", "\"n\":2,\"hash\":\"x\",\"extra\":1", 1);
        let text = join(&[lines[0].clone(), moved]);
        assert!(verify_chain(text.as_bytes()).is_err());
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
}
