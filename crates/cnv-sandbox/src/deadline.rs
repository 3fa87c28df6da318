//! Resource-band deadlines: a watchdog thread that calls back when a handler runs past
//! its band's time.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use cnv_caps::ResourceBand;

use crate::SandboxError;

/// How long a call may run: a band's runtime, or any duration; `None` is unbounded.
///
/// ```
/// use cnv_caps::ResourceBand;
/// use cnv_sandbox::Budget;
/// use std::time::Duration;
///
/// assert_eq!(Budget::from(ResourceBand::Instant).limit(), Some(Duration::from_millis(100)));
/// assert_eq!(Budget::from(ResourceBand::Cold).limit(), None);
/// assert_eq!(Budget::from(Duration::from_secs(3)).limit(), Some(Duration::from_secs(3)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Budget(Option<Duration>);

impl Budget {
    /// No limit (the `Cold` band).
    pub const UNBOUNDED: Self = Self(None);

    /// The time allowed, or `None` when unbounded.
    #[must_use]
    pub const fn limit(self) -> Option<Duration> {
        self.0
    }
}

impl From<ResourceBand> for Budget {
    fn from(band: ResourceBand) -> Self {
        Self(band.max_runtime())
    }
}

impl From<Duration> for Budget {
    fn from(limit: Duration) -> Self {
        Self(Some(limit))
    }
}

/// What the watchdog tells the overrun callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Overrun {
    /// The time the call was allowed.
    pub budget: Duration,
    /// How long it had run when the watchdog fired (at least `budget`).
    pub elapsed: Duration,
}

impl fmt::Display for Overrun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ran {} ms, past its budget of {} ms",
            self.elapsed.as_millis(),
            self.budget.as_millis()
        )
    }
}

/// How a call guarded by a [`Deadline`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Outcome {
    /// It finished within its budget (always, for an unbounded one).
    InTime {
        /// How long it ran.
        elapsed: Duration,
    },
    /// The watchdog fired first; the overrun callback has run or is running.
    Overran {
        /// How long it ran until `finish` was called.
        elapsed: Duration,
        /// The time it was allowed.
        budget: Duration,
    },
}

impl Outcome {
    /// Whether the call finished within its budget.
    #[must_use]
    pub const fn in_time(self) -> bool {
        match self {
            Self::InTime { .. } => true,
            Self::Overran { .. } => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The watchdog thread is starting.
    Starting,
    /// The watchdog is waiting for the call to finish.
    Armed,
    Finished,
    Overran,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A watchdog over one call: armed before the handler runs, finished after it.
///
/// [`arm`](Self::arm) starts a thread that waits for the budget to pass; if the call has
/// not finished by then, it calls `on_overrun` **on the watchdog thread**. A thread
/// cannot be stopped from outside in Rust, so stopping the call is the callback's job:
/// a command-line program audits the overrun, prints an error and exits the process
/// with its overrun exit code; a long-running server abandons (or kills) the worker
/// that runs the call. `Cold` (unbounded) starts no thread.
///
/// Arm it *before* restricting the handler's thread and before [`limit_memory`]: the
/// watchdog is then an unrestricted thread, so the callback can still write the audit
/// log by its open handle and print, whatever the handler's class forbids, and its
/// start-up is part of the memory baseline (`arm` returns once the watchdog runs).
///
/// [`limit_memory`]: crate::limit_memory
///
/// Finishing (or dropping) the deadline disarms it and joins the watchdog; after an
/// overrun it leaves the watchdog to its callback.
///
/// ```
/// use cnv_caps::ResourceBand;
/// use cnv_sandbox::Deadline;
///
/// let deadline = Deadline::arm(ResourceBand::Fast, |overrun| {
///     eprintln!("error: the handler {overrun}");
///     std::process::exit(124);
/// })?;
/// let answer = 6 * 7; // the handler
/// assert!(deadline.finish().in_time());
/// # let _ = answer;
/// # Ok::<(), cnv_sandbox::SandboxError>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a deadline disarms it at once"]
pub struct Deadline {
    started: Instant,
    budget: Budget,
    watchdog: Option<(Arc<Shared>, JoinHandle<()>)>,
}

impl Deadline {
    /// Starts the clock for a call allowed `budget` (a [`ResourceBand`] or a
    /// [`Duration`]). For an unbounded budget no thread is started and `on_overrun` is
    /// dropped unused.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Watchdog`] when the watchdog thread cannot be started.
    pub fn arm(
        budget: impl Into<Budget>,
        on_overrun: impl FnOnce(Overrun) + Send + 'static,
    ) -> Result<Self, SandboxError> {
        let budget = budget.into();
        let started = Instant::now();
        let Some(limit) = budget.limit() else {
            return Ok(Self {
                started,
                budget,
                watchdog: None,
            });
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::Starting),
            wake: Condvar::new(),
        });
        let watched = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("cnv-deadline".to_owned())
            .spawn(move || {
                let mut state = watched.lock();
                if *state == State::Starting {
                    *state = State::Armed;
                    watched.wake.notify_all();
                }
                let remaining = limit.saturating_sub(started.elapsed());
                let (mut state, _) = watched
                    .wake
                    .wait_timeout_while(state, remaining, |state| *state == State::Armed)
                    .unwrap_or_else(PoisonError::into_inner);
                if *state == State::Armed {
                    *state = State::Overran;
                    drop(state);
                    on_overrun(Overrun {
                        budget: limit,
                        elapsed: started.elapsed(),
                    });
                }
            })
            .map_err(|error| SandboxError::Watchdog { error })?;
        // Return once the watchdog runs, so its start-up (its signal stack, …) is over
        // before the caller limits memory or restricts the thread.
        drop(
            shared
                .wake
                .wait_while(shared.lock(), |state| *state == State::Starting)
                .unwrap_or_else(PoisonError::into_inner),
        );
        Ok(Self {
            started,
            budget,
            watchdog: Some((shared, thread)),
        })
    }

    /// The time the call is allowed.
    #[must_use]
    pub const fn budget(&self) -> Budget {
        self.budget
    }

    /// How long the call has run so far.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Disarms the watchdog and says whether the call finished in time.
    pub fn finish(mut self) -> Outcome {
        let elapsed = self.started.elapsed();
        match self.disarm() {
            Some(budget) => Outcome::Overran { elapsed, budget },
            None => Outcome::InTime { elapsed },
        }
    }

    /// Disarms the watchdog; returns the budget when it had already fired.
    fn disarm(&mut self) -> Option<Duration> {
        let (shared, thread) = self.watchdog.take()?;
        let mut state = shared.lock();
        match *state {
            State::Starting | State::Armed => {
                *state = State::Finished;
                drop(state);
                shared.wake.notify_one();
                // The watchdog wakes, sees `Finished` and returns at once.
                let _ = thread.join();
                None
            }
            // The callback has run or is running (it may be exiting the process): leave
            // the watchdog to it.
            State::Overran | State::Finished => self.budget.limit(),
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let _ = self.disarm();
    }
}
