//! What a verb declares by naming a Rust item: the JSON Schema of its output (`output:
//! Type`), and a default taken from a constant (`= MAX_RETRIES`), turned into the model's
//! `'static` text while the program compiles.

/// A type a verb returns as its structured output (`Output::with_data` in `cnv-cli`),
/// with the JSON Schema of that output: a verb that declares `output: Type` in
/// `grammar_dsl!` gets it as its MCP tool's `outputSchema`, so a client knows the shape
/// of `structuredContent` before it calls.
///
/// The schema is JSON text in a constant (the grammar is a constant too), describing an
/// object, as MCP requires (`{"type": "object", …}`). The compiler checks that the type
/// implements the trait and that the text starts like an object;
/// [`GrammarModel::validate`](crate::GrammarModel::validate) (and so `CliBuilder::build`)
/// parses it. Write it by hand, or generate it in a test and compare (a program that
/// uses `schemars` can assert that its schema equals this constant).
///
/// ```
/// use cnv_grammar::OutputSchema;
///
/// /// What `note add` returns.
/// struct Added;
///
/// impl OutputSchema for Added {
///     const SCHEMA: &'static str = r#"{
///         "type": "object",
///         "properties": { "title": { "type": "string" }, "bytes": { "type": "integer" } },
///         "required": ["title", "bytes"]
///     }"#;
/// }
/// # assert!(Added::SCHEMA.contains("object"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no output schema",
    label = "`output:` takes a type that says the JSON Schema of what the verb returns",
    note = "implement `cnv::grammar::OutputSchema` for `{Self}`: `const SCHEMA: &'static str = r#\"{{\"type\": \"object\", …}}\"#;`"
)]
pub trait OutputSchema {
    /// The JSON Schema of the output, as JSON text: an object schema.
    const SCHEMA: &'static str;
}

/// Whether `schema` starts like a JSON object (after white space): the check a constant
/// can make of an output schema; `validate()` parses it fully.
#[doc(hidden)]
#[must_use]
pub const fn starts_like_an_object(schema: &str) -> bool {
    let bytes = schema.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'{' => return true,
            _ => return false,
        }
    }
    false
}

/// A default value taken from a constant, as the text a user would type: what
/// `grammar_dsl!` writes into the model for `= SOME_CONSTANT`, in a constant. Not part of
/// the public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct DefaultText {
    bytes: [u8; 48],
    len: usize,
}

impl DefaultText {
    /// An unsigned integer in decimal.
    #[must_use]
    pub const fn unsigned(mut value: u128) -> Self {
        let mut digits = [0u8; 48];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (value % 10) as u8;
            count += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        let mut bytes = [0u8; 48];
        let mut i = 0;
        while i < count {
            bytes[i] = digits[count - 1 - i];
            i += 1;
        }
        Self { bytes, len: count }
    }

    /// A signed integer in decimal.
    #[must_use]
    pub const fn signed(value: i128) -> Self {
        let mut text = Self::unsigned(value.unsigned_abs());
        if value < 0 {
            let mut i = text.len;
            while i > 0 {
                text.bytes[i] = text.bytes[i - 1];
                i -= 1;
            }
            text.bytes[0] = b'-';
            text.len += 1;
        }
        text
    }

    /// A `char`, in UTF-8.
    #[must_use]
    pub const fn char(value: char) -> Self {
        let mut bytes = [0u8; 48];
        let len = value.encode_utf8(&mut bytes).len();
        Self { bytes, len }
    }

    /// The text.
    ///
    /// # Panics
    ///
    /// Never: the bytes are digits, `-` or one `char`'s UTF-8.
    #[must_use]
    pub const fn as_str(&'static self) -> &'static str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => text,
            Err(_) => panic!("a default's text is UTF-8"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_become_the_text_a_user_types() {
        static MAX: DefaultText = DefaultText::unsigned(u128::MAX);
        static MIN: DefaultText = DefaultText::signed(i128::MIN);
        static ZERO: DefaultText = DefaultText::signed(0);
        static MINUS: DefaultText = DefaultText::signed(-42);
        static LETTER: DefaultText = DefaultText::char('é');
        assert_eq!(MAX.as_str(), u128::MAX.to_string());
        assert_eq!(MIN.as_str(), i128::MIN.to_string());
        assert_eq!(ZERO.as_str(), "0");
        assert_eq!(MINUS.as_str(), "-42");
        assert_eq!(LETTER.as_str(), "é");
    }

    #[test]
    fn an_output_schema_must_start_like_an_object() {
        assert!(starts_like_an_object(" \n{\"type\": \"object\"}"));
        assert!(!starts_like_an_object(""));
        assert!(!starts_like_an_object("[]"));
    }
}
