// A safety profile that does not exist.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "write" {
                    capability: ReadWriteFS,
                    resource: Medium,
                    safety: HumanReview,
                    help: "Write to a file",
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
