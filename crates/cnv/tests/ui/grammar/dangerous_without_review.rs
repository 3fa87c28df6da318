// A `Dangerous` verb must say who reviews it.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "disk" help "Disk operations" {
                verb "wipe" { capability: Dangerous, resource: Cold, help: "Erase a disk" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
