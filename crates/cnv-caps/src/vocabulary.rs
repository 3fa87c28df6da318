//! `vocabulary!`: one declaration per run-time enum yields the enum, its canonical
//! names, `Display`, `FromStr` and (with the `serde` feature) serde support, so the
//! spelling of each name is written exactly once.

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident, kind = $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order (which is also the `Ord` order).
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The canonical name of every value, in the order of [`Self::ALL`].
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant)),+];

            /// How many values there are: the length of a table indexed by
            /// [`index`](Self::index).
            pub const COUNT: usize = Self::ALL.len();

            /// The position of the value in [`Self::ALL`], `0..COUNT`: the index of a table
            /// sized [`Self::COUNT`], so a table of one entry per value grows with the enum.
            #[must_use]
            pub const fn index(self) -> usize {
                self as usize
            }

            /// The canonical name, spelled as in the grammar DSL and in JSON.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant)),+
                }
            }
        }

        // `index` is the position in `ALL`: the declaration order is both.
        const _: () = {
            let mut i = 0;
            while i < $name::COUNT {
                assert!($name::ALL[i].index() == i);
                i += 1;
            }
        };

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.pad(self.name())
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::ParseError;

            /// Parses a canonical name (`"ReadOnlyFS"`). Case, `-`, `_` and spaces are
            /// ignored, so `"read-only-fs"` parses too; anything else is a
            /// [`ParseError`]($crate::ParseError) that lists the valid names.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match $crate::error::lookup(s, Self::NAMES) {
                    Some(index) => Ok(Self::ALL[index]),
                    None => Err($crate::ParseError::new($kind, s, Self::NAMES)),
                }
            }
        }
    };
}
