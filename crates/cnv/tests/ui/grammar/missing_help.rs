// A verb without `help:`, and a noun without `help "…"`.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast }
            }
            noun "network" {
                verb "fetch" { capability: Network, resource: Slow, help: "Fetch from URL" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
