//! Traces and metrics of every call, exported with OpenTelemetry's OTLP over HTTP
//! (feature `otel`, on in the facade's defaults).
//!
//! **On** when the operator sets `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not `true`; **off**
//! otherwise, and then a call costs one check of a flag. The standard variables configure
//! the rest (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_BSP_*`,
//! `OTEL_METRIC_EXPORT_INTERVAL`, …). The exporter speaks plain HTTP (`http://`, protobuf
//! bodies): a collector on the machine or its network forwards elsewhere. The variables
//! are read once per process, by [`Cli::run`](crate::Cli::run) (or the first call); a
//! program may also start exporting in code ([`start_with_endpoint`]).
//!
//! # Spans
//!
//! One trace per call, made by the process that decides it (the command line, the MCP
//! server), never by the worker process that runs its handler:
//!
//! ```text
//! cnv.call            the request: a command line's call or an MCP tools/call, from its arrival
//! ├─ cnv.gate         the gate's decision (the session's own audit entries included)
//! ├─ cnv.audit        the signed entry that the handler starts
//! ├─ cnv.sandbox      the confinement: a confined worker taken or started, the call sent to it
//! │  └─ cnv.handler   the handler, from the call sent to its answer read
//! └─ cnv.audit        the signed entry of how the call ended
//! ```
//!
//! Attributes: `cnv.command`, `cnv.class`, `cnv.band`, `cnv.mode`, `cnv.origin` (and
//! `cnv.mcp.transport`, `cnv.mcp.session_id` for an MCP call) on `cnv.call`, with
//! `cnv.result` (`ran`, `failed`, `denied`, `overrun`, `sandbox`, `invalid`, `cancelled`),
//! `cnv.exit_code` and, for a refusal, `cnv.rule`; `cnv.decision` (`admitted`, `refused`)
//! and `cnv.rule` on `cnv.gate`; `cnv.audit.entry` (`start`, `finish`) on `cnv.audit`;
//! `cnv.containment` (`process`, `thread`) and `cnv.worker.started` on `cnv.sandbox`. A
//! call that did not run is an error span whose status names its result.
//!
//! **Never recorded** unless the operator opts in with `CNV_OTEL_RECORD_ARGUMENTS=1`
//! ([`RECORD_ARGUMENTS_ENV`]): argument values and justifications (then `cnv.arguments`,
//! the arguments as the audit trail records them, in JSON, and `cnv.justification`). A
//! handler's output and console are never recorded.
//!
//! # Trace context
//!
//! A call continues its caller's trace: an MCP request's `params._meta.traceparent` (and
//! `tracestate`), else the `traceparent` header of the HTTP request that carried it (the
//! MCP server passes it as [`AgentCall::with_trace_context`](crate::AgentCall::with_trace_context)),
//! or the `TRACEPARENT` (and `TRACESTATE`) variable of a command line's environment.
//! Context that does not read as W3C trace context starts a new trace.
//!
//! # Metrics
//!
//! `cnv.calls` (by `cnv.class` and `cnv.result`), `cnv.refusals` (by `cnv.rule`),
//! `cnv.deadline_kills` (by `cnv.class` and `cnv.band`), `cnv.quota_refusals` (by
//! `cnv.quota.rule`, counted by whoever enforces a quota through [`quota_refused`]),
//! sent where `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` says;
//! with only the traces endpoint set, nowhere.

#[cfg(feature = "otel")]
use std::sync::{Once, OnceLock};
use std::time::Instant;
#[cfg(feature = "otel")]
use std::time::SystemTime;

use cnv_audit::CallOrigin;
use cnv_caps::{CapabilityClass, ResourceBand};
use cnv_typestate::RunMode;
use serde_json::{Map, Value};

#[cfg(feature = "otel")]
use crate::audit::call_result;
#[cfg(feature = "otel")]
use crate::console::switch_is_on;
use crate::outcome::CallOutcome;
use crate::output::Exit;

#[cfg(feature = "otel")]
mod otel;

pub use crate::settings::RECORD_ARGUMENTS_ENV;

/// The W3C trace context a call arrived with (`traceparent`, and `tracestate`): its spans
/// continue that trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceContext {
    /// The `traceparent` value (`00-<trace id>-<span id>-<flags>`).
    pub traceparent: String,
    /// The `tracestate` value, if any.
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The context of `traceparent`.
    #[must_use]
    pub fn new(traceparent: impl Into<String>) -> Self {
        Self {
            traceparent: traceparent.into(),
            tracestate: None,
        }
    }

    /// The same context, with `tracestate`.
    #[must_use]
    pub fn with_tracestate(self, tracestate: impl Into<String>) -> Self {
        Self {
            tracestate: Some(tracestate.into()),
            ..self
        }
    }
}

/// Why exporting could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// This process already exports.
    #[error(
        "this process already exports traces and metrics (its OTEL_ variables, or an earlier start): it starts once"
    )]
    AlreadyStarted,
    /// The operator set `OTEL_SDK_DISABLED=true`.
    #[error("the operator disabled traces and metrics (OTEL_SDK_DISABLED=true)")]
    Disabled,
    /// This process is a confined worker, which never exports: its parent makes the spans.
    #[error("a worker process never exports traces or metrics: the process that started it does")]
    InWorker,
    /// The program was built without the `otel` feature.
    #[error(
        "this program was built without traces and metrics (cnv's `otel` feature, on by default): rebuild it with the feature"
    )]
    NotCompiled,
    /// The OTLP exporter refused its settings.
    #[error(
        "the OTLP exporter cannot start: {reason} (check OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_ variables)"
    )]
    Exporter {
        /// What the exporter said.
        reason: String,
    },
}

/// The process's exporting, once started.
#[cfg(feature = "otel")]
static ON: OnceLock<otel::Otel> = OnceLock::new();

/// Whether the process's variables were read (they are, once).
#[cfg(feature = "otel")]
static READ_ENV: Once = Once::new();

/// The process's exporting, reading its variables first if nothing did yet.
#[cfg(feature = "otel")]
fn active() -> Option<&'static otel::Otel> {
    READ_ENV.call_once(|| {
        if let Ok(Some(otel)) = from_env("cnv") {
            let _ = ON.set(otel);
        }
    });
    ON.get()
}

/// Whether the operator switched exporting off (`OTEL_SDK_DISABLED=true`).
#[cfg(feature = "otel")]
fn disabled_by_env() -> bool {
    std::env::var("OTEL_SDK_DISABLED").is_ok_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// Whether the variable `name` is set, and not empty.
#[cfg(feature = "otel")]
fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| !value.is_empty())
}

/// Whether the process's variables turn exporting on: an endpoint set, and
/// `OTEL_SDK_DISABLED` not `true`.
#[cfg(feature = "otel")]
fn wanted_by_env() -> bool {
    !disabled_by_env()
        && (env_set("OTEL_EXPORTER_OTLP_ENDPOINT") || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// Whether the operator opted in to argument values in traces.
#[cfg(feature = "otel")]
fn record_arguments_by_env() -> bool {
    std::env::var(RECORD_ARGUMENTS_ENV).is_ok_and(|value| switch_is_on(&value))
}

/// The export timeout the operator set (`OTEL_EXPORTER_OTLP_TIMEOUT`, milliseconds).
#[cfg(feature = "otel")]
fn timeout_by_env() -> Option<std::time::Duration> {
    [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
    .map(std::time::Duration::from_millis)
}

#[cfg(feature = "otel")]
fn from_env(service: &str) -> Result<Option<otel::Otel>, TelemetryError> {
    if ON.get().is_some() || cnv_sandbox::worker::is_worker() || !wanted_by_env() {
        return Ok(None);
    }
    let metrics =
        env_set("OTEL_EXPORTER_OTLP_ENDPOINT") || env_set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    otel::Otel::start(
        service,
        &otel::Endpoint::FromEnv { metrics },
        timeout_by_env(),
        record_arguments_by_env(),
    )
    .map(Some)
    .map_err(|reason| TelemetryError::Exporter { reason })
}

/// Reads the process's variables (see the [module](self)) unless they were read already,
/// and starts exporting if they ask for it, naming the process `service` unless
/// `OTEL_SERVICE_NAME` names it. [`Cli::run`](crate::Cli::run) calls it with the
/// program's name; a program that only makes calls ([`Cli::call`](crate::Cli::call)) may,
/// before the first (which otherwise reads them, naming the service `cnv`). Returns
/// whether the process exports.
///
/// # Errors
///
/// [`TelemetryError::Exporter`] when the variables ask for exporting and the exporter
/// cannot start (exporting stays off).
pub fn start_from_env(service: &str) -> Result<bool, TelemetryError> {
    #[cfg(feature = "otel")]
    {
        let mut result = Ok(());
        READ_ENV.call_once(|| match from_env(service) {
            Ok(Some(otel)) => {
                let _ = ON.set(otel);
            }
            Ok(None) => {}
            Err(err) => result = Err(err),
        });
        result.map(|()| ON.get().is_some())
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = service;
        Ok(false)
    }
}

/// Starts exporting to the OTLP/HTTP collector at `endpoint` (its base URL:
/// `http://127.0.0.1:4318`), whatever the endpoint variables say, naming the process
/// `service` unless `OTEL_SERVICE_NAME` names it: for a program that configures exporting
/// in code. The calls made from then on are traced.
///
/// # Errors
///
/// [`TelemetryError::AlreadyStarted`] when the process already exports;
/// [`TelemetryError::Disabled`] when the operator set `OTEL_SDK_DISABLED=true`;
/// [`TelemetryError::InWorker`] in a worker process; [`TelemetryError::NotCompiled`]
/// without the `otel` feature; [`TelemetryError::Exporter`] when the exporter refuses.
pub fn start_with_endpoint(service: &str, endpoint: &str) -> Result<(), TelemetryError> {
    #[cfg(feature = "otel")]
    {
        if cnv_sandbox::worker::is_worker() {
            return Err(TelemetryError::InWorker);
        }
        if ON.get().is_some() {
            return Err(TelemetryError::AlreadyStarted);
        }
        if disabled_by_env() {
            return Err(TelemetryError::Disabled);
        }
        let started = otel::Otel::start(
            service,
            &otel::Endpoint::Base(endpoint),
            timeout_by_env(),
            record_arguments_by_env(),
        )
        .map_err(|reason| TelemetryError::Exporter { reason })?;
        ON.set(started).map_err(|_| TelemetryError::AlreadyStarted)
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = (service, endpoint);
        Err(TelemetryError::NotCompiled)
    }
}

/// Whether this process exports traces and metrics.
#[must_use]
pub fn is_on() -> bool {
    #[cfg(feature = "otel")]
    {
        ON.get().is_some()
    }
    #[cfg(not(feature = "otel"))]
    {
        false
    }
}

/// Exports the spans and metrics not yet sent, and returns once the collector answered
/// (or the export timed out). A one-shot command line does so before it exits
/// ([`Cli::run`](crate::Cli::run) does); a server's exporters send on their own.
pub fn flush() {
    #[cfg(feature = "otel")]
    if let Some(otel) = ON.get() {
        otel.flush();
    }
}

/// Counts a call refused by a quota: `rule` names the quota (`"calls_per_minute"`, …), as
/// the refusal names it. The one place quotas are counted (`cnv.quota_refusals`, by
/// `cnv.quota.rule`); whoever enforces a quota calls it once per refused call. Nothing
/// when exporting is off.
pub fn quota_refused(rule: &str) {
    #[cfg(feature = "otel")]
    if let Some(otel) = ON.get() {
        otel.count_quota_refusal(rule.to_owned());
    }
    #[cfg(not(feature = "otel"))]
    let _ = rule;
}

/// One step of a call, a child span of the call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    /// The gate's decision.
    Gate,
    /// The signed entry that the handler starts.
    AuditStart,
    /// The signed entry of how the call ended.
    AuditFinish,
    /// The confinement: a worker taken or started, the call sent to it.
    Sandbox,
    /// The handler, as its worker ran it.
    Handler,
}

impl Phase {
    #[cfg(feature = "otel")]
    const fn name(self) -> &'static str {
        match self {
            Self::Gate => "cnv.gate",
            Self::AuditStart | Self::AuditFinish => "cnv.audit",
            Self::Sandbox => "cnv.sandbox",
            Self::Handler => "cnv.handler",
        }
    }
}

/// The spans of one call: nothing at all when exporting is off. The call's span is made
/// once the call names a verb (or ends without one), started at the call's arrival.
pub(crate) struct CallTrace {
    #[cfg(feature = "otel")]
    active: Option<Active>,
}

#[cfg(feature = "otel")]
struct Active {
    otel: &'static otel::Otel,
    /// The call's span, once made.
    root: Option<opentelemetry::Context>,
    /// When the call arrived, on the wall clock.
    start: SystemTime,
    parent: Option<TraceContext>,
    origin: CallOrigin,
    class: Option<CapabilityClass>,
    band: Option<ResourceBand>,
}

/// One step's span (nothing when exporting is off); ended when dropped.
pub(crate) struct PhaseSpan {
    #[cfg(feature = "otel")]
    span: Option<(&'static otel::Otel, opentelemetry::Context)>,
}

impl CallTrace {
    /// The trace of a call that arrived at `arrival` through `origin`, continuing
    /// `parent` when given.
    pub(crate) fn new(
        origin: &CallOrigin,
        parent: Option<&TraceContext>,
        arrival: Instant,
    ) -> Self {
        #[cfg(feature = "otel")]
        {
            let active = active().map(|otel| Active {
                otel,
                root: None,
                start: SystemTime::now()
                    .checked_sub(arrival.elapsed())
                    .unwrap_or_else(SystemTime::now),
                parent: parent.cloned(),
                origin: origin.clone(),
                class: None,
                band: None,
            });
            Self { active }
        }
        #[cfg(not(feature = "otel"))]
        {
            let _ = (origin, parent, arrival);
            Self {}
        }
    }

    /// The call continues `parent` (a launcher's trace).
    pub(crate) fn continuing(&mut self, parent: TraceContext) {
        #[cfg(feature = "otel")]
        if let Some(active) = &mut self.active {
            active.parent = Some(parent);
        }
        #[cfg(not(feature = "otel"))]
        let _ = parent;
    }

    /// Whether the call's spans are made (exporting is on).
    pub(crate) fn is_on(&self) -> bool {
        #[cfg(feature = "otel")]
        {
            self.active.is_some()
        }
        #[cfg(not(feature = "otel"))]
        {
            false
        }
    }

    /// The call names the verb `command` of `class` and `band`, run in `mode`: its span
    /// starts (at the call's arrival).
    pub(crate) fn command(
        &mut self,
        command: &str,
        class: CapabilityClass,
        band: ResourceBand,
        mode: RunMode,
    ) {
        #[cfg(feature = "otel")]
        if let Some(active) = &mut self.active {
            use opentelemetry::KeyValue;
            active.class = Some(class);
            active.band = Some(band);
            active.open(vec![
                KeyValue::new("cnv.command", command.to_owned()),
                KeyValue::new("cnv.class", class.name()),
                KeyValue::new("cnv.band", band.name()),
                KeyValue::new("cnv.mode", mode.name()),
            ]);
        }
        #[cfg(not(feature = "otel"))]
        let _ = (command, class, band, mode);
    }

    /// Records the call's argument values and justification, when the operator opted in
    /// ([`RECORD_ARGUMENTS_ENV`]); nothing otherwise.
    pub(crate) fn arguments(&self, arguments: &Map<String, Value>, justification: Option<&str>) {
        #[cfg(feature = "otel")]
        if let Some(Active {
            otel,
            root: Some(root),
            ..
        }) = &self.active
            && otel.record_arguments
        {
            use opentelemetry::KeyValue;
            let json = serde_json::to_string(arguments).unwrap_or_default();
            otel::set(
                root,
                KeyValue::new("cnv.arguments", cut(json, MAX_RECORDED_TEXT)),
            );
            if let Some(justification) = justification {
                let shown = cnv_caps::text::escape_for_display(justification);
                otel::set(
                    root,
                    KeyValue::new("cnv.justification", cut(shown, MAX_RECORDED_TEXT)),
                );
            }
        }
        #[cfg(not(feature = "otel"))]
        let _ = (arguments, justification);
    }

    /// A step of the call, starting now.
    pub(crate) fn phase(&self, phase: Phase) -> PhaseSpan {
        #[cfg(feature = "otel")]
        {
            let span = self.active.as_ref().and_then(|active| {
                let root = active.root.as_ref()?;
                let cx = active.otel.child(root, phase.name());
                phase_attributes(&cx, phase);
                Some((active.otel, cx))
            });
            PhaseSpan { span }
        }
        #[cfg(not(feature = "otel"))]
        {
            let _ = phase;
            PhaseSpan {}
        }
    }

    /// The call ended as `outcome`, its caller given `exit`: its span ends with its result,
    /// and it is counted. `command` is what was asked for when no verb was named (an
    /// unknown command, arguments that did not parse), recorded escaped.
    pub(crate) fn end(self, outcome: &CallOutcome, exit: Exit, command: Option<&str>) {
        #[cfg(feature = "otel")]
        if let Some(mut active) = self.active {
            use opentelemetry::KeyValue;
            if active.root.is_none() {
                let mut attributes = Vec::new();
                if let Some(command) = command {
                    let shown = cut(cnv_caps::text::escape_for_display(command), MAX_COMMAND);
                    attributes.push(KeyValue::new("cnv.command", shown));
                }
                active.open(attributes);
            }
            let band = active.band.unwrap_or(ResourceBand::Instant);
            let result = call_result(outcome, exit, band);
            let status = result.status();
            let Some(root) = active.root.as_ref() else {
                return;
            };
            otel::set(root, KeyValue::new("cnv.result", status));
            otel::set(
                root,
                KeyValue::new("cnv.exit_code", i64::from(result.exit_code())),
            );
            let class = active.class.map(CapabilityClass::name);
            active.otel.count_call(class, status);
            match outcome {
                CallOutcome::Refused(refusal) => {
                    otel::set(root, KeyValue::new("cnv.rule", refusal.rule.name()));
                    active.otel.count_refusal(refusal.rule.name());
                }
                CallOutcome::Overran { .. } => {
                    if let Some(class) = class {
                        active.otel.count_deadline_kill(class, band.name());
                    }
                }
                CallOutcome::Ran(_)
                | CallOutcome::UnknownCommand { .. }
                | CallOutcome::InvalidArguments { .. }
                | CallOutcome::Failed(_)
                | CallOutcome::Cancelled { .. } => {}
            }
            otel::end(root, (status != "ran").then_some(status));
        }
        #[cfg(not(feature = "otel"))]
        let _ = (outcome, exit, command);
    }
}

/// The most bytes of an unknown command a span records (as the audit trail cuts it).
#[cfg(feature = "otel")]
const MAX_COMMAND: usize = 256;

/// The most bytes of the arguments (their JSON) or a justification a span records, when
/// the operator opted in: a span stays small whatever an agent sends.
#[cfg(feature = "otel")]
const MAX_RECORDED_TEXT: usize = 16 * 1024;

/// The longest `traceparent` taken (version `00`'s is 55 bytes; later versions may add
/// fields) and the longest `tracestate` (W3C: 512 is what a vendor must propagate).
#[cfg(feature = "otel")]
const MAX_TRACEPARENT: usize = 256;
#[cfg(feature = "otel")]
const MAX_TRACESTATE: usize = 512;

/// `text` cut to at most `max` bytes (on a character boundary), marked with `…` when cut.
#[cfg(feature = "otel")]
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(feature = "otel")]
impl Active {
    /// Makes the call's span, with `attributes` and the origin's.
    fn open(&mut self, mut attributes: Vec<opentelemetry::KeyValue>) {
        use opentelemetry::KeyValue;
        use opentelemetry::trace::SpanKind;
        if self.root.is_some() {
            return;
        }
        let kind = match &self.origin {
            CallOrigin::CommandLine => {
                attributes.push(KeyValue::new("cnv.origin", "command_line"));
                SpanKind::Internal
            }
            CallOrigin::Program => {
                attributes.push(KeyValue::new("cnv.origin", "program"));
                SpanKind::Internal
            }
            CallOrigin::Mcp {
                transport,
                session_id,
                ..
            } => {
                attributes.push(KeyValue::new("cnv.origin", "mcp"));
                let transport = serde_json::to_value(transport)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default();
                attributes.push(KeyValue::new("cnv.mcp.transport", transport));
                if let Some(session) = session_id {
                    attributes.push(KeyValue::new(
                        "cnv.mcp.session_id",
                        cnv_caps::text::escape_for_display(session),
                    ));
                }
                SpanKind::Server
            }
            // An origin added after these: named as the audit trail names it.
            other => {
                let via = serde_json::to_value(other)
                    .ok()
                    .and_then(|value| value.get("via")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                attributes.push(KeyValue::new("cnv.origin", via));
                SpanKind::Internal
            }
        };
        // Context longer than W3C's is not context: a new trace (or no tracestate).
        let parent = self
            .parent
            .as_ref()
            .filter(|parent| parent.traceparent.len() <= MAX_TRACEPARENT)
            .map(|parent| {
                let tracestate = parent
                    .tracestate
                    .as_deref()
                    .filter(|tracestate| tracestate.len() <= MAX_TRACESTATE);
                (parent.traceparent.as_str(), tracestate)
            });
        self.root = Some(
            self.otel
                .root("cnv.call", kind, self.start, parent, attributes),
        );
    }
}

#[cfg(feature = "otel")]
fn phase_attributes(cx: &opentelemetry::Context, phase: Phase) {
    use opentelemetry::KeyValue;
    match phase {
        Phase::AuditStart => otel::set(cx, KeyValue::new("cnv.audit.entry", "start")),
        Phase::AuditFinish => otel::set(cx, KeyValue::new("cnv.audit.entry", "finish")),
        Phase::Gate | Phase::Sandbox | Phase::Handler => {}
    }
}

impl PhaseSpan {
    /// A step of this step, starting now (the handler within the confinement).
    pub(crate) fn phase(&self, phase: Phase) -> Self {
        #[cfg(feature = "otel")]
        {
            let span = self.span.as_ref().map(|(otel, parent)| {
                let cx = otel.child(parent, phase.name());
                phase_attributes(&cx, phase);
                (*otel, cx)
            });
            Self { span }
        }
        #[cfg(not(feature = "otel"))]
        {
            let _ = phase;
            Self {}
        }
    }

    /// Sets the attribute `key` to `value`.
    pub(crate) fn set(&self, key: &'static str, value: &'static str) {
        #[cfg(feature = "otel")]
        if let Some((_, cx)) = &self.span {
            otel::set(cx, opentelemetry::KeyValue::new(key, value));
        }
        #[cfg(not(feature = "otel"))]
        let _ = (key, value);
    }

    /// Sets the attribute `key` to `value`.
    pub(crate) fn set_bool(&self, key: &'static str, value: bool) {
        #[cfg(feature = "otel")]
        if let Some((_, cx)) = &self.span {
            otel::set(cx, opentelemetry::KeyValue::new(key, value));
        }
        #[cfg(not(feature = "otel"))]
        let _ = (key, value);
    }

    /// The gate decided: admitted, or refused by a rule (the call's outcome).
    pub(crate) fn decided(self, refused: Option<&CallOutcome>) {
        match refused {
            None => self.set("cnv.decision", "admitted"),
            Some(outcome) => {
                self.set("cnv.decision", "refused");
                if let CallOutcome::Refused(refusal) = outcome {
                    self.set("cnv.rule", refusal.rule.name());
                }
            }
        }
    }

    /// The step ends, failed (`error` names how, a label).
    pub(crate) fn failed(mut self, error: &'static str) {
        #[cfg(feature = "otel")]
        if let Some((_, cx)) = self.span.take() {
            otel::end(&cx, Some(error));
        }
        #[cfg(not(feature = "otel"))]
        let _ = (&mut self, error);
    }
}

impl Drop for PhaseSpan {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some((_, cx)) = self.span.take() {
            otel::end(&cx, None);
        }
    }
}
