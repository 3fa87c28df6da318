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
//! let parsed = cnv_grammar_dsl::parse::parse(tokens);
//! assert!(parsed.errors.is_empty());
//! let model = cnv_grammar_dsl::validate::validate(&parsed.grammar.unwrap()).unwrap();
//! assert_eq!(model.nouns[0].verbs[0].class, cnv_caps::CapabilityClass::Pure);
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
    let Analysis {
        krate,
        grammar,
        model,
    } = analyse(input);
    // The crate path is kept whatever else failed: the fallback names the same crate as
    // the expansion would have, so it adds no unresolved-path error of its own.
    let krate = krate.map_or_else(expand::default_crate, |path| path.to_token_stream());
    let checks = grammar
        .map(|grammar| expand::type_checks(&krate, &grammar.arg_types()))
        .unwrap_or_default();
    match model {
        Ok(model) => expand::model(&krate, &model, &checks),
        Err(errors) => expand::fallback(&krate, errors, &checks),
    }
}

/// Parses and validates without expanding: the checked model, or every error.
///
/// # Errors
///
/// Every mistake, parse errors first.
pub fn check(input: TokenStream) -> Result<validate::Model, Vec<syn::Error>> {
    analyse(input).model
}

/// What [`check`] and [`expand`] both need: the parse and the validation.
struct Analysis {
    krate: Option<syn::Path>,
    grammar: Option<ast::Grammar>,
    /// The model, or every error: parse errors first, then validation errors (a
    /// grammar that could be read is validated even after parse errors, so one compile
    /// shows every mistake).
    model: Result<validate::Model, Vec<syn::Error>>,
}

fn analyse(input: TokenStream) -> Analysis {
    let parse::Parsed {
        krate,
        grammar,
        mut errors,
    } = parse::parse(input);
    let model = match grammar.as_ref().map(validate::validate) {
        Some(Ok(model)) if errors.is_empty() => Ok(model),
        Some(Err(more)) => {
            errors.extend(more);
            Err(errors)
        }
        // The app could not be read (`parse` reported why), or parse errors with a
        // model that is otherwise sound.
        Some(Ok(_)) | None => Err(errors),
    };
    Analysis {
        krate,
        grammar,
        model,
    }
}

#[cfg(test)]
mod tests;
