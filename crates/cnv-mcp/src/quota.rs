//! Quotas per principal: how many calls one caller may make in a window, per verb
//! (`calc.sum=5/min`) or per capability class (`ReadWriteFS=100/h`), as the operator sets
//! them ([`MCP_QUOTA_ENV`](crate::MCP_QUOTA_ENV), [`McpBuilder::mcp_quota`](crate::McpBuilder::mcp_quota)).
//!
//! A quota's window opens with the principal's first call that counts against it and
//! lasts its length (`5/min`: five calls in the minute from the first); the call after
//! the fifth is refused until the window ends, and the next call opens a new one. A call
//! counts against every quota that names its verb or its verb's class, and is admitted
//! only when every one of them has room (then it counts against all of them at once, in
//! one atomic step of the state backend, shared by every replica on Redis).
//!
//! A class quota counts the calls of verbs of exactly that class: `ReadWriteFS=100/h`
//! does not count `ReadOnlyFS` calls. Classes below are not included, because a quota is
//! a budget of one kind of work, not a ceiling of risk (the gate and the scopes are
//! that); an operator who wants one budget over several classes names each.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cnv_caps::{CapabilityClass, Rule};
use cnv_cli::Refusal;

use crate::state::{Charged, Counter, Principal, StateBackend};
use crate::{MCP_QUOTA_ENV, MCP_STATE_ENV};

/// What a quota counts: the calls of one verb, or of every verb of one class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotaTarget {
    /// The verbs of this capability class (exactly this class).
    Class(CapabilityClass),
    /// One verb, by its command's words joined with dots (`calc.sum`, `cloud.bucket.list`).
    Verb(String),
}

/// How long a quota's window lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotaWindow {
    /// One second (`s`).
    Second,
    /// One minute (`min`).
    Minute,
    /// One hour (`h`).
    Hour,
}

impl QuotaWindow {
    /// The window's length.
    #[must_use]
    pub const fn duration(self) -> Duration {
        match self {
            Self::Second => Duration::from_secs(1),
            Self::Minute => Duration::from_secs(60),
            Self::Hour => Duration::from_secs(3600),
        }
    }

    /// Its unit as written in a quota (`s`, `min`, `h`).
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            Self::Second => "s",
            Self::Minute => "min",
            Self::Hour => "h",
        }
    }

    /// Its name in prose (`second`, `minute`, `hour`).
    const fn noun(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
        }
    }
}

/// One quota: at most `calls` calls of its target per principal per window.
///
/// ```
/// use cnv_mcp::{Quota, QuotaTarget, QuotaWindow};
///
/// let quota: Quota = "calc.sum=5/min".parse()?;
/// assert_eq!(quota.target(), &QuotaTarget::Verb("calc.sum".into()));
/// assert_eq!((quota.calls(), quota.window()), (5, QuotaWindow::Minute));
/// assert_eq!(quota.to_string(), "calc.sum=5/min");
/// let all = Quota::parse_list("calc.sum=5/min, ReadWriteFS=100/h")?;
/// assert_eq!(all.len(), 2);
/// # Ok::<(), cnv_mcp::QuotaError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quota {
    target: QuotaTarget,
    calls: u32,
    window: QuotaWindow,
}

impl Quota {
    /// At most `calls` calls of `target` per principal per `window` (at least 1: a verb
    /// no one may call is the program's to leave out, not a quota).
    ///
    /// # Errors
    ///
    /// [`QuotaError::Zero`] when `calls` is 0; [`QuotaError::Verb`] when a verb's name
    /// is not words joined with dots.
    pub fn new(target: QuotaTarget, calls: u32, window: QuotaWindow) -> Result<Self, QuotaError> {
        if let QuotaTarget::Verb(name) = &target {
            check_verb_name(name)?;
        }
        let quota = Self {
            target,
            calls,
            window,
        };
        if calls == 0 {
            return Err(QuotaError::Zero {
                quota: quota.to_string(),
            });
        }
        Ok(quota)
    }

    /// What it counts.
    #[must_use]
    pub fn target(&self) -> &QuotaTarget {
        &self.target
    }

    /// How many calls a window holds.
    #[must_use]
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// How long a window lasts.
    #[must_use]
    pub fn window(&self) -> QuotaWindow {
        self.window
    }

    /// Whether a call of `command` (`"calc sum"`), a verb of `class`, counts against it.
    #[must_use]
    pub fn counts(&self, command: &str, class: CapabilityClass) -> bool {
        match &self.target {
            QuotaTarget::Class(quota_class) => *quota_class == class,
            QuotaTarget::Verb(verb) => verb.split('.').eq(command.split(' ')),
        }
    }

    /// The quotas of a comma-separated list (`calc.sum=5/min,ReadWriteFS=100/h`; blanks
    /// around the items are ignored, an empty list has none).
    ///
    /// # Errors
    ///
    /// The first item that is not a quota, as [`Quota::from_str`] says.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, QuotaError> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect()
    }

    /// The sentence a refused call is told: what the quota allows.
    pub(crate) fn allows(&self) -> String {
        let what = match &self.target {
            QuotaTarget::Class(class) => format!("calls of {class} verbs"),
            QuotaTarget::Verb(verb) => format!("calls of `{}`", verb.replace('.', " ")),
        };
        format!(
            "{} {what} per {} for each principal",
            self.calls,
            self.window.noun()
        )
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            QuotaTarget::Class(class) => write!(f, "{class}")?,
            QuotaTarget::Verb(verb) => f.write_str(verb)?,
        }
        write!(f, "={}/{}", self.calls, self.window.unit())
    }
}

impl FromStr for Quota {
    type Err = QuotaError;

    /// `<Class or noun.verb>=<N>/<s|min|h>`: a capability class as cnv names it
    /// (`ReadWriteFS`), or a verb's command with dots (`calc.sum`); a whole number of
    /// calls of at least 1; a window of a second, a minute or an hour.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let malformed = |why: &'static str| QuotaError::Malformed {
            quota: text.to_owned(),
            why,
        };
        let (target, rate) = text
            .split_once('=')
            .ok_or_else(|| malformed("it has no `=`"))?;
        let (calls, unit) = rate
            .split_once('/')
            .ok_or_else(|| malformed("its rate has no `/` before the window"))?;
        let target = target.trim();
        if target.is_empty() {
            return Err(malformed("it names no class or verb before `=`"));
        }
        let target = if target.contains('.') {
            QuotaTarget::Verb(target.to_owned())
        } else {
            QuotaTarget::Class(target.parse().map_err(|_| QuotaError::UnknownClass {
                quota: text.to_owned(),
                class: target.to_owned(),
            })?)
        };
        let calls = calls
            .trim()
            .parse::<u32>()
            .map_err(|_| malformed("its count is not a whole number of calls"))?;
        let window = match unit.trim() {
            "s" => QuotaWindow::Second,
            "min" => QuotaWindow::Minute,
            "h" => QuotaWindow::Hour,
            _ => return Err(malformed("its window is not `s`, `min` or `h`")),
        };
        Self::new(target, calls, window)
    }
}

/// A server's quotas and the state they are counted in: the check every `tools/call` of
/// a verb makes before the gate.
pub(crate) struct Quotas {
    quotas: Vec<Quota>,
    /// Each quota as written: its counter's name.
    names: Vec<String>,
    state: Arc<dyn StateBackend>,
}

/// Why a call was not admitted: the refusal the audit trail records and the caller is
/// told, and when to call again (when known).
pub(crate) struct OverQuota {
    pub(crate) refusal: Refusal,
    pub(crate) retry_after: Option<Duration>,
}

impl Quotas {
    /// `quotas`, counted in `state`.
    pub(crate) fn new(quotas: Vec<Quota>, state: Arc<dyn StateBackend>) -> Self {
        let names = quotas.iter().map(ToString::to_string).collect();
        Self {
            quotas,
            names,
            state,
        }
    }

    /// The state the server's replicas share.
    pub(crate) fn state(&self) -> &Arc<dyn StateBackend> {
        &self.state
    }

    /// Counts one call of `command` (a verb of `class`) by `principal` against every
    /// quota that counts it, or refuses it: over a quota (which it names, with when it
    /// frees), or when the shared state cannot say (quotas fail closed).
    pub(crate) async fn admit(
        &self,
        principal: &Principal,
        command: &str,
        class: CapabilityClass,
    ) -> Result<(), OverQuota> {
        let (quotas, counters): (Vec<&Quota>, Vec<Counter<'_>>) = self
            .quotas
            .iter()
            .zip(&self.names)
            .filter(|(quota, _)| quota.counts(command, class))
            .map(|(quota, name)| {
                let counter = Counter {
                    name,
                    calls: quota.calls,
                    window: quota.window.duration(),
                };
                (quota, counter)
            })
            .unzip();
        if counters.is_empty() {
            return Ok(());
        }
        match self.state.charge(principal, &counters).await {
            Ok(Charged::Admitted) => Ok(()),
            Ok(Charged::Over { index, frees_in }) => {
                let quota = quotas.get(index).copied().unwrap_or(quotas[0]);
                // Whole seconds, rounded up: a caller told "0 s" would call too early.
                let seconds = frees_in.as_millis().div_ceil(1000).max(1);
                cnv_cli::telemetry::quota_refused(&quota.to_string());
                Err(OverQuota {
                    refusal: Refusal::new(
                        Rule::Quota,
                        format!(
                            "over the quota `{quota}`: it allows {}, and the principal `{principal}` has made them; it frees in {seconds} s",
                            quota.allows()
                        ),
                        format!(
                            "call again in {seconds} s, or ask the operator to raise the quota ({MCP_QUOTA_ENV})"
                        ),
                    ),
                    retry_after: Some(Duration::from_secs(
                        u64::try_from(seconds).unwrap_or(u64::MAX),
                    )),
                })
            }
            Err(err) => {
                let names: Vec<String> = quotas.iter().map(|q| format!("`{q}`")).collect();
                Err(OverQuota {
                    refusal: Refusal::new(
                        Rule::Quota,
                        format!(
                            "the quota {} cannot be checked, and a call no quota can count does not run: {err}",
                            names.join(", ")
                        ),
                        format!(
                            "call again in a few seconds; the operator should bring the shared state back ({MCP_STATE_ENV})"
                        ),
                    ),
                    retry_after: None,
                })
            }
        }
    }
}

/// Refuses a quota of a verb `cli` does not have (`fixed`: the builder set the quotas).
pub(crate) fn check_verbs(
    cli: &cnv_cli::Cli<crate::Mcp>,
    quotas: &[Quota],
    fixed: bool,
) -> Result<(), crate::McpError> {
    for quota in quotas {
        match &quota.target {
            QuotaTarget::Verb(verb) => {
                let words: Vec<&str> = verb.split('.').collect();
                if cli.model().find(&words).is_none() {
                    return Err(crate::McpError::InvalidQuota {
                        name: if fixed {
                            "the builder's mcp_quota"
                        } else {
                            MCP_QUOTA_ENV
                        },
                        source: QuotaError::NoSuchVerb {
                            quota: quota.to_string(),
                            verb: verb.clone(),
                        },
                    });
                }
            }
            QuotaTarget::Class(_) => {}
        }
    }
    Ok(())
}

/// A verb's name in a quota: words of letters, digits, `-` and `_`, joined with dots.
fn check_verb_name(name: &str) -> Result<(), QuotaError> {
    let valid = name.split('.').count() >= 2
        && name.split('.').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(())
    } else {
        Err(QuotaError::Verb {
            verb: name.to_owned(),
        })
    }
}

/// A quota the server cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// Not of the form `<Class or noun.verb>=<N>/<s|min|h>`.
    #[error(
        "the quota {quota:?} cannot be read: {why}; write it as <Class or noun.verb>=<N>/<s|min|h>, e.g. calc.sum=5/min or ReadWriteFS=100/h"
    )]
    Malformed {
        /// The quota as written.
        quota: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Names a class cnv does not have.
    #[error(
        "the quota {quota:?} names {class:?}, which is not a capability class; use one of Pure, ReadOnlyFS, Environment, Network, ReadWriteFS, Subprocess, Dangerous, or a verb as noun.verb"
    )]
    UnknownClass {
        /// The quota as written.
        quota: String,
        /// The name that is not a class.
        class: String,
    },
    /// Names a verb badly (not words joined with dots).
    #[error(
        "{verb:?} is not a verb's name in a quota; write its command's words joined with dots (calc.sum)"
    )]
    Verb {
        /// The name as written.
        verb: String,
    },
    /// Names a verb the program does not have.
    #[error(
        "the quota {quota:?} names the verb {verb:?}, which this program does not have; use a command of its grammar with dots (`file write` is file.write)"
    )]
    NoSuchVerb {
        /// The quota as written.
        quota: String,
        /// The verb it names.
        verb: String,
    },
    /// Allows no call at all.
    #[error(
        "the quota {quota:?} allows no call; give it at least 1, or leave the verb out of the program"
    )]
    Zero {
        /// The quota as written.
        quota: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_read_as_written_and_say_themselves_back() {
        let quotas =
            Quota::parse_list(" calc.sum=5/min , ReadWriteFS=100/h,net.send=1/s,").expect("valid");
        let written: Vec<String> = quotas.iter().map(ToString::to_string).collect();
        assert_eq!(
            written,
            ["calc.sum=5/min", "ReadWriteFS=100/h", "net.send=1/s"]
        );
        assert_eq!(
            quotas[1].target(),
            &QuotaTarget::Class(CapabilityClass::ReadWriteFS)
        );
        assert_eq!(quotas[1].window().duration(), Duration::from_secs(3600));
        assert!(Quota::parse_list("").expect("empty").is_empty());
    }

    #[test]
    fn a_quota_counts_its_verb_or_exactly_its_class() {
        let verb: Quota = "calc.sum=5/min".parse().expect("valid");
        assert!(verb.counts("calc sum", CapabilityClass::Pure));
        assert!(!verb.counts("calc summary", CapabilityClass::Pure));
        assert!(!verb.counts("calc", CapabilityClass::Pure));
        assert!(!verb.counts("calc sum more", CapabilityClass::Pure));
        let class: Quota = "ReadWriteFS=1/h".parse().expect("valid");
        assert!(class.counts("file write", CapabilityClass::ReadWriteFS));
        assert!(!class.counts("file read", CapabilityClass::ReadOnlyFS));
        assert!(!class.counts("file wipe", CapabilityClass::Dangerous));
    }

    #[test]
    fn a_quota_that_cannot_be_read_says_what_is_wrong_and_how_to_write_it() {
        for (text, said) in [
            ("calc.sum", "has no `=`"),
            ("calc.sum=5", "no `/`"),
            ("calc.sum=five/min", "not a whole number"),
            ("calc.sum=-1/min", "not a whole number"),
            ("calc.sum=5/day", "not `s`, `min` or `h`"),
            ("=5/min", "names no class or verb"),
            ("ReadWrite=5/min", "not a capability class"),
            ("calc..sum=5/min", "joined with dots"),
            ("calc.sum=0/min", "allows no call"),
        ] {
            let err = Quota::parse_list(text).expect_err(text).to_string();
            assert!(err.contains(said), "{text}: {err}");
        }
    }
}
