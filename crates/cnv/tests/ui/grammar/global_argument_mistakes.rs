// Global arguments are named and optional, and no verb may reuse their names or short
// flags.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "notes" version "1.0.0" {
            args: [-v --verbose: bool "Say more", profile: String "A positional global"],
            noun "note" help "Notes" {
                verb "list" {
                    capability: ReadOnlyFS, resource: Fast, help: "List notes",
                    args: [--verbose: u8 = 1 "Level", -v --version-of: String = "1" "Which"],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
