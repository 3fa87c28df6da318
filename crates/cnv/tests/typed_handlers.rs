//! Typed handlers: every argument form the DSL accepts arrives as a field of its declared
//! type, for nested nouns too, from a grammar declared in another module; clap refuses a
//! value the type cannot parse before anything runs; and a command line built from
//! another grammar than the handler's arguments is refused when it is built.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cnv::cli::BuildError;
use cnv::prelude::*;

/// The grammar lives in its own module, as a program's usually does.
mod grammar {
    use std::net::SocketAddr;
    use std::path::PathBuf;

    use cnv::prelude::*;

    grammar_dsl! {
        /// Every argument form, and a nested noun.
        pub(crate) static GRAMMAR = app "forms" version "1.0.0" {
            noun "file" help "Files" {
                verb "copy" {
                    capability: ReadWriteFS, resource: Fast, help: "Copy files",
                    args: [
                        to: PathBuf "Where to",
                        from: Vec<PathBuf> "What",
                        -n --count: u32 = 3 "How many copies",
                        --label: Option<String> "A label",
                        -t --tag: Vec<String> "Tags",
                        -f --force: bool "Overwrite",
                        --peer: Option<SocketAddr> "Tell this peer",
                    ],
                }
            }
            noun "cloud" help "The cloud" {
                noun "bucket" help "Buckets" {
                    verb "list" {
                        capability: Pure, resource: Instant, help: "List buckets",
                        args: [prefix: Option<String> "Only these", --max-keys: u64 = 1000 "At most"],
                    }
                }
            }
        }
    }
}

use grammar::{GRAMMAR, cloud, file};

struct Run {
    exit: Exit,
    stdout: String,
    stderr: String,
}

fn run(cli: &Cli, args: &[&str]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut console = Console::for_tests(&mut out, &mut err);
    let mut argv = vec!["forms"];
    argv.extend_from_slice(args);
    let exit = cli.run_in(argv, &mut console);
    drop(console);
    Run {
        exit,
        stdout: String::from_utf8(out).expect("UTF-8"),
        stderr: String::from_utf8(err).expect("UTF-8"),
    }
}

fn copy(call: &Invocation<'_, ReadWriteFS>, args: file::Copy) -> Result<Output, HandlerError> {
    let file::Copy {
        to,
        from,
        count,
        label,
        tag,
        force,
        peer,
    } = args;
    let to: PathBuf = to;
    Ok(Output::text(format!(
        "{} to={} from={from:?} count={count} label={label:?} tag={tag:?} force={force} peer={peer:?}",
        call.command(),
        to.display()
    )))
}

fn list(args: cloud::bucket::List) -> Result<Output, HandlerError> {
    Ok(Output::text(format!(
        "prefix={:?} max_keys={}",
        args.prefix, args.max_keys
    )))
}

fn cli() -> (Cli, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let cli = Cli::builder(&GRAMMAR)
        .bind(
            move |call: &Invocation<'_, ReadWriteFS>, args: file::Copy| {
                counted.fetch_add(1, Ordering::SeqCst);
                copy(call, args)
            },
        )
        .bind(list)
        .build()
        .expect("every verb has a typed handler");
    (cli, runs)
}

#[test]
fn every_argument_form_arrives_typed() {
    let (cli, runs) = cli();
    let out = run(
        &cli,
        &[
            "file",
            "copy",
            "dest",
            "a",
            "b",
            "-n",
            "7",
            "--label",
            "x",
            "-t",
            "one",
            "--tag",
            "two",
            "-f",
            "--peer",
            "127.0.0.1:9",
            "--yes",
        ],
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim_end(),
        r#"file copy to=dest from=["a", "b"] count=7 label=Some("x") tag=["one", "two"] force=true peer=Some(127.0.0.1:9)"#
    );
    // Defaults, absent options, empty lists and an unset switch.
    let out = run(&cli, &["file", "copy", "dest", "--yes"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim_end(),
        "file copy to=dest from=[] count=3 label=None tag=[] force=false peer=None"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn nested_nouns_have_nested_modules() {
    let (cli, _) = cli();
    let out = run(&cli, &["cloud", "bucket", "list"]);
    assert_eq!(out.stdout.trim_end(), "prefix=None max_keys=1000");
    let out = run(
        &cli,
        &["cloud", "bucket", "list", "logs/", "--max-keys", "5"],
    );
    assert_eq!(out.stdout.trim_end(), r#"prefix=Some("logs/") max_keys=5"#);
}

#[test]
fn a_value_the_type_refuses_is_a_usage_error_before_anything_runs() {
    let (cli, runs) = cli();
    // `SocketAddr` is parsed by clap with its own `FromStr`: the gate and the handler are
    // never reached.
    let out = run(
        &cli,
        &["--agent", "file", "copy", "dest", "--peer", "nowhere"],
    );
    assert_eq!(out.exit, Exit::Usage);
    assert!(
        out.stderr
            .contains("invalid value 'nowhere' for '--peer <PEER>': invalid socket address syntax"),
        "{}",
        out.stderr
    );
    let out = run(&cli, &["file", "copy", "dest", "-n", "-1", "--yes"]);
    assert_eq!(out.exit, Exit::Usage, "{}", out.stderr);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[test]
fn the_gate_still_decides_typed_handlers() {
    let (cli, runs) = cli();
    let out = run(&cli, &["--agent", "file", "copy", "dest"]);
    assert_eq!(out.exit, Exit::Denied);
    assert!(
        out.stderr.contains("rule `min_justification`"),
        "{}",
        out.stderr
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let out = run(
        &cli,
        &[
            "--agent",
            "file",
            "copy",
            "dest",
            "--justify",
            "keep a second copy of the report",
        ],
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A grammar whose `file copy` has other arguments than the typed handler's struct.
fn other_grammar() -> GrammarModel {
    GrammarModel::new("forms").with_noun(
        GrammarNoun::new("file", "Files").with_verb(
            GrammarVerb::new("copy", "Copy", CapabilityContract::read_write())
                .with_arg(GrammarArgument::positional("source", "String", "From")),
        ),
    )
}

#[test]
fn a_command_line_from_another_grammar_is_refused_when_built() {
    let Err(errors) = CliBuilder::from_model(other_grammar()).bind(copy).build() else {
        panic!("the struct's arguments are not this grammar's");
    };
    assert!(
        matches!(errors.errors(), [BuildError::ForeignGrammar { command, declared, taken: Some(taken) }]
            if command == "file copy" && declared == "source" && taken.starts_with("to, from")),
        "{errors}"
    );
    // A typed handler for a verb this grammar does not have at all.
    let Err(errors) = CliBuilder::from_model(other_grammar())
        .bind(list)
        .handler::<ReadWriteFS, _>("file copy", |_: &Invocation<'_, ReadWriteFS>| {
            Ok(Output::none())
        })
        .build()
    else {
        panic!("`cloud bucket list` is not in this grammar");
    };
    assert!(
        matches!(errors.errors(), [BuildError::UnknownVerb { command, .. }] if command == "cloud bucket list"),
        "{errors}"
    );
}

#[test]
fn the_generated_structs_can_be_built_to_call_a_handler_directly() {
    let out = list(cloud::bucket::List {
        prefix: Some("a".to_owned()),
        max_keys: 2,
    })
    .expect("runs");
    assert_eq!(out.as_text(), r#"prefix=Some("a") max_keys=2"#);
    assert_eq!(<file::Copy as cnv::cli::VerbArgs>::COMMAND, "file copy");
    assert_eq!(
        <file::Copy as cnv::cli::VerbArgs>::ARGS,
        ["to", "from", "count", "label", "tag", "force", "peer"]
    );
}

/// What a release helper coming from clap reached for: a counted switch, a global for MCP, a set
/// of arguments used by two verbs, defaults from constants, a range, a value name, aliases,
/// a conflict, a requirement, a group, a hidden switch, a title, a tool name and an output
/// type.
mod release {
    use cnv::prelude::*;

    pub(crate) const DEFAULT_RETRIES: u32 = 3;
    pub(crate) const DEFAULT_CHANNEL: &str = "stable";

    /// What `rel publish` returns.
    pub(crate) struct Published;

    impl OutputSchema for Published {
        const SCHEMA: &'static str =
            r#"{"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}"#;
    }

    grammar_dsl! {
        pub(crate) static GRAMMAR = app "release" version "1.0.0" {
            args: [
                -v --verbose: u8 count "Say more (-vv: even more)",
                --profile: String = "default" mcp "Which profile",
            ],
            sets: [
                target: [
                    --channel: String = DEFAULT_CHANNEL in ["stable", "beta"] "Where to release",
                    --dry-run: bool env "RELEASE_DRY_RUN" "Only say what would happen",
                ],
            ],
            noun "rel" help "Releases" {
                verb "publish" {
                    capability: Network, resource: Slow, help: "Publish the release",
                    title: "Publish a release", mcp_name: "publish", output: Published,
                    aliases: ["ship"],
                    args: [
                        --retries: u32 = DEFAULT_RETRIES range 1..=10 value_name "TIMES" alias "tries" "How many times to try",
                        --json: bool conflicts_with [yaml] "Answer in JSON",
                        --yaml: bool "Answer in YAML",
                        --sign: bool requires [key] "Sign it",
                        --key: Option<String> "The signing key",
                        --trace: bool hidden "Trace everything",
                        ..target,
                    ],
                    groups: [output: [json, yaml] required],
                }
                verb "show-notes" {
                    capability: Pure, resource: Instant, help: "Show the release notes",
                    args: [..target],
                }
            }
        }
    }
}

fn publish(
    call: &Invocation<'_, Network>,
    args: release::rel::Publish,
) -> Result<Output, HandlerError> {
    let release::rel::Publish {
        retries,
        json,
        yaml,
        sign,
        key,
        trace,
        channel,
        dry_run,
        verbose,
        profile,
    } = args;
    let verbose: u8 = verbose;
    Ok(Output::text(format!(
        "{} retries={retries} json={json} yaml={yaml} sign={sign} key={key:?} trace={trace} channel={channel} dry_run={dry_run} verbose={verbose} profile={profile}",
        call.command()
    )))
}

fn show_notes(args: release::rel::ShowNotes) -> Result<Output, HandlerError> {
    Ok(Output::text(format!("{} {}", args.channel, args.dry_run)))
}

fn release_cli() -> Cli {
    // Every verb bound, so `build` is there: the compiler checked that none is missing.
    Cli::builder(&release::GRAMMAR)
        .bind(publish)
        .bind(show_notes)
        .build()
        .expect("a sound grammar")
}

fn release_run(cli: &Cli, args: &[&str]) -> Run {
    release_run_with(cli, args, &[])
}

fn release_run_with(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut console = Console::for_tests(&mut out, &mut err);
    for (name, value) in env {
        console = console.with_env(*name, *value);
    }
    let mut argv = vec!["release"];
    argv.extend_from_slice(args);
    let exit = cli.run_in(argv, &mut console);
    drop(console);
    Run {
        exit,
        stdout: String::from_utf8(out).expect("UTF-8"),
        stderr: String::from_utf8(err).expect("UTF-8"),
    }
}

#[test]
fn clap_attributes_of_the_grammar_arrive_typed() {
    let cli = release_cli();
    let out = release_run(
        &cli,
        &[
            "-vv",
            "rel",
            "ship",
            "--tries",
            "5",
            "--json",
            "--channel",
            "beta",
            "--dry-run",
            "--trace",
            "--yes",
        ],
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim_end(),
        "rel publish retries=5 json=true yaml=false sign=false key=None trace=true channel=beta dry_run=true verbose=2 profile=default"
    );
    // Defaults from the constants, a count of 0.
    let out = release_run(&cli, &["rel", "publish", "--yaml", "--yes"]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    assert!(out.stdout.contains("retries=3 "), "{}", out.stdout);
    assert!(out.stdout.contains("channel=stable "), "{}", out.stdout);
    assert!(out.stdout.contains("verbose=0 "), "{}", out.stdout);
    let out = release_run(&cli, &["rel", "show-notes", "--channel", "beta"]);
    assert_eq!(out.stdout.trim_end(), "beta false", "{}", out.stderr);
    // A switch read from a variable: `true` or `false`, as clap reads a flag's.
    let out = release_run_with(&cli, &["rel", "show-notes"], &[("RELEASE_DRY_RUN", "true")]);
    assert_eq!(out.stdout.trim_end(), "stable true", "{}", out.stderr);
    let out = release_run_with(
        &cli,
        &["rel", "show-notes"],
        &[("RELEASE_DRY_RUN", "false")],
    );
    assert_eq!(out.stdout.trim_end(), "stable false", "{}", out.stderr);
}

#[test]
fn clap_attributes_refuse_before_anything_runs() {
    let cli = release_cli();
    for (args, expected) in [
        (
            &["rel", "publish", "--json", "--retries", "11"][..],
            "11 is not in 1..=10",
        ),
        (
            &["rel", "publish", "--json", "--yaml"][..],
            "cannot be used with",
        ),
        (&["rel", "publish", "--json", "--sign"][..], "--key <KEY>"),
        (&["rel", "publish"][..], "<--json|--yaml>"),
        (
            &["rel", "publish", "--json", "--channel", "nightly"][..],
            "[possible values: stable, beta]",
        ),
    ] {
        let out = release_run(&cli, args);
        assert_eq!(out.exit, Exit::Usage, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn clap_attributes_reach_help_the_grammar_json_and_the_mcp_tools() {
    let cli = release_cli();
    let help = release_run(&cli, &["rel", "publish", "--help"]).stdout;
    for expected in [
        "--retries <TIMES>",
        "[range: 1..=10]",
        "[default: 3]",
        "[alias: --tries]",
        "--key <KEY>",
        "-v, --verbose...",
        "--channel <CHANNEL>",
    ] {
        assert!(help.contains(expected), "{expected}\n{help}");
    }
    assert!(!help.contains("--trace"), "{help}");
    // The verb's options, then the program's, then the gate's.
    let (global, gate) = (help.find("Global options:"), help.find("Gate options:"));
    assert!(
        matches!((global, gate), (Some(global), Some(gate)) if help.find("Options:") < Some(global) && global < gate),
        "{help}"
    );
    let noun_help = release_run(&cli, &["rel", "--help"]).stdout;
    assert!(
        noun_help.contains("[aliases: ship]") || noun_help.contains("[alias: ship]"),
        "{noun_help}"
    );

    let grammar: serde_json::Value =
        serde_json::from_str(&release_run(&cli, &["--grammar"]).stdout).expect("JSON");
    let publish = &grammar["nouns"][0]["verbs"][0];
    assert_eq!(publish["title"], "Publish a release");
    assert_eq!(publish["mcp_name"], "publish");
    assert_eq!(publish["aliases"], serde_json::json!(["ship"]));
    assert_eq!(
        publish["output_schema"]["required"],
        serde_json::json!(["url"])
    );
    assert_eq!(publish["args"][0]["default"], "3");
    assert_eq!(
        publish["args"][0]["range"],
        serde_json::json!({"min": 1, "max": 10})
    );
    assert_eq!(publish["args"][6]["name"], "channel");
    assert_eq!(publish["args"][6]["default"], "stable");
    assert_eq!(grammar["args"][0]["counted"], true);

    let tools: serde_json::Value = cli.mcp_tools();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["publish", "rel_show_notes"]);
    let publish = &tools["tools"][0];
    assert_eq!(publish["title"], "Publish a release");
    assert_eq!(publish["outputSchema"]["type"], "object");
    let properties = &publish["inputSchema"]["properties"];
    assert_eq!(properties["retries"]["minimum"], 1);
    assert_eq!(properties["retries"]["maximum"], 10);
    assert_eq!(properties["retries"]["default"], 3);
    assert!(properties.get("trace").is_none(), "hidden: {properties}");
    assert!(
        properties.get("verbose").is_none(),
        "not for MCP: {properties}"
    );
    assert_eq!(properties["profile"]["default"], "default");
    assert_eq!(
        publish["inputSchema"]["dependentRequired"],
        serde_json::json!({"sign": ["key"]})
    );
}
