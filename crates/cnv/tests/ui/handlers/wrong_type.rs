// A handler that reads an argument as another type than the grammar declares.
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

fn write(_call: &Invocation<'_, ReadWriteFS>, args: file::Write) -> Result<Output, HandlerError> {
    let bytes: u32 = args.content;
    Ok(Output::text(bytes.to_string()))
}

fn read(args: file::Read) -> Result<Output, HandlerError> {
    Ok(Output::text(args.path))
}

fn main() {
    let _cli = Cli::builder(&GRAMMAR).bind(write).bind(read).build();
}
