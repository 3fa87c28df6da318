// A handler bound with a class the grammar does not declare for the verb.
use cnv::prelude::*;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "notes" version "1.0.0" {
        noun "file" help "Files" {
            verb "write" { capability: ReadWriteFS, resource: Fast, help: "Write a file" }
        }
    }
};

fn write(_call: &Invocation<'_, Network>) -> Result<Output, HandlerError> {
    Ok(Output::none())
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind_verb(verb!(GRAMMAR, "file write", Network), write);
}
