//! `Console`: where a run reads and writes — the process's own standard streams,
//! environment and terminal, or buffers for tests and embedding — and how a person is
//! asked.

use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use cnv_typestate::{ApprovalChannel, ApprovalError, ApprovalRequest, HumanApproval};

/// Asks a person: a yes/no confirmation, or a [`HumanApproval`].
pub(crate) trait Prompt {
    /// Whether anyone can be asked: standard input and standard error are a terminal.
    fn is_interactive(&self) -> bool;
    /// Asks `question`; `Ok(true)` for yes.
    fn confirm(&mut self, question: &str) -> io::Result<bool>;
    /// Asks for an approval of `request`.
    fn approve(&mut self, request: &ApprovalRequest<'_>) -> Result<HumanApproval, ApprovalError>;
    /// Whether a confirmation is asked as an approval, so that the person's answer is
    /// recorded with the call: a [`Supervisor`] at the caller's client.
    fn confirms_by_approval(&self) -> bool;
    /// How an answer to [`approve`](Self::approve) comes: what the trail says of it.
    fn channel(&self) -> ApprovalChannel;
}

/// The person who supervises an agent's calls from the agent's own client, reached by the
/// front end while a call waits at the gate: a person at an MCP client that can ask its
/// user (elicitation), on a server its operator runs supervised. Give one to a call with
/// [`AgentCall::with_supervisor`](crate::AgentCall::with_supervisor); the call then runs
/// in human mode (`Supervised`), and what the policy asks of a person there (a
/// confirmation, an approval of `Dangerous`) is asked of them.
///
/// Whoever implements it vouches that the answer comes from that person, never from the
/// agent: an implementation that answers by itself lets the agent approve itself.
pub trait Supervisor: Send + Sync + fmt::Debug {
    /// Shows the person `request` (what will run, its class and its arguments: its
    /// [`Display`](fmt::Display), every text escaped) and asks them to type the name of
    /// the class asked for ([`ApprovalRequest::to`]) to approve it. Returns what they
    /// typed, which the gate checks ([`HumanApproval::elicited`]).
    ///
    /// # Errors
    ///
    /// [`ApprovalError::Declined`] or [`ApprovalError::Cancelled`] for the person's
    /// refusal; [`ApprovalError::Unreachable`] when they could not be asked.
    fn ask(&self, request: &ApprovalRequest<'_>) -> Result<String, ApprovalError>;
}

/// Where a run reads and writes: standard streams, the operator's environment, and the
/// person who may be asked to confirm.
///
/// | made with | environment | who is asked | for |
/// |---|---|---|---|
/// | [`Console::process`] | the process's | the terminal, if stdin and stderr are one | [`Cli::run`](crate::Cli::run), a program that pre-processes its arguments |
/// | [`Console::new`] | the process's | nobody (a confirmation is refused) | embedding: a program that runs calls itself |
/// | [`Console::for_tests`] | only what [`with_env`](Self::with_env) sets | nobody, or [`with_answers`](Self::with_answers) | tests |
///
/// Every console but the test console reads the operator's variables (`CNV_AGENT`,
/// `CNV_WORKSPACE`, `CNV_AUDIT_LOG`, …) from the process, so no program turns agent mode
/// off by choosing a console.
///
/// ```
/// use cnv_cli::Console;
///
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let console = Console::for_tests(&mut out, &mut err).with_env("CNV_AGENT", "1");
/// # let _ = console;
/// ```
pub struct Console<'a> {
    pub(crate) stdout: &'a mut dyn Write,
    pub(crate) stderr: &'a mut dyn Write,
    /// Variables set on the console; they take precedence over the process's.
    env: Vec<(String, String)>,
    /// Whether the process's environment is read (every console but the test console).
    process_env: bool,
    input: Input<'a>,
    /// How long the run waited for a person's answers (not counted in a band's time).
    waited: Duration,
}

/// `name` in the variables `set` (the last setting wins), else in the process's
/// environment when `process`; lossy when not UTF-8.
fn var(set: &[(String, String)], process: bool, name: &str) -> Option<String> {
    let set = set
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone());
    set.or_else(|| {
        process
            .then(|| std::env::var_os(name))
            .flatten()
            .map(|value| value.to_string_lossy().into_owned())
    })
}

/// The environment one call sees: its console's variables, then (but for a test console)
/// the process's; never the operator's settings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Vars {
    set: Vec<(String, String)>,
    process: bool,
    hidden: Vec<String>,
}

impl Vars {
    /// The process's environment without the operator's variables `hidden`: what a
    /// worker process reads (its environment is already the command line's choice).
    pub(crate) fn of_process(hidden: &[String]) -> Self {
        Self {
            set: Vec::new(),
            process: true,
            hidden: hidden.to_vec(),
        }
    }

    /// The variable `name`, unless it is one of the operator's (or OpenTelemetry's).
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        if crate::settings::hidden_from_handlers(&self.hidden, name) {
            return None;
        }
        var(&self.set, self.process, name)
    }
}

enum Input<'a> {
    /// The process's terminal, if stdin and stderr are one.
    Process,
    /// Nobody to ask.
    None,
    /// A person's answers, one per line, read by the program's own dialog.
    Answers(&'a mut dyn BufRead),
    /// The person at the caller's client.
    Supervisor(&'a dyn Supervisor),
}

impl<'a> Console<'a> {
    /// The process's console: output to `stdout` and `stderr` (usually the process's own),
    /// the process's environment, and its terminal for confirmations. What
    /// [`Cli::run`](crate::Cli::run) uses; a program that rewrites its arguments before
    /// calling [`Cli::run_in`](crate::Cli::run_in) uses it too, so that agent mode and
    /// the operator's settings still come from the environment.
    pub fn process(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            input: Input::Process,
            ..Self::new(stdout, stderr)
        }
    }

    /// Output to `stdout` and `stderr`, the process's environment, and nobody to ask (a
    /// confirmation is refused as on a non-interactive standard input): for a program that
    /// runs calls itself, on an agent's behalf or in the background.
    pub fn new(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            stdout,
            stderr,
            env: Vec::new(),
            process_env: true,
            input: Input::None,
            waited: Duration::ZERO,
        }
    }

    /// A console for tests: output to `stdout` and `stderr`, **no environment but what
    /// [`with_env`](Self::with_env) sets** (the process's `CNV_AGENT` is not read), and
    /// nobody to ask unless [`with_answers`](Self::with_answers) gives the answers.
    pub fn for_tests(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            process_env: false,
            ..Self::new(stdout, stderr)
        }
    }

    /// The same console, asking `supervisor` what a person must answer (see
    /// [`Supervisor`]).
    #[must_use]
    pub(crate) fn with_supervisor(mut self, supervisor: &'a dyn Supervisor) -> Self {
        self.input = Input::Supervisor(supervisor);
        self
    }

    /// Whether a person at the caller's client supervises the calls of this run.
    pub(crate) fn is_supervised(&self) -> bool {
        matches!(self.input, Input::Supervisor(_))
    }

    /// How long this run waited for a person's answers so far.
    pub(crate) fn waited(&self) -> Duration {
        self.waited
    }

    /// Whether this console is the process's own: the run is the whole process, so it
    /// may set process-wide limits (the memory budget of the verb's band).
    pub(crate) fn is_process(&self) -> bool {
        matches!(self.input, Input::Process)
    }

    /// The same console with the environment variable `name` set to `value` (over the
    /// process's, where the console reads it).
    #[must_use]
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The same console with a person's answers to confirmations and approvals, one per
    /// line (a dialog of the program's own, see
    /// [`HumanApproval::confirm_with`]). Never connect it to anything an agent writes.
    #[must_use]
    pub fn with_answers(mut self, answers: &'a mut dyn BufRead) -> Self {
        self.input = Input::Answers(answers);
        self
    }

    /// The operator's variable `name` as this console sees it: set with
    /// [`with_env`](Self::with_env), else the process's (but for a test console); a value
    /// that is not UTF-8 is `Some` of its lossy form.
    #[must_use]
    pub fn var(&self, name: &str) -> Option<String> {
        var(&self.env, self.process_env, name)
    }

    /// The environment a call of this run sees ([`Invocation::env`](crate::Invocation)),
    /// without the operator's variables `hidden`.
    pub(crate) fn vars(&self, hidden: &[String]) -> Vars {
        Vars {
            set: self.env.clone(),
            process: self.process_env,
            hidden: hidden.to_vec(),
        }
    }

    /// Whether this console reads nothing of the process's environment (a test console):
    /// the grammar's `env` clauses then read the console's variables instead.
    pub(crate) fn is_isolated(&self) -> bool {
        !self.process_env
    }

    pub(crate) fn agent_env_is_on(&self, name: &str) -> bool {
        self.var(name).is_some_and(|value| switch_is_on(&value))
    }

    /// Standard error, for what the operator should read (a server's address, say).
    pub fn stderr(&mut self) -> &mut dyn Write {
        self.stderr
    }
}

/// Whether the value of an operator's switch in the environment (`CNV_AGENT`, …) turns it
/// on: anything but empty, `0`, `false`, `no` or `off` (in any case, around white space).
///
/// ```
/// assert!(cnv_cli::switch_is_on("1"));
/// assert!(!cnv_cli::switch_is_on(" Off "));
/// ```
#[must_use]
pub fn switch_is_on(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off"
    )
}

impl Prompt for Console<'_> {
    fn is_interactive(&self) -> bool {
        match self.input {
            Input::Process => io::stdin().is_terminal() && io::stderr().is_terminal(),
            Input::None => false,
            Input::Answers(_) | Input::Supervisor(_) => true,
        }
    }

    fn confirm(&mut self, question: &str) -> io::Result<bool> {
        let asked = Instant::now();
        let answer = self.read_confirmation(question);
        self.waited += asked.elapsed();
        answer
    }

    fn approve(&mut self, request: &ApprovalRequest<'_>) -> Result<HumanApproval, ApprovalError> {
        let asked = Instant::now();
        let approval = match &mut self.input {
            Input::Process => HumanApproval::confirm_on_terminal(request),
            Input::Answers(answers) => {
                HumanApproval::confirm_with(answers, &mut *self.stderr, request)
            }
            Input::Supervisor(supervisor) => supervisor
                .ask(request)
                .and_then(|answer| HumanApproval::elicited(request, &answer)),
            Input::None => Err(ApprovalError::NotATerminal),
        };
        self.waited += asked.elapsed();
        approval
    }

    fn confirms_by_approval(&self) -> bool {
        match self.input {
            Input::Supervisor(_) => true,
            Input::Process | Input::None | Input::Answers(_) => false,
        }
    }

    fn channel(&self) -> ApprovalChannel {
        match self.input {
            Input::Process | Input::None => ApprovalChannel::Terminal,
            Input::Answers(_) => ApprovalChannel::Program,
            Input::Supervisor(_) => ApprovalChannel::Elicitation,
        }
    }
}

impl Console<'_> {
    /// Writes `question` and reads a yes or no.
    fn read_confirmation(&mut self, question: &str) -> io::Result<bool> {
        self.stderr.write_all(question.as_bytes())?;
        self.stderr.flush()?;
        let mut answer = String::new();
        match &mut self.input {
            Input::Process => {
                io::stdin().lock().read_line(&mut answer)?;
            }
            Input::Answers(answers) => {
                answers.read_line(&mut answer)?;
            }
            // A supervisor is asked for an approval instead (`confirms_by_approval`).
            Input::None | Input::Supervisor(_) => return Ok(false),
        }
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }
}

impl fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match self.input {
            Input::Process => "process",
            Input::None => "none",
            Input::Answers(_) => "answers",
            Input::Supervisor(_) => "supervisor",
        };
        f.debug_struct("Console")
            .field("env", &self.env)
            .field("process_env", &self.process_env)
            .field("input", &input)
            .finish_non_exhaustive()
    }
}
