// `help` is no noun or verb name: clap gives the app and every noun a `help` subcommand.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "help" help "Help topics" {
                verb "show" { capability: Pure, resource: Fast, help: "Show a topic" }
            }
            noun "docs" help "Documentation" {
                verb "help" { capability: Pure, resource: Fast, help: "Show the docs" }
            }
        }
    };
    let _ = grammar.verbs().count();
}
