//! The grammar DSL: what the macro costs at compile time, and what the model costs at
//! run time.
//!
//! * `grammar/expand` — the whole macro (parse, validate, expand) on grammars of 10, 100
//!   and 1,000 verbs, called as a function on token streams (what the compiler runs).
//!   Peers: parsing and validating alone, and cloning the input (the floor: the macro
//!   owns its input).
//! * `grammar/build` — getting a 12-verb grammar: from `grammar_dsl!` (a constant) against
//!   building the same model by hand at run time and loading it from JSON.
//! * `grammar/lookup`, `grammar/walk` — finding a nested verb and walking every verb, in
//!   the constant model and in the one built at run time.
//!
//! cnv claims the DSL costs 5–10 ms of compile time per grammar and is "the same as
//! manual construction" at run time.

use std::hint::black_box;

use cnv::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use proc_macro2::TokenStream;

/// A grammar of `verbs` verbs, ten per noun, each with a positional and a named argument,
/// the classes in turn (with `safety:` where a class must declare it).
fn source(verbs: usize) -> String {
    let classes = CapabilityClass::ALL;
    let mut out = String::from("app \"bench\" version \"1.0.0\" {\n");
    for noun in 0..verbs.div_ceil(10) {
        out.push_str(&format!("  noun \"noun-{noun}\" help \"Noun {noun}\" {{\n"));
        for verb in (noun * 10)..((noun + 1) * 10).min(verbs) {
            let class = classes[verb % classes.len()];
            let safety = if class.must_declare_safety() {
                "safety: InteractiveOnly, "
            } else {
                ""
            };
            out.push_str(&format!(
                "    verb \"verb-{verb}\" {{ capability: {class}, resource: Fast, {safety}help: \"Verb {verb}\", \
                 args: [path: std::path::PathBuf \"A path\", -t --timeout-ms: u64 = 500 \"Timeout\"] }}\n"
            ));
        }
        out.push_str("  }\n");
    }
    out.push('}');
    out
}

fn expand(c: &mut Criterion) {
    let mut group = c.benchmark_group("grammar/expand");
    for verbs in [10, 100, 1000] {
        let tokens: TokenStream = source(verbs).parse().expect("the generated grammar lexes");
        assert!(
            cnv_grammar_dsl::check(tokens.clone()).is_ok(),
            "the generated grammar is valid"
        );
        group.throughput(Throughput::Elements(verbs as u64));
        group.bench_with_input(
            BenchmarkId::new("cnv grammar_dsl! (parse, validate, expand)", verbs),
            &tokens,
            |b, tokens| {
                b.iter(|| cnv_grammar_dsl::expand(tokens.clone()));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("parse and validate only", verbs),
            &tokens,
            |b, tokens| {
                b.iter(|| cnv_grammar_dsl::check(tokens.clone()).is_ok());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("clone the input (floor)", verbs),
            &tokens,
            |b, tokens| {
                b.iter(|| tokens.clone());
            },
        );
    }
    group.finish();
}

/// A CLI-sized grammar (12 verbs, 15 arguments) as a constant...
const TOOL: GrammarModel = grammar_dsl! {
    app "tool" version "1.0.0" {
        noun "file" help "File operations" {
            verb "read" { capability: ReadOnlyFS, resource: Fast, help: "Read a file",
                          args: [path: String "The file"] }
            verb "write" { capability: ReadWriteFS, resource: Medium, help: "Write to a file",
                           args: [path: String "The file", --content: String "The text"] }
            verb "stat" { capability: ReadOnlyFS, resource: Instant, help: "Describe a file",
                          args: [path: String "The file"] }
            verb "delete" { capability: ReadWriteFS, resource: Fast, help: "Delete a file",
                            args: [path: String "The file", -f --force: bool "Do not ask"] }
        }
        noun "network" help "Network operations" {
            verb "fetch" { capability: Network, resource: Slow, help: "Fetch from URL",
                           args: [url: String "The URL", -t --timeout-ms: u64 = 500 "Timeout"] }
            verb "post" { capability: Network, resource: Slow, help: "Post to URL",
                          args: [url: String "The URL", --body: String "The body"] }
        }
        noun "process" help "Processes" {
            verb "run" { capability: Subprocess, resource: Medium, help: "Run a program",
                         args: [program: String "The program", args: Vec<String> "Its arguments"] }
            verb "list" { capability: ReadOnlyFS, resource: Fast, help: "List processes" }
        }
        noun "env" help "Environment" {
            verb "get" { capability: Environment, resource: Instant, help: "Read a variable",
                         args: [name: String "The variable"] }
            verb "set" { capability: Environment, resource: Instant, help: "Set a variable",
                         args: [name: String "The variable", value: String "Its value"] }
        }
        noun "disk" help "Disks" {
            verb "wipe" { capability: Dangerous, resource: Cold, safety: InteractiveOnly,
                          help: "Erase a disk", args: [device: String "The device"] }
        }
        noun "cloud" help "Cloud" {
            noun "bucket" help "Buckets" {
                verb "list" { capability: Network, resource: Medium, help: "List buckets" }
            }
        }
    }
};

/// ...and as a static.
static GRAMMAR: GrammarModel = TOOL;

/// The same grammar, built at run time.
fn by_hand() -> GrammarModel {
    let path = || GrammarArgument::positional("path", "String", "The file");
    let url = || GrammarArgument::positional("url", "String", "The URL");
    let name = || GrammarArgument::positional("name", "String", "The variable");
    let c = |class, band| CapabilityContract::new(class, band);
    use CapabilityClass as C;
    use ResourceBand as B;
    let mut grammar = GrammarModel::new("tool").with_version("1.0.0");
    grammar
        .add_noun(
            GrammarNoun::new("file", "File operations")
                .with_verb(
                    GrammarVerb::new("read", "Read a file", c(C::ReadOnlyFS, B::Fast))
                        .with_arg(path()),
                )
                .with_verb(
                    GrammarVerb::new("write", "Write to a file", c(C::ReadWriteFS, B::Medium))
                        .with_arg(path())
                        .with_arg(GrammarArgument::named("content", "String", "The text")),
                )
                .with_verb(
                    GrammarVerb::new("stat", "Describe a file", c(C::ReadOnlyFS, B::Instant))
                        .with_arg(path()),
                )
                .with_verb(
                    GrammarVerb::new("delete", "Delete a file", c(C::ReadWriteFS, B::Fast))
                        .with_arg(path())
                        .with_arg(
                            GrammarArgument::named("force", "bool", "Do not ask").with_short('f'),
                        ),
                ),
        )
        .add_noun(
            GrammarNoun::new("network", "Network operations")
                .with_verb(
                    GrammarVerb::new("fetch", "Fetch from URL", c(C::Network, B::Slow))
                        .with_arg(url())
                        .with_arg(
                            GrammarArgument::named("timeout-ms", "u64", "Timeout")
                                .with_short('t')
                                .with_default("500"),
                        ),
                )
                .with_verb(
                    GrammarVerb::new("post", "Post to URL", c(C::Network, B::Slow))
                        .with_arg(url())
                        .with_arg(GrammarArgument::named("body", "String", "The body")),
                ),
        )
        .add_noun(
            GrammarNoun::new("process", "Processes")
                .with_verb(
                    GrammarVerb::new("run", "Run a program", c(C::Subprocess, B::Medium))
                        .with_arg(GrammarArgument::positional(
                            "program",
                            "String",
                            "The program",
                        ))
                        .with_arg(
                            GrammarArgument::positional("args", "String", "Its arguments")
                                .multiple(),
                        ),
                )
                .with_verb(GrammarVerb::new(
                    "list",
                    "List processes",
                    c(C::ReadOnlyFS, B::Fast),
                )),
        )
        .add_noun(
            GrammarNoun::new("env", "Environment")
                .with_verb(
                    GrammarVerb::new("get", "Read a variable", c(C::Environment, B::Instant))
                        .with_arg(name()),
                )
                .with_verb(
                    GrammarVerb::new("set", "Set a variable", c(C::Environment, B::Instant))
                        .with_arg(name())
                        .with_arg(GrammarArgument::positional("value", "String", "Its value")),
                ),
        )
        .add_noun(
            GrammarNoun::new("disk", "Disks").with_verb(
                GrammarVerb::new(
                    "wipe",
                    "Erase a disk",
                    c(C::Dangerous, B::Cold)
                        .with_safety(SafetyProfile::InteractiveOnly)
                        .expect("more review is always allowed"),
                )
                .with_arg(GrammarArgument::positional(
                    "device",
                    "String",
                    "The device",
                )),
            ),
        )
        .add_noun(GrammarNoun::new("cloud", "Cloud").with_noun(
            GrammarNoun::new("bucket", "Buckets").with_verb(GrammarVerb::new(
                "list",
                "List buckets",
                c(C::Network, B::Medium),
            )),
        ));
    grammar
}

fn build(c: &mut Criterion) {
    assert_eq!(by_hand(), GRAMMAR, "the hand-built model is the DSL's");
    let json = serde_json::to_string(&GRAMMAR).expect("serializes");
    let mut group = c.benchmark_group("grammar/build");
    group.bench_function("cnv grammar_dsl! (a constant)", |b| b.iter(|| TOOL));
    group.bench_function("clone the static model", |b| {
        b.iter(|| black_box(&GRAMMAR).clone());
    });
    group.bench_function("by hand at run time", |b| b.iter(by_hand));
    group.bench_function("from JSON (with validation)", |b| {
        b.iter(|| GrammarModel::from_json(black_box(&json)).expect("loads"));
    });
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let runtime = by_hand();
    let mut group = c.benchmark_group("grammar/lookup");
    group.bench_function("cnv static: verb(\"cloud bucket\", \"list\")", |b| {
        b.iter(|| {
            black_box(&GRAMMAR)
                .verb(black_box("cloud bucket"), black_box("list"))
                .is_some()
        });
    });
    group.bench_function("run-time model: verb(\"cloud bucket\", \"list\")", |b| {
        b.iter(|| {
            black_box(&runtime)
                .verb(black_box("cloud bucket"), black_box("list"))
                .is_some()
        });
    });
    group.finish();

    let mut group = c.benchmark_group("grammar/walk");
    group.bench_function("cnv static: every verb with its path", |b| {
        b.iter(|| {
            black_box(&GRAMMAR)
                .verbs()
                .map(|(path, verb)| path.len() + verb.args().len())
                .sum::<usize>()
        });
    });
    group.bench_function("run-time model: every verb with its path", |b| {
        b.iter(|| {
            black_box(&runtime)
                .verbs()
                .map(|(path, verb)| path.len() + verb.args().len())
                .sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(benches, expand, build, lookup);
criterion_main!(benches);
