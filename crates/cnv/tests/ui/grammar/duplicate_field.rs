// The same field twice in one verb.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" {
                    capability: Pure,
                    resource: Fast,
                    help: "Read a file",
                    resource: Medium,
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
