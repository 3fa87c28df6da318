//! Type-state capability sessions for [cnv]: a session's capability is part of its type,
//! the escalations that must never happen do not compile, the ones that may happen need
//! a justification a policy accepts, and every step lands in an audit trail.
//!
//! ```
//! use cnv_caps::CapabilityContract;
//! use cnv_typestate::{TypedSession, Unverified};
//!
//! // Start unverified
//! let session = TypedSession::<Unverified>::with_name("my-app");
//!
//! // Verify with Pure capability: the contract's type names the class
//! let session = session.verify(CapabilityContract::pure());
//!
//! // Execute operations (only available after verification)
//! session.execute(|| println!("Pure operation"));
//!
//! // Escalate to ReadOnly (requires justification)
//! let session = session
//!     .escalate(CapabilityContract::read_only(), "Need to read config file for initialization")
//!     .expect("Escalation approved");
//! # let _ = session;
//! ```
//!
//! # States and modes
//!
//! `TypedSession<S, M>` moves `Unverified` → [`Verified<C>`] → [`Escalated<Origin, C>`];
//! [`narrow`](TypedSession::narrow) goes back down to `Verified`. The states and the modes
//! ([`Autonomous`], the default, and [`Supervised`]) are zero-sized types that cannot be
//! made outside this crate; a session's size does not depend on them.
//!
//! # What does not compile
//!
//! | mistake | the compiler says |
//! |---|---|
//! | `execute` or `escalate` on an `Unverified` session | verify it first |
//! | `escalate` to a class that is not riskier | call `narrow` instead |
//! | `narrow` to a class that is not less risky | call `escalate` instead |
//! | an `Autonomous` session reaching `Dangerous` (`verify`, `escalate`, `escalate_approved`, any chain) | never: run it supervised |
//! | a `Supervised` session reaching `Dangerous` without a [`HumanApproval`] | obtain one, call `escalate_approved` |
//! | a [`justify!`] literal too short for its target | say why, in more words |
//! | constructing `Verified`, `Escalated` or a session in them | use `verify` / `escalate` |
//! | using a session after it was moved into `escalate` | use the session it returned |
//!
//! # The policy
//!
//! [`EscalationPolicy`] checks the justification at run time: its length in characters
//! (Unicode scalar values after trimming) must reach the target's threshold —
//! `ReadOnlyFS` 0, `Environment` 20, `ReadWriteFS` 20, `Network` 30, `Subprocess` 50,
//! `Dangerous` 50 (and a human's approval, in a supervised session only). A refused
//! escalation returns the session in [`Denied`], so the caller can retry or go on.
//!
//! # The audit trail
//!
//! Every creation, verification, escalation, narrowing, denial and end of a call is an
//! [`AuditEntry`] delivered to an [`AuditSink`]: [`MemorySink`] (the default),
//! [`AuditLog`] (the operator's log: a file of hash-chained JSON Lines anchored by a
//! genesis, signed at checkpoints with an [`AuditKey`], with a signed head beside it),
//! [`JsonLinesSink`] (the same lines to any writer, unsigned), and `TracingSink`
//! (feature `tracing`). [`ChainReader`] and [`verify_chain`] read a log back and check
//! it line by line; the `cnv-audit` tool checks the key and the head too. A sink error
//! is never swallowed: an escalation the sink cannot record is refused, and other
//! failures are kept in the session ([`TypedSession::audit_error`]).
//!
//! # Features
//!
//! * `tracing` — `TracingSink`, which emits each entry as a
//!   `tracing` event with target `cnv::audit`.
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
// On docs.rs (nightly, `--cfg docsrs`): each item gated by a feature says which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod approval;
mod audit;
mod error;
mod justify;
mod lattice;
mod policy;
mod session;
mod state;
mod text;

pub use approval::{ApprovalChannel, ApprovalError, ApprovalRequest, HumanApproval};
#[cfg(any(feature = "tracing", test))]
pub use audit::TracingSink;
pub use audit::{
    AuditEntry, AuditEvent, AuditKey, AuditLog, AuditPublicKey, AuditSink, CallOrigin, CallRecord,
    CallResult, ChainHash, ChainHead, ChainReader, ChainRecord, ChainSummary, FanOutSink, Genesis,
    HeadFinding, JsonLinesSink, LogId, MAX_LINE_BYTES, McpTransport, MemorySink, Outcome,
    RecordBody, Recovery, TornTail, checkpoint_message, head_path, verify_chain,
};
/// The identity of a session, shared with the session registry (defined in `cnv-caps`).
pub use cnv_caps::{ParseSessionIdError, SessionId};
pub use error::{AuditError, ChainError, EscalationError, KeyError, Rule};
pub use justify::{Justification, Justifies};
pub use lattice::{
    AllowedIn, ClassVisitor, EscalateFrom, NarrowFrom, NoApprovalNeeded, TypedClass,
};
pub use policy::{EscalationPolicy, Requirement, default_min_justification};
pub use session::{Denied, SessionConfig, SessionRef, TypedSession};
pub use state::{
    Authorized, Autonomous, Escalated, Holds, ParseRunModeError, RunMode, SessionMode,
    SessionState, Supervised, Unverified, Verified,
};
pub use text::{escape_invisible, is_invisible, justification_len, shown_argument};

/// Sealing for the type-level traits: only this crate's states, modes and classes
/// implement them.
mod sealed {
    /// Implemented by this crate's states and modes, and by cnv's capability classes.
    pub trait Sealed {}
}
