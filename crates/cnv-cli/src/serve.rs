//! Serving a command line's verbs to agents: the operator's root flags `--mcp-serve` and
//! `--mcp-serve-http ADDR`, and the [`Serve`] trait of the server behind them.
//!
//! `cnv-cli` parses the flags and decides whether serving may start (never from an
//! agent's command line: see [`Cli::run_in`](crate::Cli::run_in)); the server itself is a
//! type parameter of [`Cli`], so that this crate depends on no protocol stack. The facade
//! `cnv` makes its `Cli` serve MCP with `cnv-mcp`; a command line made with `cnv-cli`
//! alone has [`NoServer`], which refuses the flags.

use std::net::SocketAddr;

use clap::ArgMatches;

use crate::cli::{Cli, NoServer};
use crate::command::global;
use crate::console::Console;
use crate::output::Exit;

/// What the serve flags asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeRequest {
    /// `--mcp-serve`: one MCP session over the process's standard input and output.
    Stdio,
    /// `--mcp-serve-http ADDR`: MCP over streamable HTTP at `http://ADDR/mcp`.
    Http(SocketAddr),
}

impl ServeRequest {
    /// The flag that asked for it, as typed (`--mcp-serve`).
    #[must_use]
    pub fn flag(&self) -> &'static str {
        match self {
            Self::Stdio => "--mcp-serve",
            Self::Http(_) => "--mcp-serve-http",
        }
    }

    /// What the serve flags of `root` (the root command's matches) ask for, if anything.
    pub(crate) fn of(root: &ArgMatches) -> Option<Self> {
        if root.get_flag(global::MCP_SERVE) {
            return Some(Self::Stdio);
        }
        root.get_one::<SocketAddr>(global::MCP_SERVE_HTTP)
            .copied()
            .map(Self::Http)
    }
}

/// A server of a command line's verbs: what `--mcp-serve` and `--mcp-serve-http ADDR`
/// run. It is the type parameter of [`Cli`] and [`CliBuilder`](crate::CliBuilder), made
/// with [`Default`] when the builder is, and holds the operator's settings for serving
/// (the builder reaches them with
/// [`CliBuilder::configure_server`](crate::CliBuilder::configure_server)).
///
/// Every call it serves is an agent's call: it goes through [`Cli::call`], so through the
/// same gate, sandbox and audit trail as `--agent` on the command line. The facade `cnv`
/// uses `cnv_mcp::Mcp`.
pub trait Serve: Default + Send + Sync + Sized + 'static {
    /// The help of `--mcp-serve-http` in `--help`.
    const HTTP_HELP: &'static str = "Serve every command as an MCP tool over streamable HTTP at \
         http://ADDR/mcp, in agent mode (IP:PORT)";

    /// Serves the verbs of `cli` as `request` asks, until the connection ends or the
    /// server is stopped, and returns the exit status of the process. What the operator
    /// should know (the address listened on, why serving failed) goes to `console`'s
    /// standard error; standard output may be the protocol's.
    fn serve(cli: &Cli<Self>, request: ServeRequest, console: &mut Console<'_>) -> Exit;
}

impl Serve for NoServer {
    fn serve(cli: &Cli<Self>, request: ServeRequest, console: &mut Console<'_>) -> Exit {
        let _ = writeln!(
            console.stderr,
            "error: {} serves every command as an MCP tool, and `{}` was built without a server; build it with the facade crate `cnv` (feature `mcp`, on by default)",
            request.flag(),
            cli.model().app_name()
        );
        Exit::Usage
    }
}
