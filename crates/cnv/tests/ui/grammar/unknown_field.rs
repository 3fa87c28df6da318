// A field the DSL does not know: the error names the close one and lists them all.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, halp: "Read a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
