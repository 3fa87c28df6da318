//! **Internal** to cnv: the parser, validator and expander behind `cnv::grammar_dsl!`.
//! Use the macro through the `cnv` crate; this crate's API follows the macro and has no
//! stability promise. It is a separate library (not the proc-macro crate itself) because a
//! `proc-macro` crate can export nothing but macros, and the stages below must be callable
//! by unit tests, a property test and the expansion benchmark.
//!
//! Tokens -> [`ast::Grammar`] ([`parse`]) -> [`validate::Model`] ([`validate`]) -> tokens
//! ([`mod@expand`]), all over `proc_macro2`. Every mistake is a [`syn::Error`] on the exact
//! token; all of them are reported together; after an error the expansion is still a
//! well-typed (empty) `GrammarModel`, so no follow-on error appears.
//!
//! ```
//! let tokens: proc_macro2::TokenStream = r#"
//!     app "myapp" version "1.0.0" {
//!         noun "file" help "File operations" {
//!             verb "read" { capability: Pure, resource: Fast, help: "Read" }
//!         }
//!     }
//! "#.parse().unwrap();
//! let (grammar, errors) = cnv_grammar_dsl::parse::parse(tokens);
//! assert!(errors.is_empty());
//! let model = cnv_grammar_dsl::validate::validate(&grammar.unwrap()).unwrap();
//! assert_eq!(model.nouns[0].verbs[0].class, "Pure");
//! assert_eq!(model.nouns[0].verbs[0].safety, None); // the class default, from cnv-caps
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod expand;
pub mod parse;
pub mod types;
pub mod validate;
pub mod vocab;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The whole macro: tokens in, tokens out. Mistakes become `compile_error!`s on their
/// tokens beside a placeholder model; this function never panics.
#[must_use]
pub fn expand(input: TokenStream) -> TokenStream {
    let (grammar, mut errors) = parse::parse(input);
    let Some(grammar) = grammar else {
        return expand::fallback(&expand::default_crate(), errors, &TokenStream::new());
    };
    let krate = grammar
        .krate
        .as_ref()
        .map_or_else(expand::default_crate, ToTokens::to_token_stream);
    let checks = expand::type_checks(&krate, &grammar.arg_types());
    match validate::validate(&grammar) {
        Ok(model) if errors.is_empty() => expand::model(&krate, &model, &checks),
        Ok(_) => expand::fallback(&krate, errors, &checks),
        Err(more) => {
            errors.extend(more);
            expand::fallback(&krate, errors, &checks)
        }
    }
}

/// Parses and validates without expanding: the checked model, or every error.
///
/// # Errors
///
/// Every mistake, parse errors first.
pub fn check(input: TokenStream) -> Result<validate::Model, Vec<syn::Error>> {
    let (grammar, mut errors) = parse::parse(input);
    let Some(grammar) = grammar else {
        return Err(errors);
    };
    match validate::validate(&grammar) {
        Ok(model) if errors.is_empty() => Ok(model),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests;
