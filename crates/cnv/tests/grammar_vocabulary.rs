//! `grammar_dsl!` speaks cnv-caps' vocabulary: grammars that use every class, band and
//! profile expand into the contracts `cnv-caps` builds, with each class's default safety,
//! and what the macro writes validates at run time.

use cnv::prelude::*;

/// Every class without `safety:` (but `Dangerous`, which must declare it), in every
/// band, with every stability.
static DEFAULTS: GrammarModel = grammar_dsl! {
    app "defaults" version "0.1.0" {
        noun "class" help "One verb per class, no safety declared" {
            verb "pure" { capability: Pure, resource: Instant, stability: Stable, help: "Pure" }
            verb "read-only-fs" { capability: ReadOnlyFS, resource: Fast, stability: Preview, help: "ReadOnlyFS" }
            verb "environment" { capability: Environment, resource: Medium, stability: Experimental, help: "Environment" }
            verb "network" { capability: Network, resource: Slow, stability: Deprecated, help: "Network" }
            verb "read-write-fs" { capability: ReadWriteFS, resource: Cold, stability: NonDeterministic, help: "ReadWriteFS" }
            verb "subprocess" { capability: Subprocess, resource: Fast, help: "Subprocess" }
        }
    }
};

#[test]
fn a_verb_without_safety_gets_its_class_default_from_cnv_caps() {
    let verbs: Vec<_> = DEFAULTS.verbs().map(|(_, verb)| verb.contract()).collect();
    let expected_classes = &CapabilityClass::ALL[..6];
    assert_eq!(verbs.len(), expected_classes.len());
    for (contract, class) in verbs.iter().zip(expected_classes) {
        assert_eq!(contract.class(), *class);
        assert_eq!(contract.safety(), class.default_safety(), "{class}");
        assert_eq!(contract.is_agent_safe(), class.is_agent_safe(), "{class}");
        assert_eq!(
            *contract,
            CapabilityContract::new(*class, contract.band()).with_stability(contract.stability())
        );
    }
    let bands: Vec<_> = verbs.iter().map(CapabilityContract::band).collect();
    assert_eq!(bands[..5], *ResourceBand::ALL);
    let stabilities: Vec<_> = verbs.iter().map(CapabilityContract::stability).collect();
    assert_eq!(stabilities[..5], *StabilityProfile::ALL);
}

/// Every safety each class may declare.
static DECLARED: GrammarModel = grammar_dsl! {
    app "declared" {
        noun "safe" help "Agent-safe classes, every profile" {
            verb "pure-agent" { capability: Pure, resource: Instant, safety: AgentSafe, help: "x" }
            verb "pure-review" { capability: Pure, resource: Instant, safety: HumanReviewRequired, help: "x" }
            verb "pure-interactive" { capability: Pure, resource: Instant, safety: InteractiveOnly, help: "x" }
            verb "read-agent" { capability: ReadOnlyFS, resource: Fast, safety: AgentSafe, help: "x" }
        }
        noun "unsafe" help "Other classes, the profiles they may have" {
            verb "environment" { capability: Environment, resource: Instant, safety: InteractiveOnly, help: "x" }
            verb "network" { capability: Network, resource: Slow, safety: HumanReviewRequired, help: "x" }
            verb "write" { capability: ReadWriteFS, resource: Fast, safety: InteractiveOnly, help: "x" }
            verb "spawn" { capability: Subprocess, resource: Medium, safety: HumanReviewRequired, help: "x" }
            verb "wipe" { capability: Dangerous, resource: Cold, safety: InteractiveOnly, help: "x" }
            verb "nuke" { capability: Dangerous, resource: Cold, safety: HumanReviewRequired, help: "x" }
        }
    }
};

#[test]
fn declared_safety_is_kept_and_never_agent_safe_for_an_unsafe_class() {
    let safety = |noun: &str, verb: &str| DECLARED.verb(noun, verb).unwrap().contract().safety();
    assert_eq!(safety("safe", "pure-agent"), SafetyProfile::AgentSafe);
    assert_eq!(
        safety("safe", "pure-review"),
        SafetyProfile::HumanReviewRequired
    );
    assert_eq!(
        safety("safe", "pure-interactive"),
        SafetyProfile::InteractiveOnly
    );
    assert_eq!(safety("unsafe", "wipe"), SafetyProfile::InteractiveOnly);
    assert_eq!(safety("unsafe", "nuke"), SafetyProfile::HumanReviewRequired);
    for verb in DECLARED.noun("unsafe").unwrap().verbs() {
        assert!(!verb.contract().is_agent_safe(), "{}", verb.name());
    }
    assert_eq!(DECLARED.version(), None);
}

#[test]
fn macro_models_validate_at_run_time_and_the_crate_path_can_be_overridden() {
    let grammar = grammar_dsl! {
        crate = ::cnv::grammar;
        app "tool" version "2.1.0-beta.1" help "A tool" {
            noun "cloud" help "Cloud resources" long_help "Everything in the cloud." {
                noun "bucket" help "Buckets" {
                    verb "list" {
                        help: "List buckets",
                        capability: Network,
                        resource: Medium,
                        stability: Preview,
                        long_help: "Lists every bucket the account can see.",
                        args: [
                            prefix: Option<String> "Only buckets whose name starts with this",
                            -l --limit: u32 = 100 "At most this many",
                            --region: Vec<String> "Only these regions (repeatable)",
                            -a --all: bool "Include deleted buckets",
                        ],
                    }
                    verb "purge" {
                        capability: Dangerous,
                        resource: Cold,
                        safety: InteractiveOnly,
                        help: "Delete a bucket and everything in it",
                        deprecated: "use `bucket delete --recursive`",
                        args: [name: String "The bucket", --offset: i64 = -1 "Start here", --ratio: f64 = 0.5 "How much", --sep: char = ',' "Separator"],
                    }
                }
                verb "status" { capability: Network, resource: Fast, help: "Show status" }
            }
        }
    };
    assert_eq!(grammar.validate(), Ok(()));
    assert_eq!(grammar.help(), Some("A tool"));
    assert_eq!(
        grammar.noun("cloud").unwrap().long_help(),
        Some("Everything in the cloud.")
    );
    let paths: Vec<String> = grammar
        .verbs()
        .map(|(path, verb)| format!("{path} {}", verb.name()))
        .collect();
    assert_eq!(
        paths,
        ["cloud status", "cloud bucket list", "cloud bucket purge"]
    );

    let list = grammar.verb("cloud bucket", "list").unwrap();
    assert_eq!(
        list.long_help(),
        Some("Lists every bucket the account can see.")
    );
    assert_eq!(list.contract().stability(), StabilityProfile::Preview);
    let args: Vec<_> = list
        .args()
        .iter()
        .map(|a| {
            (
                a.name(),
                a.value_type(),
                a.kind(),
                a.is_required(),
                a.default_value(),
                a.is_multiple(),
            )
        })
        .collect();
    assert_eq!(
        args,
        [
            (
                "prefix",
                "String",
                ArgumentKind::Positional,
                false,
                None,
                false
            ),
            (
                "limit",
                "u32",
                ArgumentKind::Named { short: Some('l') },
                false,
                Some("100"),
                false
            ),
            (
                "region",
                "String",
                ArgumentKind::Named { short: None },
                false,
                None,
                true
            ),
            (
                "all",
                "bool",
                ArgumentKind::Named { short: Some('a') },
                false,
                Some("false"),
                false
            ),
        ]
    );
    assert!(list.arg("all").unwrap().is_switch());
    assert_eq!(list.arg("limit").unwrap().help(), "At most this many");

    let purge = grammar.find(&["cloud", "bucket", "purge"]).unwrap();
    assert_eq!(purge.deprecation(), Some("use `bucket delete --recursive`"));
    assert_eq!(purge.contract().stability(), StabilityProfile::Deprecated);
    assert_eq!(purge.contract().safety(), SafetyProfile::InteractiveOnly);
    let defaults: Vec<_> = purge.args().iter().map(|a| a.default_value()).collect();
    assert_eq!(defaults, [None, Some("-1"), Some("0.5"), Some(",")]);
}
