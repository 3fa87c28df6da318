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
            .contains("invalid value 'nowhere' for '--peer <peer>': invalid socket address syntax"),
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
