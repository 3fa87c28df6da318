//! `CancelToken`: how the caller of [`Cli::call`](crate::Cli::call) stops a call it no
//! longer wants (an MCP client's `notifications/cancelled`, a client gone).
//!
//! A call cancelled before its handler started never starts. One cancelled while its
//! handler runs is stopped as an overrun one is: its worker process is killed, with every
//! process the handler started, and the call ends as cancelled, in the audit trail too.
//! (A program that runs handlers on threads of its own, not in worker processes, can only
//! stop waiting: the thread is abandoned.)

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// A flag shared between the caller of [`Cli::call`](crate::Cli::call) and the call: once
/// [`cancel`](Self::cancel)led, the call stops as soon as it can and ends as
/// [`CallOutcome::Cancelled`](crate::CallOutcome::Cancelled). Clones share the flag.
///
/// ```
/// use cnv_cli::CancelToken;
///
/// let token = CancelToken::new();
/// let theirs = token.clone();
/// assert!(!theirs.is_cancelled());
/// token.cancel();
/// assert!(theirs.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    cancelled: bool,
    /// What wakes the thread waiting for the call's handler, while one waits.
    waker: Option<Box<dyn FnOnce() + Send>>,
}

impl CancelToken {
    /// A token not cancelled yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the call (and every call given a clone of this token). Cancelling twice
    /// is cancelling once.
    pub fn cancel(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        // Woken under the lock, so that once `clear` returns the waker has either run to
        // its end or never will (the command line gives a worker back to its pool only
        // then). A waker is short: it shuts a socket or sends on a channel.
        if let Some(wake) = state.waker.take() {
            wake();
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// Runs `wake` when the token is cancelled, instead of any earlier waker; `false`
    /// (and `wake` dropped) when it already is.
    pub(crate) fn on_cancel(&self, wake: impl FnOnce() + Send + 'static) -> bool {
        let mut state = self.lock();
        if state.cancelled {
            return false;
        }
        state.waker = Some(Box::new(wake));
        true
    }

    /// Forgets the waker: the wait it would end is over.
    pub(crate) fn clear(&self) {
        self.lock().waker = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a flag and an optional closure: valid whatever a panic left.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_waker_runs_once_and_only_while_registered() {
        let woken = Arc::new(AtomicUsize::new(0));
        let token = CancelToken::new();
        let count = Arc::clone(&woken);
        assert!(token.on_cancel(move || {
            count.fetch_add(1, Ordering::SeqCst);
        }));
        token.clear();
        token.cancel();
        assert_eq!(
            woken.load(Ordering::SeqCst),
            0,
            "a cleared waker is not run"
        );

        let token = CancelToken::new();
        let count = Arc::clone(&woken);
        assert!(token.on_cancel(move || {
            count.fetch_add(1, Ordering::SeqCst);
        }));
        token.cancel();
        token.cancel();
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        assert!(!token.on_cancel(|| unreachable!("already cancelled")));
    }
}
