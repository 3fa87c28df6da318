//! Justifications: the text an escalation carries, its length as the policy counts it,
//! and the `justify!` macro that checks a literal at compile time.

use core::fmt;
use core::marker::PhantomData;

use cnv_caps::__private::ConstMessage;
use cnv_caps::{CapabilityClass, ConstRisk};

use crate::policy::default_min_justification;
use cnv_caps::text::justification_len;

/// The justification of an escalation to class `C`: a `&str` with the target in its type.
///
/// `escalate` takes anything that converts into one, so a plain `&str` works
/// (`session.escalate(CapabilityContract::network(), "…")`) and is checked at run time.
/// [`justify!`](crate::justify) makes one from a literal and checks its length against
/// the default policy at compile time; its class must then match the escalation's
/// target, or the call does not compile.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Justification<'a, C: ConstRisk> {
    text: &'a str,
    class: PhantomData<fn() -> C>,
}

impl<'a, C: ConstRisk> Justification<'a, C> {
    /// A justification for an escalation to `C`, checked at run time by the policy.
    #[must_use]
    pub const fn new(text: &'a str) -> Self {
        Self {
            text,
            class: PhantomData,
        }
    }

    /// A justification that is at least as long as the default policy requires for `C`.
    /// Call it in a `const` (as [`justify!`](crate::justify) does) to check at compile
    /// time.
    ///
    /// # Panics
    ///
    /// When `text` is shorter than [`default_min_justification`]`(C::CLASS)`; in a
    /// `const` that is a compile error.
    #[must_use]
    pub const fn checked(text: &'a str) -> Self {
        let required = default_min_justification(C::CLASS);
        if justification_len(text) < required {
            // The threshold is the policy's, not a literal of this message.
            let message = ConstMessage::new()
                .push("this justification is too short to escalate to `")
                .push(C::NAME)
                .push("`: the default policy needs at least ")
                .number(required as u64)
                .push(" visible characters (no controls, format characters or combining marks; whitespace at either end trimmed); say in a sentence ")
                .push(what_to_say(C::CLASS));
            panic!("{}", message.as_str());
        }
        Self::new(text)
    }

    /// The text.
    #[must_use]
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// The length the policy counts ([`justification_len`]).
    #[must_use]
    pub const fn len(&self) -> usize {
        justification_len(self.text)
    }

    /// Whether the text is empty or whitespace only.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What `escalate` accepts as a justification for an escalation to `C`: a `&str`, a
/// `&String`, or a [`Justification`] of the same class (a [`justify!`](crate::justify)
/// literal).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot justify an escalation to `{C}`",
    label = "this justification does not fit an escalation to `{C}`",
    note = "a `justify!` literal names its target class: write `justify!({C}, \"…\")` for this escalation, or pass the text as a `&str`"
)]
pub trait Justifies<'a, C: ConstRisk> {
    /// The justification.
    fn into_justification(self) -> Justification<'a, C>;
}

impl<'a, C: ConstRisk> Justifies<'a, C> for &'a str {
    fn into_justification(self) -> Justification<'a, C> {
        Justification::new(self)
    }
}

impl<'a, C: ConstRisk> Justifies<'a, C> for &'a String {
    fn into_justification(self) -> Justification<'a, C> {
        Justification::new(self)
    }
}

impl<'a, C: ConstRisk> Justifies<'a, C> for Justification<'a, C> {
    fn into_justification(self) -> Self {
        self
    }
}

impl<'a, C: ConstRisk> From<&'a str> for Justification<'a, C> {
    fn from(text: &'a str) -> Self {
        Self::new(text)
    }
}

impl<'a, C: ConstRisk> From<&'a String> for Justification<'a, C> {
    fn from(text: &'a String) -> Self {
        Self::new(text)
    }
}

impl<C: ConstRisk> fmt::Debug for Justification<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Justification")
            .field("to", &C::CLASS)
            .field("text", &self.text)
            .finish()
    }
}

impl<C: ConstRisk> fmt::Display for Justification<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// What a justification that is too short for `to` should say, in words.
const fn what_to_say(to: CapabilityClass) -> &'static str {
    match to {
        CapabilityClass::Pure | CapabilityClass::ReadOnlyFS => "why the command needs it",
        CapabilityClass::Environment => "why the command needs to read the environment",
        CapabilityClass::Network => "which host the command talks to and why",
        CapabilityClass::ReadWriteFS => "which files the command changes and why",
        CapabilityClass::Subprocess => "which program the command starts and why",
        CapabilityClass::Dangerous => "what the command does that cannot be undone and why",
    }
}

/// A justification for an escalation to a class, checked against the default policy
/// **at compile time**: `justify!(Network, "…")`.
///
/// The result is a [`Justification`] of that class, so it can only be passed to an
/// escalation to the same class. A policy with higher thresholds still checks it at run
/// time.
///
/// ```
/// use cnv_caps::{CapabilityContract, Network};
/// use cnv_typestate::{justify, TypedSession, Unverified};
///
/// let session = TypedSession::<Unverified>::with_name("fetcher").verify(CapabilityContract::pure());
/// let session = session
///     .escalate(
///         CapabilityContract::network(),
///         justify!(Network, "Download the signed release index from the mirror"),
///     )
///     .expect("long enough for the default policy");
/// # let _ = session;
/// ```
///
/// ```compile_fail
/// use cnv_caps::Network;
/// let too_short = cnv_typestate::justify!(Network, "need it"); // 7 of 30 characters
/// ```
#[macro_export]
macro_rules! justify {
    ($class:ty, $text:expr $(,)?) => {{
        const JUSTIFICATION: $crate::Justification<'static, $class> =
            $crate::Justification::<'static, $class>::checked($text);
        JUSTIFICATION
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv_caps::{Network, Subprocess};

    #[test]
    fn the_macro_checks_at_compile_time_and_keeps_the_text() {
        let j = crate::justify!(Network, "Fetch the index from the package mirror");
        assert_eq!(j.as_str(), "Fetch the index from the package mirror");
        assert_eq!(j.len(), 39);
        let s: Justification<'_, Subprocess> = Justification::from("x");
        assert!(!s.is_empty());
        assert_eq!(format!("{j}"), j.as_str());
    }

    #[test]
    #[should_panic(expected = "too short to escalate to `Network`")]
    fn checked_panics_at_run_time_too() {
        let text = String::from("short");
        let _ = Justification::<Network>::checked(&text);
    }
}
