//! Checking a model built or loaded at run time: every problem at once.
//!
//! The rules are those of [`rules`](crate::rules), which `grammar_dsl!` applies at compile
//! time too (with the exact token of each mistake), so a model from the macro always
//! validates and both say the same thing about a broken rule.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use cnv_caps::StabilityProfile;

use crate::rules::{
    self, ArgDecl, ArgProblem, ArgRules, CommandTooLong, DuplicateSibling, GroupDecl, GroupProblem,
    NameProblem, OutputSchemaProblem, Siblings, TooDeep, ToolNameProblem, ToolNameTaken, ToolNames,
    VersionProblem,
};
use crate::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};

/// One problem of a grammar model, with where it is (`noun \`file\` › verb \`read\``).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrammarError {
    /// A name that breaks a name rule: not a lowercase kebab-case word, or a noun or verb
    /// called `help` (clap adds a `help` subcommand to every command that has subcommands,
    /// so a noun or verb called `help` would clash with it).
    #[error("{at}: {problem}")]
    InvalidName {
        /// Where the name is.
        at: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A version that is not semantic versioning.
    #[error("the application's version: {0}")]
    InvalidVersion(VersionProblem),
    /// A grammar with no nouns.
    #[error("the grammar has no nouns; add at least one noun with a verb")]
    NoNouns,
    /// A noun with neither verbs nor nested nouns.
    #[error("{at} has no verbs and no nested nouns; add a verb or remove the noun")]
    EmptyNoun {
        /// The noun.
        at: String,
    },
    /// An empty help text.
    #[error("{at}: the help text is empty; say in one line what it does")]
    MissingHelp {
        /// What lacks help.
        at: String,
    },
    /// A command longer than [`MAX_COMMAND_LEN`](crate::MAX_COMMAND_LEN): it is also the
    /// verb's MCP tool name, which MCP clients expect to be at most 128 characters.
    #[error("{at}: {problem}")]
    CommandTooLong {
        /// The verb.
        at: String,
        /// The command and its length.
        problem: CommandTooLong,
    },
    /// A long help text that is there but empty.
    #[error("{at}: the long help is empty; write the longer description, or remove it")]
    EmptyLongHelp {
        /// What has it.
        at: String,
    },
    /// A deprecation note that is there but empty.
    #[error("{at}: the deprecation note is empty; say what to use instead")]
    EmptyDeprecation {
        /// The verb.
        at: String,
    },
    /// Two siblings with one name: two nouns, two verbs, or a noun and a verb of the
    /// same noun (the command line could not tell them apart).
    #[error("{0}")]
    DuplicateName(DuplicateSibling),
    /// Nouns nested more deeply than [`MAX_NOUN_DEPTH`](crate::MAX_NOUN_DEPTH).
    #[error("{at}: {problem}")]
    TooDeep {
        /// The noun.
        at: String,
        /// The noun and how deep it is.
        problem: TooDeep,
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
    /// An argument group that breaks a rule.
    #[error("{at}, group `{name}`: {problem}")]
    InvalidGroup {
        /// The verb.
        at: String,
        /// The group.
        name: String,
        /// What is wrong and what to do.
        problem: GroupProblem,
    },
    /// A declared MCP tool name that is not one.
    #[error("{at}: {problem}")]
    InvalidToolName {
        /// The verb.
        at: String,
        /// What is wrong with it.
        problem: ToolNameProblem,
    },
    /// Two verbs whose MCP tools would have one name.
    #[error("{at}: {problem}")]
    ToolNameTaken {
        /// The second verb.
        at: String,
        /// Both verbs and the name.
        problem: ToolNameTaken,
    },
    /// A declared title that is empty.
    #[error(
        "{at}: the title is empty; write the tool's title, or remove it (the help is the title then)"
    )]
    EmptyTitle {
        /// The verb.
        at: String,
    },
    /// A declared output schema that is not a JSON object schema.
    #[error("{at}: {problem}")]
    InvalidOutputSchema {
        /// The verb.
        at: String,
        /// What is wrong with it.
        problem: OutputSchemaProblem,
    },
    /// An argument that contradicts itself or its siblings.
    #[error("{at}, argument `{name}`: {problem}")]
    InvalidArgument {
        /// The verb.
        at: String,
        /// The argument.
        name: String,
        /// What is wrong and what to do.
        problem: ArgProblem,
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

impl GrammarModel {
    /// Checks the whole model and returns every problem, by the [rules](crate::rules)
    /// `grammar_dsl!` also applies: names that are not kebab-case words, nouns or verbs
    /// called `help` (the command line's own subcommand), arguments named like a global
    /// flag, an invalid version, empty help (and long help or deprecation notes that are
    /// there but empty), duplicate siblings, empty nouns, nesting deeper than
    /// [`MAX_NOUN_DEPTH`](crate::MAX_NOUN_DEPTH), commands longer than
    /// [`MAX_COMMAND_LEN`](crate::MAX_COMMAND_LEN), deprecation notes on verbs that are
    /// not `Deprecated`, and arguments that contradict themselves or their siblings (see
    /// [`ArgProblem`]).
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
        if let Err(problem) = rules::check_app_name(&self.name) {
            errors.push(GrammarError::InvalidName {
                at: "the application".to_string(),
                problem,
            });
        }
        if let Some(version) = &self.version
            && let Err(problem) = rules::check_version(version)
        {
            errors.push(GrammarError::InvalidVersion(problem));
        }
        if self.help.as_deref().is_some_and(rules::is_blank) {
            errors.push(GrammarError::MissingHelp {
                at: "the application".to_string(),
            });
        }
        if self.nouns.is_empty() {
            errors.push(GrammarError::NoNouns);
        }
        check_siblings("the application", &self.nouns, &[], &mut errors);
        let mut globals = ArgRules::new();
        let at = "the application's global arguments";
        for arg in self.args.iter() {
            for problem in check_arg(&mut globals, arg, true) {
                errors.push(GrammarError::InvalidArgument {
                    at: at.to_string(),
                    name: arg.name.to_string(),
                    problem,
                });
            }
        }
        for arg in self.args.iter() {
            for problem in with_decl(arg, |decl| globals.references(decl, true)) {
                errors.push(GrammarError::InvalidArgument {
                    at: at.to_string(),
                    name: arg.name.to_string(),
                    problem,
                });
            }
        }
        let mut tools = ToolNames::new();
        for noun in self.nouns.iter() {
            check_noun(noun, "", "", 1, &globals, &mut tools, &mut errors);
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
    globals: &ArgRules,
    tools: &mut ToolNames,
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
    if let Err(problem) = rules::check_depth(&noun.name, depth) {
        errors.push(GrammarError::TooDeep { at, problem });
        return;
    }
    if let Err(problem) = rules::check_command_name(&noun.name, "noun") {
        errors.push(GrammarError::InvalidName {
            at: at.clone(),
            problem,
        });
    }
    if rules::is_blank(&noun.help) {
        errors.push(GrammarError::MissingHelp { at: at.clone() });
    }
    if noun.long_help.as_deref().is_some_and(rules::is_blank) {
        errors.push(GrammarError::EmptyLongHelp { at: at.clone() });
    }
    if noun.nouns.is_empty() && noun.verbs.is_empty() {
        errors.push(GrammarError::EmptyNoun { at: at.clone() });
    }
    check_siblings(&at, &noun.nouns, &noun.verbs, errors);
    for verb in noun.verbs.iter() {
        check_verb(verb, &at, &command, globals, tools, errors);
    }
    for child in noun.nouns.iter() {
        check_noun(child, &at, &command, depth + 1, globals, tools, errors);
    }
}

fn check_siblings(
    at: &str,
    nouns: &[GrammarNoun],
    verbs: &[GrammarVerb],
    errors: &mut Vec<GrammarError>,
) {
    let mut siblings = Siblings::new(at);
    let names = nouns
        .iter()
        .map(GrammarNoun::name)
        .chain(verbs.iter().map(GrammarVerb::name))
        .chain(
            verbs
                .iter()
                .flat_map(|verb| verb.aliases.iter().map(AsRef::as_ref)),
        );
    for name in names {
        if let Err(problem) = siblings.add(name) {
            errors.push(GrammarError::DuplicateName(problem));
        }
    }
}

fn check_verb(
    verb: &GrammarVerb,
    noun: &str,
    nouns: &str,
    globals: &ArgRules,
    tools: &mut ToolNames,
    errors: &mut Vec<GrammarError>,
) {
    let at = format!("{noun} › verb `{}`", verb.name);
    if let Err(problem) = rules::check_command_name(&verb.name, "verb") {
        errors.push(GrammarError::InvalidName {
            at: at.clone(),
            problem,
        });
    }
    for alias in verb.aliases.iter() {
        if let Err(problem) = rules::check_command_name(alias, "verb alias") {
            errors.push(GrammarError::InvalidName {
                at: at.clone(),
                problem,
            });
        }
    }
    let command = format!("{nouns} {}", verb.name);
    let tool = match verb.mcp_name.as_deref() {
        Some(name) => match rules::check_tool_name(name) {
            Ok(()) => Some(name.to_string()),
            Err(problem) => {
                errors.push(GrammarError::InvalidToolName {
                    at: at.clone(),
                    problem,
                });
                None
            }
        },
        None => Some(rules::tool_name(command.split(' '))),
    };
    if let Some(tool) = tool
        && let Err(problem) = tools.add(&tool, &command)
    {
        errors.push(GrammarError::ToolNameTaken {
            at: at.clone(),
            problem,
        });
    }
    if verb.title.as_deref().is_some_and(rules::is_blank) {
        errors.push(GrammarError::EmptyTitle { at: at.clone() });
    }
    if let Some(schema) = verb.output_schema.as_deref()
        && let Err(problem) = rules::check_output_schema(schema)
    {
        errors.push(GrammarError::InvalidOutputSchema {
            at: at.clone(),
            problem,
        });
    }
    if let Err(problem) = rules::check_command_len(&format!("{nouns} {}", verb.name)) {
        errors.push(GrammarError::CommandTooLong {
            at: at.clone(),
            problem,
        });
    }
    if rules::is_blank(&verb.help) {
        errors.push(GrammarError::MissingHelp { at: at.clone() });
    }
    if verb.long_help.as_deref().is_some_and(rules::is_blank) {
        errors.push(GrammarError::EmptyLongHelp { at: at.clone() });
    }
    if verb.deprecated.as_deref().is_some_and(rules::is_blank) {
        errors.push(GrammarError::EmptyDeprecation { at: at.clone() });
    }
    if verb.deprecated.is_some() && verb.contract.stability() != StabilityProfile::Deprecated {
        errors.push(GrammarError::DeprecationMismatch {
            at: at.clone(),
            stability: verb.contract.stability(),
        });
    }
    let mut rules = globals.clone();
    for arg in verb.args.iter() {
        for problem in check_arg(&mut rules, arg, false) {
            errors.push(GrammarError::InvalidArgument {
                at: at.clone(),
                name: arg.name.to_string(),
                problem,
            });
        }
    }
    for group in verb.groups.iter() {
        let members: Vec<&str> = group.args.iter().map(AsRef::as_ref).collect();
        let decl = GroupDecl {
            name: &group.name,
            args: &members,
            required: group.required,
            multiple: group.multiple,
        };
        for problem in rules.group(&decl) {
            errors.push(GrammarError::InvalidGroup {
                at: at.clone(),
                name: group.name.to_string(),
                problem,
            });
        }
    }
    for arg in verb.args.iter() {
        for problem in with_decl(arg, |decl| rules.references(decl, false)) {
            errors.push(GrammarError::InvalidArgument {
                at: at.clone(),
                name: arg.name.to_string(),
                problem,
            });
        }
    }
}

/// The problems of `arg`, next in `rules` (as a global argument when `global`).
fn check_arg(rules: &mut ArgRules, arg: &GrammarArgument, global: bool) -> Vec<ArgProblem> {
    with_decl(arg, |decl| {
        if global {
            rules.global(decl)
        } else {
            rules.check(decl)
        }
    })
}

/// `check` of `arg` as the rules see it.
fn with_decl<T>(arg: &GrammarArgument, check: impl FnOnce(&ArgDecl<'_>) -> T) -> T {
    fn strs(list: &[crate::Text]) -> Vec<&str> {
        list.iter().map(AsRef::as_ref).collect()
    }
    let values = strs(&arg.values);
    let aliases = strs(&arg.aliases);
    let conflicts_with = strs(&arg.conflicts_with);
    let requires = strs(&arg.requires);
    check(&ArgDecl {
        name: &arg.name,
        positional: arg.is_positional(),
        short: arg.short(),
        value_type: &arg.value_type,
        required: arg.required,
        multiple: arg.multiple,
        default: arg.default.as_deref(),
        help: &arg.help,
        env: arg.env.as_deref(),
        values: &values,
        value_name: arg.value_name.as_deref(),
        aliases: &aliases,
        counted: arg.counted,
        conflicts_with: &conflicts_with,
        requires: &requires,
        range: arg.range,
        hidden: arg.hidden,
        mcp: arg.mcp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GrammarArgument;
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
        assert!(
            text.contains("argument `x`: the default `-1` is not a valid `u8`"),
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
        let reserved = |what| NameProblem::ReservedCommand {
            what,
            name: "help".to_string(),
        };
        assert_eq!(
            errors.errors(),
            [
                GrammarError::InvalidName {
                    at: "noun `help`".to_string(),
                    problem: reserved("noun"),
                },
                GrammarError::InvalidName {
                    at: "noun `help` › noun `docs` › verb `help`".to_string(),
                    problem: reserved("verb"),
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
            matches!(&errors.errors()[4..], [GrammarError::InvalidArgument { name, problem, .. }]
                if name == "force" && problem.to_string().contains("its default is `false`, not `true`")),
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
            matches!(errors.errors(), [GrammarError::CommandTooLong { problem, .. }]
                if problem.len == 129 && problem.command == format!("{noun} {}", "v".repeat(68))),
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
                .contains("`b`: the required `b` comes after the optional `a`")
        );
        assert!(errors.to_string().contains("`d`: `d` comes after `c`"));
    }

    #[test]
    fn arguments_named_like_a_global_flag_are_refused() {
        let grammar = GrammarModel::new("app").with_noun(
            GrammarNoun::new("n", "N")
                .with_verb(verb("v").with_arg(GrammarArgument::named("justify", "String", "Why"))),
        );
        let errors = grammar.validate().unwrap_err();
        assert!(
            matches!(errors.errors(), [GrammarError::InvalidArgument { problem: ArgProblem::Name(NameProblem::ReservedArgument { name }), .. }] if name == "justify"),
            "{errors}"
        );
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
            matches!(errors.errors(), [GrammarError::TooDeep { problem, .. }] if problem.depth == 9),
            "{errors}"
        );
        // The iterator stops at the limit rather than overflowing its fixed stack.
        assert_eq!(grammar.verbs().count(), 0);
    }
}
