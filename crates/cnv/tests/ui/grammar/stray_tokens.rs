// Tokens the grammar has no place for: a comma between verbs, and text after the app.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read a file" },
                verb "stat" { capability: Pure, resource: Instant, help: "Describe a file" }
            }
        }
        extra
    };
    let _ = grammar.verbs().count();
}
