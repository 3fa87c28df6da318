//! The `grammar_dsl!` macro of [cnv](https://docs.rs/cnv). Use it through the `cnv`
//! crate (`use cnv::prelude::*;`), which documents the syntax; the generated code names
//! `::cnv::grammar` unless the grammar starts with `crate = path;` (the path of the
//! `cnv-grammar` crate, for programs that use the split crates).
//!
//! This crate only converts tokens: parsing, validation and expansion live in the
//! internal `cnv-grammar-dsl` crate, where tests and benches can call them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

/// Declares a noun-verb command grammar with a capability contract on every verb, checked
/// at compile time, as a constant `GrammarModel`. See `cnv::grammar_dsl!` for the syntax.
#[proc_macro]
pub fn grammar_dsl(input: TokenStream) -> TokenStream {
    cnv_grammar_dsl::expand(input.into()).into()
}
