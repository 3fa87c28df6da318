// Capability names are words, not strings; and a path is not needed.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: "Pure", resource: Fast, help: "Read a file" }
                verb "stat" { capability: CapabilityClass::Pure, resource: Instant, help: "Describe" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
