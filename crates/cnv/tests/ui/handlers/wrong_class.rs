// A handler whose call names another class than the grammar declares for its verb.
use cnv::prelude::*;

grammar_dsl! {
    pub static GRAMMAR = app "notes" version "1.0.0" {
        noun "file" help "Files" {
            verb "write" {
                capability: ReadWriteFS, resource: Fast, help: "Write a file",
                args: [path: String "The file", --content: String "The text", -a --append: bool "Append"],
            }
            verb "read" { capability: ReadOnlyFS, resource: Fast, help: "Read a file", args: [path: String "The file"] }
        }
    }
}

fn write(_call: &Invocation<'_, ReadOnlyFS>, args: file::Write) -> Result<Output, HandlerError> {
    Ok(Output::text(args.content))
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind(write);
}
