//! Human approval: the value a `Supervised` session needs to reach `Dangerous`.

use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::SystemTime;

use cnv_audit::{format_timestamp, shown_argument};
use cnv_caps::text::escape_for_display;
use cnv_caps::{CapabilityClass, RunMode, SessionId};

use crate::error::EscalationError;

/// What a human is asked to approve: a session, the class it holds, the class it asks
/// for, and why. Get one from
/// [`TypedSession::approval_request`](crate::TypedSession::approval_request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApprovalRequest<'a> {
    pub(crate) session_name: &'a str,
    pub(crate) session_id: SessionId,
    pub(crate) mode: RunMode,
    pub(crate) from: Option<CapabilityClass>,
    pub(crate) to: CapabilityClass,
    pub(crate) justification: &'a str,
    pub(crate) action: Option<&'a str>,
    pub(crate) arguments: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl<'a> ApprovalRequest<'a> {
    /// The same request, showing the person what will run if they approve (a command
    /// line with its arguments, say). The approval stays bound to the session, the class
    /// and the justification; `action` is what the person reads before deciding.
    #[must_use]
    pub fn with_action(self, action: &'a str) -> Self {
        Self {
            action: Some(action),
            ..self
        }
    }

    /// The same request, showing the person the arguments the action runs with, one
    /// per line: `name: value`, a text value as written (its controls and format
    /// characters, line breaks included, escaped), any other value as JSON. A value cannot start a
    /// line of its own, so no argument can pose as another or as the prompt.
    #[must_use]
    pub fn with_arguments(self, arguments: &'a serde_json::Map<String, serde_json::Value>) -> Self {
        Self {
            arguments: Some(arguments),
            ..self
        }
    }

    /// What will run if the request is approved, if the program said.
    #[must_use]
    pub fn action(&self) -> Option<&'a str> {
        self.action
    }

    /// The arguments the action runs with, if the program said.
    #[must_use]
    pub fn arguments(&self) -> Option<&'a serde_json::Map<String, serde_json::Value>> {
        self.arguments
    }
}

impl ApprovalRequest<'_> {
    /// The class asked for.
    #[must_use]
    pub fn to(&self) -> CapabilityClass {
        self.to
    }

    /// The class the session holds, `None` for a verification.
    #[must_use]
    pub fn from(&self) -> Option<CapabilityClass> {
        self.from
    }

    /// The session's id.
    #[must_use]
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// The justification shown to the human.
    #[must_use]
    pub fn justification(&self) -> &str {
        self.justification
    }
}

/// What the person reads. Every text the requester wrote (session name, action,
/// justification) is shown with its controls and format characters escaped
/// ([`escape_for_display`](cnv_caps::text::escape_for_display)), so a justification cannot
/// move the cursor, erase the prompt or hide words.
impl fmt::Display for ApprovalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Session `{}` ({}, {}) asks for capability `{}` (risk {}).",
            escape_for_display(self.session_name),
            self.session_id,
            self.mode,
            self.to,
            self.to.risk_level()
        )?;
        match self.from {
            Some(from) => writeln!(f, "It now holds `{from}`.")?,
            None => writeln!(f, "It holds no capability yet.")?,
        }
        if let Some(action) = self.action {
            writeln!(f, "If approved, it runs: {}", escape_for_display(action))?;
        }
        if let Some(arguments) = self.arguments.filter(|arguments| !arguments.is_empty()) {
            writeln!(f, "With the arguments:")?;
            for (name, value) in arguments {
                writeln!(f, "    {}", shown_argument(name, value))?;
            }
        }
        if self.justification.trim().is_empty() {
            writeln!(f, "It gave no justification.")
        } else {
            writeln!(
                f,
                "Its justification: {}",
                escape_for_display(self.justification.trim())
            )
        }
    }
}

/// How an approval was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApprovalChannel {
    /// [`HumanApproval::confirm_on_terminal`]: typed at the controlling terminal.
    Terminal,
    /// [`HumanApproval::confirm_with`]: through a channel the program vouches for.
    Program,
    /// [`HumanApproval::elicited`]: asked of the person at the caller's client (an MCP
    /// client's elicitation form, on a server its operator runs supervised), who typed the
    /// answer there.
    Elicitation,
}

impl ApprovalChannel {
    /// How an answer came, in the trail's words: `"on the terminal"`.
    fn words(self) -> &'static str {
        match self {
            Self::Terminal => "on the terminal",
            Self::Program => "through the program's own channel",
            Self::Elicitation => "by the person at the client, through elicitation",
        }
    }
}

/// A human's approval of one escalation (or verification) to a class, in one session,
/// with one justification. A `Supervised` session needs it to reach `Dangerous`.
///
/// It is not `Clone`, `Default` or deserializable, and its fields are private: a program
/// obtains one only by asking, through [`confirm_on_terminal`](Self::confirm_on_terminal)
/// (the documented path) or [`confirm_with`](Self::confirm_with) (for a dialog of the
/// program's own), and spends it on the one transition it was given for.
///
/// # What it proves, and what it does not
///
/// It proves that the request — session name and id, the class asked for and the
/// justification — was written to a terminal (or to the program's own channel), and that
/// whoever answered typed the name of the class back, at the recorded time. The approval
/// is bound to that session, class and justification: spending it on another is
/// [`EscalationError::ApprovalMismatch`].
///
/// It does **not** prove *who* answered, nor that a person did: a program driving a
/// pseudo-terminal (`expect`, `tmux send-keys`) can type the answer. It keeps an agent
/// from approving itself *by accident* — through argv, the environment or a pipe to
/// stdin, which `confirm_on_terminal` refuses — not an adversary who controls the
/// terminal. Where that matters, authenticate the human outside cnv.
#[derive(Debug, PartialEq, Eq)]
pub struct HumanApproval {
    session: SessionId,
    to: CapabilityClass,
    justification: String,
    channel: ApprovalChannel,
    at: SystemTime,
}

impl HumanApproval {
    /// Asks the person at the terminal: writes the request to standard error and reads
    /// one line from standard input; typing the name of the class asked for (e.g.
    /// `Dangerous`) approves, anything else refuses.
    ///
    /// # Errors
    ///
    /// [`ApprovalError::NotATerminal`] when standard input or standard error is not a
    /// terminal (an agent that pipes its input is refused before anything is asked);
    /// [`ApprovalError::Refused`] for any other answer; [`ApprovalError::Io`] when the
    /// terminal cannot be read or written.
    pub fn confirm_on_terminal(request: &ApprovalRequest<'_>) -> Result<Self, ApprovalError> {
        if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
            return Err(ApprovalError::NotATerminal);
        }
        Self::ask(
            io::stdin().lock(),
            io::stderr().lock(),
            request,
            ApprovalChannel::Terminal,
        )
    }

    /// Asks through `input` and `output`, as [`confirm_on_terminal`](Self::confirm_on_terminal)
    /// does, for a program with a confirmation dialog of its own.
    ///
    /// By calling it the program vouches that `input` comes from a person who read
    /// `output`. Never connect it to anything an agent writes (its standard input in agent
    /// mode, a socket, a file): that would let the agent approve itself.
    ///
    /// ```
    /// use cnv_caps::CapabilityContract;
    /// use cnv_typestate::{HumanApproval, Supervised, TypedSession, Unverified};
    ///
    /// let session = TypedSession::<Unverified, Supervised>::with_name("ops")
    ///     .verify(CapabilityContract::subprocess());
    /// let why = "Wipe the staging database before the migration test";
    /// let request = session.approval_request(cnv_caps::CapabilityClass::Dangerous, why);
    /// let mut prompt = Vec::new();
    /// let approval = HumanApproval::confirm_with(&b"Dangerous\n"[..], &mut prompt, &request)
    ///     .expect("the answer names the class");
    /// let session = session
    ///     .escalate_approved(CapabilityContract::dangerous(), why, approval)
    ///     .expect("approved and justified");
    /// # let _ = session;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ApprovalError::Refused`] unless the answer is the name of the class asked for;
    /// [`ApprovalError::Io`] when `input` or `output` fails.
    pub fn confirm_with<R: BufRead, W: Write>(
        input: R,
        output: W,
        request: &ApprovalRequest<'_>,
    ) -> Result<Self, ApprovalError> {
        Self::ask(input, output, request, ApprovalChannel::Program)
    }

    /// The approval given by the person at the caller's client, who was shown `request`
    /// (through an MCP client's elicitation, say) and typed `answer`: the name of the
    /// class asked for approves, anything else refuses, as at a terminal.
    ///
    /// By calling it the program vouches that `answer` was typed by a person who read the
    /// request at the client (an MCP server does so only when its operator runs it
    /// supervised, and only for a client that declared it can ask its user). Never call it
    /// with anything an agent writes: a tool's arguments, a justification.
    ///
    /// ```
    /// use cnv_caps::{CapabilityClass, CapabilityContract};
    /// use cnv_typestate::{ApprovalChannel, HumanApproval, Supervised, TypedSession, Unverified};
    ///
    /// let session = TypedSession::<Unverified, Supervised>::with_name("ops")
    ///     .verify(CapabilityContract::pure());
    /// let request = session.approval_request(CapabilityClass::Dangerous, "");
    /// let approval = HumanApproval::elicited(&request, "Dangerous").expect("the class, typed");
    /// assert_eq!(approval.channel(), ApprovalChannel::Elicitation);
    /// assert!(HumanApproval::elicited(&request, "yes").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ApprovalError::Refused`] unless `answer` (trimmed) is the name of the class.
    pub fn elicited(request: &ApprovalRequest<'_>, answer: &str) -> Result<Self, ApprovalError> {
        Self::answered(request, answer, ApprovalChannel::Elicitation)
    }

    /// The approval of `request` when `answer` (trimmed) names its class.
    fn answered(
        request: &ApprovalRequest<'_>,
        answer: &str,
        channel: ApprovalChannel,
    ) -> Result<Self, ApprovalError> {
        let answer = answer.trim();
        if answer != request.to.name() {
            return Err(ApprovalError::Refused {
                answer: answer.to_owned(),
                expected: request.to,
            });
        }
        Ok(Self {
            session: request.session_id,
            to: request.to,
            justification: request.justification.to_owned(),
            channel,
            at: SystemTime::now(),
        })
    }

    fn ask<R: BufRead, W: Write>(
        mut input: R,
        mut output: W,
        request: &ApprovalRequest<'_>,
        channel: ApprovalChannel,
    ) -> Result<Self, ApprovalError> {
        let io_error = |err| ApprovalError::Io(Arc::new(err));
        write!(
            output,
            "{request}Type `{}` to approve, anything else to refuse: ",
            request.to
        )
        .map_err(io_error)?;
        output.flush().map_err(io_error)?;
        let mut answer = String::new();
        input.read_line(&mut answer).map_err(io_error)?;
        Self::answered(request, &answer, channel)
    }

    /// The class approved.
    #[must_use]
    pub fn class(&self) -> CapabilityClass {
        self.to
    }

    /// The session it was given for.
    #[must_use]
    pub fn session_id(&self) -> SessionId {
        self.session
    }

    /// How it was obtained.
    #[must_use]
    pub fn channel(&self) -> ApprovalChannel {
        self.channel
    }

    /// When it was given.
    #[must_use]
    pub fn approved_at(&self) -> SystemTime {
        self.at
    }

    /// The audit trail's description of the approval.
    pub(crate) fn describe(&self) -> String {
        format!(
            "approved {} at {} for `{}`",
            self.channel.words(),
            format_timestamp(self.at),
            self.to
        )
    }

    /// Checks that the approval was given for `to` and `justification`.
    pub(crate) fn matches_request(
        &self,
        to: CapabilityClass,
        justification: &str,
    ) -> Result<(), EscalationError> {
        if self.to == to && self.justification == justification {
            Ok(())
        } else {
            Err(EscalationError::ApprovalMismatch {
                approved: format!("`{}` with justification {:?}", self.to, self.justification),
                requested: format!("`{to}` with justification {justification:?}"),
            })
        }
    }

    /// Checks that the approval was given for `to`, whatever the justification.
    pub(crate) fn matches_class(&self, to: CapabilityClass) -> Result<(), EscalationError> {
        if self.to == to {
            Ok(())
        } else {
            Err(EscalationError::ApprovalMismatch {
                approved: format!("`{}`", self.to),
                requested: format!("`{to}`"),
            })
        }
    }

    /// Checks that the approval was given for this session.
    pub(crate) fn matches_session(&self, session: SessionId) -> Result<(), EscalationError> {
        if self.session == session {
            Ok(())
        } else {
            Err(EscalationError::ApprovalMismatch {
                approved: format!("session {}", self.session),
                requested: format!("session {session}"),
            })
        }
    }
}

impl ApprovalError {
    /// The trail's description of a person's answer that refused the request, given
    /// through `channel` for `to` (`"declined by the person at the client, through
    /// elicitation at …, for `Dangerous`"`); `None` when no person answered (no terminal,
    /// an error on the way).
    #[must_use]
    pub fn answer(&self, channel: ApprovalChannel, to: CapabilityClass) -> Option<String> {
        let answered = match self {
            Self::Declined => "declined".to_owned(),
            Self::Cancelled => "dismissed without a decision".to_owned(),
            Self::Refused { answer, .. } => format!(
                "not approved (the answer was \"{}\", not `{to}`)",
                escape_for_display(answer)
            ),
            Self::NotATerminal | Self::Io(_) | Self::Unreachable { .. } => return None,
        };
        Some(format!(
            "{answered} {} at {} for `{to}`",
            channel.words(),
            format_timestamp(SystemTime::now())
        ))
    }
}

/// Why no approval was obtained.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// Standard input or standard error is not a terminal, so no person can be asked.
    #[error(
        "cannot ask for approval: standard input or standard error is not a terminal; run the command interactively, or leave out the step that needs `Dangerous`"
    )]
    NotATerminal,
    /// The answer was not the name of the class.
    #[error("approval refused: the answer was {answer:?}, not `{expected}`")]
    Refused {
        /// What was typed (trimmed).
        answer: String,
        /// The class name that would have approved.
        expected: CapabilityClass,
    },
    /// The prompt could not be written or the answer read.
    #[error("cannot ask for approval: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The person at the client declined (an MCP client's elicitation answered
    /// `decline`).
    #[error("approval declined by the person at the client")]
    Declined,
    /// The person at the client dismissed the question without deciding (an MCP
    /// client's elicitation answered `cancel`).
    #[error("approval cancelled: the person at the client dismissed the question")]
    Cancelled,
    /// The person at the client could not be asked, or their answer could not be read.
    #[error("cannot ask the person at the client for approval: {reason}")]
    Unreachable {
        /// What went wrong, in words.
        reason: String,
    },
}
