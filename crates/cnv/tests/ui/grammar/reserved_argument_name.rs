// An argument may not be named like one of cnv's global flags: every command line made
// from the grammar has `--format`, `--agent`, `--help`, ….
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "report" help "Reports" {
                verb "show" {
                    capability: ReadOnlyFS,
                    resource: Fast,
                    help: "Show a report",
                    args: [name: String "The report", --format: String = "pdf" "The file format"],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
