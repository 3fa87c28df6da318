//! How the outcome of a run is printed: text for people, one JSON object per run with
//! `--format json`. The JSON objects are typed here and serialised with serde.

use std::ffi::OsString;

use cnv_caps::CapabilityClass;
use cnv_sandbox::Enforcement;
use cnv_typestate::{Rule, RunMode};
use serde::Serialize;
use serde_json::Value;

use crate::console::Console;
use crate::gate::{Refusal, Stop};
use crate::output::{Exit, Output};

/// The object printed for a command that ran, with `--format json`.
#[derive(Serialize)]
struct Success<'a> {
    ok: bool,
    command: &'a str,
    mode: &'static str,
    class: CapabilityClass,
    result: Value,
    /// What the kernel enforced while the handler ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox: Option<&'a Enforcement>,
}

/// The object printed for a command that did not run or failed, with `--format json`.
#[derive(Serialize)]
struct Failure<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<CapabilityClass>,
    exit_code: u8,
    error: ErrorBody<'a>,
}

/// What went wrong: the kind of exit, the message and, for a refusal, its rule, what to
/// do, and the justification's required and given lengths.
#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given: Option<usize>,
}

impl<'a> ErrorBody<'a> {
    fn message(kind: Exit, message: &'a str) -> Self {
        Self {
            kind: kind.name(),
            message,
            rule: None,
            hint: None,
            required: None,
            given: None,
        }
    }

    fn refusal(kind: Exit, refusal: &'a Refusal) -> Self {
        Self {
            rule: Some(refusal.rule),
            hint: Some(&refusal.hint),
            required: refusal.required,
            given: refusal.given,
            ..Self::message(kind, &refusal.message)
        }
    }
}

/// How the outcome of one call is printed.
pub(crate) struct Report {
    pub(crate) command: String,
    pub(crate) class: CapabilityClass,
    pub(crate) band: cnv_caps::ResourceBand,
    pub(crate) mode: RunMode,
    pub(crate) json: bool,
}

impl Report {
    fn mode(&self) -> &'static str {
        match self.mode {
            RunMode::Autonomous => "agent",
            RunMode::Supervised => "human",
        }
    }

    pub(crate) fn success(
        &self,
        output: Output,
        sandbox: Option<&Enforcement>,
        console: &mut Console<'_>,
    ) -> Exit {
        if self.json {
            let object = Success {
                ok: true,
                command: &self.command,
                mode: self.mode(),
                class: self.class,
                result: output.into_result(),
                sandbox,
            };
            print_json(&object, console);
        } else if !output.as_text().is_empty() {
            let text = output.as_text();
            let _ = console.stdout.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = console.stdout.write_all(b"\n");
            }
        }
        Exit::Success
    }

    /// A handler that ran past its band's time: exit 5.
    pub(crate) fn overrun(&self, budget: std::time::Duration, console: &mut Console<'_>) -> Exit {
        let message = format!(
            "`{}` ran past its resource band's time ({} ms, band `{}`) and was stopped; nothing it produced is reported",
            self.command,
            budget.as_millis(),
            self.band
        );
        let hint = "if the command needs longer, declare it with a slower band (Fast 1 s, Medium 10 s, Slow 60 s, Cold unbounded)";
        if self.json {
            let object = Failure {
                ok: false,
                command: Some(&self.command),
                mode: Some(self.mode()),
                class: Some(self.class),
                exit_code: Exit::Overrun.code(),
                error: ErrorBody {
                    hint: Some(hint),
                    ..ErrorBody::message(Exit::Overrun, &message)
                },
            };
            print_json(&object, console);
        } else {
            let _ = writeln!(console.stderr, "error: {message}");
            let _ = writeln!(console.stderr, "  to proceed: {hint}");
        }
        Exit::Overrun
    }

    pub(crate) fn stop(&self, stop: Stop, console: &mut Console<'_>) -> Exit {
        let failed;
        let (exit, body) = match &stop {
            Stop::Denied(refusal) => (Exit::Denied, ErrorBody::refusal(Exit::Denied, refusal)),
            Stop::NotConfirmed(refusal) => (
                Exit::ConfirmationRequired,
                ErrorBody::refusal(Exit::ConfirmationRequired, refusal),
            ),
            Stop::Failed(err) => {
                let exit = err.exit();
                failed = format!("`{}` failed: {err}", self.command);
                (exit, ErrorBody::message(exit, &failed))
            }
        };
        if self.json {
            let object = Failure {
                ok: false,
                command: Some(&self.command),
                mode: Some(self.mode()),
                class: Some(self.class),
                exit_code: exit.code(),
                error: body,
            };
            print_json(&object, console);
        } else {
            let _ = writeln!(console.stderr, "error: {}", body.message);
            if let Some(hint) = body.hint {
                let _ = writeln!(console.stderr, "  to proceed: {hint}");
            }
        }
        exit
    }
}

fn print_json(object: &impl Serialize, console: &mut Console<'_>) {
    if let Ok(text) = serde_json::to_string(object) {
        let _ = writeln!(console.stdout, "{text}");
    }
}

/// Whether the raw arguments ask for JSON output, for errors found before parsing ends.
pub(crate) fn wants_json(args: &[OsString]) -> bool {
    args.windows(2)
        .any(|pair| pair[0] == "--format" && pair[1] == "json")
        || args.iter().any(|arg| arg == "--format=json")
}

/// Prints a clap error (or help, or version) and returns its exit status.
pub(crate) fn clap_error(err: &clap::Error, json: bool, console: &mut Console<'_>) -> Exit {
    let text = err.render().to_string();
    if err.exit_code() == 0 {
        let _ = console.stdout.write_all(text.as_bytes());
        return Exit::Success;
    }
    if json {
        let message = text.trim_end().trim_start_matches("error: ");
        let object = Failure {
            ok: false,
            command: None,
            mode: None,
            class: None,
            exit_code: Exit::Usage.code(),
            error: ErrorBody::message(Exit::Usage, message),
        };
        print_json(&object, console);
    } else {
        let _ = console.stderr.write_all(text.as_bytes());
    }
    Exit::Usage
}

/// The command line as typed, with the program's name from the grammar, for the session
/// name (so every audit entry says what ran); quoted where a word would be ambiguous and
/// cut at 1,000 characters.
pub(crate) fn command_line(app: &str, args: &[OsString]) -> String {
    const LIMIT: usize = 1_000;
    let mut line = app.to_owned();
    for arg in args.iter().skip(1) {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_alphanumeric() || "-_./:=@,+%".contains(c))
        {
            line.push_str(&arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    if line.chars().count() > LIMIT {
        line = line.chars().take(LIMIT).collect();
        line.push('…');
    }
    line
}
