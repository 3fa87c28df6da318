//! Unit tests of the three stages, over token streams made from strings.

use proc_macro2::TokenStream;

use crate::ast::{Item, Slot};
use crate::validate::Model;
use crate::{check, parse};

fn tokens(source: &str) -> TokenStream {
    source.parse().expect("the test source lexes")
}

fn messages(source: &str) -> Vec<String> {
    match check(tokens(source)) {
        Ok(model) => panic!("expected errors, got {model:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn model(source: &str) -> Model {
    check(tokens(source)).unwrap_or_else(|errors| {
        panic!(
            "{:#?}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

/// The grammar DSL example: two nouns, three verbs, one with an explicit `safety:`.
const EXAMPLE: &str = r#"
    app "myapp" version "1.0.0" {
        noun "file" help "File operations" {
            verb "read" { capability: Pure, resource: Fast, help: "Read a file" }
            verb "write" {
                capability: ReadWriteFS, resource: Medium, safety: HumanReviewRequired,
                stability: Stable, help: "Write to a file"
            }
        }
        noun "network" help "Network operations" {
            verb "fetch" { capability: Network, resource: Slow, help: "Fetch from URL" }
        }
    }
"#;

#[test]
fn parse_reads_the_example_grammar() {
    let parsed = parse::parse(tokens(EXAMPLE));
    assert!(parsed.errors.is_empty());
    assert!(parsed.krate.is_none());
    let grammar = parsed.grammar.expect("a grammar");
    assert_eq!(grammar.app.name.value(), "myapp");
    assert_eq!(
        grammar
            .app
            .version
            .as_ref()
            .map(syn::LitStr::value)
            .as_deref(),
        Some("1.0.0")
    );
    let Item::Noun(file) = &grammar.app.items[0] else {
        panic!("a noun")
    };
    let Item::Verb(write) = &file.items[1] else {
        panic!("a verb")
    };
    assert_eq!(write.name.value(), "write");
    assert!(matches!(&write.fields.safety, Slot::Given(word) if word == "HumanReviewRequired"));
    assert!(matches!(write.fields.args, Slot::Absent));
}

#[test]
fn fields_come_in_any_order_and_safety_defaults_to_the_class() {
    let model = model(
        r#"app "a" { noun "n" help "N" {
            verb "v" { help: "V", stability: Preview, resource: Cold, capability: Network, }
        } }"#,
    );
    let verb = &model.nouns[0].verbs[0];
    assert_eq!(
        (verb.class, verb.band, verb.stability, verb.safety),
        (
            cnv_caps::CapabilityClass::Network,
            cnv_caps::ResourceBand::Cold,
            cnv_caps::StabilityProfile::Preview,
            None
        )
    );
}

#[test]
fn arguments_in_every_form() {
    let model = model(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V", args: [
            path: std::path::PathBuf "A path",
            more: Vec<String> "More",
            --content: String "Text",
            -t --timeout-ms: u64 = 500 "Timeout",
            --offset: i32 = -3 "Offset",
            --name: Option<String> "Name",
            -f --force: bool "Force",
            --type: String = "plain" "A keyword as a name",
            --retry-3x: u8 = 0x10 "Digits in a name, hex default",
        ] } } }"#,
    );
    let args = &model.nouns[0].verbs[0].args;
    let summary: Vec<_> = args
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.value_type.as_str(),
                a.positional,
                a.short,
                a.required,
                a.default.as_deref(),
                a.multiple,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("path", "std::path::PathBuf", true, None, true, None, false),
            ("more", "String", true, None, false, None, true),
            ("content", "String", false, None, true, None, false),
            (
                "timeout-ms",
                "u64",
                false,
                Some('t'),
                false,
                Some("500"),
                false
            ),
            ("offset", "i32", false, None, false, Some("-3"), false),
            ("name", "String", false, None, false, None, false),
            (
                "force",
                "bool",
                false,
                Some('f'),
                false,
                Some("false"),
                false
            ),
            ("type", "String", false, None, false, Some("plain"), false),
            ("retry-3x", "u8", false, None, false, Some("16"), false),
        ]
    );
}

#[test]
fn deprecation_sets_the_stability() {
    let model = model(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V", deprecated: "use w" } } }"#,
    );
    let verb = &model.nouns[0].verbs[0];
    assert_eq!(
        (verb.stability, verb.deprecated.as_deref()),
        (cnv_caps::StabilityProfile::Deprecated, Some("use w"))
    );
    let errors = messages(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V", stability: Stable, deprecated: "use w" } } }"#,
    );
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("remove `stability: Stable`"),
        "{errors:?}"
    );
}

#[test]
fn every_mistake_is_reported_once() {
    let errors = messages(
        r#"app "My App" version "1" {
            noun "file" help "Files" {
                verb "read" { capability: ReadOnlyFs, resource: Fats, safty: AgentSafe, help: "Read" }
                verb "read" { capability: Network, resource: Fast, safety: AgentSafe, help: "" }
                verb "wipe" { capability: Dangerous, resource: Cold, help: "Wipe" }
                verb "copy" { help: "Copy", args: [src: PathBuf "From", src: PathBuf "To", --x: u8 = 300 "X"] }
            }
            noun "file" { }
        }"#,
    );
    let expected = [
        "unknown field `safty` (did you mean `safety`?)",
        "the app name `My App` is not a lowercase kebab-case word, e.g. `my-app`",
        "`1` is not a semantic version",
        "unknown capability class `ReadOnlyFs` (did you mean `ReadOnlyFS`?)",
        "unknown resource band `Fats` (did you mean `Fast`?)",
        "noun `file` already has a noun, verb or verb alias called `read`",
        "the help text is empty",
        "a `Network` contract cannot be `AgentSafe`",
        "a `Dangerous` verb must say who reviews it",
        "verb `copy` has no `capability:`",
        "verb `copy` has no `resource:`",
        "this verb already has an argument or alias called `src`",
        "the default `300` is not a valid `u8`",
        "app `My App` already has a noun, verb or verb alias called `file`",
    ];
    let found = |needle: &str| errors.iter().filter(|e| e.contains(needle)).count();
    for needle in expected {
        assert_eq!(found(needle), 1, "{needle}\n{errors:#?}");
    }
    assert_eq!(found("noun `file` has no help"), 1, "{errors:#?}");
    assert_eq!(found("noun `file` has no verbs"), 1, "{errors:#?}");
    assert_eq!(errors.len(), 16, "{errors:#?}");
}

#[test]
fn structural_mistakes_do_not_cascade() {
    // A noun whose only verb cannot be read is not also "a noun without verbs".
    let errors = messages(r#"app "a" { noun "n" help "N" { verb read { capability: Pure } } }"#);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("the verb's name is a string: write `verb \"read\"`"));
    // A field whose value cannot be read is not also "missing".
    let errors = messages(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: "Pure", resource: Fast, help: 3 } } }"#,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    // A bad argument does not make the next ones misplaced.
    let errors = messages(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V",
            args: [first: Option<String>, second: String "S"] } } }"#,
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("argument `first` needs a help text"),
        "{errors:#?}"
    );
}

#[test]
fn the_invocation_must_start_with_an_app() {
    assert_eq!(messages("").len(), 1);
    let errors = messages(r#"ap "x" {}"#);
    assert!(
        errors[0].contains("unknown keyword `ap` (did you mean `app`?)"),
        "{errors:?}"
    );
    let errors = messages(r#"app "x" version "1.0.0""#);
    assert!(errors[0].contains("expected `{ … }`"), "{errors:?}");
    let errors = messages(r#"app "x" {}"#);
    assert!(errors[0].contains("has no nouns"), "{errors:?}");
}

#[test]
fn headers_and_keywords_get_suggestions() {
    let errors = messages(
        r#"app "a" verison "1.0.0" { nuon "n" help "N" { } noun "m" halp "M" { verb "v" { capability: Pure, resource: Fast, help: "V" } } }"#,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown word `verison` (did you mean `version`?)")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown keyword `nuon` (did you mean `noun`?)")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown word `halp` (did you mean `help`?)")),
        "{errors:#?}"
    );
}

#[test]
fn nesting_is_limited_to_eight_nouns() {
    let mut source = String::from(r#"verb "v" { capability: Pure, resource: Fast, help: "V" }"#);
    for depth in (1..=9).rev() {
        source = format!(r#"noun "n{depth}" help "Level" {{ {source} }}"#);
    }
    let errors = messages(&format!(r#"app "a" {{ {source} }}"#));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("noun `n9` is nested 9 nouns deep"));
}

#[test]
fn expansion_is_one_block_of_constants() {
    let out = crate::expand(tokens(EXAMPLE)).to_string();
    assert!(out.starts_with('{'), "{out}");
    assert!(
        out.contains(":: cnv :: grammar :: GrammarModel :: __from_static"),
        "{out}"
    );
    assert!(out.contains("CapabilityClass :: Network"), "{out}");
    assert!(!out.contains("compile_error"), "{out}");
    assert_eq!(out.matches("GrammarVerb :: __from_parts").count(), 3);
}

#[test]
fn the_crate_path_can_be_overridden() {
    let source = EXAMPLE.replacen("app", "crate = ::cnv_grammar; app", 1);
    let out = crate::expand(tokens(&source)).to_string();
    assert!(out.contains(":: cnv_grammar :: GrammarModel"), "{out}");
    assert!(!out.contains(":: cnv :: grammar"), "{out}");
}

#[test]
fn the_crate_path_is_kept_when_the_app_cannot_be_read() {
    // The fallback names the crate the grammar names: with the default path it would add
    // an unresolved-path error (E0433) in a program without the `cnv` facade.
    let source = EXAMPLE.replacen("app", "crate = ::cnv_grammar; ap", 1);
    let out = crate::expand(tokens(&source)).to_string();
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    assert!(
        out.contains(":: cnv_grammar :: GrammarModel :: __placeholder ()"),
        "{out}"
    );
    assert!(!out.contains(":: cnv :: grammar"), "{out}");
    // A missing `;` after the path is one error, and the path and the grammar still count.
    let source = EXAMPLE.replacen("app", "crate = ::cnv_grammar app", 1);
    let errors = messages(&source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("expected `;` after the crate path"),
        "{errors:#?}"
    );
    let out = crate::expand(tokens(&source)).to_string();
    assert!(
        out.contains(":: cnv_grammar :: GrammarModel :: __placeholder ()"),
        "{out}"
    );
}

#[test]
fn after_errors_the_expansion_is_a_placeholder_beside_the_errors() {
    let source = r#"app "a" { noun "n" help "N" { verb "v" { capability: Pur, resource: Fast, help: "V",
        args: [x: Timeout "X"] } } }"#;
    let out = crate::expand(tokens(source)).to_string();
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    assert!(out.contains("GrammarModel :: __placeholder ()"), "{out}");
    // The type check is still there, so a type that is not `FromStr` is reported too.
    assert!(out.contains("assert_value_type :: < Timeout >"), "{out}");
    let out = crate::expand::fallback(
        &crate::expand::default_crate(),
        Vec::new(),
        &TokenStream::new(),
    )
    .to_string();
    assert!(out.contains("__placeholder"));
}

#[test]
fn help_is_no_noun_or_verb_name() {
    // clap gives the app and every noun a `help` subcommand: a noun or verb called `help`
    // would make `CliBuilder::build` panic in clap.
    let errors = messages(
        r#"app "a" {
            noun "help" help "Help topics" { verb "show" { capability: Pure, resource: Fast, help: "Show" } }
            noun "docs" help "Docs" { verb "help" { capability: Pure, resource: Fast, help: "Show" } }
        }"#,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("`help` is reserved for the command line's own `help` subcommand")
            && errors[0].ends_with("give this noun another name"),
        "{errors:#?}"
    );
    assert!(
        errors[1].ends_with("give this verb another name"),
        "{errors:#?}"
    );
}

/// A verb whose `args: [...]` is `before`, then `ty` in an invisible group (as
/// `macro_rules!` passes a `$t:ty`), then `after`.
fn with_grouped_type(before: &str, ty: &str, after: &str) -> TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    fn replace(stream: TokenStream, ty: &TokenStream) -> TokenStream {
        stream
            .into_iter()
            .map(|token| match token {
                TokenTree::Ident(ident) if ident == "__TY__" => {
                    TokenTree::Group(Group::new(Delimiter::None, ty.clone()))
                }
                TokenTree::Group(group) => {
                    TokenTree::Group(Group::new(group.delimiter(), replace(group.stream(), ty)))
                }
                other => other,
            })
            .collect()
    }
    let source = format!(
        r#"app "a" {{ noun "n" help "N" {{ verb "v" {{ capability: Pure, resource: Fast, help: "V", args: [{before} __TY__ {after}] }} }} }}"#
    );
    replace(tokens(&source), &tokens(ty))
}

#[test]
fn types_from_macro_rules_keep_their_meaning() {
    let shape = |ty: &str| {
        let model = check(with_grouped_type("--p:", ty, r#""P""#))
            .unwrap_or_else(|errors| panic!("{ty}: {errors:?}"));
        let arg = model.nouns[0].verbs[0].args[0].clone();
        (arg.value_type, arg.required, arg.multiple, arg.default)
    };
    assert_eq!(
        shape("bool"),
        ("bool".into(), false, false, Some("false".into()))
    );
    assert_eq!(shape("Option<u8>"), ("u8".into(), false, false, None));
    assert_eq!(shape("Vec<String>"), ("String".into(), false, true, None));
    assert_eq!(shape("(bool)").3.as_deref(), Some("false"));
    // The `FromStr` check names the value type, not `Option<u8>`.
    let out = crate::expand(with_grouped_type("--p:", "Option<u8>", r#""P""#)).to_string();
    assert!(out.contains("assert_value_type :: < u8 >"), "{out}");
    // The rules that hang on the type apply too.
    let errors = match check(with_grouped_type("--p:", "bool", r#"= true "P""#)) {
        Err(errors) => errors,
        Ok(model) => panic!("{model:?}"),
    };
    assert!(
        errors[0]
            .to_string()
            .contains("a `bool` switch is off unless given"),
        "{errors:?}"
    );
}

#[test]
fn a_refused_shape_gets_no_from_str_check() {
    // `Option<Option<u8>>` is one mistake: the shape error, not also "`Option<u8>` is not
    // `FromStr`" from the compiler.
    let source = r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V",
        args: [a: Option<Option<u8>> "A", b: Vec<Option<u8>> "B", --c: Option<(u8)> "C"] } } }"#;
    let out = crate::expand(tokens(source)).to_string();
    assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    assert_eq!(out.matches("assert_value_type").count(), 1, "{out}");
    assert!(out.contains("assert_value_type :: < u8 >"), "{out}");
}

#[test]
fn a_header_mistake_is_not_also_a_missing_help() {
    // A misspelled `help` stands for it, and so does a `help` whose value is no string.
    let errors = messages(
        r#"app "a" {
            noun "file" halp "Files" { verb "v" { capability: Pure, resource: Fast, help: "V" } }
            noun "dir" help Dirs { verb "v" { capability: Pure, resource: Fast, help: "V" } }
        }"#,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("unknown word `halp` (did you mean `help`?)"));
    assert!(errors[1].starts_with("expected a string after `help`"));
}

#[test]
fn a_verb_help_outside_the_braces_is_one_mistake() {
    let errors = messages(
        r#"app "a" { noun "file" help "Files" {
            verb "read" help "Read a file" { capability: Pure, resource: Fast }
        } }"#,
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("a verb's help goes inside its braces"));
}

#[test]
fn semicolons_for_commas_are_one_mistake() {
    let errors = messages(
        r#"app "a" { noun "file" help "Files" {
            verb "stat" { capability: Pure; resource: Fast; help: "Stat"; args: [a: u8 "A"; b: u8 "B"; c: u8 "C"] }
            verb "list" { capability: Pure; resource: Fast, help: "List" }
        } }"#,
    );
    let expected = [
        "write `,` here: a verb's fields are separated by commas, not semicolons",
        "write `,` here: arguments are separated by commas, not semicolons",
        "write `,` here: a verb's fields are separated by commas, not semicolons",
    ];
    assert_eq!(errors, expected, "{errors:#?}");
}

#[test]
fn a_noun_without_braces_before_its_verbs_is_one_mistake() {
    let errors = messages(
        r#"app "a" {
            noun "dir" help "Dirs"
                verb "make" { capability: Pure, resource: Fast, help: "Make" }
                verb "drop" { capability: Pure, resourse: Fast, help: "Drop" }
            noun "file" help "Files" { verb "v" { capability: Pure, resource: Fast, help: "V" } }
        }"#,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("noun `dir` has no `{ … }`: put its verbs inside braces"),
        "{errors:#?}"
    );
    // The verbs are still read: their own mistakes are reported.
    assert!(
        errors[1].starts_with("unknown field `resourse`"),
        "{errors:#?}"
    );
}

#[test]
fn string_suffixes_are_refused_on_their_token() {
    // Rust lexes `"text"sfx` as one literal with a suffix; dropping it silently would
    // accept a typo. Each is one error, and the string still counts.
    let errors = messages(
        r#"app "a"x version "1.0.0"v help "App"h {
            noun "n"n help "N"h long_help "Long"l {
                verb "v"v { capability: Pure, resource: Fast, help: "V"sfx, long_help: "L"l, deprecated: "D"d,
                    args: [--p: String = "d"s "P"p, --c: char = 'x'c "C"] }
            }
        }"#,
    );
    let suffixes: Vec<&str> = errors
        .iter()
        .map(|e| {
            e.strip_prefix("unexpected suffix `")
                .and_then(|rest| rest.split('`').next())
                .unwrap_or(e)
        })
        .collect();
    assert_eq!(
        suffixes,
        [
            "x", "v", "h", "n", "h", "l", "v", "sfx", "l", "d", "s", "p", "c"
        ],
        "{errors:#?}"
    );
    assert!(errors[0].ends_with("after this literal; remove it"));
    // Number suffixes name a type and stay allowed.
    let model = model(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V",
            args: [--p: u64 = 5u64 "P"] } } }"#,
    );
    assert_eq!(
        model.nouns[0].verbs[0].args[0].default.as_deref(),
        Some("5")
    );
}

#[test]
fn an_empty_long_help_is_refused_on_nouns_as_on_verbs() {
    let errors = messages(
        r#"app "a" { noun "n" help "N" long_help "" {
            verb "v" { capability: Pure, resource: Fast, help: "V", long_help: " " }
        } }"#,
    );
    assert_eq!(
        errors,
        [
            "the long help is empty; write the longer description, or remove `long_help`",
            "the long help is empty; write the longer description, or remove `long_help`",
        ]
    );
}

#[test]
fn arguments_named_like_cnv_s_global_flags_are_refused() {
    let errors = messages(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V",
            args: [format: String "F", --agent: bool "A", -j --justify: String "J", --help: u8 "H", --formats: u8 "ok"] } } }"#,
    );
    let names: Vec<&str> = errors
        .iter()
        .map(|e| e.split('`').nth(1).unwrap_or(e))
        .collect();
    assert_eq!(names, ["format", "agent", "justify", "help"], "{errors:#?}");
    assert!(
        errors[0].starts_with("`format` is taken by cnv's global flag `--format`; every command line made from a grammar has the global flags `--agent`, `--justify`,"),
        "{errors:#?}"
    );
}

#[test]
fn commands_are_at_most_128_characters() {
    // `cloud <60 n> <61 v>`: 5 + 1 + 60 + 1 + 61 = 128 characters, the longest allowed.
    let source = |verb_len: usize| {
        format!(
            r#"app "a" {{ noun "cloud" help "C" {{ noun "{}" help "N" {{ verb "{}" {{ capability: Pure, resource: Fast, help: "V" }} }} }} }}"#,
            "n".repeat(60),
            "v".repeat(verb_len)
        )
    };
    let _ = model(&source(61));
    let errors = messages(&source(62));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("is 129 characters long; at most 128 are allowed"),
        "{errors:#?}"
    );
}

#[test]
fn a_missing_value_type_says_so() {
    let errors = messages(
        r#"app "a" { noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V",
            args: [path:, --limit: = 5 "L", --name: "N"] } } }"#,
    );
    assert_eq!(
        errors,
        [
            "expected the value type after `path:`, e.g. `path: String \"…\"`",
            "expected the value type after `limit:`, e.g. `limit: String \"…\"`",
            "expected the value type after `name:`, e.g. `name: String \"…\"`",
        ]
    );
}

#[test]
fn the_item_form_names_a_static_and_generates_typed_arguments() {
    let expansion = crate::expand(tokens(
        r#"
        /// The grammar.
        pub(crate) static GRAMMAR = app "notes" {
            noun "file" help "Files" {
                verb "dry-run" {
                    capability: ReadWriteFS, resource: Fast, help: "Try",
                    args: [path: String "P", --timeout-ms: u64 = 5 "T", -f --force: bool "F"],
                }
            }
            noun "type" help "A keyword" { verb "go" { capability: Pure, resource: Instant, help: "Go" } }
        }"#,
    ))
    .to_string();
    for needle in [
        "pub (crate) static GRAMMAR",
        "pub (crate) mod file",
        "pub struct DryRun",
        "pub timeout_ms : u64",
        "pub force : bool",
        "mod r#type",
        "const COMMAND : & 'static str = \"file dry-run\"",
        "impl :: cnv :: cli :: OfClass < :: cnv :: cli :: __private :: caps :: ReadWriteFS > for DryRun",
    ] {
        assert!(expansion.contains(needle), "{needle}\n{expansion}");
    }
    // The expression form brings no items.
    let expression = crate::expand(tokens(
        r#"app "notes" { noun "file" help "Files" { verb "go" { capability: Pure, resource: Instant, help: "Go" } } }"#,
    ))
    .to_string();
    assert!(!expression.contains("mod file"), "{expression}");
}

#[test]
fn item_form_headers_say_what_is_missing() {
    let parsed = parse::parse(tokens(r#"pub GRAMMAR = app "a" {}"#));
    assert!(
        parsed.errors[0]
            .to_string()
            .contains("expected `static` after the visibility"),
        "{:?}",
        parsed.errors
    );
    let parsed = parse::parse(tokens(r#"static GRAMMAR app "a" {}"#));
    assert!(
        parsed.errors[0]
            .to_string()
            .contains("expected `=` and the app after `static GRAMMAR`"),
        "{:?}",
        parsed.errors
    );
    let expansion = crate::expand(tokens(
        r#"static G = app "a" { noun "self" help "S" { verb "go" { capability: Pure, resource: Instant, help: "Go" } } }"#,
    ))
    .to_string();
    assert!(
        expansion.contains("the noun name becomes the Rust name `self`"),
        "{expansion}"
    );
}

#[test]
fn an_app_s_stray_word_suggests_only_what_an_app_holds() {
    // An app holds nouns; a verb there is refused, so no message may propose one.
    let errors = messages(
        r#"app "notes" { flags: [] noun "note" help "Notes" {
            verb "list" { capability: Pure, resource: Fast, help: "List" } } }"#,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("unexpected `flags`: expected `noun \"name\" help"),
        "{errors:?}"
    );
    assert!(!errors[0].contains("verb"), "{errors:?}");

    let errors = messages(
        r#"app "notes" { verbb "list" { } noun "note" help "Notes" {
            verb "list" { capability: Pure, resource: Fast, help: "List" } } }"#,
    );
    assert!(
        !errors.iter().any(|e| e.contains("did you mean `verb`")),
        "{errors:?}"
    );

    // Inside a noun, both are allowed, and both are proposed.
    let errors = messages(
        r#"app "notes" { noun "note" help "Notes" { flags: []
            verb "list" { capability: Pure, resource: Fast, help: "List" } } }"#,
    );
    assert!(
        errors[0].contains("expected `noun \"name\" help \"…\" { … }` or `verb \"name\" { … }`"),
        "{errors:?}"
    );
}

/// A release helper's grammar with every clause and field clap users reached for.
const RELEASE: &str = r#"
    app "release" version "1.0.0" {
        args: [-v --verbose: u8 count "Say more", --profile: String = "default" mcp "Profile"],
        sets: [target: [--channel: String = CHANNEL in ["stable", "beta"] "Where", --dry-run: bool "Only say"]],
        noun "rel" help "Releases" {
            verb "publish" {
                capability: Network, resource: Slow, help: "Publish",
                title: "Publish a release", mcp_name: "publish", output: Published, aliases: ["ship"],
                args: [
                    --retries: u32 = RETRIES range 1..=10 value_name "TIMES" alias "tries" "Tries",
                    --json: bool conflicts_with [yaml] "JSON",
                    --yaml: bool "YAML",
                    --sign: bool requires [key] "Sign",
                    --key: Option<String> "Key",
                    --trace: bool hidden "Trace",
                    ..target,
                    --last: i8 range -5..5 "Last",
                ],
                groups: [output: [json, yaml] required multiple],
            }
            verb "show-notes" { capability: Pure, resource: Instant, help: "Notes", args: [..target] }
        }
    }
"#;

#[test]
fn every_new_field_and_clause_reaches_the_model() {
    let model = model(RELEASE);
    assert!(model.args[0].counted && !model.args[0].required);
    assert!(model.args[1].mcp);
    let publish = &model.nouns[0].verbs[0];
    assert_eq!(publish.title.as_deref(), Some("Publish a release"));
    assert_eq!(publish.mcp_name.as_deref(), Some("publish"));
    assert_eq!(publish.aliases, ["ship"]);
    assert!(publish.output.is_some());
    let names: Vec<&str> = publish.args.iter().map(|arg| arg.name.as_str()).collect();
    // The set's arguments where the verb uses it.
    assert_eq!(
        names,
        [
            "retries", "json", "yaml", "sign", "key", "trace", "channel", "dry-run", "last"
        ]
    );
    let retries = &publish.args[0];
    assert_eq!(
        retries.range,
        Some(cnv_grammar::ValueRange::new(Some(1), Some(10)))
    );
    assert_eq!(retries.value_name.as_deref(), Some("TIMES"));
    assert_eq!(retries.aliases, ["tries"]);
    assert!(retries.default.is_none() && retries.default_const.is_some() && !retries.required);
    assert_eq!(publish.args[1].conflicts_with, ["yaml"]);
    assert_eq!(publish.args[3].requires, ["key"]);
    assert!(publish.args[5].hidden);
    // `-5..5` is `-5..=4`.
    assert_eq!(
        publish.args[8].range,
        Some(cnv_grammar::ValueRange::new(Some(-5), Some(4)))
    );
    assert!(publish.groups[0].required && publish.groups[0].multiple);
    assert_eq!(publish.groups[0].args, ["json", "yaml"]);
    assert_eq!(model.nouns[0].verbs[1].args.len(), 2);
}

#[test]
fn defaults_from_constants_and_output_types_are_checked_by_the_compiler() {
    let out = crate::expand(tokens(RELEASE)).to_string();
    for needle in [
        // The constant is read as the argument's type, and written as text.
        ":: core :: primitive :: u32 = RETRIES",
        "DefaultText :: unsigned",
        // The range of a constant default, and the list of values.
        "the default `RETRIES` of `retries` is outside the range `1..=10`",
        "the default `CHANNEL` of `channel` is not one of its possible values",
        // The output schema.
        "< Published as :: cnv :: grammar :: OutputSchema > :: SCHEMA",
        "starts_like_an_object",
    ] {
        assert!(out.contains(needle), "{needle}\n{out}");
    }
}

#[test]
fn the_item_form_generates_the_builder_s_state() {
    let source = RELEASE.replacen("app", "pub static GRAMMAR = app", 1);
    let out = crate::expand(tokens(&source)).to_string();
    for needle in [
        "mod __cnv_handlers_of_GRAMMAR",
        "pub struct Handlers < P0 , P1 >",
        "message = \"`rel publish` has no handler\"",
        "pub trait RelPublishHandler",
        "impl < P0 , P1 > :: cnv :: cli :: Buildable for Handlers < P0 , P1 > where P0 : RelPublishHandler , P1 : RelShowNotesHandler ,",
        "impl :: cnv :: cli :: BindStep < :: cnv :: cli :: NothingBound > for rel :: Publish { type Next = Handlers < :: cnv :: cli :: Bound , :: cnv :: cli :: Unbound > ; }",
        // The set's fields are the verb's, and a count is a `u8`.
        "pub dry_run : bool",
        "pub verbose : u8",
    ] {
        assert!(out.contains(needle), "{needle}\n{out}");
    }
}

#[test]
fn an_argument_keeps_its_field_after_a_mistake_in_its_clauses() {
    let source = r#"
        pub static GRAMMAR = app "release" {
            noun "rel" help "Releases" {
                verb "publish" {
                    capability: Nework, resource: Slow, help: "Publish",
                    args: [--channel: String = "stable" evn "CHANNEL" "Where", --retries: u32 "Tries"],
                }
            }
        }"#;
    let errors = messages(source);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("unknown clause `evn` (did you mean `env`?)"),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("unknown capability class `Nework`"),
        "{errors:#?}"
    );
    let out = crate::expand(tokens(source)).to_string();
    // Both fields are there, and the struct binds to a handler of any class.
    assert!(out.contains("pub channel : String"), "{out}");
    assert!(out.contains("pub retries : u32"), "{out}");
    assert!(
        out.contains("impl < C : :: cnv :: cli :: __private :: caps :: ConstRisk > :: cnv :: cli :: OfClass < C > for Publish"),
        "{out}"
    );
}

#[test]
fn clause_and_group_mistakes_say_what_to_write() {
    let verb = |args: &str| {
        format!(
            r#"app "a" {{ noun "n" help "N" {{ verb "v" {{ capability: Pure, resource: Fast, help: "V", {args} }} }} }}"#
        )
    };
    for (source, expected) in [
        (
            verb(r#"args: [--n: u8 range .. "N"]"#),
            "a range needs at least one bound",
        ),
        (
            verb(r#"args: [--n: u8 range 1 "N"]"#),
            "expected `..=` or `..` in the range",
        ),
        (
            verb(r#"args: [--n: u8 count count "N"]"#),
            "`count` is given twice in this argument",
        ),
        (
            verb(r#"args: [--n: u8 in [LIMIT] "N"]"#),
            "a possible value is a literal a user types",
        ),
        (
            verb(r#"args: [--a: bool "A", --b: bool "B"], groups: [ab: [a, b] requried]"#),
            "unknown word `requried` (did you mean `required`?) after a group's list",
        ),
        (
            verb(r#"args: [--a: bool conflicts_with [--b] "A", --b: bool "B"]"#),
            "name arguments without dashes here",
        ),
        (
            verb(r#"output: "Schema""#),
            "expected the type the verb returns",
        ),
        (
            verb(r#"aliases: [ls]"#),
            "expected a list of strings after `aliases:`",
        ),
    ] {
        let errors = messages(&source);
        assert!(
            errors.iter().any(|error| error.contains(expected)),
            "{expected}\n{errors:#?}"
        );
    }
    // A set among the global arguments, or inside a set.
    let errors = messages(
        r#"app "a" { args: [..s], sets: [s: [--x: bool "X"], t: [..s]], noun "n" help "N" { verb "v" { capability: Pure, resource: Fast, help: "V", args: [..s, ..t] } } }"#,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("write the app's global arguments in `args:` itself")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("a set cannot use another set")),
        "{errors:#?}"
    );
}
