//! Random token streams into the parser: it returns errors (or a grammar), never panics,
//! and never reports an error without a message. The streams are built from the DSL's own
//! words, punctuation, literals and groups, so many get deep into the parser.

use proc_macro2::TokenStream;
use proptest::prelude::*;

/// One token of a random stream, as source text.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("app".to_string()),
        Just("noun".to_string()),
        Just("verb".to_string()),
        Just("version".to_string()),
        Just("help".to_string()),
        Just("capability".to_string()),
        Just("resource".to_string()),
        Just("safety".to_string()),
        Just("args".to_string()),
        Just("crate".to_string()),
        Just("Pure".to_string()),
        Just("Dangerous".to_string()),
        Just("AgentSafe".to_string()),
        Just("Fast".to_string()),
        Just("Option".to_string()),
        Just("Vec".to_string()),
        Just("u64".to_string()),
        Just(":".to_string()),
        Just("::".to_string()),
        Just(",".to_string()),
        Just(";".to_string()),
        Just("=".to_string()),
        Just("-".to_string()),
        Just("--".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("\"myapp\"".to_string()),
        Just("\"1.0.0\"".to_string()),
        Just("\"\"".to_string()),
        Just("500".to_string()),
        Just("-1".to_string()),
        Just("'x'".to_string()),
        Just("true".to_string()),
        Just("sets".to_string()),
        Just("groups".to_string()),
        Just("range".to_string()),
        Just("count".to_string()),
        Just("alias".to_string()),
        Just("conflicts_with".to_string()),
        Just("..".to_string()),
        Just("..=".to_string()),
        Just("pub static G =".to_string()),
        "[a-z_][a-z0-9_]{0,6}",
    ]
}

/// A random stream: tokens and nested groups.
fn stream() -> impl Strategy<Value = String> {
    let leaf = prop::collection::vec(token(), 0..12).prop_map(|tokens| tokens.join(" "));
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop::collection::vec(
            prop_oneof![
                token(),
                inner.clone().prop_map(|s| format!("{{ {s} }}")),
                inner.clone().prop_map(|s| format!("[ {s} ]")),
                inner.prop_map(|s| format!("( {s} )")),
            ],
            0..8,
        )
        .prop_map(|parts| parts.join(" "))
    })
}

/// A valid grammar with some tokens replaced, removed or duplicated.
fn mutated_grammar() -> impl Strategy<Value = String> {
    const VALID: &str = r#"app "myapp" version "1.0.0" { sets: [s: [--x: u8 = MAX range 1..=9 "X"]],
        noun "file" help "Files" {
        verb "write" { capability: ReadWriteFS, resource: Medium, help: "Write", groups: [g: [tag, x] required],
                       args: [path: PathBuf "P", -t --timeout-ms: u64 = 500 alias "t-ms" "T", --tag: Vec<String> conflicts_with [x] "G", ..s] } } }"#;
    let words: Vec<String> = VALID.split_whitespace().map(str::to_string).collect();
    let len = words.len();
    (prop::collection::vec((0..len, token(), 0..3u8), 1..4)).prop_map(move |edits| {
        let mut words = words.clone();
        for (at, token, kind) in edits {
            let at = at.min(words.len().saturating_sub(1));
            match kind {
                0 => words[at] = token,
                1 => {
                    words.remove(at);
                }
                _ => words.insert(at, token),
            }
        }
        words.join(" ")
    })
}

fn check_no_panic(source: &str) {
    // Sources with unbalanced delimiters do not lex; the compiler never passes those on.
    let Ok(tokens) = source.parse::<TokenStream>() else {
        return;
    };
    let result = std::panic::catch_unwind(|| cnv_grammar_dsl::check(tokens.clone()));
    let outcome = result.unwrap_or_else(|_| panic!("the parser panicked on: {source}"));
    if let Err(errors) = outcome {
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|e| !e.to_string().is_empty()), "{source}");
    }
    let expanded = std::panic::catch_unwind(|| cnv_grammar_dsl::expand(tokens));
    assert!(expanded.is_ok(), "the expansion panicked on: {source}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_streams_never_panic(source in stream()) {
        check_no_panic(&source);
    }

    #[test]
    fn mutated_grammars_never_panic(source in mutated_grammar()) {
        check_no_panic(&source);
    }
}
