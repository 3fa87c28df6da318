// A misspelled stability profile.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, stability: Stabel, help: "Read" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
