//! Scopes: what a caller's token grants, in OAuth's words.
//!
//! A scope names a capability class or one verb:
//!
//! | scope | grants |
//! |---|---|
//! | `cnv:ReadWriteFS` | every verb of `ReadWriteFS` and of every class below it in the escalation order (the classes' one ordered list: `cnv_caps::CapabilityClass::ALL`) |
//! | `cnv:file.write` | the verb `file write` alone (nested nouns joined with `.`: `cnv:cloud.bucket.list`) |
//!
//! A scope is a ceiling, never a pass: the gate still asks what the verb needs (a
//! justification, a person), and `Dangerous` never runs for an agent, whatever the token.

use core::fmt;
use core::str::FromStr;

use cnv_caps::CapabilityClass;

/// The prefix of cnv's scopes; a token's other scopes (`openid`, `mcp`) are not cnv's and
/// grant nothing here.
pub const SCOPE_PREFIX: &str = "cnv:";

/// One scope of cnv's: a class and everything below it, or one verb.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `cnv:<Class>`: the verbs of the class and of every class below it.
    Class(CapabilityClass),
    /// `cnv:<noun>.<verb>`: one verb, by its command (`"file write"`).
    Verb(String),
}

impl Scope {
    /// The scope that grants the one verb `command` (`"file write"` → `cnv:file.write`).
    #[must_use]
    pub fn verb(command: &str) -> Self {
        Self::Verb(command.to_owned())
    }

    /// Whether this scope grants the verb `command` of class `class`.
    #[must_use]
    pub fn grants(&self, class: CapabilityClass, command: &str) -> bool {
        match self {
            Self::Class(ceiling) => at_or_below(class, *ceiling),
            Self::Verb(verb) => verb == command,
        }
    }
}

/// Whether `class` is `ceiling` or below it in the escalation order (the classes' one
/// ordered list, `cnv_caps`).
#[must_use]
pub fn at_or_below(class: CapabilityClass, ceiling: CapabilityClass) -> bool {
    class.index() <= ceiling.index()
}

/// The classes at or above `class`: those whose scope grants its verbs.
pub fn ceilings_of(class: CapabilityClass) -> impl Iterator<Item = CapabilityClass> {
    CapabilityClass::ALL
        .iter()
        .copied()
        .filter(move |ceiling| at_or_below(class, *ceiling))
}

/// The classes at or below `ceiling`: those a `cnv:<ceiling>` scope grants.
pub fn classes_below(ceiling: CapabilityClass) -> impl Iterator<Item = CapabilityClass> {
    CapabilityClass::ALL
        .iter()
        .copied()
        .filter(move |class| at_or_below(*class, ceiling))
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Class(class) => write!(f, "{SCOPE_PREFIX}{class}"),
            Self::Verb(command) => write!(f, "{SCOPE_PREFIX}{}", command.replace(' ', ".")),
        }
    }
}

/// A scope that does not read as one of cnv's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "`{given}` is not a cnv scope: write `cnv:<Class>` (one of {classes}) or `cnv:<noun>.<verb>` (`cnv:file.write`)"
)]
pub struct ScopeError {
    /// The text given.
    pub given: String,
    /// The classes, for the message.
    classes: String,
}

impl ScopeError {
    fn new(given: &str) -> Self {
        Self {
            given: given.to_owned(),
            classes: CapabilityClass::NAMES.join(", "),
        }
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    /// Reads `cnv:ReadWriteFS` (a class's exact name) or `cnv:file.write` (words of
    /// lower-case letters, digits and `-`, joined with `.`).
    fn from_str(text: &str) -> Result<Self, ScopeError> {
        let rest = text
            .strip_prefix(SCOPE_PREFIX)
            .ok_or_else(|| ScopeError::new(text))?;
        if let Some(class) = CapabilityClass::ALL
            .iter()
            .copied()
            .find(|class| class.name() == rest)
        {
            return Ok(Self::Class(class));
        }
        let words: Vec<&str> = rest.split('.').collect();
        let word_ok = |word: &&str| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if words.len() >= 2 && words.iter().all(word_ok) {
            Ok(Self::Verb(words.join(" ")))
        } else {
            Err(ScopeError::new(text))
        }
    }
}

/// The cnv scopes of a token (OAuth's space-separated `scope`, or a list), ignoring every
/// scope that is not cnv's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// The cnv scopes among `scopes` (`"openid cnv:ReadOnlyFS cnv:file.write"`); those not
    /// starting with `cnv:` are not cnv's and are left out.
    ///
    /// # Errors
    ///
    /// A scope that starts with `cnv:` and does not read as one.
    pub fn parse<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        scopes
            .into_iter()
            .flat_map(str::split_whitespace)
            .filter(|scope| scope.starts_with(SCOPE_PREFIX))
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// These scopes.
    #[must_use]
    pub fn as_slice(&self) -> &[Scope] {
        &self.0
    }

    /// Whether any of them grants the verb `command` of class `class`.
    #[must_use]
    pub fn grants(&self, class: CapabilityClass, command: &str) -> bool {
        self.0.iter().any(|scope| scope.grants(class, command))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{scope}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_scope_grants_its_class_and_those_below_it() {
        let scope: Scope = "cnv:ReadWriteFS".parse().unwrap();
        assert!(scope.grants(CapabilityClass::Pure, "calc sum"));
        assert!(scope.grants(CapabilityClass::ReadWriteFS, "file write"));
        assert!(!scope.grants(CapabilityClass::Subprocess, "proc run"));
        assert!(!scope.grants(CapabilityClass::Dangerous, "workspace wipe"));
        assert_eq!(scope.to_string(), "cnv:ReadWriteFS");
    }

    #[test]
    fn a_verb_scope_grants_that_verb_alone() {
        let scope: Scope = "cnv:cloud.bucket.list".parse().unwrap();
        assert_eq!(scope, Scope::Verb("cloud bucket list".to_owned()));
        assert!(scope.grants(CapabilityClass::Network, "cloud bucket list"));
        assert!(!scope.grants(CapabilityClass::Network, "cloud bucket delete"));
        assert_eq!(scope.to_string(), "cnv:cloud.bucket.list");
        assert_eq!(Scope::verb("file write").to_string(), "cnv:file.write");
    }

    #[test]
    fn scopes_that_are_not_cnv_s_are_left_out_and_malformed_ones_refused() {
        let scopes = Scopes::parse(["openid mcp cnv:Pure", "cnv:file.read"]).unwrap();
        assert_eq!(scopes.as_slice().len(), 2);
        assert!(scopes.grants(CapabilityClass::ReadOnlyFS, "file read"));
        assert!(!scopes.grants(CapabilityClass::ReadOnlyFS, "file list"));
        for bad in [
            "cnv:",
            "cnv:file",
            "cnv:readwritefs",
            "cnv:File.Read",
            "cnv:a..b",
        ] {
            let err = Scopes::parse([bad]).unwrap_err();
            assert_eq!(err.given, bad);
            assert!(err.to_string().contains("cnv:<Class>"), "{err}");
        }
    }

    #[test]
    fn the_order_is_the_classes_one_list() {
        for &class in CapabilityClass::ALL {
            assert!(ceilings_of(class).all(|ceiling| at_or_below(class, ceiling)));
            assert!(classes_below(class).any(|below| below == class));
        }
        assert_eq!(classes_below(CapabilityClass::Pure).count(), 1);
        assert_eq!(
            ceilings_of(CapabilityClass::Pure).count(),
            CapabilityClass::ALL.len()
        );
    }
}
