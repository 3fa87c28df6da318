// A handler written for `file read` (its call is ReadOnlyFS) that takes the arguments of
// `file write`: it is bound to the wrong verb.
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

fn read(_call: &Invocation<'_, ReadOnlyFS>, args: file::Write) -> Result<Output, HandlerError> {
    Ok(Output::text(args.path))
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind(read);
}
