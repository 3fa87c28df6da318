//! The frame queue: bounded, multi-producer multi-consumer, lock-free, with exact counts.

use core::fmt;
use core::sync::atomic::Ordering;

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use crate::counter::StripedCounter;
use crate::sync::AtomicU64;
use crate::{CapacityError, Frame};

/// The largest capacity of a [`FrameQueue`] (`2^30` frames).
pub const MAX_CAPACITY: usize = 1 << 30;

/// A bounded queue of frames for any number of producers and consumers.
///
/// It is crossbeam's [`ArrayQueue`] (Dmitry Vyukov's bounded MPMC ring: a stamp per slot,
/// head and tail on their own cache lines, no locks) plus counts that cost almost
/// nothing:
///
/// * [`enqueue`](Self::enqueue) on a full queue **hands the frame back** in `Err` — the
///   queue never drops a frame — and counts an overflow;
/// * [`stats`](Self::stats) reports frames enqueued, dequeued and refused. Each thread
///   counts its enqueues on a cache line of its own (no locked instruction, no line shared
///   between cores), the dequeued count is derived (`enqueued - len`), and overflows are
///   counted only on the overflow path.
///
/// Every frame enqueued is dequeued exactly once or dropped exactly once with the queue.
///
/// ```
/// use cnv_registry::{FrameQueue, QueueStats};
///
/// let queue = FrameQueue::<u32>::new(2);
/// assert_eq!(queue.enqueue(1), Ok(()));
/// assert_eq!(queue.enqueue(2), Ok(()));
/// assert_eq!(queue.enqueue(3), Err(3)); // full: the caller keeps the frame
/// assert_eq!(queue.dequeue(), Some(1));
/// let stats = queue.stats();
/// assert_eq!((stats.enqueued, stats.dequeued, stats.overflows), (2, 1, 1));
/// ```
pub struct FrameQueue<T = Frame> {
    queue: ArrayQueue<T>,
    enqueued: StripedCounter,
    overflows: CachePadded<AtomicU64>,
}

impl<T> FrameQueue<T> {
    /// A queue with room for `capacity` frames. A capacity of `0` becomes `1` and one
    /// above [`MAX_CAPACITY`] becomes `MAX_CAPACITY`; it never panics.
    /// [`try_new`](Self::try_new) refuses such capacities instead.
    ///
    /// The slots are allocated now: `capacity × (size_of::<T>() + 8)` bytes.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        Self {
            queue: ArrayQueue::new(capacity),
            enqueued: StripedCounter::new(),
            overflows: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// A queue with room for exactly `capacity` frames.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] when `capacity` is zero or above [`MAX_CAPACITY`].
    ///
    /// ```
    /// use cnv_registry::{CapacityError, FrameQueue, Frame};
    ///
    /// assert_eq!(FrameQueue::<Frame>::try_new(0).unwrap_err(), CapacityError::Zero);
    /// assert_eq!(FrameQueue::<Frame>::try_new(64)?.capacity(), 64);
    /// # Ok::<(), CapacityError>(())
    /// ```
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        match capacity {
            0 => Err(CapacityError::Zero),
            n if n > MAX_CAPACITY => Err(CapacityError::TooLarge {
                requested: n,
                max: MAX_CAPACITY,
            }),
            n => Ok(Self::new(n)),
        }
    }

    /// Adds `frame` at the back.
    ///
    /// # Errors
    ///
    /// `Err(frame)` — the frame itself, untouched — when the queue is full. The overflow
    /// is counted in [`QueueStats::overflows`]; what to do with the frame (retry, wait,
    /// shed it knowingly) is the caller's decision.
    #[inline]
    pub fn enqueue(&self, frame: T) -> Result<(), T> {
        match self.queue.push(frame) {
            Ok(()) => {
                self.enqueued.increment();
                Ok(())
            }
            Err(frame) => {
                self.overflows.fetch_add(1, Ordering::Relaxed);
                Err(frame)
            }
        }
    }

    /// Takes the frame at the front, if any.
    #[inline]
    #[must_use = "a dequeued frame is removed from the queue; dropping it loses it"]
    pub fn dequeue(&self) -> Option<T> {
        self.queue.pop()
    }

    /// The number of frames in the queue now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue is empty now.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Whether the queue is full now (the next `enqueue` would be refused unless a
    /// consumer is faster).
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.queue.is_full()
    }

    /// How many frames the queue holds at most.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// The queue's counts.
    ///
    /// Exact whenever no thread is enqueueing or dequeueing — in particular after the
    /// threads that used the queue have joined: then `enqueued == dequeued + len` and
    /// every refused `enqueue` is one overflow. While threads work, the snapshot can be
    /// off by the operations in flight.
    #[must_use]
    pub fn stats(&self) -> QueueStats {
        let enqueued = self.enqueued.sum();
        let len = self.queue.len() as u64;
        QueueStats {
            enqueued,
            dequeued: enqueued.saturating_sub(len),
            overflows: self.overflows.load(Ordering::Relaxed),
            len: self.queue.len(),
            capacity: self.queue.capacity(),
        }
    }
}

impl<T> fmt::Debug for FrameQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// A snapshot of a queue's counts ([`FrameQueue::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// Frames accepted by `enqueue`, ever.
    pub enqueued: u64,
    /// Frames taken by `dequeue`, ever.
    pub dequeued: u64,
    /// `enqueue` calls refused because the queue was full.
    pub overflows: u64,
    /// Frames in the queue.
    pub len: usize,
    /// The queue's capacity.
    pub capacity: usize,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{SessionId, StreamId};

    #[test]
    fn capacities_clamp_and_try_new_refuses() {
        assert_eq!(FrameQueue::<u8>::new(0).capacity(), 1);
        assert_eq!(
            FrameQueue::<u8>::try_new(0).unwrap_err(),
            CapacityError::Zero
        );
        assert_eq!(
            FrameQueue::<u8>::try_new(MAX_CAPACITY + 1).unwrap_err(),
            CapacityError::TooLarge {
                requested: MAX_CAPACITY + 1,
                max: MAX_CAPACITY
            }
        );
        assert!(
            CapacityError::Zero
                .to_string()
                .contains("at least one frame")
        );
    }

    #[test]
    fn a_full_queue_hands_the_frame_back() {
        let queue = FrameQueue::new(1);
        let id = SessionId::new_v4();
        let first = Frame::new(id, StreamId::new(0), 0, "a");
        let second = Frame::new(id, StreamId::new(0), 1, "b");
        queue.enqueue(first.clone()).unwrap();
        assert!(queue.is_full());
        let refused = queue.enqueue(second.clone()).unwrap_err();
        assert_eq!(refused, second);
        assert_eq!(queue.dequeue(), Some(first));
        assert!(queue.is_empty());
        assert_eq!(queue.dequeue(), None);
        let stats = queue.stats();
        assert_eq!(
            stats,
            QueueStats {
                enqueued: 1,
                dequeued: 1,
                overflows: 1,
                len: 0,
                capacity: 1
            }
        );
        assert!(format!("{queue:?}").contains("capacity: 1"));
    }

    #[test]
    fn fifo_order_on_one_thread() {
        let queue = FrameQueue::new(8);
        for i in 0..8 {
            queue.enqueue(i).unwrap();
        }
        assert_eq!(queue.len(), 8);
        let out: Vec<i32> = std::iter::from_fn(|| queue.dequeue()).collect();
        assert_eq!(out, (0..8).collect::<Vec<_>>());
    }
}
