//! The audit trail: one [`AuditEntry`] per creation, verification, escalation,
//! narrowing and denial, delivered to an [`AuditSink`].

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cnv_caps::CapabilityClass;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::policy::{EscalationError, Rule};
use crate::state::RunMode;

mod jsonl;
#[cfg(any(feature = "tracing", test))]
mod tracing_sink;

pub use jsonl::{ChainError, ChainHash, ChainSummary, JsonLinesFile, JsonLinesSink, verify_chain};
#[cfg(any(feature = "tracing", test))]
pub use tracing_sink::TracingSink;

/// A session's unique id: a random (version 4) UUID, printed hyphenated.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(uuid::Uuid);

impl SessionId {
    /// A new random id.
    #[must_use]
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The id as a 128-bit number.
    #[must_use]
    pub fn as_u128(self) -> u128 {
        self.0.as_u128()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// A session id that is not a UUID.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a session id; expected a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8"
)]
#[non_exhaustive]
pub struct ParseSessionIdError {
    /// The text that was refused.
    pub input: String,
}

impl FromStr for SessionId {
    type Err = ParseSessionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| ParseSessionIdError { input: s.into() })
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

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

/// Why an entry could not be recorded.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Writing or flushing failed.
    #[error(
        "cannot write the audit entry to {target}: {source}; check that it is writable and the disk is not full"
    )]
    Io {
        /// What was written to (a path, or "the JSON Lines writer").
        target: String,
        /// The I/O error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The entry could not be encoded as JSON.
    #[error("cannot encode the audit entry as JSON: {0}")]
    Encode(#[source] Arc<serde_json::Error>),
    /// An existing log cannot be continued because its last line is damaged.
    #[error(
        "cannot continue the audit log {path}: {source}; inspect it with `verify_chain`, then move it aside to start a new chain"
    )]
    Chain {
        /// The log's path.
        path: String,
        /// What is wrong with it.
        #[source]
        source: ChainError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_json() {
        let mut entry = AuditEntry::denial(
            "app",
            SessionId::new_random(),
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
            SessionId::new_random(),
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
    fn session_ids_are_unique_and_parse_back() {
        let a = SessionId::new_random();
        let b = SessionId::new_random();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<SessionId>(), Ok(a));
        let err = "not-a-uuid".parse::<SessionId>().unwrap_err();
        assert!(err.to_string().contains("not a session id"), "{err}");
    }

    #[test]
    fn memory_sink_keeps_order_and_can_be_shared() {
        let sink = Arc::new(MemorySink::new());
        let shared: Arc<dyn AuditSink> = sink.clone();
        for event in [AuditEvent::Create, AuditEvent::Verify] {
            shared
                .record(&AuditEntry::new(
                    "s",
                    SessionId::new_random(),
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
