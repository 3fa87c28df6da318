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
//! * **Handlers are bound by capability**: a grammar in item form generates each verb's
//!   arguments struct, and [`CliBuilder::bind`] takes a handler of it alone (the struct
//!   names the verb and its class; the compiler checks the class, every argument's name
//!   and type). A grammar in expression form binds with [`CliBuilder::bind_verb`] and
//!   [`verb!`], one built at run time with [`CliBuilder::handler`]; those handlers read
//!   arguments by name. With typed handlers only, `build` is there only once every verb
//!   has one (a missing `.bind` is a compile error naming the verb); otherwise
//!   [`CliBuilder::build`] checks every binding when the command line is built, and a
//!   verb left without a handler fails when called (`--help` still works). A handler
//!   receives an [`Invocation`]: a type-state session that holds its class and, for a file
//!   class, the workspace handle.
//! * **The gate**: in agent mode (`--agent`, or the environment variable `CNV_AGENT=1`)
//!   a verb that is not `AgentSafe` runs only with a `--justify` text that the escalation
//!   policy accepts, `InteractiveOnly` verbs and `Dangerous` ones never run, and every
//!   decision is audited to the operator's log. Outside agent mode,
//!   `HumanReviewRequired` verbs ask for confirmation on a terminal (`--yes` confirms in
//!   scripts) and `Dangerous` ones need a justification and an approval typed at the
//!   terminal. Each of the gate's flags may be given once, before the noun or after the
//!   verb; given twice it is a usage error, never a silent override.
//! * **The sandbox** (`cnv-sandbox`): every handler runs on a thread of its own, which
//!   the kernel (Landlock, seccomp) restricts to what its class grants before the handler
//!   starts, and which is stopped at the end of its resource band's time (exit 5). The
//!   file classes reach the workspace only through the handle their call gives them.
//! * **Introspection**: `--grammar` (the grammar as JSON), `--mcp-tools` (the MCP tool
//!   manifest), `--capabilities` (a table of every verb's capability and what the kernel
//!   enforces of it), `--completions SHELL`.
//! * **Output**: text for people; with `--format json`, every result and every error is
//!   one JSON object on standard output.
//! * **Serving**: `--mcp-serve` and `--mcp-serve-http ADDR` serve every verb to agents,
//!   each call through [`Cli::call`] (the same gate in agent mode, sandbox and audit
//!   trail; in human mode when the operator lets a person at the agent's client answer,
//!   a [`Supervisor`]). The server is the command line's type parameter ([`Serve`]): the facade
//!   `cnv` serves MCP with `cnv-mcp`; with `cnv-cli` alone the flags are refused.
//! * **Traces and metrics** (feature `otel`): every call one OpenTelemetry trace — the
//!   call, the gate's decision, the sandbox, the handler, the audit entries — continuing
//!   its caller's trace, and counters of calls and refusals, exported over OTLP/HTTP when
//!   the operator sets `OTEL_EXPORTER_OTLP_ENDPOINT` (see [`telemetry`]).
//!
//! # Who sets what
//!
//! The **operator** (the program's author, or the launcher that starts it for an agent)
//! sets authority: the workspace ([`CliBuilder::workspace`], or `CNV_WORKSPACE`; default
//! the current directory), the audit log ([`CliBuilder::audit_log`], or `CNV_AUDIT_LOG`),
//! agent mode ([`AgentMode::Always`], or `CNV_AGENT`), the policy and a strict sandbox
//! ([`CliBuilder::sandbox`], or `CNV_SANDBOX=strict`). The **agent** sets only what it
//! asks for: a verb, its arguments, a justification. No argument can widen, move or switch
//! off what the operator set. The **kernel** holds the line: the workspace and the audit
//! log are opened before a handler's thread is restricted, so the handler cannot reach the
//! log by path, and a writing verb whose workspace holds the log does not run.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | the command ran (or help, version, introspection) |
//! | 1 | the command's handler failed |
//! | 2 | usage error (clap's: a malformed command line, or a value its type refuses) |
//! | 3 | denied by the capability gate: nothing ran |
//! | 4 | a human's confirmation was required and not given: nothing ran |
//! | 5 | the command ran past its resource band's time and was stopped |
//!
//! # Example
//!
//! ```
//! use cnv_caps::{CapabilityContract, Network, Pure};
//! use cnv_cli::{Cli, CliBuilder, Console, Exit, Invocation, Output};
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
//! // With `cnv-cli` alone the command line serves nothing (`Cli` is `Cli<NoServer>`).
//! let cli: Cli = CliBuilder::from_model(grammar)
//!     .handler::<Pure, _>("net ping", |_call| Ok(Output::text("pong")))
//!     .handler::<Network, _>("net fetch", |call: &Invocation<'_, Network>| {
//!         let url: String = call.value("url")?;
//!         Ok(Output::text(format!("would fetch {url}")))
//!     })
//!     .build()?;
//!
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let mut console = Console::for_tests(&mut out, &mut err);
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

mod audit;
mod binding;
mod builder;
mod call;
mod cancel;
mod cli;
mod command;
mod console;
mod dispatch;
mod execute;
mod gate;
mod introspect;
mod invocation;
mod outcome;
mod output;
mod protocol;
mod report;
mod run;
mod serve;
mod settings;
pub mod telemetry;
mod typed;
mod worker;

pub use binding::VerbBinding;
pub use builder::{BuildError, BuildErrors, CliBuilder};
pub use call::AgentCall;
pub use cancel::CancelToken;
pub use cli::{Cli, NoServer};
pub use cnv_audit::{CallOrigin, McpTransport};
pub use cnv_sandbox::worker::Budgets;
pub use cnv_sandbox::{ReadOnlyDir, Strictness};
/// What a [`Supervisor`] is asked and answers: the approval request it shows, and why no
/// approval came.
pub use cnv_typestate::{ApprovalChannel, ApprovalError, ApprovalRequest, HumanApproval};
pub use console::{Console, Supervisor, switch_is_on};
pub use introspect::CapabilityRow;
pub use invocation::Invocation;
pub use outcome::{CallOutcome, CancelPoint, Refusal};
pub use output::{ArgError, Exit, HandlerError, Output};
pub use serve::{Serve, ServeRequest};
pub use settings::{
    AUDIT_KEY_ENV, AUDIT_LOG_ENV, AUDIT_WITNESS_ENV, AgentMode, BUDGET_ENV, DEFAULT_AGENT_ENV,
    RECORD_ARGUMENTS_ENV, SANDBOX_ENV, WORKSPACE_ENV,
};
pub use telemetry::TraceContext;
pub use typed::{
    ArgValue, ArgsOnly, BindStep, Bound, Buildable, CheckedAtBuild, Handler, NamedArgsHandler,
    NothingBound, OfClass, Returned, SameClass, Unbound, VerbArgs, WithCall,
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
