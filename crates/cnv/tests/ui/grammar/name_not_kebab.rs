// Names must be lowercase kebab-case words: the app, a noun, a verb and an argument.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "MyApp" version "1.0.0" {
            noun "file ops" help "File operations" {
                verb "readFile" {
                    capability: Pure,
                    resource: Fast,
                    help: "Read a file",
                    args: [--dry_run: bool "Only say what would be read"],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
