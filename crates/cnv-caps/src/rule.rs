//! The rules that decide whether a step happens: named by the policy, the gate and the
//! sandbox when they refuse, and recorded by the audit trail.

use core::fmt;

/// Which rule decided a step (an escalation, a call). Refusals name it, audit entries
/// record it; its [`Display`](fmt::Display) form is the stable identifier written to logs
/// and JSON (`min_justification`, …).
///
/// ```
/// use cnv_caps::Rule;
///
/// assert_eq!(Rule::MinJustification.to_string(), "min_justification");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Rule {
    /// An escalation must raise the risk; lowering it is `narrow`.
    RaiseOnly,
    /// `Dangerous` is never reached in `Autonomous` mode.
    DangerousNeverAutonomous,
    /// A `Supervised` session reaches `Dangerous` only with a matching human approval.
    HumanApproval,
    /// The justification must be at least as long as the target's threshold.
    MinJustification,
    /// A step that the audit trail cannot record does not happen.
    AuditRequired,
    /// A program's own rule: a person must confirm before the step runs (a command
    /// line asking before a `HumanReviewRequired` command, say).
    HumanConfirmation,
    /// A command line's rule: the operator demands that the kernel enforce everything
    /// the class grants (a strict sandbox), and it cannot.
    SandboxRequired,
    /// A command line's rule: no call runs whose class could reach the audit log (a
    /// writing verb whose workspace holds the log, say).
    AuditOutOfReach,
    /// A server's rule: the operator caps how many calls one principal may make in a
    /// window (per verb or per class), and this call would go past it.
    Quota,
    /// A remote server's rule: a request must carry a bearer token the server verifies
    /// (signed for it, in date); one without, or with one refused, is not served.
    BearerToken,
    /// A remote server's rule: a call must be granted by its caller's token (a scope, a
    /// capability token's checks), on top of every other rule.
    Scope,
}

impl Rule {
    /// The stable identifier, e.g. `"min_justification"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::RaiseOnly => "raise_only",
            Self::DangerousNeverAutonomous => "dangerous_never_autonomous",
            Self::HumanApproval => "human_approval",
            Self::MinJustification => "min_justification",
            Self::AuditRequired => "audit_required",
            Self::HumanConfirmation => "human_confirmation",
            Self::SandboxRequired => "sandbox_required",
            Self::AuditOutOfReach => "audit_out_of_reach",
            Self::Quota => "quota",
            Self::BearerToken => "bearer_token",
            Self::Scope => "scope",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}
