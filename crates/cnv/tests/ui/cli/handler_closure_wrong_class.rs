// A closure whose parameter names another class than the binding's.
use cnv::prelude::*;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "notes" version "1.0.0" {
        noun "file" help "Files" {
            verb "write" { capability: ReadWriteFS, resource: Fast, help: "Write a file" }
        }
    }
};

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind_verb(
        verb!(GRAMMAR, "file write", ReadWriteFS),
        |call: &Invocation<'_, ReadOnlyFS>| Ok(Output::text(call.command())),
    );
}
