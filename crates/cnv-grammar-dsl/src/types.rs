//! Argument types: `T` (one value), `Option<T>` (optional), `Vec<T>` (repeatable), the
//! value type `T` inside, its printed name, and the scalars whose defaults can be checked.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// How many values an argument takes, from the outer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `T`: one value.
    One,
    /// `Option<T>`: zero or one.
    Optional,
    /// `Vec<T>`: any number.
    Repeated,
}

/// The shape of `ty` and the type inside (`ty` itself for [`Shape::One`]), both without
/// the invisible groups and parentheses of [`peel`].
#[must_use]
pub fn shape(ty: &Type) -> (Shape, &Type) {
    let ty = peel(ty);
    for (wrapper, shape) in [("Option", Shape::Optional), ("Vec", Shape::Repeated)] {
        if let Some(inner) = single_argument(ty, wrapper) {
            return (shape, peel(inner));
        }
    }
    (Shape::One, ty)
}

/// The type inside invisible groups and parentheses. A type passed through
/// `macro_rules!` as `$t:ty` arrives wrapped in an invisible group (`Type::Group`), and
/// `(bool)` is `Type::Paren`; both mean the type inside, so `Option`, `Vec` and `bool`
/// keep their meaning.
#[must_use]
pub fn peel(mut ty: &Type) -> &Type {
    loop {
        ty = match ty {
            Type::Group(group) => &group.elem,
            Type::Paren(paren) => &paren.elem,
            _ => return ty,
        };
    }
}

/// The value type: what each command-line word parses into.
#[must_use]
pub fn value_type(ty: &Type) -> &Type {
    shape(ty).1
}

/// `inner` when `ty` is `wrapper<inner>` (by its last path segment).
fn single_argument<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    if segment.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// A type as Rust source, with spaces only where they are needed:
/// `std::path::PathBuf`, `Vec<String>`.
#[must_use]
pub fn type_name(ty: &Type) -> String {
    let mut out = String::new();
    print(ty.to_token_stream(), &mut out, &mut false);
    out
}

fn print(tokens: TokenStream, out: &mut String, after_word: &mut bool) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                if *after_word {
                    out.push(' ');
                }
                out.push_str(&ident.to_string());
                *after_word = true;
            }
            TokenTree::Literal(literal) => {
                if *after_word {
                    out.push(' ');
                }
                out.push_str(&literal.to_string());
                *after_word = true;
            }
            TokenTree::Punct(punct) => {
                out.push(punct.as_char());
                // `&'a T`: a lifetime's quote is followed by its name without a space.
                *after_word = false;
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                let mut inner = false;
                print(group.stream(), out, &mut inner);
                out.push_str(close);
                *after_word = false;
            }
        }
    }
}

/// A value type the DSL recognises by name, so it can check a default at compile time.
/// A copy of `cnv-grammar`'s table (`cnv_grammar::__private::Scalar`, which checks
/// models built at run time and chooses `cnv-cli`'s parsers): this crate may depend on
/// no runtime crate, so the `cnv` facade's test `grammar_tables.rs` checks the two
/// agree name for name and value for value.
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
    /// Any other type: its `FromStr` decides at run time.
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

    /// The scalar a type name stands for, by its last path segment.
    #[must_use]
    pub fn of(value_type: &str) -> Self {
        let name = value_type.rsplit("::").next().unwrap_or(value_type).trim();
        Self::NAMED
            .into_iter()
            .find(|scalar| scalar.name() == Some(name))
            .unwrap_or(Self::Text)
    }

    /// Whether `text` is a valid value of the type, as its `FromStr` decides.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).expect("a type")
    }

    #[test]
    fn shapes_come_from_the_outer_type() {
        assert_eq!(shape(&ty("u64")).0, Shape::One);
        let optional = ty("Option<std::path::PathBuf>");
        assert_eq!(shape(&optional).0, Shape::Optional);
        assert_eq!(type_name(value_type(&optional)), "std::path::PathBuf");
        assert_eq!(shape(&ty("std::vec::Vec<String>")).0, Shape::Repeated);
        assert_eq!(shape(&ty("Vec<u8, A>")).0, Shape::One);
    }

    #[test]
    fn invisible_groups_and_parentheses_are_looked_through() {
        // What `macro_rules!` hands on for `$t:ty`: the type in an invisible group.
        let grouped = |text: &str| -> Type {
            let inner: TokenStream = text.parse().expect("tokens");
            let group = proc_macro2::Group::new(Delimiter::None, inner);
            syn::parse2(TokenTree::Group(group).into()).expect("a type")
        };
        let optional = grouped("Option<u8>");
        assert!(matches!(optional, Type::Group(_)));
        assert_eq!(shape(&optional).0, Shape::Optional);
        assert_eq!(type_name(value_type(&optional)), "u8");
        assert_eq!(shape(&grouped("Vec<String>")).0, Shape::Repeated);
        let switch = grouped("bool");
        assert_eq!(Scalar::of(&type_name(value_type(&switch))), Scalar::Bool);
        let paren = ty("(bool)");
        assert!(matches!(paren, Type::Paren(_)));
        assert_eq!(type_name(value_type(&paren)), "bool");
        let inner_paren = ty("Option<(u8)>");
        assert_eq!(shape(&inner_paren).0, Shape::Optional);
        assert_eq!(type_name(value_type(&inner_paren)), "u8");
        assert_eq!(shape(&ty("((Vec<u8>))")).0, Shape::Repeated);
        // A tuple is not a parenthesized type.
        assert_eq!(type_name(value_type(&ty("(u8,)"))), "(u8,)");
    }

    #[test]
    fn type_names_are_compact() {
        assert_eq!(type_name(&ty("Vec < String >")), "Vec<String>");
        assert_eq!(type_name(&ty("& 'static str")), "&'static str");
        assert_eq!(type_name(&ty("[u8 ; 4]")), "[u8;4]");
        assert_eq!(type_name(&ty("dyn Send")), "dyn Send");
    }
}
