//! The capability gate: how a verb's handler is reached, through a type-state session,
//! in agent mode and in human mode.
//!
//! | safety of the verb | agent mode (`Autonomous`) | human mode (`Supervised`) |
//! |---|---|---|
//! | `AgentSafe` | runs | runs |
//! | `HumanReviewRequired` | needs `--justify` that the policy accepts; the session escalates from `Pure` | asks for confirmation on a terminal, or `--yes` |
//! | `InteractiveOnly` | refused | confirmed on a terminal only |
//! | class `Dangerous` | refused, whatever the justification | `--justify` (policy length) and a `HumanApproval` typed at the terminal |
//!
//! Every decision lands in the session's audit sink: the typed transitions record
//! themselves, and a refusal the gate decides is recorded with `record_denial`.

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
    EscalationError, HumanApproval, NoApprovalNeeded, RunMode, SessionConfig, SessionMode,
    TypedClass, TypedSession, Unverified, justification_len,
};

use crate::invocation::Invocation;
use crate::output::{HandlerError, Output};

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
    pub(crate) session_name: &'a str,
    pub(crate) prompt: &'a mut dyn Prompt,
}

/// Why a call did not produce output.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The gate refused (exit 3).
    Denied(Refusal),
    /// A human's confirmation was needed and not given (exit 4).
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

    fn justification(&self) -> &'a str {
        self.dispatch.justification.unwrap_or("")
    }

    /// A new session for this call; refused if its creation could not be recorded.
    fn session<M: SessionMode>(&self) -> Result<TypedSession<Unverified, M>, Stop> {
        let session = TypedSession::<Unverified, M>::with_config(
            self.dispatch.session_name,
            self.dispatch.config,
        );
        match session.audit_error() {
            Some(err) => Err(Stop::Denied(audit_refusal(&err.to_string()))),
            None => Ok(session),
        }
    }

    /// Runs the handler inside `session`, which holds `C`.
    fn run<S, M>(&self, session: &TypedSession<S, M>) -> Result<Output, Stop>
    where
        S: Authorized<Current = C>,
        M: SessionMode,
    {
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

    /// The gate's own rule in agent mode: a verb that is not agent-safe needs a
    /// justification at all (and at least the policy's length for `C`).
    fn require_justification<S, M>(&self, session: &mut TypedSession<S, M>) -> Result<(), Stop>
    where
        S: cnv_typestate::SessionState,
        M: SessionMode,
    {
        let required = session.policy().min_justification(C::CLASS).max(1);
        let given = justification_len(self.justification());
        if given >= required {
            return Ok(());
        }
        let error = EscalationError::JustificationTooShort {
            from: CapabilityClass::Pure,
            to: C::CLASS,
            required,
            given,
        };
        let recorded = session.record_denial(C::CLASS, self.justification(), &error);
        Err(recorded.map_or_else(
            |err| Stop::Denied(audit_refusal(&err.to_string())),
            |()| Stop::Denied(self.refusal(&error)),
        ))
    }

    /// Records a refusal the gate decided and returns it.
    fn refuse<S, M>(
        &self,
        session: &mut TypedSession<S, M>,
        error: &EscalationError,
        not_confirmed: bool,
    ) -> Stop
    where
        S: cnv_typestate::SessionState,
        M: SessionMode,
    {
        if let Err(err) = session.record_denial(C::CLASS, self.justification(), error) {
            return Stop::Denied(audit_refusal(&err.to_string()));
        }
        let refusal = self.refusal(error);
        if not_confirmed {
            Stop::NotConfirmed(refusal)
        } else {
            Stop::Denied(refusal)
        }
    }

    /// In human mode: the confirmation a `HumanReviewRequired` or `InteractiveOnly` verb
    /// needs before it runs.
    fn confirm<S, M>(&mut self, session: &mut TypedSession<S, M>) -> Result<(), Stop>
    where
        S: cnv_typestate::SessionState,
        M: SessionMode,
    {
        let safety = self.safety();
        if safety == SafetyProfile::AgentSafe
            || (safety == SafetyProfile::HumanReviewRequired && self.dispatch.yes)
        {
            return Ok(());
        }
        let command = self.dispatch.command;
        let error = EscalationError::ApprovalRequired {
            from: CapabilityClass::Pure,
            to: C::CLASS,
        };
        if !self.dispatch.prompt.is_interactive() {
            let mut stop = self.refuse(session, &error, true);
            if let Stop::NotConfirmed(refusal) = &mut stop {
                *refusal = not_confirmed(
                    command,
                    C::CLASS,
                    safety,
                    "standard input is not a terminal",
                );
            }
            return Err(stop);
        }
        let question = format!(
            "Run `{command}` ({class}, risk {risk}: {what})? [y/N] ",
            class = C::CLASS,
            risk = C::RISK_LEVEL,
            what = describe(C::CLASS),
        );
        match self.dispatch.prompt.confirm(&question) {
            Ok(true) => Ok(()),
            Ok(false) => {
                let mut stop = self.refuse(session, &error, true);
                if let Stop::NotConfirmed(refusal) = &mut stop {
                    *refusal =
                        not_confirmed(command, C::CLASS, safety, "it was declined at the prompt");
                }
                Err(stop)
            }
            Err(err) => {
                let mut stop = self.refuse(session, &error, true);
                if let Stop::NotConfirmed(refusal) = &mut stop {
                    *refusal = not_confirmed(
                        command,
                        C::CLASS,
                        safety,
                        &format!("the terminal could not be read ({err})"),
                    );
                }
                Err(stop)
            }
        }
    }

    /// The caller-facing form of a policy refusal.
    fn refusal(&self, error: &EscalationError) -> Refusal {
        refusal(
            self.dispatch.command,
            C::CLASS,
            self.dispatch.justification,
            error,
        )
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
        match (M::MODE, self.safety()) {
            (_, SafetyProfile::AgentSafe) => {}
            (RunMode::Autonomous, SafetyProfile::InteractiveOnly) => {
                return Err(self.refuse(&mut session, &needs_a_person(C::CLASS), false));
            }
            (RunMode::Autonomous, _) => self.require_justification(&mut session)?,
            (_, _) => self.confirm(&mut session)?,
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
        if self.safety() == SafetyProfile::InteractiveOnly {
            return Err(self.refuse(&mut session, &needs_a_person(C::CLASS), false));
        }
        self.require_justification(&mut session)?;
        let session = session.verify(CapabilityContract::pure());
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
        let mut session = self.session::<M>()?;
        // Justify first, so nobody is asked to approve what the policy refuses anyway.
        let required = session.policy().min_justification(C::CLASS);
        let given = justification_len(self.justification());
        if given < required {
            let error = EscalationError::JustificationTooShort {
                from: CapabilityClass::Pure,
                to: C::CLASS,
                required,
                given,
            };
            return Err(self.refuse(&mut session, &error, false));
        }
        let session = session.verify(CapabilityContract::pure());
        let justification = self.justification();
        let approval = {
            let request = session.approval_request(C::CLASS, justification);
            if self.dispatch.prompt.is_interactive() {
                self.dispatch.prompt.approve(&request)
            } else {
                Err(ApprovalError::NotATerminal)
            }
        };
        match approval {
            Ok(approval) => {
                match session.escalate_approved(self.contract(), justification, approval) {
                    Ok(session) => self.run(&session),
                    Err(denied) => Err(Stop::Denied(self.refusal(denied.error()))),
                }
            }
            Err(err) => {
                let mut session = session;
                let error = EscalationError::ApprovalRequired {
                    from: CapabilityClass::Pure,
                    to: C::CLASS,
                };
                let mut stop = self.refuse(&mut session, &error, true);
                if let Stop::NotConfirmed(refusal) = &mut stop {
                    refusal.message = format!(
                        "`{}` is `{}` and needs a human's approval at a terminal: {err}",
                        self.dispatch.command,
                        C::CLASS
                    );
                    refusal.hint =
                        format!("run it at a terminal and type `{}` when asked", C::CLASS);
                }
                Err(stop)
            }
        }
    }

    fn forbidden(self) -> Self::Output {
        let mut session = self.session::<M>()?;
        let error = EscalationError::DangerousInAutonomousMode {
            from: CapabilityClass::Pure,
        };
        Err(self.refuse(&mut session, &error, false))
    }
}

/// The refusal of a verb of class `to` that only a person may run, in agent mode.
fn needs_a_person(to: CapabilityClass) -> EscalationError {
    EscalationError::ApprovalRequired {
        from: CapabilityClass::Pure,
        to,
    }
}

/// What a class lets a command do, for a confirmation prompt.
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

/// The caller-facing form of a policy refusal of `command` (class `class`).
pub(crate) fn refusal(
    command: &str,
    class: CapabilityClass,
    justification: Option<&str>,
    error: &EscalationError,
) -> Refusal {
    let rule = error.rule().name();
    match error {
        EscalationError::JustificationTooShort { required, given, .. } => {
            let problem = if justification.is_none() {
                "no justification was given".to_owned()
            } else {
                format!("the justification has {given} characters")
            };
            Refusal {
                rule,
                message: format!(
                    "`{command}` needs `{class}`, which is not agent-safe, and {problem}: \
                     `{class}` needs at least {required} characters (rule `{rule}`)"
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
        EscalationError::ApprovalRequired { .. } => Refusal {
            rule,
            message: format!(
                "`{command}` may only be run by a person at a terminal (safety \
                 `InteractiveOnly`), never in agent mode (rule `{rule}`)"
            ),
            hint: "ask a person to run it without --agent".to_owned(),
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
        hint: "fix the --audit-log path or its permissions, then retry".to_owned(),
        lengths: None,
    }
}

/// The refusal of a human-mode call that was not confirmed.
fn not_confirmed(
    command: &str,
    class: CapabilityClass,
    safety: SafetyProfile,
    why: &str,
) -> Refusal {
    let hint = if safety == SafetyProfile::InteractiveOnly {
        "run it at a terminal and answer the prompt; --yes is not enough for an InteractiveOnly command"
            .to_owned()
    } else {
        "run it at a terminal and answer the prompt, or pass --yes to confirm in a script"
            .to_owned()
    };
    Refusal {
        rule: "human_confirmation",
        message: format!(
            "`{command}` ({class}, safety `{safety}`) needs a person's confirmation, and {why}"
        ),
        hint,
        lengths: None,
    }
}
