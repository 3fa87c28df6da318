// A handler written for another class than the one it is bound with, on the dynamic path
// (`CliBuilder::handler`): cnv's message, not the compiler's advice about signatures.
use cnv::prelude::*;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "notes" version "1.0.0" {
        noun "file" help "Files" {
            verb "write" { capability: ReadWriteFS, resource: Fast, help: "Write a file" }
        }
    }
};

fn write(_call: &Invocation<'_, ReadOnlyFS>) -> Result<Output, HandlerError> {
    Ok(Output::none())
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).handler::<ReadWriteFS, _>("file write", write);
}
