// A misspelled capability class: the error is on the word, with the closest name.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: ReadOnlyFs, resource: Fast, help: "Read a file" }
            }
        }
    };
    assert_eq!(grammar.app_name(), "myapp");
}
