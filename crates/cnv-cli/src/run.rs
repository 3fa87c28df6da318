//! The command line: [`Cli::run`] and its forms, which parse a process's arguments, take
//! the command through the gate and the sandbox, print how it ended and record it.

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use cnv_audit::{CallOrigin, CallResult};
use cnv_caps::text::escape_for_display;
use serde_json::{Map, Value};

use crate::call::clap_message;
use crate::cli::Cli;
use crate::console::Console;
use crate::dispatch::Early;
use crate::outcome::CallOutcome;
use crate::output::Exit;
use crate::report;
use crate::serve::Serve;
use crate::telemetry::{self, CallTrace, Phase, TraceContext};

impl<S: Serve> Cli<S> {
    /// Runs the process's command line (`std::env::args_os`) with its standard streams
    /// and environment, and returns the exit code for `main`.
    ///
    /// ```no_run
    /// # fn cli() -> cnv_cli::Cli { unimplemented!() }
    /// fn main() -> std::process::ExitCode {
    ///     cli().run()
    /// }
    /// ```
    #[must_use = "return the exit code from `main`"]
    pub fn run(&self) -> ExitCode {
        // Unlocked handles: the handler runs on a thread of its own, and holding the
        // streams' locks here would block it at its first `eprintln!`.
        self.run_args(std::env::args_os())
    }

    /// Runs `args` (the program name first) as [`run`](Self::run) runs the process's
    /// own: with its standard streams, environment and terminal. For a program that
    /// rewrites its arguments first; agent mode and every operator setting still come
    /// from the environment, whatever the arguments say.
    ///
    /// ```no_run
    /// # fn cli() -> cnv_cli::Cli { unimplemented!() }
    /// fn main() -> std::process::ExitCode {
    ///     // `notes ls` is short for `notes note list`.
    ///     let args = std::env::args_os().map(|arg| if arg == "ls" { "note".into() } else { arg });
    ///     let mut args: Vec<std::ffi::OsString> = args.collect();
    ///     if args.get(1).is_some_and(|word| word == "note") && args.len() == 2 {
    ///         args.push("list".into());
    ///     }
    ///     cli().run_args(args)
    /// }
    /// ```
    #[must_use = "return the exit code from `main`"]
    pub fn run_args<I, T>(&self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        self.serve_as_worker_if_asked();
        let mut out = io::stdout();
        let mut err = io::stderr();
        if let Err(problem) = telemetry::start_from_env(self.grammar.app_name()) {
            // Calls go on without traces: exporting is the operator's to fix.
            let _ = writeln!(err, "warning: {}", escape_for_display(&problem.to_string()));
        }
        let mut console = Console::process(&mut out, &mut err);
        let exit = self.run_in(args, &mut console);
        // A one-shot command line: what it traced is sent before it exits, whatever the
        // call's ending.
        telemetry::flush();
        exit.into()
    }

    /// Runs `args` (the program name first, as in `std::env::args_os`) against
    /// `console`: [`Console::process`] for the process's own streams and environment,
    /// [`Console::for_tests`] in tests.
    pub fn run_in<I, T>(&self, args: I, console: &mut Console<'_>) -> Exit
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let arrival = Instant::now();
        let json = report::wants_json(&args);
        let mut trace = CallTrace::new(&CallOrigin::CommandLine, None, arrival);
        if trace.is_on() {
            // A launcher's trace, in the variables OpenTelemetry names for a process.
            if let Some(traceparent) = console.var("TRACEPARENT") {
                let mut context = TraceContext::new(traceparent);
                if let Some(tracestate) = console.var("TRACESTATE") {
                    context = context.with_tracestate(tracestate);
                }
                trace.continuing(context);
            }
        }
        match self.dispatch(
            &args,
            console,
            &CallOrigin::CommandLine,
            None,
            arrival,
            &mut trace,
        ) {
            Err(Early::Usage(err)) => {
                if err.exit_code() != 0 {
                    if self.is_agent_run(&args, console) {
                        self.record_usage_error(&args, &err, console);
                    }
                    let invalid = CallOutcome::InvalidArguments {
                        message: String::new(),
                    };
                    trace.end(&invalid, Exit::Usage, None);
                }
                report::clap_error(&err, json, console)
            }
            Err(Early::Printed(exit)) => exit,
            Ok(call) => {
                let exit = call
                    .report
                    .print(&call.outcome, call.enforcement.as_ref(), console);
                if let Some(call_log) = call.call_log {
                    let span = trace.phase(Phase::AuditFinish);
                    if let Err(err) = call_log.finish(&call.outcome, exit) {
                        span.failed("unrecorded");
                        call.report.unrecorded_end(&err, console);
                    }
                }
                trace.end(&call.outcome, exit, None);
                exit
            }
        }
    }

    /// Whether a command line that did not parse was an agent's: agent mode set by the
    /// program or the launcher, or `--agent` among its words.
    fn is_agent_run(&self, args: &[OsString], console: &Console<'_>) -> bool {
        self.agent_mode_is_set(console) || args.iter().skip(1).any(|arg| arg == "--agent")
    }

    /// Records an agent's command line that did not parse as an `invalid` call: its words
    /// as given (lossily, if not UTF-8), and clap's message.
    fn record_usage_error(&self, args: &[OsString], err: &clap::Error, console: &Console<'_>) {
        let words: Vec<String> = args
            .iter()
            .skip(1)
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        // The command as far as its words name nouns and verbs; all of them are recorded.
        let command: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .take_while(|word| !word.starts_with('-'))
            .collect();
        let mut arguments = Map::new();
        arguments.insert(
            "argv".to_owned(),
            Value::Array(words.iter().cloned().map(Value::String).collect()),
        );
        let result = CallResult::Invalid {
            exit_code: i32::from(Exit::Usage.code()),
            message: format!("invalid command line: {}", clap_message(err)),
        };
        self.record_without_session(
            &command.join(" "),
            arguments,
            &CallOrigin::CommandLine,
            console,
            result,
        );
    }
}
