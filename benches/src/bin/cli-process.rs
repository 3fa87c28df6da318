//! A small command line made with cnv, for the `cli/process` bench: the whole call from
//! the process's start to its exit, its handler in a worker process (as every program
//! made with cnv runs it) or, with `BENCH_BARE=1` in its environment, in the command
//! line's own process without the sandbox (`CliBuilder::without_sandbox`), the peer.
//!
//! `cli-process calc sum 1 2 3` (`Pure`, `Instant`) and `cli-process file read NAME`
//! (`ReadOnlyFS`, `Fast`, in the workspace `CNV_WORKSPACE` names).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use cnv::prelude::*;

grammar_dsl! {
    static GRAMMAR = app "cli-process" version "1.0.0" help "The cli/process bench's command line" {
        noun "calc" help "Arithmetic" {
            verb "sum" {
                capability: Pure, resource: Instant, help: "Adds numbers",
                args: [numbers: Vec<f64> "The numbers"],
            }
        }
        noun "file" help "Files in the workspace" {
            verb "read" {
                capability: ReadOnlyFS, resource: Fast, help: "Prints a file",
                args: [path: std::path::PathBuf "The file"],
            }
        }
    }
}

fn sum(args: calc::Sum) -> Result<Output, HandlerError> {
    Ok(Output::text(args.numbers.iter().sum::<f64>().to_string()))
}

fn read(call: &Invocation<'_, ReadOnlyFS>, args: file::Read) -> Result<Output, HandlerError> {
    Ok(Output::text(call.workspace()?.read_to_string(&args.path)?))
}

fn main() -> ExitCode {
    let mut builder = Cli::builder(&GRAMMAR).bind(sum).bind(read);
    if std::env::var_os("BENCH_BARE").is_some() {
        builder = builder.without_sandbox();
    }
    match builder.build() {
        Ok(cli) => cli.run(),
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}
