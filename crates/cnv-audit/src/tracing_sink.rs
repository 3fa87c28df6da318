//! Audit entries as `tracing` events (feature `tracing`).

use tracing::Level;

use crate::error::AuditError;
use crate::{AuditEntry, AuditSink, Verdict};

/// Delivers each entry as a `tracing` event with target `cnv::audit`: `INFO` for what
/// was allowed, `WARN` for a denial. Fields: `session`, `session_id`, `mode`, `event`,
/// `outcome`, `from`, `to`, `justification`, `rule`, `approval`, `detail`, `call` (the
/// command of a call), `result` (how a call ended) — absent values are empty strings.
///
/// Recording never fails: what happens to an event is the subscriber's business. Pair it
/// with an [`AuditLog`](crate::AuditLog) where the trail must be kept.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingSink;

impl TracingSink {
    /// The sink.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl AuditSink for TracingSink {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    target: "cnv::audit",
                    $level,
                    session = %entry.session,
                    session_id = %entry.session_id,
                    mode = %entry.mode,
                    event = ?entry.event,
                    outcome = ?entry.outcome,
                    from = %text(entry.from),
                    to = %text(entry.to),
                    justification = %text(entry.justification.as_deref()),
                    rule = %text(entry.rule),
                    approval = %text(entry.approval.as_deref()),
                    detail = %text(entry.detail.as_deref()),
                    call = %text(entry.call.as_ref().map(|call| &call.command)),
                    result = %text(entry.result.as_ref().map(|result| result.status())),
                    "cnv audit entry"
                )
            };
        }
        match entry.outcome {
            Verdict::Allowed => emit!(Level::INFO),
            Verdict::Denied => emit!(Level::WARN),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;
    use crate::AuditEvent;
    use cnv_caps::RunMode;
    use cnv_caps::SessionId;

    /// A subscriber that writes each event as `LEVEL target field=value …`.
    #[derive(Default)]
    struct Capture(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
            event.record(&mut Fields(&mut line));
            self.0.lock().expect("not poisoned").push(line);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn entries_become_events_with_their_fields() {
        let capture = Capture::default();
        let lines = capture.0.clone();
        let allowed = AuditEntry::new(
            "app",
            SessionId::new_v4(),
            RunMode::Autonomous,
            AuditEvent::Verify,
            Verdict::Allowed,
        );
        let mut denied = allowed.clone();
        denied.outcome = Verdict::Denied;
        denied.justification = Some("tidy".into());
        tracing::subscriber::with_default(capture, || {
            TracingSink::new().record(&allowed).expect("never fails");
            TracingSink::new().record(&denied).expect("never fails");
        });
        let lines = lines.lock().expect("not poisoned");
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("INFO cnv::audit"), "{}", lines[0]);
        assert!(lines[0].contains("session=app"), "{}", lines[0]);
        assert!(lines[0].contains("event=Verify"), "{}", lines[0]);
        assert!(lines[1].starts_with("WARN cnv::audit"), "{}", lines[1]);
        assert!(lines[1].contains("justification=tidy"), "{}", lines[1]);
    }
}
