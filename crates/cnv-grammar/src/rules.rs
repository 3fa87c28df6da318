//! The rules of a grammar, written once.
//!
//! [`GrammarModel::validate`](crate::GrammarModel::validate) checks a model built or
//! loaded at run time with these functions, and `grammar_dsl!` calls the same functions at
//! compile time (putting each problem on the token it is about), so a rule cannot hold in
//! one and not the other, and the two say the same thing when it is broken.
//!
//! Each check returns a problem value whose [`Display`](core::fmt::Display) is the message
//! without a location: the model puts where the problem is in front of it
//! (`noun \`file\` › verb \`read\``), the macro puts it on the token.
//!
//! ```
//! use cnv_grammar::rules::{self, ArgDecl, ArgRules, NameProblem};
//!
//! assert!(rules::is_kebab_word("dry-run"));
//! assert_eq!(
//!     rules::check_command_name("ReadFile", "verb"),
//!     Err(NameProblem::NotKebab { what: "verb", name: "ReadFile".into(), suggestion: Some("read-file".into()) }),
//! );
//!
//! let mut args = ArgRules::new();
//! let path = ArgDecl::positional("path", "PathBuf", "The file");
//! assert!(args.check(&path).is_empty());
//! assert_eq!(args.check(&path).len(), 1); // declared twice
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub use crate::model::ValueRange;
pub use crate::value::{Scalar, default_value_name};

/// How deeply nouns may nest: `app a b c … verb` has at most this many nouns.
pub const MAX_NOUN_DEPTH: usize = 8;

/// The longest command, in characters: a verb's nouns' names and its own, separated by
/// single spaces (`cloud bucket list` is 17). Its MCP tool name (the same words joined by
/// `_`, see [`GrammarModel::to_mcp_tools`](crate::GrammarModel)) is as long, and the MCP
/// specification (revision 2025-11-25) says a tool name SHOULD be at most 128 characters.
pub const MAX_COMMAND_LEN: usize = 128;

/// The names a noun or verb may not have: clap gives every command that has subcommands
/// (the application and each noun) a `help` subcommand.
pub const RESERVED_COMMAND_NAMES: &[&str] = &["help"];

/// The names no argument may have: the global flags that `cnv-cli` gives every command
/// line made from a grammar, clap's own `help` and `version`, and `justification`, the
/// argument an MCP tool whose verb is not agent-safe takes. `cnv-cli` declares its flags
/// from this table, so a new global flag is reserved here or nowhere.
pub const RESERVED_ARGUMENT_NAMES: &[&str] = &[
    "agent",
    "justify",
    "yes",
    "format",
    "grammar",
    "mcp-tools",
    "mcp-serve",
    "mcp-serve-http",
    "capabilities",
    "completions",
    "help",
    "version",
    JUSTIFICATION_ARGUMENT,
];

/// The argument through which an agent calling an MCP tool gives its justification (the
/// command line's `--justify`); reserved, so no verb declares an argument of that name.
pub const JUSTIFICATION_ARGUMENT: &str = "justification";

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

/// The kebab-case spelling of a name that is not one (`ReadFile` -> `read-file`,
/// `timeout_ms` -> `timeout-ms`), when that spelling is a valid name.
#[must_use]
pub fn kebab_suggestion(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if matches!(c, '_' | ' ' | '-') {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (out != text && is_kebab_word(&out)).then_some(out)
}

/// Whether a text is empty or only white space.
#[must_use]
pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A name that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// Not a lowercase kebab-case word.
    NotKebab {
        /// What is named: `"app"`, `"noun"`, `"verb"` or `"argument"`.
        what: &'static str,
        /// The name.
        name: String,
        /// Its kebab-case spelling, when there is one.
        suggestion: Option<String>,
    },
    /// A noun or verb called like the command line's own `help` subcommand.
    ReservedCommand {
        /// `"noun"` or `"verb"`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// An argument called like one of cnv's global flags.
    ReservedArgument {
        /// The name.
        name: String,
    },
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotKebab {
                what,
                name,
                suggestion,
            } => {
                write!(
                    f,
                    "the {what} name `{name}` is not a lowercase kebab-case word"
                )?;
                if let Some(suggestion) = suggestion {
                    write!(f, ", e.g. `{suggestion}`")?;
                }
                f.write_str(
                    ": use ASCII letters and digits in words joined by single `-`, starting with a letter",
                )
            }
            Self::ReservedCommand { what, name } => write!(
                f,
                "`{name}` is reserved for the command line's own `{name}` subcommand, which the \
                 app and every noun have (`myapp {name} file`); give this {what} another name"
            ),
            Self::ReservedArgument { name } if name == JUSTIFICATION_ARGUMENT => write!(
                f,
                "`{name}` is the argument through which an agent gives its justification to an \
                 MCP tool whose verb is not agent-safe; give this argument another name"
            ),
            Self::ReservedArgument { name } => {
                write!(
                    f,
                    "`{name}` is taken by cnv's global flag `--{name}`; every command line made \
                     from a grammar has the global flags "
                )?;
                let flags = RESERVED_ARGUMENT_NAMES
                    .iter()
                    .filter(|flag| **flag != JUSTIFICATION_ARGUMENT);
                for (i, flag) in flags.enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`--{flag}`")?;
                }
                f.write_str("; give this argument another name")
            }
        }
    }
}

fn kebab(what: &'static str, name: &str) -> Result<(), NameProblem> {
    if is_kebab_word(name) {
        Ok(())
    } else {
        Err(NameProblem::NotKebab {
            what,
            name: name.to_string(),
            suggestion: kebab_suggestion(name),
        })
    }
}

/// The application's name: a kebab-case word.
///
/// # Errors
///
/// [`NameProblem::NotKebab`].
pub fn check_app_name(name: &str) -> Result<(), NameProblem> {
    kebab("app", name)
}

/// A noun's or verb's name (`what` is `"noun"` or `"verb"`): a kebab-case word that the
/// command line does not keep for itself.
///
/// # Errors
///
/// [`NameProblem::ReservedCommand`] or [`NameProblem::NotKebab`].
pub fn check_command_name(name: &str, what: &'static str) -> Result<(), NameProblem> {
    if RESERVED_COMMAND_NAMES.contains(&name) {
        return Err(NameProblem::ReservedCommand {
            what,
            name: name.to_string(),
        });
    }
    kebab(what, name)
}

/// An argument's name: a kebab-case word that is not a global flag.
///
/// # Errors
///
/// [`NameProblem::NotKebab`] or [`NameProblem::ReservedArgument`].
pub fn check_argument_name(name: &str) -> Result<(), NameProblem> {
    kebab("argument", name)?;
    if RESERVED_ARGUMENT_NAMES.contains(&name) {
        return Err(NameProblem::ReservedArgument {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// A version that is not semantic versioning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionProblem {
    /// The version.
    pub version: String,
    /// What the semver parser said.
    pub reason: String,
}

impl fmt::Display for VersionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a semantic version ({}); write `MAJOR.MINOR.PATCH`, e.g. `1.0.0`",
            self.version, self.reason
        )
    }
}

/// The application's version: semantic versioning.
///
/// # Errors
///
/// A [`VersionProblem`] with the parser's reason.
pub fn check_version(version: &str) -> Result<(), VersionProblem> {
    semver::Version::parse(version)
        .map(drop)
        .map_err(|err| VersionProblem {
            version: version.to_string(),
            reason: err.to_string(),
        })
}

/// A command longer than [`MAX_COMMAND_LEN`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandTooLong {
    /// The command: the nouns' names and the verb's, separated by spaces.
    pub command: String,
    /// Its length in characters.
    pub len: usize,
}

impl fmt::Display for CommandTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the command `{}` is {} characters long; at most {MAX_COMMAND_LEN} are allowed, since \
             its words joined by `_` are the verb's MCP tool name; shorten the verb's or its \
             nouns' names",
            self.command, self.len
        )
    }
}

/// A verb's whole command (nouns then verb, separated by spaces) fits
/// [`MAX_COMMAND_LEN`].
///
/// # Errors
///
/// [`CommandTooLong`] with the length.
pub fn check_command_len(command: &str) -> Result<(), CommandTooLong> {
    let len = command.chars().count();
    if len > MAX_COMMAND_LEN {
        Err(CommandTooLong {
            command: command.to_string(),
            len,
        })
    } else {
        Ok(())
    }
}

/// The nouns and verbs under one parent must have different names (the command line
/// could not tell them apart otherwise).
#[derive(Debug)]
pub struct Siblings<'a> {
    parent: &'a str,
    seen: BTreeSet<&'a str>,
}

impl<'a> Siblings<'a> {
    /// The children of `parent` (`"the application"`, ``"noun `file`"``), none seen yet.
    #[must_use]
    pub fn new(parent: &'a str) -> Self {
        Self {
            parent,
            seen: BTreeSet::new(),
        }
    }

    /// Adds the noun or verb `name`.
    ///
    /// # Errors
    ///
    /// [`DuplicateSibling`] when a sibling already has it.
    pub fn add(&mut self, name: &'a str) -> Result<(), DuplicateSibling> {
        if self.seen.insert(name) {
            Ok(())
        } else {
            Err(DuplicateSibling {
                parent: self.parent.to_string(),
                name: name.to_string(),
            })
        }
    }
}

/// A noun or verb named like a sibling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateSibling {
    /// The parent.
    pub parent: String,
    /// The name.
    pub name: String,
}

impl fmt::Display for DuplicateSibling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} already has a noun, verb or verb alias called `{}`; give each noun and verb \
             under one parent its own name, and each alias a name no sibling has",
            self.parent, self.name
        )
    }
}

/// One argument as both the macro and the model see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgDecl<'a> {
    /// The name, without dashes.
    pub name: &'a str,
    /// Positional (`path`) or named (`--path`).
    pub positional: bool,
    /// The short flag of a named argument.
    pub short: Option<char>,
    /// The value type's Rust name (`u64`, `PathBuf`).
    pub value_type: &'a str,
    /// Whether it must be given.
    pub required: bool,
    /// Whether it takes any number of values.
    pub multiple: bool,
    /// The default value, as a user would type it.
    pub default: Option<&'a str>,
    /// The help text.
    pub help: &'a str,
    /// The environment variable it is read from when not given.
    pub env: Option<&'a str>,
    /// The only values it accepts (empty: any value of its type).
    pub values: &'a [&'a str],
    /// The name shown for its value in `--help` (`LEVEL`), when declared.
    pub value_name: Option<&'a str>,
    /// Its other long names.
    pub aliases: &'a [&'a str],
    /// Whether it is a counted switch (`-vvv`).
    pub counted: bool,
    /// The arguments and groups it may not be given with.
    pub conflicts_with: &'a [&'a str],
    /// The arguments and groups it may be given only with.
    pub requires: &'a [&'a str],
    /// The bounds of an integer's values.
    pub range: Option<ValueRange>,
    /// Whether it is left out of `--help` and MCP schemas.
    pub hidden: bool,
    /// Whether a global argument is in MCP tool schemas.
    pub mcp: bool,
}

impl<'a> ArgDecl<'a> {
    /// A required positional argument.
    #[must_use]
    pub const fn positional(name: &'a str, value_type: &'a str, help: &'a str) -> Self {
        Self {
            name,
            positional: true,
            short: None,
            value_type,
            required: true,
            multiple: false,
            default: None,
            help,
            env: None,
            values: &[],
            value_name: None,
            aliases: &[],
            counted: false,
            conflicts_with: &[],
            requires: &[],
            range: None,
            hidden: false,
            mcp: false,
        }
    }

    /// Whether it is a switch: a named `bool`, on when given.
    #[must_use]
    pub fn is_switch(&self) -> bool {
        !self.positional && Scalar::of(self.value_type) == Scalar::Bool
    }
}

/// Which part of an argument a problem is about (where the macro puts the error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgPart {
    /// The name.
    Name,
    /// The short flag.
    Short,
    /// The value type.
    Type,
    /// The default value.
    Default,
    /// The help text.
    Help,
    /// The environment variable.
    Env,
    /// The list of possible values.
    Values,
    /// The value name.
    ValueName,
    /// An alias: the one named in the problem ([`ArgProblem::reference`]).
    Alias,
    /// The `count` clause.
    Count,
    /// The range.
    Range,
    /// The `hidden` clause.
    Hidden,
    /// The `mcp` clause.
    Mcp,
    /// A name in `conflicts_with`: the one named in the problem
    /// ([`ArgProblem::reference`]).
    ConflictsWith,
    /// A name in `requires`: the one named in the problem ([`ArgProblem::reference`]).
    Requires,
}

/// An argument that breaks a rule, alone or beside its siblings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgProblem {
    /// The name breaks a name rule.
    Name(NameProblem),
    /// Another argument of the verb has this name.
    Duplicate {
        /// The name.
        name: String,
    },
    /// The short flag is not an ASCII letter or digit.
    ShortNotALetter {
        /// The flag as written.
        short: String,
    },
    /// `-h` is the command's help.
    ShortIsHelp,
    /// Another argument of the verb has this short flag.
    ShortTaken {
        /// The flag.
        short: char,
    },
    /// A positional argument after the repeatable one, which takes every remaining value.
    AfterRepeated {
        /// The argument.
        name: String,
        /// The repeatable one before it.
        previous: String,
    },
    /// A required positional argument after an optional one.
    RequiredAfterOptional {
        /// The argument.
        name: String,
        /// The optional one before it.
        previous: String,
    },
    /// A switch with a default other than `false`.
    SwitchDefault {
        /// The default given.
        default: String,
    },
    /// A switch that repeats.
    SwitchRepeated,
    /// A switch that must be given.
    SwitchRequired,
    /// A repeatable argument with a default.
    RepeatedDefault,
    /// A required argument with a default.
    RequiredDefault,
    /// A default that the value type does not accept.
    InvalidDefault {
        /// The default.
        default: String,
        /// The value type.
        value_type: String,
    },
    /// No value type.
    NoValueType,
    /// An empty help text.
    EmptyHelp,
    /// The environment variable's name is not one.
    EnvName {
        /// The name as written.
        env: String,
    },
    /// The environment variable is one of the operator's (`CNV_…`).
    EnvReserved {
        /// The name.
        env: String,
    },
    /// A switch with a list of possible values.
    ValuesOnSwitch,
    /// An empty possible value.
    EmptyValue,
    /// A possible value listed twice.
    DuplicateValue {
        /// The value.
        value: String,
    },
    /// A possible value the value type does not accept.
    InvalidValue {
        /// The value.
        value: String,
        /// The value type.
        value_type: String,
    },
    /// A default that is not among the possible values.
    DefaultNotAmong {
        /// The default.
        default: String,
        /// The possible values.
        values: Vec<String>,
    },
    /// A positional global argument.
    GlobalPositional,
    /// A required global argument.
    GlobalRequired,
    /// A verb's argument with the name of a global argument.
    ShadowsGlobal {
        /// The name.
        name: String,
    },
    /// A verb's argument with the short flag of a global argument.
    ShortOfGlobal {
        /// The flag.
        short: char,
    },
    /// A value name on an argument that takes no value (a switch, a counted switch).
    ValueNameWithoutValue,
    /// A value name that is not one word.
    ValueNameInvalid {
        /// The value name as written.
        value_name: String,
    },
    /// An alias on a positional argument, which has no flag.
    AliasOnPositional,
    /// An alias that breaks a name rule.
    AliasName {
        /// The alias.
        alias: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// An alias that another argument of the verb (or a global one) already has as its
    /// name or alias.
    AliasTaken {
        /// The alias.
        alias: String,
    },
    /// A counted switch that is positional.
    CountedPositional,
    /// A counted switch whose value type is not `u8`.
    CountedType {
        /// The value type.
        value_type: String,
    },
    /// A counted switch that repeats as a list, is required, has a default, a range or
    /// possible values: it is a number of times, `0` unless given.
    CountedShape,
    /// A range on a value type that is not an integer.
    RangeNotInteger {
        /// The value type.
        value_type: String,
    },
    /// A range whose start is after its end.
    RangeEmpty {
        /// The range.
        range: ValueRange,
    },
    /// A bound of a range that is not a value of the type.
    RangeBound {
        /// The bound.
        bound: i128,
        /// The value type.
        value_type: String,
    },
    /// Both a range and a list of possible values.
    RangeWithValues,
    /// A default outside the range.
    DefaultOutOfRange {
        /// The default.
        default: String,
        /// The range.
        range: ValueRange,
    },
    /// A hidden argument that is required: nobody reading the help could give it.
    HiddenRequired,
    /// `mcp` on a verb's argument (a verb's arguments are always in its tool's schema).
    McpOnVerbArgument,
    /// A name in `conflicts_with` or `requires` that is no argument or group of the verb.
    UnknownReference {
        /// `"conflicts_with"` or `"requires"`.
        clause: &'static str,
        /// The name.
        name: String,
        /// The closest argument or group name.
        suggestion: Option<String>,
    },
    /// An argument that names itself in `conflicts_with` or `requires`.
    SelfReference {
        /// `"conflicts_with"` or `"requires"`.
        clause: &'static str,
        /// Its name.
        name: String,
    },
    /// An argument both in `conflicts_with` and in `requires`.
    ConflictsAndRequires {
        /// The other argument.
        name: String,
    },
}

impl ArgProblem {
    /// The part of the argument the problem is about.
    #[must_use]
    pub fn part(&self) -> ArgPart {
        match self {
            Self::Name(_) | Self::Duplicate { .. } | Self::ShadowsGlobal { .. } => ArgPart::Name,
            Self::AfterRepeated { .. }
            | Self::RequiredAfterOptional { .. }
            | Self::GlobalPositional => ArgPart::Name,
            Self::ShortNotALetter { .. }
            | Self::ShortIsHelp
            | Self::ShortTaken { .. }
            | Self::ShortOfGlobal { .. } => ArgPart::Short,
            Self::SwitchRepeated
            | Self::SwitchRequired
            | Self::NoValueType
            | Self::GlobalRequired => ArgPart::Type,
            Self::SwitchDefault { .. }
            | Self::RepeatedDefault
            | Self::RequiredDefault
            | Self::InvalidDefault { .. }
            | Self::DefaultNotAmong { .. } => ArgPart::Default,
            Self::EmptyHelp => ArgPart::Help,
            Self::EnvName { .. } | Self::EnvReserved { .. } => ArgPart::Env,
            Self::ValuesOnSwitch
            | Self::EmptyValue
            | Self::DuplicateValue { .. }
            | Self::InvalidValue { .. } => ArgPart::Values,
            Self::ValueNameWithoutValue | Self::ValueNameInvalid { .. } => ArgPart::ValueName,
            Self::AliasOnPositional | Self::AliasName { .. } | Self::AliasTaken { .. } => {
                ArgPart::Alias
            }
            Self::CountedPositional | Self::CountedType { .. } | Self::CountedShape => {
                ArgPart::Count
            }
            Self::RangeNotInteger { .. }
            | Self::RangeEmpty { .. }
            | Self::RangeBound { .. }
            | Self::RangeWithValues => ArgPart::Range,
            Self::DefaultOutOfRange { .. } => ArgPart::Default,
            Self::HiddenRequired => ArgPart::Hidden,
            Self::McpOnVerbArgument => ArgPart::Mcp,
            Self::UnknownReference { clause, .. } | Self::SelfReference { clause, .. } => {
                if *clause == CONFLICTS_WITH {
                    ArgPart::ConflictsWith
                } else {
                    ArgPart::Requires
                }
            }
            Self::ConflictsAndRequires { .. } => ArgPart::Requires,
        }
    }

    /// The alias or the referenced name the problem is about, for the parts that hold
    /// several ([`ArgPart::Alias`], [`ArgPart::ConflictsWith`], [`ArgPart::Requires`]).
    #[must_use]
    pub fn reference(&self) -> Option<&str> {
        match self {
            Self::AliasName { alias, .. } | Self::AliasTaken { alias } => Some(alias),
            Self::UnknownReference { name, .. }
            | Self::SelfReference { name, .. }
            | Self::ConflictsAndRequires { name } => Some(name),
            _ => None,
        }
    }

    /// Whether the problem is about how the argument relates to the others of its verb
    /// (a name, alias or short flag taken, the order of positional arguments, a
    /// reference): when one argument stands for several verbs (a set used by each), these
    /// are reported where it is used, the others where it is declared.
    #[must_use]
    pub const fn is_relational(&self) -> bool {
        matches!(
            self,
            Self::Duplicate { .. }
                | Self::ShortTaken { .. }
                | Self::ShadowsGlobal { .. }
                | Self::ShortOfGlobal { .. }
                | Self::AliasTaken { .. }
                | Self::AfterRepeated { .. }
                | Self::RequiredAfterOptional { .. }
                | Self::UnknownReference { .. }
                | Self::SelfReference { .. }
        )
    }

    /// Whether the problem is about the order of positional arguments (which a parser
    /// that lost an argument cannot judge).
    #[must_use]
    pub const fn is_order(&self) -> bool {
        match self {
            Self::AfterRepeated { .. } | Self::RequiredAfterOptional { .. } => true,
            Self::Name(_)
            | Self::Duplicate { .. }
            | Self::ShortNotALetter { .. }
            | Self::ShortIsHelp
            | Self::ShortTaken { .. }
            | Self::SwitchDefault { .. }
            | Self::SwitchRepeated
            | Self::SwitchRequired
            | Self::RepeatedDefault
            | Self::RequiredDefault
            | Self::InvalidDefault { .. }
            | Self::NoValueType
            | Self::EmptyHelp
            | Self::EnvName { .. }
            | Self::EnvReserved { .. }
            | Self::ValuesOnSwitch
            | Self::EmptyValue
            | Self::DuplicateValue { .. }
            | Self::InvalidValue { .. }
            | Self::DefaultNotAmong { .. }
            | Self::GlobalPositional
            | Self::GlobalRequired
            | Self::ShadowsGlobal { .. }
            | Self::ShortOfGlobal { .. }
            | Self::ValueNameWithoutValue
            | Self::ValueNameInvalid { .. }
            | Self::AliasOnPositional
            | Self::AliasName { .. }
            | Self::AliasTaken { .. }
            | Self::CountedPositional
            | Self::CountedType { .. }
            | Self::CountedShape
            | Self::RangeNotInteger { .. }
            | Self::RangeEmpty { .. }
            | Self::RangeBound { .. }
            | Self::RangeWithValues
            | Self::DefaultOutOfRange { .. }
            | Self::HiddenRequired
            | Self::McpOnVerbArgument
            | Self::UnknownReference { .. }
            | Self::SelfReference { .. }
            | Self::ConflictsAndRequires { .. } => false,
        }
    }
}

impl fmt::Display for ArgProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(problem) => problem.fmt(f),
            Self::Duplicate { name } => write!(
                f,
                "this verb already has an argument or alias called `{name}`; give this one another name"
            ),
            Self::ShortNotALetter { short } => write!(
                f,
                "`-{short}` is not a short flag: a short flag is one ASCII letter or digit, e.g. `-t`"
            ),
            Self::ShortIsHelp => {
                f.write_str("`-h` is reserved for the command's help; choose another letter")
            }
            Self::ShortTaken { short } => write!(
                f,
                "`-{short}` is already the short flag of another argument of this verb"
            ),
            Self::AfterRepeated { name, previous } => write!(
                f,
                "`{name}` comes after `{previous}`, which takes every remaining value; the \
                 repeatable positional argument must be the last one"
            ),
            Self::RequiredAfterOptional { name, previous } => write!(
                f,
                "the required `{name}` comes after the optional `{previous}`; put required \
                 positional arguments first"
            ),
            Self::SwitchDefault { default } => write!(
                f,
                "a `bool` switch is off unless given, so its default is `false`, not `{default}`; \
                 remove the default"
            ),
            Self::SwitchRepeated => f.write_str(
                "a `bool` switch cannot repeat; write `bool`, or count with a `u8` option",
            ),
            Self::SwitchRequired => {
                f.write_str("a `bool` switch is off unless given, so it cannot be required")
            }
            Self::RepeatedDefault => {
                f.write_str("a repeatable argument defaults to no values; remove the default")
            }
            Self::RequiredDefault => f.write_str(
                "an argument with a default is optional, so it cannot be required; remove the default or make it optional",
            ),
            Self::InvalidDefault {
                default,
                value_type,
            } => write!(f, "the default `{default}` is not a valid `{value_type}`"),
            Self::NoValueType => f.write_str(
                "the argument has no value type; give the Rust type its value parses into, e.g. `String`",
            ),
            Self::EmptyHelp => f.write_str("the help text is empty; say in one line what the value is"),
            Self::EnvName { env } => write!(
                f,
                "`{env}` is not an environment variable name: use letters, digits and `_`, not starting with a digit (e.g. `NOTES_DIR`)"
            ),
            Self::EnvReserved { env } => write!(
                f,
                "`{env}` is the operator's: every `{RESERVED_ENV_PREFIX}` variable sets what the program may do, and no argument may be read from one; choose a name of the program's own"
            ),
            Self::ValuesOnSwitch => {
                f.write_str("a `bool` switch is on or off; it takes no list of possible values")
            }
            Self::EmptyValue => f.write_str("a possible value is empty; list words a user can type"),
            Self::DuplicateValue { value } => {
                write!(f, "the possible value `{value}` is listed twice")
            }
            Self::InvalidValue { value, value_type } => write!(
                f,
                "the possible value `{value}` is not a valid `{value_type}`"
            ),
            Self::DefaultNotAmong { default, values } => write!(
                f,
                "the default `{default}` is not one of the possible values ({}); every call that leaves the argument out would be refused",
                values
                    .iter()
                    .map(|value| alloc::format!("`{value}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::GlobalPositional => f.write_str(
                "a global argument is named (`--name`): positional words belong to a verb",
            ),
            Self::GlobalRequired => f.write_str(
                "a global argument cannot be required (introspection such as `--help` takes none); give it a default or make it optional",
            ),
            Self::ShadowsGlobal { name } => write!(
                f,
                "`{name}` is a global argument of the program; give this verb's argument another name"
            ),
            Self::ShortOfGlobal { short } => write!(
                f,
                "`-{short}` is the short flag of a global argument of the program; choose another letter"
            ),
            Self::ValueNameWithoutValue => f.write_str(
                "a switch takes no value, so it has no value name; remove `value_name`",
            ),
            Self::ValueNameInvalid { value_name } => write!(
                f,
                "`{value_name}` is not a value name: write one word of ASCII letters, digits, `_` or `-`, e.g. `LEVEL`"
            ),
            Self::AliasOnPositional => f.write_str(
                "a positional argument has no flag to give another name; remove the alias or make the argument named (`--name`)",
            ),
            Self::AliasName { alias, problem } => write!(f, "the alias `{alias}`: {problem}"),
            Self::AliasTaken { alias } => write!(
                f,
                "`--{alias}` is already an argument or alias of this verb (or a global argument); choose another alias"
            ),
            Self::CountedPositional => f.write_str(
                "only a named argument can be counted (`-v --verbose: u8 count \"…\"`, given as `-vvv`)",
            ),
            Self::CountedType { value_type } => write!(
                f,
                "a counted switch is a `u8` (how many times it was given), not `{value_type}`; write `u8`"
            ),
            Self::CountedShape => f.write_str(
                "a counted switch is how many times it was given, `0` unless given: it takes no default, range or possible values and is never required or a list; write `u8 count`",
            ),
            Self::RangeNotInteger { value_type } => write!(
                f,
                "a range bounds an integer, and `{value_type}` is not one; use an integer type (`u8`, `i64`, …) or list the values with `in [ … ]`"
            ),
            Self::RangeEmpty { range } => write!(
                f,
                "the range `{range}` holds no value: its start is after its end"
            ),
            Self::RangeBound { bound, value_type } => {
                write!(f, "the bound `{bound}` is not a valid `{value_type}`")
            }
            Self::RangeWithValues => f.write_str(
                "an argument takes a range or a list of possible values, not both; keep one",
            ),
            Self::DefaultOutOfRange { default, range } => write!(
                f,
                "the default `{default}` is outside the range `{range}`; every call that leaves the argument out would be refused"
            ),
            Self::HiddenRequired => f.write_str(
                "a hidden argument cannot be required: nobody reading the help could know to give it; give it a default or make it optional",
            ),
            Self::McpOnVerbArgument => f.write_str(
                "`mcp` is for the app's global arguments (a verb's own arguments are always in its MCP tool's schema); remove it, or use `hidden` to keep the argument out of help and MCP",
            ),
            Self::UnknownReference {
                clause,
                name,
                suggestion,
            } => {
                write!(
                    f,
                    "`{clause}` names `{name}`, which is no argument or group of this verb"
                )?;
                if let Some(suggestion) = suggestion {
                    write!(f, " (did you mean `{suggestion}`?)")?;
                }
                f.write_str("; name an argument or group of the same verb by its name (not an alias)")
            }
            Self::SelfReference { clause, name } => write!(
                f,
                "`{name}` names itself in `{clause}`; name the other arguments only"
            ),
            Self::ConflictsAndRequires { name } => write!(
                f,
                "`{name}` is both in `conflicts_with` and in `requires`, so the argument could never be given; keep one"
            ),
        }
    }
}

/// The clause `conflicts_with`, as problems name it.
pub const CONFLICTS_WITH: &str = "conflicts_with";

/// The clause `requires`, as problems name it.
pub const REQUIRES: &str = "requires";

/// Whether `text` is a value name: one word of ASCII letters, digits, `_` and `-`.
#[must_use]
pub fn is_value_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The argument rules of one verb: each argument alone, and beside the ones before it
/// (names, aliases and short flags unique, positional arguments in an order a parser can
/// follow), then its groups ([`group`](Self::group)) and the names each argument refers to
/// ([`references`](Self::references)).
#[derive(Clone, Debug, Default)]
pub struct ArgRules {
    /// The verb's argument names.
    names: BTreeSet<String>,
    /// Every long name taken in the verb: names and aliases, with the argument each
    /// belongs to.
    taken: BTreeMap<String, String>,
    shorts: BTreeSet<char>,
    /// The verb's required arguments.
    required: BTreeSet<String>,
    /// The verb's groups.
    groups: BTreeSet<String>,
    global_names: BTreeSet<String>,
    /// The global arguments' names and aliases.
    global_taken: BTreeSet<String>,
    global_shorts: BTreeSet<char>,
    optional_positional: Option<String>,
    repeated_positional: Option<String>,
}

impl ArgRules {
    /// The rules of a verb with no argument checked yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `arg` as the next global argument of the program, and returns every problem
    /// it has (a global argument is named and never required, besides every rule of a
    /// verb's argument). Clone the rules after the last global argument for each verb: a
    /// verb's argument may not take a global argument's name, alias or short flag.
    pub fn global(&mut self, arg: &ArgDecl<'_>) -> Vec<ArgProblem> {
        let mut problems = Vec::new();
        if arg.positional {
            problems.push(ArgProblem::GlobalPositional);
        } else if arg.required && !arg.is_switch() && !arg.counted {
            problems.push(ArgProblem::GlobalRequired);
        }
        problems.extend(self.check_one(arg, true));
        self.global_names.insert(arg.name.to_string());
        self.global_taken.insert(arg.name.to_string());
        for alias in arg.aliases {
            self.global_taken.insert((*alias).to_string());
        }
        if let Some(short) = arg.short {
            self.global_shorts.insert(short);
        }
        self.names.remove(arg.name);
        self.taken.retain(|_, owner| owner != arg.name);
        self.required.remove(arg.name);
        if let Some(short) = arg.short {
            self.shorts.remove(&short);
        }
        problems
    }

    /// Checks `arg`, the next argument of the verb in declaration order, and returns every
    /// problem it has (empty when none).
    pub fn check(&mut self, arg: &ArgDecl<'_>) -> Vec<ArgProblem> {
        self.check_one(arg, false)
    }

    fn check_one(&mut self, arg: &ArgDecl<'_>, global: bool) -> Vec<ArgProblem> {
        let mut problems = Vec::new();
        if let Err(problem) = check_argument_name(arg.name) {
            problems.push(ArgProblem::Name(problem));
        } else if self.global_taken.contains(arg.name) {
            problems.push(ArgProblem::ShadowsGlobal {
                name: arg.name.to_string(),
            });
        } else if self.taken.contains_key(arg.name) {
            problems.push(ArgProblem::Duplicate {
                name: arg.name.to_string(),
            });
        } else {
            self.names.insert(arg.name.to_string());
            self.taken
                .insert(arg.name.to_string(), arg.name.to_string());
        }
        self.aliases(arg, &mut problems);
        if let Some(short) = arg.short {
            if !short.is_ascii_alphanumeric() {
                problems.push(ArgProblem::ShortNotALetter {
                    short: short.to_string(),
                });
            } else if short == 'h' {
                problems.push(ArgProblem::ShortIsHelp);
            } else if self.global_shorts.contains(&short) {
                problems.push(ArgProblem::ShortOfGlobal { short });
            } else if !self.shorts.insert(short) {
                problems.push(ArgProblem::ShortTaken { short });
            }
        }
        if let Some(env) = arg.env {
            if !is_env_name(env) {
                problems.push(ArgProblem::EnvName {
                    env: env.to_string(),
                });
            } else if env.starts_with(RESERVED_ENV_PREFIX) {
                problems.push(ArgProblem::EnvReserved {
                    env: env.to_string(),
                });
            }
        }
        possible_values(arg, &mut problems);
        if is_blank(arg.value_type) {
            problems.push(ArgProblem::NoValueType);
        }
        if arg.counted {
            counted(arg, &mut problems);
        } else {
            self.values(arg, &mut problems);
        }
        if let Some(range) = arg.range {
            range_rules(arg, range, &mut problems);
        }
        if let Some(value_name) = arg.value_name {
            if arg.is_switch() || arg.counted {
                problems.push(ArgProblem::ValueNameWithoutValue);
            } else if !is_value_name(value_name) {
                problems.push(ArgProblem::ValueNameInvalid {
                    value_name: value_name.to_string(),
                });
            }
        }
        if arg.hidden && arg.required {
            problems.push(ArgProblem::HiddenRequired);
        }
        if arg.mcp && !global {
            problems.push(ArgProblem::McpOnVerbArgument);
        }
        if is_blank(arg.help) {
            problems.push(ArgProblem::EmptyHelp);
        }
        if arg.required {
            self.required.insert(arg.name.to_string());
        }
        if arg.positional {
            self.order(arg, &mut problems);
        }
        problems
    }

    fn aliases(&mut self, arg: &ArgDecl<'_>, problems: &mut Vec<ArgProblem>) {
        if arg.aliases.is_empty() {
            return;
        }
        if arg.positional {
            problems.push(ArgProblem::AliasOnPositional);
            return;
        }
        for alias in arg.aliases {
            if let Err(problem) = check_argument_name(alias) {
                problems.push(ArgProblem::AliasName {
                    alias: (*alias).to_string(),
                    problem,
                });
            } else if *alias == arg.name
                || self.global_taken.contains(*alias)
                || self.taken.contains_key(*alias)
            {
                problems.push(ArgProblem::AliasTaken {
                    alias: (*alias).to_string(),
                });
            } else {
                self.taken
                    .insert((*alias).to_string(), arg.name.to_string());
            }
        }
    }

    fn values(&self, arg: &ArgDecl<'_>, problems: &mut Vec<ArgProblem>) {
        if arg.is_switch() {
            if arg.multiple {
                problems.push(ArgProblem::SwitchRepeated);
            }
            if arg.required {
                problems.push(ArgProblem::SwitchRequired);
            }
            if let Some(default) = arg.default
                && default != "false"
            {
                // The command line sets a switch to `true` when given and `false`
                // otherwise, so any other default would be advertised (in `--help`, the
                // MCP manifest) and never used.
                problems.push(ArgProblem::SwitchDefault {
                    default: default.to_string(),
                });
            }
            return;
        }
        let Some(default) = arg.default else { return };
        if arg.multiple {
            problems.push(ArgProblem::RepeatedDefault);
        } else if arg.required {
            problems.push(ArgProblem::RequiredDefault);
        } else if !Scalar::of(arg.value_type).accepts(default) {
            problems.push(ArgProblem::InvalidDefault {
                default: default.to_string(),
                value_type: arg.value_type.to_string(),
            });
        } else if let Some(range) = arg.range
            && Scalar::of(arg.value_type).is_integer()
            && !range.contains_text(default)
        {
            problems.push(ArgProblem::DefaultOutOfRange {
                default: default.to_string(),
                range,
            });
        }
    }

    fn order(&mut self, arg: &ArgDecl<'_>, problems: &mut Vec<ArgProblem>) {
        if let Some(previous) = &self.repeated_positional {
            problems.push(ArgProblem::AfterRepeated {
                name: arg.name.to_string(),
                previous: previous.clone(),
            });
        } else if arg.required
            && let Some(previous) = &self.optional_positional
        {
            problems.push(ArgProblem::RequiredAfterOptional {
                name: arg.name.to_string(),
                previous: previous.clone(),
            });
        }
        if arg.multiple {
            self.repeated_positional = Some(arg.name.to_string());
        } else if !arg.required {
            self.optional_positional = Some(arg.name.to_string());
        }
    }

    /// Checks `group`, the next group of the verb, after all its arguments were
    /// [`check`](Self::check)ed, and returns every problem it has.
    pub fn group(&mut self, group: &GroupDecl<'_>) -> Vec<GroupProblem> {
        let mut problems = Vec::new();
        if let Err(problem) = check_argument_name(group.name) {
            problems.push(GroupProblem::Name(problem));
        } else if self.taken.contains_key(group.name) || self.global_taken.contains(group.name) {
            problems.push(GroupProblem::NameTaken {
                name: group.name.to_string(),
            });
        } else if !self.groups.insert(group.name.to_string()) {
            problems.push(GroupProblem::Duplicate {
                name: group.name.to_string(),
            });
        }
        if group.args.len() < 2 {
            problems.push(GroupProblem::TooFew);
        }
        let mut seen = BTreeSet::new();
        for member in group.args {
            if !self.names.contains(*member) {
                problems.push(GroupProblem::UnknownMember {
                    member: (*member).to_string(),
                    suggestion: cnv_caps::__private::closest(
                        member,
                        self.names.iter().map(String::as_str),
                    )
                    .map(ToString::to_string),
                });
            } else if !seen.insert(*member) {
                problems.push(GroupProblem::DuplicateMember {
                    member: (*member).to_string(),
                });
            } else if self.required.contains(*member) {
                problems.push(GroupProblem::RequiredMember {
                    member: (*member).to_string(),
                });
            }
        }
        problems
    }

    /// The problems of the names `arg` refers to (`conflicts_with`, `requires`), once
    /// every argument and group of its verb was checked: each must be another argument
    /// (by its name) or a group of the same verb — of the global arguments, for a global
    /// one (`global`).
    #[must_use]
    pub fn references(&self, arg: &ArgDecl<'_>, global: bool) -> Vec<ArgProblem> {
        let mut problems = Vec::new();
        let (names, groups) = if global {
            (&self.global_names, &BTreeSet::new())
        } else {
            (&self.names, &self.groups)
        };
        for (clause, list) in [
            (CONFLICTS_WITH, arg.conflicts_with),
            (REQUIRES, arg.requires),
        ] {
            for name in list {
                if *name == arg.name {
                    problems.push(ArgProblem::SelfReference {
                        clause,
                        name: (*name).to_string(),
                    });
                } else if !names.contains(*name) && !groups.contains(*name) {
                    problems.push(ArgProblem::UnknownReference {
                        clause,
                        name: (*name).to_string(),
                        suggestion: cnv_caps::__private::closest(
                            name,
                            names
                                .iter()
                                .chain(groups)
                                .map(String::as_str)
                                .filter(|candidate| *candidate != arg.name),
                        )
                        .map(ToString::to_string),
                    });
                }
            }
        }
        for name in arg.conflicts_with {
            if arg.requires.contains(name) {
                problems.push(ArgProblem::ConflictsAndRequires {
                    name: (*name).to_string(),
                });
            }
        }
        problems
    }
}

/// The rules of a counted switch.
fn counted(arg: &ArgDecl<'_>, problems: &mut Vec<ArgProblem>) {
    if arg.positional {
        problems.push(ArgProblem::CountedPositional);
        return;
    }
    if Scalar::of(arg.value_type) != Scalar::U8 {
        problems.push(ArgProblem::CountedType {
            value_type: arg.value_type.to_string(),
        });
    }
    if arg.multiple
        || arg.required
        || arg.default.is_some()
        || arg.range.is_some()
        || !arg.values.is_empty()
    {
        problems.push(ArgProblem::CountedShape);
    }
}

/// The rules of a range (a counted switch's range is its own mistake, reported there).
fn range_rules(arg: &ArgDecl<'_>, range: ValueRange, problems: &mut Vec<ArgProblem>) {
    if arg.counted {
        return;
    }
    let scalar = Scalar::of(arg.value_type);
    if !scalar.is_integer() {
        problems.push(ArgProblem::RangeNotInteger {
            value_type: arg.value_type.to_string(),
        });
        return;
    }
    for bound in [range.min(), range.max()].into_iter().flatten() {
        if !scalar.accepts(&bound.to_string()) {
            problems.push(ArgProblem::RangeBound {
                bound,
                value_type: arg.value_type.to_string(),
            });
        }
    }
    if let (Some(min), Some(max)) = (range.min(), range.max())
        && min > max
    {
        problems.push(ArgProblem::RangeEmpty { range });
    }
    if !arg.values.is_empty() {
        problems.push(ArgProblem::RangeWithValues);
    }
}

/// One argument group as both the macro and the model see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupDecl<'a> {
    /// The group's name.
    pub name: &'a str,
    /// The names of its arguments.
    pub args: &'a [&'a str],
    /// Whether at least one must be given.
    pub required: bool,
    /// Whether several may be given together.
    pub multiple: bool,
}

/// An argument group that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupProblem {
    /// The name breaks a name rule.
    Name(NameProblem),
    /// An argument of the verb (or a global one) has this name.
    NameTaken {
        /// The name.
        name: String,
    },
    /// Another group of the verb has this name.
    Duplicate {
        /// The name.
        name: String,
    },
    /// A group of fewer than two arguments.
    TooFew,
    /// A member that is no argument of the verb.
    UnknownMember {
        /// The member.
        member: String,
        /// The closest argument name.
        suggestion: Option<String>,
    },
    /// A member listed twice.
    DuplicateMember {
        /// The member.
        member: String,
    },
    /// A required member: the group could not say "at most one".
    RequiredMember {
        /// The member.
        member: String,
    },
}

impl GroupProblem {
    /// The member the problem is about, if it is about one.
    #[must_use]
    pub fn member(&self) -> Option<&str> {
        match self {
            Self::UnknownMember { member, .. }
            | Self::DuplicateMember { member }
            | Self::RequiredMember { member } => Some(member),
            Self::Name(_) | Self::NameTaken { .. } | Self::Duplicate { .. } | Self::TooFew => None,
        }
    }
}

impl fmt::Display for GroupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(problem) => problem.fmt(f),
            Self::NameTaken { name } => write!(
                f,
                "`{name}` is already an argument or alias; a group needs a name of its own"
            ),
            Self::Duplicate { name } => write!(
                f,
                "this verb already has a group called `{name}`; give this one another name"
            ),
            Self::TooFew => f.write_str(
                "a group names at least two arguments of the verb; a group of one says nothing",
            ),
            Self::UnknownMember { member, suggestion } => {
                write!(f, "`{member}` is no argument of this verb")?;
                if let Some(suggestion) = suggestion {
                    write!(f, " (did you mean `{suggestion}`?)")?;
                }
                f.write_str("; a group lists the verb's own arguments by name")
            }
            Self::DuplicateMember { member } => {
                write!(f, "`{member}` is listed twice in this group")
            }
            Self::RequiredMember { member } => write!(
                f,
                "`{member}` is required, so a group could not make it one of several choices; make it optional or leave it out of the group (`required` on the group says at least one is given)"
            ),
        }
    }
}

/// The MCP tool name of a command (`words`: its nouns, then its verb): the words joined by
/// `_`, each `-` written `_` (`env show-token` is `env_show_token`), so every tool name is
/// lowercase ASCII letters, digits and `_` — the names every MCP client accepts. Two
/// commands whose tool names would be equal are refused ([`ToolNames`]); a verb may
/// declare its own name instead (`mcp_name:`, [`check_tool_name`]).
///
/// ```
/// assert_eq!(cnv_grammar::rules::tool_name(["env", "show-token"]), "env_show_token");
/// ```
#[must_use]
pub fn tool_name<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut name = String::new();
    for word in words {
        if !name.is_empty() {
            name.push('_');
        }
        name.extend(word.chars().map(|c| if c == '-' { '_' } else { c }));
    }
    name
}

/// A declared MCP tool name that breaks the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolNameProblem {
    /// Not lowercase ASCII letters, digits and `_` starting with a letter.
    NotAToolName {
        /// The name.
        name: String,
    },
    /// Longer than [`MAX_COMMAND_LEN`].
    TooLong {
        /// The name.
        name: String,
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for ToolNameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAToolName { name } => write!(
                f,
                "`{name}` is not an MCP tool name: use lowercase ASCII letters, digits and `_`, starting with a letter (e.g. `show_token`)"
            ),
            Self::TooLong { name, len } => write!(
                f,
                "the MCP tool name `{name}` is {len} characters long; at most {MAX_COMMAND_LEN} are allowed"
            ),
        }
    }
}

/// A declared MCP tool name (`mcp_name:`): lowercase ASCII letters, digits and `_`,
/// starting with a letter, at most [`MAX_COMMAND_LEN`] characters.
///
/// # Errors
///
/// [`ToolNameProblem`].
pub fn check_tool_name(name: &str) -> Result<(), ToolNameProblem> {
    let well_formed = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(ToolNameProblem::NotAToolName {
            name: name.to_string(),
        });
    }
    let len = name.len();
    if len > MAX_COMMAND_LEN {
        return Err(ToolNameProblem::TooLong {
            name: name.to_string(),
            len,
        });
    }
    Ok(())
}

/// The MCP tool names of a grammar, each once: two verbs whose tools would have one name
/// (`env show-token` and `env show token` are both `env_show_token`) are refused.
#[derive(Clone, Debug, Default)]
pub struct ToolNames {
    seen: BTreeMap<String, String>,
}

impl ToolNames {
    /// No tool seen yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the tool `name` of the verb `command`.
    ///
    /// # Errors
    ///
    /// [`ToolNameTaken`] when another verb's tool has that name (not the same command
    /// declared twice, which is reported as a duplicate name).
    pub fn add(&mut self, name: &str, command: &str) -> Result<(), ToolNameTaken> {
        match self.seen.get(name) {
            Some(first) if first == command => Ok(()),
            Some(first) => Err(ToolNameTaken {
                name: name.to_string(),
                first: first.clone(),
                command: command.to_string(),
            }),
            None => {
                self.seen.insert(name.to_string(), command.to_string());
                Ok(())
            }
        }
    }
}

/// Two verbs with one MCP tool name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolNameTaken {
    /// The tool name.
    pub name: String,
    /// The verb that has it first.
    pub first: String,
    /// The verb that would have it too.
    pub command: String,
}

impl fmt::Display for ToolNameTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the MCP tool of `{}` would be named `{}`, like the tool of `{}` (a tool name joins the command's words with `_` and writes `-` as `_`); give one of the verbs its own `mcp_name: \"…\"`",
            self.command, self.name, self.first
        )
    }
}

/// A declared MCP title or output schema that breaks the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputSchemaProblem {
    /// Not JSON.
    NotJson {
        /// What the parser said.
        reason: String,
    },
    /// JSON, but not an object schema (`{"type": "object", …}`).
    NotAnObjectSchema,
}

impl fmt::Display for OutputSchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson { reason } => write!(
                f,
                "the output schema is not JSON ({reason}); write a JSON Schema object such as `{{\"type\": \"object\", \"properties\": {{…}}}}`"
            ),
            Self::NotAnObjectSchema => f.write_str(
                "the output schema must describe an object (`{\"type\": \"object\", …}`): MCP carries a tool's structured output as a JSON object",
            ),
        }
    }
}

/// A verb's output schema: JSON text of an object schema (`{"type": "object", …}`), as MCP
/// requires of a tool's `outputSchema`. Without the `serde` feature only its first
/// character is checked (`{`).
///
/// # Errors
///
/// [`OutputSchemaProblem`].
pub fn check_output_schema(schema: &str) -> Result<(), OutputSchemaProblem> {
    #[cfg(feature = "serde")]
    {
        let value: serde_json::Value =
            serde_json::from_str(schema).map_err(|err| OutputSchemaProblem::NotJson {
                reason: err.to_string(),
            })?;
        if value.get("type").and_then(serde_json::Value::as_str) != Some("object") {
            return Err(OutputSchemaProblem::NotAnObjectSchema);
        }
        Ok(())
    }
    #[cfg(not(feature = "serde"))]
    {
        if schema.trim_start().starts_with('{') {
            Ok(())
        } else {
            Err(OutputSchemaProblem::NotAnObjectSchema)
        }
    }
}

/// The prefix of the operator's environment variables (`CNV_AGENT`, `CNV_WORKSPACE`,
/// `CNV_AUDIT_LOG`, …): no argument may be read from one.
pub const RESERVED_ENV_PREFIX: &str = "CNV_";

/// Whether `name` is an environment variable name: ASCII letters, digits and `_`, not
/// starting with a digit.
#[must_use]
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The rules of an argument's possible values, and of its default among them.
fn possible_values(arg: &ArgDecl<'_>, problems: &mut Vec<ArgProblem>) {
    if arg.values.is_empty() {
        return;
    }
    if arg.is_switch() {
        problems.push(ArgProblem::ValuesOnSwitch);
        return;
    }
    let scalar = Scalar::of(arg.value_type);
    let mut seen = BTreeSet::new();
    for value in arg.values {
        if value.is_empty() {
            problems.push(ArgProblem::EmptyValue);
        } else if !seen.insert(*value) {
            problems.push(ArgProblem::DuplicateValue {
                value: value.to_string(),
            });
        } else if !scalar.accepts(value) {
            problems.push(ArgProblem::InvalidValue {
                value: value.to_string(),
                value_type: arg.value_type.to_string(),
            });
        }
    }
    if let Some(default) = arg.default
        && !arg.values.contains(&default)
    {
        problems.push(ArgProblem::DefaultNotAmong {
            default: default.to_string(),
            values: arg.values.iter().map(ToString::to_string).collect(),
        });
    }
}

/// A noun nested deeper than [`MAX_NOUN_DEPTH`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooDeep {
    /// The noun.
    pub name: String,
    /// How deep it is.
    pub depth: usize,
}

impl fmt::Display for TooDeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "noun `{}` is nested {} nouns deep; at most {MAX_NOUN_DEPTH} are allowed",
            self.name, self.depth
        )
    }
}

/// A noun at `depth` (1 for a noun of the application) is within [`MAX_NOUN_DEPTH`].
///
/// # Errors
///
/// [`TooDeep`].
pub fn check_depth(name: &str, depth: usize) -> Result<(), TooDeep> {
    if depth > MAX_NOUN_DEPTH {
        Err(TooDeep {
            name: name.to_string(),
            depth,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn suggestions_are_kebab_case() {
        assert_eq!(kebab_suggestion("ReadFile").as_deref(), Some("read-file"));
        assert_eq!(
            kebab_suggestion("timeout_ms").as_deref(),
            Some("timeout-ms")
        );
        assert_eq!(kebab_suggestion("read"), None);
        assert_eq!(kebab_suggestion("é"), None);
    }

    #[test]
    fn names_are_checked_once_for_every_kind() {
        assert!(check_command_name("read", "verb").is_ok());
        assert!(matches!(
            check_command_name("help", "noun"),
            Err(NameProblem::ReservedCommand { what: "noun", .. })
        ));
        assert!(matches!(
            check_argument_name("justify"),
            Err(NameProblem::ReservedArgument { .. })
        ));
        let message = check_argument_name("yes").unwrap_err().to_string();
        for flag in RESERVED_ARGUMENT_NAMES {
            let listed = message.contains(&alloc::format!("`--{flag}`"));
            assert_eq!(listed, *flag != JUSTIFICATION_ARGUMENT, "{message}");
        }
        let message = check_argument_name("justification")
            .unwrap_err()
            .to_string();
        assert!(message.contains("MCP tool"), "{message}");
        assert!(check_app_name("My App").is_err());
    }

    #[test]
    fn arguments_beside_each_other() {
        let mut rules = ArgRules::new();
        let optional = ArgDecl {
            required: false,
            ..ArgDecl::positional("a", "String", "A")
        };
        assert!(rules.check(&optional).is_empty());
        let required = ArgDecl::positional("b", "String", "B");
        assert!(matches!(
            rules.check(&required)[..],
            [ArgProblem::RequiredAfterOptional { .. }]
        ));
        let switch = ArgDecl {
            positional: false,
            short: Some('h'),
            required: false,
            default: Some("true"),
            ..ArgDecl::positional("force", "bool", "F")
        };
        let problems = rules.check(&switch);
        assert_eq!(
            problems,
            [
                ArgProblem::ShortIsHelp,
                ArgProblem::SwitchDefault {
                    default: "true".into()
                }
            ]
        );
        assert_eq!(problems[0].part(), ArgPart::Short);
        assert_eq!(problems[1].part(), ArgPart::Default);
        let bad_default = ArgDecl {
            positional: false,
            required: false,
            default: Some("-1"),
            ..ArgDecl::positional("n", "u8", "N")
        };
        assert_eq!(
            rules.check(&bad_default),
            [ArgProblem::InvalidDefault {
                default: "-1".into(),
                value_type: "u8".into()
            }]
        );
    }

    #[test]
    fn env_and_possible_values_follow_their_rules() {
        let mut rules = ArgRules::new();
        let sort = ArgDecl {
            positional: false,
            required: false,
            default: Some("nmae"),
            values: &["name", "date", "name", ""],
            env: Some("CNV_SORT"),
            ..ArgDecl::positional("sort", "String", "Order")
        };
        assert_eq!(
            rules.check(&sort),
            [
                ArgProblem::EnvReserved {
                    env: "CNV_SORT".into()
                },
                ArgProblem::DuplicateValue {
                    value: "name".into()
                },
                ArgProblem::EmptyValue,
                ArgProblem::DefaultNotAmong {
                    default: "nmae".into(),
                    values: vec!["name".into(), "date".into(), "name".into(), "".into()],
                },
            ]
        );
        let level = ArgDecl {
            positional: false,
            required: false,
            values: &["1", "two"],
            env: Some("9LIVES"),
            ..ArgDecl::positional("level", "u8", "Level")
        };
        assert_eq!(
            rules.check(&level),
            [
                ArgProblem::EnvName {
                    env: "9LIVES".into()
                },
                ArgProblem::InvalidValue {
                    value: "two".into(),
                    value_type: "u8".into()
                },
            ]
        );
        assert!(is_env_name("NOTES_DIR") && is_env_name("_x1") && !is_env_name("A-B"));
    }

    #[test]
    fn global_arguments_are_named_optional_and_shadowed_by_no_verb() {
        let mut globals = ArgRules::new();
        let verbose = ArgDecl {
            positional: false,
            short: Some('v'),
            required: false,
            ..ArgDecl::positional("verbose", "bool", "Say more")
        };
        assert!(globals.global(&verbose).is_empty());
        let file = ArgDecl::positional("file", "PathBuf", "A file");
        assert_eq!(globals.global(&file), [ArgProblem::GlobalPositional]);
        let config = ArgDecl {
            positional: false,
            ..ArgDecl::positional("config", "PathBuf", "Config")
        };
        assert_eq!(globals.global(&config), [ArgProblem::GlobalRequired]);
        let mut verb = globals.clone();
        let shadow = ArgDecl {
            positional: false,
            short: Some('v'),
            required: false,
            ..ArgDecl::positional("verbose", "u8", "Level")
        };
        assert_eq!(
            verb.check(&shadow),
            [
                ArgProblem::ShadowsGlobal {
                    name: "verbose".into()
                },
                ArgProblem::ShortOfGlobal { short: 'v' },
            ]
        );
    }
}
