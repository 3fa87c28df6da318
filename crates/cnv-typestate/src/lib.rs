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
//! [`EscalationPolicy`] checks the justification at run time: its length in visible
//! characters (as [`cnv_caps::text::justification_len`] counts them: no controls,
//! format characters or combining marks, whitespace at either end trimmed) must reach
//! the target's threshold —
//! `ReadOnlyFS` 0, `Environment` 20, `ReadWriteFS` 20, `Network` 30, `Subprocess` 50,
//! `Dangerous` 50 (and a human's approval, in a supervised session only). A refused
//! escalation returns the session in [`Denied`], so the caller can retry or go on.
//!
//! # The audit trail
//!
//! Every creation, verification, escalation, narrowing and denial is an
//! [`AuditEntry`](cnv_audit::AuditEntry) delivered to the session's
//! [`AuditSink`](cnv_audit::AuditSink) (the `cnv-audit` crate holds the trail: its
//! entries, its sinks, the operator's signed log and its reader). The default sink keeps
//! entries in memory. A sink error is never swallowed: an escalation the sink cannot
//! record is refused, and other failures are kept in the session
//! ([`TypedSession::audit_error`]).
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod approval;
mod error;
mod justify;
mod lattice;
mod policy;
mod session;
mod state;

pub use approval::{ApprovalChannel, ApprovalError, ApprovalRequest, HumanApproval};
/// The identity of a session, shared with the session registry (defined in `cnv-caps`).
pub use cnv_caps::{ParseSessionIdError, SessionId};
/// A session's mode at run time, and the rule that decided a step: the vocabulary
/// sessions speak with the audit trail (defined in `cnv-caps`).
pub use cnv_caps::{Rule, RunMode};
pub use error::EscalationError;
pub use justify::{Justification, Justifies};
pub use lattice::{
    AllowedIn, Autonomous, ClassVisitor, EscalateFrom, NarrowFrom, NoApprovalNeeded, SessionMode,
    Supervised, TypedClass,
};
pub use policy::{EscalationPolicy, Requirement, default_min_justification};
pub use session::{AdmittedElsewhere, Denied, SessionConfig, SessionRef, TypedSession};
pub use state::{Authorized, Escalated, Holds, SessionState, Unverified, Verified};

/// Sealing for the type-level traits: only this crate's states, modes and classes
/// implement them.
mod sealed {
    /// Implemented by this crate's states and modes, and by cnv's capability classes.
    pub trait Sealed {}
}
