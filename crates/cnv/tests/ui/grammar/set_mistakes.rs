// A set of arguments is checked once where it is declared; where a verb uses it, only how
// its arguments sit beside the verb's.
use cnv::prelude::*;

fn main() {
    let _ = grammar_dsl! {
        app "notes" version "1.0.0" {
            sets: [
                folder: [--folder: String = "notes" env "CNV_FOLDER" "The folder of notes"],
                unused: [--all: bool "Every note"],
            ],
            noun "note" help "Notes" {
                verb "add" {
                    capability: ReadWriteFS, resource: Fast, help: "Add a note",
                    args: [--folder: String "Mine", ..folder],
                }
                verb "list" { capability: ReadOnlyFS, resource: Fast, help: "List the notes", args: [..folder] }
                verb "show" { capability: ReadOnlyFS, resource: Fast, help: "Show a note", args: [..fodler] }
            }
        }
    };
}
