// A verb without `resource:`.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, help: "Read a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
