//! The capability gate, driven in-process through `Cli::run_in`: every row of the gate's
//! table, the policy's boundaries, JSON output, the audit trail, and build-time checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cnv_caps::{
    CapabilityClass, CapabilityContract, Dangerous, Environment, Network, Pure, ReadOnlyFS,
    ReadWriteFS, SafetyProfile, Subprocess,
};
use cnv_cli::{
    BuildError, Cli, CliBuilder, Console, Exit, HandlerError, Invocation, NoServer, Output,
};
use cnv_grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};
use serde_json::Value;

/// One verb per interesting contract.
fn grammar() -> GrammarModel {
    let review = |c: CapabilityContract| c;
    let interactive = |c: CapabilityContract| {
        c.with_safety(SafetyProfile::InteractiveOnly)
            .expect("more review is always allowed")
    };
    GrammarModel::new("tool").with_version("1.0.0").with_noun(
        GrammarNoun::new("do", "Things")
            .with_verb(
                GrammarVerb::new("calc", "Pure", CapabilityContract::pure())
                    .with_arg(GrammarArgument::positional("n", "u64", "A number"))
                    .with_arg(GrammarArgument::named("twice", "bool", "Double it")),
            )
            .with_verb(GrammarVerb::new(
                "read",
                "Read",
                CapabilityContract::read_only(),
            ))
            .with_verb(GrammarVerb::new(
                "env",
                "Environment",
                review(CapabilityContract::environment().into()),
            ))
            .with_verb(GrammarVerb::new(
                "fetch",
                "Network",
                CapabilityContract::network(),
            ))
            .with_verb(GrammarVerb::new(
                "write",
                "Write",
                CapabilityContract::read_write(),
            ))
            .with_verb(GrammarVerb::new(
                "spawn",
                "Subprocess, interactive only",
                interactive(CapabilityContract::subprocess().into()),
            ))
            .with_verb(GrammarVerb::new(
                "wipe",
                "Dangerous",
                CapabilityContract::dangerous(),
            ))
            .with_verb(GrammarVerb::new(
                "fail",
                "Fails",
                CapabilityContract::pure(),
            )),
    )
}

/// The command line, and how many times each handler ran.
fn cli() -> (Cli, Arc<AtomicUsize>) {
    cli_and(|b| b)
}

/// The command line of [`cli`], with `extra` settings.
fn cli_and(extra: impl FnOnce(CliBuilder) -> CliBuilder) -> (Cli, Arc<AtomicUsize>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = |ran: &Arc<AtomicUsize>| {
        let ran = Arc::clone(ran);
        move || ran.fetch_add(1, Ordering::SeqCst)
    };
    let (a, b, c, d, e, f, g) = (
        count(&ran),
        count(&ran),
        count(&ran),
        count(&ran),
        count(&ran),
        count(&ran),
        count(&ran),
    );
    let cli = extra(CliBuilder::from_model(grammar()))
        .handler::<Pure, _>("do calc", move |call: &Invocation<'_, Pure>| {
            a();
            let n: u64 = call.value("n")?;
            let n = if call.flag("twice")? { n * 2 } else { n };
            Ok(Output::text(n.to_string()).with_data(serde_json::json!({ "n": n })))
        })
        .handler::<ReadOnlyFS, _>("do read", move |call: &Invocation<'_, ReadOnlyFS>| {
            b();
            Ok(Output::text(format!("{:?}", call.session().class())))
        })
        .handler::<Environment, _>("do env", move |_: &Invocation<'_, Environment>| {
            c();
            Ok(Output::text("env"))
        })
        .handler::<Network, _>("do fetch", move |call: &Invocation<'_, Network>| {
            d();
            Ok(Output::text(format!(
                "fetched under {}",
                call.session().class()
            )))
        })
        .handler::<ReadWriteFS, _>("do write", move |_: &Invocation<'_, ReadWriteFS>| {
            e();
            Ok(Output::text("written"))
        })
        .handler::<Subprocess, _>("do spawn", move |_: &Invocation<'_, Subprocess>| {
            f();
            Ok(Output::text("spawned"))
        })
        .handler::<Dangerous, _>("do wipe", move |_: &Invocation<'_, Dangerous>| {
            g();
            Ok(Output::text("wiped"))
        })
        .handler::<Pure, _>("do fail", |_: &Invocation<'_, Pure>| {
            Err(HandlerError::msg("the disk is full"))
        })
        .build()
        .expect("every verb has a handler of its class");
    (cli, ran)
}

struct Run {
    exit: Exit,
    stdout: String,
    stderr: String,
}

fn run(cli: &Cli, args: &[&str]) -> Run {
    run_with(cli, args, &[], None)
}

fn run_with(cli: &Cli, args: &[&str], env: &[(&str, &str)], answers: Option<&str>) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut answers = answers.map(|a| std::io::Cursor::new(a.as_bytes().to_vec()));
    let exit = {
        let mut console = Console::for_tests(&mut out, &mut err);
        for (name, value) in env {
            console = console.with_env(*name, *value);
        }
        if let Some(answers) = answers.as_mut() {
            console = console.with_answers(answers);
        }
        let mut argv = vec!["tool"];
        argv.extend_from_slice(args);
        cli.run_in(argv, &mut console)
    };
    Run {
        exit,
        stdout: String::from_utf8(out).expect("utf-8"),
        stderr: String::from_utf8(err).expect("utf-8"),
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim()).expect("one JSON object on stdout")
}

#[test]
fn agent_safe_verbs_run_in_agent_mode_without_a_justification() {
    let (cli, ran) = cli();
    let out = run(&cli, &["--agent", "do", "calc", "21", "--twice"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(out.stdout, "42\n");
    let out = run(&cli, &["--agent", "do", "read"]);
    assert_eq!(out.stdout, "ReadOnlyFS\n");
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

#[test]
fn a_verb_that_is_not_agent_safe_needs_a_justification_in_agent_mode() {
    let (cli, ran) = cli();
    let out = run(&cli, &["--agent", "do", "write"]);
    assert_eq!(out.exit, Exit::Denied);
    assert_eq!(out.exit.code(), 3);
    assert!(
        out.stderr
            .contains("`do write` is not agent-safe (`ReadWriteFS`, safety `HumanReviewRequired`)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("and none was given"), "{}", out.stderr);
    assert!(
        out.stderr.contains("rule `min_justification`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("to proceed: re-run with --justify"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    assert_eq!(ran.load(Ordering::SeqCst), 0, "nothing ran");
}

#[test]
fn the_policy_boundary_decides_in_agent_mode() {
    let (cli, ran) = cli();
    let short = "x".repeat(29);
    let out = run(&cli, &["--agent", "do", "fetch", "--justify", &short]);
    assert_eq!(out.exit, Exit::Denied);
    assert!(
        out.stderr.contains("the one given has 29"),
        "{}",
        out.stderr
    );
    let enough = "é".repeat(30);
    let out = run(&cli, &["--agent", "do", "fetch", "--justify", &enough]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(out.stdout, "fetched under Network\n");
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn dangerous_never_runs_in_agent_mode() {
    let (cli, ran) = cli();
    let long = "a very long and careful justification ".repeat(5);
    for args in [
        vec!["--agent", "do", "wipe"],
        vec!["--agent", "do", "wipe", "--justify", long.as_str()],
        vec!["--agent", "do", "wipe", "--justify", long.as_str(), "--yes"],
    ] {
        let out = run(&cli, &args);
        assert_eq!(out.exit, Exit::Denied, "{args:?}");
        assert!(
            out.stderr.contains("rule `dangerous_never_autonomous`"),
            "{}",
            out.stderr
        );
    }
    let out = run_with(
        &cli,
        &["do", "wipe", "--justify", &long],
        &[("CNV_AGENT", "1")],
        Some("Dangerous\n"),
    );
    assert_eq!(
        out.exit,
        Exit::Denied,
        "the environment variable is agent mode too"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn interactive_only_verbs_never_run_in_agent_mode() {
    let (cli, ran) = cli();
    let out = run(
        &cli,
        &["--agent", "do", "spawn", "--justify", &"x".repeat(80)],
    );
    assert_eq!(out.exit, Exit::Denied);
    assert!(out.stderr.contains("InteractiveOnly"), "{}", out.stderr);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn the_agent_environment_variable_turns_agent_mode_on() {
    let (cli, _) = cli();
    for on in ["1", "true", "yes"] {
        let out = run_with(&cli, &["do", "write", "--yes"], &[("CNV_AGENT", on)], None);
        assert_eq!(out.exit, Exit::Denied, "CNV_AGENT={on}");
    }
    for off in ["0", "false", "", "off"] {
        let out = run_with(&cli, &["do", "write", "--yes"], &[("CNV_AGENT", off)], None);
        assert_eq!(out.exit, Exit::Success, "CNV_AGENT={off:?}: {}", out.stderr);
    }
}

#[test]
fn human_review_needs_a_confirmation_outside_agent_mode() {
    let (cli, ran) = cli();
    let out = run(&cli, &["do", "write"]);
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    assert_eq!(out.exit.code(), 4);
    assert!(
        out.stderr.contains("standard input is not a terminal"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(ran.load(Ordering::SeqCst), 0);

    let out = run(&cli, &["do", "write", "--yes"]);
    assert_eq!(out.exit, Exit::Success);

    let out = run_with(&cli, &["do", "write"], &[], Some("y\n"));
    assert_eq!(out.exit, Exit::Success);
    assert!(
        out.stderr
            .contains("`tool do write` needs `ReadWriteFS` (risk 6"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Run it? [y/N]"), "{}", out.stderr);

    let out = run_with(&cli, &["do", "write"], &[], Some("n\n"));
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    assert!(
        out.stderr.contains("declined at the prompt"),
        "{}",
        out.stderr
    );
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

#[test]
fn interactive_only_is_not_confirmed_by_yes() {
    let (cli, ran) = cli();
    let out = run(&cli, &["do", "spawn", "--yes"]);
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    assert!(out.stderr.contains("--yes is not enough"), "{}", out.stderr);
    let out = run_with(&cli, &["do", "spawn"], &[], Some("yes\n"));
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn dangerous_needs_a_justification_and_an_approval_from_a_person() {
    let (cli, ran) = cli();
    let why = "reset the scratch area before the benchmark series";
    // No justification: refused before anyone is asked.
    let out = run_with(&cli, &["do", "wipe"], &[], Some("Dangerous\n"));
    assert_eq!(out.exit, Exit::Denied);
    assert!(!out.stderr.contains("Type `Dangerous`"), "{}", out.stderr);
    // Justified, but nobody to ask.
    let out = run(&cli, &["do", "wipe", "--justify", why]);
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    // Justified and approved.
    let out = run_with(
        &cli,
        &["do", "wipe", "--justify", why],
        &[],
        Some("Dangerous\n"),
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert!(
        out.stderr.contains("Type `Dangerous` to approve"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "wiped\n");
    // Justified, refused.
    let out = run_with(&cli, &["do", "wipe", "--justify", why], &[], Some("yes\n"));
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn json_output_is_one_object_for_results_and_errors() {
    let (cli, _) = cli();
    let ok = run(&cli, &["--format", "json", "do", "calc", "4"]);
    assert_eq!(ok.exit, Exit::Success);
    let value = json(&ok);
    assert_eq!(value["ok"], true);
    assert_eq!(value["command"], "do calc");
    assert_eq!(value["class"], "Pure");
    assert_eq!(value["mode"], "human");
    assert_eq!(value["result"], serde_json::json!({ "n": 4 }));

    let denied = run(
        &cli,
        &[
            "--agent",
            "do",
            "fetch",
            "--format",
            "json",
            "--justify",
            "too short",
        ],
    );
    assert_eq!(denied.exit, Exit::Denied);
    assert!(denied.stderr.is_empty(), "{}", denied.stderr);
    let value = json(&denied);
    assert_eq!(value["ok"], false);
    assert_eq!(value["exit_code"], 3);
    assert_eq!(value["mode"], "agent");
    assert_eq!(value["error"]["kind"], "denied");
    assert_eq!(value["error"]["rule"], "min_justification");
    assert_eq!(value["error"]["required"], 30);
    assert_eq!(value["error"]["given"], 9);
    assert!(
        value["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--justify"))
    );

    let usage = run(&cli, &["--format=json", "do", "calc", "four"]);
    assert_eq!(usage.exit, Exit::Usage);
    let value = json(&usage);
    assert_eq!(value["error"]["kind"], "usage");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("four"))
    );

    let failed = run(&cli, &["--format", "json", "do", "fail"]);
    assert_eq!(failed.exit, Exit::Failed);
    assert_eq!(
        json(&failed)["error"]["message"],
        "`do fail` failed: the disk is full"
    );
}

#[test]
fn handler_failures_and_usage_errors_have_their_own_codes() {
    let (cli, _) = cli();
    let out = run(&cli, &["do", "fail"]);
    assert_eq!(out.exit, Exit::Failed);
    assert_eq!(out.stderr, "error: `do fail` failed: the disk is full\n");
    let out = run(&cli, &["do", "nope"]);
    assert_eq!(out.exit, Exit::Usage);
    assert!(
        out.stderr.contains("unrecognized subcommand 'nope'"),
        "{}",
        out.stderr
    );
    let out = run(&cli, &["do", "calc"]);
    assert_eq!(out.exit, Exit::Usage);
    assert!(out.stderr.contains("<N>"), "{}", out.stderr);
    let out = run(&cli, &["--help"]);
    assert_eq!(out.exit, Exit::Success);
    assert!(out.stdout.contains("Usage: tool"), "{}", out.stdout);
    let out = run(&cli, &["do", "fetch", "--help"]);
    assert!(
        out.stdout.contains("Capability: Network (risk 5)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("at least 30 characters"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_operator_s_audit_log_records_every_decision_and_verifies() {
    let (cli, _) = cli();
    let dir = std::env::temp_dir().join(format!("cnv-cli-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("audit.jsonl");
    let log_env = log.to_str().expect("utf-8 path");
    let operator = [("CNV_AUDIT_LOG", log_env)];
    let run_logged = |args: &[&str], agent: bool| {
        let mut env = operator.to_vec();
        if agent {
            env.push(("CNV_AGENT", "1"));
        }
        run_with(&cli, args, &env, None)
    };
    let created = run_logged(&["do", "calc", "1"], false);
    assert_eq!(created.exit, Exit::Success, "{}", created.stderr);
    let denied = run_logged(&["do", "fetch", "--justify", "short"], true);
    assert_eq!(denied.exit, Exit::Denied);
    let ran = run_logged(
        &[
            "do",
            "fetch",
            "--justify",
            "mirror the release index for the offline build",
        ],
        true,
    );
    assert_eq!(ran.exit, Exit::Success, "{}", ran.stderr);
    let dangerous = run_logged(&["do", "wipe"], true);
    assert_eq!(dangerous.exit, Exit::Denied);

    let text = std::fs::read_to_string(&log).expect("the log exists");
    let entries: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let denials: Vec<&Value> = entries
        .iter()
        .filter(|e| e["outcome"] == "denied" && e["event"] != "finish")
        .collect();
    assert_eq!(denials.len(), 2, "{text}");
    // Every call's session ends with how it ended, and the exit code its caller got.
    let ends: Vec<(&Value, &Value)> = entries
        .iter()
        .filter(|e| e["event"] == "finish")
        .map(|e| (&e["result"]["status"], &e["result"]["exit_code"]))
        .collect();
    assert_eq!(
        ends,
        [
            (&Value::from("ran"), &Value::from(0)),
            (&Value::from("denied"), &Value::from(3)),
            (&Value::from("ran"), &Value::from(0)),
            (&Value::from("denied"), &Value::from(3)),
        ],
        "{text}"
    );
    // A call that ran says what the kernel enforced around it.
    let ran_end = entries
        .iter()
        .find(|e| e["event"] == "finish" && e["result"]["status"] == "ran")
        .expect("a finish");
    assert!(ran_end["enforcement"].is_object(), "{text}");
    // The session's creation holds the call: the command, its arguments, its origin.
    let created = entries
        .iter()
        .find(|e| e["event"] == "create")
        .expect("a creation");
    assert_eq!(created["session"], "tool do calc");
    assert_eq!(created["call"]["command"], "do calc");
    assert_eq!(created["call"]["origin"]["via"], "command_line");
    assert_eq!(denials[0]["rule"], "min_justification");
    assert_eq!(denials[0]["to"], "Network");
    assert_eq!(denials[1]["rule"], "dangerous_never_autonomous");
    assert!(
        entries
            .iter()
            .any(|e| e["event"] == "escalate" && e["outcome"] == "allowed" && e["to"] == "Network"),
        "{text}"
    );
    let summary = cnv_audit::verify_chain(std::io::BufReader::new(
        std::fs::File::open(&log).expect("open"),
    ))
    .expect("the chain verifies");
    assert_eq!(summary.entries, entries.len());

    // No argument moves or silences the log: `--audit-log` is not a flag at all.
    let out = run_logged(&["do", "calc", "1", "--audit-log", "/dev/null"], true);
    assert_eq!(out.exit, Exit::Usage, "{}", out.stderr);
    assert!(
        out.stderr.contains("unexpected argument '--audit-log'"),
        "{}",
        out.stderr
    );

    // An audit log that cannot be opened: nothing runs.
    let out = run_with(
        &cli,
        &["do", "calc", "1"],
        &[("CNV_AUDIT_LOG", dir.to_str().expect("utf-8"))],
        None,
    );
    assert_eq!(out.exit, Exit::Denied);
    assert!(
        out.stderr.contains("rule `audit_required`"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_gate_flag_given_twice_is_a_usage_error_never_an_override() {
    let (cli, runs) = cli();
    for args in [
        &["--format", "json", "do", "calc", "1", "--format", "text"][..],
        &["--justify", "a", "do", "fetch", "--justify", "b"],
        &["--agent", "do", "--agent", "calc", "1"],
        &["--yes", "do", "write", "--yes"],
    ] {
        let out = run(&cli, args);
        assert_eq!(out.exit, Exit::Usage, "{args:?}: {}", out.stderr);
        // With `--format json` in the arguments the usage error is a JSON object.
        let said = format!("{}{}", out.stderr, out.stdout);
        assert!(said.contains("give it once"), "{args:?}: {said}");
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "no handler ran for a refused command"
    );
    // Once, at any level, is fine.
    let out = run(&cli, &["do", "calc", "1", "--format", "json"]);
    assert_eq!(out.exit, Exit::Success);
    assert!(json(&out)["ok"] == true, "{}", out.stdout);
    let out = run(&cli, &["--format", "json", "do", "calc", "1"]);
    assert_eq!(json(&out)["ok"], true);
}

#[test]
fn introspection_prints_the_grammar_the_tools_and_the_capabilities() {
    let (cli, _) = cli();
    let out = run(&cli, &["--grammar"]);
    assert_eq!(out.exit, Exit::Success);
    let printed = GrammarModel::from_json(&out.stdout).expect("the grammar loads back");
    assert_eq!(printed, grammar());

    let out = run(&cli, &["--mcp-tools"]);
    let tools: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(tools, cli.mcp_tools());
    let schema: Value = serde_json::from_str(include_str!(
        "../../cnv-grammar/tests/data/mcp-schema-2025-11-25.json"
    ))
    .expect("the MCP schema");
    let mut list = schema;
    list["$ref"] = Value::from("#/$defs/ListToolsResult");
    let validator = jsonschema::validator_for(&list).expect("compiles");
    let problems: Vec<String> = validator
        .iter_errors(&tools)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    // The grammar's own manifest, plus what the policy asks of an agent.
    let by_name = |name: &str| {
        tools["tools"]
            .as_array()
            .and_then(|tools| tools.iter().find(|tool| tool["name"] == name))
            .cloned()
            .expect(name)
    };
    assert_eq!(by_name("do_calc")["_meta"]["cnv/agent"]["needs"], "nothing");
    let fetch = by_name("do_fetch");
    assert_eq!(fetch["_meta"]["cnv/agent"]["min_chars"], 30);
    assert_eq!(
        fetch["inputSchema"]["properties"]["justification"]["minLength"],
        30
    );
    assert!(
        fetch["inputSchema"]["required"]
            .as_array()
            .is_some_and(|required| required.contains(&Value::from("justification")))
    );
    let wipe = by_name("do_wipe");
    assert_eq!(
        wipe["_meta"]["cnv/agent"]["rule"],
        "dangerous_never_autonomous"
    );
    assert!(
        wipe["description"]
            .as_str()
            .is_some_and(|text| text.contains("Never runs for an agent"))
    );

    let out = run(&cli, &["--capabilities"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("command"), "{}", out.stdout);
    assert!(lines.iter().any(|l| l.starts_with("do fetch")
        && l.contains("Network")
        && l.contains("--justify 30+")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("do wipe") && l.contains("never"))
    );

    let out = run(&cli, &["--capabilities", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["agent"], "yes");

    let out = run(&cli, &["--completions", "bash"]);
    assert_eq!(out.exit, Exit::Success);
    assert!(out.stdout.contains("_tool()"), "{}", out.stdout);
}

#[test]
fn build_reports_every_binding_problem_at_once() {
    let mut grammar = grammar();
    grammar.add_noun(
        GrammarNoun::new("bad", "Bad").with_verb(
            GrammarVerb::new("arg", "Reserved", CapabilityContract::pure())
                .with_arg(GrammarArgument::named("justify", "String", "Clashes")),
        ),
    );
    let errors = CliBuilder::<NoServer>::from_model(grammar)
        .handler::<Network, _>("do calc", |_: &Invocation<'_, Network>| Ok(Output::none()))
        .handler::<Pure, _>("do red", |_: &Invocation<'_, Pure>| Ok(Output::none()))
        .handler::<ReadOnlyFS, _>("do read", |_: &Invocation<'_, ReadOnlyFS>| {
            Ok(Output::none())
        })
        .handler::<ReadOnlyFS, _>("do read", |_: &Invocation<'_, ReadOnlyFS>| {
            Ok(Output::none())
        })
        .build()
        .expect_err("several problems");
    let text = errors.to_string();
    let kinds = errors.errors();
    assert!(kinds.iter().any(|e| matches!(
        e,
        BuildError::CapabilityMismatch { command, declared: CapabilityClass::Pure, bound: CapabilityClass::Network }
            if command == "do calc"
    )), "{text}");
    assert!(kinds.iter().any(|e| matches!(
        e,
        BuildError::UnknownVerb { command, suggestion: Some(s) } if command == "do red" && s == "do read"
    )), "{text}");
    assert!(
        kinds
            .iter()
            .any(|e| matches!(e, BuildError::DuplicateHandler { command } if command == "do read")),
        "{text}"
    );
    assert!(
        kinds
            .iter()
            .any(|e| matches!(e, BuildError::InvalidGrammar(invalid) if invalid.to_string().contains("`justify` is taken by cnv's global flag `--justify`"))),
        "{text}"
    );
    // A verb left without a handler is no build error: it fails when it is called.
    assert_eq!(kinds.len(), 4, "{text}");
    assert!(text.contains("the handler of `do calc` is bound as `Network`, but the grammar declares the verb with `Pure`"), "{text}");
    assert!(text.contains("(did you mean `do read`?)"), "{text}");
}

#[test]
fn a_noun_or_verb_called_help_is_a_build_error_not_a_clap_panic() {
    // clap gives the program and every noun a `help` subcommand; a noun or verb of that
    // name used to pass validation and then panic inside clap ("command name `help` is
    // duplicated").
    let grammar = GrammarModel::new("tool").with_noun(
        GrammarNoun::new("docs", "Help topics").with_verb(GrammarVerb::new(
            "help",
            "Show",
            CapabilityContract::pure(),
        )),
    );
    let built = std::panic::catch_unwind(|| {
        CliBuilder::<NoServer>::from_model(grammar)
            .handler::<Pure, _>("docs help", |_: &Invocation<'_, Pure>| Ok(Output::none()))
            .build()
            .map(drop)
    })
    .expect("build reports, it does not panic");
    let errors = built.expect_err("`help` is reserved");
    assert!(
        matches!(errors.errors(), [BuildError::InvalidGrammar(invalid)]
            if matches!(invalid.errors(), [cnv_grammar::GrammarError::InvalidName { problem: cnv_grammar::rules::NameProblem::ReservedCommand { name, .. }, .. }] if name == "help")),
        "{errors}"
    );
}

#[test]
fn arguments_are_parsed_into_the_types_the_handler_asks_for() {
    let grammar = GrammarModel::new("t").with_noun(
        GrammarNoun::new("x", "X").with_verb(
            GrammarVerb::new("y", "Y", CapabilityContract::pure())
                .with_arg(GrammarArgument::positional("word", "String", "A word"))
                .with_arg(GrammarArgument::named("port", "u16", "A port").with_default("80"))
                .with_arg(GrammarArgument::named("tag", "String", "Tags").multiple())
                .with_arg(GrammarArgument::named("maybe", "String", "Optional").optional()),
        ),
    );
    let cli: Cli = CliBuilder::from_model(grammar)
        .handler::<Pure, _>("x y", |call: &Invocation<'_, Pure>| {
            let word: String = call.value("word")?;
            let port: u16 = call.value("port")?;
            let tags: Vec<String> = call.values("tag")?;
            let maybe: Option<String> = call.optional("maybe")?;
            if call.value::<String>("nope").is_ok() {
                return Err(HandlerError::msg("an undeclared argument was found"));
            }
            let number: Result<u8, _> = call.value("word");
            let number = number.map_err(|e| e.to_string()).err().unwrap_or_default();
            Ok(Output::text(format!(
                "{word} {port} {tags:?} {maybe:?} | {number}"
            )))
        })
        .build()
        .expect("builds");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = cli.run_in(
        ["t", "x", "y", "hello", "--tag", "a", "--tag", "b"],
        &mut Console::for_tests(&mut out, &mut err),
    );
    assert_eq!(exit, Exit::Success, "{}", String::from_utf8_lossy(&err));
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "hello 80 [\"a\", \"b\"] None | `x y`: invalid value \"hello\" for `word` (expected `u8`): invalid digit found in string\n"
    );
}

/// A sink that records in memory and fails from its `fail_from`-th entry on.
#[derive(Debug)]
struct FailingSink {
    entries: std::sync::Mutex<Vec<cnv_audit::AuditEntry>>,
    fail_from: usize,
}

impl cnv_audit::AuditSink for FailingSink {
    fn record(&self, entry: &cnv_audit::AuditEntry) -> Result<(), cnv_audit::AuditError> {
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.len() + 1 >= self.fail_from {
            return Err(cnv_audit::AuditError::Io {
                target: "the test sink".to_owned(),
                error: Arc::new(std::io::Error::other("disk full")),
            });
        }
        entries.push(entry.clone());
        Ok(())
    }
}

fn cli_with(builder: impl FnOnce(CliBuilder) -> CliBuilder) -> (Cli, Arc<AtomicUsize>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let (a, b) = (Arc::clone(&ran), Arc::clone(&ran));
    let grammar = GrammarModel::new("tool").with_noun(
        GrammarNoun::new("do", "Things")
            .with_verb(GrammarVerb::new("calc", "Pure", CapabilityContract::pure()))
            .with_verb(GrammarVerb::new(
                "write",
                "Write",
                CapabilityContract::read_write(),
            )),
    );
    let cli = builder(CliBuilder::from_model(grammar))
        .handler::<Pure, _>("do calc", move |_: &Invocation<'_, Pure>| {
            a.fetch_add(1, Ordering::SeqCst);
            Ok(Output::text("calculated"))
        })
        .handler::<ReadWriteFS, _>("do write", move |_: &Invocation<'_, ReadWriteFS>| {
            b.fetch_add(1, Ordering::SeqCst);
            Ok(Output::text("written"))
        })
        .build()
        .expect("builds");
    (cli, ran)
}

#[test]
fn a_call_whose_verification_cannot_be_recorded_does_not_run() {
    // The creation is recorded; the verification is not.
    let sink = Arc::new(FailingSink {
        entries: std::sync::Mutex::new(Vec::new()),
        fail_from: 2,
    });
    let (cli, ran) = cli_with(|b| b.audit_sink(sink.clone()));
    for args in [vec!["do", "calc"], vec!["do", "write", "--yes"]] {
        let out = run(&cli, &args);
        assert_eq!(out.exit, Exit::Denied, "{args:?}");
        assert!(
            out.stderr.contains("rule `audit_required`"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "nothing ran unrecorded");
}

#[test]
fn the_program_s_own_audit_sink_records_every_run() {
    let sink = Arc::new(cnv_audit::MemorySink::new());
    let (cli, _) = cli_with(|b| b.audit_sink(sink.clone()));
    let out = run(&cli, &["--agent", "do", "write", "--justify", "short"]);
    assert_eq!(out.exit, Exit::Denied);
    let entries = sink.entries();
    let denial = entries
        .iter()
        .find(|entry| entry.event == cnv_audit::AuditEvent::Escalate)
        .expect("recorded without an operator's log");
    assert_eq!(denial.outcome, cnv_audit::Verdict::Denied);
    assert_eq!(denial.rule, Some(cnv_typestate::Rule::MinJustification));
    assert_eq!(denial.from, Some(CapabilityClass::Pure));
    assert_eq!(denial.justification.as_deref(), Some("short"));
    // The session is named by the program and the command; the call, in full, is on
    // its creation; its end is the last entry.
    assert_eq!(denial.session, "tool do write");
    let call = entries[0]
        .call
        .as_ref()
        .expect("the creation holds the call");
    assert_eq!(call.command, "do write");
    assert_eq!(call.origin, cnv_audit::CallOrigin::CommandLine);
    let end = entries.last().expect("an end");
    assert_eq!(end.event, cnv_audit::AuditEvent::Finish);
    assert_eq!(
        end.result.as_ref().map(cnv_audit::CallResult::exit_code),
        Some(3)
    );
}

#[test]
fn agent_mode_always_cannot_be_turned_off() {
    let (cli, ran) = cli_with(|b| b.agent_mode(cnv_cli::AgentMode::Always));
    let out = run_with(
        &cli,
        &["do", "write", "--yes"],
        &[("CNV_AGENT", "0")],
        Some("y\n"),
    );
    assert_eq!(out.exit, Exit::Denied, "{}", out.stderr);
    assert!(
        out.stderr.contains("rule `min_justification`"),
        "{}",
        out.stderr
    );
    let out = run(&cli, &["do", "calc"]);
    assert_eq!(out.exit, Exit::Success);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn a_missing_confirmation_is_its_own_rule() {
    let sink = Arc::new(cnv_audit::MemorySink::new());
    let (cli, _) = cli_with(|b| b.audit_sink(sink.clone()));
    let out = run(&cli, &["--format", "json", "do", "write"]);
    assert_eq!(out.exit, Exit::ConfirmationRequired);
    let value = json(&out);
    assert_eq!(value["error"]["kind"], "confirmation_required");
    assert_eq!(value["error"]["rule"], "human_confirmation");
    let denial = sink.entries().pop().expect("recorded");
    assert_eq!(denial.rule, Some(cnv_typestate::Rule::HumanConfirmation));
    assert!(
        denial
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("standard input is not a terminal")),
        "{denial:?}"
    );
}

#[test]
fn the_approval_prompt_shows_the_command_and_escapes_what_would_hide() {
    let (cli, ran) = cli();
    let why = "reset the scratch area before the benchmark series\u{1b}[1A\u{1b}[2K";
    let out = run_with(
        &cli,
        &["do", "wipe", "--justify", why],
        &[],
        Some("Dangerous\n"),
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert!(
        out.stderr.contains("If approved, it runs: tool do wipe\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\\u{001b}[1A"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no raw escape reaches the terminal"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn invisible_characters_do_not_make_a_justification() {
    let (cli, ran) = cli();
    let invisible = "\u{200b}".repeat(60);
    let out = run(&cli, &["--agent", "do", "fetch", "--justify", &invisible]);
    assert_eq!(out.exit, Exit::Denied);
    assert!(out.stderr.contains("the one given has 0"), "{}", out.stderr);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

fn call(cli: &Cli, command: &str, arguments: Value) -> cnv_cli::CallOutcome {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    cli.call(&cnv_cli::AgentCall::new(command, &arguments))
}

#[test]
fn calls_on_an_agent_s_behalf_go_through_the_same_gate() {
    use cnv_cli::CallOutcome;
    use serde_json::json;
    let (cli, runs) = cli();
    // Agent-safe: runs, with its typed values (a number given as a JSON number).
    match call(&cli, "do calc", json!({ "n": 21, "twice": true })) {
        CallOutcome::Ran(output) => assert_eq!(output.as_text(), "42"),
        other => panic!("{other:?}"),
    }
    // Not agent-safe: refused without a justification, whatever the program's mode.
    match call(&cli, "do fetch", json!({})) {
        CallOutcome::Refused(refusal) => {
            assert_eq!(refusal.rule, cnv_typestate::Rule::MinJustification);
            let message = &refusal.message;
            assert!(message.contains("at least 30 characters"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match call(
        &cli,
        "do fetch",
        json!({ "justification": "mirror the release index for the offline build" }),
    ) {
        CallOutcome::Ran(output) => assert_eq!(output.as_text(), "fetched under Network"),
        other => panic!("{other:?}"),
    }
    match call(
        &cli,
        "do wipe",
        json!({ "justification": "the user asked for it, twice, in writing" }),
    ) {
        CallOutcome::Refused(refusal) => {
            assert_eq!(refusal.rule, cnv_typestate::Rule::DangerousNeverAutonomous);
            // Worded for a tool call: no command-line flag to try.
            assert!(!refusal.hint.contains("--"), "{}", refusal.hint);
            assert!(
                refusal
                    .hint
                    .contains("no tool call of an agent alone can run it")
                    && refusal
                        .hint
                        .contains("a person can approve it from an MCP client"),
                "{}",
                refusal.hint
            );
        }
        other => panic!("{other:?}"),
    }
    let before = runs.load(Ordering::SeqCst);
    // Malformed arguments: answered, nothing runs.
    for (command, arguments, needle) in [
        // Worded for a tool call: the argument by its name, never as a flag.
        (
            "do calc",
            json!({ "n": "many" }),
            "invalid value 'many' for argument `n`",
        ),
        ("do calc", json!({ "n": [1, 2] }), "not a list"),
        ("do calc", json!({ "m": 1 }), "takes no argument `m`"),
        (
            "do calc",
            json!({}),
            "required arguments were not provided: argument `n`",
        ),
        (
            "do calc",
            json!({ "n": "-5" }),
            "invalid value '-5' for argument `n`",
        ),
        // What clap quotes of an agent's value is escaped in the answer and the trail.
        (
            "do calc",
            json!({ "n": "\u{1b}[2J\u{202e}\n9" }),
            // The ANSI sequence is escaped, or dropped by clap (its `color` feature).
            "\\u{202e}\\u{000a}9'",
        ),
        ("do fetch", json!({ "justification": 5 }), "is a string"),
    ] {
        match call(&cli, command, arguments.clone()) {
            CallOutcome::InvalidArguments { message } => {
                assert!(message.contains(needle), "{arguments}: {message}");
                assert!(
                    !message.contains(['\u{1b}', '\u{202e}', '\n']),
                    "{arguments}: {message}"
                );
                assert!(
                    !message.contains("--"),
                    "a flag in a tool call's error: {message}"
                );
                assert!(!message.contains("tip:"), "{message}");
            }
            other => panic!("{arguments}: {other:?}"),
        }
    }
    assert!(matches!(
        call(&cli, "do nothing", json!({})),
        CallOutcome::UnknownCommand { .. }
    ));
    assert_eq!(runs.load(Ordering::SeqCst), before);
}

#[test]
fn a_call_on_an_agent_s_behalf_is_recorded_with_its_origin_and_its_end() {
    use cnv_audit::{AuditEvent, CallOrigin, CallResult, McpTransport};
    let sink = Arc::new(cnv_audit::MemorySink::new());
    let (cli, _) = cli_with(|b| b.audit_sink(sink.clone()));
    let arguments = serde_json::json!({
        "justification": "save the notes the user dictated a minute ago"
    });
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    let origin = CallOrigin::Mcp {
        transport: McpTransport::Stdio,
        session_id: None,
        client_name: Some("inspector".to_owned()),
        client_version: Some("0.9".to_owned()),
        principal: None,
    };
    let outcome =
        cli.call(&cnv_cli::AgentCall::new("do write", &arguments).with_origin(origin.clone()));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    let entries = sink.entries();
    let call = entries[0]
        .call
        .as_ref()
        .expect("the creation holds the call");
    assert_eq!(call.origin, origin);
    assert_eq!(call.command, "do write");
    assert_eq!(entries[0].mode, cnv_typestate::RunMode::Autonomous);
    let end = entries.last().expect("an end");
    assert_eq!(end.event, AuditEvent::Finish);
    assert_eq!(end.result, Some(CallResult::Ran { exit_code: 0 }));
}

#[test]
fn a_call_refused_before_the_gate_is_recorded_as_asked_and_never_as_a_run() {
    use cnv_audit::{AuditEvent, CallOrigin, CallResult, Verdict};
    use serde_json::json;
    let sink = Arc::new(cnv_audit::MemorySink::new());
    let (cli, runs) = cli_and(|b| b.audit_sink(sink.clone()));
    let hostile_name = format!("do {}", "x".repeat(10_000));
    let huge = "a".repeat(cnv_audit::MAX_LINE_BYTES);
    for (command, arguments) in [
        ("do nothing", json!({ "n": 1 })),
        ("do calc", json!({ "n": "many" })),
        ("do calc", json!({ "m": 1, "workspace": "/" })),
        (hostile_name.as_str(), json!({})),
        ("do calc", json!({ "n": huge })),
    ] {
        let arguments = arguments.as_object().cloned().unwrap_or_default();
        let outcome = cli.call(&cnv_cli::AgentCall::new(command, &arguments));
        assert!(
            matches!(
                outcome,
                cnv_cli::CallOutcome::UnknownCommand { .. }
                    | cnv_cli::CallOutcome::InvalidArguments { .. }
            ),
            "{outcome:?}"
        );
    }
    // Cancelled before it reached the gate.
    let cancel = cnv_cli::CancelToken::new();
    cancel.cancel();
    let arguments = json!({ "n": 2 }).as_object().cloned().unwrap_or_default();
    let outcome = cli.call(&cnv_cli::AgentCall::new("do calc", &arguments).with_cancel(cancel));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Cancelled { .. }),
        "{outcome:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing ran");

    let entries = sink.entries();
    assert_eq!(entries.len(), 6, "one entry a refusal: {entries:#?}");
    for entry in &entries {
        assert_eq!(entry.event, AuditEvent::Finish);
        assert_eq!(entry.outcome, Verdict::Denied);
        assert_eq!(entry.mode, cnv_typestate::RunMode::Autonomous);
        let call = entry.call.as_ref().expect("the call as it was asked for");
        assert_eq!(call.origin, CallOrigin::Program);
        assert!(
            call.command.len() <= 256 + '…'.len_utf8(),
            "{}",
            call.command
        );
    }
    let statuses: Vec<&str> = entries
        .iter()
        .map(|e| e.result.as_ref().map_or("none", CallResult::status))
        .collect();
    assert_eq!(
        statuses,
        [
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "cancelled"
        ]
    );
    let calls: Vec<&cnv_audit::CallRecord> =
        entries.iter().filter_map(|e| e.call.as_ref()).collect();
    assert_eq!(calls[0].command, "do nothing");
    assert_eq!(calls[0].args["n"], 1);
    assert_eq!(
        calls[2].args["workspace"], "/",
        "the arguments as the agent sent them"
    );
    assert!(calls[3].command.ends_with('…'), "a hostile name is cut");
    assert!(
        calls[4].args.is_empty(),
        "arguments too long for a line are left out"
    );
    let detail = |i: usize| entries[i].detail.clone().unwrap_or_default();
    assert!(
        detail(0).contains("unknown command `do nothing`"),
        "{}",
        detail(0)
    );
    assert!(detail(1).contains("invalid value 'many'"), "{}", detail(1));
    assert!(detail(2).contains("takes no argument"), "{}", detail(2));
    assert!(detail(4).contains("too long to record"), "{}", detail(4));
    assert!(
        detail(5).contains("before it reached the gate"),
        "{}",
        detail(5)
    );
}

#[test]
fn a_verb_without_a_handler_fails_when_called_and_help_still_works() {
    // A grammar made at run time, with one of its verbs bound: the command line builds.
    let cli: Cli = CliBuilder::from_model(grammar())
        .handler::<Pure, _>("do calc", |_: &Invocation<'_, Pure>| Ok(Output::text("ok")))
        .build()
        .expect("the handlers bound are sound");
    let unbound = cli.unbound();
    assert!(unbound.contains(&"do read".to_owned()), "{unbound:?}");
    assert!(!unbound.contains(&"do calc".to_owned()), "{unbound:?}");
    for args in [
        &["--help"][..],
        &["do", "--help"],
        &["do", "read", "--help"],
    ] {
        let out = run(&cli, args);
        assert_eq!(out.exit, Exit::Success, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout.contains("Usage: tool"),
            "{args:?}: {}",
            out.stdout
        );
    }
    let out = run(&cli, &["--grammar"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert!(out.stdout.contains(r#""name": "read""#), "{}", out.stdout);
    // Only calling it fails: before the gate, saying why.
    let out = run(&cli, &["--agent", "do", "read"]);
    assert_eq!(out.exit, Exit::Failed, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`do read` has no handler: the program declares it but bound none to it"),
        "{}",
        out.stderr
    );
    let out = run(&cli, &["do", "calc", "1"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
}

/// The person at an agent's client, as a front end reaches them (an MCP client's
/// elicitation): answers each request with the next planned answer, after `delay`, and
/// keeps what each request showed.
#[derive(Debug)]
struct Person {
    answers: std::sync::Mutex<Vec<Result<String, cnv_cli::ApprovalError>>>,
    shown: std::sync::Mutex<Vec<String>>,
    delay: std::time::Duration,
}

impl Person {
    fn answering(answers: Vec<Result<&str, cnv_cli::ApprovalError>>) -> Self {
        Self {
            answers: std::sync::Mutex::new(
                answers
                    .into_iter()
                    .rev()
                    .map(|answer| answer.map(str::to_owned))
                    .collect(),
            ),
            shown: std::sync::Mutex::new(Vec::new()),
            delay: std::time::Duration::ZERO,
        }
    }

    fn asked(&self) -> usize {
        self.shown.lock().expect("shown").len()
    }
}

impl cnv_cli::Supervisor for Person {
    fn ask(
        &self,
        request: &cnv_cli::ApprovalRequest<'_>,
    ) -> Result<String, cnv_cli::ApprovalError> {
        self.shown.lock().expect("shown").push(request.to_string());
        std::thread::sleep(self.delay);
        self.answers
            .lock()
            .expect("answers")
            .pop()
            .expect("a question the test planned")
    }
}

fn supervised_call(
    cli: &Cli,
    person: &Person,
    command: &str,
    arguments: Value,
) -> cnv_cli::CallOutcome {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    cli.call(&cnv_cli::AgentCall::new(command, &arguments).with_supervisor(person))
}

#[test]
fn a_supervised_call_asks_the_person_what_human_mode_needs_and_records_the_answer() {
    let sink = Arc::new(cnv_audit::MemorySink::new());
    let (cli, ran) = cli_and(|b| b.audit_sink(sink.clone()));
    let why = "the user asked to start over from an empty workspace, twice";
    let person = Person::answering(vec![
        Ok("ReadWriteFS"),
        Err(cnv_cli::ApprovalError::Declined),
        Ok("yes"),
        Ok("Dangerous"),
        Ok("Subprocess"),
    ]);

    let outcome = supervised_call(&cli, &person, "do calc", serde_json::json!({ "n": 2 }));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    assert_eq!(person.asked(), 0, "an agent-safe call asks nobody");

    // Confirmed: no justification needed in human mode; the person's answer is recorded
    // with the verification.
    let outcome = supervised_call(&cli, &person, "do write", serde_json::json!({}));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    let shown = person.shown.lock().expect("shown")[0].clone();
    assert!(
        shown.contains("tool do write") && shown.contains("`ReadWriteFS`"),
        "{shown}"
    );
    let verified = sink
        .entries()
        .into_iter()
        .find(|entry| entry.event == cnv_audit::AuditEvent::Verify && entry.approval.is_some())
        .expect("the confirmed verification");
    assert_eq!(verified.mode, cnv_typestate::RunMode::Supervised);
    assert_eq!(verified.rule, Some(cnv_typestate::Rule::HumanConfirmation));
    assert!(
        verified.approval.as_deref().is_some_and(|approval| approval
            .starts_with("approved by the person at the client, through elicitation")),
        "{verified:?}"
    );

    for answered in ["declined", "not approved (the answer was \"yes\""] {
        let before = ran.load(Ordering::SeqCst);
        match supervised_call(&cli, &person, "do write", serde_json::json!({})) {
            cnv_cli::CallOutcome::Refused(refusal) => {
                assert_eq!(refusal.rule, cnv_typestate::Rule::HumanConfirmation);
                assert!(refusal.hint.contains("did not approve"), "{}", refusal.hint);
            }
            other => panic!("refused when the person answered {answered}: {other:?}"),
        }
        assert_eq!(ran.load(Ordering::SeqCst), before, "nothing ran");
        let denial = sink
            .entries()
            .into_iter()
            .rev()
            .find(|entry| entry.outcome == cnv_audit::Verdict::Denied && entry.approval.is_some())
            .expect("the denial, with the person's answer");
        assert!(
            denial
                .approval
                .as_deref()
                .is_some_and(|a| a.starts_with(answered)),
            "{denial:?}"
        );
    }

    // `Dangerous`: the justification first (nobody is asked about a short one), then the
    // person's approval, recorded on the escalation.
    let asked = person.asked();
    let outcome = supervised_call(
        &cli,
        &person,
        "do wipe",
        serde_json::json!({ "justification": "tidy" }),
    );
    assert!(
        matches!(&outcome, cnv_cli::CallOutcome::Refused(refusal) if refusal.rule == cnv_typestate::Rule::MinJustification),
        "{outcome:?}"
    );
    assert_eq!(person.asked(), asked);
    let outcome = supervised_call(
        &cli,
        &person,
        "do wipe",
        serde_json::json!({ "justification": why }),
    );
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    let escalated = sink
        .entries()
        .into_iter()
        .find(|entry| {
            entry.to == Some(CapabilityClass::Dangerous)
                && entry.outcome == cnv_audit::Verdict::Allowed
                && entry.event == cnv_audit::AuditEvent::Escalate
        })
        .expect("the approved escalation");
    assert_eq!(escalated.rule, Some(cnv_typestate::Rule::HumanApproval));
    assert!(
        escalated
            .approval
            .as_deref()
            .is_some_and(|a| a.contains("through elicitation"))
    );

    // Interactive only: a person at the client confirms it as at a terminal.
    let outcome = supervised_call(&cli, &person, "do spawn", serde_json::json!({}));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    assert!(
        person.answers.lock().expect("answers").is_empty(),
        "every answer was asked for"
    );
}

#[test]
fn agent_mode_set_by_the_operator_wins_over_a_person_at_the_client() {
    let (cli, ran) = cli_and(|b| b.agent_mode(cnv_cli::AgentMode::Always));
    let person = Person::answering(vec![]);
    match supervised_call(
        &cli,
        &person,
        "do wipe",
        serde_json::json!({ "justification": "the user asked to start over from an empty workspace, twice" }),
    ) {
        cnv_cli::CallOutcome::Refused(refusal) => {
            assert_eq!(refusal.rule, cnv_typestate::Rule::DangerousNeverAutonomous);
        }
        other => panic!("refused in agent mode: {other:?}"),
    }
    assert_eq!(person.asked(), 0, "nobody is asked in agent mode");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn the_time_a_person_takes_to_answer_is_not_counted_in_the_verb_s_band() {
    let (cli, ran) = cli();
    let band = grammar()
        .find(&["do", "write"])
        .expect("the verb")
        .contract()
        .band()
        .max_runtime()
        .expect("a bounded band");
    let person = Person {
        delay: band + std::time::Duration::from_millis(300),
        ..Person::answering(vec![Ok("ReadWriteFS")])
    };
    let outcome = supervised_call(&cli, &person, "do write", serde_json::json!({}));
    assert!(
        matches!(outcome, cnv_cli::CallOutcome::Ran(_)),
        "{outcome:?}"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}
