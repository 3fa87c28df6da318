// Five mistakes, five errors: none of them is reported again as something missing
// (a misspelled `help`, a `help` that is not a string, a verb's help outside its braces,
// semicolons between fields, a noun without braces before its verbs).
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" halp "File operations" {
                verb "read" help "Read a file" { capability: Pure, resource: Fast }
                verb "stat" { capability: Pure; resource: Fast; help: "Show metadata" }
            }
            noun "dir" help Directories {
                verb "list" { capability: ReadOnlyFS, resource: Fast, help: "List a directory" }
            }
            noun "net" help "Network operations"
                verb "fetch" { capability: Network, resource: Slow, help: "Fetch from URL" }
        }
    };
    let _ = grammar.verbs().count();
}
