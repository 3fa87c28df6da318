// A handler that takes the arguments of a verb the grammar does not have.
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

fn write(args: file::Wirte) -> Result<Output, HandlerError> {
    Ok(Output::text(args.path))
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind(write);
}
