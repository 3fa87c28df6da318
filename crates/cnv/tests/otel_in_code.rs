//! Traces and metrics started in code (`cnv::telemetry::start_with_endpoint`) by a program
//! that makes calls on an agent's behalf itself (`Cli::call`), exported to a real
//! OTLP/HTTP receiver on loopback. One test: exporting is the process's, started once.

use cnv::cli::{AgentCall, CallOutcome, Console, TraceContext};
use cnv::prelude::*;
use cnv::telemetry::{self, TelemetryError};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::Map;

mod otlp;

use otlp::Collector;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn cli() -> Cli {
    let grammar = GrammarModel::new("embedder").with_noun(
        GrammarNoun::new("calc", "Arithmetic")
            .with_verb(GrammarVerb::new("one", "One", CapabilityContract::pure()))
            .with_verb(GrammarVerb::new(
                "slow",
                "Longer than its band",
                CapabilityContract::pure().with_band(ResourceBand::Instant),
            )),
    );
    CliBuilder::from_model(grammar)
        .handler::<Pure, _>("calc one", |_call| Ok(Output::text("1")))
        .handler::<Pure, _>("calc slow", |_call| {
            std::thread::sleep(std::time::Duration::from_millis(400));
            Ok(Output::text("late"))
        })
        .build()
        .expect("a valid grammar")
}

#[test]
fn a_program_starts_exporting_in_code_and_its_calls_deadline_kills_and_quota_refusals_are_exported()
{
    let mut receiver = Collector::start();
    let cli = cli();
    let no_args = Map::new();
    // Before exporting starts, calls are not traced.
    assert!(!telemetry::is_on());
    let before = cli.call(&AgentCall::new("calc one", &no_args));
    assert!(matches!(before, CallOutcome::Ran(_)), "{before:?}");

    telemetry::start_with_endpoint("embedder", &receiver.url).expect("starts");
    assert!(telemetry::is_on());
    assert!(matches!(
        telemetry::start_with_endpoint("embedder", &receiver.url),
        Err(TelemetryError::AlreadyStarted)
    ));
    assert_eq!(telemetry::start_from_env("embedder").ok(), Some(true));

    // Context that does not read as W3C trace context starts a new trace.
    let garbled = AgentCall::new("calc one", &no_args)
        .with_trace_context(Some(TraceContext::new("00-not-a-trace-01\u{7}")));
    assert!(matches!(cli.call(&garbled), CallOutcome::Ran(_)));
    // A tracestate longer than W3C's is dropped; its traceparent is still continued.
    let long = AgentCall::new("calc one", &no_args).with_trace_context(Some(
        TraceContext::new(format!("00-{TRACE_ID}-{PARENT_ID}-01"))
            .with_tracestate(format!("a={}", "b".repeat(4096))),
    ));
    assert!(matches!(cli.call(&long), CallOutcome::Ran(_)));
    // An unknown command, named with a control character, is recorded escaped.
    let unknown = cli.call(&AgentCall::new("calc \u{1b}[2Jwipe", &no_args));
    assert!(matches!(unknown, CallOutcome::UnknownCommand { .. }));
    // A call past its band's time (100 ms for `Instant`) is stopped and counted.
    let late = cli.call(&AgentCall::new("calc slow", &no_args));
    assert!(matches!(late, CallOutcome::Overran { .. }), "{late:?}");
    telemetry::quota_refused("calls_per_minute");
    telemetry::quota_refused("calls_per_minute");
    // And a command line run in the same process: its console is the test's.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = cli.run_in(
        ["embedder", "calc", "one"],
        &mut Console::for_tests(&mut out, &mut err),
    );
    assert_eq!(exit, Exit::Success);
    telemetry::flush();
    receiver.drain();

    let calls = receiver.named("cnv.call");
    assert_eq!(calls.len(), 5, "{:#?}", receiver.spans);
    let continued = calls
        .iter()
        .find(|span| span.trace_id == TRACE_ID)
        .expect("the call with a long tracestate");
    assert_eq!(continued.parent, PARENT_ID);
    assert_eq!(continued.trace_state, "");
    let ran = calls
        .iter()
        .find(|span| span.attr("cnv.origin") == Some("program") && span.trace_id != TRACE_ID)
        .expect("the program's call");
    assert_eq!(ran.parent, "", "a new trace: {ran:?}");
    assert_eq!(ran.kind, SpanKind::Internal as i32);
    assert_eq!(ran.service, "embedder");
    assert_eq!(ran.attr("cnv.result"), Some("ran"));
    // No worker processes in a program that never entered through `Cli::run`: a
    // confined thread.
    let sandbox = receiver
        .spans
        .iter()
        .find(|span| span.name == "cnv.sandbox" && span.parent == ran.span_id)
        .expect("its confinement");
    assert_eq!(sandbox.attr("cnv.containment"), Some("thread"));
    let invalid = calls
        .iter()
        .find(|span| span.attr("cnv.result") == Some("invalid"))
        .expect("the unknown command");
    assert!(invalid.error);
    assert_eq!(invalid.attr("cnv.command"), Some("calc \\u{001b}[2Jwipe"));
    assert_eq!(invalid.attr("cnv.exit_code"), Some("2"));
    assert!(invalid.attr("cnv.class").is_none());
    let overran = calls
        .iter()
        .find(|span| span.attr("cnv.result") == Some("overrun"))
        .expect("the call past its band");
    assert!(overran.error);
    assert_eq!(overran.attr("cnv.band"), Some("Instant"));
    assert_eq!(overran.attr("cnv.exit_code"), Some("5"));
    assert_eq!(
        receiver.count(
            "cnv.deadline_kills",
            &[("cnv.class", "Pure"), ("cnv.band", "Instant")]
        ),
        1
    );
    let command_line = calls
        .iter()
        .find(|span| span.attr("cnv.origin") == Some("command_line"))
        .expect("the command line's call");
    assert_eq!(command_line.attr("cnv.mode"), Some("Supervised"));

    assert_eq!(
        receiver.count(
            "cnv.quota_refusals",
            &[("cnv.quota.rule", "calls_per_minute")]
        ),
        2,
        "{:#?}",
        receiver.points
    );
    assert_eq!(receiver.count("cnv.calls", &[("cnv.result", "invalid")]), 1);
    assert_eq!(
        receiver.count("cnv.calls", &[("cnv.class", "Pure"), ("cnv.result", "ran")]),
        3,
        "the call before exporting started is not counted"
    );
}
