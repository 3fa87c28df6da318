//! Where audit entries go: the [`AuditSink`] trait, the sink that keeps entries in memory
//! and the one that records to several sinks in order.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::entry::AuditEntry;
use crate::error::AuditError;

/// Where audit entries go. Sinks are shared between sessions and threads
/// (`Send + Sync`), and a sink that cannot record says so: the error reaches the session,
/// which refuses to escalate until it is dealt with (see
/// `TypedSession::audit_error` in `cnv-typestate`).
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
/// use cnv_audit::AuditEvent;
/// use cnv_typestate::{TypedSession, Unverified};
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
/// use cnv_audit::{AuditSink, FanOutSink, MemorySink};
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
    use std::sync::Arc;

    use cnv_caps::{RunMode, SessionId};

    use super::*;
    use crate::{AuditEntry, AuditEvent, AuditLog, JsonLinesSink, TracingSink, Verdict};

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
                    Verdict::Allowed,
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
        assert_send_sync::<AuditLog>();
        assert_send_sync::<TracingSink>();
        assert_send_sync::<Arc<dyn AuditSink>>();
    }
}
