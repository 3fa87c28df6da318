//! The syntax tree of a `grammar_dsl!` invocation, as written: names are still tokens
//! (so every error can point at one) and nothing is checked yet.

use std::fmt;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Ident, LitStr, Type};

/// A whole invocation's `app` (the `crate = path;` before it is in
/// [`Parsed`](crate::parse::Parsed), since it outlives an `app` that cannot be read).
pub struct Grammar {
    /// The application.
    pub app: App,
}

/// `app "name" version "1.0.0" help "…" { … }`.
pub struct App {
    /// The application's name.
    pub name: LitStr,
    /// `version "…"`.
    pub version: Option<LitStr>,
    /// `help "…"`.
    pub help: Option<LitStr>,
    /// `args: [ … ]`: the global arguments.
    pub args: Slot<Args>,
    /// `sets: [ name: [ … ], … ]`: named argument sets, each used by verbs with
    /// `..name` in their `args`.
    pub sets: Vec<ArgSet>,
    /// The nouns (and misplaced verbs, which validation refuses).
    pub items: Vec<Item>,
    /// Whether an item failed to parse (so "no nouns" would be a follow-on error).
    pub poisoned: bool,
}

/// A noun or a verb inside braces.
pub enum Item {
    /// `noun "…" … { … }`.
    Noun(Noun),
    /// `verb "…" { … }` (boxed: a verb's fields are many times a noun's size).
    Verb(Box<Verb>),
}

/// `noun "name" help "…" long_help "…" { … }`.
pub struct Noun {
    /// The `noun` keyword.
    pub keyword: Ident,
    /// The noun's name.
    pub name: LitStr,
    /// `help "…"`: required, so a header word that could not be read is `Broken` (and
    /// not reported missing).
    pub help: Slot<LitStr>,
    /// `long_help "…"`.
    pub long_help: Option<LitStr>,
    /// Nested nouns and verbs, in order.
    pub items: Vec<Item>,
    /// Whether an item failed to parse.
    pub poisoned: bool,
}

/// `verb "name" { field: value, … }`.
pub struct Verb {
    /// The `verb` keyword.
    pub keyword: Ident,
    /// The verb's name.
    pub name: LitStr,
    /// Its fields.
    pub fields: Fields,
}

/// A field's value: not written, written but unreadable (already reported), or read.
#[derive(Default)]
pub enum Slot<T> {
    /// The field is not there.
    #[default]
    Absent,
    /// The field is there but its value could not be parsed; an error was reported.
    Broken,
    /// The value.
    Given(T),
}

impl<T> Slot<T> {
    /// Whether the field was written at all.
    pub fn is_written(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    /// The value, if read.
    pub fn given(&self) -> Option<&T> {
        match self {
            Self::Given(value) => Some(value),
            _ => None,
        }
    }

    /// The value, if read, by value.
    pub fn into_given(self) -> Option<T> {
        match self {
            Self::Given(value) => Some(value),
            _ => None,
        }
    }
}

/// The fields of a verb, in any order.
#[derive(Default)]
pub struct Fields {
    /// `capability: Class`.
    pub capability: Slot<Ident>,
    /// `resource: Band`.
    pub resource: Slot<Ident>,
    /// `safety: Profile`.
    pub safety: Slot<Ident>,
    /// `confirmation: Asked | Routine`.
    pub confirmation: Slot<Ident>,
    /// `stability: Profile`.
    pub stability: Slot<Ident>,
    /// `help: "…"`.
    pub help: Slot<LitStr>,
    /// `long_help: "…"`.
    pub long_help: Slot<LitStr>,
    /// `deprecated: "note"`.
    pub deprecated: Slot<LitStr>,
    /// `args: [ … ]`.
    pub args: Slot<Args>,
    /// `aliases: ["ls", …]`.
    pub aliases: Slot<Vec<LitStr>>,
    /// `title: "…"`.
    pub title: Slot<LitStr>,
    /// `mcp_name: "…"`.
    pub mcp_name: Slot<LitStr>,
    /// `output: Type`.
    pub output: Slot<Type>,
    /// `groups: [ name: [a, b] required multiple, … ]`.
    pub groups: Slot<Vec<Group>>,
}

/// `name: [ … ]` in the app's `sets:`: arguments declared once, for the verbs that write
/// `..name` among theirs.
#[derive(Debug)]
pub struct ArgSet {
    /// The name, as written.
    pub name: String,
    /// Its tokens (where its errors point).
    pub name_tokens: TokenStream,
    /// Its arguments.
    pub args: Args,
    /// Whether a verb uses it.
    pub used: bool,
}

/// One argument group: `name: [a, b] required multiple`.
#[derive(Debug)]
pub struct Group {
    /// The name.
    pub name: Name,
    /// Its arguments' names.
    pub args: Vec<Name>,
    /// The tokens of the list.
    pub list_tokens: TokenStream,
    /// `required`.
    pub required: bool,
    /// `multiple`.
    pub multiple: bool,
}

/// A kebab-case name written bare (`dry-run`), with its tokens.
#[derive(Clone, Debug)]
pub struct Name {
    /// The name.
    pub text: String,
    /// Its tokens.
    pub tokens: TokenStream,
}

/// `range 1..=10`, `range 1..`, `range ..=10`, `range 1..11`: inclusive bounds.
#[derive(Clone, Debug)]
pub struct RangeClause {
    /// The smallest value.
    pub min: Option<i128>,
    /// The largest value.
    pub max: Option<i128>,
    /// The clause's tokens.
    pub tokens: TokenStream,
}

/// The arguments of a verb.
#[derive(Default)]
pub struct Args {
    /// Those that parsed (and, once the sets are spliced in, the arguments of the sets
    /// the verb uses, where it uses them).
    pub list: Vec<Arg>,
    /// `..name`: each set used, and the index in `list` where its arguments go (emptied
    /// once they are spliced in).
    pub uses: Vec<(usize, Name)>,
    /// Whether one failed to parse.
    pub poisoned: bool,
}

/// One argument: `path: PathBuf "help"`, `-t --timeout-ms: u64 = 500 "help"`, with
/// optional clauses between the type (and default) and the help.
#[derive(Clone)]
pub struct Arg {
    /// The name, without dashes.
    pub name: String,
    /// The tokens of the name, dashes included (where its errors point).
    pub name_tokens: TokenStream,
    /// The short flag's letter and its tokens, for `-t --timeout-ms`.
    pub short: Option<(String, TokenStream)>,
    /// Positional (`path: …`) or named (`--name: …`).
    pub positional: bool,
    /// The declared type: `T`, `Option<T>` or `Vec<T>`.
    pub ty: Type,
    /// `= default`.
    pub default: Option<DefaultValue>,
    /// `in [ … ]`: the only values accepted.
    pub values: Option<PossibleValues>,
    /// `env "NAME"`: the environment variable read when the argument is not given.
    pub env: Option<LitStr>,
    /// `value_name "LEVEL"`.
    pub value_name: Option<LitStr>,
    /// `alias "lvl"`, each one.
    pub aliases: Vec<LitStr>,
    /// `count`.
    pub count: Option<Ident>,
    /// `conflicts_with [a, b]`.
    pub conflicts_with: Vec<Name>,
    /// `requires [a, b]`.
    pub requires: Vec<Name>,
    /// `range 1..=10`.
    pub range: Option<RangeClause>,
    /// `hidden`.
    pub hidden: Option<Ident>,
    /// `mcp`.
    pub mcp: Option<Ident>,
    /// The help text (`None` when a clause before it could not be read).
    pub help: Option<LitStr>,
    /// Whether a clause could not be read (reported): the argument keeps its name and
    /// type (so its field), and what followed the mistake is unknown.
    pub broken: bool,
    /// `..name`: the set it came from and the tokens of that use, when it was declared in
    /// a set.
    pub from_set: Option<(String, TokenStream)>,
}

/// `in ["name", "date"]`, or `in Sort` for a type that lists its values.
#[derive(Clone)]
pub struct PossibleValues {
    /// The values, each as a user would type it (none for `in Type`).
    pub values: Vec<DefaultValue>,
    /// `in Type`: the type whose `PossibleValues` list them.
    pub from: Option<Type>,
    /// The tokens of the whole list (where its errors point).
    pub tokens: TokenStream,
}

/// A default value: the text a user would type, and the tokens it came from.
#[derive(Clone)]
pub struct DefaultValue {
    /// `500`, `hello` (a string literal's value), `-1`, `true`; for a constant, its path
    /// (`MAX_RETRIES`).
    pub text: String,
    /// The literal's tokens.
    pub tokens: TokenStream,
    /// `= MAX_RETRIES`: the constant whose value is the default.
    pub constant: Option<syn::Path>,
}

impl Grammar {
    /// Every argument's value type in the grammar, for the compile-time `FromStr` check
    /// (but those of a refused shape, `Option<Option<T>>` and the like).
    #[must_use]
    pub fn arg_types(&self) -> Vec<&Type> {
        let mut types = Vec::new();
        if let Slot::Given(args) = &self.app.args {
            types.extend(
                args.list
                    .iter()
                    .map(|arg| crate::types::value_type(&arg.ty))
                    .filter(|ty| crate::types::shape(ty).0 == crate::types::Shape::One),
            );
        }
        for set in &self.app.sets {
            types.extend(
                set.args
                    .list
                    .iter()
                    .map(|arg| crate::types::value_type(&arg.ty))
                    .filter(|ty| crate::types::shape(ty).0 == crate::types::Shape::One),
            );
        }
        collect_types(&self.app.items, &mut types);
        types
    }
}

impl Grammar {
    /// Every verb's `output:` type, for the compile-time `OutputSchema` check made beside
    /// the errors (a model that expands checks each where it reads it).
    #[must_use]
    pub fn output_types(&self) -> Vec<&Type> {
        fn collect<'a>(items: &'a [Item], types: &mut Vec<&'a Type>) {
            for item in items {
                match item {
                    Item::Noun(noun) => collect(&noun.items, types),
                    Item::Verb(verb) => types.extend(verb.fields.output.given()),
                }
            }
        }
        let mut types = Vec::new();
        collect(&self.app.items, &mut types);
        types
    }
}

fn collect_types<'a>(items: &'a [Item], types: &mut Vec<&'a Type>) {
    for item in items {
        match item {
            Item::Noun(noun) => collect_types(&noun.items, types),
            Item::Verb(verb) => {
                if let Slot::Given(args) = &verb.fields.args {
                    // A nested `Option`/`Vec` is refused by validation; its inner type is
                    // not `FromStr`, and checking it would be a second error for one
                    // mistake.
                    types.extend(
                        args.list
                            .iter()
                            .filter(|arg| arg.from_set.is_none())
                            .map(|arg| crate::types::value_type(&arg.ty))
                            .filter(|ty| crate::types::shape(ty).0 == crate::types::Shape::One),
                    );
                }
            }
        }
    }
}

// `Debug` by hand: syn's own impls need its `extra-traits` feature, which would make
// every user's syn build slower. Syntax pieces print as source text.

/// Something that prints as source text in `Debug` output.
trait Show {
    fn show(&self) -> String;
}

macro_rules! show_as_tokens {
    ($($ty:ty),*) => {$(
        impl Show for $ty {
            fn show(&self) -> String {
                self.to_token_stream().to_string()
            }
        }
    )*};
}

show_as_tokens!(Ident, LitStr, Type);

impl Show for Args {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}

impl<T: Show> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("Absent"),
            Self::Broken => f.write_str("Broken"),
            Self::Given(value) => write!(f, "Given({})", value.show()),
        }
    }
}

impl fmt::Debug for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grammar").field("app", &self.app).finish()
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name.value())
            .field("version", &self.version.as_ref().map(LitStr::value))
            .field("help", &self.help.as_ref().map(LitStr::value))
            .field("args", &self.args)
            .field(
                "sets",
                &self.sets.iter().map(|set| &set.name).collect::<Vec<_>>(),
            )
            .field("items", &self.items)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Noun(noun) => noun.fmt(f),
            Self::Verb(verb) => verb.fmt(f),
        }
    }
}

impl fmt::Debug for Noun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Noun")
            .field("name", &self.name.value())
            .field("help", &self.help)
            .field("long_help", &self.long_help.as_ref().map(LitStr::value))
            .field("items", &self.items)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verb")
            .field("name", &self.name.value())
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields")
            .field("capability", &self.capability)
            .field("resource", &self.resource)
            .field("safety", &self.safety)
            .field("confirmation", &self.confirmation)
            .field("stability", &self.stability)
            .field("help", &self.help)
            .field("long_help", &self.long_help)
            .field("deprecated", &self.deprecated)
            .field("args", &self.args)
            .field(
                "aliases",
                &self
                    .aliases
                    .given()
                    .map(|a| a.iter().map(LitStr::value).collect::<Vec<_>>()),
            )
            .field("title", &self.title)
            .field("mcp_name", &self.mcp_name)
            .field("output", &self.output)
            .field("groups", &self.groups.given().map(Vec::len))
            .finish()
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("list", &self.list)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arg")
            .field("name", &self.name)
            .field("short", &self.short.as_ref().map(|(letter, _)| letter))
            .field("positional", &self.positional)
            .field("ty", &self.ty.show())
            .field("default", &self.default.as_ref().map(|d| &d.text))
            .field(
                "values",
                &self
                    .values
                    .as_ref()
                    .map(|v| v.values.iter().map(|d| &d.text).collect::<Vec<_>>()),
            )
            .field("env", &self.env.as_ref().map(LitStr::value))
            .field("help", &self.help.as_ref().map(LitStr::value))
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PossibleValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PossibleValues")
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultValue")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}
