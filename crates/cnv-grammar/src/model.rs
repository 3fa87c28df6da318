//! The model: an application's nouns, their verbs, each verb's contract and arguments.
//!
//! Every string and list is a `Cow<'static, …>`: `grammar_dsl!` builds a model out of
//! borrowed `'static` data inside a constant (no allocation, no start-up cost), and a
//! program can still build one at run time (owned data) or load one from JSON.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};

use cnv_caps::CapabilityContract;

/// A string of the model: borrowed from the program's constants or owned.
pub type Text = Cow<'static, str>;

/// A list of the model: borrowed from the program's constants or owned.
pub type List<T> = Cow<'static, [T]>;

/// The whole command grammar of one application: its name, version and nouns.
///
/// Build one with [`grammar_dsl!`](https://docs.rs/cnv/latest/cnv/macro.grammar_dsl.html)
/// (checked at compile time, a constant) or at run time with [`new`](Self::new) and
/// [`add_noun`](Self::add_noun), then [`validate`](Self::validate) it.
///
/// ```
/// use cnv_caps::CapabilityContract;
/// use cnv_grammar::{GrammarModel, GrammarNoun, GrammarVerb};
///
/// let mut grammar = GrammarModel::new("myapp");
/// let noun = GrammarNoun::new("file", "File operations")
///     .with_verb(GrammarVerb::new("read", "Read a file", CapabilityContract::read_only()));
/// grammar.add_noun(noun);
///
/// assert!(grammar.validate().is_ok());
/// assert_eq!(grammar.verb("file", "read").map(|v| v.help()), Some("Read a file"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct GrammarModel {
    pub(crate) name: Text,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) version: Option<Text>,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) help: Option<Text>,
    /// The global arguments: named arguments of the program itself (`--verbose`),
    /// accepted before or after any noun and verb and read by every handler.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "<[GrammarArgument]>::is_empty")
    )]
    pub(crate) args: List<GrammarArgument>,
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) nouns: List<GrammarNoun>,
}

/// A noun: a group of verbs (`file` in `myapp file read`), possibly holding nested
/// nouns (`cloud bucket list`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct GrammarNoun {
    pub(crate) name: Text,
    pub(crate) help: Text,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) long_help: Option<Text>,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "<[GrammarNoun]>::is_empty")
    )]
    pub(crate) nouns: List<GrammarNoun>,
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) verbs: List<GrammarVerb>,
}

/// A verb: one command (`read` in `myapp file read`) with its help, capability contract,
/// optional deprecation note and arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct GrammarVerb {
    pub(crate) name: Text,
    pub(crate) help: Text,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) long_help: Option<Text>,
    pub(crate) contract: CapabilityContract,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) deprecated: Option<Text>,
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) args: List<GrammarArgument>,
    /// Other names of the verb on the command line (`ls` for `list`), listed in `--help`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "<[Text]>::is_empty")
    )]
    pub(crate) aliases: List<Text>,
    /// The argument groups: named sets of the verb's arguments of which at most one (or
    /// at least one) is given.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "<[GrammarGroup]>::is_empty")
    )]
    pub(crate) groups: List<GrammarGroup>,
    /// The MCP tool's title, when it is not the help.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) title: Option<Text>,
    /// The MCP tool's name, when it is not the one derived from the command.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub(crate) mcp_name: Option<Text>,
    /// The JSON Schema of the verb's structured output, as JSON text.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::json::schema_text"
        )
    )]
    pub(crate) output_schema: Option<Text>,
}

/// An argument group of a verb: a name for several of its arguments, of which at most
/// one may be given (`multiple: false`), and at least one must be (`required: true`).
/// Other arguments may name the group in `conflicts_with` and `requires`.
///
/// ```
/// use cnv_grammar::GrammarGroup;
///
/// let format = GrammarGroup::new("format", ["json", "yaml"]).required();
/// assert_eq!(format.args(), ["json", "yaml"]);
/// assert!(format.is_required() && !format.is_multiple());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct GrammarGroup {
    pub(crate) name: Text,
    pub(crate) args: List<Text>,
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) required: bool,
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) multiple: bool,
}

/// The inclusive bounds of an integer argument's values (`1..=10`, `1..`, `..=10`):
/// the command line refuses a value outside them before a handler runs, and the MCP
/// schema says `minimum` and `maximum`.
///
/// ```
/// use cnv_grammar::ValueRange;
///
/// let level = ValueRange::new(Some(1), Some(10));
/// assert!(level.contains(10) && !level.contains(11));
/// assert_eq!(level.to_string(), "1..=10");
/// assert_eq!(ValueRange::new(Some(1), None).to_string(), "1..");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct ValueRange {
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    min: Option<i128>,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    max: Option<i128>,
}

impl ValueRange {
    /// The values from `min` to `max`, both included; `None` leaves that side open.
    #[must_use]
    pub const fn new(min: Option<i128>, max: Option<i128>) -> Self {
        Self { min, max }
    }

    /// The smallest value accepted, if bounded below.
    #[must_use]
    pub const fn min(&self) -> Option<i128> {
        self.min
    }

    /// The largest value accepted, if bounded above.
    #[must_use]
    pub const fn max(&self) -> Option<i128> {
        self.max
    }

    /// Whether `value` is within the bounds.
    #[must_use]
    pub const fn contains(&self, value: i128) -> bool {
        let above = match self.min {
            Some(min) => value >= min,
            None => true,
        };
        let below = match self.max {
            Some(max) => value <= max,
            None => true,
        };
        above && below
    }

    /// Whether the text `value` is an integer within the bounds (a value beyond `i128`
    /// is beyond any bound, so outside a bounded side).
    #[must_use]
    pub fn contains_text(&self, value: &str) -> bool {
        match value.parse::<i128>() {
            Ok(value) => self.contains(value),
            Err(_) => {
                let negative = value.starts_with('-');
                if negative {
                    self.min.is_none()
                } else {
                    self.max.is_none()
                }
            }
        }
    }
}

impl core::fmt::Display for ValueRange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(min) = self.min {
            write!(f, "{min}")?;
        }
        f.write_str("..")?;
        if let Some(max) = self.max {
            write!(f, "={max}")?;
        }
        Ok(())
    }
}

/// One argument of a verb: a positional value (`<path>`) or a named option
/// (`--timeout-ms 500`, `-t 500`), with the Rust type its value parses into.
///
/// The value type is kept as its Rust name (`"u64"`, `"PathBuf"`); `grammar_dsl!`
/// checks at compile time that the type implements `FromStr`. A named argument whose
/// value type is `bool` is a *switch*: present means `true`, and it is never required.
///
/// ```
/// use cnv_grammar::{ArgumentKind, GrammarArgument};
///
/// let timeout = GrammarArgument::named("timeout-ms", "u64", "Give up after this many milliseconds")
///     .with_short('t')
///     .with_default("500");
/// assert_eq!(timeout.kind(), ArgumentKind::Named { short: Some('t') });
/// assert!(!timeout.is_required());
/// assert_eq!(timeout.default_value(), Some("500"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(
        try_from = "crate::json::ArgumentFields",
        into = "crate::json::ArgumentFields"
    )
)]
pub struct GrammarArgument {
    pub(crate) name: Text,
    pub(crate) value_type: Text,
    pub(crate) help: Text,
    pub(crate) kind: ArgumentKind,
    pub(crate) required: bool,
    pub(crate) default: Option<Text>,
    pub(crate) multiple: bool,
    pub(crate) env: Option<Text>,
    pub(crate) values: List<Text>,
    pub(crate) value_name: Option<Text>,
    pub(crate) aliases: List<Text>,
    pub(crate) counted: bool,
    pub(crate) conflicts_with: List<Text>,
    pub(crate) requires: List<Text>,
    pub(crate) range: Option<ValueRange>,
    pub(crate) hidden: bool,
    pub(crate) mcp: bool,
}

/// How an argument is given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArgumentKind {
    /// By position: `myapp file write notes.txt`.
    Positional,
    /// By name: `--<name> <value>`, and `-<short> <value>` when a short flag is set.
    Named {
        /// The one-letter short flag, if any.
        short: Option<char>,
    },
}

impl GrammarModel {
    /// An empty grammar for the application `name`, with no version, help or nouns.
    #[must_use]
    pub fn new(name: impl Into<Text>) -> Self {
        Self {
            name: name.into(),
            version: None,
            help: None,
            args: Cow::Borrowed(&[]),
            nouns: Cow::Borrowed(&[]),
        }
    }

    /// The model `grammar_dsl!` emits, built from `'static` data in a constant.
    /// Not part of the public API: use the macro, or [`new`](Self::new) at run time.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_static(
        name: &'static str,
        version: Option<&'static str>,
        help: Option<&'static str>,
        args: &'static [GrammarArgument],
        nouns: &'static [GrammarNoun],
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            version: borrowed(version),
            help: borrowed(help),
            args: Cow::Borrowed(args),
            nouns: Cow::Borrowed(nouns),
        }
    }

    /// An empty, valid-typed model that `grammar_dsl!` emits beside its compile errors, so
    /// that code using the grammar reports no second error. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __placeholder() -> Self {
        Self::__from_static("", None, None, &[], &[])
    }

    /// The same grammar with a version (semantic versioning, e.g. `"1.0.0"`).
    #[must_use]
    pub fn with_version(mut self, version: impl Into<Text>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The same grammar with a one-line description of the application.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<Text>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a global argument: a named argument of the program itself (`--verbose`),
    /// accepted before or after any noun and verb, shown once in `--help` under "Global
    /// options", and read by every handler like its verb's own arguments.
    pub fn add_arg(&mut self, arg: GrammarArgument) -> &mut Self {
        self.args.to_mut().push(arg);
        self
    }

    /// The same grammar with one more global argument (see [`add_arg`](Self::add_arg)).
    #[must_use]
    pub fn with_arg(mut self, arg: GrammarArgument) -> Self {
        self.add_arg(arg);
        self
    }

    /// The global arguments, in declaration order.
    #[must_use]
    pub fn args(&self) -> &[GrammarArgument] {
        &self.args
    }

    /// The global argument called `name`.
    #[must_use]
    pub fn arg(&self, name: &str) -> Option<&GrammarArgument> {
        self.args.iter().find(|arg| arg.name == name)
    }

    /// Adds a noun at the top level (after the ones already there).
    pub fn add_noun(&mut self, noun: GrammarNoun) -> &mut Self {
        self.nouns.to_mut().push(noun);
        self
    }

    /// The same grammar with one more top-level noun.
    #[must_use]
    pub fn with_noun(mut self, noun: GrammarNoun) -> Self {
        self.add_noun(noun);
        self
    }

    /// The application's name (the program name on the command line).
    #[must_use]
    pub fn app_name(&self) -> &str {
        &self.name
    }

    /// The application's version, if declared.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The application's one-line description, if declared.
    #[must_use]
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The top-level nouns, in declaration order.
    #[must_use]
    pub fn nouns(&self) -> &[GrammarNoun] {
        &self.nouns
    }

    /// The noun at `path`: a noun name, or nested noun names separated by spaces
    /// (`"cloud bucket"`).
    #[must_use]
    pub fn noun(&self, path: &str) -> Option<&GrammarNoun> {
        let mut words = path.split_whitespace();
        let mut noun = find_noun(&self.nouns, words.next()?)?;
        for word in words {
            noun = noun.noun(word)?;
        }
        Some(noun)
    }

    /// The verb `verb` of the noun at `noun_path` (see [`noun`](Self::noun)):
    /// `verb("file", "read")`, `verb("cloud bucket", "list")`.
    #[must_use]
    pub fn verb(&self, noun_path: &str, verb: &str) -> Option<&GrammarVerb> {
        self.noun(noun_path)?.verb(verb)
    }

    /// The verb named by a command line's words, nouns first and the verb last:
    /// `find(&["cloud", "bucket", "list"])`.
    #[must_use]
    pub fn find<S: AsRef<str>>(&self, words: &[S]) -> Option<&GrammarVerb> {
        let (verb, nouns) = words.split_last()?;
        let (first, rest) = nouns.split_first()?;
        let mut noun = find_noun(&self.nouns, first.as_ref())?;
        for word in rest {
            noun = noun.noun(word.as_ref())?;
        }
        noun.verb(verb.as_ref())
    }

    /// The verb whose MCP tool is named `name` ([`NounPath::tool_name`](crate::NounPath::tool_name)),
    /// with the path of nouns that leads to it.
    #[must_use]
    pub fn find_tool(&self, name: &str) -> Option<(crate::NounPath<'_>, &GrammarVerb)> {
        self.verbs()
            .find(|(path, verb)| path.tool_name(verb) == name)
    }

    /// Every verb of the grammar with the path of nouns that leads to it, depth first in
    /// declaration order (a noun's own verbs before those of its nested nouns).
    ///
    /// Reading allocates nothing. Paths are at most
    /// [`MAX_NOUN_DEPTH`](crate::MAX_NOUN_DEPTH) nouns long; a deeper noun (which
    /// [`validate`](Self::validate) reports) is not visited.
    #[must_use = "iterators are lazy"]
    pub fn verbs(&self) -> crate::Verbs<'_> {
        crate::Verbs::new(&self.nouns)
    }

    /// The class of the verb at `command` (`"file write"`, `"cloud bucket list"`: nouns,
    /// then the verb, separated by single spaces), evaluated by the compiler. `None` when
    /// there is no such verb, or when the model was built at run time (only the borrowed
    /// data of a `grammar_dsl!` constant can be read in a constant).
    ///
    /// Not part of the public API: `cnv::verb!` calls it to check a handler's class
    /// against the grammar at compile time.
    #[doc(hidden)]
    #[must_use]
    pub const fn __const_class_of(&self, command: &str) -> Option<cnv_caps::CapabilityClass> {
        let bytes = command.as_bytes();
        let mut nouns: &[GrammarNoun] = match &self.nouns {
            Cow::Borrowed(nouns) => nouns,
            Cow::Owned(_) => return None,
        };
        let mut current: Option<&GrammarNoun> = None;
        let mut start = 0;
        while start <= bytes.len() {
            let mut end = start;
            while end < bytes.len() && bytes[end] != b' ' {
                end += 1;
            }
            let word = bytes.split_at(end).0.split_at(start).1;
            if end == bytes.len() {
                // The last word names a verb of the current noun.
                let Some(noun) = current else { return None };
                let verbs: &[GrammarVerb] = match &noun.verbs {
                    Cow::Borrowed(verbs) => verbs,
                    Cow::Owned(_) => return None,
                };
                let mut i = 0;
                while i < verbs.len() {
                    if const_name_is(&verbs[i].name, word) {
                        return Some(verbs[i].contract.class());
                    }
                    i += 1;
                }
                return None;
            }
            let mut found = None;
            let mut i = 0;
            while i < nouns.len() {
                if const_name_is(&nouns[i].name, word) {
                    found = Some(&nouns[i]);
                    break;
                }
                i += 1;
            }
            let Some(noun) = found else { return None };
            nouns = match &noun.nouns {
                Cow::Borrowed(nouns) => nouns,
                Cow::Owned(_) => return None,
            };
            current = Some(noun);
            start = end + 1;
        }
        None
    }
}

/// Whether a borrowed name equals `word`, in a constant.
const fn const_name_is(name: &Text, word: &[u8]) -> bool {
    let name = match name {
        Cow::Borrowed(name) => name.as_bytes(),
        Cow::Owned(_) => return false,
    };
    if name.len() != word.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        if name[i] != word[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl GrammarNoun {
    /// A noun with a name and a one-line help text, and no verbs yet.
    #[must_use]
    pub fn new(name: impl Into<Text>, help: impl Into<Text>) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            long_help: None,
            nouns: Cow::Borrowed(&[]),
            verbs: Cow::Borrowed(&[]),
        }
    }

    /// The noun `grammar_dsl!` emits. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_static(
        name: &'static str,
        help: &'static str,
        long_help: Option<&'static str>,
        nouns: &'static [GrammarNoun],
        verbs: &'static [GrammarVerb],
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            help: Cow::Borrowed(help),
            long_help: borrowed(long_help),
            nouns: Cow::Borrowed(nouns),
            verbs: Cow::Borrowed(verbs),
        }
    }

    /// The same noun with a longer description for `--help`.
    #[must_use]
    pub fn with_long_help(mut self, long_help: impl Into<Text>) -> Self {
        self.long_help = Some(long_help.into());
        self
    }

    /// Adds a verb (after the ones already there).
    pub fn add_verb(&mut self, verb: GrammarVerb) -> &mut Self {
        self.verbs.to_mut().push(verb);
        self
    }

    /// The same noun with one more verb.
    #[must_use]
    pub fn with_verb(mut self, verb: GrammarVerb) -> Self {
        self.add_verb(verb);
        self
    }

    /// Adds a nested noun (after the ones already there).
    pub fn add_noun(&mut self, noun: GrammarNoun) -> &mut Self {
        self.nouns.to_mut().push(noun);
        self
    }

    /// The same noun with one more nested noun.
    #[must_use]
    pub fn with_noun(mut self, noun: GrammarNoun) -> Self {
        self.add_noun(noun);
        self
    }

    /// The noun's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The one-line help text.
    #[must_use]
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The longer description, if any.
    #[must_use]
    pub fn long_help(&self) -> Option<&str> {
        self.long_help.as_deref()
    }

    /// The nested nouns, in declaration order.
    #[must_use]
    pub fn nouns(&self) -> &[GrammarNoun] {
        &self.nouns
    }

    /// The verbs, in declaration order.
    #[must_use]
    pub fn verbs(&self) -> &[GrammarVerb] {
        &self.verbs
    }

    /// The nested noun called `name`.
    #[must_use]
    pub fn noun(&self, name: &str) -> Option<&GrammarNoun> {
        find_noun(&self.nouns, name)
    }

    /// The verb called `name`.
    #[must_use]
    pub fn verb(&self, name: &str) -> Option<&GrammarVerb> {
        self.verbs.iter().find(|verb| verb.name == name)
    }
}

impl GrammarVerb {
    /// A verb with a name, a one-line help text and a contract (a typed contract such as
    /// `CapabilityContract::read_only()` converts).
    #[must_use]
    pub fn new(
        name: impl Into<Text>,
        help: impl Into<Text>,
        contract: impl Into<CapabilityContract>,
    ) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            long_help: None,
            contract: contract.into(),
            deprecated: None,
            args: Cow::Borrowed(&[]),
            aliases: Cow::Borrowed(&[]),
            groups: Cow::Borrowed(&[]),
            title: None,
            mcp_name: None,
            output_schema: None,
        }
    }

    /// The verb `grammar_dsl!` emits. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_static(
        name: &'static str,
        help: &'static str,
        long_help: Option<&'static str>,
        contract: CapabilityContract,
        deprecated: Option<&'static str>,
        args: &'static [GrammarArgument],
    ) -> Self {
        Self::__from_parts(VerbParts {
            name,
            help,
            long_help,
            contract,
            deprecated,
            args,
            aliases: &[],
            groups: &[],
            title: None,
            mcp_name: None,
            output_schema: None,
        })
    }

    /// The verb `grammar_dsl!` emits, from its named parts. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_parts(parts: VerbParts) -> Self {
        Self {
            name: Cow::Borrowed(parts.name),
            help: Cow::Borrowed(parts.help),
            long_help: borrowed(parts.long_help),
            contract: parts.contract,
            deprecated: borrowed(parts.deprecated),
            args: Cow::Borrowed(parts.args),
            aliases: Cow::Borrowed(parts.aliases),
            groups: Cow::Borrowed(parts.groups),
            title: borrowed(parts.title),
            mcp_name: borrowed(parts.mcp_name),
            output_schema: borrowed(parts.output_schema),
        }
    }

    /// The same verb with a longer description for `--help`.
    #[must_use]
    pub fn with_long_help(mut self, long_help: impl Into<Text>) -> Self {
        self.long_help = Some(long_help.into());
        self
    }

    /// The same verb, deprecated, with a note saying what to use instead. Its contract's
    /// stability becomes `Deprecated`.
    #[must_use]
    pub fn deprecated(mut self, note: impl Into<Text>) -> Self {
        self.deprecated = Some(note.into());
        self.contract = self
            .contract
            .with_stability(cnv_caps::StabilityProfile::Deprecated);
        self
    }

    /// Adds an argument (after the ones already there).
    pub fn add_arg(&mut self, arg: GrammarArgument) -> &mut Self {
        self.args.to_mut().push(arg);
        self
    }

    /// The same verb with one more argument.
    #[must_use]
    pub fn with_arg(mut self, arg: GrammarArgument) -> Self {
        self.add_arg(arg);
        self
    }

    /// The same verb with another name on the command line (`ls` for `list`), shown in
    /// its `--help` and accepted wherever its name is. MCP tools keep the verb's name.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<Text>) -> Self {
        self.aliases.to_mut().push(alias.into());
        self
    }

    /// The same verb with one more argument group (see [`GrammarGroup`]).
    #[must_use]
    pub fn with_group(mut self, group: GrammarGroup) -> Self {
        self.groups.to_mut().push(group);
        self
    }

    /// The same verb with the title of its MCP tool (by default its help).
    #[must_use]
    pub fn with_title(mut self, title: impl Into<Text>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The same verb with its MCP tool named `name` instead of the name derived from its
    /// command ([`rules::tool_name`](crate::rules::tool_name)): lowercase ASCII letters,
    /// digits and `_`, starting with a letter, unique among the grammar's tools.
    #[must_use]
    pub fn with_mcp_name(mut self, name: impl Into<Text>) -> Self {
        self.mcp_name = Some(name.into());
        self
    }

    /// The same verb declaring the JSON Schema of its structured output (the `data` of
    /// its [`Output`](https://docs.rs/cnv-cli/latest/cnv_cli/struct.Output.html)), as
    /// JSON text: an object schema (`{"type": "object", …}`), which its MCP tool
    /// declares as `outputSchema`. `grammar_dsl!` takes it from a type with `output:
    /// Type` ([`OutputSchema`](crate::OutputSchema)).
    #[must_use]
    pub fn with_output_schema(mut self, schema: impl Into<Text>) -> Self {
        self.output_schema = Some(schema.into());
        self
    }

    /// The other names of the verb on the command line.
    #[must_use]
    pub fn aliases(&self) -> &[Text] {
        &self.aliases
    }

    /// The argument groups, in declaration order.
    #[must_use]
    pub fn groups(&self) -> &[GrammarGroup] {
        &self.groups
    }

    /// The title of its MCP tool: the declared one, or else the help.
    #[must_use]
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.help)
    }

    /// The declared title of its MCP tool, if any.
    #[must_use]
    pub fn declared_title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The declared name of its MCP tool, if any (otherwise the name comes from the
    /// command: [`NounPath::tool_name`](crate::NounPath::tool_name)).
    #[must_use]
    pub fn mcp_name(&self) -> Option<&str> {
        self.mcp_name.as_deref()
    }

    /// The JSON Schema of its structured output, as JSON text, if declared.
    #[must_use]
    pub fn output_schema(&self) -> Option<&str> {
        self.output_schema.as_deref()
    }

    /// The verb's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The one-line help text.
    #[must_use]
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The longer description, if any.
    #[must_use]
    pub fn long_help(&self) -> Option<&str> {
        self.long_help.as_deref()
    }

    /// The capability contract: class, resource band, safety and stability.
    #[must_use]
    pub fn contract(&self) -> CapabilityContract {
        self.contract
    }

    /// The deprecation note, if the verb is deprecated.
    #[must_use]
    pub fn deprecation(&self) -> Option<&str> {
        self.deprecated.as_deref()
    }

    /// Whether the verb is deprecated.
    #[must_use]
    pub fn is_deprecated(&self) -> bool {
        self.deprecated.is_some()
    }

    /// The arguments, positional and named, in declaration order.
    #[must_use]
    pub fn args(&self) -> &[GrammarArgument] {
        &self.args
    }

    /// The argument called `name`.
    #[must_use]
    pub fn arg(&self, name: &str) -> Option<&GrammarArgument> {
        self.args.iter().find(|arg| arg.name == name)
    }
}

impl GrammarArgument {
    /// A required positional argument whose value parses into `value_type`.
    #[must_use]
    pub fn positional(
        name: impl Into<Text>,
        value_type: impl Into<Text>,
        help: impl Into<Text>,
    ) -> Self {
        Self {
            name: name.into(),
            value_type: value_type.into(),
            help: help.into(),
            kind: ArgumentKind::Positional,
            required: true,
            default: None,
            multiple: false,
            env: None,
            values: Cow::Borrowed(&[]),
            value_name: None,
            aliases: Cow::Borrowed(&[]),
            counted: false,
            conflicts_with: Cow::Borrowed(&[]),
            requires: Cow::Borrowed(&[]),
            range: None,
            hidden: false,
            mcp: false,
        }
    }

    /// A named argument `--<name> <value>`: required, unless its value type is `bool`
    /// (a switch, default `false`).
    #[must_use]
    pub fn named(
        name: impl Into<Text>,
        value_type: impl Into<Text>,
        help: impl Into<Text>,
    ) -> Self {
        let value_type = value_type.into();
        let switch = crate::value::is_switch_type(&value_type);
        Self {
            name: name.into(),
            value_type,
            help: help.into(),
            kind: ArgumentKind::Named { short: None },
            required: !switch,
            default: switch.then_some(Cow::Borrowed("false")),
            multiple: false,
            env: None,
            values: Cow::Borrowed(&[]),
            value_name: None,
            aliases: Cow::Borrowed(&[]),
            counted: false,
            conflicts_with: Cow::Borrowed(&[]),
            requires: Cow::Borrowed(&[]),
            range: None,
            hidden: false,
            mcp: false,
        }
    }

    /// A counted switch `--<name>` (`-vvv` with a short flag): its value is how many times
    /// it was given, a `u8` that is `0` when absent.
    #[must_use]
    pub fn counted(name: impl Into<Text>, help: impl Into<Text>) -> Self {
        Self {
            counted: true,
            required: false,
            default: None,
            ..Self::named(name, "u8", help)
        }
    }

    /// The argument `grammar_dsl!` emits. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one parameter per field, called by generated code only"
    )]
    pub const fn __from_static(
        name: &'static str,
        value_type: &'static str,
        help: &'static str,
        positional: bool,
        short: Option<char>,
        required: bool,
        default: Option<&'static str>,
        multiple: bool,
        env: Option<&'static str>,
        values: &'static [Text],
    ) -> Self {
        Self::__from_parts(ArgumentParts {
            name,
            value_type,
            help,
            positional,
            short,
            required,
            default,
            multiple,
            env,
            values,
            value_name: None,
            aliases: &[],
            counted: false,
            conflicts_with: &[],
            requires: &[],
            range: None,
            hidden: false,
            mcp: false,
        })
    }

    /// The argument `grammar_dsl!` emits, from its named parts. Not part of the public
    /// API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_parts(parts: ArgumentParts) -> Self {
        Self {
            name: Cow::Borrowed(parts.name),
            value_type: Cow::Borrowed(parts.value_type),
            help: Cow::Borrowed(parts.help),
            kind: if parts.positional {
                ArgumentKind::Positional
            } else {
                ArgumentKind::Named { short: parts.short }
            },
            required: parts.required,
            default: borrowed(parts.default),
            multiple: parts.multiple,
            env: borrowed(parts.env),
            values: Cow::Borrowed(parts.values),
            value_name: borrowed(parts.value_name),
            aliases: Cow::Borrowed(parts.aliases),
            counted: parts.counted,
            conflicts_with: Cow::Borrowed(parts.conflicts_with),
            requires: Cow::Borrowed(parts.requires),
            range: parts.range,
            hidden: parts.hidden,
            mcp: parts.mcp,
        }
    }

    /// The same argument with a one-letter short flag (`-t`). A positional argument
    /// has no flags, so it is left unchanged (and [`validate`](GrammarModel::validate)
    /// has nothing to report).
    #[must_use]
    pub fn with_short(mut self, short: char) -> Self {
        if let ArgumentKind::Named { .. } = self.kind {
            self.kind = ArgumentKind::Named { short: Some(short) };
        }
        self
    }

    /// The same argument with a default value (as it would be typed on the command
    /// line); it is no longer required.
    #[must_use]
    pub fn with_default(mut self, default: impl Into<Text>) -> Self {
        self.default = Some(default.into());
        self.required = false;
        self
    }

    /// The same argument, read from the environment variable `env` when the command
    /// line does not give it (`[env: NOTES_DIR=]` in `--help`). The variable is the
    /// caller's, like the argument: it grants nothing the argument would not.
    #[must_use]
    pub fn with_env(mut self, env: impl Into<Text>) -> Self {
        self.env = Some(env.into());
        self
    }

    /// The same argument, accepting only `values` (`--sort name|date`): the command line
    /// refuses any other before a handler runs, and `--help`, completions and the MCP
    /// schema (`enum`) list them.
    #[must_use]
    pub fn with_values<I, V>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Text>,
    {
        self.values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The same argument, optional (no default: the handler sees no value).
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// The same argument, repeatable: `--header a --header b`, or every remaining word
    /// for a positional argument. It is no longer required (zero values are allowed).
    #[must_use]
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self.required = false;
        self
    }

    /// The same argument shown as `<NAME>` in `--help` and usage lines (by default its
    /// name in capitals, `-` written `_`: `<TIMEOUT_MS>`).
    #[must_use]
    pub fn with_value_name(mut self, value_name: impl Into<Text>) -> Self {
        self.value_name = Some(value_name.into());
        self
    }

    /// The same argument with another long name (`--lvl` for `--level`), shown in
    /// `--help`. MCP tool schemas keep the argument's name.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<Text>) -> Self {
        self.aliases.to_mut().push(alias.into());
        self
    }

    /// The same argument, refused beside `other` (an argument or group of the same verb).
    #[must_use]
    pub fn conflicts_with(mut self, other: impl Into<Text>) -> Self {
        self.conflicts_with.to_mut().push(other.into());
        self
    }

    /// The same argument, accepted only with `other` (an argument or group of the same
    /// verb).
    #[must_use]
    pub fn requires(mut self, other: impl Into<Text>) -> Self {
        self.requires.to_mut().push(other.into());
        self
    }

    /// The same integer argument, accepting only values within `range`.
    #[must_use]
    pub fn with_range(mut self, range: ValueRange) -> Self {
        self.range = Some(range);
        self
    }

    /// The same argument, left out of `--help`, completions and MCP tool schemas (the
    /// command line still accepts it; it cannot be required).
    #[must_use]
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    /// The same global argument, in every MCP tool's schema too (a global argument is
    /// otherwise the command line's only: `--verbose` means nothing to an agent).
    #[must_use]
    pub fn in_mcp(mut self) -> Self {
        self.mcp = true;
        self
    }

    /// The argument's name: its long flag (`--<name>`) or its placeholder (`<name>`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Rust name of the type its value parses into, e.g. `"u64"` or `"PathBuf"`.
    #[must_use]
    pub fn value_type(&self) -> &str {
        &self.value_type
    }

    /// The help text.
    #[must_use]
    pub fn help(&self) -> &str {
        &self.help
    }

    /// Positional or named (with its short flag).
    #[must_use]
    pub fn kind(&self) -> ArgumentKind {
        self.kind
    }

    /// Whether it is positional.
    #[must_use]
    pub fn is_positional(&self) -> bool {
        self.kind == ArgumentKind::Positional
    }

    /// The long flag without its dashes (the name), for a named argument.
    #[must_use]
    pub fn long(&self) -> Option<&str> {
        match self.kind {
            ArgumentKind::Named { .. } => Some(&self.name),
            ArgumentKind::Positional => None,
        }
    }

    /// The short flag, for a named argument that has one.
    #[must_use]
    pub fn short(&self) -> Option<char> {
        match self.kind {
            ArgumentKind::Named { short } => short,
            ArgumentKind::Positional => None,
        }
    }

    /// Whether the command line must give it.
    #[must_use]
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The default value, as it would be typed on the command line.
    #[must_use]
    pub fn default_value(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// Whether it may be given more than once (its handler sees a list).
    #[must_use]
    pub fn is_multiple(&self) -> bool {
        self.multiple
    }

    /// The environment variable it is read from when not given, if any.
    #[must_use]
    pub fn env(&self) -> Option<&str> {
        self.env.as_deref()
    }

    /// The only values it accepts, in declaration order; empty when any value of its
    /// type is accepted.
    #[must_use]
    pub fn possible_values(&self) -> &[Text] {
        &self.values
    }

    /// The declared value name (`<LEVEL>` in `--help`), if any.
    #[must_use]
    pub fn value_name(&self) -> Option<&str> {
        self.value_name.as_deref()
    }

    /// The value name shown in `--help`: the declared one, or the name in capitals with
    /// `-` written `_` ([`rules::default_value_name`](crate::rules::default_value_name)).
    #[must_use]
    pub fn placeholder(&self) -> String {
        self.value_name.as_deref().map_or_else(
            || crate::value::default_value_name(&self.name),
            ToString::to_string,
        )
    }

    /// The other long names of a named argument.
    #[must_use]
    pub fn aliases(&self) -> &[Text] {
        &self.aliases
    }

    /// Whether it is a counted switch (`-vvv`: a `u8`, how many times it was given).
    #[must_use]
    pub fn is_counted(&self) -> bool {
        self.counted
    }

    /// The arguments and groups it may not be given with.
    #[must_use]
    pub fn conflicts(&self) -> &[Text] {
        &self.conflicts_with
    }

    /// The arguments and groups it may be given only with.
    #[must_use]
    pub fn requirements(&self) -> &[Text] {
        &self.requires
    }

    /// The bounds of an integer argument's values, if declared.
    #[must_use]
    pub fn range(&self) -> Option<ValueRange> {
        self.range
    }

    /// Whether it is left out of `--help`, completions and MCP tool schemas.
    #[must_use]
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// Whether a global argument is in every MCP tool's schema too.
    #[must_use]
    pub fn is_in_mcp(&self) -> bool {
        self.mcp
    }

    /// The value type as the [rules](crate::rules) know it: a number type, `bool`,
    /// `char`, or [`Text`](crate::rules::Scalar::Text) (parsed by the program's
    /// `FromStr`). A command line chooses its parser with it.
    #[must_use]
    pub fn scalar(&self) -> crate::value::Scalar {
        crate::value::Scalar::of(&self.value_type)
    }

    /// Whether it is a switch: a named `bool` argument, `true` when present.
    #[must_use]
    pub fn is_switch(&self) -> bool {
        !self.is_positional() && crate::value::is_switch_type(&self.value_type)
    }
}

impl GrammarGroup {
    /// A group called `name` of the arguments `args`, at most one of which may be given
    /// (none need be).
    #[must_use]
    pub fn new<I, V>(name: impl Into<Text>, args: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Text>,
    {
        Self {
            name: name.into(),
            args: args.into_iter().map(Into::into).collect(),
            required: false,
            multiple: false,
        }
    }

    /// The group `grammar_dsl!` emits. Not part of the public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_static(
        name: &'static str,
        args: &'static [Text],
        required: bool,
        multiple: bool,
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            args: Cow::Borrowed(args),
            required,
            multiple,
        }
    }

    /// The same group, of which at least one argument must be given.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same group, of which several arguments may be given together.
    #[must_use]
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }

    /// The group's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of its arguments.
    #[must_use]
    pub fn args(&self) -> &[Text] {
        &self.args
    }

    /// Whether at least one of its arguments must be given.
    #[must_use]
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// Whether several of its arguments may be given together.
    #[must_use]
    pub fn is_multiple(&self) -> bool {
        self.multiple
    }
}

/// The parts of a verb, as `grammar_dsl!` emits them. Not part of the public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct VerbParts {
    pub name: &'static str,
    pub help: &'static str,
    pub long_help: Option<&'static str>,
    pub contract: CapabilityContract,
    pub deprecated: Option<&'static str>,
    pub args: &'static [GrammarArgument],
    pub aliases: &'static [Text],
    pub groups: &'static [GrammarGroup],
    pub title: Option<&'static str>,
    pub mcp_name: Option<&'static str>,
    pub output_schema: Option<&'static str>,
}

/// The parts of an argument, as `grammar_dsl!` emits them. Not part of the public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct ArgumentParts {
    pub name: &'static str,
    pub value_type: &'static str,
    pub help: &'static str,
    pub positional: bool,
    pub short: Option<char>,
    pub required: bool,
    pub default: Option<&'static str>,
    pub multiple: bool,
    pub env: Option<&'static str>,
    pub values: &'static [Text],
    pub value_name: Option<&'static str>,
    pub aliases: &'static [Text],
    pub counted: bool,
    pub conflicts_with: &'static [Text],
    pub requires: &'static [Text],
    pub range: Option<ValueRange>,
    pub hidden: bool,
    pub mcp: bool,
}

const fn borrowed(text: Option<&'static str>) -> Option<Text> {
    match text {
        Some(text) => Some(Cow::Borrowed(text)),
        None => None,
    }
}

fn find_noun<'a>(nouns: &'a [GrammarNoun], name: &str) -> Option<&'a GrammarNoun> {
    nouns.iter().find(|noun| noun.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv_caps::CapabilityClass;

    const FETCH: GrammarVerb = GrammarVerb::__from_static(
        "fetch",
        "Fetch",
        None,
        CapabilityContract::new(CapabilityClass::Network, cnv_caps::ResourceBand::Slow),
        None,
        &[],
    );
    const LIST: GrammarVerb = GrammarVerb::__from_static(
        "list",
        "List",
        None,
        CapabilityContract::new(CapabilityClass::ReadOnlyFS, cnv_caps::ResourceBand::Fast),
        None,
        &[],
    );
    const BUCKET_VERBS: &[GrammarVerb] = &[LIST];
    const BUCKET: GrammarNoun =
        GrammarNoun::__from_static("bucket", "Buckets", None, &[], BUCKET_VERBS);
    const CLOUD_NOUNS: &[GrammarNoun] = &[BUCKET];
    const CLOUD_VERBS: &[GrammarVerb] = &[FETCH];
    const CLOUD: GrammarNoun =
        GrammarNoun::__from_static("cloud", "Cloud", None, CLOUD_NOUNS, CLOUD_VERBS);
    const NOUNS: &[GrammarNoun] = &[CLOUD];
    static MODEL: GrammarModel = GrammarModel::__from_static("app", None, None, &[], NOUNS);

    #[test]
    fn const_class_of_walks_nested_paths_in_a_constant() {
        const NETWORK: Option<CapabilityClass> = MODEL.__const_class_of("cloud fetch");
        const READ_ONLY: Option<CapabilityClass> = MODEL.__const_class_of("cloud bucket list");
        assert_eq!(NETWORK, Some(CapabilityClass::Network));
        assert_eq!(READ_ONLY, Some(CapabilityClass::ReadOnlyFS));
        for missing in [
            "",
            "cloud",
            "fetch",
            "cloud fetch extra",
            "cloud  fetch",
            "cloud bucket",
        ] {
            assert_eq!(MODEL.__const_class_of(missing), None, "{missing:?}");
        }
    }

    #[test]
    fn const_class_of_cannot_read_a_model_built_at_run_time() {
        let mut model = GrammarModel::new("app");
        model.add_noun(
            GrammarNoun::new("cloud", "Cloud").with_verb(GrammarVerb::new(
                "fetch",
                "Fetch",
                CapabilityContract::network(),
            )),
        );
        assert_eq!(
            model.verb("cloud", "fetch").map(|v| v.contract().class()),
            Some(CapabilityClass::Network)
        );
        assert_eq!(model.__const_class_of("cloud fetch"), None);
    }
}
