//! The command line made from a grammar, measured beside what a developer would write by
//! hand with clap.
//!
//! * `cli/build` — turning a grammar of 10, 100 or 1,000 verbs (each with a positional
//!   argument and a named one with a default) into a ready command line: cnv validates
//!   the grammar, checks every binding and builds the `clap::Command`; the peer builds
//!   the same `clap::Command` (tree, arguments and the same global flags) by hand from
//!   the same names. Both are built once (`Command::build`), ready to parse.
//! * `cli/dispatch` — one call of an agent-safe verb in a 100-verb grammar: cnv parses
//!   with clap, creates and verifies an audited type-state session and runs the handler;
//!   the peer parses with an equivalent clap command and calls the function. Both keep
//!   one built command and parse with it. cnv runs twice: with a typed handler (the
//!   verb's generated arguments struct, parsed into its types by clap) and with a
//!   handler that reads its arguments by name (`call.value("count")`, parsed by the
//!   handler); the two differ only in how the arguments are read. Both run with the
//!   sandbox off (`CliBuilder::without_sandbox`), to compare the gate with clap; a third
//!   row runs the by-name handler on a worker thread the sandbox confines to the verb's
//!   class, taken from the command line's pool: what a program that embeds cnv without
//!   entering through `Cli::run` gets (the bench's own process cannot start workers of
//!   itself).
//! * `cli/process` — a whole command-line call, from the process's start to its exit: the
//!   `cli-process` program runs `calc sum 1 2 3` (`Pure`) and `file read` of a small file
//!   (`ReadOnlyFS`) with its handler in a confined worker process, as every program made
//!   with cnv does, beside the same program with the sandbox off (`without_sandbox`: the
//!   handler in the command line's process), the peer. Criterion measures one after the
//!   other, so before the group the bench also runs them interleaved (rounds of 20 calls
//!   to each in turn, 15 rounds) and prints each one's median time per call and their
//!   ratio: the figure to trust on a shared machine.

use std::hint::black_box;

use clap::{Arg, ArgAction, Command};
use cnv::cli::Console;
use cnv::prelude::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const NOUN_SIZE: usize = 10;

// The grammar of `model(100)`, declared with the macro in item form, for typed handlers.
grammar_dsl! {
    static TYPED = app "bench" version "1.0.0" {
        noun "noun0" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun1" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun2" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun3" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun4" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun5" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun6" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun7" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun8" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
        noun "noun9" help "A noun" {
            verb "verb0" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb1" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb2" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb3" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb4" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb5" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb6" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb7" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb8" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
            verb "verb9" { capability: Pure, resource: Instant, help: "A verb", args: [path: String "A path", --count: u64 = 1 "A count"] }
        }
    }
}

fn typed_handler(args: noun5::Verb5) -> Result<Output, HandlerError> {
    black_box(&args.path);
    Ok(Output::text(args.count.to_string()))
}

fn model(verbs: usize) -> GrammarModel {
    let mut model = GrammarModel::new("bench").with_version("1.0.0");
    for n in 0..verbs.div_ceil(NOUN_SIZE) {
        let mut noun = GrammarNoun::new(format!("noun{n}"), "A noun");
        for v in 0..NOUN_SIZE.min(verbs - n * NOUN_SIZE) {
            noun.add_verb(
                GrammarVerb::new(format!("verb{v}"), "A verb", CapabilityContract::pure())
                    .with_arg(GrammarArgument::positional("path", "String", "A path"))
                    .with_arg(GrammarArgument::named("count", "u64", "A count").with_default("1")),
            );
        }
        model.add_noun(noun);
    }
    model
}

fn handler(call: &Invocation<'_, Pure>) -> Result<Output, HandlerError> {
    let path: String = call.value("path")?;
    black_box(&path);
    let count: u64 = call.value("count")?;
    Ok(Output::text(count.to_string()))
}

fn cnv_cli(model: &GrammarModel, sandbox: bool) -> Cli {
    let mut builder = CliBuilder::from_model(model.clone());
    if !sandbox {
        builder = builder.without_sandbox();
    }
    for (path, verb) in model.verbs() {
        let command = format!(
            "{} {}",
            path.names().collect::<Vec<_>>().join(" "),
            verb.name()
        );
        builder = builder.handler::<Pure, _>(&command, handler);
    }
    builder.build().expect("a valid grammar")
}

/// The same command line written against clap directly: the same tree and arguments,
/// and the same flags (the gate's five global ones, four for introspection), built once
/// as cnv builds its own.
fn by_hand(model: &GrammarModel) -> Command {
    let flag = |id: &'static str, global: bool| {
        Arg::new(id)
            .long(id)
            .help("A flag")
            .action(ArgAction::SetTrue)
            .global(global)
    };
    let option = |id: &'static str, global: bool| {
        Arg::new(id)
            .long(id)
            .help("An option")
            .action(ArgAction::Set)
            .global(global)
    };
    let mut root = Command::new("bench").version("1.0.0").args([
        flag("agent", true),
        option("justify", true),
        flag("yes", true),
        option("format", true).default_value("text"),
        option("audit-log", true),
        flag("grammar", false),
        flag("mcp-tools", false),
        flag("capabilities", false),
        option("completions", false),
    ]);
    for noun in model.nouns() {
        let mut sub = Command::new(noun.name().to_owned()).about("A noun");
        for verb in noun.verbs() {
            sub = sub.subcommand(
                Command::new(verb.name().to_owned())
                    .about("A verb")
                    .arg(Arg::new("path").help("A path").required(true))
                    .arg(
                        Arg::new("count")
                            .long("count")
                            .help("A count")
                            .value_parser(clap::value_parser!(u64))
                            .default_value("1")
                            .action(ArgAction::Set),
                    ),
            );
        }
        root = root.subcommand(sub);
    }
    root.build();
    root
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("cli/build");
    for verbs in [10, 100, 1_000] {
        let model = model(verbs);
        group.bench_with_input(
            BenchmarkId::new("cnv CliBuilder::build", verbs),
            &model,
            |b, m| {
                b.iter_batched(
                    || {
                        let mut builder = CliBuilder::from_model(m.clone());
                        for (path, verb) in m.verbs() {
                            let command = format!(
                                "{} {}",
                                path.names().collect::<Vec<_>>().join(" "),
                                verb.name()
                            );
                            builder = builder.handler::<Pure, _>(&command, handler);
                        }
                        builder
                    },
                    |builder| black_box(builder.build().expect("valid")),
                    criterion::BatchSize::LargeInput,
                );
            },
        );
        group.bench_with_input(BenchmarkId::new("clap by hand", verbs), &model, |b, m| {
            b.iter(|| black_box(by_hand(m)));
        });
    }
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("cli/dispatch");
    let model = model(100);
    let cli = cnv_cli(&model, true);
    let unconfined = cnv_cli(&model, false);
    let argv = ["bench", "noun5", "verb5", "file.txt", "--count", "3"];
    group.bench_function(
        "cnv Cli::run_in, sandbox off (parse, gate, audit, handler)",
        |b| {
            b.iter(|| {
                let (mut out, mut err) = (Vec::new(), Vec::new());
                let exit =
                    unconfined.run_in(black_box(argv), &mut Console::for_tests(&mut out, &mut err));
                assert_eq!(exit, Exit::Success);
                black_box(out)
            });
        },
    );
    group.bench_function(
        "cnv Cli::run_in (parse, gate, audit, confined thread, handler)",
        |b| {
            b.iter(|| {
                let (mut out, mut err) = (Vec::new(), Vec::new());
                let exit = cli.run_in(black_box(argv), &mut Console::for_tests(&mut out, &mut err));
                assert_eq!(exit, Exit::Success);
                black_box(out)
            });
        },
    );
    // The same call with a typed handler; every other verb reads by name, as above (bound
    // by name, the builder's handlers are checked when it is built).
    let commands: Vec<String> = TYPED
        .verbs()
        .map(|(path, verb)| path.command(verb))
        .filter(|command| command != "noun5 verb5")
        .collect();
    let mut builder = Cli::builder(&TYPED)
        .without_sandbox()
        .handler::<Pure, _>(&commands[0], handler);
    for command in &commands[1..] {
        builder = builder.handler::<Pure, _>(command, handler);
    }
    let typed = builder
        .bind(typed_handler)
        .build()
        .expect("a valid grammar");
    group.bench_function("cnv Cli::run_in, sandbox off, typed handler", |b| {
        b.iter(|| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let exit = typed.run_in(black_box(argv), &mut Console::for_tests(&mut out, &mut err));
            assert_eq!(exit, Exit::Success);
            black_box(out)
        });
    });
    // Like cnv, the peer keeps one built command and parses with it (no clone per call).
    let mut command = by_hand(&model);
    group.bench_function("clap by hand (parse, call)", |b| {
        b.iter(|| {
            let matches = command
                .try_get_matches_from_mut(black_box(argv))
                .expect("valid");
            let (_, noun) = matches.subcommand().expect("noun");
            let (_, verb) = noun.subcommand().expect("verb");
            black_box(verb.get_one::<String>("path").expect("given"));
            let count = *verb.get_one::<u64>("count").expect("default");
            let mut out = Vec::new();
            out.extend_from_slice(count.to_string().as_bytes());
            out.push(b'\n');
            black_box(out)
        });
    });
    group.finish();
}

/// The `cli-process` program, which cargo builds for the benches.
const CLI_PROCESS: &str = env!("CARGO_BIN_EXE_cli-process");

fn process(c: &mut Criterion) {
    let workspace = std::env::temp_dir().join(format!("cnv-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&workspace).expect("a workspace");
    std::fs::write(workspace.join("notes.txt"), "a note\n").expect("a file");
    let run = |args: &[&str], bare: bool| {
        let mut command = std::process::Command::new(CLI_PROCESS);
        command
            .args(args)
            .env("CNV_WORKSPACE", &workspace)
            .env_remove("CNV_AGENT")
            .env_remove("CNV_AUDIT_LOG")
            .stdin(std::process::Stdio::null());
        if bare {
            command.env("BENCH_BARE", "1");
        }
        let out = command.output().expect("cli-process runs");
        assert!(
            out.status.success(),
            "cli-process {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        black_box(out.stdout)
    };
    for (name, args) in [
        ("Pure", &["calc", "sum", "1", "2", "3"][..]),
        ("ReadOnlyFS", &["file", "read", "notes.txt"][..]),
    ] {
        const ROUNDS: usize = 15;
        const CALLS: u32 = 20;
        let mut sandboxed = Vec::with_capacity(ROUNDS);
        let mut bare = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            for (bare_run, times) in [(false, &mut sandboxed), (true, &mut bare)] {
                let started = std::time::Instant::now();
                for _ in 0..CALLS {
                    run(args, bare_run);
                }
                times.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS));
            }
        }
        let median = |times: &mut Vec<f64>| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        };
        let (sandboxed, bare) = (median(&mut sandboxed), median(&mut bare));
        println!(
            "cli/process interleaved ({name}, median of {ROUNDS} rounds of {CALLS} calls): sandboxed {sandboxed:.1} µs, bare {bare:.1} µs: {:.2}×",
            sandboxed / bare
        );
    }
    let mut group = c.benchmark_group("cli/process");
    group.sample_size(30);
    for (name, args) in [
        ("Pure", &["calc", "sum", "1", "2", "3"][..]),
        ("ReadOnlyFS", &["file", "read", "notes.txt"][..]),
    ] {
        group.bench_with_input(
            BenchmarkId::new("cnv, its handler in a confined worker process", name),
            &args,
            |b, args| b.iter(|| run(args, false)),
        );
        group.bench_with_input(
            BenchmarkId::new("cnv without the sandbox (handler in process)", name),
            &args,
            |b, args| b.iter(|| run(args, true)),
        );
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&workspace);
}

criterion_group!(benches, build, dispatch, process);
criterion_main!(benches);
