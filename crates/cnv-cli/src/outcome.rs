//! How a call ended: the one [`CallOutcome`], and the exit code it gives.
//!
//! Every front end maps it once: the command line prints it (`report.rs`: text, or one
//! JSON object) and exits with [`CallOutcome::exit`]; the audit trail records it as the
//! call's `finish` entry (`audit.rs`); an MCP server turns it into a tool result
//! (`cnv-mcp`).

use std::time::Duration;

use cnv_caps::Rule;
use serde::Serialize;

use crate::output::{Exit, HandlerError, Output};

/// How a call ended, for every way a call arrives (the command line, [`Cli::call`](crate::Cli::call),
/// an MCP server).
///
/// It is deliberately not `#[non_exhaustive]`: a front end maps every ending to its own
/// form (an exit code, a JSON object, an MCP result), and a new ending must stop its build
/// until it decides what that ending looks like.
#[derive(Debug)]
pub enum CallOutcome {
    /// The handler ran and produced this.
    Ran(Output),
    /// No verb has this command (an agent's call only; the command line's parser refuses
    /// an unknown command itself): nothing ran.
    UnknownCommand {
        /// The command asked for.
        command: String,
    },
    /// The arguments do not fit the verb (an unknown name, a JSON value of the wrong
    /// kind, a value its type refuses, a required one missing): nothing ran.
    InvalidArguments {
        /// What is wrong, as the parser or the conversion says it.
        message: String,
    },
    /// The gate, the sandbox or the audit trail refused the call: nothing ran.
    Refused(Refusal),
    /// The handler ran and failed (a usage error when its error is the caller's to fix:
    /// [`HandlerError::is_usage`]), or the call could not be started.
    Failed(HandlerError),
    /// The call ran past its resource band's time, counted from its arrival: its worker
    /// process was killed, with every process the handler started.
    Overran {
        /// The band's time.
        budget: Duration,
        /// How long after the call's arrival it was killed (a little past `budget`; or
        /// `budget` and more when the time was spent before the handler started, which
        /// then never started).
        after: Duration,
        /// What the handler wrote to its standard output and error before it was
        /// killed, escaped (as [`Output::console`]).
        console: Option<String>,
    },
    /// The caller cancelled the call ([`AgentCall::with_cancel`](crate::AgentCall::with_cancel)).
    Cancelled {
        /// When it was stopped.
        at: CancelPoint,
    },
}

/// When a cancelled call was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelPoint {
    /// Before it reached the gate: nothing was decided, nothing ran.
    BeforeGate,
    /// After the gate admitted it, before its handler started: it never started.
    BeforeHandler,
    /// While its handler ran: the handler's worker process was killed, with every process
    /// it started.
    DuringHandler,
}

impl CallOutcome {
    /// The exit code this ending gives the command line (see [`Exit`]). A cancelled call
    /// gives nobody an exit code; it counts as a failure here, and the audit trail records
    /// 130, as a shell does for a command its user interrupted.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Self::Ran(_) => Exit::Success,
            Self::UnknownCommand { .. } | Self::InvalidArguments { .. } => Exit::Usage,
            Self::Refused(refusal) if refusal.unconfirmed => Exit::ConfirmationRequired,
            Self::Refused(_) => Exit::Denied,
            Self::Failed(err) if err.is_usage() => Exit::Usage,
            Self::Failed(_) | Self::Cancelled { .. } => Exit::Failed,
            Self::Overran { .. } => Exit::Overrun,
        }
    }
}

/// Why the gate, the sandbox or the audit trail refused a call: the rule, what happened,
/// what to do, and the justification's lengths when they decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refusal {
    /// The rule that refused.
    pub rule: Rule,
    /// What happened.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// The justification's length the rule asked for, when one decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<usize>,
    /// The justification's length given, when one decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<usize>,
    /// Whether what was missing is a person's confirmation the command line could have
    /// asked for (exit 4 instead of 3).
    #[serde(skip)]
    pub unconfirmed: bool,
}

impl Refusal {
    /// A refusal by `rule`: `message` says what happened, `hint` what to do.
    #[must_use]
    pub fn new(rule: Rule, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
            hint: hint.into(),
            required: None,
            given: None,
            unconfirmed: false,
        }
    }
}

/// The exit code the audit trail records for a cancelled call: 130, as a shell reports a
/// command its user interrupted (no caller is given one).
pub(crate) const CANCELLED_EXIT_CODE: i32 = 130;
