//! What the model knows about an argument's value type from its Rust name: enough to
//! check a default value and to describe the value in JSON Schema.

/// The JSON shape of a value type the model recognises by name; every other type is a
/// string that the program parses with `FromStr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// `u8` … `u128`, `usize`.
    Unsigned,
    /// `i8` … `i128`, `isize`.
    Signed,
    /// `f32`, `f64`.
    Float,
    /// `bool`.
    Bool,
    /// `char`.
    Char,
    /// Anything else: `String`, `PathBuf`, a program's own `FromStr` type.
    Text,
}

impl Scalar {
    /// The scalar a type name stands for, looking at its last path segment
    /// (`core::primitive::u64` is `u64`).
    pub(crate) fn of(value_type: &str) -> Self {
        let name = value_type.rsplit("::").next().unwrap_or(value_type).trim();
        match name {
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => Self::Unsigned,
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => Self::Signed,
            "f32" | "f64" => Self::Float,
            "bool" => Self::Bool,
            "char" => Self::Char,
            _ => Self::Text,
        }
    }

    /// Whether `text` is a valid value of this scalar (every text is a `Text`; the
    /// program's own `FromStr` decides at run time). Integers are checked for syntax, not
    /// for the width of the type.
    pub(crate) fn accepts(self, text: &str) -> bool {
        match self {
            Self::Unsigned => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
            Self::Signed => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            }
            Self::Float => text.parse::<f64>().is_ok(),
            Self::Bool => matches!(text, "true" | "false"),
            Self::Char => text.chars().count() == 1,
            Self::Text => true,
        }
    }
}

/// Whether a named argument of this value type is a switch (`bool`).
pub(crate) fn is_switch_type(value_type: &str) -> bool {
    Scalar::of(value_type) == Scalar::Bool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_recognised_by_their_last_segment() {
        assert_eq!(Scalar::of("u64"), Scalar::Unsigned);
        assert_eq!(Scalar::of("core::primitive::i32"), Scalar::Signed);
        assert_eq!(Scalar::of("f64"), Scalar::Float);
        assert_eq!(Scalar::of("bool"), Scalar::Bool);
        assert_eq!(Scalar::of("std::path::PathBuf"), Scalar::Text);
        assert_eq!(Scalar::of("u64x"), Scalar::Text);
    }

    #[test]
    fn defaults_are_checked_against_the_scalar() {
        assert!(Scalar::Unsigned.accepts("500"));
        assert!(!Scalar::Unsigned.accepts("-1"));
        assert!(!Scalar::Unsigned.accepts("5s"));
        assert!(Scalar::Signed.accepts("-1"));
        assert!(!Scalar::Signed.accepts("-"));
        assert!(Scalar::Float.accepts("0.5"));
        assert!(!Scalar::Bool.accepts("yes"));
        assert!(Scalar::Char.accepts("é"));
        assert!(!Scalar::Char.accepts("ab"));
        assert!(Scalar::Text.accepts(""));
    }
}
