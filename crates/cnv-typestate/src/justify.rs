//! Justifications: the text an escalation carries, its length as the policy counts it,
//! and the `justify!` macro that checks a literal at compile time.

use core::fmt;
use core::marker::PhantomData;

use cnv_caps::{CapabilityClass, ConstRisk};

use crate::policy::default_min_justification;

/// The length of a justification as the policy counts it: Unicode scalar values
/// (`char`s) after trimming leading and trailing whitespace (Unicode `White_Space`, as
/// [`str::trim`]), not counting characters that show nothing — control characters and
/// invisible format characters such as U+200B ZERO WIDTH SPACE or the bidirectional
/// overrides (see [`is_invisible`]). Fifty zero-width spaces are an empty justification.
/// A `const fn`, so [`justify!`](crate::justify) counts the same way at compile time.
///
/// ```
/// use cnv_typestate::justification_len;
///
/// assert_eq!(justification_len("  read the config  "), 15);
/// assert_eq!(justification_len("éééééééééé"), 10); // 20 bytes
/// assert_eq!(justification_len(" \t\u{3000} "), 0);
/// assert_eq!(justification_len(&"\u{200B}".repeat(50)), 0);
/// assert_eq!(justification_len("ok\u{1b}[2K"), 5); // the escape character is not counted
/// ```
#[must_use]
pub const fn justification_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut counted = 0; // visible chars so far
    let mut first = usize::MAX; // `counted` before the first char that is not whitespace
    let mut last = 0; // `counted` after the last such char
    while i < bytes.len() {
        let (code, width) = decode(bytes, i);
        if !is_white_space(code) {
            if first == usize::MAX {
                first = counted;
            }
            if !is_invisible(code) {
                counted += 1;
            }
            last = counted;
        } else if first != usize::MAX && !is_invisible(code) {
            counted += 1;
        }
        i += width;
    }
    if first == usize::MAX { 0 } else { last - first }
}

/// Whether the scalar value `code` shows nothing on a terminal: a control character
/// (C0, DEL, C1) or an invisible format character (soft hyphen, zero-width spaces and
/// joiners, directional marks, embeddings, overrides and isolates, word joiner and
/// invisible operators, variation selectors, the byte-order mark, tags). Such characters
/// are not counted in a justification's length and are escaped when one is shown to a
/// person.
#[must_use]
pub const fn is_invisible(code: u32) -> bool {
    // Fast path: the ASCII of almost every justification.
    if code < 0x80 {
        return code < 0x20 || code == 0x7F;
    }
    matches!(
        code,
        0x00..=0x1F
            | 0x7F..=0x9F
            | 0xAD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// `text` with every [invisible](is_invisible) character written as `\u{…}`, so that what
/// a person is shown is what the text contains (no cursor movement, no hidden words).
#[must_use]
pub fn escape_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c as u32) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes the scalar value starting at `bytes[i]`, which is valid UTF-8 (it comes from a
/// `&str`), and returns it with its width in bytes.
const fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let lead = bytes[i] as u32;
    if lead < 0x80 {
        (lead, 1)
    } else if lead < 0xE0 {
        (((lead & 0x1F) << 6) | cont(bytes, i + 1), 2)
    } else if lead < 0xF0 {
        (
            ((lead & 0x0F) << 12) | (cont(bytes, i + 1) << 6) | cont(bytes, i + 2),
            3,
        )
    } else {
        (
            ((lead & 0x07) << 18)
                | (cont(bytes, i + 1) << 12)
                | (cont(bytes, i + 2) << 6)
                | cont(bytes, i + 3),
            4,
        )
    }
}

const fn cont(bytes: &[u8], i: usize) -> u32 {
    (bytes[i] & 0x3F) as u32
}

/// The Unicode `White_Space` property, the set [`char::is_whitespace`] and
/// [`str::trim`] use.
const fn is_white_space(code: u32) -> bool {
    if code < 0x80 {
        return matches!(code, 0x09..=0x0D | 0x20);
    }
    matches!(
        code,
        0x09..=0x0D
            | 0x20
            | 0x85
            | 0xA0
            | 0x1680
            | 0x2000..=0x200A
            | 0x2028
            | 0x2029
            | 0x202F
            | 0x205F
            | 0x3000
    )
}

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
        if justification_len(text) < default_min_justification(C::CLASS) {
            panic!("{}", too_short_message(C::CLASS));
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

const fn too_short_message(to: CapabilityClass) -> &'static str {
    match to {
        CapabilityClass::Environment => {
            "this justification is too short to escalate to `Environment`: the default policy needs at least 20 characters (Unicode scalar values, after trimming whitespace); say in a sentence why the command needs to read the environment"
        }
        CapabilityClass::Network => {
            "this justification is too short to escalate to `Network`: the default policy needs at least 30 characters (Unicode scalar values, after trimming whitespace); say in a sentence which host the command talks to and why"
        }
        CapabilityClass::ReadWriteFS => {
            "this justification is too short to escalate to `ReadWriteFS`: the default policy needs at least 20 characters (Unicode scalar values, after trimming whitespace); say in a sentence which files the command changes and why"
        }
        CapabilityClass::Subprocess => {
            "this justification is too short to escalate to `Subprocess`: the default policy needs at least 50 characters (Unicode scalar values, after trimming whitespace); say in a sentence which program the command starts and why"
        }
        CapabilityClass::Dangerous => {
            "this justification is too short to escalate to `Dangerous`: the default policy needs at least 50 characters (Unicode scalar values, after trimming whitespace); say in a sentence what the command does that cannot be undone and why"
        }
        CapabilityClass::Pure | CapabilityClass::ReadOnlyFS => {
            "this justification is too short for its target class"
        }
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
    use proptest::prelude::*;

    #[test]
    fn counts_scalar_values_after_trimming() {
        assert_eq!(justification_len(""), 0);
        assert_eq!(justification_len("   "), 0);
        assert_eq!(justification_len("\u{2028}\u{85}\u{a0}"), 0);
        assert_eq!(justification_len(" a "), 1);
        assert_eq!(justification_len("a b"), 3);
        assert_eq!(justification_len("🦀🦀"), 2);
        // Zero-width space is not White_Space, but it shows nothing: not counted.
        assert_eq!(justification_len("\u{200b}x"), 1);
        assert_eq!(justification_len("a\u{202e}b\u{1b}[1Ac"), 6);
        assert_eq!(justification_len("a\tb"), 2);
    }

    #[test]
    fn invisible_characters_are_escaped_for_display() {
        assert_eq!(
            escape_invisible("ok\u{1b}[2K\u{200b}"),
            "ok\\u{001b}[2K\\u{200b}"
        );
        assert_eq!(escape_invisible("plain text é"), "plain text é");
    }

    /// What `justification_len` means, written with the standard library.
    fn reference(text: &str) -> usize {
        text.trim()
            .chars()
            .filter(|c| !is_invisible(*c as u32))
            .count()
    }

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

    proptest! {
        #[test]
        fn agrees_with_trim_chars_count(text in "\\PC*", pad in "[ \t\n\u{a0}\u{3000}\u{2003}]{0,4}") {
            let padded = format!("{pad}{text}{pad}");
            prop_assert_eq!(justification_len(&padded), reference(&padded));
        }

        #[test]
        fn agrees_on_any_string(text in any::<String>()) {
            prop_assert_eq!(justification_len(&text), reference(&text));
        }
    }
}
