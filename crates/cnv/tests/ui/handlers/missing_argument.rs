// A test that calls a handler directly with arguments the grammar requires left out.
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

fn read(args: file::Read) -> Result<Output, HandlerError> {
    Ok(Output::text(args.path))
}

fn main() {
    let _ = read(file::Read {});
    let _ = file::Write { path: "notes.txt".to_owned(), append: false };
}
