//! The state of one process: quota counters in a map under one lock (a call's check and
//! count are one step under it), sessions in the registry (rmcp's local session manager
//! keeps them; nothing to restore elsewhere).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use rmcp::transport::streamable_http_server::session::SessionStore;
use rmcp::transport::streamable_http_server::session::store::EventStore;

use super::{Charged, Counter, Principal, StateBackend, StateError};

/// How many counters are kept before the ended windows are swept away.
const SWEEP_AT: usize = 4096;

/// One window of one counter.
#[derive(Clone, Copy, Debug)]
struct Window {
    count: u32,
    ends: Instant,
}

/// The in-process backend.
#[derive(Debug, Default)]
pub(crate) struct MemoryState {
    /// (principal, quota) → its window.
    counters: Mutex<HashMap<(Principal, String), Window>>,
}

impl MemoryState {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// [`StateBackend::charge`], at `now`.
    fn charge_at(&self, principal: &Principal, counters: &[Counter<'_>], now: Instant) -> Charged {
        let mut map = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= SWEEP_AT {
            map.retain(|_, window| window.ends > now);
        }
        for (index, counter) in counters.iter().enumerate() {
            if let Some(window) = map.get(&(principal.clone(), counter.name.to_owned()))
                && window.ends > now
                && window.count >= counter.calls
            {
                return Charged::Over {
                    index,
                    frees_in: window.ends - now,
                };
            }
        }
        for counter in counters {
            let window = map
                .entry((principal.clone(), counter.name.to_owned()))
                .or_insert(Window {
                    count: 0,
                    ends: now + counter.window,
                });
            if window.ends <= now {
                *window = Window {
                    count: 0,
                    ends: now + counter.window,
                };
            }
            window.count += 1;
        }
        Charged::Admitted
    }
}

impl StateBackend for MemoryState {
    fn charge<'a>(
        &'a self,
        principal: &'a Principal,
        counters: &'a [Counter<'a>],
    ) -> BoxFuture<'a, Result<Charged, StateError>> {
        let charged = self.charge_at(principal, counters, Instant::now());
        futures::future::ready(Ok(charged)).boxed()
    }

    /// In one process a session's handler holds its principal, and no other replica
    /// restores it: nothing to record.
    fn bind_session<'a>(
        &'a self,
        _session: &'a str,
        _principal: &'a Principal,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        futures::future::ready(Ok(())).boxed()
    }

    fn session_principal<'a>(
        &'a self,
        _session: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, StateError>> {
        futures::future::ready(Ok(None)).boxed()
    }

    fn session_store(&self) -> Option<Arc<dyn SessionStore>> {
        None
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        None
    }
}

/// A window of `seconds`.
#[cfg(test)]
const fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_n_calls_fit_a_window_and_the_next_is_told_when_it_frees() {
        let state = MemoryState::default();
        let anonymous = Principal::anonymous();
        let counters = [Counter {
            name: "calc.sum=3/min",
            calls: 3,
            window: secs(60),
        }];
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                state.charge_at(&anonymous, &counters, start),
                Charged::Admitted
            );
        }
        let later = start + secs(20);
        assert_eq!(
            state.charge_at(&anonymous, &counters, later),
            Charged::Over {
                index: 0,
                frees_in: secs(40)
            }
        );
        // Another principal has a window of its own.
        assert_eq!(
            state.charge_at(&Principal::new("alice"), &counters, later),
            Charged::Admitted
        );
        // The window ends; a new one opens with the next call.
        assert_eq!(
            state.charge_at(&anonymous, &counters, start + secs(60)),
            Charged::Admitted
        );
    }

    #[test]
    fn a_call_over_one_of_its_quotas_counts_against_none() {
        let state = MemoryState::default();
        let anonymous = Principal::anonymous();
        let verb = Counter {
            name: "calc.sum=1/h",
            calls: 1,
            window: secs(3600),
        };
        let class = Counter {
            name: "Pure=5/h",
            calls: 5,
            window: secs(3600),
        };
        let now = Instant::now();
        assert_eq!(
            state.charge_at(&anonymous, &[verb, class], now),
            Charged::Admitted
        );
        assert!(matches!(
            state.charge_at(&anonymous, &[verb, class], now),
            Charged::Over { index: 0, .. }
        ));
        // The refused call did not count against the class: four more fit.
        for _ in 0..4 {
            assert_eq!(
                state.charge_at(&anonymous, &[class], now),
                Charged::Admitted
            );
        }
        assert!(matches!(
            state.charge_at(&anonymous, &[class], now),
            Charged::Over { index: 0, .. }
        ));
    }
}
