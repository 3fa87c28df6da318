//! Building a grammar with `grammar_dsl!` and reading it allocate nothing: the model is a
//! constant made of `'static` data. A counting global allocator (dhat in testing mode)
//! proves it, and proves it counts by watching a model built at run time allocate.
//!
//! One test in this binary: dhat's profiler is process-wide.

use std::hint::black_box;

use cnv::prelude::*;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "myapp" version "1.0.0" {
        noun "file" help "File operations" {
            verb "read" { capability: ReadOnlyFS, resource: Fast, help: "Read a file",
                          args: [path: String "The file"] }
            verb "write" { capability: ReadWriteFS, resource: Medium, help: "Write to a file",
                           args: [path: String "The file", -c --content: String "The text"] }
        }
        noun "cloud" help "Cloud resources" {
            noun "bucket" help "Buckets" {
                verb "list" { capability: Network, resource: Slow, help: "List buckets" }
            }
        }
    }
};

/// Reads everything a command line or an agent would read.
fn read_all(grammar: &GrammarModel) -> usize {
    let mut total = grammar.app_name().len() + grammar.version().map_or(0, str::len);
    for (path, verb) in grammar.verbs() {
        total += path.len() + path.names().map(str::len).sum::<usize>();
        total += verb.name().len() + verb.help().len() + usize::from(verb.contract().risk_score());
        for arg in verb.args() {
            total += arg.name().len() + arg.value_type().len() + arg.help().len();
            total += usize::from(arg.is_required()) + arg.short().map_or(0, char::len_utf8);
        }
    }
    total += grammar
        .noun("cloud bucket")
        .map_or(0, |noun| noun.verbs().len());
    total += grammar
        .verb("file", "write")
        .map_or(0, |verb| verb.args().len());
    total += grammar
        .find(&["cloud", "bucket", "list"])
        .map_or(0, |verb| verb.name().len());
    total
}

#[test]
fn building_and_reading_a_dsl_grammar_allocates_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let before = dhat::HeapStats::get();
    let from_static = read_all(black_box(&GRAMMAR));
    let local = grammar_dsl! {
        app "local" version "0.1.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read",
                              args: [-v --verbose: bool "Say more", path: Option<String> "The file"] }
            }
        }
    };
    let from_let = read_all(black_box(&local));
    let copy = black_box(GRAMMAR.clone());
    let from_clone = read_all(&copy);
    let after = dhat::HeapStats::get();

    assert!(from_static > 0 && from_let > 0);
    assert_eq!(from_clone, from_static);
    dhat::assert_eq!(after.total_blocks, before.total_blocks);
    dhat::assert_eq!(after.total_bytes, before.total_bytes);

    // The counter counts: the same kind of model built at run time allocates.
    let before = dhat::HeapStats::get();
    let mut runtime = GrammarModel::new("myapp");
    runtime.add_noun(
        GrammarNoun::new("file", "File operations").with_verb(GrammarVerb::new(
            "read",
            "Read a file",
            CapabilityContract::read_only(),
        )),
    );
    black_box(&runtime);
    let after = dhat::HeapStats::get();
    assert!(after.total_blocks > before.total_blocks);
}
