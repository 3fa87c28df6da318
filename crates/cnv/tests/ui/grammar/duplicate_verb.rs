// Two verbs with one name in a noun.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read a file" }
                verb "read" { capability: ReadOnlyFS, resource: Fast, help: "Read it again" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
