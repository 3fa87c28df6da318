//! **cnv** makes noun-verb command grammars safe for autonomous agents.
//!
//! A developer declares `file read`, `file write`, `network fetch` once, each verb with a
//! [capability contract](CapabilityContract): what it may touch, how long it may run,
//! and whether an agent may call it unsupervised. cnv turns that declaration into checks
//! the compiler enforces.
//!
//! This facade re-exports the workspace's crates; most programs only need
//! `use cnv::prelude::*;`.
//!
//! A command line is made of: [`grammar_dsl!`], which declares the grammar (and, in item
//! form, one arguments struct per verb, [`VerbArgs`]); [`Cli::builder`], whose
//! [`CliBuilder`] binds one handler per verb and takes the operator's settings; handlers,
//! which receive an [`Invocation`] (the call: its session, its workspace) and return an
//! [`Output`] (text, and JSON data with [`Output::with_data`]) or a [`HandlerError`];
//! [`Cli::run`], which runs the command line in the process and returns its exit code
//! (one per [`Exit`]); and, in tests, [`Cli::run_in`] with a [`Console`] made for them.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`caps`] | `cnv-caps` | capability classes, resource bands, contracts, const checks |
//! | [`typestate`] | `cnv-typestate` | type-state sessions, the escalation policy |
//! | [`audit`] | `cnv-audit` | the audit trail: entries, sinks, the operator's signed log, its reader |
//! | [`registry`] | `cnv-registry` (feature `registry`) | sessions, the sharded session registry, the MPMC frame queue |
//! | [`grammar`], [`grammar_dsl!`] | `cnv-grammar`, `cnv-grammar-macros` | the grammar model, its compile-time DSL, JSON and MCP export |
//! | [`cli`], [`verb!`] | `cnv-cli` | the grammar as a command line: clap, handlers bound by capability, the agent-mode gate |
//! | [`mcp`] | `cnv-mcp` (feature `mcp`) | the MCP server behind `--mcp-serve` and `--mcp-serve-http` |
//! | [`sandbox`] | `cnv-sandbox` | the kernel's side: scoped workspace handles, Landlock and seccomp per class, deadlines |
//!
//! ```
//! use cnv::prelude::*;
//!
//! // Only agent-safe commands may be run autonomously; the compiler checks it.
//! fn autonomous_execute<Cap: AgentSafeCapability, R: ConstResourceBand>(
//!     cmd: ValidatedCommand<Cap, R>,
//! ) -> &'static str {
//!     cmd.name()
//! }
//!
//! assert_eq!(autonomous_execute(ValidatedCommand::<ReadOnlyFS, Fast>::new("cat")), "cat");
//! const _: () = assert_risk_below::<ReadOnlyFS>(5);
//! ```

#![forbid(unsafe_code)]
// On docs.rs (nightly, `--cfg docsrs`): each item gated by a feature says which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

/// The capability vocabulary (the `cnv-caps` crate): classes, bands, contracts and their
/// compile-time checks.
#[doc(inline)]
pub use cnv_caps as caps;

/// Type-state capability sessions (the `cnv-typestate` crate): escalations the compiler
/// checks, and a justification policy.
#[doc(inline)]
pub use cnv_typestate as typestate;

/// The audit trail (the `cnv-audit` crate): every decision and every call as an entry,
/// the sinks entries go to, the operator's hash-chained and signed log, and its reader.
#[doc(inline)]
pub use cnv_audit as audit;

/// Sessions at scale (the `cnv-registry` crate, feature `registry`, on by default):
/// session handles, the sharded session registry and the bounded MPMC frame queue.
#[cfg(feature = "registry")]
#[doc(inline)]
pub use cnv_registry as registry;

/// The grammar model (the `cnv-grammar` crate): nouns, verbs, arguments and contracts,
/// validation, JSON and the MCP tool list.
#[doc(inline)]
pub use cnv_grammar as grammar;

#[doc = include_str!("grammar_dsl.md")]
pub use cnv_grammar_macros::grammar_dsl;

#[doc(inline)]
pub use cnv_grammar::{ArgumentKind, GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};

/// The grammar as a command line (the `cnv-cli` crate): clap parsing, handlers bound by
/// capability, the agent-mode gate, audit and JSON output.
#[doc(inline)]
pub use cnv_cli as cli;

/// Enforcement of a capability class at run time (the `cnv-sandbox` crate): the scoped
/// workspace handles handlers receive, the Landlock and seccomp rules of each class, and
/// resource-band deadlines. A command line uses it for every call; `cap_std` (re-exported
/// there) is the handle's API.
#[doc(inline)]
pub use cnv_sandbox as sandbox;

/// Traces and metrics of every call, exported with OpenTelemetry's OTLP over HTTP when
/// the operator sets `OTEL_EXPORTER_OTLP_ENDPOINT` (feature `otel`, on by default; without
/// it the same functions do nothing): the spans, their attributes, what is never recorded.
pub use cnv_cli::telemetry;

/// The MCP server (the `cnv-mcp` crate, feature `mcp`, on by default): what
/// `--mcp-serve` and `--mcp-serve-http ADDR` run, and serving from code.
#[cfg(feature = "mcp")]
#[doc(inline)]
pub use cnv_mcp as mcp;

pub use cnv_cli::verb;

#[doc(inline)]
pub use cnv_cli::{
    AgentMode, ArgError, Console, Exit, HandlerError, Invocation, Output, VerbArgs, VerbBinding,
};

/// A command line made from a grammar and its handlers (see [`cli::Cli`]), whose serve
/// flags run the MCP server of [`mcp`] (with feature `mcp`, on by default; without it,
/// they are refused).
#[cfg(feature = "mcp")]
pub type Cli = cnv_cli::Cli<cnv_mcp::Mcp>;

/// A command line made from a grammar and its handlers (see [`cli::Cli`]); built without
/// feature `mcp`, its serve flags are refused.
#[cfg(not(feature = "mcp"))]
pub type Cli = cnv_cli::Cli<cnv_cli::NoServer>;

/// The builder of a [`Cli`] (see [`cli::CliBuilder`]): [`Cli::builder`] makes one. `B`
/// is what the compiler knows of the handlers bound so far ([`cli::CheckedAtBuild`] for a
/// grammar made at run time).
#[cfg(feature = "mcp")]
pub type CliBuilder<B = cnv_cli::CheckedAtBuild> = cnv_cli::CliBuilder<cnv_mcp::Mcp, B>;

/// The builder of a [`Cli`] (see [`cli::CliBuilder`]): [`Cli::builder`] makes one. `B`
/// is what the compiler knows of the handlers bound so far ([`cli::CheckedAtBuild`] for a
/// grammar made at run time).
#[cfg(not(feature = "mcp"))]
pub type CliBuilder<B = cnv_cli::CheckedAtBuild> = cnv_cli::CliBuilder<cnv_cli::NoServer, B>;

#[doc(inline)]
pub use cnv_typestate::{EscalationError, EscalationPolicy, HumanApproval, TypedSession};

#[doc(inline)]
pub use cnv_audit::{AuditEntry, AuditLog};

#[doc(inline)]
pub use cnv_caps::{
    AgentSafeCapability, CapabilityClass, CapabilityContract, Confirmation, ConstResourceBand,
    ConstRisk, ContractError, InstantOperation, LowRiskCapability, ParseError, ResourceBand,
    SafetyProfile, StabilityProfile, TypedContract, ValidatedCommand, assert_agent_safe,
    assert_risk_below, assert_runtime_below,
};

/// Every capability class and resource band as a type (`Pure`, `Network`, `Fast`, …),
/// from cnv-caps' one list of each.
#[doc(inline)]
pub use cnv_caps::{bands::*, classes::*};

/// What a program that declares a grammar and binds handlers needs in scope:
/// `use cnv::prelude::*;`.
///
/// It holds the capability vocabulary (the type-level classes and bands `Pure`,
/// `Network`, `Instant`, … included, so `ValidatedCommand::<Pure, Fast>` reads as in the
/// specification), the grammar types and `grammar_dsl!`, the command line (`Cli`,
/// `verb!`, `Invocation`, `Output`, `HandlerError`, `AgentMode`, `Console`, `Exit`) and
/// the type-state sessions. The session registry stays under [`registry`](mod@crate::registry)
/// (`use cnv::registry::{SessionRegistry, SessionBuilder};`): a command line does not need
/// it.
///
/// A program that also uses `std::time::Instant` imports it by name, which takes
/// precedence over the glob.
pub mod prelude {
    #[doc(no_inline)]
    pub use cnv_caps::{
        AgentSafeCapability, CapabilityClass, CapabilityContract, Confirmation, ConstResourceBand,
        ConstRisk, InstantOperation, LowRiskCapability, ResourceBand, SafetyProfile, SessionId,
        StabilityProfile, TypedContract, ValidatedCommand, assert_agent_safe, assert_risk_below,
        assert_runtime_below,
    };

    #[doc(no_inline)]
    pub use cnv_caps::{bands::*, classes::*};
    #[doc(no_inline)]
    pub use cnv_grammar::{
        ArgumentKind, GrammarArgument, GrammarGroup, GrammarModel, GrammarNoun, GrammarVerb,
        OutputSchema, PossibleValues, ValueRange, value_enum,
    };
    #[doc(no_inline)]
    pub use cnv_grammar_macros::grammar_dsl;
    #[doc(no_inline)]
    pub use cnv_typestate::{
        Authorized, Autonomous, Denied, Escalated, EscalationError, EscalationPolicy,
        HumanApproval, Requirement, RunMode, SessionConfig, SessionMode, SessionRef, Supervised,
        TypedSession, Unverified, Verified, justify,
    };

    #[doc(no_inline)]
    pub use cnv_audit::{AuditEntry, AuditLog, AuditSink, JsonLinesSink, MemorySink, verify_chain};

    #[doc(no_inline)]
    pub use cnv_cli::{
        AgentMode, Console, Exit, HandlerError, Invocation, Output, VerbBinding, verb,
    };

    #[doc(no_inline)]
    pub use crate::{Cli, CliBuilder};

    /// The builder's MCP settings (`mcp_idle_timeout`, …) and serving from code
    /// (`cli.mcp_server()`).
    #[cfg(feature = "mcp")]
    #[doc(no_inline)]
    pub use cnv_mcp::{McpBuilder as _, McpCli as _};
}

/// The README's tour, compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The guide's examples, compiled and run as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
pub struct GuideDoctests;

/// "Coming from clap": its example compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/coming-from-clap.md")]
pub struct ComingFromClapDoctests;

/// "Coming from rmcp": its cnv example compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/coming-from-rmcp.md")]
pub struct ComingFromRmcpDoctests;
