//! Possible values that come from a type: an enum whose every variant is one word a user
//! types, named in the grammar with `in Type` (`--sort: Sort = "name" in Sort "…"`).

use crate::Text;

/// A type whose values are a fixed list of words: the grammar lists them in `--help`,
/// completions and the MCP schema, and the command line refuses any other before a
/// handler runs. Write one with [`value_enum!`](crate::value_enum), which also writes
/// the type's `FromStr` and `Display` from the same list.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no list of possible values",
    label = "`in {Self}` takes the values of a type that lists them",
    note = "declare the type with `cnv::grammar::value_enum!`, or write the list in the grammar: `in [\"a\", \"b\"]`"
)]
pub trait PossibleValues {
    /// The words, in the order help lists them.
    const VALUES: &'static [Text];
}

/// Whether `values` holds `word` (for the compile-time check of a default).
#[doc(hidden)]
#[must_use]
pub const fn contains(values: &[Text], word: &str) -> bool {
    let mut i = 0;
    while i < values.len() {
        if let Text::Borrowed(value) = &values[i]
            && const_eq(value, word)
        {
            return true;
        }
        i += 1;
    }
    false
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// An enum whose variants are the words a user types, with its
/// [`PossibleValues`], `FromStr` (whose error lists the words) and `Display` written from
/// one list.
///
/// ```
/// cnv_grammar::value_enum! {
///     /// How to order notes.
///     #[derive(Clone, Copy, Debug, PartialEq, Eq)]
///     pub enum Sort {
///         /// By title.
///         Name = "name",
///         /// Largest first.
///         Size = "size",
///     }
/// }
///
/// use cnv_grammar::PossibleValues;
/// assert_eq!("size".parse::<Sort>(), Ok(Sort::Size));
/// assert_eq!(Sort::Name.to_string(), "name");
/// assert_eq!(Sort::VALUES.len(), 2);
/// let err = "date".parse::<Sort>().unwrap_err();
/// assert_eq!(err.to_string(), "`date` is not one of name, size");
/// ```
#[macro_export]
macro_rules! value_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::PossibleValues for $name {
            const VALUES: &'static [$crate::Text] = &[$( $crate::Text::Borrowed($word) ),+];
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::NotAPossibleValue;

            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                match text {
                    $( $word => ::core::result::Result::Ok(Self::$variant), )+
                    _ => ::core::result::Result::Err($crate::NotAPossibleValue::new(
                        text,
                        <Self as $crate::PossibleValues>::VALUES,
                    )),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(match self {
                    $( Self::$variant => $word, )+
                })
            }
        }
    };
}

/// A word that is not one of a [`value_enum!`](crate::value_enum)'s values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAPossibleValue {
    word: String,
    values: &'static [Text],
}

impl NotAPossibleValue {
    /// `word`, which is not one of `values`.
    #[must_use]
    pub fn new(word: &str, values: &'static [Text]) -> Self {
        Self {
            word: word.into(),
            values,
        }
    }
}

impl core::fmt::Display for NotAPossibleValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "`{}` is not one of ", self.word)?;
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(value)?;
        }
        Ok(())
    }
}

impl core::error::Error for NotAPossibleValue {}
