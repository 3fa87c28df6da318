//! The grammar of the `workbench` example, in its own file so that the example's tests
//! can compare what `--grammar` prints with the constant itself. Declared in item form, it
//! is the static `GRAMMAR` and, beside it, one module per noun with one struct per verb:
//! the verb's typed arguments (`file::Write`, `net::Send`, …), which the handlers take.

use std::net::SocketAddr;
use std::path::PathBuf;

use cnv::prelude::*;

grammar_dsl! {
    /// Every command of the workbench, one verb per capability class.
    pub(crate) static GRAMMAR = app "workbench" version "0.1.0" help "A workbench an agent can drive safely: files in the operator's workspace, the environment, the network, processes" {
        noun "calc" help "Arithmetic" {
            verb "sum" {
                capability: Pure,
                resource: Instant,
                help: "Add numbers",
                args: [numbers: Vec<f64> "The numbers to add"],
            }
        }
        noun "clock" help "Time" {
            verb "wait" {
                capability: Pure,
                resource: Slow,
                help: "Wait, then say how long it waited",
                long_help: "A slow verb (band `Slow`): an MCP client that sends a progress token hears from the call while it waits.",
                args: [--ms: u64 = 1500 range 0..=30000 "How long to wait, in milliseconds"],
            }
        }
        noun "file" help "Files in the workspace (set by the operator: CNV_WORKSPACE, default the current directory)" {
            verb "read" {
                capability: ReadOnlyFS,
                resource: Fast,
                help: "Print a file",
                args: [path: PathBuf "The file, relative to the workspace"],
            }
            verb "list" {
                capability: ReadOnlyFS,
                resource: Fast,
                help: "List a directory",
                args: [dir: Option<PathBuf> "The directory, relative to the workspace (default: the workspace)"],
            }
            verb "write" {
                capability: ReadWriteFS,
                resource: Fast,
                help: "Write text to a file",
                long_help: "Creates the file (and its parent directories) in the workspace, or replaces it; --append adds to its end instead.",
                args: [
                    path: PathBuf "The file, relative to the workspace",
                    --content: String "The text to write",
                    -a --append: bool "Append instead of replacing",
                ],
            }
        }
        noun "env" help "Environment variables" {
            verb "get" {
                capability: Environment,
                resource: Instant,
                help: "Print the value of an environment variable",
                args: [name: String "The variable's name"],
            }
        }
        noun "net" help "The network (loopback addresses only)" {
            verb "send" {
                capability: Network,
                resource: Medium,
                help: "Send a line to a loopback TCP address and print the reply",
                args: [
                    addr: SocketAddr "A loopback address, e.g. 127.0.0.1:7000",
                    --message: String = "ping" "The line to send",
                    --timeout-ms: u64 = 2000 "Give up after this many milliseconds",
                ],
            }
        }
        noun "proc" help "Processes" {
            verb "run" {
                capability: Subprocess,
                resource: Medium,
                help: "Run a program and print its output",
                args: [
                    program: String "The program to run",
                    args: Vec<String> "Its arguments (after `--` if they start with `-`)",
                ],
            }
        }
        noun "workspace" help "The workspace as a whole" {
            verb "wipe" {
                capability: Dangerous,
                resource: Slow,
                safety: InteractiveOnly,
                help: "Delete every file and directory in the workspace",
            }
        }
    }
}
