// Rust lexes `"text"sfx` as one string literal with a suffix: the grammar refuses it
// rather than drop it silently.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read a file"sfx }
            }
        }
    };
    let _ = grammar.verbs().count();
}
