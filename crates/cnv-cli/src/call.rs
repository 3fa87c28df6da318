//! Calls made by a program on an agent's behalf (an MCP server's `tools/call`): the same
//! parsing, gate, sandbox and audit as the command line, in agent mode always, with the
//! arguments as JSON and the outcome as a value instead of printed text.

use std::ffi::OsString;
use std::io;
use std::time::Instant;

use cnv_audit::{AuditEntry, CallOrigin, CallRecord, CallResult, MAX_LINE_BYTES};
use cnv_caps::{CapabilityClass, ResourceBand, Rule, SessionId};
use cnv_grammar::GrammarArgument;
use cnv_grammar::rules::JUSTIFICATION_ARGUMENT;
use cnv_typestate::RunMode;
use serde_json::{Map, Value};

use crate::audit::{Trail, call_result};
use crate::cancel::CancelToken;
use crate::cli::Cli;
use crate::console::{Console, Supervisor};
use crate::dispatch::Early;
use crate::outcome::{CallOutcome, CancelPoint, Refusal};
use crate::output::type_label;
use crate::report::clap_text;
use crate::serve::Serve;
use crate::telemetry::{CallTrace, Phase, TraceContext};

/// One call of a verb on an agent's behalf: the command (`"file write"`) and its
/// arguments as a JSON object, named as the grammar names them, with the justification
/// (when the verb needs one) under `"justification"`. It runs in agent mode whatever the
/// program's settings, unless a person supervises it from the agent's client
/// ([`with_supervisor`](Self::with_supervisor)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgentCall<'a> {
    /// The command: nouns, then the verb.
    pub command: &'a str,
    /// The arguments: `{"path": "notes.txt", "append": true, "justification": "…"}`.
    pub arguments: &'a Map<String, Value>,
    /// How the call arrived, as the audit trail records it.
    pub origin: CallOrigin,
    /// What stops the call when its caller no longer wants it, if anything.
    pub cancel: Option<CancelToken>,
    /// When the call arrived (a server's request was read), if before
    /// [`Cli::call`](crate::Cli::call): the band's time runs from here to the answer.
    pub arrival: Option<Instant>,
    /// The caller's trace, which the call's spans continue (see [`crate::telemetry`]).
    pub trace: Option<TraceContext>,
    /// The person who supervises the call from the agent's client, if the front end can
    /// reach one and its operator lets it ask them.
    pub supervisor: Option<&'a dyn Supervisor>,
}

impl<'a> AgentCall<'a> {
    /// A call of `command` with `arguments`, made by the program
    /// ([`CallOrigin::Program`]).
    #[must_use]
    pub const fn new(command: &'a str, arguments: &'a Map<String, Value>) -> Self {
        Self {
            command,
            arguments,
            origin: CallOrigin::Program,
            cancel: None,
            arrival: None,
            trace: None,
            supervisor: None,
        }
    }

    /// The same call, continuing the caller's trace `context` (an MCP request's
    /// `_meta.traceparent`, an HTTP request's `traceparent` header): the call's spans are
    /// children of the caller's span. It is only ever a parent for spans: it grants
    /// nothing.
    #[must_use]
    pub fn with_trace_context(self, context: Option<TraceContext>) -> Self {
        Self {
            trace: context,
            ..self
        }
    }

    /// The same call, supervised by the person `supervisor` reaches (at an MCP client
    /// that can ask its user, on a server its operator runs supervised): it runs in
    /// human mode (`Supervised`), where the policy ([`EscalationPolicy::requirement`])
    /// asks a person to confirm a verb that is not agent-safe and to approve `Dangerous`
    /// (after a justification); each answer is asked of them, and recorded as the
    /// approval in the call's audit entries. What the policy never lets run in human
    /// mode still never runs. The time spent waiting for their answer does not count in
    /// the verb's band.
    ///
    /// [`EscalationPolicy::requirement`]: cnv_typestate::EscalationPolicy::requirement
    #[must_use]
    pub fn with_supervisor(self, supervisor: &'a dyn Supervisor) -> Self {
        Self {
            supervisor: Some(supervisor),
            ..self
        }
    }

    /// The same call, arrived at `arrival` (when its request was read): its band's time
    /// runs from then, so the time it waited in the server counts.
    #[must_use]
    pub fn with_arrival(self, arrival: Instant) -> Self {
        Self {
            arrival: Some(arrival),
            ..self
        }
    }

    /// The same call, arrived through `origin` (an MCP session, with its client).
    #[must_use]
    pub fn with_origin(self, origin: CallOrigin) -> Self {
        Self { origin, ..self }
    }

    /// The same call, stopped when `cancel` is cancelled: before its handler starts it
    /// never starts; while it runs, its worker is abandoned (as on an overrun) and the
    /// call ends as [`CallOutcome::Cancelled`], in the audit trail too.
    #[must_use]
    pub fn with_cancel(self, cancel: CancelToken) -> Self {
        Self {
            cancel: Some(cancel),
            ..self
        }
    }
}

impl<S: Serve> Cli<S> {
    /// Runs one call on an agent's behalf, as an MCP server does for `tools/call`: the
    /// JSON arguments become the verb's command-line arguments, and the call goes through
    /// clap's parsing, the gate (in agent mode, under the program's policy), the sandbox
    /// and the operator's audit trail exactly as `--agent` on the command line would.
    ///
    /// The operator's settings come from the process's environment (`CNV_WORKSPACE`,
    /// `CNV_AUDIT_LOG`, …) and the builder; nothing in `call` can change them, and no
    /// person is asked anything, unless the call has a supervisor
    /// ([`AgentCall::with_supervisor`]). Agent mode set by the operator
    /// (`CNV_AGENT`, the program's setting) wins over a supervisor.
    ///
    /// Every call is in the audit trail, refused ones too: a call that never reaches the
    /// gate (an unknown command, arguments its verb does not take, a cancel before the
    /// gate) is one signed `finish` entry of a session of its own, with the call as it
    /// was asked for and the result `invalid` (or `cancelled`).
    #[must_use]
    pub fn call(&self, call: &AgentCall<'_>) -> CallOutcome {
        let arrival = call.arrival.unwrap_or_else(Instant::now);
        let mut trace = CallTrace::new(&call.origin, call.trace.as_ref(), arrival);
        let (mut out, mut err) = (io::sink(), io::sink());
        let mut console = Console::new(&mut out, &mut err);
        if let Some(supervisor) = call.supervisor {
            console = console.with_supervisor(supervisor);
        }
        if call.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            // Cancelled before it reached the gate: nothing was decided, nothing ran.
            let cancelled = CallOutcome::Cancelled {
                at: CancelPoint::BeforeGate,
            };
            return self.refused_before_the_gate(call, &console, cancelled, trace);
        }
        let args = match self.agent_argv(call) {
            Ok(args) => args,
            Err(outcome) => return self.refused_before_the_gate(call, &console, outcome, trace),
        };
        match self.dispatch(
            &args,
            &mut console,
            &call.origin,
            call.cancel.as_ref(),
            arrival,
            &mut trace,
        ) {
            Err(Early::Usage(err)) => {
                let outcome = CallOutcome::InvalidArguments {
                    message: self.worded_for_a_tool_call(call.command, &clap_message(&err)),
                };
                self.refused_before_the_gate(call, &console, outcome, trace)
            }
            Err(Early::Printed(_)) => {
                let outcome = CallOutcome::InvalidArguments {
                    message:
                        "the arguments asked the program to print something, not to run a command"
                            .to_owned(),
                };
                self.refused_before_the_gate(call, &console, outcome, trace)
            }
            Ok(dispatched) => {
                let outcome = worded_for_an_agent(
                    dispatched.outcome,
                    dispatched.report.class,
                    dispatched.report.mode,
                );
                if let Some(call_log) = dispatched.call_log {
                    // The call is over either way; a trail that cannot say how is the
                    // operator's to see in the log (its head stops short).
                    let span = trace.phase(Phase::AuditFinish);
                    if call_log.finish(&outcome, outcome.exit()).is_err() {
                        span.failed("unrecorded");
                    }
                }
                trace.end(&outcome, outcome.exit(), None);
                outcome
            }
        }
    }

    /// Refuses `call` because its front end could not map what the agent named to a verb
    /// (an MCP `tools/call` of a tool name no tool has): nothing runs, whatever the name
    /// says, and the call is recorded as an `invalid` one, as [`call`](Self::call) records
    /// an unknown command.
    #[must_use]
    pub fn refuse_unknown(&self, call: &AgentCall<'_>) -> CallOutcome {
        let (mut out, mut err) = (io::sink(), io::sink());
        let console = Console::new(&mut out, &mut err);
        let unknown = CallOutcome::UnknownCommand {
            command: call.command.to_owned(),
        };
        let arrival = call.arrival.unwrap_or_else(Instant::now);
        let trace = CallTrace::new(&call.origin, call.trace.as_ref(), arrival);
        self.refused_before_the_gate(call, &console, unknown, trace)
    }

    /// Refuses `call` by a rule of its front end, before the gate: a server that verifies
    /// its callers found that the caller's token does not grant it (rule `scope`), or that
    /// the request carried no token it accepts (rule `bearer_token`), or the caller is over
    /// an operator's quota (rule `quota`). Nothing runs, and the
    /// call is recorded as a denied one, as it was asked for, with the refusal's rule and
    /// message; no front end's refusal lifts or skips any of the gate's rules.
    #[must_use]
    pub fn refuse(&self, call: &AgentCall<'_>, refusal: Refusal) -> CallOutcome {
        let (mut out, mut err) = (io::sink(), io::sink());
        let console = Console::new(&mut out, &mut err);
        let arrival = call.arrival.unwrap_or_else(Instant::now);
        let trace = CallTrace::new(&call.origin, call.trace.as_ref(), arrival);
        self.refused_before_the_gate(call, &console, CallOutcome::Refused(refusal), trace)
    }

    /// Records `outcome`, an ending of `call` before the gate (an unknown command, invalid
    /// arguments, a cancel), ends its `trace`, and returns it.
    fn refused_before_the_gate(
        &self,
        call: &AgentCall<'_>,
        console: &Console<'_>,
        outcome: CallOutcome,
        trace: CallTrace,
    ) -> CallOutcome {
        self.record_refused(
            call,
            console,
            call_result(&outcome, outcome.exit(), ResourceBand::Instant),
        );
        trace.end(&outcome, outcome.exit(), Some(call.command));
        outcome
    }

    /// Records a call refused before it had a session: one `finish` entry (signed, in a
    /// log with a key) of a session of its own, carrying the call as it was asked for.
    /// A command or arguments too long for a log's line are cut (the entry says so), so
    /// no length hides a refusal. Nothing ran either way: a trail that cannot be opened
    /// or written leaves the refusal unrecorded, and the operator sees the log stop short.
    fn record_refused(&self, call: &AgentCall<'_>, console: &Console<'_>, result: CallResult) {
        self.record_without_session(
            call.command,
            call.arguments.clone(),
            &call.origin,
            console,
            result,
        );
    }

    /// Records a call that ended before it had a session (refused before the gate, or a
    /// command line in agent mode that did not parse): one `finish` entry of a session of
    /// its own, with `command` and `arguments` as they were asked for.
    pub(crate) fn record_without_session(
        &self,
        command: &str,
        arguments: Map<String, Value>,
        origin: &CallOrigin,
        console: &Console<'_>,
        mut result: CallResult,
    ) {
        let Ok(trail) = Trail::open(
            &self.logs,
            &self.trail_paths(console),
            &self.settings.audit_sinks,
        ) else {
            return;
        };
        let mut command = command.to_owned();
        if command.len() > MAX_RECORDED_COMMAND {
            let mut end = MAX_RECORDED_COMMAND;
            while !command.is_char_boundary(end) {
                end -= 1;
            }
            command.truncate(end);
            command.push('…');
        }
        let mut args = arguments;
        let size = serde_json::to_string(&args).map_or(usize::MAX, |json| json.len());
        if size > MAX_LINE_BYTES / 4 {
            args = Map::new();
            if let CallResult::Invalid { message, .. } | CallResult::Cancelled { message, .. } =
                &mut result
            {
                message.push_str(&format!(
                    " (its arguments, {size} bytes of JSON, are too long to record)"
                ));
            }
        }
        let session = format!("{} {command}", self.model().app_name());
        let entry = AuditEntry::finish(&session, SessionId::new_v4(), RunMode::Autonomous, result)
            .with_call(CallRecord::new(command, args, origin.clone()));
        let _unrecorded = trail.sink.record(&entry);
    }

    /// The command line of `call`: the program, the command's words, every named
    /// argument as `--name=value` (so no value is ever taken for a flag), the
    /// justification, then `--` and the positional values.
    fn agent_argv(&self, call: &AgentCall<'_>) -> Result<Vec<OsString>, CallOutcome> {
        let words: Vec<&str> = call.command.split(' ').collect();
        let Some(verb) = self.model().find(&words) else {
            return Err(CallOutcome::UnknownCommand {
                command: call.command.to_owned(),
            });
        };
        let invalid = |message: String| CallOutcome::InvalidArguments { message };
        let globals = self.model().args();
        for name in call.arguments.keys() {
            if name != JUSTIFICATION_ARGUMENT
                && verb.arg(name).is_none()
                && self.model().arg(name).is_none()
            {
                let declared: Vec<String> = verb
                    .args()
                    .iter()
                    .chain(globals)
                    .map(|arg| format!("`{}`", arg.name()))
                    .collect();
                return Err(invalid(format!(
                    "`{}` takes no argument `{name}`; its arguments are {}",
                    call.command,
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        declared.join(", ")
                    }
                )));
            }
        }
        let mut args: Vec<OsString> = vec![self.model().app_name().into()];
        args.extend(words.iter().map(OsString::from));
        let mut positional = Vec::new();
        for arg in verb.args().iter().chain(globals) {
            let Some(value) = call.arguments.get(arg.name()).filter(|v| !v.is_null()) else {
                continue;
            };
            if arg.is_counted() {
                // How many times the switch is given: `-vvv` is 3.
                let Some(count) = value.as_u64().filter(|count| *count <= u64::from(u8::MAX))
                else {
                    return Err(invalid(format!(
                        "`{}` is a count: an integer from 0 to 255, not {value}",
                        arg.name(),
                    )));
                };
                args.extend((0..count).map(|_| OsString::from(format!("--{}", arg.name()))));
                continue;
            }
            let values = words_of(arg, value).map_err(invalid)?;
            if arg.is_positional() {
                positional.extend(values);
            } else if arg.is_switch() {
                match value {
                    Value::Bool(true) => args.push(format!("--{}", arg.name()).into()),
                    Value::Bool(false) => {}
                    other => {
                        return Err(invalid(format!(
                            "`{}` is a switch: true or false, not {}",
                            arg.name(),
                            kind(other)
                        )));
                    }
                }
            } else {
                for value in values {
                    args.push(format!("--{}={value}", arg.name()).into());
                }
            }
        }
        match call.arguments.get(JUSTIFICATION_ARGUMENT) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => args.push(format!("--justify={text}").into()),
            Some(_) => {
                return Err(invalid(format!(
                    "`{JUSTIFICATION_ARGUMENT}` is a string: why the call needs its capability"
                )));
            }
        }
        if !positional.is_empty() {
            args.push("--".into());
            args.extend(positional.into_iter().map(OsString::from));
        }
        Ok(args)
    }
}

/// Where a person could approve a tool call that needs one.
const PERSON_AT_THE_CLIENT: &str = "a person can approve it from an MCP client that supports \
     elicitation, when the server's operator runs it supervised";

/// The longest command a refused call's entry records, in bytes; a longer one (a name
/// no verb has) is cut.
const MAX_RECORDED_COMMAND: usize = 256;

/// `outcome` as an agent calling with JSON arguments reads it: a justification is an
/// argument it passes, not a flag; a call that needs a person says where one could
/// answer (`mode` is the call's: `Supervised` when a person at the client was asked).
fn worded_for_an_agent(outcome: CallOutcome, class: CapabilityClass, mode: RunMode) -> CallOutcome {
    match outcome {
        CallOutcome::Refused(mut refusal) => {
            if let Some(min_chars) = refusal.required {
                refusal.hint = format!(
                    "call again with a `{JUSTIFICATION_ARGUMENT}` argument of at least \
                     {min_chars} characters saying why this call needs `{class}` ({})",
                    class.describe()
                );
            }
            // The command line's hints (`--agent`, `--yes`, a terminal) mean nothing to a
            // tool call: say who can run it instead.
            match (refusal.rule, mode) {
                (Rule::DangerousNeverAutonomous | Rule::HumanApproval, RunMode::Autonomous) => {
                    refusal.hint = format!(
                        "no tool call of an agent alone can run it: {PERSON_AT_THE_CLIENT}, \
                         or from the program's own command line, where they approve it"
                    );
                }
                (Rule::HumanConfirmation, RunMode::Autonomous) => {
                    refusal.hint = format!(
                        "no tool call of an agent alone can run it: {PERSON_AT_THE_CLIENT}, \
                         or from the program's own command line, where they confirm it"
                    );
                }
                (
                    Rule::DangerousNeverAutonomous | Rule::HumanApproval | Rule::HumanConfirmation,
                    RunMode::Supervised,
                ) if refusal.required.is_none() => {
                    refusal.hint = "the person at the client did not approve it: call it \
                                    again only if they ask for it"
                        .to_owned();
                }
                _ => {}
            }
            CallOutcome::Refused(refusal)
        }
        CallOutcome::Ran(_)
        | CallOutcome::UnknownCommand { .. }
        | CallOutcome::InvalidArguments { .. }
        | CallOutcome::Failed(_)
        | CallOutcome::Overran { .. }
        | CallOutcome::Cancelled { .. } => outcome,
    }
}

/// The command-line words of one argument's JSON value.
fn words_of(arg: &GrammarArgument, value: &Value) -> Result<Vec<String>, String> {
    let one = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(format!(
            "`{}` is a single value of type `{}`, not {}",
            arg.name(),
            type_label(arg.value_type()),
            kind(value)
        )),
    };
    match value {
        Value::Array(items) if arg.is_multiple() => items.iter().map(one).collect(),
        Value::Array(_) => Err(format!(
            "`{}` takes one value of type `{}`, not a list",
            arg.name(),
            type_label(arg.value_type())
        )),
        _ if arg.is_multiple() => Err(format!(
            "`{}` takes a list of values of type `{}`",
            arg.name(),
            type_label(arg.value_type())
        )),
        _ => one(value).map(|word| vec![word]),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl<S: Serve> Cli<S> {
    /// clap's `message` about a call of `command` as a tool call reads it: each argument
    /// named as the agent named it (``argument `level` ``), not as the command line spells
    /// it (`'--level <LEVEL>'`), and no tip about the command line's own syntax.
    fn worded_for_a_tool_call(&self, command: &str, message: &str) -> String {
        let mut spelled: Vec<(String, String)> = Vec::new();
        {
            let root = self.lock_command();
            let mut level: &clap::Command = &root;
            let mut levels = vec![level];
            for word in command.split(' ') {
                match level.find_subcommand(word) {
                    Some(sub) => {
                        level = sub;
                        levels.push(sub);
                    }
                    None => break,
                }
            }
            for arg in levels.iter().flat_map(|level| level.get_arguments()) {
                // The gate's `--justify` is the agent's `justification`.
                let name = match arg.get_id().as_str() {
                    crate::command::global::JUSTIFY => JUSTIFICATION_ARGUMENT.to_owned(),
                    other => other.to_owned(),
                };
                spelled.push((arg.to_string(), name));
            }
        }
        // The longest spelling first, so `--level <LEVEL>` is replaced before `--level`.
        spelled.sort_by_key(|(spelling, _)| std::cmp::Reverse(spelling.len()));
        let mut worded = message.split(" tip: ").next().unwrap_or(message).to_owned();
        for (spelling, name) in &spelled {
            for quoted in [format!("'{spelling}'"), spelling.clone()] {
                if worded.contains(&quoted) {
                    worded = worded.replace(&quoted, &format!("argument `{name}`"));
                }
            }
        }
        worded
    }
}

/// clap's message without its `error: ` prefix, its usage lines and its `--help` hint,
/// escaped as the command line shows it ([`clap_text`]): the words it quotes are the
/// agent's, and the message reaches the audit trail and whoever reads the answer.
pub(crate) fn clap_message(err: &clap::Error) -> String {
    let text = clap_text(err);
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("Usage:")
                && !line.starts_with("For more information")
        })
        .collect();
    message.join(" ").trim_start_matches("error: ").to_owned()
}
