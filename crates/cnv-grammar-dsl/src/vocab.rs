//! The words of the DSL: capability classes, resource bands, safety and stability
//! profiles, and the agent-safety rule.
//!
//! This crate depends on no runtime crate (the macro runs inside the compiler), so these
//! tables repeat what `cnv-caps` defines. The `cnv` facade's test
//! `grammar_vocabulary.rs` proves they agree with `cnv-caps` name for name.

/// A capability class as the DSL knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Class {
    /// The name, as in `CapabilityClass::NAMES`.
    pub name: &'static str,
    /// `CapabilityClass::is_agent_safe`.
    pub agent_safe: bool,
    /// `CapabilityClass::default_safety`, by name.
    pub default_safety: &'static str,
}

/// Every capability class, in the order of `CapabilityClass::ALL`.
pub const CLASSES: &[Class] = &[
    Class {
        name: "Pure",
        agent_safe: true,
        default_safety: AGENT_SAFE,
    },
    Class {
        name: "ReadOnlyFS",
        agent_safe: true,
        default_safety: AGENT_SAFE,
    },
    Class {
        name: "Environment",
        agent_safe: false,
        default_safety: HUMAN_REVIEW,
    },
    Class {
        name: "Network",
        agent_safe: false,
        default_safety: HUMAN_REVIEW,
    },
    Class {
        name: "ReadWriteFS",
        agent_safe: false,
        default_safety: HUMAN_REVIEW,
    },
    Class {
        name: "Subprocess",
        agent_safe: false,
        default_safety: HUMAN_REVIEW,
    },
    Class {
        name: "Dangerous",
        agent_safe: false,
        default_safety: INTERACTIVE_ONLY,
    },
];

/// The class that must say who reviews it (`safety:` is required).
pub const DANGEROUS: &str = "Dangerous";

/// Every resource band, in the order of `ResourceBand::NAMES`.
pub const BANDS: &[&str] = &["Instant", "Fast", "Medium", "Slow", "Cold"];

/// The safety profile an autonomous agent may run unsupervised.
pub const AGENT_SAFE: &str = "AgentSafe";
/// A human reviews each run.
pub const HUMAN_REVIEW: &str = "HumanReviewRequired";
/// Only a human at a terminal runs it.
pub const INTERACTIVE_ONLY: &str = "InteractiveOnly";

/// Every safety profile, in the order of `SafetyProfile::NAMES`.
pub const SAFETY: &[&str] = &[AGENT_SAFE, HUMAN_REVIEW, INTERACTIVE_ONLY];

/// The stability a deprecated verb has.
pub const DEPRECATED: &str = "Deprecated";

/// Every stability profile, in the order of `StabilityProfile::NAMES`.
pub const STABILITY: &[&str] = &[
    "Stable",
    "Preview",
    "Experimental",
    DEPRECATED,
    "NonDeterministic",
];

/// The names no noun or verb may have: clap gives the application and every noun a
/// `help` subcommand (`cnv_grammar::__private::RESERVED_COMMAND_NAMES`).
pub const RESERVED_COMMAND_NAMES: &[&str] = &["help"];

/// The names no argument may have: the global flags of every command line that
/// `cnv-cli` makes from a grammar (`cnv_cli::__private::RESERVED_ARGUMENT_NAMES`, which
/// the `cnv` facade's tests check equal), clap's `help` and `version` included.
pub const RESERVED_ARGUMENT_NAMES: &[&str] = &[
    "agent",
    "justify",
    "yes",
    "format",
    "audit-log",
    "grammar",
    "mcp-tools",
    "capabilities",
    "completions",
    "help",
    "version",
];

/// The class called `name`, exactly as spelled.
#[must_use]
pub fn class(name: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|class| class.name == name)
}

/// The names of every class, in order.
#[must_use]
pub fn class_names() -> Vec<&'static str> {
    CLASSES.iter().map(|class| class.name).collect()
}

/// The accepted name closest to `input`, if it is close enough to be a typo: the edit
/// distance (ignoring ASCII case, `-`, `_` and spaces) is at most a third of the name's
/// length, at least one and at most three (the rule of `cnv-caps`' `ParseError`), or the
/// input is the start of the name (four characters at least).
#[must_use]
pub fn suggest<'a>(input: &str, names: &[&'a str]) -> Option<&'a str> {
    let typed = normalized(input);
    // A name cut short (`HumanReview` for `HumanReviewRequired`) is a close one too.
    if typed.len() >= 4
        && let Some(name) = names
            .iter()
            .find(|name| normalized(name).starts_with(&typed))
    {
        return Some(name);
    }
    names
        .iter()
        .map(|name| (edit_distance(input, name), *name))
        .filter(|(distance, name)| *distance <= (name.len() / 3).clamp(1, 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn normalized(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Optimal string alignment distance over normalized chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (normalized(a), normalized(b));
    let width = b.len() + 1;
    let mut d: Vec<usize> = (0..(a.len() + 1) * width).map(|i| i % width).collect();
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// `a`, `b` or `c` / `a`, `b`, … as text for messages: every name in backticks.
#[must_use]
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_case() {
        assert_eq!(suggest("ReadOnlyFs", &class_names()), Some("ReadOnlyFS"));
        assert_eq!(suggest("Netwrk", &class_names()), Some("Network"));
        assert_eq!(suggest("Fats", BANDS), Some("Fast"));
        assert_eq!(suggest("halp", &["help", "long_help"]), Some("help"));
        assert_eq!(suggest("Quantum", &class_names()), None);
        assert_eq!(suggest("HumanReview", SAFETY), Some(HUMAN_REVIEW));
        assert_eq!(suggest("Net", &class_names()), None);
    }

    #[test]
    fn only_pure_and_read_only_are_agent_safe_and_dangerous_is_interactive() {
        let safe: Vec<_> = CLASSES
            .iter()
            .filter(|c| c.agent_safe)
            .map(|c| c.name)
            .collect();
        assert_eq!(safe, ["Pure", "ReadOnlyFS"]);
        for class in CLASSES {
            assert_eq!(class.agent_safe, class.default_safety == AGENT_SAFE);
        }
        assert_eq!(
            class(DANGEROUS).map(|c| c.default_safety),
            Some(INTERACTIVE_ONLY)
        );
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
