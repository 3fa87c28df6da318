//! The grammar DSL example (`grammar_dsl!`) and the migration from a hand-built model:
//! the "Before (Manual)" / "After (DSL)" grammars, with `use cnv::prelude::*;`. The tests
//! read back every noun, verb and contract they declare, and check the JSON round trip and
//! the MCP manifest of the example.
//!
//! A verb without `safety:` takes its class's default safety from cnv-caps, so
//! `network fetch` (class `Network`, no `safety:`) is `HumanReviewRequired`, not
//! `AgentSafe`.

use cnv::prelude::*;
use serde_json::{Value, json};

/// The grammar DSL example.
#[allow(
    clippy::let_and_return,
    reason = "the example's `let grammar = …;`, verbatim"
)]
fn grammar_dsl_example() -> GrammarModel {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" {
                    capability: Pure,
                    resource: Fast,
                    help: "Read a file"
                }

                verb "write" {
                    capability: ReadWriteFS,
                    resource: Medium,
                    safety: HumanReviewRequired,
                    stability: Stable,
                    help: "Write to a file"
                }
            }

            noun "network" help "Network operations" {
                verb "fetch" {
                    capability: Network,
                    resource: Slow,
                    help: "Fetch from URL"
                }
            }
        }
    };
    grammar
}

fn contract(
    class: CapabilityClass,
    band: ResourceBand,
    safety: SafetyProfile,
    stability: StabilityProfile,
) -> (
    CapabilityClass,
    ResourceBand,
    SafetyProfile,
    StabilityProfile,
) {
    (class, band, safety, stability)
}

fn parts(
    c: CapabilityContract,
) -> (
    CapabilityClass,
    ResourceBand,
    SafetyProfile,
    StabilityProfile,
) {
    (c.class(), c.band(), c.safety(), c.stability())
}

#[test]
fn the_example_declares_its_nouns_verbs_and_contracts() {
    let grammar = grammar_dsl_example();
    assert_eq!(grammar.app_name(), "myapp");
    assert_eq!(grammar.version(), Some("1.0.0"));
    assert_eq!(grammar.validate(), Ok(()));

    let nouns: Vec<(&str, &str)> = grammar
        .nouns()
        .iter()
        .map(|n| (n.name(), n.help()))
        .collect();
    assert_eq!(
        nouns,
        [
            ("file", "File operations"),
            ("network", "Network operations")
        ]
    );

    let verbs: Vec<(String, &str, _)> = grammar
        .verbs()
        .map(|(path, verb)| {
            (
                path.to_string(),
                verb.name(),
                (verb.help(), parts(verb.contract())),
            )
        })
        .collect();
    use CapabilityClass as C;
    use ResourceBand as B;
    use SafetyProfile as S;
    use StabilityProfile as T;
    assert_eq!(
        verbs,
        [
            (
                "file".into(),
                "read",
                (
                    "Read a file",
                    contract(C::Pure, B::Fast, S::AgentSafe, T::Stable)
                )
            ),
            (
                "file".into(),
                "write",
                (
                    "Write to a file",
                    contract(C::ReadWriteFS, B::Medium, S::HumanReviewRequired, T::Stable)
                ),
            ),
            (
                "network".into(),
                "fetch",
                // No `safety:`, so not `AgentSafe`: a network verb needs a human.
                (
                    "Fetch from URL",
                    contract(C::Network, B::Slow, S::HumanReviewRequired, T::Stable)
                ),
            ),
        ]
    );
    assert!(
        grammar
            .verb("file", "read")
            .unwrap()
            .contract()
            .is_agent_safe()
    );
    assert!(
        !grammar
            .verb("network", "fetch")
            .unwrap()
            .contract()
            .is_agent_safe()
    );
    assert!(grammar.verb("file", "delete").is_none());
    assert_eq!(
        grammar.find(&["network", "fetch"]).map(GrammarVerb::name),
        Some("fetch")
    );
}

#[test]
fn the_grammar_is_a_constant_too() {
    static GRAMMAR: GrammarModel = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read a file" }
                verb "write" {
                    capability: ReadWriteFS,
                    resource: Medium,
                    safety: HumanReviewRequired,
                    stability: Stable,
                    help: "Write to a file"
                }
            }
            noun "network" help "Network operations" {
                verb "fetch" { capability: Network, resource: Slow, help: "Fetch from URL" }
            }
        }
    };
    assert_eq!(GRAMMAR, grammar_dsl_example());
}

#[test]
fn migration_guide_before_and_after_build_the_same_model() {
    // "Before (Manual)". The fields of a noun are private (a model may be a constant),
    // so the noun is built with its constructor and `with_verb`.
    let mut grammar = GrammarModel::new("myapp");
    let noun = GrammarNoun::new("file", "File operations").with_verb(GrammarVerb::new(
        "read",
        "Read",
        CapabilityContract::pure().with_band(ResourceBand::Fast),
    ));
    grammar.add_noun(noun);
    let manual = grammar.with_version("1.0.0");

    // "After (DSL)", verbatim.
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "file" help "File operations" {
                verb "read" { capability: Pure, resource: Fast, help: "Read" }
            }
        }
    };

    assert_eq!(grammar, manual);
    let read = grammar.verb("file", "read").unwrap();
    assert_eq!(read.help(), "Read");
    assert_eq!(
        parts(read.contract()),
        (
            CapabilityClass::Pure,
            ResourceBand::Fast,
            SafetyProfile::AgentSafe,
            StabilityProfile::Stable
        )
    );
}

#[test]
fn json_round_trip_of_the_example_grammar() {
    let grammar = grammar_dsl_example();
    let json = serde_json::to_value(&grammar).expect("serializes");
    assert_eq!(
        json,
        json!({
            "name": "myapp",
            "version": "1.0.0",
            "nouns": [
                {"name": "file", "help": "File operations", "verbs": [
                    {"name": "read", "help": "Read a file", "contract":
                        {"capability": "Pure", "resource": "Fast", "safety": "AgentSafe", "stability": "Stable"},
                     "args": []},
                    {"name": "write", "help": "Write to a file", "contract":
                        {"capability": "ReadWriteFS", "resource": "Medium", "safety": "HumanReviewRequired", "stability": "Stable"},
                     "args": []}
                ]},
                {"name": "network", "help": "Network operations", "verbs": [
                    {"name": "fetch", "help": "Fetch from URL", "contract":
                        {"capability": "Network", "resource": "Slow", "safety": "HumanReviewRequired", "stability": "Stable"},
                     "args": []}
                ]}
            ]
        })
    );
    let text = serde_json::to_string(&grammar).unwrap();
    assert_eq!(GrammarModel::from_json(&text).expect("loads"), grammar);
}

#[test]
fn mcp_manifest_of_the_example_grammar() {
    let tools = grammar_dsl_example().to_mcp_tools();
    let schema: Value = serde_json::from_str(include_str!(
        "../../cnv-grammar/tests/data/mcp-schema-2025-11-25.json"
    ))
    .unwrap();
    let mut list_tools = schema;
    list_tools["$ref"] = "#/$defs/ListToolsResult".into();
    let validator = jsonschema::validator_for(&list_tools).expect("the MCP schema compiles");
    assert!(validator.is_valid(&tools), "{tools:#}");

    let summary: Vec<(&str, &str, [bool; 4], &str)> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            let a = &tool["annotations"];
            let hint = |name: &str| a[name].as_bool().unwrap();
            (
                tool["name"].as_str().unwrap(),
                tool["description"].as_str().unwrap(),
                [
                    hint("readOnlyHint"),
                    hint("destructiveHint"),
                    hint("idempotentHint"),
                    hint("openWorldHint"),
                ],
                tool["_meta"]["cnv/contract"]["safety"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "file_read",
                "Read a file",
                [true, false, true, false],
                "AgentSafe"
            ),
            (
                "file_write",
                "Write to a file",
                [false, true, false, false],
                "HumanReviewRequired"
            ),
            (
                "network_fetch",
                "Fetch from URL",
                [false, true, false, true],
                "HumanReviewRequired"
            ),
        ]
    );
    for tool in tools["tools"].as_array().unwrap() {
        assert_eq!(
            tool["inputSchema"],
            json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false})
        );
    }
}
