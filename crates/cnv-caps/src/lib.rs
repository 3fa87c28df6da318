//! The capability vocabulary of [cnv]: what a command may touch, how long it may run,
//! and whether an autonomous agent may call it without a human.
//!
//! This crate has two faces that describe the same facts:
//!
//! * **Run-time values** — [`CapabilityClass`], [`ResourceBand`], [`SafetyProfile`],
//!   [`StabilityProfile`] and the [`CapabilityContract`] that bundles one of each. They
//!   are `Copy`, ordered, hashable, print with [`Display`](core::fmt::Display) and parse
//!   with [`FromStr`](core::str::FromStr) using the names of the grammar DSL.
//! * **Type-level values** — a zero-sized type per class ([`Pure`], [`ReadOnlyFS`], …)
//!   and per band ([`Instant`], [`Fast`], …), implementing the *sealed* traits
//!   [`ConstRisk`] and [`ConstResourceBand`]. Bounds such as [`AgentSafeCapability`] and
//!   the `const` assertions ([`assert_agent_safe`], [`assert_risk_below`],
//!   [`assert_runtime_below`]) turn a capability mistake into a *compile error*.
//!
//! Each type-level item links to its run-time twin (`<Network as ConstRisk>::CLASS ==
//! CapabilityClass::Network`), and the facts are written down once, on the run-time
//! enums; the type-level constants are derived from them.
//!
//! # The classes
//!
//! | class | risk | agent-safe | default safety | default band |
//! |---|---|---|---|---|
//! | `Pure` | 0 | yes | `AgentSafe` | `Instant` |
//! | `ReadOnlyFS` | 2 | yes | `AgentSafe` | `Fast` |
//! | `Environment` | 3 | no | `HumanReviewRequired` | `Instant` |
//! | `Network` | 5 | no | `HumanReviewRequired` | `Medium` |
//! | `ReadWriteFS` | 6 | no | `HumanReviewRequired` | `Fast` |
//! | `Subprocess` | 8 | no | `HumanReviewRequired` | `Medium` |
//! | `Dangerous` | 10 | no | `InteractiveOnly` | `Slow` |
//!
//! **Why only `Pure` and `ReadOnlyFS` are agent-safe.** An autonomous agent acts without a
//! human reading each step, so the operations it may run unsupervised must be ones whose
//! worst outcome is a wasted call. A `Pure` command computes from its arguments; a
//! `ReadOnlyFS` command reads files the process can already see and changes nothing.
//! Every other class can do harm that a retry does not undo: `Environment` reads
//! variables that routinely hold credentials (API tokens, cloud keys), so an agent could
//! leak them; `Network` can send anything the agent holds to anyone; `ReadWriteFS` can
//! destroy data; `Subprocess` can run any program with the caller's authority; and
//! `Dangerous` is, by declaration, beyond review. Those classes need a human in the loop
//! or a justified escalation (see the `cnv-typestate` crate).
//!
//! # Compile-time checks
//!
//! ```
//! use cnv_caps::*;
//!
//! // A command whose class and band are part of its type.
//! let cmd = ValidatedCommand::<Pure, Fast>::new("read-config");
//! assert_eq!(cmd.risk_level(), 0);
//!
//! // Only agent-safe commands may be passed here.
//! fn autonomous_execute<C: AgentSafeCapability, R: ConstResourceBand>(_: ValidatedCommand<C, R>) {}
//! autonomous_execute(cmd);
//!
//! // Assertions evaluated by the compiler.
//! const _: () = assert_agent_safe::<ReadOnlyFS>();
//! const _: () = assert_risk_below::<ReadOnlyFS>(5);
//! const _: () = assert_runtime_below::<Instant>(100);
//! ```
//!
//! ```compile_fail
//! use cnv_caps::*;
//! fn autonomous_execute<C: AgentSafeCapability, R: ConstResourceBand>(_: ValidatedCommand<C, R>) {}
//! autonomous_execute(ValidatedCommand::<Network, Fast>::new("net-op")); // Network is not agent-safe
//! ```
//!
//! # Features
//!
//! * `serde` — `Serialize`/`Deserialize` for the run-time vocabulary and
//!   [`CapabilityContract`], with names spelled as in the grammar DSL (`"ReadOnlyFS"`).
//!   A contract that claims `AgentSafe` for a class that is not agent-safe is refused
//!   when it is deserialized.
//! * `session-id` — [`SessionId`], the identity of a session that type-state sessions,
//!   their audit trail and the session registry share (adds the `uuid` crate).
//!
//! [cnv]: https://docs.rs/cnv

#![no_std]
// On docs.rs (nightly, `--cfg docsrs`): each item gated by a feature says which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[macro_use]
mod vocabulary;

mod assert;
mod band;
mod class;
mod command;
mod contract;
mod error;
#[cfg(feature = "session-id")]
mod id;
mod mode;
mod profile;
mod rule;
pub mod text;

pub use assert::{assert_agent_safe, assert_risk_below, assert_runtime_below};
pub use band::bands::{self, *};
pub use band::{ConstResourceBand, InstantOperation, ResourceBand};
pub use class::classes::{self, *};
pub use class::{AgentSafeCapability, CapabilityClass, ConstRisk, LowRiskCapability};
pub use command::ValidatedCommand;
pub use contract::{CapabilityContract, TypedContract};
pub use error::{ContractError, ParseError};
#[cfg(feature = "session-id")]
pub use id::{ParseSessionIdError, SessionId};
pub use mode::RunMode;
pub use profile::{Confirmation, SafetyProfile, StabilityProfile};
pub use rule::Rule;

/// What other cnv crates name from here. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::assert::Message as ConstMessage;
    pub use crate::error::closest;
}

/// Sealing for the type-level traits: only this crate names the capability classes and
/// resource bands, so no other crate can declare its own class agent-safe.
mod sealed {
    /// Implemented by this crate's type-level classes and bands, and by nothing else.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a cnv capability class or resource band: the type-level vocabulary is sealed",
        label = "not one of cnv's capability classes or resource bands",
        note = "the classes are `Pure`, `ReadOnlyFS`, `Environment`, `Network`, `ReadWriteFS`, `Subprocess` and `Dangerous`; the bands are `Instant`, `Fast`, `Medium`, `Slow` and `Cold`",
        note = "the set is closed so that no crate can declare its own capability agent-safe; use one of cnv's types, e.g. `ValidatedCommand<ReadOnlyFS, Fast>`"
    )]
    pub trait Sealed {}
}
