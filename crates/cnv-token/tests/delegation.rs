//! Delegation as an orchestrator and its sub-agents use it, and as a sub-agent that wants
//! more would try it: every narrowing narrows, every widening is refused, a foreign or
//! damaged token is refused, budgets and expiries hold, and the chain of delegates is
//! there for the audit trail.

use std::time::{Duration, SystemTime};

use biscuit_auth::{BlockBuilder, UnverifiedBiscuit};
use cnv_caps::CapabilityClass;
use cnv_token::{
    CallCounter, Capability, MemoryCounter, Mint, Narrowing, Request, Scopes, TokenError, TokenKey,
    attenuate, mint, verify,
};
use proptest::prelude::*;

fn scopes(list: &[&str]) -> Scopes {
    Scopes::parse(list.iter().copied()).expect("valid scopes")
}

fn root(key: &TokenKey, list: &[&str]) -> String {
    mint(key, &Mint::new("orchestrator", scopes(list))).expect("minted")
}

fn allows(capability: &Capability, class: CapabilityClass, command: &str) -> bool {
    capability.authorize(&Request::new(class, command)).is_ok()
}

const READ: (CapabilityClass, &str) = (CapabilityClass::ReadOnlyFS, "file read");
const WRITE: (CapabilityClass, &str) = (CapabilityClass::ReadWriteFS, "file write");
const RUN: (CapabilityClass, &str) = (CapabilityClass::Subprocess, "proc run");
const SUM: (CapabilityClass, &str) = (CapabilityClass::Pure, "calc sum");

#[test]
fn a_class_scope_grants_down_the_lattice_and_a_verb_scope_one_verb() {
    let key = TokenKey::generate();
    let token = verify(&root(&key, &["cnv:ReadWriteFS"]), &key.public_key()).expect("verifies");
    for (class, command) in [SUM, READ, WRITE] {
        assert!(allows(&token, class, command), "{command}");
    }
    assert!(!allows(&token, RUN.0, RUN.1));
    let token = verify(&root(&key, &["cnv:file.read"]), &key.public_key()).expect("verifies");
    assert!(allows(&token, READ.0, READ.1));
    assert!(!allows(&token, CapabilityClass::ReadOnlyFS, "file list"));
    assert!(!allows(&token, SUM.0, SUM.1));
    let err = token
        .authorize(&Request::new(WRITE.0, WRITE.1))
        .expect_err("not granted");
    assert!(matches!(err, TokenError::NotGranted { .. }));
    assert!(err.to_string().contains("cnv:file.write"), "{err}");
}

#[test]
fn a_sub_agent_s_token_does_less_and_names_who_it_was_handed_to() {
    let key = TokenKey::generate();
    let token = root(&key, &["cnv:Subprocess"]);
    let narrowed = attenuate(
        &token,
        &Narrowing::to("summariser")
            .scopes(scopes(&["cnv:ReadOnlyFS", "cnv:calc.sum"]))
            .workspace("reports/2026"),
    )
    .expect("narrowed");
    let further = attenuate(
        &narrowed,
        &Narrowing::to("reader").scopes(scopes(&["cnv:file.read"])),
    )
    .expect("narrowed again");
    let capability = verify(&further, &key.public_key()).expect("verifies");
    assert!(allows(&capability, READ.0, READ.1));
    for (class, command) in [SUM, WRITE, RUN] {
        assert!(!allows(&capability, class, command), "{command}");
    }
    assert_eq!(capability.workspace(), "reports/2026/");
    assert_eq!(capability.principal(), "orchestrator");
    let to: Vec<Option<&str>> = capability
        .chain()
        .iter()
        .map(|link| link.to.as_deref())
        .collect();
    assert_eq!(
        to,
        [Some("orchestrator"), Some("summariser"), Some("reader")]
    );
    assert!(capability.chain()[1].source.contains("reports/2026/"));
}

#[test]
fn blocks_that_try_to_widen_grant_nothing() {
    let key = TokenKey::generate();
    let token = attenuate(
        &root(&key, &["cnv:ReadOnlyFS"]),
        &Narrowing::to("sub").workspace("mine"),
    )
    .expect("narrowed");
    // A holder appends raw Datalog claiming more: rights, the verifier's own facts, a
    // wider directory. Facts of a later block are not trusted by the verifier's policy.
    for widening in [
        r#"right("class", "Dangerous");"#,
        r#"right("verb", "workspace.wipe");"#,
        r#"grants_class("ReadOnlyFS"); right("class", "ReadOnlyFS");"#,
        r#"workspace_dir("");"#,
        r#"check if true;"#,
    ] {
        let widened = UnverifiedBiscuit::from_base64(&token)
            .and_then(|t| t.append(BlockBuilder::new().code(widening).expect("datalog")))
            .and_then(|t| t.to_base64())
            .expect("appended");
        let capability = verify(&widened, &key.public_key()).expect("still signed");
        assert!(
            !allows(&capability, CapabilityClass::Dangerous, "workspace wipe"),
            "{widening}"
        );
        assert!(!allows(&capability, WRITE.0, WRITE.1), "{widening}");
        assert_eq!(capability.workspace(), "mine/", "{widening}");
    }
    // Narrowing to scopes the token does not have grants nothing beyond the token.
    let asked_for_more = attenuate(
        &token,
        &Narrowing::to("greedy").scopes(scopes(&["cnv:Dangerous"])),
    )
    .expect("narrowed");
    let capability = verify(&asked_for_more, &key.public_key()).expect("verifies");
    assert!(!allows(
        &capability,
        CapabilityClass::Dangerous,
        "workspace wipe"
    ));
    assert!(!allows(&capability, WRITE.0, WRITE.1));
    // A directory outside the token's: every call fails the earlier block's check.
    let elsewhere = attenuate(&token, &Narrowing::to("lost").workspace("other")).expect("narrowed");
    let capability = verify(&elsewhere, &key.public_key()).expect("verifies");
    assert!(!allows(&capability, READ.0, READ.1));
    assert!(cnv_token::workspace_dir("../up").is_err());
    assert!(cnv_token::workspace_dir("/abs").is_err());
}

#[test]
fn a_foreign_or_damaged_token_is_refused() {
    let key = TokenKey::generate();
    let token = root(&key, &["cnv:Pure"]);
    let stranger = TokenKey::generate();
    assert!(matches!(
        verify(&token, &stranger.public_key()),
        Err(TokenError::Invalid { .. })
    ));
    let mut damaged = token.clone().into_bytes();
    let middle = damaged.len() / 2;
    damaged[middle] = if damaged[middle] == b'A' { b'B' } else { b'A' };
    let damaged = String::from_utf8(damaged).expect("base64");
    assert!(verify(&damaged, &key.public_key()).is_err());
    assert!(verify("not a token", &key.public_key()).is_err());
    // A token minted by another operator, narrowed by a holder: still refused.
    let foreign =
        attenuate(&root(&stranger, &["cnv:Dangerous"]), &Narrowing::to("x")).expect("narrowed");
    assert!(verify(&foreign, &key.public_key()).is_err());
}

#[test]
fn expiries_and_budgets_hold_across_the_chain() {
    let key = TokenKey::generate();
    let now = SystemTime::now();
    let token = mint(
        &key,
        &Mint::new("orchestrator", scopes(&["cnv:Pure"]))
            .expires(now + Duration::from_secs(3600))
            .budget(5),
    )
    .expect("minted");
    let narrowed = attenuate(
        &token,
        &Narrowing::to("sub")
            .expires(now + Duration::from_secs(60))
            .budget(2),
    )
    .expect("narrowed");
    let capability = verify(&narrowed, &key.public_key()).expect("verifies");
    let at = |secs: u64| now + Duration::from_secs(secs);
    assert!(
        capability
            .authorize(&Request::new(SUM.0, SUM.1).at(at(30)))
            .is_ok()
    );
    assert!(
        capability
            .authorize(&Request::new(SUM.0, SUM.1).at(at(120)))
            .is_err(),
        "the sub-agent's expiry"
    );
    // Counted per block: the sub-agent's two calls, then no more.
    let counter = MemoryCounter::new();
    let keys = capability.budget_keys();
    for call in 0..3 {
        let before = counter.reserve(&keys).expect("counted");
        let decided = capability.authorize(&Request::new(SUM.0, SUM.1).with_calls(&before));
        if call < 2 {
            assert!(decided.is_ok(), "call {call}");
        } else {
            let err = decided.expect_err("over the budget");
            assert!(err.to_string().contains("calls(1, $n)"), "{err}");
            counter.release(&keys);
        }
    }
    // A sibling narrowed from the same token shares the parent's budget of five.
    let sibling = verify(
        &attenuate(&token, &Narrowing::to("sibling")).expect("narrowed"),
        &key.public_key(),
    )
    .expect("verifies");
    let shared = counter.peek(&sibling.budget_keys()[..1]).expect("peeked");
    assert_eq!(shared, [2], "the root block counted the sub-agent's calls");
}

fn class_strategy() -> impl Strategy<Value = CapabilityClass> {
    proptest::sample::select(CapabilityClass::ALL.to_vec())
}

const VERBS: [(CapabilityClass, &str); 5] = [
    SUM,
    READ,
    WRITE,
    RUN,
    (CapabilityClass::Network, "net send"),
];

fn scope_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        class_strategy().prop_map(|class| format!("cnv:{class}")),
        proptest::sample::select(VERBS.to_vec())
            .prop_map(|(_, command)| format!("cnv:{}", command.replace(' ', "."))),
    ]
}

fn narrowing_strategy() -> impl Strategy<Value = Narrowing> {
    (
        proptest::option::of(proptest::collection::vec(scope_strategy(), 1..3)),
        proptest::option::of(proptest::sample::select(vec!["", "a", "a/b", "b", "a/b/c"])),
        proptest::option::of(0u64..7200),
        proptest::option::of(0u64..4),
    )
        .prop_map(|(scopes, dir, expires, budget)| {
            let mut narrowing = Narrowing::to("sub");
            if let Some(list) = scopes {
                narrowing = narrowing
                    .scopes(Scopes::parse(list.iter().map(String::as_str)).expect("valid"));
            }
            if let Some(dir) = dir {
                narrowing = narrowing.workspace(dir);
            }
            if let Some(secs) = expires {
                narrowing = narrowing
                    .expires(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs));
            }
            if let Some(budget) = budget {
                narrowing = narrowing.budget(budget);
            }
            narrowing
        })
}

/// One link of a random chain: a narrowing as `cnv-token attenuate` makes it, or raw
/// Datalog a holder appends to claim more.
#[derive(Clone, Debug)]
enum Link {
    Narrow(Narrowing),
    Raw(&'static str),
}

const CLAIMS: [&str; 6] = [
    r#"right("class", "Dangerous");"#,
    r#"right("verb", "file.write"); right("verb", "proc.run");"#,
    r#"grants_class("Pure"); grants_class("Dangerous");"#,
    r#"workspace_dir(""); calls(0, 0); calls(1, 0); calls(2, 0); calls(3, 0);"#,
    r#"time(1970-01-01T00:00:00Z);"#,
    r#"class("Pure"); verb("calc.sum");"#,
];

fn link_strategy() -> impl Strategy<Value = Link> {
    prop_oneof![
        3 => narrowing_strategy().prop_map(Link::Narrow),
        1 => proptest::sample::select(CLAIMS.to_vec()).prop_map(Link::Raw),
    ]
}

fn append(token: &str, link: &Link) -> String {
    match link {
        Link::Narrow(narrowing) => attenuate(token, narrowing).expect("narrowed"),
        Link::Raw(datalog) => UnverifiedBiscuit::from_base64(token)
            .and_then(|t| t.append(BlockBuilder::new().code(*datalog).expect("datalog")))
            .and_then(|t| t.to_base64())
            .expect("appended"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever a chain of narrowings asks for (more scopes than its token, another
    /// directory, a later expiry, a larger budget, or raw facts claiming rights, the
    /// verifier's own facts, another time), every call the narrowed token is
    /// allowed, the token it was narrowed from allows too, in a directory that holds the
    /// narrowed one's.
    #[test]
    fn attenuation_only_narrows(
        roots in proptest::collection::vec(scope_strategy(), 1..3),
        chain in proptest::collection::vec(link_strategy(), 1..4),
        when in 0u64..7200,
        calls in 0u64..5,
    ) {
        let key = TokenKey::generate();
        let mut tokens = vec![mint(
            &key,
            &Mint::new("root", Scopes::parse(roots.iter().map(String::as_str)).expect("valid")),
        ).expect("minted")];
        for link in &chain {
            let last = tokens.last().expect("one").clone();
            tokens.push(append(&last, link));
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + when);
        let counts = vec![calls; tokens.len()];
        let capabilities: Vec<Capability> = tokens
            .iter()
            .map(|token| verify(token, &key.public_key()).expect("verifies"))
            .collect();
        // The root token grants exactly what its scopes say (no budget or expiry on it):
        // the verifier refuses what it must, not everything.
        let root_scopes = Scopes::parse(roots.iter().map(String::as_str)).expect("valid");
        for (class, command) in VERBS {
            let request = Request::new(class, command).at(now).with_calls(&counts);
            prop_assert_eq!(
                capabilities[0].authorize(&request).is_ok(),
                root_scopes.grants(class, command),
                "the root token and its scopes disagree on `{}`", command
            );
        }
        for pair in capabilities.windows(2) {
            let (parent, child) = (&pair[0], &pair[1]);
            for (class, command) in VERBS {
                let request = Request::new(class, command).at(now).with_calls(&counts);
                if child.authorize(&request).is_ok() {
                    prop_assert!(
                        parent.authorize(&request).is_ok(),
                        "the child was allowed `{}` and its parent was not", command
                    );
                    prop_assert!(child.workspace().starts_with(parent.workspace()));
                }
            }
        }
    }
}
