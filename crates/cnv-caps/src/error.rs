//! The errors of the vocabulary.
//!
//! This crate has no dependencies (see `docs/architecture.md`), so its two error types
//! implement `Display` and `core::error::Error` by hand instead of through `thiserror`;
//! they follow the same rules as the rest of cnv: `#[non_exhaustive]`, and a message
//! that says what was wrong and what to write instead.

use alloc::string::String;
use core::fmt;

use crate::{CapabilityClass, SafetyProfile};

/// A name that is not part of the vocabulary, returned by the `FromStr` impls of
/// [`CapabilityClass`], [`ResourceBand`](crate::ResourceBand), [`SafetyProfile`] and
/// [`StabilityProfile`](crate::StabilityProfile).
///
/// ```
/// use cnv_caps::CapabilityClass;
///
/// let err = "Netwrk".parse::<CapabilityClass>().unwrap_err();
/// assert_eq!(err.suggestion(), Some("Network"));
/// assert_eq!(
///     err.to_string(),
///     "unknown capability class `Netwrk` (did you mean `Network`?); expected one of: \
///      Pure, ReadOnlyFS, Environment, Network, ReadWriteFS, Subprocess, Dangerous",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    kind: &'static str,
    input: String,
    expected: &'static [&'static str],
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, input: &str, expected: &'static [&'static str]) -> Self {
        Self {
            kind,
            input: input.into(),
            expected,
        }
    }

    /// What was being parsed, e.g. `"capability class"`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The text that was refused.
    #[must_use]
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Every name that would have been accepted.
    #[must_use]
    pub fn expected(&self) -> &'static [&'static str] {
        self.expected
    }

    /// The accepted name closest to the input, when one is close enough to be a typo.
    #[must_use]
    pub fn suggestion(&self) -> Option<&'static str> {
        suggest(&self.input, self.expected)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.input)?;
        if let Some(suggestion) = self.suggestion() {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        f.write_str("; expected one of: ")?;
        for (i, name) in self.expected.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl core::error::Error for ParseError {}

/// A [`CapabilityContract`](crate::CapabilityContract) that would contradict itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContractError {
    /// `AgentSafe` was requested for a class that is not agent-safe.
    NotAgentSafe {
        /// The class of the contract.
        class: CapabilityClass,
    },
    /// `Routine` confirmation was asked where a person must always be asked.
    ConfirmationRequired {
        /// The class of the contract.
        class: CapabilityClass,
        /// Its safety profile.
        safety: SafetyProfile,
    },
    /// A run-time contract was refined into a typed contract of another class.
    ClassMismatch {
        /// The class of the typed contract.
        expected: CapabilityClass,
        /// The class of the run-time contract.
        found: CapabilityClass,
    },
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAgentSafe { class } => write!(
                f,
                "a `{class}` contract cannot be `{agent_safe}`: only `Pure` and `ReadOnlyFS` are \
                 agent-safe; use `{review}` or `{interactive}`, or declare a lower class if the \
                 command really does less",
                agent_safe = SafetyProfile::AgentSafe,
                review = SafetyProfile::HumanReviewRequired,
                interactive = SafetyProfile::InteractiveOnly,
            ),
            Self::ConfirmationRequired { class, safety } => write!(
                f,
                "a `{class}` contract with safety `{safety}` cannot be `Routine`: a person is \
                 always asked before it runs (`Dangerous` needs a typed approval, \
                 `InteractiveOnly` a confirmation at a terminal); drop `confirmation: Routine`"
            ),
            Self::ClassMismatch { expected, found } => write!(
                f,
                "expected a `{expected}` contract but found a `{found}` one; declare the \
                 command with `{expected}` or use a `{found}` type"
            ),
        }
    }
}

impl core::error::Error for ContractError {}

/// Finds `input` among `names`: exactly, or else ignoring ASCII case, `-`, `_` and spaces.
pub(crate) fn lookup(input: &str, names: &[&str]) -> Option<usize> {
    names.iter().position(|name| *name == input).or_else(|| {
        names
            .iter()
            .position(|name| normalized(name).eq(normalized(input)))
    })
}

/// The accepted name closest to `input`, if the edit distance (over normalized text) is at
/// most a third of the name's length (at least one edit, at most three).
fn suggest(input: &str, names: &[&'static str]) -> Option<&'static str> {
    closest(input, names.iter().copied())
}

/// The candidate closest to `input`, if it is close enough to be a typo: the edit
/// distance (over text that ignores ASCII case, `-`, `_` and spaces) is at most a third of
/// the candidate's length (at least one edit, at most three), or `input` is the start of
/// the candidate and at least four characters long (`HumanReview` for
/// `HumanReviewRequired`).
///
/// This is cnv's one "did you mean" rule: the vocabulary's [`ParseError`], the grammar
/// DSL, the command line and the typed handlers all call it (hidden, as
/// `cnv_caps::__private::closest`).
#[must_use]
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    use alloc::vec::Vec;
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let typed: Vec<char> = normalized(input).collect();
    if typed.len() >= 4
        && let Some(name) = candidates
            .iter()
            .find(|name| normalized(name).take(typed.len()).eq(typed.iter().copied()))
    {
        return Some(name);
    }
    candidates
        .into_iter()
        .map(|name| (edit_distance(input, name), name))
        .filter(|(distance, name)| *distance <= (name.len() / 3).clamp(1, 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn normalized(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .map(|c| c.to_ascii_lowercase())
}

/// Edit distance between the normalized forms of `a` and `b`, over chars: insertions,
/// deletions, substitutions and transpositions of neighbours each cost one (optimal
/// string alignment), so the common typo `Fats` is one edit from `Fast`.
fn edit_distance(a: &str, b: &str) -> usize {
    use alloc::vec::Vec;
    let a: Vec<char> = normalized(a).collect();
    let b: Vec<char> = normalized(b).collect();
    let width = b.len() + 1;
    let mut d: Vec<usize> = (0..(a.len() + 1) * width).collect();
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("Network", "Network"), 0);
        assert_eq!(edit_distance("Netwrk", "Network"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("Fats", "Fast"), 1);
    }

    #[test]
    fn suggestion_needs_a_close_name() {
        let names = &["Pure", "ReadOnlyFS", "Network"];
        assert_eq!(suggest("ReadOnlyFs", names), Some("ReadOnlyFS"));
        assert_eq!(suggest("readonly", names), Some("ReadOnlyFS"));
        assert_eq!(suggest("Purr", names), Some("Pure"));
        assert_eq!(suggest("Quantum", names), None);
        // A name cut short is a close one too, from four characters on.
        assert_eq!(
            suggest("HumanReview", &["AgentSafe", "HumanReviewRequired"]),
            Some("HumanReviewRequired")
        );
        assert_eq!(suggest("Net", &["Network"]), None);
        assert_eq!(suggest("Fats", &["Fast", "Slow"]), Some("Fast"));
    }

    #[test]
    fn lookup_prefers_exact_then_normalized() {
        let names = &["ReadOnlyFS", "ReadWriteFS"];
        assert_eq!(lookup("ReadWriteFS", names), Some(1));
        assert_eq!(lookup("read-only-fs", names), Some(0));
        assert_eq!(lookup("read_write fs", names), Some(1));
        assert_eq!(lookup("read", names), None);
    }
}
