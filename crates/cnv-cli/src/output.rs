//! What a handler returns, how it fails, and the exit codes of a cnv command line.

use core::fmt;
use std::error::Error as StdError;
use std::process::ExitCode;

use serde_json::Value;

/// The exit status of a cnv command line. Every code is distinct, so a script or an agent
/// can tell a refusal from a failure without reading the message.
///
/// | code | status | meaning |
/// |---:|---|---|
/// | 0 | [`Success`](Self::Success) | the command ran (or help, version, introspection was printed) |
/// | 1 | [`Failed`](Self::Failed) | the command ran and its handler reported an error |
/// | 2 | [`Usage`](Self::Usage) | the command line was malformed (clap's usage errors, a bad argument value) |
/// | 3 | [`Denied`](Self::Denied) | the capability gate refused the command: nothing ran |
/// | 4 | [`ConfirmationRequired`](Self::ConfirmationRequired) | a human's confirmation was needed and not given: nothing ran |
/// | 5 | [`Overrun`](Self::Overrun) | the command ran past its resource band's time and was stopped |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// The command ran.
    Success,
    /// The command's handler reported an error.
    Failed,
    /// The command line was malformed.
    Usage,
    /// The capability gate refused the command.
    Denied,
    /// A human's confirmation was needed and not given.
    ConfirmationRequired,
    /// The command ran past its resource band's time and was stopped.
    Overrun,
}

impl Exit {
    /// The process exit code (see the table on [`Exit`]).
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failed => 1,
            Self::Usage => 2,
            Self::Denied => 3,
            Self::ConfirmationRequired => 4,
            Self::Overrun => 5,
        }
    }

    /// The stable name used in JSON output (`"denied"`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Usage => "usage",
            Self::Denied => "denied",
            Self::ConfirmationRequired => "confirmation_required",
            Self::Overrun => "overrun",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// What a handler produced: text for a person and, optionally, structured data for a
/// program. With `--format json` the data (or, without data, the text) is the `result`
/// of the one JSON object printed; otherwise the text is printed.
///
/// ```
/// use cnv_cli::Output;
/// use serde_json::json;
///
/// let out = Output::text("wrote 12 bytes").with_data(json!({ "bytes": 12 }));
/// assert_eq!(out.as_text(), "wrote 12 bytes");
/// assert_eq!(out.data(), Some(&json!({ "bytes": 12 })));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    text: String,
    data: Option<Value>,
    console: Option<String>,
}

impl Output {
    /// Text for a person; in JSON output it is the `result` string.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            data: None,
            console: None,
        }
    }

    /// Structured data; a person sees it pretty-printed.
    #[must_use]
    pub fn json(data: Value) -> Self {
        let text = serde_json::to_string_pretty(&data).unwrap_or_default();
        Self {
            text,
            data: Some(data),
            console: None,
        }
    }

    /// Nothing to print.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The same output with structured data for `--format json`.
    #[must_use]
    pub fn with_data(self, data: Value) -> Self {
        Self {
            data: Some(data),
            ..self
        }
    }

    /// The text a person sees.
    #[must_use]
    pub fn as_text(&self) -> &str {
        &self.text
    }

    /// The structured data, if any.
    #[must_use]
    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref()
    }

    /// What the handler (and the programs it ran) wrote to its standard output and
    /// error, captured by its worker process, escaped so that no control character
    /// reaches a terminal; `None` when it wrote nothing (or ran in the calling process).
    #[must_use]
    pub fn console(&self) -> Option<&str> {
        self.console.as_deref()
    }

    /// The same output with the handler's captured console.
    pub(crate) fn with_console(self, console: Option<String>) -> Self {
        Self { console, ..self }
    }

    /// The `result` of the JSON output: the data, or the text as a string.
    pub(crate) fn result(&self) -> Value {
        self.data
            .clone()
            .unwrap_or_else(|| Value::String(self.text.clone()))
    }
}

/// Why a handler failed. Any error converts into it with `?`, so a handler can use
/// `std::fs::read_to_string(path)?`; [`HandlerError::msg`] makes one from a message.
///
/// A failure exits with [`Exit::Failed`] (1), except an [`ArgError`] that is the caller's
/// to fix ([`ArgError::is_usage`]: a value that does not parse into the type the handler
/// asked for, an argument not given) — a usage error ([`Exit::Usage`], 2). An argument
/// the handler asks for and its verb does not declare is the program's mistake: exit 1.
///
/// The command line names the command once: `` error: `note add` failed: the disk is
/// full ``, or, for a usage error, `` error: `note list`: invalid value … ``; a message
/// that already names the command in backquotes is printed as it is.
///
/// Like `anyhow::Error`, it deliberately does not implement `std::error::Error` itself:
/// that is what lets every error convert into it.
pub struct HandlerError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    usage: bool,
    console: Option<String>,
}

impl HandlerError {
    /// A failure described by `message`.
    #[must_use]
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            source: None,
            usage: false,
            console: None,
        }
    }

    /// A failure a worker process reported: its message, and whether it is the caller's
    /// to fix.
    pub(crate) fn reported(message: String, usage: bool) -> Self {
        Self {
            message,
            source: None,
            usage,
            console: None,
        }
    }

    /// The same failure with the handler's captured console.
    pub(crate) fn with_console(self, console: Option<String>) -> Self {
        Self { console, ..self }
    }

    /// What the handler wrote to its standard output and error before it failed, as
    /// [`Output::console`] describes.
    #[must_use]
    pub fn console(&self) -> Option<&str> {
        self.console.as_deref()
    }

    /// The same failure with `context` in front of its message
    /// (`"reading notes.txt: No such file or directory"`).
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self {
            message: format!("{context}: {}", self.message),
            ..self
        }
    }

    /// Whether the failure is a usage error: an [`ArgError`] that the caller fixes
    /// ([`ArgError::is_usage`]).
    #[must_use]
    pub fn is_usage(&self) -> bool {
        self.usage
    }

    /// The error it was made from, if any.
    #[must_use]
    pub fn source(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        let usage = (&error as &dyn StdError)
            .downcast_ref::<ArgError>()
            .is_some_and(ArgError::is_usage);
        let mut message = error.to_string();
        let mut cause = error.source();
        while let Some(inner) = cause {
            let text = inner.to_string();
            if !message.contains(&text) {
                message = format!("{message}: {text}");
            }
            cause = inner.source();
        }
        Self {
            message,
            source: Some(Box::new(error)),
            usage,
            console: None,
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("message", &self.message)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

/// An argument a handler asked for that the command line cannot give it.
///
/// Some are the caller's to fix (a value its type refuses, an argument not given: a usage
/// error, exit 2), some the program's (a name the verb does not declare: exit 1);
/// [`is_usage`](Self::is_usage) tells them apart. Types are named by the last segment of
/// their Rust name (`Sort`, `PathBuf`), never by their path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// The verb declares no argument of that name: the handler and the grammar disagree
    /// (a mistake in the program).
    #[error(
        "the handler of `{command}` asked for the argument `{name}`, which the verb does not declare (it declares {declared}): the handler and the grammar disagree"
    )]
    Unknown {
        /// The command (`"file write"`).
        command: String,
        /// The name asked for.
        name: String,
        /// The declared argument names, each in backquotes, comma-separated (`none` when
        /// the verb has no arguments).
        declared: String,
    },
    /// A typed handler's arguments struct reads an argument that the command line does
    /// not hold in the struct's type: the struct comes from another grammar than the
    /// command line (a mistake in the program).
    #[error(
        "the handler of `{command}` asked for the argument `{name}`, which the command line does not hold as the handler's arguments struct expects: the struct was generated from another grammar than the command line's"
    )]
    Mismatched {
        /// The command.
        command: String,
        /// The argument.
        name: String,
    },
    /// The argument was not given and has no default.
    #[error("`{command}`: the argument `{name}` was not given and has no default")]
    Missing {
        /// The command.
        command: String,
        /// The argument.
        name: String,
    },
    /// The value does not parse into the type asked for.
    #[error("`{command}`: invalid value {value:?} for `{name}` (expected `{type_name}`): {reason}")]
    Invalid {
        /// The command.
        command: String,
        /// The argument.
        name: String,
        /// The value given.
        value: String,
        /// The type asked for, by the last segment of its Rust name (`Sort`,
        /// `Option<PathBuf>`).
        type_name: String,
        /// What its `FromStr` said.
        reason: String,
    },
    /// The value is not valid UTF-8.
    #[error("`{command}`: the value of `{name}` is not valid UTF-8; pass text")]
    NotUtf8 {
        /// The command.
        command: String,
        /// The argument.
        name: String,
    },
}

impl ArgError {
    /// Whether the caller fixes it (a usage error, exit 2: a value its type refuses, an
    /// argument not given, a value that is not text) rather than the program (exit 1: a
    /// name the verb does not declare, arguments from another grammar).
    #[must_use]
    pub fn is_usage(&self) -> bool {
        match self {
            Self::Missing { .. } | Self::Invalid { .. } | Self::NotUtf8 { .. } => true,
            Self::Unknown { .. } | Self::Mismatched { .. } => false,
        }
    }
}

/// A Rust type's name as a person reads it: every path cut to its last segment
/// (`core::option::Option<notes::Sort>` is `Option<Sort>`, `alloc::string::String` is
/// `String`).
#[must_use]
pub(crate) fn type_label(rust_name: &str) -> String {
    let mut label = String::with_capacity(rust_name.len());
    let mut segment = String::new();
    let mut chars = rust_name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' || c == '\'' {
            segment.push(c);
        } else {
            label.push_str(&segment);
            segment.clear();
            label.push(c);
        }
    }
    label.push_str(&segment);
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::CallOutcome;

    #[test]
    fn exit_codes_are_distinct_and_stable() {
        let all = [
            Exit::Success,
            Exit::Failed,
            Exit::Usage,
            Exit::Denied,
            Exit::ConfirmationRequired,
            Exit::Overrun,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
        assert_eq!(Exit::Denied.name(), "denied");
    }

    #[test]
    fn errors_convert_and_keep_their_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = HandlerError::from(io).context("reading notes.txt");
        assert_eq!(err.to_string(), "reading notes.txt: no such file");
        assert!(err.source().is_some());
        assert_eq!(CallOutcome::Failed(err).exit(), Exit::Failed);
    }

    #[test]
    fn argument_errors_are_usage_errors() {
        let err = HandlerError::from(ArgError::Missing {
            command: "file write".into(),
            name: "path".into(),
        });
        assert!(err.is_usage());
        assert_eq!(
            err.to_string(),
            "`file write`: the argument `path` was not given and has no default"
        );
        assert_eq!(CallOutcome::Failed(err).exit(), Exit::Usage);
    }

    #[test]
    fn a_name_the_verb_does_not_declare_is_not_a_usage_error() {
        let err = HandlerError::from(ArgError::Unknown {
            command: "file write".into(),
            name: "pth".into(),
            declared: "`path`".into(),
        });
        assert!(!err.is_usage());
        assert_eq!(CallOutcome::Failed(err).exit(), Exit::Failed);
    }

    #[test]
    fn type_labels_have_no_paths() {
        for (rust, label) in [
            ("alloc::string::String", "String"),
            ("notes::Sort", "Sort"),
            ("u64", "u64"),
            ("core::option::Option<notes::cli::Sort>", "Option<Sort>"),
            (
                "alloc::vec::Vec<(u8, std::path::PathBuf)>",
                "Vec<(u8, PathBuf)>",
            ),
            ("&'static str", "&'static str"),
            ("[notes::Tag; 4]", "[Tag; 4]"),
        ] {
            assert_eq!(type_label(rust), label);
        }
    }

    #[test]
    fn output_result_prefers_data() {
        assert_eq!(Output::text("hi").result(), Value::String("hi".into()));
        let data = serde_json::json!([1, 2]);
        assert_eq!(Output::text("1 2").with_data(data.clone()).result(), data);
        assert_eq!(Output::json(data.clone()).as_text(), "[\n  1,\n  2\n]");
    }
}
