// A handler that returns something else than `Result<Output, HandlerError>`.
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

fn read(args: file::Read) -> Result<String, HandlerError> {
    Ok(args.path)
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind(read);
}
