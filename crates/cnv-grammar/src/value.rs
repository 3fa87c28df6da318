//! What the model knows about an argument's value type from its Rust name: enough to
//! check a default value and to describe the value in JSON Schema.

/// The JSON shape of a value type the model recognises by name; every other type is a
/// string that the program parses with `FromStr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// `u8` … `u128`, `usize`, with the type's name (its width decides what fits).
    Unsigned(&'static str),
    /// `i8` … `i128`, `isize`, with the type's name.
    Signed(&'static str),
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
            "u8" => Self::Unsigned("u8"),
            "u16" => Self::Unsigned("u16"),
            "u32" => Self::Unsigned("u32"),
            "u64" => Self::Unsigned("u64"),
            "u128" => Self::Unsigned("u128"),
            "usize" => Self::Unsigned("usize"),
            "i8" => Self::Signed("i8"),
            "i16" => Self::Signed("i16"),
            "i32" => Self::Signed("i32"),
            "i64" => Self::Signed("i64"),
            "i128" => Self::Signed("i128"),
            "isize" => Self::Signed("isize"),
            "f32" | "f64" => Self::Float,
            "bool" => Self::Bool,
            "char" => Self::Char,
            _ => Self::Text,
        }
    }

    /// Whether `text` is a valid value of this scalar (every text is a `Text`; the
    /// program's own `FromStr` decides at run time).
    pub(crate) fn accepts(self, text: &str) -> bool {
        match self {
            Self::Unsigned(width) | Self::Signed(width) => fits(width, text),
            Self::Float => text.parse::<f64>().is_ok(),
            Self::Bool => matches!(text, "true" | "false"),
            Self::Char => text.chars().count() == 1,
            Self::Text => true,
        }
    }
}

/// Whether `text` parses as the integer type called `width` (as `FromStr` would).
fn fits(width: &str, text: &str) -> bool {
    match width {
        "u8" => text.parse::<u8>().is_ok(),
        "u16" => text.parse::<u16>().is_ok(),
        "u32" => text.parse::<u32>().is_ok(),
        "u64" => text.parse::<u64>().is_ok(),
        "u128" => text.parse::<u128>().is_ok(),
        "usize" => text.parse::<usize>().is_ok(),
        "i8" => text.parse::<i8>().is_ok(),
        "i16" => text.parse::<i16>().is_ok(),
        "i32" => text.parse::<i32>().is_ok(),
        "i64" => text.parse::<i64>().is_ok(),
        "i128" => text.parse::<i128>().is_ok(),
        _ => text.parse::<isize>().is_ok(),
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
        assert_eq!(Scalar::of("u64"), Scalar::Unsigned("u64"));
        assert_eq!(Scalar::of("core::primitive::i32"), Scalar::Signed("i32"));
        assert_eq!(Scalar::of("f64"), Scalar::Float);
        assert_eq!(Scalar::of("bool"), Scalar::Bool);
        assert_eq!(Scalar::of("std::path::PathBuf"), Scalar::Text);
        assert_eq!(Scalar::of("u64x"), Scalar::Text);
    }

    #[test]
    fn defaults_are_checked_against_the_scalar() {
        assert!(Scalar::of("u64").accepts("500"));
        assert!(!Scalar::of("u64").accepts("-1"));
        assert!(!Scalar::of("u64").accepts("5s"));
        assert!(!Scalar::of("u8").accepts("300"));
        assert!(Scalar::of("i8").accepts("-128"));
        assert!(!Scalar::of("i8").accepts("-129"));
        assert!(!Scalar::of("isize").accepts("-"));
        assert!(Scalar::Float.accepts("0.5"));
        assert!(!Scalar::Bool.accepts("yes"));
        assert!(Scalar::Char.accepts("é"));
        assert!(!Scalar::Char.accepts("ab"));
        assert!(Scalar::Text.accepts(""));
    }
}
