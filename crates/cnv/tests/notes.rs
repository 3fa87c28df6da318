//! The `notes` example as a new user's first CLI: a global `--verbose` read by every
//! handler wherever it is given, a folder that can come from the environment, a sort
//! order clap limits to its listed values (in help, completions, the grammar JSON and the
//! MCP schema), and a routine write that no person confirms while an agent must still
//! justify it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cnv::grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};
use cnv::prelude::*;
use serde_json::Value;

mod common;

fn notes() -> PathBuf {
    common::example("notes")
}

/// A fresh workspace for one test.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-notes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("workspace");
    dir
}

/// The example run in `workspace`, with `env` and nothing else of the operator's.
fn run(workspace: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(notes());
    command
        .args(args)
        .env("CNV_WORKSPACE", workspace)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_AUDIT_LOG")
        .env_remove("NOTES_FOLDER")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the example runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_global_flag_is_read_by_the_handler_before_the_noun_or_after_the_verb() {
    let ws = workspace("verbose");
    let out = run(&ws, &["note", "add", "milk", "--body", "two litres"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "quiet without --verbose");
    for args in [
        &["-v", "note", "list"][..],
        &["note", "-v", "list"],
        &["note", "list", "--verbose"],
    ] {
        let out = run(&ws, args, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "milk\n", "{args:?}");
        assert!(
            text(&out.stderr).contains("1 notes in notes, by name"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            !text(&out.stderr).contains("milk: "),
            "{args:?}: one -v says less"
        );
    }
    // A count reaches the handler's worker as given: `-vv` says more.
    let out = run(&ws, &["note", "list", "-vv"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("  milk: 10 bytes"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_shows_global_options_once_under_their_own_heading() {
    let ws = workspace("help");
    let root = text(&run(&ws, &["--help"], &[]).stdout);
    let verb = text(&run(&ws, &["note", "list", "--help"], &[]).stdout);
    for help in [&root, &verb] {
        assert_eq!(help.matches("--verbose").count(), 1, "{help}");
        let heading = help.find("Global options:").expect("a heading");
        assert!(
            help.find("--verbose").is_some_and(|at| at > heading),
            "{help}"
        );
    }
    assert!(verb.contains("[possible values: name, size]"), "{verb}");
    assert!(verb.contains("[env: NOTES_FOLDER=]"), "{verb}");
}

#[test]
fn a_value_outside_the_list_is_clap_s_usage_error_and_nothing_runs() {
    let ws = workspace("values");
    let out = run(&ws, &["note", "list", "--sort", "date"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid value 'date' for '--sort <SORT>'"),
        "{stderr}"
    );
    assert!(stderr.contains("[possible values: name, size]"), "{stderr}");
    assert!(
        !stderr.contains("failed"),
        "a usage error, not a failure: {stderr}"
    );
    let out = run(&ws, &["note", "list", "--sort", "size"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn an_argument_comes_from_its_environment_variable_unless_given() {
    let ws = workspace("env");
    let out = run(
        &ws,
        &["note", "add", "plan", "--body", "ship it"],
        &[("NOTES_FOLDER", "work")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(ws.join("work/plan.txt").exists());
    let out = run(
        &ws,
        &["note", "show", "plan", "--folder", "work"],
        &[("NOTES_FOLDER", "elsewhere")],
    );
    assert_eq!(text(&out.stdout), "ship it\n", "the command line wins");
}

#[test]
fn a_routine_write_runs_without_a_prompt_and_an_agent_still_justifies_it() {
    let ws = workspace("routine");
    // A person: no terminal, no --yes, and the routine verb runs.
    let out = run(&ws, &["note", "add", "a", "--body", "x"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The verb that is not routine still needs a person's confirmation.
    let out = run(&ws, &["note", "delete", "a"], &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(ws.join("notes/a.txt").exists(), "nothing was deleted");
    // An agent needs a justification for the routine write, as for any write.
    let agent = [("CNV_AGENT", "1")];
    let out = run(&ws, &["note", "add", "b", "--body", "y"], &agent);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("rule `min_justification`"),
        "{}",
        text(&out.stderr)
    );
    assert!(!ws.join("notes/b.txt").exists());
    let out = run(
        &ws,
        &[
            "note",
            "add",
            "b",
            "--body",
            "y",
            "--justify",
            "the user dictated this note just now",
        ],
        &agent,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(ws.join("notes/b.txt").exists());
}

#[test]
fn the_grammar_json_and_the_mcp_schema_carry_globals_env_values_and_confirmation() {
    let ws = workspace("json");
    let grammar: Value =
        serde_json::from_slice(&run(&ws, &["--grammar"], &[]).stdout).expect("grammar JSON");
    assert_eq!(grammar["args"][0]["name"], "verbose");
    let add = &grammar["nouns"][0]["verbs"][0];
    assert_eq!(add["contract"]["confirmation"], "Routine");
    assert_eq!(add["args"][2]["env"], "NOTES_FOLDER");
    let list = &grammar["nouns"][0]["verbs"][1];
    assert_eq!(
        list["args"][0]["values"],
        serde_json::json!(["name", "size"])
    );
    // The JSON loads back into the same model.
    let loaded = GrammarModel::from_json(&grammar.to_string()).expect("loads");
    assert_eq!(loaded.args()[0].name(), "verbose");

    let tools: Value =
        serde_json::from_slice(&run(&ws, &["--mcp-tools"], &[]).stdout).expect("tools JSON");
    let list = tools["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|tool| tool["name"] == "note_list"))
        .expect("note_list");
    let properties = &list["inputSchema"]["properties"];
    assert_eq!(
        properties["sort"]["enum"],
        serde_json::json!(["name", "size"])
    );
    // `--verbose` is the command line's: a global argument is in a tool's schema only
    // when it is declared for MCP.
    assert!(properties.get("verbose").is_none(), "{properties}");

    let completions = text(&run(&ws, &["--completions", "bash"], &[]).stdout);
    assert!(
        completions.contains("name size"),
        "completions list the values"
    );
}

#[test]
fn a_run_time_grammar_with_a_default_outside_its_values_is_refused_by_build() {
    let grammar = GrammarModel::new("notes")
        .with_arg(GrammarArgument::named("verbose", "bool", "Say more"))
        .with_noun(
            GrammarNoun::new("note", "Notes").with_verb(
                GrammarVerb::new("list", "List", CapabilityContract::read_only())
                    .with_arg(
                        GrammarArgument::named("sort", "String", "Order")
                            .with_values(["name", "date"])
                            .with_default("nmae"),
                    )
                    .with_arg(GrammarArgument::named(
                        "verbose",
                        "u8",
                        "Shadows the global",
                    )),
            ),
        );
    let errors = match CliBuilder::from_model(grammar)
        .handler::<ReadOnlyFS, _>("note list", |_: &Invocation<'_, ReadOnlyFS>| {
            Ok(Output::text("never"))
        })
        .build()
    {
        Ok(_) => panic!("a default outside the values must not build"),
        Err(errors) => errors.to_string(),
    };
    assert!(
        errors.contains("the default `nmae` is not one of the possible values (`name`, `date`)"),
        "{errors}"
    );
    assert!(
        errors.contains("`verbose` is a global argument"),
        "{errors}"
    );
}
