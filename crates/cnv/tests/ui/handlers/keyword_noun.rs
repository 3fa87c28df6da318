// A noun whose name cannot be a Rust module in the typed arguments of the item form.
use cnv::prelude::*;

grammar_dsl! {
    pub static GRAMMAR = app "shell" {
        noun "self" help "The shell itself" {
            verb "update" { capability: Pure, resource: Instant, help: "Update" }
        }
    }
}

fn main() {
    let _ = &GRAMMAR;
}
