//! What the model knows about an argument's value type from its Rust name: enough to
//! check a default value, to describe the value in JSON Schema, and (for `cnv-cli`) to
//! choose a command-line parser.

/// A value type the model recognises by name; every other type is [`Text`](Self::Text),
/// which the program parses with `FromStr`.
///
/// The one table of known value types: `grammar_dsl!` and
/// [`GrammarModel::validate`](crate::GrammarModel::validate) check defaults with it, and
/// `cnv-cli` chooses its command-line parsers with it
/// ([`GrammarArgument::scalar`](crate::GrammarArgument::scalar)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `usize`.
    Usize,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `isize`.
    Isize,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `char`.
    Char,
    /// Anything else: `String`, `PathBuf`, a program's own `FromStr` type.
    Text,
}

impl Scalar {
    /// Every scalar recognised by name (all but [`Text`](Self::Text)), in table order.
    pub const NAMED: [Self; 16] = [
        Self::U8,
        Self::U16,
        Self::U32,
        Self::U64,
        Self::U128,
        Self::Usize,
        Self::I8,
        Self::I16,
        Self::I32,
        Self::I64,
        Self::I128,
        Self::Isize,
        Self::F32,
        Self::F64,
        Self::Bool,
        Self::Char,
    ];

    /// The Rust name of the type (`"u64"`), `None` for [`Text`](Self::Text).
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::U8 => "u8",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::U64 => "u64",
            Self::U128 => "u128",
            Self::Usize => "usize",
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::I128 => "i128",
            Self::Isize => "isize",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Bool => "bool",
            Self::Char => "char",
            Self::Text => return None,
        })
    }

    /// The scalar a type name stands for, looking at its last path segment
    /// (`core::primitive::u64` is `u64`).
    #[must_use]
    pub fn of(value_type: &str) -> Self {
        let name = value_type.rsplit("::").next().unwrap_or(value_type).trim();
        Self::NAMED
            .into_iter()
            .find(|scalar| scalar.name() == Some(name))
            .unwrap_or(Self::Text)
    }

    /// An unsigned integer type.
    #[must_use]
    pub const fn is_unsigned(self) -> bool {
        matches!(
            self,
            Self::U8 | Self::U16 | Self::U32 | Self::U64 | Self::U128 | Self::Usize
        )
    }

    /// A signed integer type.
    #[must_use]
    pub const fn is_signed(self) -> bool {
        matches!(
            self,
            Self::I8 | Self::I16 | Self::I32 | Self::I64 | Self::I128 | Self::Isize
        )
    }

    /// An integer type, signed or not.
    #[must_use]
    pub const fn is_integer(self) -> bool {
        self.is_unsigned() || self.is_signed()
    }

    /// Whether `text` is a valid value of this scalar, as the type's `FromStr` decides
    /// (every text is a [`Text`](Self::Text); the program's own `FromStr` decides at run
    /// time).
    #[must_use]
    pub fn accepts(self, text: &str) -> bool {
        match self {
            Self::U8 => text.parse::<u8>().is_ok(),
            Self::U16 => text.parse::<u16>().is_ok(),
            Self::U32 => text.parse::<u32>().is_ok(),
            Self::U64 => text.parse::<u64>().is_ok(),
            Self::U128 => text.parse::<u128>().is_ok(),
            Self::Usize => text.parse::<usize>().is_ok(),
            Self::I8 => text.parse::<i8>().is_ok(),
            Self::I16 => text.parse::<i16>().is_ok(),
            Self::I32 => text.parse::<i32>().is_ok(),
            Self::I64 => text.parse::<i64>().is_ok(),
            Self::I128 => text.parse::<i128>().is_ok(),
            Self::Isize => text.parse::<isize>().is_ok(),
            Self::F32 => text.parse::<f32>().is_ok(),
            Self::F64 => text.parse::<f64>().is_ok(),
            Self::Bool => text.parse::<bool>().is_ok(),
            Self::Char => text.parse::<char>().is_ok(),
            Self::Text => true,
        }
    }
}

/// Whether a named argument of this value type is a switch (`bool`).
pub(crate) fn is_switch_type(value_type: &str) -> bool {
    Scalar::of(value_type) == Scalar::Bool
}

/// The value name a named or positional argument shows in `--help` when none is
/// declared: its name in capitals, with `-` written `_` (`timeout-ms` is `TIMEOUT_MS`).
///
/// ```
/// assert_eq!(cnv_grammar::rules::default_value_name("timeout-ms"), "TIMEOUT_MS");
/// ```
#[must_use]
pub fn default_value_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_recognised_by_their_last_segment() {
        assert_eq!(Scalar::of("u64"), Scalar::U64);
        assert_eq!(Scalar::of("core::primitive::i32"), Scalar::I32);
        assert_eq!(Scalar::of("f64"), Scalar::F64);
        assert_eq!(Scalar::of("bool"), Scalar::Bool);
        assert_eq!(Scalar::of(" char "), Scalar::Char);
        assert_eq!(Scalar::of("std::path::PathBuf"), Scalar::Text);
        assert_eq!(Scalar::of("u64x"), Scalar::Text);
        for scalar in Scalar::NAMED {
            assert_eq!(Scalar::of(scalar.name().unwrap_or_default()), scalar);
        }
        assert_eq!(Scalar::Text.name(), None);
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
        assert!(Scalar::F64.accepts("0.5"));
        assert!(!Scalar::Bool.accepts("yes"));
        assert!(Scalar::Char.accepts("é"));
        assert!(!Scalar::Char.accepts("ab"));
        assert!(Scalar::Text.accepts(""));
    }
}
