//! The synchronization primitives this crate's own atomics use: `std`'s, or `loom`'s when
//! the crate is built with `RUSTFLAGS="--cfg loom"` for the model tests (tokio's pattern).
//!
//! Only the code whose atomics we wrote ourselves goes through this module (the registry's
//! shard tables and their writer locks, the session lifecycle and stream counters, the
//! queue's striped counters and their thread slots, the epoch collector in
//! `shard/epoch.rs`). Crossbeam's queue is used as it is.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, fence,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, fence,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: every critical section in this crate leaves its data
/// consistent even if a panic unwinds through it (they only push, pop or add).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
