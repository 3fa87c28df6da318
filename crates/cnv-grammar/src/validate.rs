//! Checking a model built or loaded at run time: every problem at once.
//!
//! `grammar_dsl!` applies the same rules at compile time (with the exact token of each
//! mistake), so a model from the macro always validates.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use cnv_caps::StabilityProfile;

use crate::value::Scalar;
use crate::{
    ArgumentKind, GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb, MAX_NOUN_DEPTH,
};

/// One problem of a grammar model, with where it is (`noun \`file\` › verb \`read\``).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrammarError {
    /// A name that is not a lowercase kebab-case word.
    #[error(
        "{at}: `{name}` is not a valid name; use a lowercase kebab-case word such as `read` \
         or `dry-run` (ASCII letters and digits, words joined by single `-`, starting with a letter)"
    )]
    InvalidName {
        /// Where the name is.
        at: String,
        /// The name.
        name: String,
    },
    /// A version that is not semantic versioning.
    #[error(
        "the version `{version}` is not a semantic version ({reason}); write it as `MAJOR.MINOR.PATCH`, e.g. `1.0.0`"
    )]
    InvalidVersion {
        /// The version.
        version: String,
        /// What the semver parser said.
        reason: String,
    },
    /// A grammar with no nouns.
    #[error("the grammar has no nouns; add at least one noun with a verb")]
    NoNouns,
    /// A noun with neither verbs nor nested nouns.
    #[error("{at} has no verbs and no nested nouns; add a verb or remove the noun")]
    EmptyNoun {
        /// The noun.
        at: String,
    },
    /// A noun or verb with a name the command line keeps for itself: `help` (clap adds
    /// a `help` subcommand to every command that has subcommands, so a noun or verb
    /// called `help` would clash with it).
    #[error(
        "{at}: the name `{name}` is reserved for the command line's own `help` subcommand \
         (`myapp help file`); choose another name"
    )]
    ReservedName {
        /// Where the name is.
        at: String,
        /// The name.
        name: String,
    },
    /// An empty help text.
    #[error("{at} has an empty help text; say in one line what it does")]
    MissingHelp {
        /// What lacks help.
        at: String,
    },
    /// A command longer than [`MAX_COMMAND_LEN`]: it is also the verb's MCP tool name,
    /// which MCP clients expect to be at most 128 characters.
    #[error(
        "{at}: the command `{command}` is {len} characters long; at most {max} are allowed, since \
         its words joined by `_` are the verb's MCP tool name; shorten the verb's or its nouns' names",
        max = MAX_COMMAND_LEN
    )]
    CommandTooLong {
        /// The verb.
        at: String,
        /// The command: the nouns' names and the verb's, separated by spaces.
        command: String,
        /// Its length in characters.
        len: usize,
    },
    /// A long help text that is there but empty.
    #[error("{at} has an empty long help; write the longer description, or remove it")]
    EmptyLongHelp {
        /// What has it.
        at: String,
    },
    /// A deprecation note that is there but empty.
    #[error("{at} has an empty deprecation note; say what to use instead")]
    EmptyDeprecation {
        /// The verb.
        at: String,
    },
    /// Two siblings with one name: two nouns, two verbs, or a noun and a verb of the
    /// same noun (the command line could not tell them apart).
    #[error(
        "{at}: `{name}` is declared twice; every noun and verb under one parent needs its own name"
    )]
    DuplicateName {
        /// The parent.
        at: String,
        /// The name.
        name: String,
    },
    /// Nouns nested more deeply than [`MAX_NOUN_DEPTH`].
    #[error("{at} is nested {depth} nouns deep; at most {max} are allowed", max = MAX_NOUN_DEPTH)]
    TooDeep {
        /// The noun.
        at: String,
        /// How deep it is.
        depth: usize,
    },
    /// A deprecation note on a verb whose stability is not `Deprecated`.
    #[error(
        "{at} has a deprecation note but its stability is `{stability}`; a deprecated verb's stability is `Deprecated`"
    )]
    DeprecationMismatch {
        /// The verb.
        at: String,
        /// Its declared stability.
        stability: StabilityProfile,
    },
    /// An argument that contradicts itself or its siblings.
    #[error("{at}, argument `{name}`: {reason}")]
    InvalidArgument {
        /// The verb.
        at: String,
        /// The argument.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// Every problem [`GrammarModel::validate`] found, in declaration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrammarErrors {
    errors: Vec<GrammarError>,
}

impl GrammarErrors {
    /// The problems, in declaration order (never empty).
    #[must_use]
    pub fn errors(&self) -> &[GrammarError] {
        &self.errors
    }

    /// How many problems.
    #[must_use]
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a `GrammarErrors` holds at least one problem.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl IntoIterator for GrammarErrors {
    type Item = GrammarError;
    type IntoIter = alloc::vec::IntoIter<GrammarError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl fmt::Display for GrammarErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "the grammar has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

impl core::error::Error for GrammarErrors {}

/// Whether `name` is a lowercase kebab-case word: ASCII lowercase letters and digits in
/// words joined by single `-`, starting with a letter (`read`, `dry-run`, `ipv4`).
///
/// ```
/// use cnv_grammar::is_kebab_word;
///
/// assert!(is_kebab_word("dry-run"));
/// assert!(!is_kebab_word("DryRun"));
/// assert!(!is_kebab_word("dry--run"));
/// assert!(!is_kebab_word("read file"));
/// ```
#[must_use]
pub fn is_kebab_word(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The longest command, in characters: a verb's nouns' names and its own, separated by
/// single spaces (`cloud bucket list` is 17). Its MCP tool name (the same words joined by
/// `_`, see [`GrammarModel::to_mcp_tools`](crate::GrammarModel)) is as long, and the
/// MCP specification (revision 2025-11-25) says a tool name SHOULD be at most 128
/// characters, so [`GrammarModel::validate`] and `grammar_dsl!` refuse longer commands.
pub const MAX_COMMAND_LEN: usize = 128;

/// The names a noun or verb may not have: clap gives every command that has
/// subcommands (the application and each noun) a `help` subcommand.
pub const RESERVED_COMMAND_NAMES: &[&str] = &["help"];

impl GrammarModel {
    /// Checks the whole model and returns every problem: names that are not kebab-case
    /// words, nouns or verbs called `help` (the command line's own subcommand), an
    /// invalid version, empty help (and long help or deprecation notes that are there
    /// but empty), duplicate siblings, empty nouns, nesting deeper than
    /// [`MAX_NOUN_DEPTH`], commands longer than [`MAX_COMMAND_LEN`], deprecation notes on verbs that are not
    /// `Deprecated`, and arguments that contradict themselves (a `bool` switch with a
    /// default other than `false`, among others; see
    /// [`GrammarError`]).
    ///
    /// # Errors
    ///
    /// [`GrammarErrors`] listing every problem, in declaration order.
    ///
    /// ```
    /// use cnv_caps::CapabilityContract;
    /// use cnv_grammar::{GrammarModel, GrammarNoun, GrammarVerb};
    ///
    /// let grammar = GrammarModel::new("myapp").with_version("1.0").with_noun(
    ///     GrammarNoun::new("File", "File operations")
    ///         .with_verb(GrammarVerb::new("read", "", CapabilityContract::pure())),
    /// );
    /// let errors = grammar.validate().unwrap_err();
    /// assert_eq!(errors.len(), 3); // the version, the name `File`, the empty help
    /// ```
    pub fn validate(&self) -> Result<(), GrammarErrors> {
        let mut errors = Vec::new();
        if !is_kebab_word(&self.name) {
            errors.push(GrammarError::InvalidName {
                at: "the application".to_string(),
                name: self.name.to_string(),
            });
        }
        if let Some(version) = &self.version
            && let Err(err) = semver::Version::parse(version)
        {
            errors.push(GrammarError::InvalidVersion {
                version: version.to_string(),
                reason: err.to_string(),
            });
        }
        if self.help.as_deref().is_some_and(is_blank) {
            errors.push(GrammarError::MissingHelp {
                at: "the application".to_string(),
            });
        }
        if self.nouns.is_empty() {
            errors.push(GrammarError::NoNouns);
        }
        check_siblings("the application", &self.nouns, &[], &mut errors);
        for noun in self.nouns.iter() {
            check_noun(noun, "", "", 1, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(GrammarErrors { errors })
        }
    }
}

/// `parent` is where the noun is, for messages; `command` the names of the nouns that
/// lead to it, separated by spaces.
fn check_noun(
    noun: &GrammarNoun,
    parent: &str,
    command: &str,
    depth: usize,
    errors: &mut Vec<GrammarError>,
) {
    let (at, command) = if parent.is_empty() {
        (format!("noun `{}`", noun.name), noun.name.to_string())
    } else {
        (
            format!("{parent} › noun `{}`", noun.name),
            format!("{command} {}", noun.name),
        )
    };
    if depth > MAX_NOUN_DEPTH {
        errors.push(GrammarError::TooDeep { at, depth });
        return;
    }
    check_command_name(&noun.name, &at, errors);
    if is_blank(&noun.help) {
        errors.push(GrammarError::MissingHelp { at: at.clone() });
    }
    if noun.long_help.as_deref().is_some_and(is_blank) {
        errors.push(GrammarError::EmptyLongHelp { at: at.clone() });
    }
    if noun.nouns.is_empty() && noun.verbs.is_empty() {
        errors.push(GrammarError::EmptyNoun { at: at.clone() });
    }
    check_siblings(&at, &noun.nouns, &noun.verbs, errors);
    for verb in noun.verbs.iter() {
        check_verb(verb, &at, &command, errors);
    }
    for child in noun.nouns.iter() {
        check_noun(child, &at, &command, depth + 1, errors);
    }
}

/// The name of a noun or verb: a kebab-case word, and not one the command line keeps.
fn check_command_name(name: &str, at: &str, errors: &mut Vec<GrammarError>) {
    if !is_kebab_word(name) {
        errors.push(GrammarError::InvalidName {
            at: at.to_string(),
            name: name.to_string(),
        });
    } else if RESERVED_COMMAND_NAMES.contains(&name) {
        errors.push(GrammarError::ReservedName {
            at: at.to_string(),
            name: name.to_string(),
        });
    }
}

/// Whether a text is empty or only white space.
fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn check_siblings(
    at: &str,
    nouns: &[GrammarNoun],
    verbs: &[GrammarVerb],
    errors: &mut Vec<GrammarError>,
) {
    let mut seen = BTreeSet::new();
    let names = nouns
        .iter()
        .map(GrammarNoun::name)
        .chain(verbs.iter().map(GrammarVerb::name));
    for name in names {
        if !seen.insert(name) {
            errors.push(GrammarError::DuplicateName {
                at: at.to_string(),
                name: name.to_string(),
            });
        }
    }
}

fn check_verb(verb: &GrammarVerb, noun: &str, nouns: &str, errors: &mut Vec<GrammarError>) {
    let at = format!("{noun} › verb `{}`", verb.name);
    check_command_name(&verb.name, &at, errors);
    let command = format!("{nouns} {}", verb.name);
    let len = command.chars().count();
    if len > MAX_COMMAND_LEN {
        errors.push(GrammarError::CommandTooLong {
            at: at.clone(),
            command,
            len,
        });
    }
    if is_blank(&verb.help) {
        errors.push(GrammarError::MissingHelp { at: at.clone() });
    }
    if verb.long_help.as_deref().is_some_and(is_blank) {
        errors.push(GrammarError::EmptyLongHelp { at: at.clone() });
    }
    if verb.deprecated.as_deref().is_some_and(is_blank) {
        errors.push(GrammarError::EmptyDeprecation { at: at.clone() });
    }
    if verb.deprecated.is_some() && verb.contract.stability() != StabilityProfile::Deprecated {
        errors.push(GrammarError::DeprecationMismatch {
            at: at.clone(),
            stability: verb.contract.stability(),
        });
    }
    let mut names = BTreeSet::new();
    let mut shorts = BTreeSet::new();
    let mut optional_positional: Option<&str> = None;
    let mut multiple_positional: Option<&str> = None;
    for arg in verb.args.iter() {
        let mut problem = |reason: String| {
            errors.push(GrammarError::InvalidArgument {
                at: at.clone(),
                name: arg.name.to_string(),
                reason,
            });
        };
        if !is_kebab_word(&arg.name) {
            problem(
                "the name is not a lowercase kebab-case word such as `path` or `timeout-ms`"
                    .to_string(),
            );
        }
        if arg.name == "help" {
            problem("`--help` is reserved for the command's help; choose another name".to_string());
        }
        if !names.insert(&*arg.name) {
            problem("declared twice; every argument of a verb needs its own name".to_string());
        }
        if arg.value_type.trim().is_empty() {
            problem(
                "has no value type; give the Rust type its value parses into, e.g. `String`"
                    .to_string(),
            );
        }
        if is_blank(&arg.help) {
            problem("has an empty help text; say in one line what the value is".to_string());
        }
        check_argument_values(arg, &mut problem);
        match arg.kind {
            ArgumentKind::Named { short: Some(short) } => {
                if !short.is_ascii_alphanumeric() {
                    problem(format!(
                        "the short flag `-{short}` is not an ASCII letter or digit"
                    ));
                } else if short == 'h' {
                    problem(
                        "`-h` is reserved for the command's help; choose another letter"
                            .to_string(),
                    );
                } else if !shorts.insert(short) {
                    problem(format!(
                        "the short flag `-{short}` is already used by another argument of this verb"
                    ));
                }
            }
            ArgumentKind::Named { short: None } => {}
            ArgumentKind::Positional => {
                if let Some(previous) = multiple_positional {
                    problem(format!(
                        "comes after `{previous}`, which takes every remaining value; the repeatable positional argument must be the last one"
                    ));
                } else if arg.required
                    && let Some(previous) = optional_positional
                {
                    problem(format!(
                        "is required but comes after the optional `{previous}`; put required positional arguments first"
                    ));
                }
                if arg.multiple {
                    multiple_positional = Some(&arg.name);
                } else if !arg.required {
                    optional_positional = Some(&arg.name);
                }
            }
        }
    }
}

fn check_argument_values(arg: &GrammarArgument, problem: &mut impl FnMut(String)) {
    if arg.required && arg.default.is_some() {
        problem(
            "is required but has a default; an argument with a default is optional".to_string(),
        );
    }
    if arg.multiple && arg.default.is_some() {
        problem(
            "is repeatable and has a default; a repeatable argument defaults to no values"
                .to_string(),
        );
    }
    if arg.multiple && arg.is_switch() {
        problem("a `bool` switch cannot be repeatable".to_string());
    }
    if arg.is_switch() && arg.required {
        problem("a `bool` switch is off unless given, so it cannot be required".to_string());
    }
    if arg.is_switch()
        && let Some(default) = arg.default.as_deref()
        && default != "false"
    {
        // The command line sets a switch to `true` when given and `false` otherwise, so
        // any other default would be advertised (in `--help`, the MCP manifest) and
        // never used.
        problem(format!(
            "a `bool` switch is off unless given, so its default is `false`, not `{default}`; \
             remove the default or make it `false`"
        ));
    }
    if let Some(default) = &arg.default {
        let scalar = Scalar::of(&arg.value_type);
        if !scalar.accepts(default) {
            problem(format!(
                "the default `{default}` is not a valid `{}`",
                arg.value_type
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv_caps::CapabilityContract;

    fn verb(name: &str) -> GrammarVerb {
        GrammarVerb::new(name.to_string(), "Does it", CapabilityContract::pure())
    }

    fn valid() -> GrammarModel {
        GrammarModel::new("myapp")
            .with_version("1.2.3-beta.1+build.5")
            .with_noun(
                GrammarNoun::new("file", "Files").with_verb(
                    verb("write")
                        .with_arg(GrammarArgument::positional("path", "PathBuf", "Where"))
                        .with_arg(GrammarArgument::named("content", "String", "What"))
                        .with_arg(
                            GrammarArgument::named("timeout-ms", "u64", "How long")
                                .with_short('t')
                                .with_default("500"),
                        )
                        .with_arg(GrammarArgument::named("force", "bool", "Overwrite")),
                ),
            )
    }

    #[test]
    fn a_sound_model_validates() {
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn kebab_words() {
        for good in ["a", "read", "dry-run", "ipv4", "a-1-b"] {
            assert!(is_kebab_word(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "Read",
            "read_file",
            "read file",
            "1a",
            "é",
        ] {
            assert!(!is_kebab_word(bad), "{bad}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut grammar = GrammarModel::new("My App").with_version("1.0");
        grammar
            .add_noun(
                GrammarNoun::new("file", "Files")
                    .with_verb(verb("read"))
                    .with_verb(verb("read"))
                    .with_noun(GrammarNoun::new("read", "Clash")),
            )
            .add_noun(GrammarNoun::new("file", " "))
            .add_noun(
                GrammarNoun::new("net", "Net").with_verb(
                    verb("old").deprecated("use new").with_arg(
                        GrammarArgument::named("x", "u8", "X")
                            .with_short('h')
                            .with_default("-1"),
                    ),
                ),
            );
        let errors = grammar.validate().unwrap_err();
        let kinds: Vec<_> = errors
            .errors()
            .iter()
            .map(|e| match e {
                GrammarError::InvalidName { .. } => "name",
                GrammarError::InvalidVersion { .. } => "version",
                GrammarError::DuplicateName { .. } => "duplicate",
                GrammarError::MissingHelp { .. } => "help",
                GrammarError::EmptyNoun { .. } => "empty",
                GrammarError::InvalidArgument { .. } => "arg",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "name",
                "version",
                "duplicate",
                "duplicate",
                "duplicate",
                "empty",
                "help",
                "empty",
                "arg",
                "arg"
            ],
            "{errors}"
        );
        let text = errors.to_string();
        assert!(text.starts_with("the grammar has 10 problems:"), "{text}");
        assert!(
            text.contains("noun `net` › verb `old`, argument `x`: `-h` is reserved"),
            "{text}"
        );
    }

    #[test]
    fn help_is_no_noun_or_verb_name() {
        // clap gives the application and every noun a `help` subcommand; a noun or verb
        // of that name would make `CliBuilder::build` panic in clap.
        let grammar = GrammarModel::new("app").with_noun(
            GrammarNoun::new("help", "Help topics")
                .with_verb(verb("show"))
                .with_noun(GrammarNoun::new("docs", "Docs").with_verb(verb("help"))),
        );
        let errors = grammar.validate().unwrap_err();
        assert_eq!(
            errors.errors(),
            [
                GrammarError::ReservedName {
                    at: "noun `help`".to_string(),
                    name: "help".to_string()
                },
                GrammarError::ReservedName {
                    at: "noun `help` › noun `docs` › verb `help`".to_string(),
                    name: "help".to_string()
                },
            ],
            "{errors}"
        );
        assert!(
            errors
                .to_string()
                .contains("reserved for the command line's own `help` subcommand")
        );
    }

    #[test]
    fn empty_optional_texts_and_switch_defaults_are_refused_as_by_the_macro() {
        let grammar = GrammarModel::new("app").with_help(" ").with_noun(
            GrammarNoun::new("n", "N").with_long_help("").with_verb(
                verb("v")
                    .with_long_help("\n")
                    .deprecated("")
                    .with_arg(GrammarArgument::named("force", "bool", "F").with_default("true"))
                    .with_arg(GrammarArgument::named("quiet", "bool", "Q").with_default("false")),
            ),
        );
        let errors = grammar.validate().unwrap_err();
        let at = |at: &str| at.to_string();
        assert_eq!(
            errors.errors()[..4],
            [
                GrammarError::MissingHelp {
                    at: at("the application")
                },
                GrammarError::EmptyLongHelp { at: at("noun `n`") },
                GrammarError::EmptyLongHelp {
                    at: at("noun `n` › verb `v`")
                },
                GrammarError::EmptyDeprecation {
                    at: at("noun `n` › verb `v`")
                },
            ],
            "{errors}"
        );
        // `--force` would be advertised as on by default, and the command line would
        // never turn it on: refused. `"false"` (what the macro writes) is fine.
        assert!(
            matches!(&errors.errors()[4..], [GrammarError::InvalidArgument { name, reason, .. }]
                if name == "force" && reason.contains("its default is `false`, not `true`")),
            "{errors}"
        );
        assert_eq!(errors.len(), 5, "{errors}");
    }

    #[test]
    fn commands_are_at_most_128_characters() {
        // `n…n v…v`: 60 + 1 + 67 = 128 characters, the longest allowed.
        let noun = "n".repeat(60);
        let grammar = |verb_len: usize| {
            GrammarModel::new("app").with_noun(
                GrammarNoun::new(noun.clone(), "N")
                    .with_noun(GrammarNoun::new("x", "X").with_verb(verb("v")))
                    .with_verb(verb(&"v".repeat(verb_len))),
            )
        };
        assert_eq!(grammar(67).validate(), Ok(()));
        let errors = grammar(68).validate().unwrap_err();
        assert!(
            matches!(errors.errors(), [GrammarError::CommandTooLong { len: 129, command, .. }]
                if *command == format!("{noun} {}", "v".repeat(68))),
            "{errors}"
        );
        assert!(
            errors
                .to_string()
                .contains("is 129 characters long; at most 128 are allowed")
        );
    }

    #[test]
    fn positional_order_is_checked() {
        let grammar = GrammarModel::new("app").with_noun(
            GrammarNoun::new("n", "N").with_verb(
                verb("v")
                    .with_arg(GrammarArgument::positional("a", "String", "A").optional())
                    .with_arg(GrammarArgument::positional("b", "String", "B"))
                    .with_arg(GrammarArgument::positional("c", "String", "C").multiple())
                    .with_arg(GrammarArgument::positional("d", "String", "D").optional()),
            ),
        );
        let errors = grammar.validate().unwrap_err();
        assert_eq!(errors.len(), 2, "{errors}");
        assert!(
            errors
                .to_string()
                .contains("`b`: is required but comes after the optional `a`")
        );
        assert!(errors.to_string().contains("`d`: comes after `c`"));
    }

    #[test]
    fn deprecation_needs_the_deprecated_stability() {
        let mut old = verb("old").deprecated("use `new`");
        assert_eq!(old.contract().stability(), StabilityProfile::Deprecated);
        old.contract = old.contract.with_stability(StabilityProfile::Stable);
        let grammar = GrammarModel::new("app").with_noun(GrammarNoun::new("n", "N").with_verb(old));
        assert!(matches!(
            grammar.validate().unwrap_err().errors(),
            [GrammarError::DeprecationMismatch { .. }]
        ));
    }

    #[test]
    fn nesting_depth_is_limited() {
        let mut noun = GrammarNoun::new("n9", "Deepest").with_verb(verb("v"));
        for depth in (1..=8).rev() {
            noun = GrammarNoun::new(format!("n{depth}"), "Level").with_noun(noun);
        }
        let grammar = GrammarModel::new("app").with_noun(noun);
        let errors = grammar.validate().unwrap_err();
        assert!(
            matches!(errors.errors(), [GrammarError::TooDeep { depth: 9, .. }]),
            "{errors}"
        );
        // The iterator stops at the limit rather than overflowing its fixed stack.
        assert_eq!(grammar.verbs().count(), 0);
    }
}
