// Two nouns with one name: the second is the error.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read a file" }
            }
            noun "file" help "More file operations" {
                verb "write" { capability: ReadWriteFS, resource: Medium, help: "Write to a file" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
