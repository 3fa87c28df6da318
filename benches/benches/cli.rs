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
//!   row runs the by-name handler as a command line does, on a worker thread the sandbox
//!   confines to the verb's class, taken from the command line's pool (the first call
//!   starts it; the sandbox's own cost per process is `sandbox/`).

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
    // The same call with a typed handler; every other verb reads by name, as above.
    let mut builder = Cli::builder(&TYPED).without_sandbox().bind(typed_handler);
    for (path, verb) in TYPED.verbs() {
        let command = path.command(verb);
        if command != "noun5 verb5" {
            builder = builder.handler::<Pure, _>(&command, handler);
        }
    }
    let typed = builder.build().expect("a valid grammar");
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

criterion_group!(benches, build, dispatch);
criterion_main!(benches);
