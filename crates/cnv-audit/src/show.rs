//! [`show`]: a log's decisions as a table a person can read, every character an agent
//! could have chosen escaped.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use cnv_caps::text::escape_for_display;

use crate::error::ToolError;
use crate::verify::open_log;
use crate::{AuditEntry, AuditEvent, ChainError, ChainReader, ChainRecord, RecordBody, Verdict};
/// Prints the log at `path` as a table, one row per line: its number, time, session,
/// event, outcome, classes, rule, and what was said (the justification, the denial,
/// the call and how it ended). Every control and invisible character is escaped, and
/// long text is shortened. Only the chain is checked (use [`verify`](crate::verify) for the key and
/// the head); the rows stop at the first problem, which is returned.
///
/// # Errors
///
/// [`ToolError::NotALog`] or [`ToolError::Io`] when the log cannot be opened or `out` written.
pub fn show(path: &Path, out: &mut dyn Write) -> Result<Option<ChainError>, ToolError> {
    let file = open_log(path)?;
    let _ = file.lock_shared();
    let write_error = |error| ToolError::Io {
        action: "write",
        path: PathBuf::from("the output"),
        error,
    };
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

fn row(record: &ChainRecord) -> String {
    let time = record.timestamp.map_or_else(String::new, |time| {
        let text = humantime::format_rfc3339_seconds(time).to_string();
        text.trim_end_matches('Z').replace('T', " ")
    });
    let (session, event, outcome, class, rule, said) = match &record.body {
        RecordBody::Genesis(genesis) => (
            String::new(),
            "genesis".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            format!(
                "log {}, {}",
                genesis.log,
                genesis
                    .public_key
                    .map_or_else(|| "no key".to_owned(), |key| format!("key {key}"))
            ),
        ),
        RecordBody::Recovery(recovery) => (
            String::new(),
            "recovery".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            match (&recovery.torn, &recovery.head) {
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
        ),
        RecordBody::Entry(entry) => entry_columns(entry),
    };
    let row = format!(
        "{:>5}  {:<19}  {:<28}  {:<8}  {:<7}  {:<25}  {:<18}  {}",
        record.line,
        time,
        clip(&session, 28),
        event,
        outcome,
        class,
        rule,
        clip(&said, 120)
    );
    row.trim_end().to_owned()
}

fn entry_columns(entry: &AuditEntry) -> (String, String, String, String, String, String) {
    let event = match entry.event {
        AuditEvent::Create => "create",
        AuditEvent::Verify => "verify",
        AuditEvent::Escalate => "escalate",
        AuditEvent::Narrow => "narrow",
        AuditEvent::Start => "start",
        AuditEvent::Finish => "finish",
    };
    let outcome = match entry.outcome {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
    };
    let class = match (entry.from, entry.to) {
        (Some(from), Some(to)) => format!("{from} → {to}"),
        (None, Some(to)) => format!("→ {to}"),
        (Some(from), None) => format!("{from} →"),
        (None, None) => String::new(),
    };
    let mut said = Vec::new();
    if let Some(call) = &entry.call {
        let args = serde_json::to_string(&call.args).unwrap_or_default();
        said.push(format!("call {} {args}", call.command));
    }
    if let Some(justification) = &entry.justification {
        said.push(format!("“{justification}”"));
    }
    if let Some(result) = &entry.result {
        said.push(format!("{} (exit {})", result.status(), result.exit_code()));
    }
    if let Some(detail) = &entry.detail {
        said.push(detail.clone());
    }
    if let Some(approval) = &entry.approval {
        said.push(format!("approved: {approval}"));
    }
    (
        entry.session.clone(),
        event.to_owned(),
        outcome.to_owned(),
        class,
        entry.rule.map(|rule| rule.to_string()).unwrap_or_default(),
        said.join("; "),
    )
}

/// `text` with invisible characters escaped, cut to `width` characters.
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
