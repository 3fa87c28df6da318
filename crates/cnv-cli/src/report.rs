//! How the outcome of a run is printed: text for people, one JSON object per run with
//! `--format json`. The JSON objects are typed here and serialised with serde.

use std::ffi::OsString;
use std::io;

use cnv_audit::AuditError;
use cnv_caps::text::{escape_for_display, escape_for_display_keeping_line_feeds};
use cnv_caps::{CapabilityClass, ResourceBand};
use cnv_sandbox::Enforcement;
use cnv_typestate::{Rule, RunMode};
use serde::Serialize;
use serde_json::Value;

use crate::audit::console_of;
use crate::console::Console;
use crate::outcome::{CallOutcome, Refusal};
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
    /// What the handler wrote to its standard output and error, escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    console: Option<&'a str>,
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
    /// What the handler wrote to its standard output and error, escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    console: Option<&'a str>,
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
    pub(crate) band: ResourceBand,
    pub(crate) mode: RunMode,
    pub(crate) json: bool,
}

/// What to do about an overrun.
const OVERRUN_HINT: &str = "if the command needs longer, declare it with a slower band (Fast 1 s, Medium 10 s, Slow 60 s, Cold unbounded)";

impl Report {
    fn mode(&self) -> &'static str {
        match self.mode {
            RunMode::Autonomous => "agent",
            RunMode::Supervised => "human",
        }
    }

    /// Prints how the call ended (text, or one JSON object) and returns the exit status:
    /// the outcome's, unless the answer could not be written.
    pub(crate) fn print(
        &self,
        outcome: &CallOutcome,
        sandbox: Option<&Enforcement>,
        console: &mut Console<'_>,
    ) -> Exit {
        let exit = outcome.exit();
        let failed;
        let body = match outcome {
            CallOutcome::Ran(output) => return self.success(output, sandbox, console),
            CallOutcome::Refused(refusal) => ErrorBody::refusal(exit, refusal),
            CallOutcome::Failed(err) => {
                failed = failure_message(&self.command, err.is_usage(), &err.to_string());
                ErrorBody::message(exit, &failed)
            }
            CallOutcome::UnknownCommand { command } => {
                failed = format!("unknown command `{command}`");
                ErrorBody::message(exit, &failed)
            }
            CallOutcome::InvalidArguments { message } => {
                failed = format!("`{}`: {message}", self.command);
                ErrorBody::message(exit, &failed)
            }
            CallOutcome::Overran { budget, after, .. } => {
                failed = format!(
                    "`{}` ran past its resource band's time ({} ms, band `{}`): it was killed {} ms after it arrived, with every process it started; nothing it produced is reported",
                    self.command,
                    budget.as_millis(),
                    self.band,
                    after.as_millis()
                );
                ErrorBody {
                    hint: Some(OVERRUN_HINT),
                    ..ErrorBody::message(exit, &failed)
                }
            }
            // Only a call made with a cancel token (`Cli::call`) is cancelled.
            CallOutcome::Cancelled { .. } => {
                failed = format!("`{}` failed: the call was cancelled", self.command);
                ErrorBody::message(exit, &failed)
            }
        };
        let handler_console = console_of(outcome);
        // What the message quotes (a path, a handler's words, a command an agent named)
        // may come from an agent: shown, never obeyed by a terminal, in JSON too (which
        // escapes only C0 controls on its own).
        let message = match outcome {
            // A handler's own message may run over several lines (a program's errors):
            // they stay lines, each after the first indented under the `error:` line, so
            // no line of it can pose as one of the command line's own.
            CallOutcome::Failed(_) if !self.json => {
                escape_for_display_keeping_line_feeds(body.message.trim_end()).replace('\n', "\n  ")
            }
            CallOutcome::Failed(_) => escape_for_display_keeping_line_feeds(body.message),
            CallOutcome::Ran(_)
            | CallOutcome::UnknownCommand { .. }
            | CallOutcome::InvalidArguments { .. }
            | CallOutcome::Refused(_)
            | CallOutcome::Overran { .. }
            | CallOutcome::Cancelled { .. } => escape_for_display(body.message),
        };
        let hint = body.hint.map(escape_for_display);
        let body = ErrorBody {
            message: &message,
            hint: hint.as_deref(),
            ..body
        };
        if self.json {
            let object = Failure {
                ok: false,
                command: Some(&self.command),
                mode: Some(self.mode()),
                class: Some(self.class),
                exit_code: exit.code(),
                error: body,
                console: handler_console,
            };
            let written = print_json(&object, console);
            return delivered(exit, written, console);
        }
        print_handler_console(handler_console, console);
        let _ = writeln!(console.stderr, "error: {}", body.message);
        if let Some(hint) = body.hint {
            let _ = writeln!(console.stderr, "  to proceed: {hint}");
        }
        exit
    }

    fn success(
        &self,
        output: &Output,
        sandbox: Option<&Enforcement>,
        console: &mut Console<'_>,
    ) -> Exit {
        let written = if self.json {
            let object = Success {
                ok: true,
                command: &self.command,
                mode: self.mode(),
                class: self.class,
                result: output.result(),
                sandbox,
                console: output.console(),
            };
            print_json(&object, console)
        } else if output.as_text().is_empty() {
            print_handler_console(output.console(), console);
            Ok(())
        } else {
            print_handler_console(output.console(), console);
            let text = output.as_text();
            console.stdout.write_all(text.as_bytes()).and_then(|()| {
                if text.ends_with('\n') {
                    Ok(())
                } else {
                    console.stdout.write_all(b"\n")
                }
            })
        };
        delivered(
            Exit::Success,
            written.and_then(|()| console.stdout.flush()),
            console,
        )
    }

    /// Says on standard error that the audit trail could not record how the call ended:
    /// the call is over, and the operator must know the trail is short of its end.
    pub(crate) fn unrecorded_end(&self, err: &AuditError, console: &mut Console<'_>) {
        let _ = writeln!(
            console.stderr,
            "warning: the audit trail could not record how `{}` ended: {}",
            self.command,
            escape_for_display(&err.to_string())
        );
    }
}

/// What a handler wrote to its standard output and error (captured by its worker process
/// and escaped), on standard error, each line marked as the handler's.
fn print_handler_console(handler_console: Option<&str>, console: &mut Console<'_>) {
    let Some(text) = handler_console else {
        return;
    };
    for line in text.lines() {
        let _ = writeln!(console.stderr, "  | {line}");
    }
}

/// A handler's error as the caller reads it: the command named once, and "failed" only
/// for a failure (a usage error is the caller's to fix). A message that already names the
/// command in backquotes (every `ArgError` does) is left as it is.
fn failure_message(command: &str, usage: bool, message: &str) -> String {
    if message.contains(&format!("`{command}`")) {
        message.to_owned()
    } else if usage {
        format!("`{command}`: {message}")
    } else {
        format!("`{command}` failed: {message}")
    }
}

/// One JSON object on its own line of standard output.
fn print_json(object: &impl Serialize, console: &mut Console<'_>) -> io::Result<()> {
    let text = serde_json::to_string(object).map_err(io::Error::other)?;
    writeln!(console.stdout, "{text}")?;
    console.stdout.flush()
}

/// `exit`, unless the answer could not be written: then a failure (exit 1), said on
/// standard error unless the reader has gone (a closed pipe, `| head`), which needs no
/// saying.
pub(crate) fn delivered(exit: Exit, written: io::Result<()>, console: &mut Console<'_>) -> Exit {
    match written {
        Ok(()) => exit,
        Err(err) => {
            if err.kind() != io::ErrorKind::BrokenPipe {
                let _ = writeln!(
                    console.stderr,
                    "error: the output could not be written: {err}"
                );
            }
            match exit {
                Exit::Success => Exit::Failed,
                other => other,
            }
        }
    }
}

/// Whether the raw arguments ask for JSON output, for errors found before parsing ends.
pub(crate) fn wants_json(args: &[OsString]) -> bool {
    args.windows(2)
        .any(|pair| pair[0] == "--format" && pair[1] == "json")
        || args.iter().any(|arg| arg == "--format=json")
}

/// A clap error as it may be shown: clap's text, with every character that is escaped
/// when shown ([`escape_for_display`]) escaped but clap's own line feeds, which lay the
/// message out. The words clap quotes (an unknown flag, an invalid value, a value
/// parser's message about it) may be an agent's, so each of them that holds a line feed
/// is escaped whole first: only clap's layout keeps its lines.
///
/// Where clap is built with its `color` feature (any crate of the program may turn it
/// on), clap's text has lost every ANSI sequence, the agent's too: the words are looked
/// for as clap shows them (`StyledStr`'s text) as well as given.
pub(crate) fn clap_text(err: &clap::Error) -> String {
    use clap::error::ContextValue;
    let mut text = err.render().to_string();
    let mut quoted: Vec<String> = err
        .context()
        .flat_map(|(_, value)| match value {
            ContextValue::String(word) => vec![word.clone()],
            ContextValue::Strings(words) => words.clone(),
            // Clap's own: flags, numbers, and styled text built from the words above.
            ContextValue::None
            | ContextValue::Bool(_)
            | ContextValue::StyledStr(_)
            | ContextValue::StyledStrs(_)
            | ContextValue::Number(_) => Vec::new(),
            // A kind of value a later clap adds: nothing of it is quoted here.
            _ => Vec::new(),
        })
        .collect();
    if let Some(source) = std::error::Error::source(err) {
        quoted.push(source.to_string());
    }
    // Longest first, so a word inside another is not escaped before the longer one.
    quoted.sort_by_key(|word| std::cmp::Reverse(word.len()));
    for word in quoted.iter().filter(|word| word.contains('\n')) {
        let shown = clap::builder::StyledStr::from(word.clone()).to_string();
        for form in [word.as_str(), shown.as_str()] {
            text = text.replace(form, &escape_for_display(form));
        }
    }
    escape_for_display_keeping_line_feeds(&text)
}

/// Prints a clap error (or help, or version) and returns its exit status. An error is
/// shown through [`clap_text`]; help and version are the program's own text, printed as
/// they are.
pub(crate) fn clap_error(err: &clap::Error, json: bool, console: &mut Console<'_>) -> Exit {
    if err.exit_code() == 0 {
        let text = err.render().to_string();
        let written = console
            .stdout
            .write_all(text.as_bytes())
            .and_then(|()| console.stdout.flush());
        return delivered(Exit::Success, written, console);
    }
    let text = clap_text(err);
    if json {
        let message = text.trim_end().trim_start_matches("error: ");
        let object = Failure {
            ok: false,
            command: None,
            mode: None,
            class: None,
            exit_code: Exit::Usage.code(),
            error: ErrorBody::message(Exit::Usage, message),
            console: None,
        };
        let written = print_json(&object, console);
        return delivered(Exit::Usage, written, console);
    } else {
        let _ = console.stderr.write_all(text.as_bytes());
    }
    Exit::Usage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str]) -> clap::Error {
        clap::Command::new("t")
            .arg(
                clap::Arg::new("count")
                    .long("count")
                    .value_parser(clap::value_parser!(u8)),
            )
            .arg(
                clap::Arg::new("mode")
                    .long("mode")
                    .value_parser(["fast", "slow"]),
            )
            .try_get_matches_from(args)
            .expect_err("clap refuses")
    }

    #[test]
    fn an_unknown_flag_is_shown_escaped_with_clap_s_layout() {
        let err = refused(&["t", "--\u{1b}[2Jx\u{202e}"]);
        let text = clap_text(&err);
        // The ANSI sequence is escaped, or (clap's `color` feature) clap dropped it.
        assert!(
            text.contains("unexpected argument '--\\u{001b}[2Jx\\u{202e}' found")
                || text.contains("unexpected argument '--x\\u{202e}' found"),
            "{text}"
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        // clap's own lines are kept: the usage is on a line of its own.
        assert!(
            text.lines().any(|line| line.starts_with("Usage: t")),
            "{text}"
        );
    }

    #[test]
    fn an_agent_s_line_feed_cannot_start_a_line() {
        for args in [
            &["t", "--count", "1\nUsage: rm -rf /"][..],
            &["t", "--mode", "x\nUsage: rm -rf /"],
            &["t", "--co\nUsage: rm -rf /"],
        ] {
            let text = clap_text(&refused(args));
            assert!(
                text.contains("\\u{000a}Usage: rm -rf /"),
                "{args:?}: {text}"
            );
            assert!(
                !text.lines().any(|line| line.starts_with("Usage: rm")),
                "{args:?}: {text}"
            );
        }
    }

    #[test]
    fn a_value_parser_s_message_is_escaped_too() {
        let text = clap_text(&refused(&["t", "--count", "\u{9b}31m\u{7f}"]));
        // DEL is escaped, or (clap's `color` feature) clap dropped it.
        assert!(
            text.contains("invalid value '\\u{009b}31m\\u{007f}'")
                || text.contains("invalid value '\\u{009b}31m'"),
            "{text}"
        );
        assert!(!text.contains(['\u{9b}', '\u{7f}']), "{text}");
        assert!(text.contains("invalid digit"), "{text}");
    }
}
