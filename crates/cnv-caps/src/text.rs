//! Text an agent sent, as a person or a log sees it. Two questions, answered here once:
//!
//! * **What is escaped when text is shown** ([`is_escaped_when_shown`],
//!   [`escape_for_display`]): the characters that move the cursor, change how the text
//!   around them reads, or show nothing at all — controls (C0, DEL, C1), format
//!   characters (bidirectional overrides and isolates, zero-width spaces and joiners,
//!   the soft hyphen, tags, …), the line and paragraph separators, and every code point
//!   Unicode says to ignore by default (fillers, variation selectors, …). They are
//!   written as `\u{…}`, so a person sees what the text contains. Combining marks are
//!   *not* escaped: an accent or a vowel sign is text, and shows on the character
//!   before it.
//! * **What counts toward a justification's length** ([`counts_toward_justification`],
//!   [`justification_len`]): visible characters only. Nothing that is escaped counts,
//!   and neither do combining marks (Unicode categories Mn, Mc and Me: a mark adds to
//!   the character before it, it is not a character of its own) nor the characters that
//!   look blank without being spaces (U+2800 BRAILLE PATTERN BLANK, U+1D159 MUSICAL
//!   SYMBOL NULL NOTEHEAD, and U+FFFC OBJECT REPLACEMENT CHARACTER, which stands for an
//!   object the text does not hold). Spaces between words count; whitespace at either
//!   end does not.
//!
//! The escalation policy and `justify!` count with this module; the approval prompt,
//! the command line's messages, the audit trail and `cnv-audit show` escape with it.
//!
//! Some choices, for the record: U+FFFD REPLACEMENT CHARACTER counts (it shows as `�`);
//! a private-use character counts (a font may draw it, and a terminal shows a box
//! otherwise); an unassigned code point counts unless Unicode reserves it as ignorable
//! (Unicode asks that one be shown as a visible missing glyph). The tables follow
//! the Unicode version named in the `tables` module; a character assigned in a later
//! version is counted until the tables are generated again.

use alloc::string::String;
use core::fmt::Write as _;

mod tables;

/// The length of a justification as the policy counts it: the characters that show
/// ([`counts_toward_justification`]) from the first that is not whitespace to the
/// last, in Unicode scalar values (`char`s). Whitespace at either end (Unicode
/// `White_Space`, as [`str::trim`]) is not counted, nor is anything that shows nothing:
/// controls, format characters such as U+200B ZERO WIDTH SPACE or the bidirectional
/// overrides, combining marks, and blank-looking characters such as U+2800 BRAILLE
/// PATTERN BLANK. Fifty zero-width spaces are an empty justification, and so is a run
/// of accents. A `const fn`, so a justification written in the source
/// (`cnv_typestate::justify!`) is counted the same way at compile time.
///
/// ```
/// use cnv_caps::text::justification_len;
///
/// assert_eq!(justification_len("  read the config  "), 15);
/// assert_eq!(justification_len("éééééééééé"), 10); // 20 bytes
/// assert_eq!(justification_len("e\u{301}"), 1); // an e and a combining acute accent
/// assert_eq!(justification_len(" \t\u{3000} "), 0);
/// assert_eq!(justification_len(&"\u{200B}".repeat(50)), 0);
/// assert_eq!(justification_len(&"\u{2800}".repeat(50)), 0);
/// assert_eq!(justification_len("ok\u{1b}[2K"), 5); // the escape character is not counted
/// ```
#[must_use]
pub const fn justification_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut counted = 0; // counted chars up to the last visible one that is not whitespace
    let mut spaces = 0; // whitespace that counts if a visible character follows it
    while i < bytes.len() {
        let (code, width) = decode(bytes, i);
        if counts_toward_justification(code) {
            if !is_white_space(code) {
                counted += spaces + 1;
                spaces = 0;
            } else if counted > 0 {
                spaces += 1;
            }
        }
        i += width;
    }
    counted
}

/// Whether the scalar value `code` counts toward a justification's length, where it
/// stands between visible characters: whether it shows as a character of its own. Not
/// counted: what is [escaped when shown](is_escaped_when_shown) (controls, format
/// characters, line and paragraph separators, default-ignorable code points), combining
/// marks (categories Mn, Mc, Me), U+2800 BRAILLE PATTERN BLANK, U+1D159 MUSICAL SYMBOL
/// NULL NOTEHEAD and U+FFFC OBJECT REPLACEMENT CHARACTER. A space counts between words
/// ([`justification_len`] leaves out whitespace at either end).
///
/// ```
/// use cnv_caps::text::counts_toward_justification;
///
/// assert!(counts_toward_justification('a' as u32));
/// assert!(counts_toward_justification(' ' as u32));
/// assert!(!counts_toward_justification(0x0301)); // COMBINING ACUTE ACCENT
/// assert!(!counts_toward_justification(0x2800)); // BRAILLE PATTERN BLANK
/// assert!(!counts_toward_justification(0x200D)); // ZERO WIDTH JOINER
/// ```
#[must_use]
pub const fn counts_toward_justification(code: u32) -> bool {
    // Fast path: the ASCII of almost every justification.
    if code < 0x80 {
        return code >= 0x20 && code != 0x7F;
    }
    !is_escaped_when_shown(code)
        && !in_ranges(tables::MARKS, code)
        && !matches!(code, 0x2800 | 0x1D159 | 0xFFFC)
}

/// Whether the scalar value `code` is written as `\u{…}` when text is shown to a person
/// ([`escape_for_display`]): whether it moves the cursor, changes how the text around
/// it reads, or shows nothing. These are Unicode's control characters (category Cc: C0,
/// DEL, C1), format characters (Cf: bidirectional marks, embeddings, overrides and
/// isolates, zero-width spaces and joiners, the soft hyphen, invisible operators, the
/// byte-order mark, interlinear annotations, tags, …), the line and paragraph separators
/// (Zl, Zp), and every `Default_Ignorable_Code_Point` (Hangul fillers, variation
/// selectors, the combining grapheme joiner, and the code points reserved as ignorable).
/// None of them counts toward a justification. Combining marks are not escaped: they are
/// text.
///
/// ```
/// use cnv_caps::text::is_escaped_when_shown;
///
/// assert!(is_escaped_when_shown(0x1B)); // ESCAPE
/// assert!(is_escaped_when_shown(0x202E)); // RIGHT-TO-LEFT OVERRIDE
/// assert!(is_escaped_when_shown(0x1BCA0)); // SHORTHAND FORMAT LETTER OVERLAP
/// assert!(!is_escaped_when_shown(0x0301)); // COMBINING ACUTE ACCENT
/// assert!(!is_escaped_when_shown('a' as u32));
/// ```
#[must_use]
pub const fn is_escaped_when_shown(code: u32) -> bool {
    // Fast path: the ASCII of almost every text.
    if code < 0x80 {
        return code < 0x20 || code == 0x7F;
    }
    in_ranges(tables::ESCAPED, code)
}

/// `text` with every character that is [escaped when shown](is_escaped_when_shown)
/// written as `\u{…}` (four hex digits or more), so that what a person is shown is what
/// the text contains: no cursor movement, no hidden or reordered words, one line.
///
/// ```
/// use cnv_caps::text::escape_for_display;
///
/// assert_eq!(escape_for_display("ok\u{1b}[2J\u{202e}"), "ok\\u{001b}[2J\\u{202e}");
/// assert_eq!(escape_for_display("a\nb"), "a\\u{000a}b");
/// assert_eq!(escape_for_display("café"), "café"); // a combining accent is text
/// ```
#[must_use]
pub fn escape_for_display(text: &str) -> String {
    escape_where(text, |_| true)
}

/// [`escape_for_display`], but line feeds (`\n`) are kept: for text whose lines are laid
/// out by the program (a usage message) with an agent's words quoted inside it. The
/// words must not hold a line feed of their own; escape them with
/// [`escape_for_display`] first.
///
/// ```
/// use cnv_caps::text::escape_for_display_keeping_line_feeds;
///
/// assert_eq!(
///     escape_for_display_keeping_line_feeds("error: '\u{1b}[2J'\n\nUsage: x\r"),
///     "error: '\\u{001b}[2J'\n\nUsage: x\\u{000d}"
/// );
/// ```
#[must_use]
pub fn escape_for_display_keeping_line_feeds(text: &str) -> String {
    escape_where(text, |c| c != '\n')
}

/// `text` with each character that is escaped when shown and `escape(c)` written as
/// `\u{…}`.
fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_escaped_when_shown(c as u32) && escape(c) {
            // Writing to a `String` cannot fail.
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `code` is in `table`, inclusive ranges in increasing order that neither
/// overlap nor touch: a binary search, usable in a `const`.
const fn in_ranges(table: &[(u32, u32)], code: u32) -> bool {
    let (mut low, mut high) = (0, table.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let (start, end) = table[middle];
        if code < start {
            high = middle;
        } else if code > end {
            low = middle + 1;
        } else {
            return true;
        }
    }
    false
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
        0x85 | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000
    )
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::format;
    use alloc::vec::Vec;
    use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup};
    use icu_properties::{CodePointMapData, CodePointSetData};
    use proptest::prelude::*;

    /// Unicode's answer to "escaped when shown": Cc, Cf, Zl, Zp, Default_Ignorable_Code_Point.
    fn unicode_escapes(c: char) -> bool {
        let category = CodePointMapData::<GeneralCategory>::new().get(c);
        matches!(
            category,
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        ) || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
    }

    /// Unicode's answer to "counts": not escaped, not a mark, not one of the blank-looking
    /// characters this module names.
    fn unicode_counts(c: char) -> bool {
        let category = CodePointMapData::<GeneralCategory>::new().get(c);
        !unicode_escapes(c)
            && !GeneralCategoryGroup::Mark.contains(category)
            && !matches!(c, '\u{2800}' | '\u{1D159}' | '\u{FFFC}')
    }

    /// What `justification_len` means, written with the standard library and Unicode's
    /// data: the characters that count, trimmed of whitespace, counted.
    fn reference_len(text: &str) -> usize {
        let shown: String = text.chars().filter(|c| unicode_counts(*c)).collect();
        shown.trim().chars().count()
    }

    #[test]
    fn every_scalar_value_is_classified_as_unicode_says() {
        // Exhaustive: the tables are what `regenerate_tables` writes from Unicode's data.
        let wrong: Vec<_> = (0..=0x10_FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|&c| {
                is_escaped_when_shown(c as u32) != unicode_escapes(c)
                    || counts_toward_justification(c as u32) != unicode_counts(c)
            })
            .take(10)
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        assert!(
            wrong.is_empty(),
            "classified unlike Unicode's data: {wrong:?}; regenerate the tables with \
             `cargo test -p cnv-caps --lib -- --ignored regenerate_tables`"
        );
    }

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
    fn what_shows_nothing_does_not_hold_the_trimming_open() {
        // A zero-width space before the padding does not make the padding count.
        assert_eq!(justification_len("\u{200b}          ok"), 2);
        assert_eq!(justification_len("ok          \u{301}"), 2);
    }

    #[test]
    fn braille_blank_is_not_a_character() {
        assert_eq!(justification_len(&"\u{2800}".repeat(60)), 0);
        assert_eq!(justification_len("a\u{2800}\u{2800}b"), 2);
        // It is not escaped either: a person sees blank space, which is what it is.
        assert_eq!(escape_for_display("\u{2800}"), "\u{2800}");
    }

    #[test]
    fn combining_marks_count_as_nothing_but_are_shown() {
        let marks = "\u{300}\u{301}\u{302}\u{303}\u{304}\u{20dd}\u{93e}".repeat(10);
        assert_eq!(justification_len(&marks), 0);
        assert_eq!(justification_len(&format!("a{marks}")), 1);
        // Zalgo text counts its letters.
        assert_eq!(
            justification_len("z\u{33e}\u{346}a\u{36e}l\u{35b}g\u{350}o"),
            5
        );
        assert_eq!(escape_for_display(&marks), marks);
    }

    #[test]
    fn shorthand_format_controls_are_escaped_and_not_counted() {
        let overlaps = "\u{1bca0}\u{1bca1}\u{1bca2}\u{1bca3}".repeat(10);
        assert_eq!(justification_len(&overlaps), 0);
        assert_eq!(
            escape_for_display("a\u{1bca0}b"),
            "a\\u{1bca0}b",
            "a shorthand format control shows nothing: it is escaped"
        );
    }

    #[test]
    fn zero_width_joiners_are_escaped_and_not_counted() {
        assert_eq!(justification_len(&"\u{200d}\u{200c}".repeat(30)), 0);
        // The family emoji is four people joined: four characters, three joiners.
        assert_eq!(
            justification_len("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}"),
            4
        );
        assert_eq!(escape_for_display("a\u{200d}b"), "a\\u{200d}b");
    }

    #[test]
    fn fillers_and_replacement_characters() {
        for filler in ['\u{3164}', '\u{115f}', '\u{1160}', '\u{ffa0}', '\u{fffc}'] {
            assert_eq!(justification_len(&format!("a{filler}b")), 2, "{filler:?}");
        }
        // U+FFFD shows as a mark of its own.
        assert_eq!(justification_len("\u{fffd}"), 1);
    }

    #[test]
    fn escaped_characters_are_written_as_code_points() {
        assert_eq!(
            escape_for_display("ok\u{1b}[2K\u{200b}"),
            "ok\\u{001b}[2K\\u{200b}"
        );
        assert_eq!(escape_for_display("plain text é"), "plain text é");
        assert_eq!(
            escape_for_display("a\u{2028}b\u{e0041}"),
            "a\\u{2028}b\\u{e0041}"
        );
        assert_eq!(
            escape_for_display_keeping_line_feeds("a\nb\r\u{85}"),
            "a\nb\\u{000d}\\u{0085}"
        );
    }

    #[test]
    fn counts_the_same_at_compile_time() {
        const LEN: usize = justification_len("\u{2800}a\u{301}\u{200d}b\u{1bca0} ");
        assert_eq!(LEN, 2);
    }

    /// Writes `text/tables.rs` from Unicode's data (the dev-dependency
    /// `icu_properties`). Run it after updating that crate:
    /// `cargo test -p cnv-caps --lib -- --ignored regenerate_tables`.
    #[test]
    #[ignore = "writes the source file of the tables"]
    fn regenerate_tables() {
        let categories = CodePointMapData::<GeneralCategory>::new();
        let marks = ranges(|c| GeneralCategoryGroup::Mark.contains(categories.get32(c)));
        let escaped = ranges(|c| char::from_u32(c).is_some_and(unicode_escapes));
        let source = tables_source(&escaped, &marks);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/text/tables.rs");
        std::fs::write(&path, source).expect("writes the tables");
    }

    /// The code points for which `includes` holds, as inclusive ranges in order.
    fn ranges(includes: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for code in 0..=0x10_FFFF {
            if !includes(code) {
                continue;
            }
            match out.last_mut() {
                Some((_, end)) if *end + 1 == code => *end = code,
                _ => out.push((code, code)),
            }
        }
        out
    }

    fn tables_source(escaped: &[(u32, u32)], marks: &[(u32, u32)]) -> String {
        let mut source = String::from(
            "//! The character tables of [`text`](super), generated from Unicode 18.0.0 (the data of\n\
             //! the dev-dependency `icu_properties`, `icu_properties_data` 2.4.0) by the test\n\
             //! `text::tests::regenerate_tables`:\n\
             //! `cargo test -p cnv-caps --lib -- --ignored regenerate_tables`. Do not edit by hand;\n\
             //! `every_scalar_value_is_classified_as_unicode_says` checks every scalar value against\n\
             //! the same data.\n\n",
        );
        for (name, doc, table) in [
            (
                "ESCAPED",
                "Escaped when shown: the general categories Cc, Cf, Zl and Zp, and\n/// `Default_Ignorable_Code_Point`.",
                escaped,
            ),
            (
                "MARKS",
                "The combining marks: the general categories Mn, Mc and Me.",
                marks,
            ),
        ] {
            let _ = write!(
                source,
                "/// {doc}\npub(super) const {name}: &[(u32, u32)] = &[\n"
            );
            for (start, end) in table {
                let _ = writeln!(source, "    (0x{start:04X}, 0x{end:04X}),");
            }
            source.push_str("];\n");
            if name == "ESCAPED" {
                source.push('\n');
            }
        }
        source
    }

    proptest! {
        #[test]
        fn agrees_with_unicode_on_padded_text(text in "\\PC*", pad in "[ \t\n\u{a0}\u{3000}\u{2003}\u{200b}\u{2800}\u{301}]{0,4}") {
            let padded = format!("{pad}{text}{pad}");
            prop_assert_eq!(justification_len(&padded), reference_len(&padded));
        }

        #[test]
        fn agrees_with_unicode_on_any_string(text in any::<String>()) {
            prop_assert_eq!(justification_len(&text), reference_len(&text));
        }

        #[test]
        fn agrees_with_unicode_on_marks_and_format_characters(
            text in "[a \u{300}-\u{36f}\u{200b}-\u{200f}\u{2060}-\u{206f}\u{fe00}-\u{fe0f}\u{1bca0}-\u{1bca3}\u{e0000}-\u{e007f}\u{2800}\u{3164}]*"
        ) {
            prop_assert_eq!(justification_len(&text), reference_len(&text));
        }

        #[test]
        fn what_is_shown_holds_nothing_that_is_escaped(text in any::<String>()) {
            let shown = escape_for_display(&text);
            prop_assert!(shown.chars().all(|c| !is_escaped_when_shown(c as u32)));
        }
    }
}
