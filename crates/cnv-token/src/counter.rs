//! Call budgets: how many calls were made with each block of a token. Biscuit cannot count
//! (a token is the same bytes at every call), so the verifier keeps a counter per block
//! and tells the token's checks how many calls came before.
//!
//! [`MemoryCounter`] counts in one process: with several replicas each enforces the budget
//! on its own. A store shared by the replicas implements [`CallCounter`] for a budget
//! that holds across all of them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::TokenError;

/// Counts the calls made with each block of a token (by its key,
/// [`Capability::budget_keys`](crate::Capability::budget_keys)).
pub trait CallCounter: Send + Sync {
    /// Counts one more call against every key, and returns how many there were before it
    /// (in the same order), atomically per key.
    ///
    /// # Errors
    ///
    /// [`TokenError::Budget`] when the counts cannot be read or moved: the call is
    /// refused.
    fn reserve(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>, TokenError>;

    /// Takes back a call [`reserve`](Self::reserve) counted, for a call that was refused.
    fn release(&self, keys: &[Vec<u8>]);

    /// How many calls were counted against each key, without counting one.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    fn peek(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>, TokenError>;
}

/// Counts in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryCounter {
    counts: Mutex<HashMap<Vec<u8>, u64>>,
}

impl MemoryCounter {
    /// No call counted yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl CallCounter for MemoryCounter {
    fn reserve(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>, TokenError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(keys
            .iter()
            .map(|key| {
                let count = counts.entry(key.clone()).or_insert(0);
                let before = *count;
                *count = count.saturating_add(1);
                before
            })
            .collect())
    }

    fn release(&self, keys: &[Vec<u8>]) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            if let Some(count) = counts.get_mut(key) {
                *count = count.saturating_sub(1);
            }
        }
    }

    fn peek(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>, TokenError> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(keys
            .iter()
            .map(|key| counts.get(key).copied().unwrap_or(0))
            .collect())
    }
}
