//! Argument types: `T` (one value), `Option<T>` (optional), `Vec<T>` (repeatable), the
//! value type `T` inside, and its printed name. Which value types are known by name (and
//! so have their defaults checked) is `cnv_grammar::rules::Scalar`'s table.

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
        assert_eq!(type_name(value_type(&switch)), "bool");
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
