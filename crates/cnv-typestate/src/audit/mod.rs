//! The audit trail: one [`AuditEntry`] per creation, verification, escalation,
//! narrowing and denial, delivered to an [`AuditSink`].

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cnv_caps::{CapabilityClass, SessionId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AuditError, EscalationError, Rule};
use crate::state::RunMode;

mod jsonl;
#[cfg(any(feature = "tracing", test))]
mod tracing_sink;

pub use jsonl::{ChainHash, ChainSummary, JsonLinesFile, JsonLinesSink, verify_chain};
#[cfg(any(feature = "tracing", test))]
pub use tracing_sink::TracingSink;

/// What happened to the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The session was created (unverified).
    Create,
    /// The session was verified with a class (`to`).
    Verify,
    /// The session asked to move up from `from` to `to`.
    Escalate,
    /// The session gave up capability, from `from` down to `to`.
    Narrow,
}

/// Whether the transition happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It happened.
    Allowed,
    /// It was refused; `rule` names why.
    Denied,
}

/// One line of the audit trail.
///
/// In JSON (the [`JsonLinesSink`] format) the fields keep these names; `timestamp` is RFC
/// 3339 in UTC with microseconds, classes and modes are spelled as in the grammar DSL
/// (`"ReadOnlyFS"`, `"Autonomous"`), `event`, `outcome` and `rule` in `snake_case`, and a
/// missing value is `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// When, to the microsecond.
    #[serde(with = "rfc3339")]
    pub timestamp: SystemTime,
    /// The session's name.
    pub session: String,
    /// The session's id.
    pub session_id: SessionId,
    /// The session's mode.
    pub mode: RunMode,
    /// What happened.
    pub event: AuditEvent,
    /// Whether it happened.
    pub outcome: Outcome,
    /// The class held before (none for creation and verification).
    pub from: Option<CapabilityClass>,
    /// The class asked for (none for creation).
    pub to: Option<CapabilityClass>,
    /// The justification given, as given.
    pub justification: Option<String>,
    /// The rule that decided an escalation, allowed or denied.
    pub rule: Option<Rule>,
    /// The human approval that was spent, described.
    pub approval: Option<String>,
    /// For a denial, the full message.
    pub detail: Option<String>,
}

impl AuditEntry {
    /// An entry stamped now, with nothing but the session and the event.
    pub(crate) fn new(
        session: &str,
        session_id: SessionId,
        mode: RunMode,
        event: AuditEvent,
        outcome: Outcome,
    ) -> Self {
        Self {
            timestamp: now(),
            session: session.to_owned(),
            session_id,
            mode,
            event,
            outcome,
            from: None,
            to: None,
            justification: None,
            rule: None,
            approval: None,
            detail: None,
        }
    }

    /// The entry for an escalation refused by `error`, for a program that decides at run
    /// time (prefer [`TypedSession::record_denial`](crate::TypedSession::record_denial),
    /// which fills in the session).
    #[must_use]
    pub fn denial(
        session: &str,
        session_id: SessionId,
        mode: RunMode,
        from: Option<CapabilityClass>,
        to: CapabilityClass,
        justification: &str,
        error: &EscalationError,
    ) -> Self {
        Self {
            from,
            to: Some(to),
            justification: Some(justification.to_owned()),
            rule: Some(error.rule()),
            detail: Some(error.to_string()),
            ..Self::new(
                session,
                session_id,
                mode,
                AuditEvent::Escalate,
                Outcome::Denied,
            )
        }
    }
}

/// The current time, truncated to the microsecond so that it survives a round trip
/// through the log.
fn now() -> SystemTime {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    UNIX_EPOCH + Duration::from_micros(u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX))
}

/// RFC 3339, UTC, microseconds: `2026-11-26T13:25:01.123456Z`.
pub(crate) fn format_timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_micros(time).to_string()
}

mod rfc3339 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_rfc3339_micros(*time))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Where audit entries go. Sinks are shared between sessions and threads
/// (`Send + Sync`), and a sink that cannot record says so: the error reaches the session,
/// which refuses to escalate until it is dealt with (see
/// [`TypedSession::audit_error`](crate::TypedSession::audit_error)).
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Records one entry, durably as far as the sink can.
    ///
    /// # Errors
    ///
    /// An [`AuditError`] when the entry could not be recorded.
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError>;
}

impl<T: AuditSink + ?Sized> AuditSink for Arc<T> {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        (**self).record(entry)
    }
}

impl<T: AuditSink + ?Sized> AuditSink for Box<T> {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        (**self).record(entry)
    }
}

impl<T: AuditSink + ?Sized> AuditSink for &T {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        (**self).record(entry)
    }
}

/// The default sink: entries kept in memory, in order.
///
/// ```
/// use cnv_caps::CapabilityContract;
/// use cnv_typestate::{AuditEvent, TypedSession, Unverified};
///
/// let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::pure());
/// let log = session.audit_log().expect("the default sink is in memory");
/// let events: Vec<_> = log.entries().iter().map(|e| e.event).collect();
/// assert_eq!(events, [AuditEvent::Create, AuditEvent::Verify]);
/// ```
#[derive(Debug, Default)]
pub struct MemorySink {
    entries: Mutex<Vec<AuditEntry>>,
}

impl MemorySink {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every entry, oldest first.
    #[must_use]
    pub fn entries(&self) -> Vec<AuditEntry> {
        self.lock().clone()
    }

    /// How many entries it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Takes every entry out, leaving the log empty.
    #[must_use]
    pub fn take(&self) -> Vec<AuditEntry> {
        std::mem::take(&mut *self.lock())
    }

    /// A panic while the lock was held cannot leave a half-pushed entry (`Vec::push` either
    /// happens or not), so a poisoned lock is still a consistent log.
    fn lock(&self) -> MutexGuard<'_, Vec<AuditEntry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AuditSink for MemorySink {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.lock().push(entry.clone());
        Ok(())
    }
}

/// Records every entry to each of its sinks, in order: a command line's own log beside a
/// program's `tracing` sink, say. The first sink that fails stops the entry there and its
/// error is the result, so a failure is never hidden behind a later success.
///
/// ```
/// use std::sync::Arc;
/// use cnv_typestate::{AuditSink, FanOutSink, MemorySink};
///
/// let (first, second) = (Arc::new(MemorySink::new()), Arc::new(MemorySink::new()));
/// let sinks: Vec<Arc<dyn AuditSink>> = vec![first.clone(), second.clone()];
/// let both = FanOutSink::new(sinks);
/// # let _ = both;
/// ```
#[derive(Debug, Default)]
pub struct FanOutSink {
    sinks: Vec<Arc<dyn AuditSink>>,
}

impl FanOutSink {
    /// A sink that records to each of `sinks`, in order.
    #[must_use]
    pub fn new(sinks: Vec<Arc<dyn AuditSink>>) -> Self {
        Self { sinks }
    }

    /// The sinks, in order.
    #[must_use]
    pub fn sinks(&self) -> &[Arc<dyn AuditSink>] {
        &self.sinks
    }
}

impl AuditSink for FanOutSink {
    fn record(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.sinks.iter().try_for_each(|sink| sink.record(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_json() {
        let mut entry = AuditEntry::denial(
            "app",
            SessionId::new_v4(),
            RunMode::Autonomous,
            Some(CapabilityClass::ReadOnlyFS),
            CapabilityClass::ReadWriteFS,
            "tidy",
            &EscalationError::JustificationTooShort {
                from: CapabilityClass::ReadOnlyFS,
                to: CapabilityClass::ReadWriteFS,
                required: 20,
                given: 4,
            },
        );
        entry.approval = Some("approved".into());
        let json = serde_json::to_string(&entry).expect("encodes");
        assert!(json.contains(r#""rule":"min_justification""#), "{json}");
        assert!(json.contains(r#""event":"escalate""#), "{json}");
        assert!(json.contains(r#""outcome":"denied""#), "{json}");
        assert!(json.contains(r#""from":"ReadOnlyFS""#), "{json}");
        assert!(json.contains(r#""mode":"Autonomous""#), "{json}");
        let back: AuditEntry = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back, entry);
    }

    #[test]
    fn timestamps_are_rfc3339_micros() {
        let text = format_timestamp(UNIX_EPOCH + Duration::from_micros(1_500_000));
        assert_eq!(text, "1970-01-01T00:00:01.500000Z");
        let entry = AuditEntry::new(
            "a",
            SessionId::new_v4(),
            RunMode::Supervised,
            AuditEvent::Create,
            Outcome::Allowed,
        );
        let since = entry
            .timestamp
            .duration_since(UNIX_EPOCH)
            .expect("after 1970");
        assert_eq!(since.subsec_nanos() % 1000, 0);
    }

    #[test]
    fn memory_sink_keeps_order_and_can_be_shared() {
        let sink = Arc::new(MemorySink::new());
        let shared: Arc<dyn AuditSink> = sink.clone();
        for event in [AuditEvent::Create, AuditEvent::Verify] {
            shared
                .record(&AuditEntry::new(
                    "s",
                    SessionId::new_v4(),
                    RunMode::Autonomous,
                    event,
                    Outcome::Allowed,
                ))
                .expect("memory never fails");
        }
        assert_eq!(sink.len(), 2);
        let events: Vec<_> = sink.take().into_iter().map(|e| e.event).collect();
        assert_eq!(events, [AuditEvent::Create, AuditEvent::Verify]);
        assert!(sink.is_empty());
    }

    #[test]
    fn sinks_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MemorySink>();
        assert_send_sync::<JsonLinesSink<Vec<u8>>>();
        assert_send_sync::<JsonLinesFile>();
        assert_send_sync::<TracingSink>();
        assert_send_sync::<Arc<dyn AuditSink>>();
    }
}
