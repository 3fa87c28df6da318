//! [`Grammar`] -> [`Model`]: every name resolved, every rule checked, every mistake an
//! error on its own token.
//!
//! The rules are `cnv_grammar::rules`, the ones `GrammarModel::validate` applies at run
//! time (so a model from the macro always validates, and both say the same thing), and
//! `cnv-caps`' contract rule (`with_safety` refuses `AgentSafe` on a class that is not
//! agent-safe); added here are the ones only the source can tell: unknown words, a class
//! that must declare who reviews it, and the shapes of argument types.

use cnv_caps::{
    CapabilityClass, CapabilityContract, Confirmation, ResourceBand, SafetyProfile,
    StabilityProfile,
};
use cnv_grammar::rules::{self, ArgDecl, ArgPart, ArgRules, Scalar, Siblings};
use syn::{Error, Ident, LitStr};

use crate::ast::{App, Arg, Args, Fields, Grammar, Item, Noun, Slot, Verb};
use crate::types::{Shape, shape, type_name};
use crate::vocab::{self, Word};

/// A checked grammar, ready to expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The application's name.
    pub name: String,
    /// Its semantic version.
    pub version: Option<String>,
    /// Its one-line description.
    pub help: Option<String>,
    /// Its global arguments.
    pub args: Vec<ArgModel>,
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
    pub class: CapabilityClass,
    /// Resource band.
    pub band: ResourceBand,
    /// Declared safety; `None` takes the class default (in `cnv-caps`, at compile time).
    pub safety: Option<SafetyProfile>,
    /// Declared confirmation policy; `None` is `Asked`.
    pub confirmation: Option<Confirmation>,
    /// Stability.
    pub stability: StabilityProfile,
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
    /// The environment variable read when it is not given.
    pub env: Option<String>,
    /// The only values accepted (empty: any, or those of `values_from`).
    pub values: Vec<String>,
    /// `in Type`: the type that lists the values.
    pub values_from: Option<TypeTokens>,
}

/// A type as written, compared and printed as its tokens (syn's own impls need a feature
/// that would slow every user's build).
#[derive(Clone)]
pub struct TypeTokens(pub syn::Type);

impl PartialEq for TypeTokens {
    fn eq(&self, other: &Self) -> bool {
        use quote::ToTokens;
        self.0.to_token_stream().to_string() == other.0.to_token_stream().to_string()
    }
}

impl Eq for TypeTokens {}

impl std::fmt::Debug for TypeTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use quote::ToTokens;
        f.write_str(&self.0.to_token_stream().to_string())
    }
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
    if let Err(problem) = rules::check_app_name(&name) {
        errors.push(Error::new_spanned(&app.name, problem));
    }
    if let Some(version) = &app.version
        && let Err(problem) = rules::check_version(&version.value())
    {
        errors.push(Error::new_spanned(version, problem));
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
    let mut globals = ArgRules::new();
    let args = match &app.args {
        Slot::Given(list) => args(list, &mut globals, true, errors),
        Slot::Absent | Slot::Broken => Vec::new(),
    };
    let (nouns, _) = items(
        &app.items,
        &format!("app `{name}`"),
        "",
        1,
        &globals,
        errors,
    );
    Model {
        name,
        version: app.version.as_ref().map(LitStr::value),
        help: app.help.as_ref().map(LitStr::value),
        args,
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
    globals: &ArgRules,
    errors: &mut Vec<Error>,
) -> (Vec<NounModel>, Vec<VerbModel>) {
    let names: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::Noun(noun) => noun.name.value(),
            Item::Verb(verb) => verb.name.value(),
        })
        .collect();
    let mut siblings = Siblings::new(parent);
    let mut nouns = Vec::new();
    let mut verbs = Vec::new();
    for (item, name) in items.iter().zip(&names) {
        if let Err(problem) = siblings.add(name) {
            let token = match item {
                Item::Noun(noun) => &noun.name,
                Item::Verb(verb) => &verb.name,
            };
            errors.push(Error::new_spanned(token, problem));
        }
        match item {
            Item::Noun(noun) => nouns.push(self::noun(noun, command, depth, globals, errors)),
            Item::Verb(verb) => verbs.push(self::verb(verb, command, globals, errors)),
        }
    }
    (nouns, verbs)
}

fn noun(
    noun: &Noun,
    command: &str,
    depth: usize,
    globals: &ArgRules,
    errors: &mut Vec<Error>,
) -> NounModel {
    let name = noun.name.value();
    check_command_name(&noun.name, "noun", errors);
    let too_deep = rules::check_depth(&name, depth).err();
    if let Some(problem) = &too_deep {
        errors.push(Error::new_spanned(&noun.name, problem));
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
    let (nouns, verbs) = if too_deep.is_some() {
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
            globals,
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

fn verb(verb: &Verb, nouns: &str, globals: &ArgRules, errors: &mut Vec<Error>) -> VerbModel {
    let name = verb.name.value();
    let fields = &verb.fields;
    check_command_name(&verb.name, "verb", errors);
    if let Err(problem) = rules::check_command_len(&format!("{nouns} {name}")) {
        errors.push(Error::new_spanned(&verb.name, problem));
    }
    let missing = |field: &str, hint: &str| {
        Error::new_spanned(
            &verb.name,
            format!("verb `{name}` has no `{field}:`; add `{field}: {hint}"),
        )
    };
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
    let class = required::<CapabilityClass>(&fields.capability, "capability", &missing, errors);
    let band = required::<ResourceBand>(&fields.resource, "resource", &missing, errors);
    let safety = word::<SafetyProfile>(&fields.safety, errors);
    let confirmation = word::<Confirmation>(&fields.confirmation, errors);
    let stability = word::<StabilityProfile>(&fields.stability, errors);
    if let (Some(class), Slot::Given(word), Some(Some(safety))) = (class, &fields.safety, safety)
        && let Err(problem) =
            CapabilityContract::new(class, ResourceBand::Instant).with_safety(safety)
    {
        errors.push(Error::new_spanned(word, problem));
    }
    // The contract's own rule, with the safety the class defaults to when none is given
    // (a contradictory safety is reported above, once).
    if let (Some(class), Slot::Given(word), Some(Some(confirmation))) =
        (class, &fields.confirmation, confirmation)
    {
        let contract = CapabilityContract::new(class, ResourceBand::Instant);
        let contract = match safety.flatten() {
            Some(safety) => contract.with_safety(safety).unwrap_or(contract),
            None => contract,
        };
        if let Err(problem) = contract.with_confirmation(confirmation) {
            errors.push(Error::new_spanned(word, problem));
        }
    }
    if let (Some(class), Slot::Given(capability), Slot::Absent) =
        (class, &fields.capability, &fields.safety)
        && class.must_declare_safety()
    {
        errors.push(Error::new_spanned(
            capability,
            format!(
                "a `{class}` verb must say who reviews it: add `safety: {interactive}` \
                 (a human at a terminal runs it) or `safety: {review}` (a human confirms each run)",
                interactive = SafetyProfile::InteractiveOnly,
                review = SafetyProfile::HumanReviewRequired,
            ),
        ));
    }
    let deprecated = deprecation(fields, stability, errors);
    let stability = if deprecated.is_some() {
        StabilityProfile::Deprecated
    } else {
        stability.flatten().unwrap_or(StabilityProfile::Stable)
    };
    let args = match &fields.args {
        Slot::Given(args) => self::args(args, &mut globals.clone(), false, errors),
        _ => Vec::new(),
    };
    VerbModel {
        name,
        help,
        long_help: fields.long_help.given().map(|text| {
            check_long_help(text, errors);
            text.value()
        }),
        class: class.unwrap_or(CapabilityClass::Pure),
        band: band.unwrap_or(ResourceBand::Instant),
        safety: safety.flatten(),
        confirmation: confirmation.flatten(),
        stability,
        deprecated,
        args,
    }
}

/// The required vocabulary word of a field: `None` when absent (reported with `missing`),
/// unreadable or unknown (reported).
fn required<W: Word>(
    slot: &Slot<Ident>,
    field: &str,
    missing: &dyn Fn(&str, &str) -> Error,
    errors: &mut Vec<Error>,
) -> Option<W> {
    match slot {
        Slot::Given(word) => lookup(word, errors),
        Slot::Absent => {
            errors.push(missing(
                field,
                &format!("…` with one of {}", vocab::list(W::NAMES)),
            ));
            None
        }
        Slot::Broken => None,
    }
}

/// The optional vocabulary word of a field: `None` when absent, `Some(None)` when
/// unreadable or unknown (reported), `Some(Some(value))` when known.
fn word<W: Word>(slot: &Slot<Ident>, errors: &mut Vec<Error>) -> Option<Option<W>> {
    match slot {
        Slot::Absent => None,
        Slot::Broken => Some(None),
        Slot::Given(word) => Some(lookup(word, errors)),
    }
}

fn deprecation(
    fields: &Fields,
    stability: Option<Option<StabilityProfile>>,
    errors: &mut Vec<Error>,
) -> Option<String> {
    let note = fields.deprecated.given()?;
    if rules::is_blank(&note.value()) {
        errors.push(Error::new_spanned(
            note,
            "the deprecation note is empty; say what to use instead",
        ));
    }
    if let (Some(Some(declared)), Slot::Given(word)) = (stability, &fields.stability)
        && declared != StabilityProfile::Deprecated
    {
        let deprecated = StabilityProfile::Deprecated;
        errors.push(Error::new_spanned(
            word,
            format!(
                "a verb with `deprecated:` has the stability `{deprecated}`; remove `stability: {declared}` or write `stability: {deprecated}`"
            ),
        ));
    }
    Some(note.value())
}

/// A vocabulary word, exactly as spelled, or an error with a suggestion.
fn lookup<W: Word>(word: &Ident, errors: &mut Vec<Error>) -> Option<W> {
    let text = word.to_string();
    if let Some(value) = vocab::exact(&text) {
        return Some(value);
    }
    let hint = vocab::suggest(&text, W::NAMES)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    errors.push(Error::new_spanned(
        word,
        format!(
            "unknown {} `{text}`{hint}; expected {}",
            W::KIND,
            vocab::list(W::NAMES)
        ),
    ));
    None
}

/// The name of a noun or verb: a kebab-case word that the command line does not keep for
/// itself.
fn check_command_name(name: &LitStr, what: &'static str, errors: &mut Vec<Error>) {
    if let Err(problem) = rules::check_command_name(&name.value(), what) {
        errors.push(Error::new_spanned(name, problem));
    }
}

fn check_help(help: &LitStr, errors: &mut Vec<Error>) {
    if rules::is_blank(&help.value()) {
        errors.push(Error::new_spanned(
            help,
            "the help text is empty; say in one line what it does",
        ));
    }
}

fn check_long_help(long_help: &LitStr, errors: &mut Vec<Error>) {
    if rules::is_blank(&long_help.value()) {
        errors.push(Error::new_spanned(
            long_help,
            "the long help is empty; write the longer description, or remove `long_help`",
        ));
    }
}

/// The arguments of a verb checked against `rules` (a clone of the global arguments'),
/// or the global arguments themselves when `global` (added to `rules`).
fn args(args: &Args, rules: &mut ArgRules, global: bool, errors: &mut Vec<Error>) -> Vec<ArgModel> {
    let mut models = Vec::new();
    for arg in &args.list {
        let model = self::arg(arg, errors);
        let optional = shape(&arg.ty).0 == Shape::Optional;
        let decl = ArgDecl {
            name: &model.name,
            positional: model.positional,
            short: model.short,
            value_type: &model.value_type,
            required: model.required,
            multiple: model.multiple,
            // An `Option`'s default is refused by `arg` (an `Option` has none).
            default: arg
                .default
                .as_ref()
                .filter(|_| !optional)
                .map(|default| default.text.as_str()),
            help: &model.help,
            env: model.env.as_deref(),
            values: &model.values.iter().map(String::as_str).collect::<Vec<_>>(),
        };
        let problems = if global {
            rules.global(&decl)
        } else {
            rules.check(&decl)
        };
        for problem in problems {
            // An argument that failed to parse leaves the order of the others unknown.
            if args.poisoned && problem.is_order() {
                continue;
            }
            let error = match problem.part() {
                ArgPart::Name => Error::new_spanned(&arg.name_tokens, problem),
                ArgPart::Short => match &arg.short {
                    Some((_, tokens)) => Error::new_spanned(tokens, problem),
                    None => Error::new_spanned(&arg.name_tokens, problem),
                },
                ArgPart::Type => Error::new_spanned(&arg.ty, problem),
                ArgPart::Default => match &arg.default {
                    Some(default) => Error::new_spanned(&default.tokens, problem),
                    None => Error::new_spanned(&arg.ty, problem),
                },
                ArgPart::Help => Error::new_spanned(&arg.help, problem),
                ArgPart::Env => match &arg.env {
                    Some(env) => Error::new_spanned(env, problem),
                    None => Error::new_spanned(&arg.name_tokens, problem),
                },
                ArgPart::Values => match &arg.values {
                    Some(values) => Error::new_spanned(&values.tokens, problem),
                    None => Error::new_spanned(&arg.ty, problem),
                },
            };
            errors.push(error);
        }
        models.push(model);
    }
    models
}

/// One argument: what only its source can tell (the shape of its type, a short flag of
/// one character), and its model. The rules it shares with the model are checked by
/// [`args`].
fn arg(arg: &Arg, errors: &mut Vec<Error>) -> ArgModel {
    let (shape, inner) = shape(&arg.ty);
    let value_type = type_name(inner);
    let switch = !arg.positional && Scalar::of(&value_type) == Scalar::Bool;
    let ty_error = |message: &str| Error::new_spanned(&arg.ty, message);
    if shape != Shape::One && self::shape(inner).0 != Shape::One {
        errors.push(ty_error(
            "nest no `Option` or `Vec` inside another: `Vec<T>` already allows zero values, and `Option<T>` one or none",
        ));
    }
    let short = arg.short.as_ref().and_then(|(letter, tokens)| {
        let mut chars = letter.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => {
                errors.push(Error::new_spanned(
                    tokens,
                    rules::ArgProblem::ShortNotALetter {
                        short: letter.clone(),
                    },
                ));
                None
            }
        }
    });
    if switch && let Some(values) = arg.values.as_ref().filter(|values| values.from.is_some()) {
        errors.push(Error::new_spanned(
            &values.tokens,
            rules::ArgProblem::ValuesOnSwitch,
        ));
    }
    if switch && shape == Shape::Optional {
        errors.push(ty_error(
            "a `bool` switch is already optional (off unless given); write `bool`",
        ));
    }
    if let Some(default) = &arg.default
        && shape == Shape::Optional
        && !switch
    {
        errors.push(Error::new_spanned(
            &default.tokens,
            format!(
                "an `Option` argument has no default; write `{value_type}` instead of `Option<{value_type}>` to give it one"
            ),
        ));
    }
    let (required, multiple) = match shape {
        Shape::One => (!switch && arg.default.is_none(), false),
        Shape::Optional => (false, false),
        Shape::Repeated => (false, true),
    };
    let default = if switch {
        Some("false".to_string())
    } else if shape == Shape::One {
        arg.default.as_ref().map(|default| default.text.clone())
    } else {
        None
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
        env: arg.env.as_ref().map(LitStr::value),
        values: arg
            .values
            .as_ref()
            .map(|values| values.values.iter().map(|v| v.text.clone()).collect())
            .unwrap_or_default(),
        values_from: arg
            .values
            .as_ref()
            .and_then(|values| values.from.clone())
            .map(TypeTokens),
    }
}
