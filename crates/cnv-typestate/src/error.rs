//! Why an escalation was refused, naming the rule (`cnv_caps::Rule`) that refused it.

use cnv_audit::{AuditError, DenialReason};
use cnv_caps::{CapabilityClass, Rule};

/// Why an escalation (or an approved verification) was refused. Each message names the
/// rule and says what to do.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscalationError {
    /// The target is not riskier than the current class.
    #[error(
        "`{from}` to `{to}` is not an escalation (rule `raise_only`): an escalation must raise the risk; call `narrow` to give up capability"
    )]
    NotAnEscalation {
        /// The class the session holds.
        from: CapabilityClass,
        /// The class asked for.
        to: CapabilityClass,
    },
    /// `Dangerous` was asked for in `Autonomous` mode.
    #[error(
        "escalation from `{from}` to `Dangerous` denied (rule `dangerous_never_autonomous`): an autonomous session can never hold `Dangerous`; run the command under human supervision instead"
    )]
    DangerousInAutonomousMode {
        /// The class the session holds.
        from: CapabilityClass,
    },
    /// `Dangerous` was asked for in `Supervised` mode without a human's approval.
    #[error(
        "escalation from `{from}` to `{to}` denied (rule `human_approval`): it needs a human's approval; obtain a `HumanApproval` (e.g. `HumanApproval::confirm_on_terminal`) and call `escalate_approved`"
    )]
    ApprovalRequired {
        /// The class the session holds.
        from: CapabilityClass,
        /// The class asked for.
        to: CapabilityClass,
    },
    /// The approval was given for another session, class or justification.
    #[error(
        "the human approval does not match this request (rule `human_approval`): it was given for {approved}, but the request is {requested}; ask the human to approve this request"
    )]
    ApprovalMismatch {
        /// What the approval was given for.
        approved: String,
        /// What was requested.
        requested: String,
    },
    /// The justification is shorter than the target's threshold.
    #[error(
        "escalation from `{from}` to `{to}` denied (rule `min_justification`): the justification has {given} characters but `{to}` needs at least {required}; say in a sentence why the command needs `{to}`"
    )]
    JustificationTooShort {
        /// The class the session holds.
        from: CapabilityClass,
        /// The class asked for.
        to: CapabilityClass,
        /// The threshold of the policy for `to`.
        required: usize,
        /// The justification's length, as
        /// [`justification_len`](cnv_caps::text::justification_len) counts it: visible
        /// characters, whitespace at either end trimmed.
        given: usize,
    },
    /// A person's confirmation was needed and not given: a program's own rule, recorded
    /// with [`TypedSession::record_denial`](crate::TypedSession::record_denial).
    #[error(
        "`{to}` needs a person's confirmation, and {reason} (rule `human_confirmation`); a person must confirm it, at a terminal or at a client that asks them"
    )]
    NotConfirmed {
        /// The class the step needs.
        to: CapabilityClass,
        /// Why no confirmation was given (no terminal, declined, …).
        reason: String,
    },
    /// The audit sink failed, so the escalation was not made (it would go unrecorded).
    /// The message carries the sink's error.
    #[error(
        "escalation refused because the audit trail cannot record it (rule `audit_required`): {0}; repair the audit sink, then retry"
    )]
    Audit(AuditError),
}

impl EscalationError {
    /// The rule that refused the escalation.
    #[must_use]
    pub const fn rule(&self) -> Rule {
        match self {
            Self::NotAnEscalation { .. } => Rule::RaiseOnly,
            Self::DangerousInAutonomousMode { .. } => Rule::DangerousNeverAutonomous,
            Self::ApprovalRequired { .. } | Self::ApprovalMismatch { .. } => Rule::HumanApproval,
            Self::JustificationTooShort { .. } => Rule::MinJustification,
            Self::Audit(_) => Rule::AuditRequired,
            Self::NotConfirmed { .. } => Rule::HumanConfirmation,
        }
    }
}

impl DenialReason for EscalationError {
    fn rule(&self) -> Rule {
        EscalationError::rule(self)
    }
}
