//! Capability tokens for [cnv]: who may call what, checked by any replica without a call
//! home.
//!
//! - [`Scope`] / [`Scopes`]: what a token grants, in OAuth's words — `cnv:<Class>` (the
//!   verbs of the class and of every class below it) or `cnv:<noun>.<verb>` (one verb).
//!   An MCP server that takes bearer tokens bounds each caller by them (`cnv-mcp`).
//! - [`mint`], [`attenuate`], [`verify`]: **delegation**. The operator mints a token for a
//!   principal with its secret [`TokenKey`]; any holder narrows it for a sub-agent —
//!   fewer classes or verbs, a workspace sub-directory, an earlier expiry, a call budget
//!   — without a key and without asking anyone; any replica verifies the chain against
//!   the operator's [`TokenPublicKey`] and authorises each call ([`Capability::authorize`]),
//!   with the chain of delegates for the audit trail. A narrowing can only narrow: a
//!   later block holds checks, never grants.
//! - [`AccessPolicy`]: **OAuth access tokens** (JWT) as a resource server checks them —
//!   signed by a key of the authorization server's JWKS ([`KeySet`]), for this server's
//!   audience — and who they name ([`Principal`]).
//! - [`CallCounter`]: the budgets' counters ([`MemoryCounter`] in one process).
//!
//! The format is [biscuit](https://www.biscuitsec.org/) (`biscuit-auth`): public-key
//! signatures chained block by block, offline attenuation, and a Datalog of checks a
//! person can read (`cnv-token inspect`).
//!
//! ```
//! use cnv_caps::CapabilityClass;
//! use cnv_token::{Mint, Narrowing, Request, Scopes, TokenKey, attenuate, mint, verify};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let operator = TokenKey::generate();
//! let scopes = Scopes::parse(["cnv:ReadWriteFS"])?;
//! let token = mint(&operator, &Mint::new("orchestrator", scopes))?;
//! // The orchestrator hands a sub-agent a token that reads, and only in `reports/`.
//! let narrowing = Narrowing::to("summariser")
//!     .scopes(Scopes::parse(["cnv:ReadOnlyFS"])?)
//!     .workspace("reports");
//! let narrowed = attenuate(&token, &narrowing)?;
//! let capability = verify(&narrowed, &operator.public_key())?;
//! assert_eq!(capability.workspace(), "reports/");
//! assert!(capability.authorize(&Request::new(CapabilityClass::ReadOnlyFS, "file read")).is_ok());
//! assert!(capability.authorize(&Request::new(CapabilityClass::ReadWriteFS, "file write")).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod counter;
mod error;
mod jwt;
mod key;
mod scope;
mod token;

pub use counter::{CallCounter, MemoryCounter};
pub use error::{KeyError, TokenError};
pub use jwt::{
    ALGORITHMS, Access, AccessPolicy, BearerError, JwksError, KeySet, LEEWAY_SECONDS, Principal,
};
pub use key::{KeyFiles, TokenKey, TokenPublicKey, keygen};
pub use scope::{SCOPE_PREFIX, Scope, ScopeError, Scopes, at_or_below, ceilings_of, classes_below};
pub use token::{
    Capability, Link, Mint, Narrowing, Request, attenuate, inspect, mint, verify, workspace_dir,
};
