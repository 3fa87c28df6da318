//! The synchronization primitives this crate's own atomics use: `std`'s, or `loom`'s when
//! the crate is built with `RUSTFLAGS="--cfg loom"` for the model tests (tokio's pattern).
//!
//! Only the code whose atomics we wrote ourselves goes through this module (the session
//! lifecycle and stream counters, the queue's striped counters and their thread slots).
//! The registry's shard locks and crossbeam's queue are used as they are.

#[cfg(loom)]
pub(crate) use loom::sync::Mutex;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU64};

#[cfg(not(loom))]
pub(crate) use std::sync::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicU64};

/// Locks `mutex`, ignoring poisoning: every critical section in this crate leaves its data
/// consistent even if a panic unwinds through it (they only push, pop or add).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> impl core::ops::DerefMut<Target = T> + '_ {
    #[cfg(not(loom))]
    {
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    #[cfg(loom)]
    {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
