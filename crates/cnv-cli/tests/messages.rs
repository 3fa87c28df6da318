//! What a person reads when a call goes wrong: the command named once, "failed" only for
//! a handler's failure, no Rust paths, and a handler that asks for an argument its verb
//! does not declare reported as the program's mistake (exit 1), not the user's (exit 2).
//! Text and `--format json` say the same.

use std::fmt;
use std::str::FromStr;

use clap::{ArgMatches, Command};
use cnv_caps::{CapabilityContract, Pure};
use std::sync::LazyLock;

use cnv_cli::{
    ArgError, ArgValue, Cli, CliBuilder, Console, Exit, HandlerError, Invocation, OfClass, Output,
    VerbArgs,
};
use cnv_grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};
use serde_json::Value;

/// A program's own value type, parsed by the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    Name,
    Date,
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "name" => Ok(Self::Name),
            "date" => Ok(Self::Date),
            other => Err(format!("unknown sort `{other}`; expected name or date")),
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "name",
            Self::Date => "date",
        })
    }
}

fn grammar() -> GrammarModel {
    GrammarModel::new("notes").with_noun(
        GrammarNoun::new("note", "Notes")
            .with_verb(
                GrammarVerb::new("list", "List notes", CapabilityContract::pure()).with_arg(
                    GrammarArgument::named("sort", "Sort", "The order").with_default("name"),
                ),
            )
            .with_verb(
                GrammarVerb::new("show", "Show a note", CapabilityContract::pure())
                    .with_arg(GrammarArgument::positional("title", "String", "The note")),
            )
            .with_verb(
                GrammarVerb::new("tag", "Tag a note", CapabilityContract::pure())
                    .with_arg(GrammarArgument::positional("title", "String", "The note")),
            ),
    )
}

/// Arguments written by hand that disagree with the grammar at run time: they declare the
/// verb's argument names (so `build` accepts them) but read another one.
struct Disagreeing;

impl VerbArgs for Disagreeing {
    type Class = Pure;
    const COMMAND: &'static str = "note tag";
    const ARGS: &'static [&'static str] = &["title"];

    fn grammar() -> &'static GrammarModel {
        static GRAMMAR: LazyLock<GrammarModel> = LazyLock::new(grammar);
        &GRAMMAR
    }

    fn configure(command: Command) -> Command {
        command
    }

    fn from_matches(matches: &ArgMatches) -> Result<Self, ArgError> {
        String::__one(matches, Self::COMMAND, "label").map(|_| Self)
    }
}

impl OfClass<Pure> for Disagreeing {}

fn cli() -> Cli {
    CliBuilder::new(Disagreeing::grammar())
        .handler::<Pure, _>("note list", |call| {
            let sort: Sort = call.value("sort")?;
            Ok(Output::text(format!("sorted by {sort}")))
        })
        .handler::<Pure, _>("note show", |call: &Invocation<'_, Pure>| {
            let title: String = call.value("name")?;
            Ok(Output::text(title))
        })
        .bind(|_: Disagreeing| Ok(Output::none()))
        .build()
        .expect("every verb has a handler of its class")
}

struct Run {
    exit: Exit,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut argv = vec!["notes"];
    argv.extend_from_slice(args);
    let exit = cli().run_in(argv, &mut Console::for_tests(&mut out, &mut err));
    Run {
        exit,
        stdout: String::from_utf8(out).expect("utf-8"),
        stderr: String::from_utf8(err).expect("utf-8"),
    }
}

fn json_error(args: &[&str]) -> (Exit, Value) {
    let mut with_json = vec!["--format", "json"];
    with_json.extend_from_slice(args);
    let run = run(&with_json);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let value: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    (run.exit, value["error"].clone())
}

/// The things no message may do: name its command twice, or show a Rust path.
fn assert_clean(message: &str, command: &str) {
    assert_eq!(
        message.matches(&format!("`{command}`")).count(),
        1,
        "the command is named once: {message}"
    );
    assert!(!message.contains("::"), "no Rust path: {message}");
}

#[test]
fn a_value_the_handler_cannot_parse_is_a_usage_error_said_once() {
    let out = run(&["note", "list", "--sort", "size"]);
    assert_eq!(out.exit, Exit::Usage);
    assert_eq!(
        out.stderr,
        "error: `note list`: invalid value \"size\" for `sort` (expected `Sort`): unknown sort `size`; expected name or date\n"
    );
    assert_clean(&out.stderr, "note list");
    assert!(!out.stderr.contains("failed"), "{}", out.stderr);

    let (exit, error) = json_error(&["note", "list", "--sort", "size"]);
    assert_eq!(exit, Exit::Usage);
    assert_eq!(error["kind"], "usage");
    assert_eq!(
        error["message"],
        out.stderr.trim_end().trim_start_matches("error: ")
    );
}

#[test]
fn the_default_parses_and_the_command_runs() {
    let out = run(&["note", "list"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(out.stdout, "sorted by name\n");
}

#[test]
fn an_argument_the_verb_does_not_declare_is_the_handler_s_mistake() {
    let out = run(&["note", "show", "groceries"]);
    assert_eq!(out.exit, Exit::Failed, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "error: the handler of `note show` asked for the argument `name`, which the verb does not declare (it declares `title`): the handler and the grammar disagree\n"
    );
    assert_clean(&out.stderr, "note show");

    let (exit, error) = json_error(&["note", "show", "groceries"]);
    assert_eq!(exit, Exit::Failed);
    assert_eq!(error["kind"], "failed");
    assert_eq!(
        error["message"],
        out.stderr.trim_end().trim_start_matches("error: ")
    );
}

#[test]
fn typed_arguments_that_disagree_with_the_command_line_are_the_program_s_mistake() {
    let out = run(&["note", "tag", "groceries"]);
    assert_eq!(out.exit, Exit::Failed, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: the handler of `note tag` asked for the argument `label`"),
        "{}",
        out.stderr
    );
    assert_clean(&out.stderr, "note tag");

    let (exit, error) = json_error(&["note", "tag", "groceries"]);
    assert_eq!(exit, Exit::Failed);
    assert_eq!(error["kind"], "failed");
}

#[test]
fn a_handler_s_own_failure_names_its_command_once() {
    let cli: Cli = CliBuilder::new(Disagreeing::grammar())
        .handler::<Pure, _>("note list", |call| {
            Err(HandlerError::msg(format!(
                "`{}` found no notes directory",
                call.command()
            )))
        })
        .handler::<Pure, _>("note show", |_| Err(HandlerError::msg("the disk is full")))
        .bind(|_: Disagreeing| Ok(Output::none()))
        .build()
        .expect("builds");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = cli.run_in(
        ["notes", "note", "list"],
        &mut Console::for_tests(&mut out, &mut err),
    );
    assert_eq!(exit, Exit::Failed);
    assert_eq!(
        String::from_utf8(err).expect("utf-8"),
        "error: `note list` found no notes directory\n"
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = cli.run_in(
        ["notes", "note", "show", "x"],
        &mut Console::for_tests(&mut out, &mut err),
    );
    assert_eq!(exit, Exit::Failed);
    assert_eq!(
        String::from_utf8(err).expect("utf-8"),
        "error: `note show` failed: the disk is full\n"
    );
}

#[test]
fn a_failure_of_several_lines_keeps_them_indented_and_escaped() {
    let cli: Cli = CliBuilder::new(Disagreeing::grammar())
        .handler::<Pure, _>("note list", |_| {
            Err(HandlerError::msg(
                "git failed:\nfatal: not a repository\nerror: \u{1b}[2Jforged\n",
            ))
        })
        .handler::<Pure, _>("note show", |_| Ok(Output::none()))
        .bind(|_: Disagreeing| Ok(Output::none()))
        .build()
        .expect("builds");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = cli.run_in(
        ["notes", "note", "list"],
        &mut Console::for_tests(&mut out, &mut err),
    );
    assert_eq!(exit, Exit::Failed);
    // Its lines stay lines (no `\u{000a}`), each under the first, so none poses as the
    // command line's own `error:`; the control sequence is escaped.
    assert_eq!(
        String::from_utf8(err).expect("utf-8"),
        "error: `note list` failed: git failed:\n  fatal: not a repository\n  error: \\u{001b}[2Jforged\n"
    );
}

#[test]
fn argument_errors_know_whose_mistake_they_are() {
    let unknown = ArgError::Unknown {
        command: "note show".into(),
        name: "name".into(),
        declared: "`title`".into(),
    };
    assert!(!unknown.is_usage());
    assert!(!HandlerError::from(unknown).is_usage());
    let invalid = ArgError::Invalid {
        command: "note list".into(),
        name: "sort".into(),
        value: "size".into(),
        type_name: "Sort".into(),
        reason: "unknown sort".into(),
    };
    assert!(invalid.is_usage());
    assert!(HandlerError::from(invalid).is_usage());
    let missing = ArgError::Missing {
        command: "note show".into(),
        name: "title".into(),
    };
    assert!(missing.is_usage());
    assert!(HandlerError::from(missing).is_usage());
}
