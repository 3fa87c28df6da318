//! The run-time escalation policy: how long a justification must be for each target,
//! and the rules no configuration changes.

use core::fmt;

use cnv_caps::CapabilityClass;
use serde::{Deserialize, Serialize};

use crate::approval::HumanApproval;
use crate::audit::AuditError;
use crate::justify::justification_len;
use crate::state::RunMode;

/// The minimum justification length for each target class under the default policy, in
/// Unicode scalar values after trimming whitespace.
///
/// | target | default | why |
/// |---|---:|---|
/// | `Pure` | 0 | never a target: nothing is below it |
/// | `ReadOnlyFS` | 0 | seed: "Pure → ReadOnly: always allowed" |
/// | `Environment` | 20 | reads variables that often hold secrets: as much as writing files |
/// | `Network` | 30 | seed: "Any → Network: 30+" |
/// | `ReadWriteFS` | 20 | seed: "ReadOnly → ReadWrite: 20+" (from any class) |
/// | `Subprocess` | 50 | seed: "Any → Subprocess: 50+" |
/// | `Dangerous` | 50 | and a `HumanApproval`, in a `Supervised` session only |
#[must_use]
pub const fn default_min_justification(to: CapabilityClass) -> usize {
    match to {
        CapabilityClass::Pure | CapabilityClass::ReadOnlyFS => 0,
        CapabilityClass::Environment | CapabilityClass::ReadWriteFS => 20,
        CapabilityClass::Network => 30,
        CapabilityClass::Subprocess | CapabilityClass::Dangerous => 50,
    }
}

/// Which rule of the policy decided an escalation. Audit entries and
/// [`EscalationError::rule`] name it; its [`Display`](fmt::Display) form is the stable
/// identifier written to logs (`min_justification`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// An escalation must raise the risk; lowering it is `narrow`.
    RaiseOnly,
    /// `Dangerous` is never reached in `Autonomous` mode.
    DangerousNeverAutonomous,
    /// A `Supervised` session reaches `Dangerous` only with a matching `HumanApproval`.
    HumanApproval,
    /// The justification must be at least as long as the target's threshold.
    MinJustification,
    /// An escalation that the audit trail cannot record does not happen.
    AuditRequired,
    /// A program's own rule: a person must confirm before the step runs (a command
    /// line asking before a `HumanReviewRequired` command, say).
    HumanConfirmation,
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
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

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
        /// The justification's length: Unicode scalar values after trimming whitespace.
        given: usize,
    },
    /// A person's confirmation was needed and not given: a program's own rule, recorded
    /// with [`TypedSession::record_denial`](crate::TypedSession::record_denial).
    #[error(
        "`{to}` needs a person's confirmation, and {reason} (rule `human_confirmation`); a person must confirm it at a terminal"
    )]
    NotConfirmed {
        /// The class the step needs.
        to: CapabilityClass,
        /// Why no confirmation was given (no terminal, declined, …).
        reason: String,
    },
    /// The audit sink failed, so the escalation was not made (it would go unrecorded).
    #[error(
        "escalation refused because the audit trail cannot record it (rule `audit_required`): {0}; repair the audit sink, then retry"
    )]
    Audit(#[source] AuditError),
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

/// The run-time half of the escalation rules: justification thresholds per target class,
/// and the two rules no configuration changes (`Dangerous` is never reached
/// autonomously, and needs a human's approval when supervised).
///
/// The typed [`escalate`](crate::TypedSession::escalate) calls
/// [`check`](Self::check), and a program that learns the target at run time (a CLI)
/// calls the same method: there is one rule set.
///
/// Lengths are counted in Unicode scalar values (`char`s) after trimming whitespace, so
/// `"éééééééééé"` (20 bytes) is 10 characters and `"   "` is 0.
///
/// ```
/// use cnv_caps::CapabilityClass::{Network, Pure, ReadOnlyFS, ReadWriteFS};
/// use cnv_typestate::{EscalationPolicy, RunMode, Rule};
///
/// let policy = EscalationPolicy::default();
/// assert!(policy.check(RunMode::Autonomous, Pure, ReadOnlyFS, "").is_ok());
/// let err = policy.check(RunMode::Autonomous, ReadOnlyFS, ReadWriteFS, "tidy up").unwrap_err();
/// assert_eq!(err.rule(), Rule::MinJustification);
///
/// let strict = EscalationPolicy::default().with_min_justification(Network, 80);
/// assert_eq!(strict.min_justification(Network), 80);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EscalationPolicy {
    /// Indexed by `CapabilityClass::ALL` order.
    min_chars: [usize; 7],
}

impl EscalationPolicy {
    /// The default policy (see [`default_min_justification`]).
    #[must_use]
    pub const fn new() -> Self {
        let mut min_chars = [0; 7];
        let mut i = 0;
        while i < 7 {
            min_chars[i] = default_min_justification(CapabilityClass::ALL[i]);
            i += 1;
        }
        Self { min_chars }
    }

    /// The same policy with another threshold for escalations to `to`.
    #[must_use]
    pub const fn with_min_justification(mut self, to: CapabilityClass, chars: usize) -> Self {
        self.min_chars[to as usize] = chars;
        self
    }

    /// The threshold for escalations to `to`, in characters.
    #[must_use]
    pub const fn min_justification(&self, to: CapabilityClass) -> usize {
        self.min_chars[to as usize]
    }

    /// Decides an escalation from `from` to `to` in `mode`, without a human's approval.
    ///
    /// The rules, in order: `to` must be riskier than `from` ([`Rule::RaiseOnly`]);
    /// `Dangerous` is refused in `Autonomous` mode ([`Rule::DangerousNeverAutonomous`])
    /// and needs an approval in `Supervised` mode ([`Rule::HumanApproval`], see
    /// [`check_approved`](Self::check_approved)); the justification must reach the
    /// threshold of `to` ([`Rule::MinJustification`]).
    ///
    /// # Errors
    ///
    /// The [`EscalationError`] of the first rule that refuses.
    pub fn check(
        &self,
        mode: RunMode,
        from: CapabilityClass,
        to: CapabilityClass,
        justification: &str,
    ) -> Result<(), EscalationError> {
        self.decide(mode, from, to, justification, None)
    }

    /// [`check`](Self::check), with a human's approval for the escalation. The approval
    /// must have been given for `to` and for this `justification`.
    ///
    /// # Errors
    ///
    /// As `check`; an approval for another class or justification is
    /// [`EscalationError::ApprovalMismatch`]. No approval makes `Dangerous` reachable in
    /// `Autonomous` mode.
    pub fn check_approved(
        &self,
        mode: RunMode,
        from: CapabilityClass,
        to: CapabilityClass,
        justification: &str,
        approval: &HumanApproval,
    ) -> Result<(), EscalationError> {
        self.decide(mode, from, to, justification, Some(approval))
    }

    fn decide(
        &self,
        mode: RunMode,
        from: CapabilityClass,
        to: CapabilityClass,
        justification: &str,
        approval: Option<&HumanApproval>,
    ) -> Result<(), EscalationError> {
        if to <= from {
            return Err(EscalationError::NotAnEscalation { from, to });
        }
        if to == CapabilityClass::Dangerous {
            match mode {
                RunMode::Autonomous => {
                    return Err(EscalationError::DangerousInAutonomousMode { from });
                }
                RunMode::Supervised if approval.is_none() => {
                    return Err(EscalationError::ApprovalRequired { from, to });
                }
                RunMode::Supervised => {}
            }
        }
        if let Some(approval) = approval {
            approval.matches_request(to, justification)?;
        }
        let required = self.min_justification(to);
        let given = justification_len(justification);
        if given < required {
            return Err(EscalationError::JustificationTooShort {
                from,
                to,
                required,
                given,
            });
        }
        Ok(())
    }
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CapabilityClass::*;

    fn text(chars: usize) -> String {
        "x".repeat(chars)
    }

    fn denied_for_length(result: Result<(), EscalationError>, required: usize, given: usize) {
        match result {
            Err(EscalationError::JustificationTooShort {
                required: r,
                given: g,
                ..
            }) => assert_eq!((r, g), (required, given)),
            other => panic!("expected a length denial, got {other:?}"),
        }
    }

    #[test]
    fn pure_to_read_only_is_always_allowed() {
        let policy = EscalationPolicy::default();
        for mode in [RunMode::Autonomous, RunMode::Supervised] {
            assert!(policy.check(mode, Pure, ReadOnlyFS, "").is_ok());
            assert!(policy.check(mode, Pure, ReadOnlyFS, "   ").is_ok());
        }
    }

    #[test]
    fn every_threshold_boundary() {
        let policy = EscalationPolicy::default();
        for (from, to, min) in [
            (ReadOnlyFS, ReadWriteFS, 20),
            (Pure, ReadWriteFS, 20),
            (Pure, Environment, 20),
            (ReadOnlyFS, Network, 30),
            (Environment, Network, 30),
            (Pure, Subprocess, 50),
            (Network, Subprocess, 50),
        ] {
            for mode in [RunMode::Autonomous, RunMode::Supervised] {
                denied_for_length(policy.check(mode, from, to, &text(min - 1)), min, min - 1);
                assert!(
                    policy.check(mode, from, to, &text(min)).is_ok(),
                    "{from} -> {to} with {min}"
                );
            }
        }
    }

    #[test]
    fn the_seed_boundaries_19_29_49() {
        let policy = EscalationPolicy::default();
        let m = RunMode::Autonomous;
        denied_for_length(policy.check(m, ReadOnlyFS, ReadWriteFS, &text(19)), 20, 19);
        assert!(policy.check(m, ReadOnlyFS, ReadWriteFS, &text(20)).is_ok());
        denied_for_length(policy.check(m, Pure, Network, &text(29)), 30, 29);
        assert!(policy.check(m, Pure, Network, &text(30)).is_ok());
        denied_for_length(policy.check(m, Pure, Subprocess, &text(49)), 50, 49);
        assert!(policy.check(m, Pure, Subprocess, &text(50)).is_ok());
    }

    #[test]
    fn characters_not_bytes() {
        let policy = EscalationPolicy::default();
        let m = RunMode::Autonomous;
        // 10 two-byte letters: 20 bytes, 10 characters.
        let ten = "é".repeat(10);
        assert_eq!(ten.len(), 20);
        denied_for_length(policy.check(m, ReadOnlyFS, ReadWriteFS, &ten), 20, 10);
        // 20 four-byte characters are 20 characters.
        let crabs = "🦀".repeat(20);
        assert!(policy.check(m, ReadOnlyFS, ReadWriteFS, &crabs).is_ok());
        // 19 three-byte CJK characters are 19.
        denied_for_length(
            policy.check(m, ReadOnlyFS, ReadWriteFS, &"読".repeat(19)),
            20,
            19,
        );
    }

    #[test]
    fn whitespace_is_trimmed_and_whitespace_only_is_empty() {
        let policy = EscalationPolicy::default();
        let m = RunMode::Autonomous;
        let padded = format!("   {}\t\n", text(19));
        denied_for_length(policy.check(m, ReadOnlyFS, ReadWriteFS, &padded), 20, 19);
        // Unicode whitespace (no-break, ideographic space) is whitespace too.
        let wide = format!("\u{3000}\u{a0}{}\u{2003}", text(19));
        denied_for_length(policy.check(m, ReadOnlyFS, ReadWriteFS, &wide), 20, 19);
        denied_for_length(policy.check(m, Pure, Network, &" ".repeat(40)), 30, 0);
        denied_for_length(policy.check(m, Pure, Network, ""), 30, 0);
        // Inner whitespace counts.
        let inner = format!("{} {}", text(10), text(9));
        assert!(policy.check(m, ReadOnlyFS, ReadWriteFS, &inner).is_ok());
    }

    #[test]
    fn dangerous_is_never_autonomous_whatever_the_text() {
        let policy = EscalationPolicy::default().with_min_justification(Dangerous, 0);
        for from in [Pure, ReadOnlyFS, Network, Subprocess] {
            let err = policy
                .check(RunMode::Autonomous, from, Dangerous, &text(500))
                .unwrap_err();
            assert_eq!(err.rule(), Rule::DangerousNeverAutonomous);
        }
    }

    #[test]
    fn dangerous_needs_approval_when_supervised() {
        let policy = EscalationPolicy::default();
        let err = policy
            .check(RunMode::Supervised, Subprocess, Dangerous, &text(80))
            .unwrap_err();
        assert_eq!(err.rule(), Rule::HumanApproval);
        assert!(err.to_string().contains("escalate_approved"), "{err}");
    }

    #[test]
    fn lowering_or_keeping_the_risk_is_not_an_escalation() {
        let policy = EscalationPolicy::default();
        for (from, to) in [(Network, Network), (Network, ReadOnlyFS), (Dangerous, Pure)] {
            let err = policy
                .check(RunMode::Supervised, from, to, &text(100))
                .unwrap_err();
            assert_eq!(err.rule(), Rule::RaiseOnly);
            assert!(err.to_string().contains("narrow"), "{err}");
        }
    }

    #[test]
    fn thresholds_are_configurable() {
        let policy = EscalationPolicy::default()
            .with_min_justification(ReadOnlyFS, 5)
            .with_min_justification(Subprocess, 10);
        assert_eq!(policy.min_justification(ReadOnlyFS), 5);
        denied_for_length(
            policy.check(RunMode::Autonomous, Pure, ReadOnlyFS, "four"),
            5,
            4,
        );
        assert!(
            policy
                .check(RunMode::Autonomous, Pure, Subprocess, &text(10))
                .is_ok()
        );
        assert_ne!(policy, EscalationPolicy::default());
    }

    #[test]
    fn the_denial_message_names_rule_required_and_given() {
        let err = EscalationPolicy::default()
            .check(RunMode::Autonomous, ReadOnlyFS, ReadWriteFS, "tidy up")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "escalation from `ReadOnlyFS` to `ReadWriteFS` denied (rule `min_justification`): \
             the justification has 7 characters but `ReadWriteFS` needs at least 20; say in a \
             sentence why the command needs `ReadWriteFS`"
        );
    }

    #[test]
    fn defaults_match_the_table() {
        let policy = EscalationPolicy::default();
        let expected = [0, 0, 20, 30, 20, 50, 50];
        for (class, min) in CapabilityClass::ALL.iter().zip(expected) {
            assert_eq!(policy.min_justification(*class), min, "{class}");
        }
    }
}
