//! The bounded queues the frame-queue benches compare, behind one trait.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, PoisonError};

use cnv::registry::FrameQueue;
use crossbeam_queue::ArrayQueue;

/// A bounded queue that refuses (and hands back) an item when full.
pub trait BoundedQueue<T>: Sync {
    /// Adds `item`, or hands it back when the queue is full.
    ///
    /// # Errors
    ///
    /// `Err(item)` when the queue is full.
    fn push(&self, item: T) -> Result<(), T>;
    /// Takes the oldest item, if any.
    fn pop(&self) -> Option<T>;
}

impl<T: Send> BoundedQueue<T> for FrameQueue<T> {
    #[inline]
    fn push(&self, item: T) -> Result<(), T> {
        self.enqueue(item)
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        self.dequeue()
    }
}

impl<T: Send> BoundedQueue<T> for ArrayQueue<T> {
    #[inline]
    fn push(&self, item: T) -> Result<(), T> {
        ArrayQueue::push(self, item)
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        ArrayQueue::pop(self)
    }
}

/// `std::sync::mpsc::sync_channel`, both ends in one value. The receiver sits behind a
/// mutex only to make the value `Sync`; the benches use it from one consumer thread, so
/// the lock is never contended (and costs its uncontended price on each `pop`).
#[derive(Debug)]
pub struct SyncChannel<T> {
    sender: SyncSender<T>,
    receiver: Mutex<Receiver<T>>,
}

impl<T> SyncChannel<T> {
    /// A channel with room for `capacity` items.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let (sender, receiver) = sync_channel(capacity);
        Self {
            sender,
            receiver: Mutex::new(receiver),
        }
    }

    /// The sending end.
    #[must_use]
    pub fn sender(&self) -> &SyncSender<T> {
        &self.sender
    }

    /// The receiving end, for a consumer that keeps it (no mutex per item).
    pub fn receiver(&self) -> std::sync::MutexGuard<'_, Receiver<T>> {
        self.receiver.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send> BoundedQueue<T> for SyncChannel<T> {
    #[inline]
    fn push(&self, item: T) -> Result<(), T> {
        self.sender.try_send(item).map_err(|err| match err {
            TrySendError::Full(item) | TrySendError::Disconnected(item) => item,
        })
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        self.receiver().try_recv().ok()
    }
}

/// A `Mutex<VecDeque>` that refuses items past its capacity.
#[derive(Debug)]
pub struct MutexDeque<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
}

impl<T> MutexDeque<T> {
    /// A queue with room for `capacity` items (allocated now).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            items: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }
}

impl<T: Send> BoundedQueue<T> for MutexDeque<T> {
    #[inline]
    fn push(&self, item: T) -> Result<(), T> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        if items.len() < self.capacity {
            items.push_back(item);
            Ok(())
        } else {
            Err(item)
        }
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(queue: &dyn BoundedQueue<u32>) {
        assert_eq!(queue.push(1), Ok(()));
        assert_eq!(queue.push(2), Ok(()));
        assert_eq!(queue.push(3), Err(3));
        assert_eq!(queue.pop(), Some(1));
        assert_eq!(queue.pop(), Some(2));
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn every_peer_is_a_bounded_fifo() {
        exercise(&FrameQueue::new(2));
        exercise(&ArrayQueue::new(2));
        exercise(&SyncChannel::new(2));
        exercise(&MutexDeque::new(2));
    }
}
