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
use cnv_grammar::ValueRange;
use cnv_grammar::rules::{
    self, ArgDecl, ArgPart, ArgProblem, ArgRules, GroupDecl, Scalar, Siblings, ToolNames,
};
use quote::ToTokens;
use syn::{Error, Ident, LitStr};

use crate::ast::{App, Arg, Args, Fields, Grammar, Group, Item, Name, Noun, Slot, Verb};
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
    /// Other names on the command line.
    pub aliases: Vec<String>,
    /// The MCP tool's title, when declared.
    pub title: Option<String>,
    /// The MCP tool's name, when declared.
    pub mcp_name: Option<String>,
    /// `output: Type`: the type whose `OutputSchema` is the tool's `outputSchema`.
    pub output: Option<TypeTokens>,
    /// Argument groups.
    pub groups: Vec<GroupModel>,
}

/// A checked argument group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupModel {
    /// Name.
    pub name: String,
    /// Its arguments' names.
    pub args: Vec<String>,
    /// At least one is given.
    pub required: bool,
    /// Several may be given.
    pub multiple: bool,
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
    /// The value name, when declared.
    pub value_name: Option<String>,
    /// Other long names.
    pub aliases: Vec<String>,
    /// A counted switch.
    pub counted: bool,
    /// The arguments and groups it may not be given with.
    pub conflicts_with: Vec<String>,
    /// The arguments and groups it may be given only with.
    pub requires: Vec<String>,
    /// The bounds of an integer's values.
    pub range: Option<ValueRange>,
    /// Left out of help and MCP schemas.
    pub hidden: bool,
    /// A global argument in MCP tool schemas.
    pub mcp: bool,
    /// `= CONSTANT`: the constant whose value is the default (`default` is `None`).
    pub default_const: Option<PathTokens>,
}

/// A path as written, compared and printed as its tokens.
#[derive(Clone)]
pub struct PathTokens(pub syn::Path);

impl PartialEq for PathTokens {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_token_stream().to_string() == other.0.to_token_stream().to_string()
    }
}

impl Eq for PathTokens {}

impl std::fmt::Debug for PathTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_token_stream().to_string())
    }
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
        Slot::Given(list) => {
            let models = args(list, &mut globals, Scope::Global, errors);
            references(list, &models, &globals, true, errors);
            models
        }
        Slot::Absent | Slot::Broken => Vec::new(),
    };
    // Each set is checked once where it is declared, beside the global arguments; where a
    // verb uses it, only how its arguments sit beside the verb's is checked.
    for set in &app.sets {
        let _ = self::args(&set.args, &mut globals.clone(), Scope::Set, errors);
    }
    let mut tools = ToolNames::new();
    let (nouns, _) = items(
        &app.items,
        &format!("app `{name}`"),
        "",
        1,
        &globals,
        &mut tools,
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
    tools: &mut ToolNames,
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
    }
    // A verb's aliases are names among its siblings too, after every sibling's own name.
    let aliases: Vec<(String, &LitStr)> = items
        .iter()
        .filter_map(|item| match item {
            Item::Verb(verb) => verb.fields.aliases.given(),
            Item::Noun(_) => None,
        })
        .flatten()
        .map(|alias| (alias.value(), alias))
        .collect();
    for (alias, token) in &aliases {
        if let Err(problem) = rules::check_command_name(alias, "verb alias") {
            errors.push(Error::new_spanned(token, problem));
        } else if let Err(problem) = siblings.add(alias) {
            errors.push(Error::new_spanned(token, problem));
        }
    }
    for item in items {
        match item {
            Item::Noun(noun) => {
                nouns.push(self::noun(noun, command, depth, globals, tools, errors));
            }
            Item::Verb(verb) => verbs.push(self::verb(verb, command, globals, tools, errors)),
        }
    }
    (nouns, verbs)
}

fn noun(
    noun: &Noun,
    command: &str,
    depth: usize,
    globals: &ArgRules,
    tools: &mut ToolNames,
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
            tools,
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

fn verb(
    verb: &Verb,
    nouns: &str,
    globals: &ArgRules,
    tools: &mut ToolNames,
    errors: &mut Vec<Error>,
) -> VerbModel {
    let name = verb.name.value();
    let fields = &verb.fields;
    check_command_name(&verb.name, "verb", errors);
    let command = format!("{nouns} {name}");
    if let Err(problem) = rules::check_command_len(&command) {
        errors.push(Error::new_spanned(&verb.name, problem));
    }
    let mcp_name = fields.mcp_name.given().map(LitStr::value);
    let tool = match (&mcp_name, fields.mcp_name.given()) {
        (Some(declared), Some(token)) => match rules::check_tool_name(declared) {
            Ok(()) => Some((declared.clone(), token.to_token_stream())),
            Err(problem) => {
                errors.push(Error::new_spanned(token, problem));
                None
            }
        },
        _ if fields.mcp_name.is_written() => None,
        _ => Some((
            rules::tool_name(command.split(' ')),
            verb.name.to_token_stream(),
        )),
    };
    if let Some((tool, token)) = tool
        && let Err(problem) = tools.add(&tool, &command)
    {
        errors.push(Error::new_spanned(token, problem));
    }
    let title = fields.title.given().map(|title| {
        if rules::is_blank(&title.value()) {
            errors.push(Error::new_spanned(
                title,
                "the title is empty; write the tool's title, or remove `title:` (the help is the title then)",
            ));
        }
        title.value()
    });
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
    let mut rules = globals.clone();
    let (args, groups) = match &fields.args {
        Slot::Given(list) => {
            let models = args(list, &mut rules, Scope::Verb, errors);
            let groups = groups(fields.groups.given(), &mut rules, errors);
            references(list, &models, &rules, false, errors);
            (models, groups)
        }
        _ => (
            Vec::new(),
            groups(fields.groups.given(), &mut rules, errors),
        ),
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
        aliases: fields
            .aliases
            .given()
            .map(|aliases| aliases.iter().map(LitStr::value).collect())
            .unwrap_or_default(),
        title,
        mcp_name,
        output: fields.output.given().cloned().map(TypeTokens),
        groups,
    }
}

/// The groups of a verb, after its arguments.
fn groups(
    groups: Option<&Vec<Group>>,
    rules: &mut ArgRules,
    errors: &mut Vec<Error>,
) -> Vec<GroupModel> {
    let Some(groups) = groups else {
        return Vec::new();
    };
    let mut models = Vec::new();
    for group in groups {
        let members: Vec<&str> = group.args.iter().map(|name| name.text.as_str()).collect();
        let decl = GroupDecl {
            name: &group.name.text,
            args: &members,
            required: group.required,
            multiple: group.multiple,
        };
        for problem in rules.group(&decl) {
            let token = problem
                .member()
                .and_then(|member| group.args.iter().find(|name| name.text == member))
                .map_or(&group.name.tokens, |name| &name.tokens);
            errors.push(Error::new_spanned(token, problem));
        }
        models.push(GroupModel {
            name: group.name.text.clone(),
            args: members.iter().map(ToString::to_string).collect(),
            required: group.required,
            multiple: group.multiple,
        });
    }
    models
}

/// The problems of the names each argument refers to, once all the arguments and groups
/// of its verb (or the global arguments) were checked.
fn references(
    args: &Args,
    models: &[ArgModel],
    rules: &ArgRules,
    global: bool,
    errors: &mut Vec<Error>,
) {
    for (arg, model) in args.list.iter().zip(models) {
        let problems = with_decl(model, |decl| rules.references(decl, global));
        for problem in problems {
            errors.push(locate(arg, &problem, Scope::Verb));
        }
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

/// Where a list of arguments is: which rules apply, and where each problem is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The app's global arguments.
    Global,
    /// A set's arguments where the set is declared: checked alone, once (how they sit
    /// beside a verb's is checked where the verb uses the set).
    Set,
    /// A verb's arguments, those of the sets it uses among them: a set's argument reports
    /// only how it sits beside the verb's, where the verb uses the set.
    Verb,
}

/// The arguments of a verb checked against `rules` (a clone of the global arguments'),
/// the global arguments themselves (added to `rules`), or a set's.
fn args(args: &Args, rules: &mut ArgRules, scope: Scope, errors: &mut Vec<Error>) -> Vec<ArgModel> {
    let mut models = Vec::new();
    for arg in &args.list {
        // What only the source tells is reported where the argument is written: once for
        // an argument of a set, where the set is declared.
        let mut scratch = Vec::new();
        let own_errors = if arg.from_set.is_some() && scope == Scope::Verb {
            &mut scratch
        } else {
            &mut *errors
        };
        let model = self::arg(arg, own_errors);
        let problems = with_decl(&model, |decl| {
            let decl = ArgDecl {
                default: rules_default(arg, &model),
                ..*decl
            };
            if scope == Scope::Global {
                rules.global(&decl)
            } else {
                rules.check(&decl)
            }
        });
        for problem in problems {
            // An argument that failed to parse leaves the order of the others unknown, and
            // a broken one may have lost its help and default.
            if (args.poisoned && problem.is_order())
                || (arg.broken && matches!(problem.part(), ArgPart::Help))
            {
                continue;
            }
            let relational = problem.is_relational();
            let reported = match (scope, &arg.from_set) {
                (Scope::Set, _) => !relational,
                (Scope::Verb, Some(_)) => relational,
                _ => true,
            };
            if reported {
                errors.push(locate(arg, &problem, scope));
            }
        }
        models.push(model);
    }
    models
}

/// The default the rules see: the literal, or for a constant only what its presence says
/// (a constant's value is the compiler's to check, in the expansion).
fn rules_default<'a>(arg: &'a Arg, model: &'a ArgModel) -> Option<&'a str> {
    let default = arg.default.as_ref()?;
    // An `Option`'s default is refused by `arg` (an `Option` has none).
    if shape(&arg.ty).0 == Shape::Optional {
        return None;
    }
    match &default.constant {
        None => Some(default.text.as_str()),
        // A list, a switch or a count takes no default at all: the rules say so, naming
        // the constant.
        Some(_) if model.multiple || model.counted || is_switch(model) => {
            Some(default.text.as_str())
        }
        Some(_) => None,
    }
}

fn is_switch(model: &ArgModel) -> bool {
    !model.positional && Scalar::of(&model.value_type) == Scalar::Bool
}

/// Where `problem` of `arg` is reported: on the part it is about, or where a verb uses
/// the set `arg` comes from.
fn locate(arg: &Arg, problem: &ArgProblem, scope: Scope) -> Error {
    if let (Scope::Verb, Some((set, tokens))) = (scope, &arg.from_set) {
        let flag = if arg.positional {
            format!("`{}`", arg.name)
        } else {
            format!("`--{}`", arg.name)
        };
        return Error::new_spanned(tokens, format!("`..{set}` brings {flag} here: {problem}"));
    }
    let named = |names: &[Name]| {
        problem
            .reference()
            .and_then(|reference| names.iter().find(|name| name.text == reference))
            .map(|name| name.tokens.clone())
    };
    let tokens = match problem.part() {
        ArgPart::Name => None,
        ArgPart::Short => arg.short.as_ref().map(|(_, tokens)| tokens.clone()),
        ArgPart::Type => Some(arg.ty.to_token_stream()),
        ArgPart::Default => Some(arg.default.as_ref().map_or_else(
            || arg.ty.to_token_stream(),
            |default| default.tokens.clone(),
        )),
        ArgPart::Help => arg.help.as_ref().map(ToTokens::to_token_stream),
        ArgPart::Env => arg.env.as_ref().map(ToTokens::to_token_stream),
        ArgPart::Values => Some(
            arg.values
                .as_ref()
                .map_or_else(|| arg.ty.to_token_stream(), |values| values.tokens.clone()),
        ),
        ArgPart::ValueName => arg.value_name.as_ref().map(ToTokens::to_token_stream),
        ArgPart::Alias => problem
            .reference()
            .and_then(|alias| arg.aliases.iter().find(|token| token.value() == alias))
            .or(arg.aliases.first())
            .map(ToTokens::to_token_stream),
        ArgPart::Count => Some(
            arg.count
                .as_ref()
                .map_or_else(|| arg.ty.to_token_stream(), ToTokens::to_token_stream),
        ),
        ArgPart::Range => arg.range.as_ref().map(|range| range.tokens.clone()),
        ArgPart::Hidden => arg.hidden.as_ref().map(ToTokens::to_token_stream),
        ArgPart::Mcp => arg.mcp.as_ref().map(ToTokens::to_token_stream),
        ArgPart::ConflictsWith => named(&arg.conflicts_with),
        ArgPart::Requires => named(&arg.requires).or_else(|| named(&arg.conflicts_with)),
    };
    match tokens {
        Some(tokens) => Error::new_spanned(tokens, problem),
        None => Error::new_spanned(&arg.name_tokens, problem),
    }
}

/// `check` of `model` as the rules see it.
fn with_decl<T>(model: &ArgModel, check: impl FnOnce(&ArgDecl<'_>) -> T) -> T {
    fn strs(list: &[String]) -> Vec<&str> {
        list.iter().map(String::as_str).collect()
    }
    let values = strs(&model.values);
    let aliases = strs(&model.aliases);
    let conflicts_with = strs(&model.conflicts_with);
    let requires = strs(&model.requires);
    check(&ArgDecl {
        name: &model.name,
        positional: model.positional,
        short: model.short,
        value_type: &model.value_type,
        required: model.required,
        multiple: model.multiple,
        default: model.default.as_deref(),
        help: &model.help,
        env: model.env.as_deref(),
        values: &values,
        value_name: model.value_name.as_deref(),
        aliases: &aliases,
        counted: model.counted,
        conflicts_with: &conflicts_with,
        requires: &requires,
        range: model.range,
        hidden: model.hidden,
        mcp: model.mcp,
    })
}

/// One argument: what only its source can tell (the shape of its type, a short flag of
/// one character), and its model. The rules it shares with the model are checked by
/// [`args`].
fn arg(arg: &Arg, errors: &mut Vec<Error>) -> ArgModel {
    let (shape, inner) = shape(&arg.ty);
    let value_type = type_name(inner);
    let scalar = Scalar::of(&value_type);
    let counted = arg.count.is_some();
    let switch = !arg.positional && scalar == Scalar::Bool && !counted;
    if counted && shape != Shape::One {
        errors.push(Error::new_spanned(&arg.ty, ArgProblem::CountedShape));
    }
    if let Some(default) = &arg.default
        && default.constant.is_some()
        && matches!(scalar, Scalar::F32 | Scalar::F64)
        && shape == Shape::One
    {
        errors.push(Error::new_spanned(
            &default.tokens,
            format!(
                "a default of type `{value_type}` is written as a literal (`0.5`): the text of a float constant cannot be made while the program compiles"
            ),
        ));
    }
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
                    ArgProblem::ShortNotALetter {
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
            ArgProblem::ValuesOnSwitch,
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
        Shape::One => (!switch && !counted && arg.default.is_none(), false),
        Shape::Optional => (false, false),
        Shape::Repeated => (false, true),
    };
    let literal = arg
        .default
        .as_ref()
        .filter(|default| default.constant.is_none());
    let default = if switch {
        Some("false".to_string())
    } else if shape == Shape::One && !counted {
        literal.map(|default| default.text.clone())
    } else {
        None
    };
    let default_const = arg
        .default
        .as_ref()
        .and_then(|default| default.constant.clone())
        .filter(|_| shape == Shape::One && !switch && !counted)
        .map(PathTokens);
    let names = |list: &[Name]| list.iter().map(|name| name.text.clone()).collect();
    ArgModel {
        name: arg.name.clone(),
        value_type,
        help: arg.help.as_ref().map(LitStr::value).unwrap_or_default(),
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
        value_name: arg.value_name.as_ref().map(LitStr::value),
        aliases: arg.aliases.iter().map(LitStr::value).collect(),
        counted,
        conflicts_with: names(&arg.conflicts_with),
        requires: names(&arg.requires),
        range: arg
            .range
            .as_ref()
            .map(|range| ValueRange::new(range.min, range.max)),
        hidden: arg.hidden.is_some(),
        mcp: arg.mcp.is_some(),
        default_const,
    }
}
