//! The audit trail of [cnv]: what every call on an agent's behalf did, recorded so that
//! nobody without the operator's key can rewrite it unnoticed.
//!
//! * **Entries**: an [`AuditEntry`] per creation, verification, escalation, narrowing and
//!   denial of a type-state session, and per start and end of a call ([`CallRecord`]:
//!   the call in full; [`CallResult`]: how it ended).
//! * **Sinks** ([`AuditSink`]): [`AuditLog`] (the operator's log: a file of hash-chained
//!   JSON Lines anchored by a genesis that names its key, signed with an [`AuditKey`],
//!   with a signed head beside it), [`JsonLinesSink`] (the same lines to any writer,
//!   unsigned), [`MemorySink`], [`FanOutSink`] (several in order) and `TracingSink`
//!   (feature `tracing`). A sink that cannot record says so, and a call it cannot record
//!   does not run.
//! * **Reading back**: [`ChainReader`] and [`verify_chain`] check a log line by line;
//!   [`verify`] also checks the operator's key and the head, and names the line where the
//!   trail breaks; [`show`] prints the decisions as a table, escaped.
//! * **Keys**: [`keygen`] writes the operator's ed25519 key pair (`PREFIX.key`, mode
//!   0600, and `PREFIX.pub`).
//! * **Witnessing**: a log's lines are the leaves of an RFC 6962 Merkle tree
//!   ([`merkle`]); [`AuditLog::open_witnessed`] signs C2SP checkpoints of it ([`note`];
//!   one [`origin`] per log) and submits them to the operator's witnesses at each call's
//!   end; a [`Witness`] (C2SP `tlog-witness`) cosigns a checkpoint only when it extends
//!   the last one it cosigned for that log; [`verify_witnessed`] asks the witnesses and
//!   catches a log rolled back or forked after they saw it; [`prove`] and
//!   [`check_proof`] show one line is in a cosigned checkpoint, offline.
//!
//! The `cnv-audit` binary (feature `cli`, on by default) is a thin command line over
//! [`keygen`], [`verify_witnessed`], [`show`], [`show_line`], [`prove`],
//! [`check_proof`] and [`Witness`]:
//!
//! ```text
//! cnv-audit keygen --out PREFIX          writes PREFIX.key (mode 0600) and PREFIX.pub
//! cnv-audit verify FILE [--key PUBKEY]   exit 0 only for an intact log
//!     [--witness URL=PUBKEY]… [--quorum K]   … that enough of its witnesses confirm
//! cnv-audit show FILE                    a table of the log's decisions
//! cnv-audit show FILE --line N           line N whole: a call with every argument in full
//! cnv-audit prove FILE N                 an inclusion proof of line N in the log's checkpoint
//! cnv-audit prove --check PROOF --key PUBKEY [--witness-key PUBKEY]…
//! cnv-audit witness serve ADDR --key W.key --state DIR --log ORIGIN=PUBKEY…
//! ```
//!
//! ```no_run
//! use std::path::Path;
//!
//! let keys = cnv_audit::keygen(Path::new("/etc/cnv/operator"))?;
//! let report = cnv_audit::verify(Path::new("/var/log/cnv/audit.jsonl"), Some(&keys.public_key));
//! print!("{report}");
//! assert!(report.is_intact(), "the trail breaks: {:?}", report.problem);
//! # Ok::<(), cnv_audit::ToolError>(())
//! ```
//!
//! # Features
//!
//! * `cli` (default) — the `cnv-audit` binary (adds `clap`'s derive). The witness and
//!   its clients are in the library without it: they need only `std::net`.
//! * `tracing` — `TracingSink`, which emits each entry as a `tracing` event with target
//!   `cnv::audit`.
//!
//! [cnv]: https://docs.rs/cnv

#![forbid(unsafe_code)]
// On docs.rs (nightly, `--cfg docsrs`): each item gated by a feature says which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod chain;
mod entry;
mod error;
mod file;
mod http;
mod jsonl;
mod key;
mod keygen;
pub mod merkle;
pub mod note;
mod proofs;
mod reader;
mod show;
mod sink;
mod submit;
#[cfg(any(feature = "tracing", test))]
mod tracing_sink;
mod verify;
mod witness;

pub use chain::{
    ChainHash, ChainHead, Genesis, HeadFinding, LogId, MAX_LINE_BYTES, RecordBody, Recovery,
    TornTail, checkpoint_message, head_path,
};
pub use entry::{
    AuditEntry, AuditEvent, CallOrigin, CallPrincipal, CallRecord, CallResult, DelegationLink,
    DenialReason, McpTransport, Verdict, format_timestamp, shown_argument,
};
pub use error::{AuditError, ChainError, KeyError, ToolError};
pub use file::AuditLog;
pub use http::{UrlError, WitnessUrl};
pub use jsonl::JsonLinesSink;
pub use key::{AuditKey, AuditPublicKey};
pub use keygen::{KeyFiles, keygen, public_key};
pub use note::origin;
pub use proofs::{InclusionProof, ProofCheck, check_proof, prove};
pub use reader::{ChainReader, ChainRecord, ChainSummary, verify_chain};
pub use show::{show, show_line};
pub use sink::{AuditSink, FanOutSink, MemorySink};
pub use submit::{
    DEFAULT_WITNESS_INTERVAL, Submitted, WitnessRecord, WitnessReport, Witnessing, witness_path,
};
#[cfg(any(feature = "tracing", test))]
pub use tracing_sink::TracingSink;
pub use verify::{
    HeadCheck, Problem, Verification, WitnessCheck, WitnessFinding, WitnessKey, verify,
    verify_witnessed,
};
pub use witness::{
    MAX_REQUEST, SIZE_CONTENT_TYPE, TrustedLog, Witness, WitnessConfig, WitnessError, origin_hash,
};
