//! Frames: the unit of data a session sends or receives on one of its streams.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{SessionId, StreamId};

/// One message of a session on one of its streams: which session, which stream, its
/// sequence number on that stream, when it was made, and its payload bytes.
///
/// [`SessionHandle::frame`](crate::SessionHandle::frame) numbers frames for you; build one
/// by hand with [`Frame::new`].
///
/// ```
/// use cnv_registry::{Frame, SessionId, StreamId};
///
/// let frame = Frame::new(SessionId::new_v4(), StreamId::new(1), 0, "ping");
/// assert_eq!(frame.payload(), b"ping");
/// assert_eq!(frame.into_payload(), b"ping".to_vec());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    session: SessionId,
    stream: StreamId,
    sequence: u64,
    /// Nanoseconds since the Unix epoch.
    timestamp_ns: u64,
    payload: Vec<u8>,
}

impl Frame {
    /// A frame stamped with the current wall-clock time.
    #[must_use]
    pub fn new(
        session: SessionId,
        stream: StreamId,
        sequence: u64,
        payload: impl Into<Vec<u8>>,
    ) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self::with_timestamp(session, stream, sequence, now, payload)
    }

    /// A frame with an explicit timestamp, as time since the Unix epoch (saturating at
    /// `u64::MAX` nanoseconds, in the year 2554).
    #[must_use]
    pub fn with_timestamp(
        session: SessionId,
        stream: StreamId,
        sequence: u64,
        since_epoch: Duration,
        payload: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            session,
            stream,
            sequence,
            timestamp_ns: u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX),
            payload: payload.into(),
        }
    }

    /// The session that sent or receives the frame.
    #[must_use]
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The stream it belongs to.
    #[must_use]
    pub fn stream(&self) -> StreamId {
        self.stream
    }

    /// Its sequence number on that stream.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When it was made (wall-clock time).
    #[must_use]
    pub fn timestamp(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.timestamp_ns)
    }

    /// When it was made, as time since the Unix epoch.
    #[must_use]
    pub fn since_epoch(&self) -> Duration {
        Duration::from_nanos(self.timestamp_ns)
    }

    /// The payload.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload, taken out of the frame.
    #[must_use]
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_saturate() {
        let id = SessionId::new_v4();
        let at = Duration::from_secs(1_700_000_000) + Duration::from_nanos(5);
        let frame = Frame::with_timestamp(id, StreamId::new(2), 9, at, vec![1, 2]);
        assert_eq!(frame.since_epoch(), at);
        assert_eq!(frame.timestamp(), UNIX_EPOCH + at);
        assert_eq!(
            (frame.session(), frame.stream(), frame.sequence()),
            (id, StreamId::new(2), 9)
        );
        let far = Frame::with_timestamp(id, StreamId::new(0), 0, Duration::MAX, Vec::new());
        assert_eq!(far.since_epoch(), Duration::from_nanos(u64::MAX));
        let now = Frame::new(id, StreamId::new(0), 0, "x");
        assert!(now.since_epoch() > at);
    }
}
