//! The run-time escalation policy: how long a justification must be for each target,
//! and the rules no configuration changes.

use core::fmt;

use cnv_caps::text::justification_len;
use cnv_caps::{CapabilityClass, CapabilityContract, Confirmation, Rule, RunMode, SafetyProfile};

use crate::approval::HumanApproval;
use crate::error::EscalationError;

/// The minimum justification length for each target class under the default policy, in
/// visible characters ([`justification_len`]).
///
/// | target | default | why |
/// |---|---:|---|
/// | `Pure` | 0 | never a target: nothing is below it |
/// | `ReadOnlyFS` | 0 | Pure → ReadOnly: always allowed |
/// | `Environment` | 20 | reads variables that often hold secrets: as much as writing files |
/// | `Network` | 30 | Any → Network: 30+ |
/// | `ReadWriteFS` | 20 | Any → ReadWrite: 20+ |
/// | `Subprocess` | 50 | Any → Subprocess: 50+ |
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

/// What a command needs before it runs, in one mode, under one policy: the answer of
/// [`EscalationPolicy::requirement`], the one place that decides it.
///
/// A command line's gate acts on it, its `--help` and `--capabilities` print it, and an
/// MCP manifest describes it to a model; so they cannot disagree.
///
/// | the contract | `Autonomous` (agent mode) | `Supervised` (a person) |
/// |---|---|---|
/// | safety `AgentSafe` | [`Nothing`](Self::Nothing) | [`Nothing`](Self::Nothing) |
/// | safety `HumanReviewRequired` | [`Justification`](Self::Justification) (the class's threshold, at least 1) | [`Confirmation`](Self::Confirmation), scripted allowed |
/// | safety `HumanReviewRequired`, confirmation `Routine` | [`Justification`](Self::Justification), as above | [`Nothing`](Self::Nothing) |
/// | safety `InteractiveOnly` | [`Never`](Self::Never) (`human_confirmation`) | [`Confirmation`](Self::Confirmation) at a terminal only |
/// | class `Dangerous` | [`Never`](Self::Never) (`dangerous_never_autonomous`) | [`Approval`](Self::Approval) |
///
/// The enum is deliberately exhaustive (not `#[non_exhaustive]`): every program that acts
/// on a requirement matches all of them, so a new kind of requirement is a compile error
/// wherever a decision must be made, never a silent fall-through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "needs", rename_all = "snake_case")]
pub enum Requirement {
    /// It runs as asked.
    Nothing,
    /// A justification of at least `min_chars` characters (as
    /// [`justification_len`] counts them) that the policy accepts.
    Justification {
        /// The threshold.
        min_chars: usize,
    },
    /// A person confirms the call before it runs.
    Confirmation {
        /// Whether a confirmation given in advance (a command line's `--yes`) will do;
        /// `false` when only a person answering at a terminal will.
        scripted: bool,
    },
    /// A justification of at least `min_chars` characters and a person's
    /// [`HumanApproval`] of exactly this call, at a terminal.
    Approval {
        /// The justification's threshold.
        min_chars: usize,
    },
    /// It never runs in this mode.
    Never {
        /// The rule that says so.
        rule: Rule,
    },
}

impl Requirement {
    /// The justification's threshold, if the requirement includes one.
    #[must_use]
    pub const fn min_justification(self) -> Option<usize> {
        match self {
            Self::Justification { min_chars } | Self::Approval { min_chars } => Some(min_chars),
            Self::Nothing | Self::Confirmation { .. } | Self::Never { .. } => None,
        }
    }
}

impl fmt::Display for Requirement {
    /// In words, for help texts: `"a justification of at least 20 characters"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nothing => f.write_str("nothing"),
            Self::Justification { min_chars } => {
                write!(f, "a justification of at least {min_chars} characters")
            }
            Self::Confirmation { scripted: true } => f.write_str("a person's confirmation"),
            Self::Confirmation { scripted: false } => {
                f.write_str("a person's confirmation at a terminal")
            }
            Self::Approval { min_chars } => write!(
                f,
                "a justification of at least {min_chars} characters and a person's approval at a terminal"
            ),
            Self::Never { rule } => write!(f, "never (rule `{rule}`)"),
        }
    }
}

/// The run-time half of the escalation rules: justification thresholds per target class,
/// and the two rules no configuration changes (`Dangerous` is never reached
/// autonomously, and needs a human's approval when supervised).
///
/// [`requirement`](Self::requirement) is the one answer to "what does this contract need
/// before it runs"; the typed [`escalate`](crate::TypedSession::escalate) and a program
/// that learns the target at run time (a CLI) call [`check`](Self::check), which asks the
/// same table. There is one rule set.
///
/// Lengths are counted by [`justification_len`]: the characters that show (`char`s, not
/// counting controls, format characters such as zero-width spaces, combining marks or
/// blank-looking characters such as U+2800), whitespace at either end trimmed. So
/// `"éééééééééé"` (20 bytes) is 10 characters, and `"   "` and fifty U+200B are 0.
///
/// ```
/// use cnv_caps::CapabilityClass::{Network, Pure, ReadOnlyFS, ReadWriteFS};
/// use cnv_caps::CapabilityContract;
/// use cnv_typestate::{EscalationPolicy, Requirement, RunMode, Rule};
///
/// let policy = EscalationPolicy::default();
/// assert!(policy.check(RunMode::Autonomous, Pure, ReadOnlyFS, "").is_ok());
/// let err = policy.check(RunMode::Autonomous, ReadOnlyFS, ReadWriteFS, "tidy up").unwrap_err();
/// assert_eq!(err.rule(), Rule::MinJustification);
///
/// let strict = EscalationPolicy::default().with_min_justification(Network, 80);
/// assert_eq!(strict.min_justification(Network), 80);
/// assert_eq!(
///     strict.requirement(RunMode::Autonomous, &CapabilityContract::network().into()),
///     Requirement::Justification { min_chars: 80 },
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EscalationPolicy {
    /// Indexed by [`CapabilityClass::index`].
    min_chars: [usize; CapabilityClass::COUNT],
}

impl EscalationPolicy {
    /// The default policy (see [`default_min_justification`]).
    #[must_use]
    pub const fn new() -> Self {
        let mut min_chars = [0; CapabilityClass::COUNT];
        let mut i = 0;
        while i < CapabilityClass::COUNT {
            min_chars[i] = default_min_justification(CapabilityClass::ALL[i]);
            i += 1;
        }
        Self { min_chars }
    }

    /// The same policy with another threshold for escalations to `to`.
    #[must_use]
    pub const fn with_min_justification(mut self, to: CapabilityClass, chars: usize) -> Self {
        self.min_chars[to.index()] = chars;
        self
    }

    /// The threshold for escalations to `to`, in characters.
    #[must_use]
    pub const fn min_justification(&self, to: CapabilityClass) -> usize {
        self.min_chars[to.index()]
    }

    /// What reaching `class` needs in `mode`, whatever the contract's safety: the class's
    /// part of [`requirement`](Self::requirement), and the rule [`check`](Self::check)
    /// applies to an escalation's target. `Dangerous` is never reached autonomously and
    /// needs an approval when supervised; every other class needs its threshold.
    #[must_use]
    pub const fn class_requirement(&self, mode: RunMode, class: CapabilityClass) -> Requirement {
        let min_chars = self.min_justification(class);
        match class {
            CapabilityClass::Dangerous => match mode {
                RunMode::Autonomous => Requirement::Never {
                    rule: Rule::DangerousNeverAutonomous,
                },
                RunMode::Supervised => Requirement::Approval { min_chars },
            },
            CapabilityClass::Pure
            | CapabilityClass::ReadOnlyFS
            | CapabilityClass::Environment
            | CapabilityClass::Network
            | CapabilityClass::ReadWriteFS
            | CapabilityClass::Subprocess => Requirement::Justification { min_chars },
        }
    }

    /// What a command with `contract` needs before it runs in `mode` (see the table on
    /// [`Requirement`]).
    ///
    /// In `Autonomous` mode a command that is not `AgentSafe` needs its class's threshold
    /// and at least one character (a justification is what the audit trail records of an
    /// agent's reason); in `Supervised` mode the contract's safety says who confirms, and
    /// a [`Routine`](Confirmation::Routine) contract spares a person the prompt.
    /// `Dangerous` is decided by [`class_requirement`](Self::class_requirement) in both.
    #[must_use]
    pub const fn requirement(&self, mode: RunMode, contract: &CapabilityContract) -> Requirement {
        let min_chars = match self.class_requirement(mode, contract.class()) {
            class @ (Requirement::Never { .. } | Requirement::Approval { .. }) => return class,
            Requirement::Justification { min_chars } => min_chars,
            Requirement::Nothing | Requirement::Confirmation { .. } => 0,
        };
        match (mode, contract.safety()) {
            (_, SafetyProfile::AgentSafe) => Requirement::Nothing,
            (RunMode::Autonomous, SafetyProfile::HumanReviewRequired) => {
                Requirement::Justification {
                    min_chars: if min_chars == 0 { 1 } else { min_chars },
                }
            }
            (RunMode::Autonomous, SafetyProfile::InteractiveOnly) => Requirement::Never {
                rule: Rule::HumanConfirmation,
            },
            (RunMode::Supervised, SafetyProfile::HumanReviewRequired) => {
                match contract.confirmation() {
                    Confirmation::Asked => Requirement::Confirmation { scripted: true },
                    Confirmation::Routine => Requirement::Nothing,
                }
            }
            (RunMode::Supervised, SafetyProfile::InteractiveOnly) => {
                Requirement::Confirmation { scripted: false }
            }
        }
    }

    /// Decides an escalation from `from` to `to` in `mode`, without a human's approval.
    ///
    /// The rules, in order: `to` must be riskier than `from` ([`Rule::RaiseOnly`]); then
    /// what [`class_requirement`](Self::class_requirement) says of `to`: `Dangerous` is
    /// refused in `Autonomous` mode ([`Rule::DangerousNeverAutonomous`]) and needs an
    /// approval in `Supervised` mode ([`Rule::HumanApproval`], see
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
        let required = match self.class_requirement(mode, to) {
            Requirement::Never { .. } => {
                return Err(EscalationError::DangerousInAutonomousMode { from });
            }
            Requirement::Approval { min_chars } => match approval {
                Some(_) => min_chars,
                None => return Err(EscalationError::ApprovalRequired { from, to }),
            },
            Requirement::Justification { min_chars } => min_chars,
            Requirement::Nothing | Requirement::Confirmation { .. } => 0,
        };
        if let Some(approval) = approval {
            approval.matches_request(to, justification)?;
        }
        Self::check_justification(from, to, required, justification)
    }

    /// Whether `justification` has at least `required` characters, as
    /// [`justification_len`] counts them: the one place a justification is measured, for
    /// an escalation from `from` to `to` ([`check`](Self::check) asks it with the
    /// threshold of `to`; a command line asks it with the threshold a
    /// [`Requirement`] names).
    ///
    /// # Errors
    ///
    /// [`EscalationError::JustificationTooShort`] with both lengths.
    pub fn check_justification(
        from: CapabilityClass,
        to: CapabilityClass,
        required: usize,
        justification: &str,
    ) -> Result<(), EscalationError> {
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
    fn a_routine_verb_spares_a_person_the_prompt_and_still_needs_an_agent_s_justification() {
        let policy = EscalationPolicy::default();
        let routine = CapabilityContract::read_write()
            .with_confirmation(Confirmation::Routine)
            .expect("routine")
            .contract();
        assert_eq!(
            policy.requirement(RunMode::Supervised, &routine),
            Requirement::Nothing
        );
        assert_eq!(
            policy.requirement(RunMode::Autonomous, &routine),
            Requirement::Justification { min_chars: 20 }
        );
        let asked = CapabilityContract::read_write().contract();
        assert_eq!(
            policy.requirement(RunMode::Supervised, &asked),
            Requirement::Confirmation { scripted: true }
        );
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
    fn the_thresholds_20_30_50_are_exact() {
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
    fn the_requirement_table() {
        use cnv_caps::{CapabilityContract, SafetyProfile::*};
        let policy = EscalationPolicy::default();
        let need = |mode, contract: CapabilityContract| policy.requirement(mode, &contract);
        let of = |class, safety| {
            CapabilityContract::new(class, cnv_caps::ResourceBand::Fast)
                .with_safety(safety)
                .expect("a consistent contract")
        };
        let (agent, human) = (RunMode::Autonomous, RunMode::Supervised);
        assert_eq!(need(agent, of(Pure, AgentSafe)), Requirement::Nothing);
        assert_eq!(need(human, of(ReadOnlyFS, AgentSafe)), Requirement::Nothing);
        // The class's threshold, and at least one character.
        assert_eq!(
            need(agent, of(Network, HumanReviewRequired)),
            Requirement::Justification { min_chars: 30 }
        );
        assert_eq!(
            need(agent, of(ReadOnlyFS, HumanReviewRequired)),
            Requirement::Justification { min_chars: 1 }
        );
        assert_eq!(
            need(agent, of(Environment, InteractiveOnly)),
            Requirement::Never {
                rule: Rule::HumanConfirmation
            }
        );
        assert_eq!(
            need(human, of(ReadWriteFS, HumanReviewRequired)),
            Requirement::Confirmation { scripted: true }
        );
        assert_eq!(
            need(human, of(Subprocess, InteractiveOnly)),
            Requirement::Confirmation { scripted: false }
        );
        for safety in [HumanReviewRequired, InteractiveOnly] {
            assert_eq!(
                need(agent, of(Dangerous, safety)),
                Requirement::Never {
                    rule: Rule::DangerousNeverAutonomous
                }
            );
            assert_eq!(
                need(human, of(Dangerous, safety)),
                Requirement::Approval { min_chars: 50 }
            );
        }
        // Thresholds come from the policy, not from literals.
        let strict = policy.clone().with_min_justification(Environment, 44);
        assert_eq!(
            strict.requirement(agent, &of(Environment, HumanReviewRequired)),
            Requirement::Justification { min_chars: 44 }
        );
        assert_eq!(
            Requirement::Justification { min_chars: 44 }.to_string(),
            "a justification of at least 44 characters"
        );
    }

    #[test]
    fn every_class_has_a_requirement_in_both_modes() {
        let policy = EscalationPolicy::default();
        for class in CapabilityClass::ALL {
            for mode in [RunMode::Autonomous, RunMode::Supervised] {
                let need = policy.class_requirement(mode, *class);
                // `check` refuses exactly what the class requirement says it must.
                let verdict = policy.check(mode, Pure, *class, &text(60));
                match need {
                    Requirement::Never { rule } => {
                        assert_eq!(verdict.map_err(|e| e.rule()), Err(rule));
                    }
                    Requirement::Approval { .. } => {
                        assert_eq!(verdict.map_err(|e| e.rule()), Err(Rule::HumanApproval));
                    }
                    Requirement::Justification { .. } if *class == Pure => {
                        assert_eq!(verdict.map_err(|e| e.rule()), Err(Rule::RaiseOnly));
                    }
                    Requirement::Justification { .. } => assert!(verdict.is_ok(), "{class}"),
                    Requirement::Nothing | Requirement::Confirmation { .. } => {
                        panic!("a class alone never needs {need:?}")
                    }
                }
            }
        }
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
