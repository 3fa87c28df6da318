// An argument read from one of the operator's variables: refused, so no argument of the
// program can be set through `CNV_WORKSPACE`, `CNV_AGENT` or the like.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "notes" version "1.0.0" {
            noun "note" help "Notes" {
                verb "list" {
                    capability: ReadOnlyFS, resource: Fast, help: "List notes",
                    args: [--folder: String = "notes" env "CNV_WORKSPACE" "Where"],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
