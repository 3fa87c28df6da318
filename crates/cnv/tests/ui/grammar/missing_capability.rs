// A verb without `capability:`: the error is on the verb's name.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { resource: Fast, help: "Read a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
