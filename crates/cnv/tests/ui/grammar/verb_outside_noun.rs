// A verb belongs to a noun.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            verb "read" { capability: Pure, resource: Fast, help: "Read a file" }
            noun "file" help "File operations" {
                verb "stat" { capability: Pure, resource: Instant, help: "Describe a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
