// Possible values checked at compile time: a default that is not among them (every call
// that leaves the argument out would be refused), a value its type cannot parse, and a
// list on a switch.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "notes" version "1.0.0" {
            noun "note" help "Notes" {
                verb "list" {
                    capability: ReadOnlyFS, resource: Fast, help: "List notes",
                    args: [
                        --sort: String = "nmae" in ["name", "date"] "Order",
                        --limit: u8 = 10 in [10, 1000] "How many",
                        --all: bool in [true] "Every note",
                    ],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
