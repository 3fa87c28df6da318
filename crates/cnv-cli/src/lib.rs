//! A [cnv] grammar as a real command line.
//!
//! A developer declares the grammar once (`grammar_dsl!`), binds one handler per verb
//! with the verb's capability class, and ships a program that a person uses like any
//! other command line and that an autonomous agent can call without being able to reach
//! what it must not.
//!
//! * **Parsing is clap's**: the grammar becomes a [`clap::Command`] (nouns and verbs as
//!   subcommands, arguments with their types, help, long help, deprecation notes,
//!   version); `--help`, usage errors and shell completions are clap's.
//! * **Handlers are bound by capability**: [`CliBuilder::bind`] with [`verb!`] checks at
//!   compile time that the grammar declares the verb with the handler's class;
//!   [`CliBuilder::build`] checks every binding again and refuses a verb without a
//!   handler. A handler receives an [`Invocation`]: a type-state session that holds its
//!   class, and typed arguments.
//! * **The gate**: in agent mode (`--agent`, or the environment variable `CNV_AGENT=1`)
//!   a verb that is not `AgentSafe` runs only with a `--justify` text that the escalation
//!   policy accepts, `InteractiveOnly` verbs and `Dangerous` ones never run, and every
//!   decision is audited (`--audit-log FILE` appends hash-chained JSON Lines). Outside
//!   agent mode, `HumanReviewRequired` verbs ask for confirmation on a terminal (`--yes`
//!   confirms in scripts) and `Dangerous` ones need a justification and an approval typed
//!   at the terminal.
//! * **Introspection**: `--grammar` (the grammar as JSON), `--mcp-tools` (the MCP tool
//!   manifest), `--capabilities` (a table of every verb's capability), `--completions
//!   SHELL`.
//! * **Output**: text for people; with `--format json`, every result and every error is
//!   one JSON object on standard output.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | the command ran (or help, version, introspection) |
//! | 1 | the command's handler failed |
//! | 2 | usage error (clap's; or an argument value the handler could not parse) |
//! | 3 | denied by the capability gate: nothing ran |
//! | 4 | a human's confirmation was required and not given: nothing ran |
//!
//! # Example
//!
//! ```
//! use cnv_caps::{CapabilityContract, Network, Pure};
//! use cnv_cli::{CliBuilder, Console, Exit, Invocation, Output};
//! use cnv_grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};
//!
//! // Usually `static GRAMMAR: GrammarModel = grammar_dsl! { … };`
//! let grammar = GrammarModel::new("tool").with_noun(
//!     GrammarNoun::new("net", "Network")
//!         .with_verb(GrammarVerb::new("ping", "Reply pong", CapabilityContract::pure()))
//!         .with_verb(
//!             GrammarVerb::new("fetch", "Fetch a URL", CapabilityContract::network())
//!                 .with_arg(GrammarArgument::positional("url", "String", "The URL")),
//!         ),
//! );
//! let cli = CliBuilder::from_model(grammar)
//!     .handler::<Pure, _>("net ping", |_call| Ok(Output::text("pong")))
//!     .handler::<Network, _>("net fetch", |call: &Invocation<'_, Network>| {
//!         let url: String = call.value("url")?;
//!         Ok(Output::text(format!("would fetch {url}")))
//!     })
//!     .build()?;
//!
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let mut console = Console::new(&mut out, &mut err);
//! // An agent without a justification is refused, and nothing runs.
//! let exit = cli.run_in(["tool", "--agent", "net", "fetch", "http://127.0.0.1/"], &mut console);
//! assert_eq!(exit, Exit::Denied);
//! // With one the policy accepts, it runs.
//! let exit = cli.run_in(
//!     ["tool", "--agent", "net", "fetch", "http://127.0.0.1/",
//!      "--justify", "download the release index for the update check"],
//!     &mut console,
//! );
//! assert_eq!(exit, Exit::Success);
//! drop(console);
//! assert_eq!(String::from_utf8(out)?, "would fetch http://127.0.0.1/\n");
//! assert!(String::from_utf8(err)?.contains("rule `min_justification`"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod binding;
mod builder;
mod cli;
mod command;
mod console;
mod gate;
mod introspect;
mod invocation;
mod output;
mod report;
mod typed;

pub use binding::VerbBinding;
pub use builder::{
    AUDIT_LOG_ENV, AgentMode, BuildError, BuildErrors, CliBuilder, DEFAULT_AGENT_ENV,
};
pub use cli::Cli;
pub use console::Console;
pub use introspect::CapabilityRow;
pub use invocation::Invocation;
pub use output::{ArgError, Exit, HandlerError, Output};
pub use typed::{
    ArgValue, ArgsOnly, Handler, NamedArgsHandler, OfClass, Returned, SameClass, VerbArgs, WithCall,
};

/// What the code `verb!` generates names. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::binding::assert_bound;
    pub use crate::typed::generated::*;
    pub use clap::{ArgMatches, Command};
    pub use cnv_caps as caps;
    pub use cnv_caps::ConstRisk;
    pub use cnv_grammar::GrammarModel;
}
