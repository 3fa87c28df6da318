//! Text an agent sent, as a person or a log sees it: the length of a justification
//! (what shows, after trimming) and the escaping of characters that show nothing or move
//! the cursor.
//!
//! One place decides what is invisible: the escalation policy counts with it, the
//! approval prompt and the command line escape with it, and the audit trail stores text
//! escaped with it.

use alloc::string::String;
use core::fmt::Write as _;

/// The length of a justification as the policy counts it: Unicode scalar values
/// (`char`s) after trimming leading and trailing whitespace (Unicode `White_Space`, as
/// [`str::trim`]), not counting characters that show nothing — control characters and
/// invisible format characters such as U+200B ZERO WIDTH SPACE or the bidirectional
/// overrides (see [`is_invisible`]). Fifty zero-width spaces are an empty justification.
/// A `const fn`, so a justification written in the source (`cnv_typestate::justify!`)
/// is counted the same way at compile time.
///
/// ```
/// use cnv_caps::text::justification_len;
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
            // Writing to a `String` cannot fail.
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
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
