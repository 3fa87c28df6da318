// A missing comma between fields is reported once, and the fields after it still count
// (so `help` is not reported missing).
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure resource: Fast, help: "Read a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
