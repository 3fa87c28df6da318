//! Sessions end to end: transitions, denials that hand the session back, the audit
//! trail of each, approvals, and sinks that fail.

use std::sync::Arc;

use cnv_audit::*;
use cnv_caps::{
    CapabilityClass, CapabilityContract, ConstRisk, Dangerous, Environment, Network, Pure,
    ReadOnlyFS, ReadWriteFS, ResourceBand, Subprocess,
};
use cnv_typestate::*;

const NETWORK_WHY: &str = "Download the signed release index from the mirror";
const SUBPROCESS_WHY: &str = "Run the project's own test suite with cargo to check the fix";
const DANGEROUS_WHY: &str = "Drop and recreate the staging database before the migration rehearsal";

fn approve<S: SessionState, M: SessionMode>(
    session: &TypedSession<S, M>,
    to: CapabilityClass,
    why: &str,
) -> HumanApproval {
    let request = session.approval_request(to, why);
    let mut prompt = Vec::new();
    let approval = HumanApproval::confirm_with(to.name().as_bytes(), &mut prompt, &request)
        .expect("the answer is the class name");
    let prompt = String::from_utf8(prompt).expect("utf-8");
    assert!(prompt.contains(why), "{prompt}");
    assert!(
        prompt.contains(&format!("Type `{to}` to approve")),
        "{prompt}"
    );
    approval
}

#[test]
fn verify_then_escalate_is_recorded_step_by_step() {
    let session = TypedSession::<Unverified>::with_name("my-app");
    assert_eq!(session.class(), None);
    assert_eq!(session.mode(), RunMode::Autonomous);
    let session = session.verify(CapabilityContract::pure());
    assert_eq!(session.class(), Some(CapabilityClass::Pure));
    assert_eq!(session.execute(|| "pure"), "pure");
    let session = session
        .escalate(
            CapabilityContract::read_only(),
            "Need to read config file for initialization",
        )
        .expect("Escalation approved");
    assert_eq!(session.execute(|| 7), 7);
    assert_eq!(
        session.contract().map(|c| c.band()),
        Some(ResourceBand::Fast)
    );

    let entries = session.audit_log().expect("in memory").entries();
    let steps: Vec<_> = entries
        .iter()
        .map(|e| (e.event, e.outcome, e.from, e.to))
        .collect();
    assert_eq!(
        steps,
        [
            (AuditEvent::Create, Verdict::Allowed, None, None),
            (
                AuditEvent::Verify,
                Verdict::Allowed,
                None,
                Some(CapabilityClass::Pure)
            ),
            (
                AuditEvent::Escalate,
                Verdict::Allowed,
                Some(CapabilityClass::Pure),
                Some(CapabilityClass::ReadOnlyFS)
            ),
        ]
    );
    for entry in &entries {
        assert_eq!(entry.session, "my-app");
        assert_eq!(entry.session_id, session.id());
        assert_eq!(entry.mode, RunMode::Autonomous);
    }
    assert_eq!(
        entries[2].justification.as_deref(),
        Some("Need to read config file for initialization")
    );
    assert_eq!(entries[2].rule, Some(Rule::MinJustification));
}

#[test]
fn a_denial_hands_the_session_back_and_a_retry_can_succeed() {
    let session =
        TypedSession::<Unverified>::with_name("agent").verify(CapabilityContract::read_only());
    let denied = session
        .escalate(CapabilityContract::read_write(), "tidy up")
        .expect_err("7 characters are fewer than 20");
    assert_eq!(denied.error().rule(), Rule::MinJustification);
    assert!(denied.to_string().contains("needs at least 20"), "{denied}");
    let session: TypedSession<Verified<ReadOnlyFS>> = denied.into_session();
    // Still usable at its current class.
    assert_eq!(session.execute(|| 1), 1);
    let session = session
        .escalate(
            CapabilityContract::read_write(),
            "Write the generated lockfile next to the manifest",
        )
        .expect("long enough");
    let entries = session.audit_log().expect("in memory").entries();
    let denial = &entries[2];
    assert_eq!(
        (denial.event, denial.outcome),
        (AuditEvent::Escalate, Verdict::Denied)
    );
    assert_eq!(denial.rule, Some(Rule::MinJustification));
    assert_eq!(denial.justification.as_deref(), Some("tidy up"));
    assert!(
        denial
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("needs at least 20")
    );
    assert_eq!(entries[3].outcome, Verdict::Allowed);
    assert_eq!(entries.len(), 4);
}

#[test]
fn denied_converts_into_the_escalation_error_for_question_mark() {
    fn escalate(
        session: TypedSession<Verified<Pure>>,
    ) -> Result<TypedSession<Escalated<Pure, Subprocess>>, EscalationError> {
        Ok(session.escalate(CapabilityContract::subprocess(), "run make")?)
    }
    let err =
        escalate(TypedSession::<Unverified>::with_name("x").verify(CapabilityContract::pure()))
            .unwrap_err();
    assert!(matches!(
        err,
        EscalationError::JustificationTooShort {
            required: 50,
            given: 8,
            ..
        }
    ));
}

#[test]
fn chains_keep_the_origin_and_narrowing_goes_back_down() {
    let session = TypedSession::<Unverified>::with_name("chain").verify(CapabilityContract::pure());
    let session = session
        .escalate(CapabilityContract::network(), NETWORK_WHY)
        .expect("30+");
    let session: TypedSession<Escalated<Pure, Subprocess>> = session
        .escalate(CapabilityContract::subprocess(), SUBPROCESS_WHY)
        .expect("50+");
    let debug = format!("{session:?}");
    assert!(debug.contains("Escalated<Pure, Subprocess>"), "{debug}");
    let session: TypedSession<Verified<Environment>> =
        session.narrow(CapabilityContract::environment());
    assert_eq!(session.class(), Some(CapabilityClass::Environment));
    let entries = session.audit_log().expect("in memory").entries();
    let last = entries.last().expect("entries");
    assert_eq!(last.event, AuditEvent::Narrow);
    assert_eq!(last.from, Some(CapabilityClass::Subprocess));
    assert_eq!(last.to, Some(CapabilityClass::Environment));
}

#[test]
fn justify_literals_are_accepted_by_escalate() {
    let session = TypedSession::<Unverified>::with_name("j").verify(CapabilityContract::pure());
    let session = session
        .escalate(
            CapabilityContract::network(),
            justify!(Network, "Download the signed release index from the mirror"),
        )
        .expect("checked at compile time, accepted at run time");
    assert_eq!(session.class(), Some(CapabilityClass::Network));
}

#[test]
fn a_stricter_policy_still_checks_justify_literals_at_run_time() {
    let log = Arc::new(MemorySink::new());
    let config = SessionConfig::new(log.clone()).with_policy(
        EscalationPolicy::default().with_min_justification(CapabilityClass::Network, 100),
    );
    let session = TypedSession::<Unverified>::with_config("strict", &config)
        .verify(CapabilityContract::pure());
    let denied = session
        .escalate(
            CapabilityContract::network(),
            justify!(Network, "Download the signed release index from the mirror"),
        )
        .expect_err("100 characters required");
    assert!(matches!(
        denied.error(),
        EscalationError::JustificationTooShort { required: 100, .. }
    ));
    assert!(
        denied.into_session().audit_log().is_none(),
        "with_config: the caller holds the sink"
    );
    assert_eq!(log.len(), 3);
}

#[test]
fn supervised_sessions_reach_dangerous_with_a_matching_approval() {
    let session = TypedSession::<Unverified, Supervised>::with_name("ops")
        .verify(CapabilityContract::subprocess());
    let approval = approve(&session, CapabilityClass::Dangerous, DANGEROUS_WHY);
    assert_eq!(approval.class(), CapabilityClass::Dangerous);
    assert_eq!(approval.session_id(), session.id());
    assert_eq!(approval.channel(), ApprovalChannel::Program);
    let session = session
        .escalate_approved(CapabilityContract::dangerous(), DANGEROUS_WHY, approval)
        .expect("approved");
    assert_eq!(session.class(), Some(CapabilityClass::Dangerous));
    let entries = session.audit_log().expect("in memory").entries();
    let last = entries.last().expect("entries");
    assert_eq!(last.rule, Some(Rule::HumanApproval));
    assert!(
        last.approval
            .as_deref()
            .unwrap_or("")
            .starts_with("approved through the program's own channel"),
        "{last:?}"
    );
}

#[test]
fn an_approval_for_something_else_is_refused() {
    let first =
        TypedSession::<Unverified, Supervised>::with_name("a").verify(CapabilityContract::pure());
    let second =
        TypedSession::<Unverified, Supervised>::with_name("b").verify(CapabilityContract::pure());
    // Given for another session.
    let approval = approve(&first, CapabilityClass::Dangerous, DANGEROUS_WHY);
    let denied = second
        .escalate_approved(CapabilityContract::dangerous(), DANGEROUS_WHY, approval)
        .expect_err("another session");
    assert!(matches!(
        denied.error(),
        EscalationError::ApprovalMismatch { .. }
    ));
    let second = denied.into_session();
    // Given for another justification.
    let approval = approve(&second, CapabilityClass::Dangerous, DANGEROUS_WHY);
    let other = "Something else entirely, long enough to pass the threshold of 50";
    let denied = second
        .escalate_approved(CapabilityContract::dangerous(), other, approval)
        .expect_err("another justification");
    assert_eq!(denied.error().rule(), Rule::HumanApproval);
    // Given for another class.
    let second = denied.into_session();
    let approval = approve(&second, CapabilityClass::Subprocess, SUBPROCESS_WHY);
    let denied = second
        .escalate_approved(CapabilityContract::dangerous(), SUBPROCESS_WHY, approval)
        .expect_err("another class");
    assert!(matches!(
        denied.error(),
        EscalationError::ApprovalMismatch { .. }
    ));
    // An approval does not lift the length rule.
    let second = denied.into_session();
    let approval = approve(&second, CapabilityClass::Dangerous, "drop it");
    let denied = second
        .escalate_approved(CapabilityContract::dangerous(), "drop it", approval)
        .expect_err("7 of 50 characters");
    assert_eq!(denied.error().rule(), Rule::MinJustification);
}

#[test]
fn a_wrong_answer_is_a_refusal() {
    let session =
        TypedSession::<Unverified, Supervised>::with_name("ops").verify(CapabilityContract::pure());
    let request = session.approval_request(CapabilityClass::Dangerous, DANGEROUS_WHY);
    for answer in ["y\n", "yes\n", "dangerous\n", "\n", ""] {
        let err = HumanApproval::confirm_with(answer.as_bytes(), Vec::new(), &request)
            .expect_err("only the class name approves");
        assert!(
            matches!(err, ApprovalError::Refused { .. }),
            "{answer:?}: {err}"
        );
    }
}

#[test]
fn the_terminal_path_refuses_without_a_terminal() {
    // Tests run with piped standard streams, as an agent would.
    let session =
        TypedSession::<Unverified, Supervised>::with_name("ops").verify(CapabilityContract::pure());
    let request = session.approval_request(CapabilityClass::Dangerous, DANGEROUS_WHY);
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let err = HumanApproval::confirm_on_terminal(&request).expect_err("no terminal");
        assert!(matches!(err, ApprovalError::NotATerminal));
        assert!(err.to_string().contains("not a terminal"), "{err}");
    }
}

#[test]
fn run_time_checks_use_the_same_rules_and_record_denials() {
    let mut session =
        TypedSession::<Unverified>::with_name("cli").verify(CapabilityContract::pure());
    assert!(
        session
            .check_escalation(CapabilityClass::Network, NETWORK_WHY)
            .is_ok()
    );
    let err = session
        .check_escalation(CapabilityClass::Dangerous, DANGEROUS_WHY)
        .expect_err("never autonomous");
    assert_eq!(err.rule(), Rule::DangerousNeverAutonomous);
    let denial = EscalationError::JustificationTooShort {
        from: CapabilityClass::Pure,
        to: CapabilityClass::Subprocess,
        required: 50,
        given: 3,
    };
    session
        .record_denial(CapabilityClass::Subprocess, "abc", &denial)
        .expect("memory sink");
    let entries = session.audit_log().expect("in memory").entries();
    // create, verify, the refused Dangerous check, the recorded denial; the accepted
    // check recorded nothing.
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[2].rule, Some(Rule::DangerousNeverAutonomous));
    assert_eq!(entries[3].to, Some(CapabilityClass::Subprocess));
    assert_eq!(entries[3].outcome, Verdict::Denied);
}

/// A sink that fails after `ok` entries.
#[derive(Debug)]
struct Flaky {
    ok: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl AuditSink for Flaky {
    fn record(&self, _: &AuditEntry) -> Result<(), AuditError> {
        let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < self.ok {
            Ok(())
        } else {
            // Produce a real AuditError through a failing writer.
            JsonLinesSink::new(FailingWriter).record(&sample_entry())
        }
    }
}

#[derive(Debug)]
struct FailingWriter;

impl std::io::Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("the audit disk is gone"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sample_entry() -> AuditEntry {
    let s = TypedSession::<Unverified>::with_name("sample");
    s.audit_log().expect("memory").entries().remove(0)
}

fn flaky(ok: usize) -> SessionConfig {
    SessionConfig::new(Arc::new(Flaky {
        ok,
        seen: std::sync::atomic::AtomicUsize::new(0),
    }))
}

#[test]
fn an_escalation_the_sink_cannot_record_does_not_happen() {
    // Creation and verification are recorded; the escalation's entry fails.
    let session = TypedSession::<Unverified>::with_config("audited", &flaky(2))
        .verify(CapabilityContract::pure());
    assert!(session.audit_error().is_none());
    let denied = session
        .escalate(CapabilityContract::network(), NETWORK_WHY)
        .expect_err("the sink failed");
    assert_eq!(denied.error().rule(), Rule::AuditRequired);
    assert!(
        denied.to_string().contains("the audit disk is gone"),
        "{denied}"
    );
    let mut session: TypedSession<Verified<Pure>> = denied.into_session();
    assert!(session.audit_error().is_some());
    // While the error is kept, escalations are refused without asking the sink.
    let session2 = session;
    let denied = session2
        .escalate(CapabilityContract::read_only(), "")
        .expect_err("still failing");
    assert_eq!(denied.error().rule(), Rule::AuditRequired);
    session = denied.into_session();
    let kept = session.take_audit_error().expect("kept");
    assert!(
        kept.to_string().contains("the audit disk is gone"),
        "{kept}"
    );
}

#[test]
fn a_failure_while_verifying_is_kept_and_blocks_escalation() {
    let session = TypedSession::<Unverified>::with_config("audited", &flaky(1))
        .verify(CapabilityContract::pure());
    let err = session
        .audit_error()
        .expect("verification was not recorded");
    assert!(matches!(err, AuditError::Io { .. }));
    let denied = session
        .escalate(CapabilityContract::read_only(), "")
        .expect_err("fail closed");
    assert!(matches!(denied.error(), EscalationError::Audit(_)));
}

#[test]
fn generic_code_over_the_current_class() {
    fn handler<S: Authorized<Current = Network>, M: SessionMode>(
        session: &TypedSession<S, M>,
    ) -> String {
        let view: SessionRef<'_, Network> = session.view();
        view.execute(|| format!("{} holds {}", view.name(), view.class()))
    }
    let verified = TypedSession::<Unverified, Supervised>::with_name("direct")
        .verify(CapabilityContract::network());
    assert_eq!(handler(&verified), "direct holds Network");
    let escalated = TypedSession::<Unverified>::with_name("escalated")
        .verify(CapabilityContract::read_only())
        .escalate(CapabilityContract::network(), NETWORK_WHY)
        .expect("30+");
    assert_eq!(handler(&escalated), "escalated holds Network");

    // Stored handlers take the view.
    type Handler = Box<dyn Fn(SessionRef<'_, Network>) -> RunMode>;
    let stored: Handler = Box::new(|s| s.mode());
    assert_eq!(stored(verified.view()), RunMode::Supervised);
    assert_eq!(stored(escalated.view()), RunMode::Autonomous);
}

/// What an agent-facing CLI does with a verb of class `C`, decided at the type level.
struct Enter<'a, M: SessionMode> {
    session: TypedSession<Unverified, M>,
    justification: &'a str,
}

impl<C: ConstRisk, M: SessionMode> ClassVisitor<C, M> for Enter<'_, M> {
    type Output = Result<CapabilityClass, EscalationError>;

    fn agent_safe(self) -> Self::Output
    where
        C: cnv_caps::AgentSafeCapability + NoApprovalNeeded<M>,
    {
        let session = self.session.verify(CapabilityContract::of::<C>());
        Ok(session.view().class())
    }

    fn justified_or_confirmed(self) -> Self::Output
    where
        C: NoApprovalNeeded<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let session = self.session.verify(CapabilityContract::read_only());
        let session = session.escalate(CapabilityContract::of::<C>(), self.justification)?;
        Ok(session.view().class())
    }

    fn approval_required(self) -> Self::Output
    where
        C: AllowedIn<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>,
    {
        let session = self.session.verify(CapabilityContract::read_only());
        let approval = approve(&session, C::CLASS, self.justification);
        let session = session.escalate_approved(
            CapabilityContract::of::<C>(),
            self.justification,
            approval,
        )?;
        Ok(session.view().class())
    }

    fn forbidden(self) -> Self::Output {
        let mut session = self.session.verify(CapabilityContract::read_only());
        let err = EscalationError::DangerousInAutonomousMode {
            from: CapabilityClass::ReadOnlyFS,
        };
        session
            .record_denial(C::CLASS, self.justification, &err)
            .map_err(EscalationError::Audit)?;
        Err(err)
    }
}

/// The class the handler got, or the rule that refused it.
fn enter<C: TypedClass>(agent: bool, justification: &str) -> Result<CapabilityClass, Rule> {
    let result = if agent {
        let session = TypedSession::<Unverified, Autonomous>::with_name("cli");
        C::visit(Enter {
            session,
            justification,
        })
    } else {
        let session = TypedSession::<Unverified, Supervised>::with_name("cli");
        C::visit(Enter {
            session,
            justification,
        })
    };
    result.map_err(|err| err.rule())
}

#[test]
fn type_level_dispatch_covers_every_class_in_both_modes() {
    for agent in [true, false] {
        assert_eq!(enter::<Pure>(agent, ""), Ok(CapabilityClass::Pure));
        assert_eq!(
            enter::<ReadOnlyFS>(agent, ""),
            Ok(CapabilityClass::ReadOnlyFS)
        );
        assert_eq!(
            enter::<Environment>(agent, NETWORK_WHY),
            Ok(CapabilityClass::Environment)
        );
        assert_eq!(
            enter::<Network>(agent, NETWORK_WHY),
            Ok(CapabilityClass::Network)
        );
        assert_eq!(
            enter::<ReadWriteFS>(agent, NETWORK_WHY),
            Ok(CapabilityClass::ReadWriteFS)
        );
        assert_eq!(
            enter::<Subprocess>(agent, SUBPROCESS_WHY),
            Ok(CapabilityClass::Subprocess)
        );
        assert_eq!(
            enter::<Network>(agent, "short"),
            Err(Rule::MinJustification)
        );
    }
    assert_eq!(
        enter::<Dangerous>(false, DANGEROUS_WHY),
        Ok(CapabilityClass::Dangerous)
    );
    assert_eq!(
        enter::<Dangerous>(true, DANGEROUS_WHY),
        Err(Rule::DangerousNeverAutonomous)
    );
}

#[test]
fn sessions_are_send_and_sync_and_states_cost_nothing() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TypedSession<Unverified>>();
    assert_send_sync::<TypedSession<Escalated<Pure, Network>, Supervised>>();
    assert_send_sync::<Denied<TypedSession<Verified<Pure>>>>();
    assert_eq!(size_of::<Verified<Dangerous>>(), 0);
    assert_eq!(size_of::<Escalated<Pure, Subprocess>>(), 0);
    assert_eq!(
        size_of::<TypedSession<Unverified>>(),
        size_of::<TypedSession<Escalated<Pure, Subprocess>, Supervised>>()
    );
}

#[test]
fn an_approval_shows_each_argument_on_its_own_line_and_no_value_can_start_one() {
    let session =
        TypedSession::<Unverified, Supervised>::with_name("ops").verify(CapabilityContract::pure());
    let arguments = serde_json::json!({
        "command": "rm -rf build",
        "note": "fine\nIf approved, it runs: echo harmless\u{1b}[2K",
        "count": 3,
    });
    let arguments = arguments.as_object().expect("an object");
    let request = session
        .approval_request(CapabilityClass::Dangerous, DANGEROUS_WHY)
        .with_action("ops proc run")
        .with_arguments(arguments);
    let shown = request.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines.contains(&"If approved, it runs: ops proc run"),
        "{shown}"
    );
    assert!(lines.contains(&"    command: rm -rf build"), "{shown}");
    assert!(lines.contains(&"    count: 3"), "{shown}");
    // The line break and the escape sequence are shown, not obeyed.
    assert!(
        lines.contains(&"    note: fine\\u{000a}If approved, it runs: echo harmless\\u{001b}[2K"),
        "{shown}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("If approved"))
            .count(),
        1,
        "{shown}"
    );
}

#[test]
fn a_verification_confirmed_by_a_person_records_the_approval_and_refuses_another_s() {
    let session = TypedSession::<Unverified, Supervised>::with_name("notes write");
    let request = session.approval_request(CapabilityClass::ReadWriteFS, "");
    let approval = HumanApproval::elicited(&request, " ReadWriteFS\n").expect("the class, typed");
    assert_eq!(approval.channel(), ApprovalChannel::Elicitation);
    let session = session
        .verify_approved(CapabilityContract::read_write(), approval)
        .expect("confirmed");
    assert_eq!(session.class(), Some(CapabilityClass::ReadWriteFS));
    let entries = session.audit_log().expect("in memory").entries();
    let verified = entries.last().expect("the verification");
    assert_eq!(verified.event, AuditEvent::Verify);
    assert_eq!(verified.outcome, Verdict::Allowed);
    assert_eq!(verified.rule, Some(Rule::HumanConfirmation));
    assert!(
        verified.approval.as_deref().is_some_and(|approval| approval
            .starts_with("approved by the person at the client, through elicitation")),
        "{verified:?}"
    );

    // An approval of another session, or of another class, is refused and recorded.
    let other = TypedSession::<Unverified, Supervised>::with_name("other");
    let elsewhere = HumanApproval::elicited(
        &other.approval_request(CapabilityClass::ReadWriteFS, ""),
        "ReadWriteFS",
    )
    .expect("typed");
    let session = TypedSession::<Unverified, Supervised>::with_name("notes write");
    let denied = session
        .verify_approved(CapabilityContract::read_write(), elsewhere)
        .expect_err("another session's");
    assert!(matches!(
        denied.error(),
        EscalationError::ApprovalMismatch { .. }
    ));
    let session = denied.into_session();
    let request = session.approval_request(CapabilityClass::Network, "");
    let network = HumanApproval::elicited(&request, "Network").expect("typed");
    let denied = session
        .verify_approved(CapabilityContract::read_write(), network)
        .expect_err("another class's");
    let entries = denied
        .into_session()
        .audit_log()
        .expect("in memory")
        .entries();
    let refused: Vec<_> = entries
        .iter()
        .filter(|entry| entry.event == AuditEvent::Verify)
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|entry| entry.outcome == Verdict::Denied && entry.approval.is_some()),
        "{refused:?}"
    );

    // A wrong answer is no approval, and the trail can say what it was.
    let asking = TypedSession::<Unverified, Supervised>::with_name("x");
    let request = asking.approval_request(CapabilityClass::Dangerous, "");
    let wrong = HumanApproval::elicited(&request, "yes").expect_err("not the class");
    let said = wrong
        .answer(ApprovalChannel::Elicitation, CapabilityClass::Dangerous)
        .expect("a person answered");
    assert!(
        said.starts_with(
            "not approved (the answer was \"yes\", not `Dangerous`) by the person at the client"
        ),
        "{said}"
    );
    assert_eq!(
        ApprovalError::NotATerminal.answer(ApprovalChannel::Terminal, CapabilityClass::Dangerous),
        None,
        "nobody answered"
    );
}
