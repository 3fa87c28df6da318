//! The capability gate: how a verb's handler is reached, through a type-state session,
//! in agent mode and in human mode.
//!
//! What a call needs is the policy's answer, [`EscalationPolicy::requirement`]: the gate
//! acts on it, and `--help`, `--capabilities` and the MCP manifest print the same answer.
//!
//! | the verb | agent mode (`Autonomous`) | human mode (`Supervised`) |
//! |---|---|---|
//! | `AgentSafe` | runs | runs |
//! | `HumanReviewRequired` | needs `--justify` that the policy accepts (at least one character); a class that is not agent-safe is reached by escalating from `Pure` | asks for confirmation on a terminal, or `--yes` |
//! | `InteractiveOnly` | refused | confirmed on a terminal only |
//! | class `Dangerous` | refused, whatever the justification | `--justify` (the policy's length) and a `HumanApproval` typed at the terminal |
//!
//! A call on an agent's behalf is in agent mode, unless a person at the agent's client
//! supervises it (a `Supervisor`, from an MCP server the operator runs supervised): it is
//! then in human mode, and that person is asked instead of the terminal; their answer
//! (an approval typed as the class's name) is recorded on the verification or
//! escalation, or, refused, on the denial.
//!
//! The type-level lattice ([`TypedClass::visit`]) chooses the path a session can take to
//! the class; the requirement says what that path demands. Every decision lands in the
//! session's audit sink: the typed transitions record themselves, a refusal the gate
//! decides is recorded with `record_denial`, and a call whose authorisation could not be
//! recorded does not run.

use core::cell::Cell;
use core::marker::PhantomData;
use std::sync::Arc;

use clap::ArgMatches;
use cnv_audit::{AuditError, shown_argument};
use cnv_caps::text::escape_for_display;
use cnv_caps::{
    AgentSafeCapability, CapabilityClass, CapabilityContract, ConstRisk, Pure, ReadOnlyFS,
    TypedContract,
};
use cnv_grammar::GrammarVerb;
use cnv_sandbox::Workspace;
use cnv_typestate::{
    AdmittedElsewhere, AllowedIn, ApprovalError, Authorized, Autonomous, ClassVisitor,
    EscalateFrom, EscalationError, EscalationPolicy, HumanApproval, NoApprovalNeeded, Requirement,
    Rule, RunMode, SessionConfig, SessionId, SessionMode, SessionState, Supervised, TypedClass,
    TypedSession, Unverified,
};

use crate::console::{Prompt, Vars};
use crate::invocation::Invocation;
use crate::outcome::{CallOutcome, Refusal};
use crate::output::{HandlerError, Output};

/// Everything the gate needs to decide one call and run its handler.
pub(crate) struct Dispatch<'a> {
    pub(crate) command: &'a str,
    pub(crate) verb: &'a GrammarVerb,
    /// The program's global arguments.
    pub(crate) globals: &'a [cnv_grammar::GrammarArgument],
    pub(crate) matches: &'a ArgMatches,
    pub(crate) agent: bool,
    pub(crate) justification: Option<&'a str>,
    pub(crate) yes: bool,
    pub(crate) config: &'a SessionConfig,
    /// The session's name: the program and the command (`workbench file write`).
    pub(crate) session_name: &'a str,
    pub(crate) prompt: &'a mut dyn Prompt,
    /// Set to the id of the call's session once it exists, so the command line can
    /// record how the call ended in the same session.
    pub(crate) session_id: &'a Cell<Option<SessionId>>,
    /// The environment the handler sees.
    pub(crate) vars: &'a Vars,
}

impl<'a> Dispatch<'a> {
    /// The call's arguments in full, as its session's creation records them (and a
    /// person asked to confirm or approve reads them).
    fn arguments(&self) -> Option<&'a serde_json::Map<String, serde_json::Value>> {
        self.config.call().map(|call| &call.args)
    }
}

/// The handler of an admitted call, given the workspace handle its class receives.
pub(crate) type RunHandler =
    Box<dyn FnOnce(Option<&Workspace>) -> Result<Output, HandlerError> + Send>;

/// A call the gate admitted: the handler, inside the session that holds its class,
/// ready to run where the command line confines that class (a worker process, or a
/// thread of this process).
pub(crate) struct Job {
    /// The contract of the verb (its class and band decide the sandbox and the deadline).
    pub(crate) contract: CapabilityContract,
    /// The session the call runs under, as a worker process is told it.
    pub(crate) session: JobSession,
    /// Runs the handler here with the workspace handle the class is given (none for
    /// classes that touch no files): for a command line that runs handlers in its own
    /// process.
    pub(crate) run: RunHandler,
}

/// The session of an admitted call, for a worker process to run the handler under.
pub(crate) struct JobSession {
    pub(crate) name: String,
    pub(crate) id: SessionId,
    pub(crate) mode: RunMode,
    pub(crate) justification: Option<String>,
}

/// An admitted call as a worker process runs it: what its handler's `Invocation` holds.
pub(crate) struct WorkerCall<'a> {
    pub(crate) command: &'a str,
    pub(crate) verb: &'a GrammarVerb,
    pub(crate) globals: &'a [cnv_grammar::GrammarArgument],
    pub(crate) matches: &'a ArgMatches,
    pub(crate) session: &'a str,
    pub(crate) session_id: SessionId,
    pub(crate) mode: RunMode,
    pub(crate) justification: Option<&'a str>,
    pub(crate) workspace: Option<&'a Workspace>,
    pub(crate) vars: &'a Vars,
}

/// The gate of one verb: a call's session from `Unverified` to the verb's class, and its
/// job.
pub(crate) type Admit = Box<dyn Fn(Dispatch<'_>) -> Result<Job, CallOutcome> + Send + Sync>;

/// The handler of one verb as a worker process runs it, for a call the command line
/// admitted.
pub(crate) type InWorker =
    Box<dyn Fn(WorkerCall<'_>) -> Result<Output, HandlerError> + Send + Sync>;

/// A handler with its class erased, as the command line stores it: the gate that admits
/// its calls, and the handler as a worker process runs it.
pub(crate) struct Erased {
    /// The gate.
    pub(crate) admit: Admit,
    /// The handler, in a worker.
    pub(crate) in_worker: InWorker,
}

/// Erases `handler`, keeping its class `C` — and the contract of its verb, typed by `C`,
/// that the command line checked when it was built — in the code that runs it.
pub(crate) fn erase<C, F>(contract: TypedContract<C>, handler: F) -> Erased
where
    C: TypedClass,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    let in_worker = {
        let handler = Arc::clone(&handler);
        Box::new(move |call: WorkerCall<'_>| {
            // The parent's gate admitted the call in this session, which holds `C`.
            let session =
                AdmittedElsewhere::__new(call.session, call.session_id, call.mode, contract);
            let invocation = Invocation {
                session: session.view(),
                command: call.command,
                verb: call.verb,
                globals: call.globals,
                matches: call.matches,
                agent: call.mode == RunMode::Autonomous,
                justification: call.justification,
                workspace: call.workspace,
                vars: call.vars,
            };
            handler(&invocation)
        })
    };
    Erased {
        admit: Box::new(move |dispatch: Dispatch<'_>| {
            if dispatch.agent {
                C::visit::<Autonomous, _>(Gate::new(dispatch, contract, &handler))
            } else {
                C::visit::<Supervised, _>(Gate::new(dispatch, contract, &handler))
            }
        }),
        in_worker,
    }
}

struct Gate<'a, 'f, C: ConstRisk, F> {
    dispatch: Dispatch<'a>,
    contract: TypedContract<C>,
    handler: &'f Arc<F>,
    class: PhantomData<fn() -> C>,
}

impl<'a, 'f, C, F> Gate<'a, 'f, C, F>
where
    C: ConstRisk,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
    fn new(dispatch: Dispatch<'a>, contract: TypedContract<C>, handler: &'f Arc<F>) -> Self {
        Self {
            dispatch,
            contract,
            handler,
            class: PhantomData,
        }
    }

    fn policy(&self) -> &EscalationPolicy {
        self.dispatch.config.policy()
    }

    /// What this call needs in mode `M`: the policy's one answer.
    fn requirement<M: SessionMode>(&self) -> Requirement {
        self.policy()
            .requirement(M::MODE, &self.contract.contract())
    }

    fn justification(&self) -> &'a str {
        self.dispatch.justification.unwrap_or("")
    }

    /// A new session for this call; refused if its creation could not be recorded.
    fn session<M: SessionMode>(&self) -> Result<TypedSession<Unverified, M>, CallOutcome> {
        let session = TypedSession::<Unverified, M>::with_config(
            self.dispatch.session_name,
            self.dispatch.config,
        );
        self.dispatch.session_id.set(Some(session.id()));
        recorded(&session)?;
        Ok(session)
    }

    /// The handler inside `session`, which holds `C`, as a job to run — only if every
    /// step that led there is in the audit trail.
    fn job<S, M>(&self, session: TypedSession<S, M>) -> Result<Job, CallOutcome>
    where
        S: Authorized<Current = C>,
        M: SessionMode,
    {
        recorded(&session)?;
        let handler = Arc::clone(self.handler);
        let command = self.dispatch.command.to_owned();
        let verb = self.dispatch.verb.clone();
        let globals = self.dispatch.globals.to_vec();
        let matches = self.dispatch.matches.clone();
        let agent = self.dispatch.agent;
        let justification = self.dispatch.justification.map(str::to_owned);
        let vars = self.dispatch.vars.clone();
        let job_session = JobSession {
            name: session.name().to_owned(),
            id: session.id(),
            mode: M::MODE,
            justification: justification.clone(),
        };
        Ok(Job {
            contract: self.contract.contract(),
            session: job_session,
            run: Box::new(move |workspace: Option<&Workspace>| {
                let invocation = Invocation {
                    session: session.view::<S::Origin, C>(),
                    command: &command,
                    verb: &verb,
                    globals: &globals,
                    matches: &matches,
                    agent,
                    justification: justification.as_deref(),
                    workspace,
                    vars: &vars,
                };
                session.execute(|| handler(&invocation))
            }),
        })
    }

    /// What the requirement asks before the session moves to `C`, other than an approval
    /// (which only [`ClassVisitor::approval_required`] can obtain): nothing, a
    /// justification, a person's confirmation; or a refusal. A confirmation asked as an
    /// approval (of the person at the caller's client) is returned, for the session's
    /// verification to record.
    fn admit<S, M>(
        &mut self,
        session: &mut TypedSession<S, M>,
    ) -> Result<Option<HumanApproval>, CallOutcome>
    where
        S: SessionState,
        M: SessionMode,
    {
        match self.requirement::<M>() {
            Requirement::Nothing => Ok(None),
            Requirement::Justification { min_chars } => self
                .require_justification(session, min_chars)
                .map(|()| None),
            Requirement::Confirmation { scripted } => self.confirm(session, scripted),
            Requirement::Never { rule } => Err(self.never(session, rule)),
            // The lattice sends a call that needs an approval to `approval_required`; no
            // other path may run it.
            Requirement::Approval { .. } => Err(self.never(session, Rule::HumanApproval)),
        }
    }

    /// A justification of at least `required` characters.
    fn require_justification<S, M>(
        &self,
        session: &mut TypedSession<S, M>,
        required: usize,
    ) -> Result<(), CallOutcome>
    where
        S: SessionState,
        M: SessionMode,
    {
        let from = session.class().unwrap_or(CapabilityClass::Pure);
        EscalationPolicy::check_justification(from, C::CLASS, required, self.justification())
            .map_err(|error| self.refuse(session, &error))
    }

    /// The caller-facing form of `error` for this call.
    fn refusal(&self, error: &EscalationError) -> Refusal {
        let mode = if self.dispatch.agent {
            RunMode::Autonomous
        } else {
            RunMode::Supervised
        };
        refusal(
            self.dispatch.command,
            self.contract.contract(),
            self.policy(),
            mode,
            self.dispatch.justification,
            error,
        )
    }

    /// Records a refusal the gate decided and returns it: exit 4 for a missing
    /// confirmation in human mode, exit 3 for everything else.
    fn refuse<S, M>(&self, session: &mut TypedSession<S, M>, error: &EscalationError) -> CallOutcome
    where
        S: SessionState,
        M: SessionMode,
    {
        if let Err(err) = session.record_denial(C::CLASS, self.justification(), error) {
            return CallOutcome::Refused(audit_refusal(&err));
        }
        self.refused::<M>(error)
    }

    /// The refusal by `error`, recorded, of a call in mode `M`.
    fn refused<M: SessionMode>(&self, error: &EscalationError) -> CallOutcome {
        let mut refusal = self.refusal(error);
        // A person could have confirmed it at a terminal (exit 4); an agent never can.
        refusal.unconfirmed = match (M::MODE, error) {
            (RunMode::Supervised, EscalationError::NotConfirmed { .. }) => true,
            (RunMode::Supervised | RunMode::Autonomous, _) => false,
        };
        CallOutcome::Refused(refusal)
    }

    /// [`refuse`](Self::refuse), for a request a person was asked and did not approve
    /// (`answer`): the denial's entry records their answer as its approval, when a person
    /// gave one.
    fn refuse_answered<S, M>(
        &self,
        session: &mut TypedSession<S, M>,
        error: &EscalationError,
        answer: &ApprovalError,
    ) -> CallOutcome
    where
        S: SessionState,
        M: SessionMode,
    {
        let Some(answer) = answer.answer(self.dispatch.prompt.channel(), C::CLASS) else {
            return self.refuse(session, error);
        };
        if let Err(err) =
            session.record_answered_denial(C::CLASS, self.justification(), error, answer)
        {
            return CallOutcome::Refused(audit_refusal(&err));
        }
        self.refused::<M>(error)
    }

    /// A person's confirmation; `scripted` when `--yes` will do. The person at the
    /// caller's client confirms by approving, and their approval is returned.
    fn confirm<S, M>(
        &mut self,
        session: &mut TypedSession<S, M>,
        scripted: bool,
    ) -> Result<Option<HumanApproval>, CallOutcome>
    where
        S: SessionState,
        M: SessionMode,
    {
        if scripted && self.dispatch.yes {
            return Ok(None);
        }
        let reason = if self.dispatch.prompt.confirms_by_approval() {
            let justification = self.justification();
            let mut request = session
                .approval_request(C::CLASS, justification)
                .with_action(self.dispatch.session_name);
            if let Some(arguments) = self.dispatch.arguments() {
                request = request.with_arguments(arguments);
            }
            match self.dispatch.prompt.approve(&request) {
                Ok(approval) => return Ok(Some(approval)),
                Err(err) => {
                    let error = EscalationError::NotConfirmed {
                        to: C::CLASS,
                        reason: format!("no confirmation was given ({err})"),
                    };
                    return Err(self.refuse_answered(session, &error, &err));
                }
            }
        } else if self.dispatch.prompt.is_interactive() {
            let question = confirmation_question(
                self.dispatch.session_name,
                C::CLASS,
                self.dispatch.arguments(),
            );
            match self.dispatch.prompt.confirm(&question) {
                Ok(true) => return Ok(None),
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

    /// The refusal of a call that never runs in this mode, by `rule`.
    fn never<S, M>(&self, session: &mut TypedSession<S, M>, rule: Rule) -> CallOutcome
    where
        S: SessionState,
        M: SessionMode,
    {
        let from = session.class().unwrap_or(CapabilityClass::Pure);
        let error = match rule {
            Rule::DangerousNeverAutonomous => EscalationError::DangerousInAutonomousMode { from },
            Rule::HumanApproval => EscalationError::ApprovalRequired { from, to: C::CLASS },
            _ => EscalationError::NotConfirmed {
                to: C::CLASS,
                reason: "no person is present in agent mode".to_owned(),
            },
        };
        self.refuse(session, &error)
    }
}

/// What a person is asked before a call of `class` runs: the command, its class, and
/// every argument on a line of its own (escaped, so no value can pose as another line or
/// as the question).
fn confirmation_question(
    command: &str,
    class: CapabilityClass,
    arguments: Option<&serde_json::Map<String, serde_json::Value>>,
) -> String {
    let mut question = format!(
        "`{}` needs `{class}` (risk {}: {})",
        escape_for_display(command),
        class.risk_level(),
        class.describe(),
    );
    match arguments.filter(|arguments| !arguments.is_empty()) {
        None => question.push_str(".\n"),
        Some(arguments) => {
            question.push_str(", with the arguments:\n");
            for (name, value) in arguments {
                question.push_str(&format!("    {}\n", shown_argument(name, value)));
            }
        }
    }
    question.push_str("Run it? [y/N] ");
    question
}

/// A step of `session` that its sink could not record stops the call: nothing runs
/// unrecorded (rule `audit_required`).
fn recorded<S: SessionState, M: SessionMode>(
    session: &TypedSession<S, M>,
) -> Result<(), CallOutcome> {
    match session.audit_error() {
        Some(err) => Err(CallOutcome::Refused(audit_refusal(err))),
        None => Ok(()),
    }
}

impl<C, M, F> ClassVisitor<C, M> for Gate<'_, '_, C, F>
where
    C: ConstRisk,
    M: SessionMode,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
    type Output = Result<Job, CallOutcome>;

    fn agent_safe(mut self) -> Self::Output
    where
        C: AgentSafeCapability + NoApprovalNeeded<M>,
    {
        let mut session = self.session::<M>()?;
        // Agent-safe: the requirement is nothing, and no person is asked.
        let _none = self.admit(&mut session)?;
        let session = session.verify(self.contract);
        self.job(session)
    }

    fn justified_or_confirmed(mut self) -> Self::Output
    where
        C: NoApprovalNeeded<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let session = self.session::<M>()?;
        match M::MODE {
            RunMode::Supervised => {
                let mut session = session;
                match self.admit(&mut session)? {
                    None => {
                        let session = session.verify(self.contract);
                        self.job(session)
                    }
                    // Confirmed by the person at the client: recorded with the session's
                    // verification.
                    Some(approval) => match session.verify_approved(self.contract, approval) {
                        Ok(session) => self.job(session),
                        Err(denied) => Err(CallOutcome::Refused(self.refusal(denied.error()))),
                    },
                }
            }
            // Agent mode: start at `Pure`, escalate with the caller's justification, which
            // the policy checks again in the typed escalation.
            RunMode::Autonomous => {
                let mut session = session.verify(CapabilityContract::pure());
                recorded(&session)?;
                // Agent mode: nobody is asked, so no approval comes back.
                let _none = self.admit(&mut session)?;
                match session.escalate(self.contract, self.justification()) {
                    Ok(session) => self.job(session),
                    // The refusal is already in the audit trail.
                    Err(denied) => Err(CallOutcome::Refused(self.refusal(denied.error()))),
                }
            }
        }
    }

    fn approval_required(self) -> Self::Output
    where
        C: AllowedIn<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let session = self.session::<M>()?;
        let mut session = session.verify(CapabilityContract::pure());
        recorded(&session)?;
        let required = match self.requirement::<M>() {
            Requirement::Approval { min_chars } => min_chars,
            Requirement::Never { rule } => return Err(self.never(&mut session, rule)),
            // Only a call that needs an approval comes here.
            Requirement::Nothing
            | Requirement::Justification { .. }
            | Requirement::Confirmation { .. } => {
                return Err(self.never(&mut session, Rule::HumanApproval));
            }
        };
        // Justify first, so nobody is asked to approve what the policy refuses anyway.
        self.require_justification(&mut session, required)?;
        let justification = self.justification();
        let approval = if self.dispatch.prompt.is_interactive() {
            let mut request = session
                .approval_request(C::CLASS, justification)
                .with_action(self.dispatch.session_name);
            if let Some(arguments) = self.dispatch.arguments() {
                request = request.with_arguments(arguments);
            }
            self.dispatch.prompt.approve(&request)
        } else {
            Err(ApprovalError::NotATerminal)
        };
        match approval {
            Ok(approval) => match session.escalate_approved(self.contract, justification, approval)
            {
                Ok(session) => self.job(session),
                Err(denied) => Err(CallOutcome::Refused(self.refusal(denied.error()))),
            },
            Err(err) => {
                let error = EscalationError::NotConfirmed {
                    to: C::CLASS,
                    reason: format!("no approval was given ({err})"),
                };
                Err(self.refuse_answered(&mut session, &error, &err))
            }
        }
    }

    fn forbidden(self) -> Self::Output {
        let session = self.session::<M>()?;
        let mut session = session.verify(CapabilityContract::pure());
        recorded(&session)?;
        let rule = match self.requirement::<M>() {
            Requirement::Never { rule } => rule,
            // The lattice forbids this path; whatever the policy says, it does not run.
            Requirement::Nothing
            | Requirement::Justification { .. }
            | Requirement::Confirmation { .. }
            | Requirement::Approval { .. } => Rule::DangerousNeverAutonomous,
        };
        Err(self.never(&mut session, rule))
    }
}

/// The caller-facing form of a refusal of `command` (declared with `contract`).
pub(crate) fn refusal(
    command: &str,
    contract: CapabilityContract,
    policy: &EscalationPolicy,
    mode: RunMode,
    justification: Option<&str>,
    error: &EscalationError,
) -> Refusal {
    let rule = error.rule();
    let class = contract.class();
    let safety = contract.safety();
    let plain = |message: String, hint: String| Refusal::new(rule, message, hint);
    match error {
        EscalationError::JustificationTooShort { required, given, .. } => {
            let problem = if justification.is_none() {
                "none was given".to_owned()
            } else {
                format!("the one given has {given}")
            };
            let why = format!(
                "saying in at least {required} characters why this command needs `{class}` ({})",
                class.describe()
            );
            let (message, hint) = match mode {
                RunMode::Autonomous => (
                    format!(
                        "`{command}` is not agent-safe (`{class}`, safety `{safety}`): in agent \
                         mode it needs a justification of at least {required} characters, and \
                         {problem} (rule `{rule}`)"
                    ),
                    format!("re-run with --justify \"…\", {why}"),
                ),
                // A person: the justification comes before their own approval.
                RunMode::Supervised => (
                    format!(
                        "`{command}` (`{class}`, safety `{safety}`) needs a justification of at \
                         least {required} characters before you approve it, and {problem} \
                         (rule `{rule}`)"
                    ),
                    format!(
                        "re-run with --justify \"…\", {why}; you are then asked to approve it"
                    ),
                ),
            };
            Refusal {
                required: Some(*required),
                given: Some(*given),
                ..plain(message, hint)
            }
        }
        EscalationError::DangerousInAutonomousMode { .. } => plain(
            format!(
                "`{command}` is `{class}`: it never runs in agent mode, whatever the \
                 justification (rule `{rule}`)"
            ),
            "ask a person to run it without --agent; they will be asked to approve it at a terminal"
                .to_owned(),
        ),
        EscalationError::NotConfirmed { reason, .. } => plain(
            format!(
                "`{command}` (`{class}`, safety `{safety}`) needs a person's confirmation, and \
                 {reason} (rule `{rule}`)"
            ),
            confirmation_hint(contract, policy),
        ),
        EscalationError::Audit(err) => audit_refusal(err),
        other => plain(
            format!("`{command}` was refused: {other}"),
            "see the rule named in the message".to_owned(),
        ),
    }
}

/// What a person does to confirm a call of `contract`, from what human mode needs.
fn confirmation_hint(contract: CapabilityContract, policy: &EscalationPolicy) -> String {
    match policy.requirement(RunMode::Supervised, &contract) {
        Requirement::Approval { .. } => {
            format!(
                "run it at a terminal, with --justify, and type `{}` when asked",
                contract.class()
            )
        }
        Requirement::Confirmation { scripted: false } => format!(
            "a person must run it at a terminal and answer the prompt; --yes is not enough \
             for an {} command, and agent mode never runs it",
            contract.safety()
        ),
        Requirement::Confirmation { scripted: true }
        | Requirement::Nothing
        | Requirement::Justification { .. }
        | Requirement::Never { .. } => {
            "run it at a terminal and answer the prompt, or pass --yes to confirm in a script"
                .to_owned()
        }
    }
}

/// The refusal when the audit trail cannot record: nothing runs unrecorded.
pub(crate) fn audit_refusal(error: &AuditError) -> Refusal {
    Refusal::new(
        Rule::AuditRequired,
        format!(
            "the audit trail cannot record this call, so nothing was run (rule `{}`): {error}",
            Rule::AuditRequired
        ),
        "fix the audit log (its path, its permissions, the disk), then retry",
    )
}
