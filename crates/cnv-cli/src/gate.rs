//! The capability gate: how a verb's handler is reached, through a type-state session,
//! in agent mode and in human mode.
//!
//! | the verb | agent mode (`Autonomous`) | human mode (`Supervised`) |
//! |---|---|---|
//! | `AgentSafe` | runs | runs |
//! | `HumanReviewRequired` | needs `--justify` that the policy accepts (at least one character); a class that is not agent-safe is reached by escalating from `Pure` | asks for confirmation on a terminal, or `--yes` |
//! | `InteractiveOnly` | refused | confirmed on a terminal only |
//! | class `Dangerous` | refused, whatever the justification | `--justify` (the policy's length) and a `HumanApproval` typed at the terminal |
//!
//! [`agent_rule`] is that table's agent column, used by the gate, `--help` and
//! `--capabilities` alike. Every decision lands in the session's audit sink: the typed
//! transitions record themselves, a refusal the gate decides is recorded with
//! `record_denial`, and a call whose authorisation could not be recorded does not run.

use core::marker::PhantomData;
use std::io;

use clap::ArgMatches;
use cnv_caps::{
    AgentSafeCapability, CapabilityClass, CapabilityContract, ConstRisk, Pure, ReadOnlyFS,
    SafetyProfile, TypedContract,
};
use cnv_grammar::GrammarVerb;
use cnv_typestate::{
    AllowedIn, ApprovalError, ApprovalRequest, Authorized, ClassVisitor, EscalateFrom,
    EscalationError, EscalationPolicy, HumanApproval, NoApprovalNeeded, RunMode, SessionConfig,
    SessionMode, SessionState, TypedClass, TypedSession, Unverified, justification_len,
};

use crate::invocation::Invocation;
use crate::output::{HandlerError, Output};

/// What agent mode demands of a verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgentRule {
    /// It runs without a justification.
    Free,
    /// It runs with a justification of at least this many characters that the policy
    /// accepts.
    Justify(usize),
    /// It never runs in agent mode: `Dangerous`, or `InteractiveOnly`.
    Never,
}

/// The agent column of the gate's table, for a verb with `contract` under `policy`.
pub(crate) fn agent_rule(contract: CapabilityContract, policy: &EscalationPolicy) -> AgentRule {
    if contract.class() == CapabilityClass::Dangerous
        || contract.safety() == SafetyProfile::InteractiveOnly
    {
        AgentRule::Never
    } else if contract.is_agent_safe() {
        AgentRule::Free
    } else {
        AgentRule::Justify(policy.min_justification(contract.class()).max(1))
    }
}

/// Asks a person: a yes/no confirmation, or a [`HumanApproval`].
pub(crate) trait Prompt {
    /// Whether anyone can be asked: standard input and standard error are a terminal.
    fn is_interactive(&self) -> bool;
    /// Asks `question`; `Ok(true)` for yes.
    fn confirm(&mut self, question: &str) -> io::Result<bool>;
    /// Asks for an approval of `request`.
    fn approve(&mut self, request: &ApprovalRequest<'_>) -> Result<HumanApproval, ApprovalError>;
}

/// Everything the gate needs to decide one call and run its handler.
pub(crate) struct Dispatch<'a> {
    pub(crate) command: &'a str,
    pub(crate) verb: &'a GrammarVerb,
    pub(crate) matches: &'a ArgMatches,
    pub(crate) agent: bool,
    pub(crate) justification: Option<&'a str>,
    pub(crate) yes: bool,
    pub(crate) config: &'a SessionConfig,
    /// The session's name: the command line as typed, so the audit trail says what ran.
    pub(crate) session_name: &'a str,
    pub(crate) prompt: &'a mut dyn Prompt,
}

/// Why a call did not produce output.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The gate refused (exit 3).
    Denied(Refusal),
    /// A person's confirmation was needed and not given (exit 4).
    NotConfirmed(Refusal),
    /// The handler failed (exit 1, or 2 for a bad argument value).
    Failed(HandlerError),
}

/// What the gate tells the caller about a refusal.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The stable rule name (`min_justification`, …).
    pub(crate) rule: &'static str,
    pub(crate) message: String,
    pub(crate) hint: String,
    /// Numbers a program may want: the required and given justification length.
    pub(crate) lengths: Option<(usize, usize)>,
}

/// A handler with its class erased, as the command line stores it.
pub(crate) type Erased = Box<dyn Fn(Dispatch<'_>) -> Result<Output, Stop> + Send + Sync>;

/// Erases `handler`, keeping its class `C` in the code that runs it.
pub(crate) fn erase<C, F>(handler: F) -> Erased
where
    C: TypedClass,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
    Box::new(move |dispatch: Dispatch<'_>| {
        if dispatch.agent {
            C::visit::<cnv_typestate::Autonomous, _>(Gate::new(dispatch, &handler))
        } else {
            C::visit::<cnv_typestate::Supervised, _>(Gate::new(dispatch, &handler))
        }
    })
}

struct Gate<'a, 'f, C, F> {
    dispatch: Dispatch<'a>,
    handler: &'f F,
    class: PhantomData<fn() -> C>,
}

impl<'a, 'f, C, F> Gate<'a, 'f, C, F>
where
    C: ConstRisk,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError>,
{
    fn new(dispatch: Dispatch<'a>, handler: &'f F) -> Self {
        Self {
            dispatch,
            handler,
            class: PhantomData,
        }
    }

    fn contract(&self) -> TypedContract<C> {
        let contract: CapabilityContract = self.dispatch.verb.contract();
        // The command line checked, when it was built, that the verb's class is `C`.
        TypedContract::try_from(contract).unwrap_or_default()
    }

    fn safety(&self) -> SafetyProfile {
        self.dispatch.verb.contract().safety()
    }

    fn agent_rule<S: SessionState, M: SessionMode>(
        &self,
        session: &TypedSession<S, M>,
    ) -> AgentRule {
        agent_rule(self.dispatch.verb.contract(), session.policy())
    }

    fn justification(&self) -> &'a str {
        self.dispatch.justification.unwrap_or("")
    }

    /// A new session for this call; refused if its creation could not be recorded.
    fn session<M: SessionMode>(&self) -> Result<TypedSession<Unverified, M>, Stop> {
        let session = TypedSession::<Unverified, M>::with_config(
            self.dispatch.session_name,
            self.dispatch.config,
        );
        recorded(&session)?;
        Ok(session)
    }

    /// Runs the handler inside `session`, which holds `C` — only if every step that led
    /// there is in the audit trail.
    fn run<S, M>(&self, session: &TypedSession<S, M>) -> Result<Output, Stop>
    where
        S: Authorized<Current = C>,
        M: SessionMode,
    {
        recorded(session)?;
        let invocation = Invocation {
            session: session.view::<S::Origin, C>(),
            command: self.dispatch.command,
            verb: self.dispatch.verb,
            matches: self.dispatch.matches,
            agent: self.dispatch.agent,
            justification: self.dispatch.justification,
        };
        session
            .execute(|| (self.handler)(&invocation))
            .map_err(Stop::Failed)
    }

    /// Agent mode: a verb that is not `AgentSafe` needs a justification of at least
    /// `required` characters (the policy's threshold, and at least one).
    fn require_justification<S, M>(
        &self,
        session: &mut TypedSession<S, M>,
        required: usize,
    ) -> Result<(), Stop>
    where
        S: SessionState,
        M: SessionMode,
    {
        let given = justification_len(self.justification());
        if given >= required {
            return Ok(());
        }
        let error = EscalationError::JustificationTooShort {
            from: session.class().unwrap_or(CapabilityClass::Pure),
            to: C::CLASS,
            required,
            given,
        };
        Err(self.refuse(session, &error))
    }

    /// The caller-facing form of `error` for this call.
    fn refusal(&self, error: &EscalationError) -> Refusal {
        refusal(
            self.dispatch.command,
            self.dispatch.verb.contract(),
            self.dispatch.justification,
            error,
        )
    }

    /// Records a refusal the gate decided and returns it: exit 4 for a missing
    /// confirmation in human mode, exit 3 for everything else.
    fn refuse<S, M>(&self, session: &mut TypedSession<S, M>, error: &EscalationError) -> Stop
    where
        S: SessionState,
        M: SessionMode,
    {
        if let Err(err) = session.record_denial(C::CLASS, self.justification(), error) {
            return Stop::Denied(audit_refusal(&err.to_string()));
        }
        let refusal = self.refusal(error);
        if M::MODE == RunMode::Supervised && matches!(error, EscalationError::NotConfirmed { .. }) {
            Stop::NotConfirmed(refusal)
        } else {
            Stop::Denied(refusal)
        }
    }

    /// Human mode: the confirmation a `HumanReviewRequired` or `InteractiveOnly` verb
    /// needs before it runs.
    fn confirm<S, M>(&mut self, session: &mut TypedSession<S, M>) -> Result<(), Stop>
    where
        S: SessionState,
        M: SessionMode,
    {
        let safety = self.safety();
        if safety == SafetyProfile::AgentSafe
            || (safety == SafetyProfile::HumanReviewRequired && self.dispatch.yes)
        {
            return Ok(());
        }
        let reason = if self.dispatch.prompt.is_interactive() {
            let question = format!(
                "Run `{}` ({}, risk {}: {})? [y/N] ",
                self.dispatch.command,
                C::CLASS,
                C::RISK_LEVEL,
                describe(C::CLASS),
            );
            match self.dispatch.prompt.confirm(&question) {
                Ok(true) => return Ok(()),
                Ok(false) => "it was declined at the prompt".to_owned(),
                Err(err) => format!("the terminal could not be read ({err})"),
            }
        } else {
            "standard input is not a terminal".to_owned()
        };
        let error = EscalationError::NotConfirmed {
            to: C::CLASS,
            reason,
        };
        Err(self.refuse(session, &error))
    }

    /// Agent mode: the refusal of a verb that only a person may run.
    fn never_in_agent_mode<S, M>(&self, session: &mut TypedSession<S, M>) -> Stop
    where
        S: SessionState,
        M: SessionMode,
    {
        let error = if C::CLASS == CapabilityClass::Dangerous {
            EscalationError::DangerousInAutonomousMode {
                from: session.class().unwrap_or(CapabilityClass::Pure),
            }
        } else {
            EscalationError::NotConfirmed {
                to: C::CLASS,
                reason: "no person is present in agent mode".to_owned(),
            }
        };
        self.refuse(session, &error)
    }
}

/// A step of `session` that its sink could not record stops the call: nothing runs
/// unrecorded (rule `audit_required`).
fn recorded<S: SessionState, M: SessionMode>(session: &TypedSession<S, M>) -> Result<(), Stop> {
    match session.audit_error() {
        Some(err) => Err(Stop::Denied(audit_refusal(&err.to_string()))),
        None => Ok(()),
    }
}

impl<C, M, F> ClassVisitor<C, M> for Gate<'_, '_, C, F>
where
    C: ConstRisk,
    M: SessionMode,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError>,
{
    type Output = Result<Output, Stop>;

    fn agent_safe(mut self) -> Self::Output
    where
        C: AgentSafeCapability + NoApprovalNeeded<M>,
    {
        let mut session = self.session::<M>()?;
        if M::MODE == RunMode::Autonomous {
            match self.agent_rule(&session) {
                AgentRule::Free => {}
                AgentRule::Justify(required) => {
                    self.require_justification(&mut session, required)?;
                }
                AgentRule::Never => return Err(self.never_in_agent_mode(&mut session)),
            }
        } else {
            self.confirm(&mut session)?;
        }
        let session = session.verify(self.contract());
        self.run(&session)
    }

    fn justified(mut self) -> Self::Output
    where
        C: NoApprovalNeeded<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let mut session = self.session::<M>()?;
        if M::MODE == RunMode::Supervised {
            self.confirm(&mut session)?;
            let session = session.verify(self.contract());
            return self.run(&session);
        }
        // Agent mode: start at `Pure`, escalate with the caller's justification.
        let mut session = session.verify(CapabilityContract::pure());
        recorded(&session)?;
        match self.agent_rule(&session) {
            AgentRule::Justify(required) => self.require_justification(&mut session, required)?,
            AgentRule::Never => return Err(self.never_in_agent_mode(&mut session)),
            // A class that is not agent-safe is never `AgentSafe`.
            AgentRule::Free => {}
        }
        match session.escalate(self.contract(), self.justification()) {
            Ok(session) => self.run(&session),
            // The refusal is already in the audit trail.
            Err(denied) => Err(Stop::Denied(self.refusal(denied.error()))),
        }
    }

    fn approval_required(self) -> Self::Output
    where
        C: AllowedIn<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let session = self.session::<M>()?;
        let mut session = session.verify(CapabilityContract::pure());
        recorded(&session)?;
        // Justify first, so nobody is asked to approve what the policy refuses anyway.
        let required = session.policy().min_justification(C::CLASS);
        self.require_justification(&mut session, required)?;
        let justification = self.justification();
        let approval = if self.dispatch.prompt.is_interactive() {
            let request = session
                .approval_request(C::CLASS, justification)
                .with_action(self.dispatch.session_name);
            self.dispatch.prompt.approve(&request)
        } else {
            Err(ApprovalError::NotATerminal)
        };
        match approval {
            Ok(approval) => {
                match session.escalate_approved(self.contract(), justification, approval) {
                    Ok(session) => self.run(&session),
                    Err(denied) => Err(Stop::Denied(self.refusal(denied.error()))),
                }
            }
            Err(err) => {
                let error = EscalationError::NotConfirmed {
                    to: C::CLASS,
                    reason: format!("no approval was given ({err})"),
                };
                Err(self.refuse(&mut session, &error))
            }
        }
    }

    fn forbidden(self) -> Self::Output {
        let session = self.session::<M>()?;
        let mut session = session.verify(CapabilityContract::pure());
        recorded(&session)?;
        Err(self.never_in_agent_mode(&mut session))
    }
}

/// What a class lets a command do, for prompts and hints.
fn describe(class: CapabilityClass) -> &'static str {
    match class {
        CapabilityClass::Pure => "computes only",
        CapabilityClass::ReadOnlyFS => "reads files",
        CapabilityClass::Environment => "reads environment variables",
        CapabilityClass::Network => "talks to other hosts",
        CapabilityClass::ReadWriteFS => "creates, changes or deletes files",
        CapabilityClass::Subprocess => "starts other programs",
        CapabilityClass::Dangerous => "may do what cannot be undone",
    }
}

/// The caller-facing form of a refusal of `command` (declared with `contract`).
pub(crate) fn refusal(
    command: &str,
    contract: CapabilityContract,
    justification: Option<&str>,
    error: &EscalationError,
) -> Refusal {
    let rule = error.rule().name();
    let class = contract.class();
    let safety = contract.safety();
    match error {
        EscalationError::JustificationTooShort { required, given, .. } => {
            let problem = if justification.is_none() {
                "none was given".to_owned()
            } else {
                format!("the one given has {given}")
            };
            Refusal {
                rule,
                message: format!(
                    "`{command}` is not agent-safe (`{class}`, safety `{safety}`): in agent mode \
                     it needs a justification of at least {required} characters, and {problem} \
                     (rule `{rule}`)"
                ),
                hint: format!(
                    "re-run with --justify \"…\", saying in at least {required} characters why \
                     this command needs `{class}` ({})",
                    describe(class)
                ),
                lengths: Some((*required, *given)),
            }
        }
        EscalationError::DangerousInAutonomousMode { .. } => Refusal {
            rule,
            message: format!(
                "`{command}` is `Dangerous`: it never runs in agent mode, whatever the \
                 justification (rule `{rule}`)"
            ),
            hint: "ask a person to run it without --agent; they will be asked to approve it at a terminal".to_owned(),
            lengths: None,
        },
        EscalationError::NotConfirmed { reason, .. } => Refusal {
            rule,
            message: format!(
                "`{command}` (`{class}`, safety `{safety}`) needs a person's confirmation, and \
                 {reason} (rule `{rule}`)"
            ),
            hint: if class == CapabilityClass::Dangerous {
                "run it at a terminal, with --justify, and type `Dangerous` when asked".to_owned()
            } else if safety == SafetyProfile::InteractiveOnly {
                "a person must run it at a terminal and answer the prompt; --yes is not enough \
                 for an InteractiveOnly command, and agent mode never runs it"
                    .to_owned()
            } else {
                "run it at a terminal and answer the prompt, or pass --yes to confirm in a script"
                    .to_owned()
            },
            lengths: None,
        },
        EscalationError::Audit(err) => audit_refusal(&err.to_string()),
        other => Refusal {
            rule,
            message: format!("`{command}` was refused: {other}"),
            hint: "see the rule named in the message".to_owned(),
            lengths: None,
        },
    }
}

/// The refusal when the audit trail cannot record: nothing runs unrecorded.
pub(crate) fn audit_refusal(reason: &str) -> Refusal {
    Refusal {
        rule: cnv_typestate::Rule::AuditRequired.name(),
        message: format!(
            "the audit trail cannot record this call, so nothing was run (rule `audit_required`): {reason}"
        ),
        hint: "fix the audit log (its path, its permissions, the disk), then retry".to_owned(),
        lengths: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_rule_follows_class_and_safety() {
        let policy = EscalationPolicy::default();
        let rule = |c: CapabilityContract| agent_rule(c, &policy);
        assert_eq!(rule(CapabilityContract::pure().into()), AgentRule::Free);
        assert_eq!(
            rule(CapabilityContract::network().into()),
            AgentRule::Justify(30)
        );
        assert_eq!(
            rule(CapabilityContract::dangerous().into()),
            AgentRule::Never
        );
        let reviewed_read = CapabilityContract::read_only()
            .with_safety(SafetyProfile::HumanReviewRequired)
            .expect("more review is allowed");
        // The policy needs 0 characters to reach ReadOnlyFS; the gate needs at least one.
        assert_eq!(rule(reviewed_read.into()), AgentRule::Justify(1));
        let interactive = CapabilityContract::environment()
            .with_safety(SafetyProfile::InteractiveOnly)
            .expect("more review is allowed");
        assert_eq!(rule(interactive.into()), AgentRule::Never);
    }
}
