// A misspelled resource band.
use cnv::prelude::*;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "myapp" version "1.0.0" {
        noun "file" help "File operations" {
            verb "read" { capability: Pure, resource: Fats, help: "Read a file" }
        }
    }
};

fn main() {
    assert_eq!(GRAMMAR.nouns().len(), 1);
}
