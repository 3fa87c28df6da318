//! [`Grammar`] -> [`Model`]: every name resolved, every rule checked, every mistake an
//! error on its own token.
//!
//! The rules are those of `cnv-grammar`'s `GrammarModel::validate` (so a model from the
//! macro always validates at run time) plus the ones only the source can tell: unknown
//! capability names, `safety: AgentSafe` on a class that is not agent-safe, a
//! `Dangerous` verb that does not say who reviews it, and the argument type rules.

use std::collections::BTreeSet;

use syn::{Error, Ident, LitStr};

use crate::ast::{App, Arg, Args, Fields, Grammar, Item, Noun, Slot, Verb};
use crate::types::{Scalar, Shape, shape, type_name};
use crate::vocab::{self, AGENT_SAFE, DANGEROUS, DEPRECATED, HUMAN_REVIEW, INTERACTIVE_ONLY};

/// How deeply nouns may nest (`cnv_grammar::MAX_NOUN_DEPTH`; the `cnv` facade's tests
/// check the two are equal).
pub const MAX_NOUN_DEPTH: usize = 8;

/// The longest command in characters, its words separated by spaces (and its MCP tool
/// name, the same words joined by `_`): `cnv_grammar::MAX_COMMAND_LEN`, checked equal by
/// the `cnv` facade's tests.
pub const MAX_COMMAND_LEN: usize = 128;

/// A checked grammar, ready to expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The application's name.
    pub name: String,
    /// Its semantic version.
    pub version: Option<String>,
    /// Its one-line description.
    pub help: Option<String>,
    /// The top-level nouns.
    pub nouns: Vec<NounModel>,
}

/// A checked noun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NounModel {
    /// Name.
    pub name: String,
    /// Help.
    pub help: String,
    /// Long help.
    pub long_help: Option<String>,
    /// Nested nouns.
    pub nouns: Vec<NounModel>,
    /// Verbs.
    pub verbs: Vec<VerbModel>,
}

/// A checked verb; the contract's names are the vocabulary's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerbModel {
    /// Name.
    pub name: String,
    /// Help.
    pub help: String,
    /// Long help.
    pub long_help: Option<String>,
    /// Capability class.
    pub class: &'static str,
    /// Resource band.
    pub band: &'static str,
    /// Declared safety; `None` takes the class default (in `cnv-caps`, at compile time).
    pub safety: Option<&'static str>,
    /// Stability.
    pub stability: &'static str,
    /// Deprecation note.
    pub deprecated: Option<String>,
    /// Arguments.
    pub args: Vec<ArgModel>,
}

/// A checked argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgModel {
    /// Name.
    pub name: String,
    /// The value type's Rust name.
    pub value_type: String,
    /// Help.
    pub help: String,
    /// Positional or named.
    pub positional: bool,
    /// Short flag.
    pub short: Option<char>,
    /// Required.
    pub required: bool,
    /// Default value as typed.
    pub default: Option<String>,
    /// Repeatable.
    pub multiple: bool,
}

/// Checks a parsed grammar; every mistake is an error on its token.
///
/// # Errors
///
/// Every mistake found, in source order.
pub fn validate(grammar: &Grammar) -> Result<Model, Vec<Error>> {
    let mut errors = Vec::new();
    let model = app(&grammar.app, &mut errors);
    if errors.is_empty() {
        Ok(model)
    } else {
        Err(errors)
    }
}

fn app(app: &App, errors: &mut Vec<Error>) -> Model {
    let name = app.name.value();
    check_name(&app.name, "app", errors);
    if let Some(version) = &app.version
        && let Err(err) = semver::Version::parse(&version.value())
    {
        errors.push(Error::new_spanned(
            version,
            format!(
                "`{}` is not a semantic version ({err}); write `MAJOR.MINOR.PATCH`, e.g. `1.0.0`",
                version.value()
            ),
        ));
    }
    if let Some(help) = &app.help {
        check_help(help, errors);
    }
    if app.items.is_empty() && !app.poisoned {
        errors.push(Error::new_spanned(
            &app.name,
            format!("the app `{name}` has no nouns; add `noun \"…\" help \"…\" {{ verb \"…\" {{ … }} }}` inside its braces"),
        ));
    }
    let (nouns, _) = items(&app.items, &format!("app `{name}`"), "", 1, errors);
    Model {
        name,
        version: app.version.as_ref().map(LitStr::value),
        help: app.help.as_ref().map(LitStr::value),
        nouns,
    }
}

/// The nouns and verbs under one parent, with the sibling rules.
/// `parent` names the parent for messages; `command` is the names of the nouns that lead
/// here, separated by spaces (empty in the app).
fn items(
    items: &[Item],
    parent: &str,
    command: &str,
    depth: usize,
    errors: &mut Vec<Error>,
) -> (Vec<NounModel>, Vec<VerbModel>) {
    let mut seen = BTreeSet::new();
    let mut nouns = Vec::new();
    let mut verbs = Vec::new();
    for item in items {
        let (what, name) = match item {
            Item::Noun(noun) => ("noun", &noun.name),
            Item::Verb(verb) => ("verb", &verb.name),
        };
        if !seen.insert(name.value()) {
            errors.push(Error::new_spanned(
                name,
                format!(
                    "{parent} already has a noun or verb called `{}`; give this {what} another name",
                    name.value()
                ),
            ));
        }
        match item {
            Item::Noun(noun) => nouns.push(self::noun(noun, command, depth, errors)),
            Item::Verb(verb) => verbs.push(self::verb(verb, command, errors)),
        }
    }
    (nouns, verbs)
}

fn noun(noun: &Noun, command: &str, depth: usize, errors: &mut Vec<Error>) -> NounModel {
    let name = noun.name.value();
    check_command_name(&noun.name, "noun", errors);
    if depth > MAX_NOUN_DEPTH {
        errors.push(Error::new_spanned(
            &noun.name,
            format!(
                "noun `{name}` is nested {depth} nouns deep; at most {MAX_NOUN_DEPTH} are allowed"
            ),
        ));
    }
    match &noun.help {
        Slot::Given(help) => check_help(help, errors),
        Slot::Broken => {}
        Slot::Absent => errors.push(Error::new_spanned(
            &noun.name,
            format!("noun `{name}` has no help; write `noun \"{name}\" help \"…\" {{` with one line saying what it groups"),
        )),
    }
    if noun.items.is_empty() && !noun.poisoned {
        errors.push(Error::new_spanned(
            &noun.name,
            format!("noun `{name}` has no verbs; add `verb \"…\" {{ … }}` inside its braces, or remove it"),
        ));
    }
    let (nouns, verbs) = if depth > MAX_NOUN_DEPTH {
        (Vec::new(), Vec::new())
    } else {
        let command = if command.is_empty() {
            name.clone()
        } else {
            format!("{command} {name}")
        };
        items(
            &noun.items,
            &format!("noun `{name}`"),
            &command,
            depth + 1,
            errors,
        )
    };
    NounModel {
        name,
        help: noun.help.given().map(LitStr::value).unwrap_or_default(),
        long_help: noun.long_help.as_ref().map(|text| {
            check_long_help(text, errors);
            text.value()
        }),
        nouns,
        verbs,
    }
}

fn verb(verb: &Verb, nouns: &str, errors: &mut Vec<Error>) -> VerbModel {
    let name = verb.name.value();
    let fields = &verb.fields;
    check_command_name(&verb.name, "verb", errors);
    let command = format!("{nouns} {name}");
    let len = command.chars().count();
    if len > MAX_COMMAND_LEN {
        errors.push(Error::new_spanned(
            &verb.name,
            format!(
                "the command `{command}` is {len} characters long; at most {MAX_COMMAND_LEN} are allowed, \
                 since its words joined by `_` are the verb's MCP tool name; shorten the verb's or its nouns' names"
            ),
        ));
    }
    let missing = |field: &str, hint: &str| {
        Error::new_spanned(
            &verb.name,
            format!("verb `{name}` has no `{field}:`; add `{field}: {hint}"),
        )
    };
    let classes = vocab::class_names();
    let help = match &fields.help {
        Slot::Given(help) => {
            check_help(help, errors);
            help.value()
        }
        Slot::Absent => {
            errors.push(missing("help", "\"…\"` with one line saying what it does"));
            String::new()
        }
        Slot::Broken => String::new(),
    };
    let class = match &fields.capability {
        Slot::Given(word) => lookup(word, &classes, "capability class", errors),
        Slot::Absent => {
            errors.push(missing(
                "capability",
                &format!("…` with one of {}", vocab::list(&classes)),
            ));
            None
        }
        Slot::Broken => None,
    }
    .and_then(vocab::class);
    let band = match &fields.resource {
        Slot::Given(word) => lookup(word, vocab::BANDS, "resource band", errors),
        Slot::Absent => {
            errors.push(missing(
                "resource",
                &format!("…` with one of {}", vocab::list(vocab::BANDS)),
            ));
            None
        }
        Slot::Broken => None,
    };
    let safety = word(&fields.safety, vocab::SAFETY, "safety profile", errors);
    let stability = word(
        &fields.stability,
        vocab::STABILITY,
        "stability profile",
        errors,
    );
    if let (Some(class), Slot::Given(word)) = (class, &fields.safety)
        && safety.flatten() == Some(AGENT_SAFE)
        && !class.agent_safe
    {
        errors.push(Error::new_spanned(
            word,
            format!(
                "a `{}` verb cannot be `{AGENT_SAFE}`: only `Pure` and `ReadOnlyFS` are agent-safe; \
                 use `{HUMAN_REVIEW}` or `{INTERACTIVE_ONLY}` (or remove `safety:` to get `{}`), \
                 or declare a lower capability if the verb really does less",
                class.name, class.default_safety
            ),
        ));
    }
    if let (Some(class), Slot::Given(capability), Slot::Absent) =
        (class, &fields.capability, &fields.safety)
        && class.name == DANGEROUS
    {
        errors.push(Error::new_spanned(
            capability,
            format!(
                "a `{DANGEROUS}` verb must say who reviews it: add `safety: {INTERACTIVE_ONLY}` \
                 (a human at a terminal runs it) or `safety: {HUMAN_REVIEW}` (a human confirms each run)"
            ),
        ));
    }
    let deprecated = deprecation(fields, stability, errors);
    let stability = if deprecated.is_some() {
        DEPRECATED
    } else {
        stability.flatten().unwrap_or("Stable")
    };
    let args = match &fields.args {
        Slot::Given(args) => self::args(args, errors),
        _ => Vec::new(),
    };
    VerbModel {
        name,
        help,
        long_help: fields.long_help.given().map(|text| {
            check_long_help(text, errors);
            text.value()
        }),
        class: class.map_or("Pure", |class| class.name),
        band: band.unwrap_or("Instant"),
        safety: safety.flatten(),
        stability,
        deprecated,
        args,
    }
}

/// The optional vocabulary word of a field: `None` when absent, `Some(None)` when
/// unreadable or unknown (reported), `Some(Some(name))` when known.
fn word(
    slot: &Slot<Ident>,
    names: &[&'static str],
    kind: &str,
    errors: &mut Vec<Error>,
) -> Option<Option<&'static str>> {
    match slot {
        Slot::Absent => None,
        Slot::Broken => Some(None),
        Slot::Given(word) => Some(lookup(word, names, kind, errors)),
    }
}

fn deprecation(
    fields: &Fields,
    stability: Option<Option<&'static str>>,
    errors: &mut Vec<Error>,
) -> Option<String> {
    let note = fields.deprecated.given()?;
    if note.value().trim().is_empty() {
        errors.push(Error::new_spanned(
            note,
            "the deprecation note is empty; say what to use instead",
        ));
    }
    if let (Some(Some(declared)), Slot::Given(word)) = (stability, &fields.stability)
        && declared != DEPRECATED
    {
        errors.push(Error::new_spanned(
            word,
            format!(
                "a verb with `deprecated:` has the stability `{DEPRECATED}`; remove `stability: {declared}` or write `stability: {DEPRECATED}`"
            ),
        ));
    }
    Some(note.value())
}

/// A vocabulary word, exactly as spelled, or an error with a suggestion.
fn lookup(
    word: &Ident,
    names: &[&'static str],
    kind: &str,
    errors: &mut Vec<Error>,
) -> Option<&'static str> {
    let text = word.to_string();
    if let Some(name) = names.iter().find(|name| **name == text) {
        return Some(name);
    }
    let hint = vocab::suggest(&text, names)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    errors.push(Error::new_spanned(
        word,
        format!(
            "unknown {kind} `{text}`{hint}; expected {}",
            vocab::list(names)
        ),
    ));
    None
}

/// The name of a noun or verb: a kebab-case word that the command line does not keep for
/// itself.
fn check_command_name(name: &LitStr, what: &str, errors: &mut Vec<Error>) {
    let text = name.value();
    if vocab::RESERVED_COMMAND_NAMES.contains(&text.as_str()) {
        errors.push(Error::new_spanned(
            name,
            format!(
                "`{text}` is reserved for the command line's own `{text}` subcommand, which the app \
                 and every noun have (`myapp {text} file`); give this {what} another name"
            ),
        ));
    } else {
        check_name(name, what, errors);
    }
}

fn check_name(name: &LitStr, what: &str, errors: &mut Vec<Error>) {
    let text = name.value();
    if !is_kebab_word(&text) {
        let kebab = to_kebab(&text);
        let hint = if is_kebab_word(&kebab) {
            format!(", e.g. `{kebab}`")
        } else {
            String::new()
        };
        errors.push(Error::new_spanned(
            name,
            format!(
                "the {what} name `{text}` is not a lowercase kebab-case word{hint}: use ASCII letters \
                 and digits in words joined by single `-`, starting with a letter"
            ),
        ));
    }
}

fn check_help(help: &LitStr, errors: &mut Vec<Error>) {
    if help.value().trim().is_empty() {
        errors.push(Error::new_spanned(
            help,
            "the help text is empty; say in one line what it does",
        ));
    }
}

fn check_long_help(long_help: &LitStr, errors: &mut Vec<Error>) {
    if long_help.value().trim().is_empty() {
        errors.push(Error::new_spanned(
            long_help,
            "the long help is empty; write the longer description, or remove `long_help`",
        ));
    }
}

/// Whether `name` is a lowercase kebab-case word (`cnv_grammar::is_kebab_word`).
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

/// A suggestion for a name that is not kebab-case: `ReadFile` -> `read-file`.
fn to_kebab(text: &str) -> String {
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
    out.trim_end_matches('-').to_string()
}

fn args(args: &Args, errors: &mut Vec<Error>) -> Vec<ArgModel> {
    let mut names = BTreeSet::new();
    let mut shorts = BTreeSet::new();
    let mut optional_positional: Option<&str> = None;
    let mut repeated_positional: Option<&str> = None;
    let mut models = Vec::new();
    for arg in &args.list {
        let model = self::arg(arg, errors);
        let name_error = |message: String| Error::new_spanned(&arg.name_tokens, message);
        if !is_kebab_word(&arg.name) {
            let kebab = to_kebab(&arg.name);
            errors.push(name_error(format!(
                "`{}` is not a valid argument name; use a lowercase kebab-case word such as `{}`",
                arg.name,
                if is_kebab_word(&kebab) {
                    kebab.as_str()
                } else {
                    "timeout-ms"
                }
            )));
        } else if vocab::RESERVED_ARGUMENT_NAMES.contains(&arg.name.as_str()) {
            let flags: Vec<String> = vocab::RESERVED_ARGUMENT_NAMES
                .iter()
                .map(|name| format!("`--{name}`"))
                .collect();
            errors.push(name_error(format!(
                "`{}` is taken by cnv's global flag `--{}`; every command line made from a grammar has the global flags {}; give this argument another name",
                arg.name,
                arg.name,
                flags.join(", "),
            )));
        } else if !names.insert(arg.name.as_str()) {
            errors.push(name_error(format!(
                "this verb already has an argument called `{}`; give this one another name",
                arg.name
            )));
        }
        if let (Some((letter, tokens)), Some(short)) = (&arg.short, model.short) {
            if short == 'h' {
                errors.push(Error::new_spanned(
                    tokens,
                    "`-h` is reserved for the command's help; choose another letter",
                ));
            } else if !shorts.insert(short) {
                errors.push(Error::new_spanned(
                    tokens,
                    format!(
                        "`-{letter}` is already the short flag of another argument of this verb"
                    ),
                ));
            }
        }
        if arg.positional && !args.poisoned {
            if let Some(previous) = repeated_positional {
                errors.push(name_error(format!(
                    "`{}` comes after `{previous}`, which takes every remaining value; the repeatable positional argument must be the last one",
                    arg.name
                )));
            } else if model.required
                && let Some(previous) = optional_positional
            {
                errors.push(name_error(format!(
                    "the required `{}` comes after the optional `{previous}`; put required positional arguments first",
                    arg.name
                )));
            }
            if model.multiple {
                repeated_positional = Some(&arg.name);
            } else if !model.required {
                optional_positional = Some(&arg.name);
            }
        }
        models.push(model);
    }
    models
}

fn arg(arg: &Arg, errors: &mut Vec<Error>) -> ArgModel {
    let (shape, inner) = shape(&arg.ty);
    let value_type = type_name(inner);
    let scalar = Scalar::of(&value_type);
    let switch = !arg.positional && scalar == Scalar::Bool;
    let ty_error = |message: &str| Error::new_spanned(&arg.ty, message);
    if shape != Shape::One && self::shape(inner).0 != Shape::One {
        errors.push(ty_error(
            "nest no `Option` or `Vec` inside another: `Vec<T>` already allows zero values, and `Option<T>` one or none",
        ));
    }
    let short = arg.short.as_ref().and_then(|(letter, tokens)| {
        let mut chars = letter.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphanumeric() => Some(c),
            _ => {
                errors.push(Error::new_spanned(
                    tokens,
                    format!("`-{letter}` is not a short flag: a short flag is one ASCII letter or digit, e.g. `-t`"),
                ));
                None
            }
        }
    });
    let default_error = |message: String| -> Error {
        match &arg.default {
            Some(default) => Error::new_spanned(&default.tokens, message),
            None => Error::new_spanned(&arg.ty, message),
        }
    };
    let (required, multiple) = match shape {
        Shape::One if switch => (false, false),
        Shape::One => (arg.default.is_none(), false),
        Shape::Optional | Shape::Repeated => (false, shape == Shape::Repeated),
    };
    if switch && shape != Shape::One {
        errors.push(ty_error(if shape == Shape::Optional {
            "a `bool` switch is already optional (off unless given); write `bool`"
        } else {
            "a `bool` switch cannot repeat; write `bool`, or count with a `u8` option"
        }));
    }
    if let Some(default) = &arg.default {
        if switch {
            errors.push(default_error(
                "a `bool` switch is off unless given; remove the default".to_string(),
            ));
        } else if shape == Shape::Optional {
            errors.push(default_error(format!(
                "an `Option` argument has no default; write `{value_type}` instead of `Option<{value_type}>` to give it one"
            )));
        } else if shape == Shape::Repeated {
            errors.push(default_error(
                "a repeatable argument defaults to no values; remove the default".to_string(),
            ));
        } else if !scalar.accepts(&default.text) {
            errors.push(default_error(format!(
                "the default `{}` is not a valid `{value_type}`",
                default.text
            )));
        }
    }
    if arg.help.value().trim().is_empty() {
        errors.push(Error::new_spanned(
            &arg.help,
            "the help text is empty; say in one line what the value is",
        ));
    }
    let default = if switch {
        Some("false".to_string())
    } else {
        arg.default.as_ref().map(|default| default.text.clone())
    };
    ArgModel {
        name: arg.name.clone(),
        value_type,
        help: arg.help.value(),
        positional: arg.positional,
        short,
        required,
        default,
        multiple,
    }
}
