//! [`show`] and [`show_line`]: a log's decisions as a table a person can read, and one
//! line of it whole, every character an agent could have chosen escaped.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use cnv_caps::text::escape_for_display;

use crate::error::ToolError;
use crate::verify::open_log;
use crate::{
    AuditEntry, AuditEvent, ChainError, ChainReader, ChainRecord, RecordBody, Verdict,
    shown_argument,
};

/// How many characters of an argument's value a row shows: each value is cut on its own,
/// so no value can push the ones after it out of view.
const VALUE_WIDTH: usize = 60;

/// How many characters of an argument's name a row shows (a grammar's names are
/// shorter; a log written by something else may not be).
const NAME_WIDTH: usize = 40;

/// How many characters of a justification, a denial's message or an approval a row
/// shows.
const TEXT_WIDTH: usize = 120;

/// Prints the log at `path` as a table, one row per line: its number, time, session,
/// event, outcome, classes, rule, and what was said — the call, the justification, how
/// the call ended, the denial, the approval.
///
/// A call is shown first, its command whole, then every argument as `name=value`, the
/// value as JSON and cut to 60 characters on its own (a list's items each on their
/// own), so a long value never hides the arguments after it. The arguments are in the order the log keeps them, by name: a
/// log does not record the order they were given in. [`show_line`] prints a line whole.
///
/// Every control and format character is escaped
/// ([`escape_for_display`]). Only the chain is checked (use [`verify`](crate::verify)
/// for the key and the head); the rows stop at the first problem, which is returned.
///
/// # Errors
///
/// [`ToolError::NotALog`] or [`ToolError::Io`] when the log cannot be opened or `out` written.
pub fn show(path: &Path, out: &mut dyn Write) -> Result<Option<ChainError>, ToolError> {
    let file = open_log(path)?;
    let _ = file.lock_shared();
    writeln!(
        out,
        "{:>5}  {:<19}  {:<28}  {:<8}  {:<7}  {:<25}  {:<18}  WHAT WAS SAID",
        "LINE", "TIME (UTC)", "SESSION", "EVENT", "OUTCOME", "CLASS", "RULE"
    )
    .map_err(write_error)?;
    let mut problem = None;
    for record in ChainReader::new(BufReader::new(&file)) {
        match record {
            Ok(record) => writeln!(out, "{}", row(&record)).map_err(write_error)?,
            Err(err) => problem = Some(err),
        }
    }
    let _ = file.unlock();
    Ok(problem)
}

/// Prints line `line` of the log at `path` whole, one field per line: for a call, its
/// command, how it arrived and every argument in full (`name: value`, a text value as
/// written; see [`shown_argument`]), one per line, by name (a log does not record the
/// order they were given in); then the justification, the result, the denial's message,
/// the approval and the sandbox's report, none of them cut. Every control and format
/// character is escaped, line breaks included, so each field stays on its line.
///
/// The chain is checked up to that line, as [`show`] checks it: a problem before it (or
/// at it) is returned, and nothing is printed.
///
/// # Errors
///
/// [`ToolError::NoSuchLine`] when the log ends before `line`; [`ToolError::NotALog`] or
/// [`ToolError::Io`] when the log cannot be opened or `out` written.
pub fn show_line(
    path: &Path,
    line: usize,
    out: &mut dyn Write,
) -> Result<Option<ChainError>, ToolError> {
    let file = open_log(path)?;
    let _ = file.lock_shared();
    let mut lines = 0;
    let mut found = None;
    for record in ChainReader::new(BufReader::new(&file)) {
        match record {
            Ok(record) if record.line == line => {
                found = Some(record);
                break;
            }
            Ok(record) => lines = record.line,
            Err(err) => {
                let _ = file.unlock();
                return Ok(Some(err));
            }
        }
    }
    let _ = file.unlock();
    match found {
        Some(record) => {
            out.write_all(whole(&record).as_bytes())
                .map_err(write_error)?;
            Ok(None)
        }
        None => Err(ToolError::NoSuchLine {
            path: path.to_path_buf(),
            line,
            lines,
        }),
    }
}

fn write_error(error: std::io::Error) -> ToolError {
    ToolError::Io {
        action: "write",
        path: PathBuf::from("the output"),
        error,
    }
}

fn row(record: &ChainRecord) -> String {
    let (session, event, outcome, class, rule, said) = match &record.body {
        RecordBody::Genesis(_) | RecordBody::Recovery(_) => (
            String::new(),
            event_name(record).to_owned(),
            String::new(),
            String::new(),
            String::new(),
            clip(&not_an_entry(&record.body), TEXT_WIDTH),
        ),
        RecordBody::Entry(entry) => entry_columns(entry),
    };
    let row = format!(
        "{:>5}  {:<19}  {:<28}  {:<8}  {:<7}  {:<25}  {:<18}  {}",
        record.line,
        time(record),
        clip(&session, 28),
        event,
        outcome,
        class,
        rule,
        said
    );
    row.trim_end().to_owned()
}

/// The line's time, as the table shows it: `YYYY-MM-DD HH:MM:SS` in UTC.
fn time(record: &ChainRecord) -> String {
    record.timestamp.map_or_else(String::new, |time| {
        let text = humantime::format_rfc3339_seconds(time).to_string();
        text.trim_end_matches('Z').replace('T', " ")
    })
}

fn event_name(record: &ChainRecord) -> &'static str {
    match &record.body {
        RecordBody::Genesis(_) => "genesis",
        RecordBody::Recovery(_) => "recovery",
        RecordBody::Entry(entry) => entry_event(entry.event),
    }
}

fn entry_event(event: AuditEvent) -> &'static str {
    match event {
        AuditEvent::Create => "create",
        AuditEvent::Verify => "verify",
        AuditEvent::Escalate => "escalate",
        AuditEvent::Narrow => "narrow",
        AuditEvent::Start => "start",
        AuditEvent::Finish => "finish",
    }
}

/// What a genesis or recovery line says, whole (empty for an entry).
fn not_an_entry(body: &RecordBody) -> String {
    match body {
        RecordBody::Genesis(genesis) => format!(
            "log {}, {}",
            genesis.log,
            genesis
                .public_key
                .map_or_else(|| "no key".to_owned(), |key| format!("key {key}"))
        ),
        RecordBody::Recovery(recovery) => match (&recovery.torn, &recovery.head) {
            (Some(torn), None) => format!("removed a partial line of {} bytes", torn.bytes),
            (torn, Some(finding)) => format!(
                "{finding}{}",
                torn.map_or_else(String::new, |torn| format!(
                    "; removed a partial line of {} bytes",
                    torn.bytes
                ))
            ),
            (None, None) => String::new(),
        },
        RecordBody::Entry(_) => String::new(),
    }
}

fn outcome_name(entry: &AuditEntry) -> &'static str {
    match entry.outcome {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
    }
}

fn classes(entry: &AuditEntry) -> String {
    match (entry.from, entry.to) {
        (Some(from), Some(to)) => format!("{from} → {to}"),
        (None, Some(to)) => format!("→ {to}"),
        (Some(from), None) => format!("{from} →"),
        (None, None) => String::new(),
    }
}

fn entry_columns(entry: &AuditEntry) -> (String, String, String, String, String, String) {
    let mut said = Vec::new();
    if let Some(call) = &entry.call {
        // The command whole and first; then each argument, its value cut on its own.
        let mut shown = format!("call {}", escape_for_display(&call.command));
        for (at, (name, value)) in call.args.iter().enumerate() {
            shown.push_str(if at == 0 { ": " } else { ", " });
            shown.push_str(&clip(name, NAME_WIDTH));
            shown.push('=');
            shown.push_str(&row_value(value));
        }
        said.push(shown);
    }
    if let Some(justification) = &entry.justification {
        said.push(format!("“{}”", clip(justification, TEXT_WIDTH)));
    }
    if let Some(result) = &entry.result {
        said.push(format!("{} (exit {})", result.status(), result.exit_code()));
    }
    if let Some(detail) = &entry.detail {
        said.push(clip(detail, TEXT_WIDTH));
    }
    if let Some(approval) = &entry.approval {
        said.push(format!("approved: {}", clip(approval, TEXT_WIDTH)));
    }
    (
        entry.session.clone(),
        entry_event(entry.event).to_owned(),
        outcome_name(entry).to_owned(),
        classes(entry),
        entry.rule.map(|rule| rule.to_string()).unwrap_or_default(),
        said.join("; "),
    )
}

/// An argument's value as a row shows it: JSON, cut to [`VALUE_WIDTH`] characters; a
/// list's items each cut on their own, so a long item does not hide the ones after it.
fn row_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| clip(&item.to_string(), VALUE_WIDTH))
                .collect();
            format!("[{}]", items.join(","))
        }
        other => clip(&other.to_string(), VALUE_WIDTH),
    }
}

/// A line whole, one field per line, every field escaped and none cut.
fn whole(record: &ChainRecord) -> String {
    let mut lines = vec![
        format!(
            "line {}{}",
            record.line,
            if record.signed { " (signed)" } else { "" }
        ),
        format!("time: {} UTC", time(record)),
        format!("event: {}", event_name(record)),
    ];
    let entry = match &record.body {
        RecordBody::Genesis(_) | RecordBody::Recovery(_) => {
            lines.push(format!(
                "said: {}",
                escape_for_display(&not_an_entry(&record.body))
            ));
            None
        }
        RecordBody::Entry(entry) => Some(entry),
    };
    if let Some(entry) = entry {
        lines.push(format!(
            "session: {} (id {}, {})",
            escape_for_display(&entry.session),
            entry.session_id,
            entry.mode
        ));
        lines.push(format!("outcome: {}", outcome_name(entry)));
        let classes = classes(entry);
        if !classes.is_empty() {
            lines.push(format!("classes: {classes}"));
        }
        if let Some(rule) = entry.rule {
            lines.push(format!("rule: {rule}"));
        }
        if let Some(call) = &entry.call {
            lines.push(format!("call: {}", escape_for_display(&call.command)));
            lines.push(format!("via: {}", escape_for_display(&json(&call.origin))));
            if call.args.is_empty() {
                lines.push("arguments: none".to_owned());
            } else {
                lines.push(
                    "arguments, by name (the log does not record the order they were given in):"
                        .to_owned(),
                );
                for (name, value) in &call.args {
                    lines.push(format!("    {}", shown_argument(name, value)));
                }
            }
        }
        if let Some(justification) = &entry.justification {
            lines.push(format!(
                "justification: {}",
                escape_for_display(justification)
            ));
        }
        if let Some(result) = &entry.result {
            lines.push(format!("result: {}", escape_for_display(&json(result))));
        }
        if let Some(detail) = &entry.detail {
            lines.push(format!("detail: {}", escape_for_display(detail)));
        }
        if let Some(approval) = &entry.approval {
            lines.push(format!("approved: {}", escape_for_display(approval)));
        }
        if let Some(enforcement) = &entry.enforcement {
            lines.push(format!(
                "sandbox: {}",
                escape_for_display(&enforcement.to_string())
            ));
        }
    }
    lines.push(format!("hash: {}", record.hash));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `value` as one line of JSON (empty if it cannot be written, which a record read from
/// a log always can).
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `text` with every control and format character escaped, cut to `width` characters.
fn clip(text: &str, width: usize) -> String {
    let escaped = escape_for_display(text);
    if escaped.chars().count() <= width {
        return escaped;
    }
    let mut out: String = escaped.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_escapes_and_shortens() {
        assert_eq!(clip("a\u{1b}[2Jb", 40), "a\\u{001b}[2Jb");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("\u{202e}", 3), "\\u…");
    }
}
