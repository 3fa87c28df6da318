//! `TypedSession`: a named, audited session whose state and mode are types.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use cnv_audit::{
    AuditEntry, AuditError, AuditEvent, AuditSink, CallRecord, CallResult, MemorySink, Verdict,
};
use cnv_caps::{
    CapabilityClass, CapabilityContract, ConstRisk, Rule, RunMode, SessionId, TypedContract,
};

use crate::approval::{ApprovalRequest, HumanApproval};
use crate::error::EscalationError;
use crate::justify::Justifies;
use crate::lattice::{
    AllowedIn, Autonomous, EscalateFrom, NarrowFrom, NoApprovalNeeded, SessionMode,
};
use crate::policy::EscalationPolicy;
use crate::state::{Authorized, Escalated, Holds, SessionState, Unverified, Verified};

/// A session whose capability state `S` and mode `M` are part of its type.
///
/// * `S` is [`Unverified`], [`Verified<C>`] or [`Escalated<Origin, C>`]: what the session
///   holds. Only the methods of this type move it from one state to the next, and the
///   compiler refuses the forbidden moves.
/// * `M` is [`Autonomous`] (the default: an agent drives the session) or
///   [`Supervised`](crate::Supervised) (a human does).
///
/// ```
/// use cnv_caps::CapabilityContract;
/// use cnv_typestate::{TypedSession, Unverified};
///
/// let session = TypedSession::<Unverified>::with_name("my-app");
/// let session = session.verify(CapabilityContract::pure()); // TypedSession<Verified<Pure>>
/// assert_eq!(session.execute(|| 2 + 2), 4);
/// let session = session
///     .escalate(CapabilityContract::read_only(), "Need to read config file for initialization")
///     .expect("Pure -> ReadOnlyFS is always allowed");
/// assert_eq!(session.class(), Some(cnv_caps::CapabilityClass::ReadOnlyFS));
/// ```
///
/// Transitions take the session by value, so the old state cannot be used after it; a
/// refused escalation hands the session back in the [`Denied`] error. Every transition
/// and every refusal is an [`AuditEntry`] delivered to the session's [`AuditSink`].
/// [`execute`](Self::execute) is a plain call of the closure: it records nothing,
/// allocates nothing and takes no lock.
#[must_use = "a session does nothing until a method is called on it"]
pub struct TypedSession<S: SessionState, M: SessionMode = Autonomous> {
    /// Boxed, so that a session is one pointer: a transition moves 8 bytes, and a
    /// refused one hands back a small `Denied`.
    core: Box<Core>,
    marker: PhantomData<fn() -> (S, M)>,
}

/// What a session is at run time; the state and mode are only in the type.
struct Core {
    name: Box<str>,
    id: SessionId,
    contract: Option<CapabilityContract>,
    policy: Arc<EscalationPolicy>,
    sink: Arc<dyn AuditSink>,
    memory: Option<Arc<MemorySink>>,
    audit_error: Option<AuditError>,
}

impl Core {
    fn entry(&self, mode: RunMode, event: AuditEvent, outcome: Verdict) -> AuditEntry {
        AuditEntry::new(&self.name, self.id, mode, event, outcome)
    }

    /// Records `entry`; a failure is returned and also kept (the first one) until
    /// [`TypedSession::take_audit_error`].
    fn record(&mut self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.sink.record(entry).inspect_err(|err| {
            self.audit_error.get_or_insert_with(|| err.clone());
        })
    }
}

/// The policy and audit sink that sessions are created with. Clone it to create many
/// sessions that share one sink (an `Arc`).
///
/// ```
/// use std::sync::Arc;
/// use cnv_caps::CapabilityClass;
/// use cnv_audit::MemorySink;
/// use cnv_typestate::{EscalationPolicy, SessionConfig, Supervised, TypedSession, Unverified};
///
/// let log = Arc::new(MemorySink::new());
/// let config = SessionConfig::new(log.clone())
///     .with_policy(EscalationPolicy::default().with_min_justification(CapabilityClass::Network, 60));
/// let a = TypedSession::<Unverified, Supervised>::with_config("first", &config);
/// let b = TypedSession::<Unverified>::with_config("second", &config);
/// assert_eq!(log.len(), 2);
/// # let _ = (a, b);
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    policy: Arc<EscalationPolicy>,
    sink: Arc<dyn AuditSink>,
    call: Option<Arc<CallRecord>>,
}

impl SessionConfig {
    /// Sessions that record to `sink` under the default policy.
    #[must_use]
    pub fn new(sink: Arc<dyn AuditSink>) -> Self {
        Self {
            policy: Arc::new(EscalationPolicy::default()),
            sink,
            call: None,
        }
    }

    /// The same configuration for sessions made for `call`: the entry that creates each
    /// session records the call in full (its command, every argument, how it arrived),
    /// so the trail says what ran without a name cut to fit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cnv_audit::{CallOrigin, CallRecord, MemorySink};
    /// use cnv_typestate::{SessionConfig, TypedSession, Unverified};
    ///
    /// let log = Arc::new(MemorySink::new());
    /// let call = CallRecord::new("calc sum", serde_json::Map::new(), CallOrigin::CommandLine);
    /// let config = SessionConfig::new(log.clone()).with_call(call.clone());
    /// let _session = TypedSession::<Unverified>::with_config("workbench calc sum", &config);
    /// assert_eq!(log.entries()[0].call, Some(call));
    /// ```
    #[must_use]
    pub fn with_call(self, call: CallRecord) -> Self {
        Self {
            call: Some(Arc::new(call)),
            ..self
        }
    }

    /// The call sessions are made for, if any.
    #[must_use]
    pub fn call(&self) -> Option<&CallRecord> {
        self.call.as_deref()
    }

    /// The same configuration with another policy.
    #[must_use]
    pub fn with_policy(self, policy: EscalationPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
            ..self
        }
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &EscalationPolicy {
        &self.policy
    }

    /// The sink.
    #[must_use]
    pub fn sink(&self) -> &Arc<dyn AuditSink> {
        &self.sink
    }
}

impl<M: SessionMode> TypedSession<Unverified, M> {
    /// A new session named `name`, with the default policy, recording to a fresh
    /// in-memory log ([`audit_log`](Self::audit_log)). Records its creation.
    pub fn with_name(name: impl Into<String>) -> Self {
        let memory = Arc::new(MemorySink::new());
        Self::create(
            name.into(),
            Arc::new(EscalationPolicy::default()),
            memory.clone(),
            Some(memory),
            None,
        )
    }

    /// A new session named `name`, with the policy and sink of `config`. Records its
    /// creation; if the sink fails, the error is kept (see
    /// [`audit_error`](Self::audit_error)).
    pub fn with_config(name: impl Into<String>, config: &SessionConfig) -> Self {
        Self::create(
            name.into(),
            config.policy.clone(),
            config.sink.clone(),
            None,
            config.call(),
        )
    }

    fn create(
        name: String,
        policy: Arc<EscalationPolicy>,
        sink: Arc<dyn AuditSink>,
        memory: Option<Arc<MemorySink>>,
        call: Option<&CallRecord>,
    ) -> Self {
        let mut core = Box::new(Core {
            name: name.into_boxed_str(),
            id: SessionId::new_v4(),
            contract: None,
            policy,
            sink,
            memory,
            audit_error: None,
        });
        let mut entry = core.entry(M::MODE, AuditEvent::Create, Verdict::Allowed);
        entry.call = call.cloned();
        // A failure is kept in the session, which then refuses to escalate.
        let _kept = core.record(&entry);
        Self {
            core,
            marker: PhantomData,
        }
    }

    /// Verifies the session with a typed contract: the session holds the contract's class
    /// `C`, named by the contract's type (`CapabilityContract::pure()` gives
    /// `Verified<Pure>`). Records the verification.
    ///
    /// Every class but `Dangerous` can be verified in either mode. `Dangerous` cannot be
    /// verified at all: an `Autonomous` session can never hold it, and a `Supervised` one
    /// reaches it only by [`escalate_approved`](Self::escalate_approved).
    pub fn verify<C>(mut self, contract: TypedContract<C>) -> TypedSession<Verified<C>, M>
    where
        C: NoApprovalNeeded<M>,
    {
        let mut entry = self
            .core
            .entry(M::MODE, AuditEvent::Verify, Verdict::Allowed);
        entry.to = Some(C::CLASS);
        // A failure is kept in the session, which then refuses to escalate.
        let _kept = self.core.record(&entry);
        self.core.contract = Some(contract.into());
        self.transition()
    }

    /// Verifies the session as [`verify`](Self::verify) does, for a call a person
    /// confirmed with `approval` (asked through the caller's client, say): the
    /// verification's entry records the approval and the rule
    /// ([`Rule::HumanConfirmation`]), so the trail says who let the call run, and how.
    ///
    /// # Errors
    ///
    /// [`Denied`] with [`EscalationError::ApprovalMismatch`], and the session unchanged,
    /// when the approval was given for another session or class; the denial is recorded.
    pub fn verify_approved<C>(
        mut self,
        contract: TypedContract<C>,
        approval: HumanApproval,
    ) -> Result<TypedSession<Verified<C>, M>, Denied<Self>>
    where
        C: NoApprovalNeeded<M>,
    {
        let matched = approval
            .matches_session(self.core.id)
            .and_then(|()| approval.matches_class(C::CLASS));
        let mut entry = self
            .core
            .entry(M::MODE, AuditEvent::Verify, Verdict::Allowed);
        entry.to = Some(C::CLASS);
        entry.approval = Some(approval.describe());
        entry.rule = Some(Rule::HumanConfirmation);
        if let Err(error) = matched {
            entry.outcome = Verdict::Denied;
            entry.rule = Some(error.rule());
            entry.detail = Some(error.to_string());
            // A failure is kept in the session, which then refuses to escalate.
            let _kept = self.core.record(&entry);
            return Err(Denied {
                error,
                session: self,
            });
        }
        // A failure is kept in the session, which then refuses to escalate.
        let _kept = self.core.record(&entry);
        self.core.contract = Some(contract.into());
        Ok(self.transition())
    }
}

impl<S: SessionState, M: SessionMode> TypedSession<S, M> {
    /// The session's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The session's unique id.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.core.id
    }

    /// The session's mode as a run-time value.
    #[must_use]
    pub fn mode(&self) -> RunMode {
        M::MODE
    }

    /// The class the session holds, `None` while unverified.
    #[must_use]
    pub fn class(&self) -> Option<CapabilityClass> {
        S::CURRENT
    }

    /// The run-time contract of the last verification, escalation or narrowing.
    #[must_use]
    pub fn contract(&self) -> Option<CapabilityContract> {
        self.core.contract
    }

    /// The session's policy.
    #[must_use]
    pub fn policy(&self) -> &EscalationPolicy {
        &self.core.policy
    }

    /// The session's audit sink.
    #[must_use]
    pub fn sink(&self) -> &Arc<dyn AuditSink> {
        &self.core.sink
    }

    /// The in-memory audit log, when the session records to one it created itself
    /// ([`with_name`](TypedSession::with_name)); `None` for a session made
    /// [`with_config`](TypedSession::with_config), whose sink the caller already holds.
    #[must_use]
    pub fn audit_log(&self) -> Option<&MemorySink> {
        self.core.memory.as_deref()
    }

    /// The first error of the audit sink that has not been taken yet.
    ///
    /// `with_name`, `with_config`, `verify` and `narrow` return a session, not a
    /// `Result`, so a sink failure while recording them is kept here. While an error is
    /// kept, every escalation is refused with [`EscalationError::Audit`]: an escalation
    /// that cannot be recorded does not happen.
    #[must_use]
    pub fn audit_error(&self) -> Option<&AuditError> {
        self.core.audit_error.as_ref()
    }

    /// Takes the kept audit error, after dealing with it, so that escalations are
    /// decided again.
    pub fn take_audit_error(&mut self) -> Option<AuditError> {
        self.core.audit_error.take()
    }

    /// What to show a human who is asked to approve an escalation of this session to
    /// `to` (see [`HumanApproval`]).
    #[must_use]
    pub fn approval_request<'a>(
        &'a self,
        to: CapabilityClass,
        justification: &'a str,
    ) -> ApprovalRequest<'a> {
        ApprovalRequest {
            session_name: &self.core.name,
            session_id: self.core.id,
            mode: M::MODE,
            from: S::CURRENT,
            to,
            justification,
            action: None,
            arguments: None,
        }
    }

    /// Records a denial that the program decided at run time (a CLI refusing a verb in
    /// agent mode, say): an escalation from the session's class to `to`, refused by
    /// `error`.
    ///
    /// # Errors
    ///
    /// The sink's error, which is also kept (see [`audit_error`](Self::audit_error)).
    pub fn record_denial(
        &mut self,
        to: CapabilityClass,
        justification: &str,
        error: &EscalationError,
    ) -> Result<(), AuditError> {
        let entry = AuditEntry::denial(
            &self.core.name,
            self.core.id,
            M::MODE,
            S::CURRENT,
            to,
            justification,
            error,
        );
        self.core.record(&entry)
    }

    /// Records a denial as [`record_denial`](Self::record_denial) does, for a request a
    /// person answered and did not approve: `answer` (what
    /// [`ApprovalError::answer`](crate::ApprovalError::answer) describes: declined,
    /// dismissed, answered wrongly) is recorded as the entry's approval.
    ///
    /// # Errors
    ///
    /// The sink's error, which is also kept (see [`audit_error`](Self::audit_error)).
    pub fn record_answered_denial(
        &mut self,
        to: CapabilityClass,
        justification: &str,
        error: &EscalationError,
        answer: String,
    ) -> Result<(), AuditError> {
        let mut entry = AuditEntry::denial(
            &self.core.name,
            self.core.id,
            M::MODE,
            S::CURRENT,
            to,
            justification,
            error,
        );
        entry.approval = Some(answer);
        self.core.record(&entry)
    }

    /// Records the end of the call the session was made for: how it ended and the exit
    /// code the caller was given (an [`AuditEvent::Finish`] entry; an
    /// [`AuditLog`](cnv_audit::AuditLog) signs a checkpoint there). Code that cannot reach
    /// the session — a watchdog thread — records [`AuditEntry::finish`] through the sink
    /// instead.
    ///
    /// # Errors
    ///
    /// The sink's error, which is also kept (see [`audit_error`](Self::audit_error)).
    pub fn record_finish(&mut self, result: CallResult) -> Result<(), AuditError> {
        let mut entry = AuditEntry::finish(&self.core.name, self.core.id, M::MODE, result);
        entry.to = S::CURRENT;
        self.core.record(&entry)
    }

    /// Runs `f` under the session's capability and returns what it returns.
    ///
    /// Only a session that holds a capability (verified or escalated) can execute. The
    /// call is the closure call: nothing is recorded, allocated, locked or cloned — and
    /// nothing is confined. The name is the specification's; what the session proves is
    /// that the capability was granted, by type. Keeping `f` to what the capability allows
    /// is the kernel's job: a command line runs each handler in a worker its
    /// `cnv-sandbox` confines to the class (`cnv-cli`'s `execute.rs`), and a program that
    /// calls `execute` itself confines its own code.
    #[inline]
    pub fn execute<R>(&self, f: impl FnOnce() -> R) -> R
    where
        S: Authorized,
    {
        f()
    }

    /// A borrowed view of the session for code that only needs to know that it holds
    /// `S::Current` — a handler stored as `Box<dyn Fn(SessionRef<'_, Network>)>`, say.
    #[must_use]
    pub fn view<O: ConstRisk, C: ConstRisk>(&self) -> SessionRef<'_, C>
    where
        S: Holds<O, C>,
    {
        SessionRef {
            core: &self.core,
            mode: M::MODE,
            class: PhantomData,
        }
    }

    /// Checks, under the session's policy and mode, whether it could escalate from its
    /// class to `to` with `justification` — for a program that learns the target at run
    /// time. A refusal is recorded; an acceptance is not (nothing happened yet).
    ///
    /// # Errors
    ///
    /// The [`EscalationError`] of the rule that refuses; a kept audit error is
    /// [`EscalationError::Audit`].
    pub fn check_escalation(
        &mut self,
        to: CapabilityClass,
        justification: &str,
    ) -> Result<(), EscalationError>
    where
        S: Authorized,
    {
        if let Some(err) = &self.core.audit_error {
            return Err(EscalationError::Audit(err.clone()));
        }
        let from = <S::Current as ConstRisk>::CLASS;
        let decision = self.core.policy.check(M::MODE, from, to, justification);
        if let Err(error) = &decision {
            // A failure is kept in the session, which then refuses to escalate.
            let _kept = self.record_denial(to, justification, error);
        }
        decision
    }

    /// Escalates to the class of `to`, which must be riskier than the current class,
    /// with a justification the policy checks. Records the escalation or its refusal.
    ///
    /// Compile-time rules: the session must hold a capability (`S: Authorized`); `C2`
    /// must be riskier than the current class (to go down, [`narrow`](Self::narrow));
    /// and `C2` cannot be `Dangerous` (see [`escalate_approved`](Self::escalate_approved)).
    /// The justification is a `&str`, or a [`justify!`](crate::justify) literal checked
    /// at compile time.
    ///
    /// # Errors
    ///
    /// [`Denied`], holding the [`EscalationError`] and the unchanged session, when the
    /// policy refuses or the audit sink fails (an escalation that cannot be recorded does
    /// not happen). Retry with a better justification, or go on at the current class.
    pub fn escalate<'j, O: ConstRisk, C: ConstRisk, C2>(
        self,
        to: TypedContract<C2>,
        justification: impl Justifies<'j, C2>,
    ) -> Result<TypedSession<Escalated<O, C2>, M>, Denied<Self>>
    where
        S: Holds<O, C>,
        C2: EscalateFrom<C> + NoApprovalNeeded<M>,
    {
        self.escalate_to::<C, C2, _>(to, justification.into_justification().as_str(), None)
    }

    /// Escalates with a human's approval: the only way a [`Supervised`](crate::Supervised)
    /// session reaches `Dangerous`, and never possible for an `Autonomous` one. The
    /// approval must have been given for this session, this class and this justification
    /// (see [`approval_request`](Self::approval_request)); the policy's other rules apply
    /// as for [`escalate`](Self::escalate).
    ///
    /// # Errors
    ///
    /// As `escalate`; an approval given for something else is
    /// [`EscalationError::ApprovalMismatch`].
    pub fn escalate_approved<'j, O: ConstRisk, C: ConstRisk, C2>(
        self,
        to: TypedContract<C2>,
        justification: impl Justifies<'j, C2>,
        approval: HumanApproval,
    ) -> Result<TypedSession<Escalated<O, C2>, M>, Denied<Self>>
    where
        S: Holds<O, C>,
        C2: EscalateFrom<C> + AllowedIn<M>,
    {
        self.escalate_to::<C, C2, _>(
            to,
            justification.into_justification().as_str(),
            Some(approval),
        )
    }

    /// Gives up capability: the session holds the class of `to`, which must be less risky
    /// than the current class. Needs no justification; recorded.
    pub fn narrow<O: ConstRisk, C: ConstRisk, C2>(
        mut self,
        to: TypedContract<C2>,
    ) -> TypedSession<Verified<C2>, M>
    where
        S: Holds<O, C>,
        C2: NarrowFrom<C>,
    {
        let mut entry = self
            .core
            .entry(M::MODE, AuditEvent::Narrow, Verdict::Allowed);
        entry.from = Some(C::CLASS);
        entry.to = Some(C2::CLASS);
        // A failure is kept in the session, which then refuses to escalate.
        let _kept = self.core.record(&entry);
        self.core.contract = Some(to.into());
        self.transition()
    }

    /// The escalation itself, from `C` (the current class) to `C2`.
    fn escalate_to<C: ConstRisk, C2: ConstRisk, T: SessionState>(
        mut self,
        to: TypedContract<C2>,
        justification: &str,
        approval: Option<HumanApproval>,
    ) -> Result<TypedSession<T, M>, Denied<Self>> {
        if let Some(err) = &self.core.audit_error {
            let error = EscalationError::Audit(err.clone());
            return Err(Denied {
                error,
                session: self,
            });
        }
        let from = C::CLASS;
        let policy = &self.core.policy;
        let decision = match &approval {
            None => policy.check(M::MODE, from, C2::CLASS, justification),
            Some(approval) => approval.matches_session(self.core.id).and_then(|()| {
                policy.check_approved(M::MODE, from, C2::CLASS, justification, approval)
            }),
        };
        let mut entry = self
            .core
            .entry(M::MODE, AuditEvent::Escalate, Verdict::Allowed);
        entry.from = Some(from);
        entry.to = Some(C2::CLASS);
        entry.justification = Some(justification.to_owned());
        entry.approval = approval.as_ref().map(HumanApproval::describe);
        match decision {
            Err(error) => {
                entry.outcome = Verdict::Denied;
                entry.rule = Some(error.rule());
                entry.detail = Some(error.to_string());
                // A failure is kept in the session, which then refuses to escalate.
                let _kept = self.core.record(&entry);
                Err(Denied {
                    error,
                    session: self,
                })
            }
            Ok(()) => {
                entry.rule = Some(if approval.is_some() {
                    Rule::HumanApproval
                } else {
                    Rule::MinJustification
                });
                if let Err(err) = self.core.record(&entry) {
                    return Err(Denied {
                        error: EscalationError::Audit(err),
                        session: self,
                    });
                }
                self.core.contract = Some(to.into());
                Ok(self.transition())
            }
        }
    }

    fn transition<T: SessionState>(self) -> TypedSession<T, M> {
        TypedSession {
            core: self.core,
            marker: PhantomData,
        }
    }
}

struct StateName<S>(PhantomData<S>);

impl<S: SessionState> fmt::Debug for StateName<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        S::fmt_name(f)
    }
}

impl<S: SessionState, M: SessionMode> fmt::Debug for TypedSession<S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedSession")
            .field("name", &self.core.name)
            .field("id", &self.core.id)
            .field("state", &StateName::<S>(PhantomData))
            .field("mode", &M::MODE)
            .finish_non_exhaustive()
    }
}

/// A session that another process admitted to hold `C`, as the worker process that runs
/// its call sees it: `cnv-cli` runs each handler in a confined worker process, and the
/// session whose transitions its gate recorded lives in the parent. Only that command
/// line makes one, for a call its gate admitted; it records nothing. Not part of the
/// public API.
#[doc(hidden)]
pub struct AdmittedElsewhere<C: ConstRisk> {
    core: Core,
    mode: RunMode,
    class: PhantomData<fn() -> C>,
}

impl<C: ConstRisk> AdmittedElsewhere<C> {
    /// The session `name` (`id`, in `mode`) that the parent process's gate brought to
    /// `contract`'s class `C`.
    #[doc(hidden)]
    #[must_use]
    pub fn __new(name: &str, id: SessionId, mode: RunMode, contract: TypedContract<C>) -> Self {
        Self {
            core: Core {
                name: name.into(),
                id,
                contract: Some(contract.contract()),
                policy: Arc::new(EscalationPolicy::default()),
                sink: Arc::new(MemorySink::new()),
                memory: None,
                audit_error: None,
            },
            mode,
            class: PhantomData,
        }
    }

    /// The view a handler receives.
    #[must_use]
    pub fn view(&self) -> SessionRef<'_, C> {
        SessionRef {
            core: &self.core,
            mode: self.mode,
            class: PhantomData,
        }
    }
}

impl<C: ConstRisk> fmt::Debug for AdmittedElsewhere<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdmittedElsewhere")
            .field("name", &self.core.name)
            .field("id", &self.core.id)
            .field("class", &C::CLASS)
            .finish_non_exhaustive()
    }
}

/// A borrowed view of a session that holds class `C`, however it got there (verified or
/// escalated) and in whichever mode. Handlers that are stored (and so cannot be generic)
/// take one; only a session that holds `C` can make it ([`TypedSession::view`]).
#[derive(Clone, Copy)]
pub struct SessionRef<'a, C: ConstRisk> {
    core: &'a Core,
    mode: RunMode,
    class: PhantomData<fn() -> C>,
}

impl<C: ConstRisk> SessionRef<'_, C> {
    /// The session's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The session's id.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.core.id
    }

    /// The session's mode.
    #[must_use]
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// The class the session holds: `C`.
    #[must_use]
    pub fn class(&self) -> CapabilityClass {
        C::CLASS
    }

    /// The session's run-time contract.
    #[must_use]
    pub fn contract(&self) -> Option<CapabilityContract> {
        self.core.contract
    }

    /// Runs `f`, as [`TypedSession::execute`] does.
    #[inline]
    pub fn execute<R>(&self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

impl<C: ConstRisk> fmt::Debug for SessionRef<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRef")
            .field("name", &self.core.name)
            .field("id", &self.core.id)
            .field("class", &C::CLASS)
            .field("mode", &self.mode)
            .finish()
    }
}

/// A refused escalation: the [`EscalationError`] and the session, unchanged, to retry
/// or go on with at its current class.
///
/// It converts into the `EscalationError` (`?` in a function returning one), and prints
/// as it.
pub struct Denied<T> {
    error: EscalationError,
    session: T,
}

impl<T> Denied<T> {
    /// Why.
    #[must_use]
    pub fn error(&self) -> &EscalationError {
        &self.error
    }

    /// The session, unchanged.
    #[must_use]
    pub fn into_session(self) -> T {
        self.session
    }

    /// The error and the session.
    #[must_use]
    pub fn into_parts(self) -> (EscalationError, T) {
        (self.error, self.session)
    }
}

impl<T: fmt::Debug> fmt::Debug for Denied<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denied")
            .field("error", &self.error)
            .field("session", &self.session)
            .finish()
    }
}

impl<T> fmt::Display for Denied<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T: fmt::Debug> std::error::Error for Denied<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl<T> From<Denied<T>> for EscalationError {
    fn from(denied: Denied<T>) -> Self {
        denied.error
    }
}

// A session's state costs no bytes: every state has the same layout.
const _: () = {
    use cnv_caps::{Network, Pure};
    use core::mem::size_of;
    assert!(size_of::<TypedSession<Unverified>>() == size_of::<TypedSession<Verified<Pure>>>());
    assert!(
        size_of::<TypedSession<Verified<Pure>>>()
            == size_of::<TypedSession<Escalated<Pure, Network>, crate::Supervised>>()
    );
    assert!(size_of::<TypedSession<Unverified>>() == size_of::<usize>());
    assert!(size_of::<SessionRef<'static, Pure>>() <= 2 * size_of::<usize>());
};
