//! One line of the audit trail: an [`AuditEntry`] per creation, verification,
//! escalation, narrowing, denial and end of a call, with the call it is about
//! ([`CallRecord`]) and how that call ended ([`CallResult`]).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cnv_caps::{CapabilityClass, ResourceBand, Rule, RunMode, SessionId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What happened to the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The session was created (unverified).
    Create,
    /// The session was verified with a class (`to`).
    Verify,
    /// The session asked to move up from `from` to `to`.
    Escalate,
    /// The session gave up capability, from `from` down to `to`.
    Narrow,
    /// The handler of the call the session was made for starts, holding `to`: the
    /// decision to run it, signed before it gets control.
    Start,
    /// The call the session was made for ended; `result` says how.
    Finish,
}

impl AuditEvent {
    /// Whether an [`AuditLog`](crate::AuditLog) signs the line of this event (and writes
    /// its signed head beside it): the start and the end of a call's handler, so the
    /// decision to run a call is signed before the handler gets control and how it ended
    /// once it has. With the genesis and each recovery, these are the log's checkpoints:
    /// the one signing cadence, which the reader checks too.
    #[must_use]
    pub const fn is_checkpoint(self) -> bool {
        match self {
            Self::Start | Self::Finish => true,
            Self::Create | Self::Verify | Self::Escalate | Self::Narrow => false,
        }
    }
}

/// Whether the transition happened: an entry's `outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It happened.
    Allowed,
    /// It was refused; `rule` names why.
    Denied,
}

/// One line of the audit trail.
///
/// In JSON (a line of an [`AuditLog`](crate::AuditLog)) the fields keep these names; `timestamp` is RFC
/// 3339 in UTC with microseconds, classes and modes are spelled as in the grammar DSL
/// (`"ReadOnlyFS"`, `"Autonomous"`), `event`, `outcome` and `rule` in `snake_case`, and a
/// missing value is `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// When, to the microsecond.
    #[serde(with = "rfc3339")]
    pub timestamp: SystemTime,
    /// The session's name.
    pub session: String,
    /// The session's id.
    pub session_id: SessionId,
    /// The session's mode.
    pub mode: RunMode,
    /// What happened.
    pub event: AuditEvent,
    /// Whether it happened.
    pub outcome: Verdict,
    /// The class held before (none for creation and verification).
    pub from: Option<CapabilityClass>,
    /// The class asked for (none for creation).
    pub to: Option<CapabilityClass>,
    /// The justification given, as given.
    pub justification: Option<String>,
    /// The rule that decided an escalation, allowed or denied.
    pub rule: Option<Rule>,
    /// The human approval that was spent, described.
    pub approval: Option<String>,
    /// For a denial, the full message.
    pub detail: Option<String>,
    /// On the entry that creates a session for a call: the call, in full (see
    /// `SessionConfig::with_call` in `cnv-typestate`). On the one
    /// [`Finish`](AuditEvent::Finish) entry of a call refused before it had a session
    /// ([`CallResult::Invalid`]): the call as it was asked for (see
    /// [`with_call`](Self::with_call)).
    #[serde(default)]
    pub call: Option<CallRecord>,
    /// On a [`Finish`](AuditEvent::Finish) entry: how the call ended.
    #[serde(default)]
    pub result: Option<CallResult>,
    /// On the [`Finish`](AuditEvent::Finish) entry of a call whose handler was started:
    /// what the kernel enforced around it, as the sandbox describes it (known only once
    /// the handler's thread is restricted, so after the session's creation).
    #[serde(default)]
    pub enforcement: Option<serde_json::Value>,
    /// On a [`Finish`](AuditEvent::Finish) entry of a call whose handler ran in a worker
    /// process: what it wrote to its standard output and error, escaped (control
    /// characters as `\u{…}`) and cut to a bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
}

impl AuditEntry {
    /// An entry stamped now, with nothing but the session and the event; the other
    /// fields are `None` (the type-state sessions fill in what their transition knows).
    #[must_use]
    pub fn new(
        session: &str,
        session_id: SessionId,
        mode: RunMode,
        event: AuditEvent,
        outcome: Verdict,
    ) -> Self {
        Self {
            timestamp: now(),
            session: session.to_owned(),
            session_id,
            mode,
            event,
            outcome,
            from: None,
            to: None,
            justification: None,
            rule: None,
            approval: None,
            detail: None,
            call: None,
            result: None,
            enforcement: None,
            console: None,
        }
    }

    /// The entry that ends a call, for code that records it without the session: a
    /// watchdog thread that stopped an overrunning call, say, recording through the
    /// `Arc<dyn AuditSink>` it shares with the session (prefer
    /// `TypedSession::record_finish` (`cnv-typestate`) where the
    /// session is at hand). The outcome is `denied` when the call was stopped (refused,
    /// overrun, stopped by the sandbox), and the rule and message of a stopped call are
    /// in `rule` and `detail` too.
    ///
    /// ```
    /// use cnv_caps::{ResourceBand, RunMode, SessionId};
    /// use cnv_audit::{AuditEntry, AuditEvent, CallResult, Verdict};
    ///
    /// let entry = AuditEntry::finish(
    ///     "workbench calc sum 1",
    ///     SessionId::new_v4(),
    ///     RunMode::Autonomous,
    ///     CallResult::Overrun {
    ///         exit_code: 5,
    ///         band: ResourceBand::Instant,
    ///         message: "ran longer than 100 ms".into(),
    ///     },
    /// );
    /// assert_eq!(entry.event, AuditEvent::Finish);
    /// assert_eq!(entry.outcome, Verdict::Denied);
    /// ```
    #[must_use]
    pub fn finish(session: &str, session_id: SessionId, mode: RunMode, result: CallResult) -> Self {
        let outcome = if result.was_stopped() {
            Verdict::Denied
        } else {
            Verdict::Allowed
        };
        Self {
            rule: match &result {
                CallResult::Denied { rule, .. } => Some(*rule),
                _ => None,
            },
            detail: result.message().map(str::to_owned),
            result: Some(result),
            ..Self::new(session, session_id, mode, AuditEvent::Finish, outcome)
        }
    }

    /// The entry that starts a call's handler, holding `class`: the decision to run it,
    /// which an [`AuditLog`](crate::AuditLog) signs before the handler gets control.
    #[must_use]
    pub fn start(
        session: &str,
        session_id: SessionId,
        mode: RunMode,
        class: CapabilityClass,
    ) -> Self {
        Self {
            to: Some(class),
            ..Self::new(
                session,
                session_id,
                mode,
                AuditEvent::Start,
                Verdict::Allowed,
            )
        }
    }

    /// The same entry, saying what the kernel enforced around the call's handler.
    #[must_use]
    pub fn with_enforcement(self, enforcement: serde_json::Value) -> Self {
        Self {
            enforcement: Some(enforcement),
            ..self
        }
    }

    /// The same entry, with what the call's handler wrote to its standard output and error
    /// (escaped, and cut to a bound, by the caller).
    #[must_use]
    pub fn with_console(self, console: String) -> Self {
        Self {
            console: Some(console),
            ..self
        }
    }

    /// The same entry, carrying the call it is about: for the one entry of a call refused
    /// before its session was made (an unknown command, arguments its verb does not
    /// take), which has no creation entry to carry it.
    ///
    /// ```
    /// use cnv_caps::{RunMode, SessionId};
    /// use cnv_audit::{AuditEntry, CallOrigin, CallRecord, CallResult};
    ///
    /// let asked = CallRecord::new("file wipe", serde_json::Map::new(), CallOrigin::Program);
    /// let entry = AuditEntry::finish(
    ///     "workbench file wipe",
    ///     SessionId::new_v4(),
    ///     RunMode::Autonomous,
    ///     CallResult::Invalid { exit_code: 2, message: "unknown command `file wipe`".into() },
    /// )
    /// .with_call(asked);
    /// assert_eq!(entry.call.map(|call| call.command).as_deref(), Some("file wipe"));
    /// ```
    #[must_use]
    pub fn with_call(self, call: CallRecord) -> Self {
        Self {
            call: Some(call),
            ..self
        }
    }

    /// The entry for an escalation refused by `error` (an escalation error of
    /// `cnv-typestate`, or any [`DenialReason`]), for a program that decides at run time
    /// (prefer `TypedSession::record_denial`, which fills in the session).
    #[must_use]
    pub fn denial(
        session: &str,
        session_id: SessionId,
        mode: RunMode,
        from: Option<CapabilityClass>,
        to: CapabilityClass,
        justification: &str,
        error: &dyn DenialReason,
    ) -> Self {
        Self {
            from,
            to: Some(to),
            justification: Some(justification.to_owned()),
            rule: Some(error.rule()),
            detail: Some(error.to_string()),
            ..Self::new(
                session,
                session_id,
                mode,
                AuditEvent::Escalate,
                Verdict::Denied,
            )
        }
    }
}

/// Why a step was refused, as a denial entry records it: the rule (`rule`) and the whole
/// message (`detail`). `cnv-typestate`'s escalation errors implement it.
pub trait DenialReason: fmt::Display {
    /// The rule that refused the step.
    fn rule(&self) -> Rule;
}

/// A call, as the entry that creates its session records it: what was called, with
/// every argument in full, and how the call arrived. An entry is at most
/// [`MAX_LINE_BYTES`](crate::MAX_LINE_BYTES) long as a line; a call whose record would be longer is refused by
/// an [`AuditLog`](crate::AuditLog) (and so does not run).
///
/// ```
/// use cnv_audit::{CallOrigin, CallRecord};
/// use serde_json::json;
///
/// let args = json!({ "path": "notes.txt", "content": "meeting notes" });
/// let call = CallRecord::new("file write", args.as_object().cloned().unwrap_or_default(), CallOrigin::CommandLine);
/// assert_eq!(call.command, "file write");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallRecord {
    /// The command: the noun path and the verb (`"file write"`).
    pub command: String,
    /// The parsed arguments, in full: name to value.
    pub args: serde_json::Map<String, serde_json::Value>,
    /// How the call arrived.
    pub origin: CallOrigin,
}

impl CallRecord {
    /// A call of `command` with `args`, arrived through `origin`.
    #[must_use]
    pub fn new(
        command: impl Into<String>,
        args: serde_json::Map<String, serde_json::Value>,
        origin: CallOrigin,
    ) -> Self {
        Self {
            command: command.into(),
            args,
            origin,
        }
    }
}

/// How a call arrived. In JSON, `{"via":"command_line"}` or
/// `{"via":"mcp","transport":"stdio",…}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallOrigin {
    /// Typed on (or passed to) the command line.
    CommandLine,
    /// Made by the program itself on an agent's behalf, with the call's arguments as
    /// data rather than a command line (`cnv_cli::Cli::call`, outside an MCP server).
    Program,
    /// A `tools/call` of an MCP session.
    Mcp {
        /// The MCP transport.
        transport: McpTransport,
        /// The MCP session's id: its `Mcp-Session-Id` over HTTP, the id the server gave
        /// the connection over stdio; the same id names it in the server's registry.
        session_id: Option<String>,
        /// The client's name, as it introduced itself.
        client_name: Option<String>,
        /// The client's version, as it introduced itself.
        client_version: Option<String>,
        /// Who called, as the server verified their bearer token (never the token);
        /// absent when the server takes no tokens (stdio, a loopback server), and in
        /// entries written before servers verified callers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        principal: Option<CallPrincipal>,
    },
}

/// Who made a call, as a server that verifies bearer tokens knows them: the token's
/// issuer, subject and client, and for a delegated capability token the chain of
/// delegates it passed through. Never the token itself.
///
/// ```
/// use cnv_audit::CallPrincipal;
///
/// let who = CallPrincipal::new("https://id.example", "alice").with_client(Some("claude".into()));
/// assert_eq!(who.subject, "alice");
/// assert!(who.chain.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallPrincipal {
    /// Who vouched for the caller: an access token's `iss`, or for a capability token
    /// `cnv-token:<the operator's public key>`.
    pub issuer: String,
    /// Who the token was issued to: an access token's `sub`, a capability token's
    /// principal.
    pub subject: String,
    /// The OAuth client the token was issued through (`client_id`, else `azp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A delegated capability token's blocks, the operator's first: who each was handed
    /// to and what it grants or checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<DelegationLink>,
}

impl CallPrincipal {
    /// `subject`, vouched for by `issuer`, with no client and no chain.
    #[must_use]
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            subject: subject.into(),
            client_id: None,
            chain: Vec::new(),
        }
    }

    /// The same principal, calling through the OAuth client `client_id`.
    #[must_use]
    pub fn with_client(self, client_id: Option<String>) -> Self {
        Self { client_id, ..self }
    }

    /// The same principal, holding a capability token delegated along `chain`.
    #[must_use]
    pub fn with_chain(self, chain: Vec<DelegationLink>) -> Self {
        Self { chain, ..self }
    }
}

/// One link of a delegated capability token's chain, as the audit trail records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DelegationLink {
    /// Its place in the chain: 0 is the operator's.
    pub block: u32,
    /// Who the token was handed to at this link, when the link says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What the link grants (the operator's) or checks (the others), in the token's
    /// Datalog.
    pub source: String,
}

impl DelegationLink {
    /// The link `block`, handed to `to`, with its Datalog `source`.
    #[must_use]
    pub fn new(block: u32, to: Option<String>, source: impl Into<String>) -> Self {
        Self {
            block,
            to,
            source: source.into(),
        }
    }
}

/// The transport of an MCP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum McpTransport {
    /// Standard input and output.
    Stdio,
    /// Streamable HTTP.
    StreamableHttp,
}

/// How a call ended, recorded by a [`Finish`](AuditEvent::Finish) entry. In JSON, an
/// object whose `status` names the variant (`"ran"`, `"failed"`, …), with the exit code
/// the caller was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallResult {
    /// The handler ran and succeeded.
    Ran {
        /// The exit code.
        exit_code: i32,
    },
    /// The handler ran and failed.
    Failed {
        /// The exit code.
        exit_code: i32,
        /// The handler's error.
        message: String,
    },
    /// The gate refused the call: nothing ran.
    Denied {
        /// The exit code.
        exit_code: i32,
        /// The rule that refused it.
        rule: Rule,
        /// The refusal's message.
        message: String,
    },
    /// The call overran its resource band and was stopped.
    Overrun {
        /// The exit code.
        exit_code: i32,
        /// The band it overran.
        band: ResourceBand,
        /// What it overran (time, memory), described.
        message: String,
    },
    /// The sandbox stopped the call.
    Sandbox {
        /// The exit code.
        exit_code: i32,
        /// What the sandbox refused, described.
        message: String,
    },
    /// The call never reached the gate: its command is unknown, or its arguments are not
    /// what its verb takes (a usage error). No session was made and nothing ran; the
    /// entry carries the call as it was asked for.
    Invalid {
        /// The exit code: 2, a usage error's.
        exit_code: i32,
        /// What was wrong with the call.
        message: String,
    },
    /// The caller cancelled the call (an MCP client): before its handler started, or
    /// while it ran, and then its handler was abandoned as an overrun one is.
    Cancelled {
        /// The exit code: 130, as a shell reports a command its user interrupted.
        exit_code: i32,
        /// What was cancelled, described.
        message: String,
    },
}

impl CallResult {
    /// The exit code the caller was given.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Ran { exit_code }
            | Self::Failed { exit_code, .. }
            | Self::Denied { exit_code, .. }
            | Self::Overrun { exit_code, .. }
            | Self::Sandbox { exit_code, .. }
            | Self::Invalid { exit_code, .. }
            | Self::Cancelled { exit_code, .. } => *exit_code,
        }
    }

    /// The message, for every result but [`Ran`](Self::Ran).
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Ran { .. } => None,
            Self::Failed { message, .. }
            | Self::Denied { message, .. }
            | Self::Overrun { message, .. }
            | Self::Sandbox { message, .. }
            | Self::Invalid { message, .. }
            | Self::Cancelled { message, .. } => Some(message),
        }
    }

    /// Whether the call was stopped rather than run to its end: refused (by the gate, or
    /// as invalid before it), overrun, stopped by the sandbox or cancelled by its caller.
    #[must_use]
    pub fn was_stopped(&self) -> bool {
        match self {
            Self::Ran { .. } | Self::Failed { .. } => false,
            Self::Denied { .. }
            | Self::Overrun { .. }
            | Self::Sandbox { .. }
            | Self::Invalid { .. }
            | Self::Cancelled { .. } => true,
        }
    }

    /// The `status` word: `ran`, `failed`, `denied`, `overrun`, `sandbox`, `invalid` or
    /// `cancelled`.
    #[must_use]
    pub fn status(&self) -> &'static str {
        match self {
            Self::Ran { .. } => "ran",
            Self::Failed { .. } => "failed",
            Self::Denied { .. } => "denied",
            Self::Overrun { .. } => "overrun",
            Self::Sandbox { .. } => "sandbox",
            Self::Invalid { .. } => "invalid",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// The current time, truncated to the microsecond so that it survives a round trip
/// through the log.
pub(crate) fn now() -> SystemTime {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    UNIX_EPOCH + Duration::from_micros(u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX))
}

/// A time as the audit trail writes it: RFC 3339, UTC, microseconds
/// (`2026-11-26T13:25:01.123456Z`).
#[must_use]
pub fn format_timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_micros(time).to_string()
}

pub(crate) mod rfc3339 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_rfc3339_micros(*time))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// One argument of a call as a person reads it before deciding: `name: value`, a text
/// value as written and any other as JSON, every character that is escaped when shown
/// (controls, line breaks included, and format characters) escaped, so the argument stays on one line and cannot pose as another.
///
/// ```
/// use cnv_audit::shown_argument;
///
/// let value = serde_json::json!("notes.txt\nIf approved, it runs: echo");
/// assert_eq!(
///     shown_argument("path", &value),
///     "path: notes.txt\\u{000a}If approved, it runs: echo"
/// );
/// assert_eq!(shown_argument("count", &serde_json::json!(3)), "count: 3");
/// ```
#[must_use]
pub fn shown_argument(name: &str, value: &serde_json::Value) -> String {
    let value = match value {
        serde_json::Value::String(text) => cnv_caps::text::escape_for_display(text),
        other => cnv_caps::text::escape_for_display(&other.to_string()),
    };
    format!("{}: {value}", cnv_caps::text::escape_for_display(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal as `cnv-typestate`'s escalation errors are: a rule and its message.
    struct TooShort;

    impl fmt::Display for TooShort {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the justification has 4 characters but `ReadWriteFS` needs at least 20")
        }
    }

    impl DenialReason for TooShort {
        fn rule(&self) -> Rule {
            Rule::MinJustification
        }
    }

    #[test]
    fn entries_round_trip_through_json() {
        let mut entry = AuditEntry::denial(
            "app",
            SessionId::new_v4(),
            RunMode::Autonomous,
            Some(CapabilityClass::ReadOnlyFS),
            CapabilityClass::ReadWriteFS,
            "tidy",
            &TooShort,
        );
        entry.approval = Some("approved".into());
        let json = serde_json::to_string(&entry).expect("encodes");
        assert!(json.contains(r#""rule":"min_justification""#), "{json}");
        assert!(json.contains(r#""event":"escalate""#), "{json}");
        assert!(json.contains(r#""outcome":"denied""#), "{json}");
        assert!(json.contains(r#""from":"ReadOnlyFS""#), "{json}");
        assert!(json.contains(r#""mode":"Autonomous""#), "{json}");
        let back: AuditEntry = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back, entry);
    }

    #[test]
    fn an_origin_written_before_principals_reads_and_writes_back_byte_for_byte() {
        // As entries were written before servers verified their callers.
        let old = r#"{"via":"mcp","transport":"streamable_http","session_id":"s-1","client_name":"py","client_version":"1.0"}"#;
        let origin: CallOrigin = serde_json::from_str(old).expect("an old origin reads");
        assert!(
            matches!(
                &origin,
                CallOrigin::Mcp {
                    principal: None,
                    ..
                }
            ),
            "{origin:?}"
        );
        assert_eq!(serde_json::to_string(&origin).expect("encodes"), old);
    }

    #[test]
    fn calls_and_their_results_round_trip_through_json() {
        let args = serde_json::json!({ "path": "a.txt", "count": 3, "force": true });
        let call = CallRecord::new(
            "file write",
            args.as_object().cloned().unwrap_or_default(),
            CallOrigin::Mcp {
                transport: McpTransport::Stdio,
                session_id: None,
                client_name: Some("claude".into()),
                client_version: None,
                principal: None,
            },
        );
        let json = serde_json::to_value(&call).expect("encodes");
        assert_eq!(json["origin"]["via"], "mcp");
        assert_eq!(json["origin"]["transport"], "stdio");
        assert!(
            json["origin"].get("principal").is_none(),
            "an entry without a principal reads as one written before principals: {json}"
        );
        assert_eq!(json["args"]["count"], 3);
        let back: CallRecord = serde_json::from_value(json).expect("decodes");
        assert_eq!(back, call);

        let delegated = CallRecord::new(
            "file read",
            serde_json::Map::new(),
            CallOrigin::Mcp {
                transport: McpTransport::StreamableHttp,
                session_id: Some("s".into()),
                client_name: None,
                client_version: None,
                principal: Some(
                    CallPrincipal::new("cnv-token:ab", "orchestrator").with_chain(vec![
                        DelegationLink::new(
                            0,
                            Some("orchestrator".into()),
                            "right(\"class\", \"ReadWriteFS\");",
                        ),
                        DelegationLink::new(1, Some("summariser".into()), "check if class($c);"),
                    ]),
                ),
            },
        );
        let json = serde_json::to_value(&delegated).expect("encodes");
        assert_eq!(json["origin"]["principal"]["subject"], "orchestrator");
        assert_eq!(json["origin"]["principal"]["chain"][1]["to"], "summariser");
        let back: CallRecord = serde_json::from_value(json).expect("decodes");
        assert_eq!(back, delegated);

        let results = [
            CallResult::Ran { exit_code: 0 },
            CallResult::Failed {
                exit_code: 1,
                message: "no such file".into(),
            },
            CallResult::Denied {
                exit_code: 3,
                rule: Rule::MinJustification,
                message: "too short".into(),
            },
            CallResult::Overrun {
                exit_code: 5,
                band: ResourceBand::Instant,
                message: "ran longer than 100 ms".into(),
            },
            CallResult::Sandbox {
                exit_code: 6,
                message: "write outside the workspace".into(),
            },
            CallResult::Cancelled {
                exit_code: 130,
                message: "cancelled by the MCP client".into(),
            },
        ];
        for result in results {
            let json = serde_json::to_value(&result).expect("encodes");
            assert_eq!(json["status"], result.status());
            assert_eq!(json["exit_code"], result.exit_code());
            let entry = AuditEntry::finish(
                "s",
                SessionId::new_v4(),
                RunMode::Autonomous,
                result.clone(),
            );
            let stopped = entry.outcome == Verdict::Denied;
            assert_eq!(stopped, result.was_stopped(), "{result:?}");
            assert_eq!(entry.detail.as_deref(), result.message());
            let back: AuditEntry =
                serde_json::from_str(&serde_json::to_string(&entry).expect("encodes"))
                    .expect("decodes");
            assert_eq!(back, entry);
        }
        // A line written before `call` and `result` existed still reads.
        let mut old = serde_json::to_value(AuditEntry::finish(
            "s",
            SessionId::new_v4(),
            RunMode::Autonomous,
            CallResult::Ran { exit_code: 0 },
        ))
        .expect("encodes");
        let object = old.as_object_mut().expect("an object");
        object.remove("call");
        object.remove("result");
        let back: AuditEntry = serde_json::from_value(old).expect("decodes");
        assert_eq!(back.result, None);
    }

    #[test]
    fn timestamps_are_rfc3339_micros() {
        let text = format_timestamp(UNIX_EPOCH + Duration::from_micros(1_500_000));
        assert_eq!(text, "1970-01-01T00:00:01.500000Z");
        let entry = AuditEntry::new(
            "a",
            SessionId::new_v4(),
            RunMode::Supervised,
            AuditEvent::Create,
            Verdict::Allowed,
        );
        let since = entry
            .timestamp
            .duration_since(UNIX_EPOCH)
            .expect("after 1970");
        assert_eq!(since.subsec_nanos() % 1000, 0);
    }
}
