//! Tokens -> [`Grammar`]: the structure of the DSL, with recovery.
//!
//! The parser reports a mistake and carries on at the next field, argument, noun or verb,
//! so one compile shows every mistake. Where something could not be read it leaves a
//! mark ([`Slot::Broken`], `poisoned`) so validation does not report the same mistake
//! again as a missing field or an empty noun.

use std::fmt;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseBuffer, ParseStream, Parser};
use syn::{Error, Ident, Lit, LitStr, Path, Token, Type, token};

use crate::ast::{
    App, Arg, ArgSet, Args, DefaultValue, Fields, Grammar, Group, Item, Name, Noun, PossibleValues,
    RangeClause, Slot, Verb,
};
use crate::vocab::{list, suggest};

/// The shape of a whole invocation, shown when it does not even start right.
const SHAPE: &str = "expected a grammar such as `app \"myapp\" version \"1.0.0\" { noun \"file\" help \"File operations\" { verb \"read\" { capability: ReadOnlyFS, resource: Fast, help: \"Read a file\" } } }`";

/// The fields a verb may have.
pub const VERB_FIELDS: &[&str] = &[
    "capability",
    "resource",
    "safety",
    "confirmation",
    "stability",
    "help",
    "long_help",
    "deprecated",
    "args",
    "aliases",
    "title",
    "mcp_name",
    "output",
    "groups",
];

/// The clauses an argument may have between its type (and default) and its help.
pub const ARG_CLAUSES: &[&str] = &[
    "in",
    "env",
    "value_name",
    "alias",
    "count",
    "conflicts_with",
    "requires",
    "range",
    "hidden",
    "mcp",
];

/// The item form's header, `pub static GRAMMAR =` before `app`: the grammar becomes that
/// static, and each verb's arguments a struct beside it.
pub struct ItemHeader {
    /// The static's outer attributes (its doc comment, say).
    pub attrs: Vec<syn::Attribute>,
    /// The visibility of the static, and of the noun modules it brings.
    pub vis: syn::Visibility,
    /// The static's name.
    pub name: Ident,
}

// By hand: syn's `Debug` for `Visibility` needs its `extra-traits` feature.
impl fmt::Debug for ItemHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemHeader")
            .field("vis", &self.vis.to_token_stream().to_string())
            .field("name", &self.name.to_string())
            .finish()
    }
}

/// What [`parse`] read from an invocation.
pub struct Parsed {
    /// `crate = path;`, when written. Kept when the app could not be read, so the
    /// expansion after the errors names the same crate (and adds no error of its own).
    pub krate: Option<Path>,
    /// `cli = path;`, when written: the path of the `cnv-cli` crate in the code the item
    /// form generates for typed arguments (`::cnv::cli` by default).
    pub cli: Option<Path>,
    /// `pub static NAME =`, when written (the item form).
    pub item: Option<ItemHeader>,
    /// The tree, when the `app` itself could be read.
    pub grammar: Option<Grammar>,
    /// Every error found, in source order; never empty when `grammar` is `None`.
    pub errors: Vec<Error>,
}

// By hand: syn's `Debug` for `Path` needs its `extra-traits` feature.
impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let krate = self
            .krate
            .as_ref()
            .map(|path| path.to_token_stream().to_string());
        f.debug_struct("Parsed")
            .field("krate", &krate)
            .field("item", &self.item)
            .field("grammar", &self.grammar)
            .field("errors", &self.errors)
            .finish()
    }
}

/// Parses an invocation: the tree, the crate path and every error, in source order.
#[must_use]
pub fn parse(input: TokenStream) -> Parsed {
    let mut errors = Vec::new();
    let mut header = Header::default();
    let parsed =
        (|stream: ParseStream<'_>| grammar(stream, &mut header, &mut errors)).parse2(input);
    let grammar = match parsed {
        Ok(grammar) => Some(grammar),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    Parsed {
        krate: header.krate,
        cli: header.cli,
        item: header.item,
        grammar,
        errors,
    }
}

/// What comes before `app`.
#[derive(Default)]
struct Header {
    krate: Option<Path>,
    cli: Option<Path>,
    item: Option<ItemHeader>,
}

fn grammar(
    input: ParseStream<'_>,
    header: &mut Header,
    errors: &mut Vec<Error>,
) -> syn::Result<Grammar> {
    if input.peek(Token![crate]) {
        input.parse::<Token![crate]>()?;
        header.krate = Some(crate_path(input, errors, "crate", "::cnv_grammar")?);
    }
    if peek_word(input, "cli") && input.peek2(Token![=]) {
        input.call(Ident::parse_any)?;
        header.cli = Some(crate_path(input, errors, "cli", "::cnv_cli")?);
    }
    if input.peek(Token![#]) || input.peek(Token![pub]) || input.peek(Token![static]) {
        header.item = Some(item_header(input)?);
    }
    if input.is_empty() {
        return Err(Error::new(Span::call_site(), SHAPE));
    }
    if !peek_word(input, "app") {
        let token: TokenTree = input.parse()?;
        let message = match &token {
            TokenTree::Ident(word) if suggest(&word.to_string(), &["app"]).is_some() => {
                format!("unknown keyword `{word}` (did you mean `app`?); {SHAPE}")
            }
            _ => SHAPE.to_string(),
        };
        // Everything after the first token would be reported again; stop here.
        let _rest: TokenStream = input.parse()?;
        return Err(Error::new_spanned(token, message));
    }
    let keyword = input.call(Ident::parse_any)?;
    let name = header_name(input, errors, &keyword, "app", "myapp")?;
    let mut headers = Headers::default();
    headers.parse(input, errors, &["version", "help"], "app");
    if !input.peek(token::Brace) {
        let message = "expected `{ … }` with the app's nouns after its header";
        return Err(if input.is_empty() {
            Error::new_spanned(&name, message)
        } else {
            Error::new(input.span(), message)
        });
    }
    let content;
    syn::braced!(content in input);
    let mut args = Slot::Absent;
    let mut sets = Vec::new();
    loop {
        if peek_word(&content, "args") && !args.is_written() {
            args = global_args(&content, errors);
        } else if peek_word(&content, "sets") && peek_colon_after_word(&content) {
            sets.extend(arg_sets(&content, errors));
        } else {
            break;
        }
    }
    let (mut items, poisoned) = items(&content, errors, true);
    use_sets(&mut args, &mut sets, &mut items, errors);
    if !input.is_empty() {
        let stray: TokenTree = input.parse()?;
        let _rest: TokenStream = input.parse()?;
        errors.push(Error::new_spanned(
            stray,
            "unexpected tokens after the app's closing `}`; a `grammar_dsl!` holds one app, and its nouns go inside the app's braces",
        ));
    }
    Ok(Grammar {
        app: App {
            name,
            version: headers.take("version").into_given(),
            help: headers.take("help").into_given(),
            args,
            sets,
            items,
            poisoned,
        },
    })
}

/// Whether the word next is followed by `:` (a list such as `sets: [ … ]`).
fn peek_colon_after_word(input: ParseStream<'_>) -> bool {
    input.peek2(Token![:]) && !input.peek2(Token![::])
}

/// `sets: [ name: [ … ], … ],`: argument lists declared once, for the verbs that write
/// `..name` in their `args`.
fn arg_sets(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Vec<ArgSet> {
    let Ok(key) = input.call(Ident::parse_any) else {
        return Vec::new();
    };
    let _ = input.parse::<Token![:]>();
    let mut sets = Vec::new();
    if !input.peek(token::Bracket) {
        errors.push(Error::new_spanned(
            &key,
            "expected `[ … ]` after `sets:`, e.g. `sets: [folder: [--folder: String = \"notes\" \"The folder\"]],`",
        ));
        skip_to_item(input);
        return sets;
    }
    let Ok(content) = brackets(input) else {
        return sets;
    };
    while !content.is_empty() {
        let mut name_tokens = TokenStream::new();
        let Ok(name) = kebab(&content, &mut name_tokens) else {
            let stray = skip_to_comma(&content);
            errors.push(Error::new_spanned(
                first_token(stray),
                "expected a set: `name: [ arguments ]`, e.g. `folder: [--folder: String \"The folder\"]`",
            ));
            eat_comma(&content);
            continue;
        };
        let key = Ident::new("sets", Span::call_site());
        let args = if content.peek(Token![:]) && !content.peek(Token![::]) {
            let _ = content.parse::<Token![:]>();
            match args_value(&content, errors, &key) {
                Value::Args(args) => args,
                _ => Args {
                    poisoned: true,
                    ..Args::default()
                },
            }
        } else {
            errors.push(Error::new_spanned(
                &name_tokens,
                format!("expected `:` and the set's arguments after `{name}`, e.g. `{name}: [--{name}: String \"…\"]`"),
            ));
            skip_to_comma(&content);
            Args {
                poisoned: true,
                ..Args::default()
            }
        };
        if sets.iter().any(|set: &ArgSet| set.name == name) {
            errors.push(Error::new_spanned(
                &name_tokens,
                format!("there is already a set called `{name}`; give this one another name"),
            ));
        } else {
            sets.push(ArgSet {
                name,
                name_tokens,
                args,
                used: false,
            });
        }
        if !content.is_empty() && !eat_comma(&content) {
            let stray = skip_to_comma(&content);
            errors.push(Error::new_spanned(
                first_token(stray),
                "unexpected tokens after the set's arguments; sets are separated by `,`",
            ));
            eat_comma(&content);
        }
    }
    eat_comma(input);
    sets
}

/// Puts each set's arguments where a verb writes `..name`, marking the sets used; an
/// unknown set, a set used among global arguments or inside a set, and a set no verb uses
/// are reported.
fn use_sets(
    args: &mut Slot<Args>,
    sets: &mut [ArgSet],
    items: &mut [Item],
    errors: &mut Vec<Error>,
) {
    let refuse = |uses: &[(usize, Name)], errors: &mut Vec<Error>, message: &str| {
        for (_, name) in uses {
            errors.push(Error::new_spanned(&name.tokens, message));
        }
    };
    if let Slot::Given(globals) = args {
        refuse(
            &std::mem::take(&mut globals.uses),
            errors,
            "a set's arguments belong to the verbs that use it; write the app's global arguments in `args:` itself",
        );
    }
    for set in sets.iter_mut() {
        refuse(
            &std::mem::take(&mut set.args.uses),
            errors,
            "a set cannot use another set; write its arguments in it",
        );
    }
    splice_sets(items, sets, errors);
    for set in sets.iter() {
        if !set.used {
            errors.push(Error::new_spanned(
                &set.name_tokens,
                format!(
                    "no verb uses the set `{}`; write `..{}` in the `args` of the verbs it is for, or remove it",
                    set.name, set.name
                ),
            ));
        }
    }
}

fn splice_sets(items: &mut [Item], sets: &mut [ArgSet], errors: &mut Vec<Error>) {
    for item in items {
        match item {
            Item::Noun(noun) => splice_sets(&mut noun.items, sets, errors),
            Item::Verb(verb) => {
                let Slot::Given(args) = &mut verb.fields.args else {
                    continue;
                };
                let uses = std::mem::take(&mut args.uses);
                // From the last, so each index still points where it was written.
                for (index, name) in uses.into_iter().rev() {
                    let Some(set) = sets.iter_mut().find(|set| set.name == name.text) else {
                        let names: Vec<&str> = sets.iter().map(|set| set.name.as_str()).collect();
                        let hint = suggest(&name.text, &names)
                            .map(|s| format!(" (did you mean `..{s}`?)"))
                            .unwrap_or_default();
                        errors.push(Error::new_spanned(
                            &name.tokens,
                            format!(
                                "there is no set `{}`{hint}; declare it in the app's `sets: [{}: [ … ]],`",
                                name.text, name.text
                            ),
                        ));
                        args.poisoned = true;
                        continue;
                    };
                    set.used = true;
                    if set.args.poisoned {
                        args.poisoned = true;
                    }
                    let spliced = set.args.list.iter().cloned().map(|mut arg| {
                        arg.from_set = Some((set.name.clone(), name.tokens.clone()));
                        arg
                    });
                    args.list.splice(index..index, spliced);
                }
            }
        }
    }
}

/// The app's global arguments, `args: [ … ],` first inside its braces (absent when the
/// app has none).
fn global_args(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Slot<Args> {
    if !peek_word(input, "args") {
        return Slot::Absent;
    }
    let Ok(key) = input.call(Ident::parse_any) else {
        return Slot::Broken;
    };
    if input.peek(Token![:]) && !input.peek(Token![::]) {
        let _colon: Token![:] = match input.parse() {
            Ok(colon) => colon,
            Err(_) => return Slot::Broken,
        };
    } else {
        errors.push(Error::new_spanned(
            &key,
            "expected `:` after `args`, as in `args: [-v --verbose: bool \"Say more\"],`",
        ));
        skip_to_item(input);
        return Slot::Broken;
    }
    let slot = match args_value(input, errors, &key) {
        Value::Args(args) => Slot::Given(args),
        _ => Slot::Broken,
    };
    eat_comma(input);
    slot
}

/// `= path;` after `crate` or `cli`. A missing `;` is reported and the path still counts.
fn crate_path(
    input: ParseStream<'_>,
    errors: &mut Vec<Error>,
    keyword: &str,
    example: &str,
) -> syn::Result<Path> {
    input.parse::<Token![=]>()?;
    let path = input.call(Path::parse_mod_style)?;
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
    } else {
        errors.push(Error::new_spanned(
            &path,
            format!("expected `;` after the crate path: `{keyword} = {example};`"),
        ));
    }
    Ok(path)
}

/// `pub static NAME =` (any visibility, or none).
fn item_header(input: ParseStream<'_>) -> syn::Result<ItemHeader> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let vis: syn::Visibility = input.parse()?;
    let keyword = input.lookahead1();
    if !keyword.peek(Token![static]) {
        return Err(Error::new(
            input.span(),
            "expected `static` after the visibility: `pub static GRAMMAR = app \"myapp\" { … }`",
        ));
    }
    input.parse::<Token![static]>()?;
    let name: Ident = input.parse().map_err(|err| {
        Error::new(
            err.span(),
            "expected the static's name: `static GRAMMAR = app \"myapp\" { … }`",
        )
    })?;
    if !input.peek(Token![=]) {
        return Err(Error::new_spanned(
            &name,
            format!(
                "expected `=` and the app after `static {name}`: `static {name} = app \"myapp\" {{ … }}`"
            ),
        ));
    }
    input.parse::<Token![=]>()?;
    Ok(ItemHeader { attrs, vis, name })
}

/// The string name after `app`, `noun` or `verb`.
fn header_name(
    input: ParseStream<'_>,
    errors: &mut Vec<Error>,
    keyword: &Ident,
    what: &str,
    example: &str,
) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return string(input, errors);
    }
    if input.peek(Ident::peek_any) {
        let word = input.call(Ident::parse_any)?;
        return Err(Error::new_spanned(
            &word,
            format!("the {what}'s name is a string: write `{what} \"{word}\"`"),
        ));
    }
    let message = format!(
        "expected the {what}'s name as a string after `{what}`, e.g. `{what} \"{example}\"`"
    );
    Err(if input.is_empty() {
        Error::new_spanned(keyword, message)
    } else {
        Error::new(input.span(), message)
    })
}

/// The `keyword "text"` pairs between a name and its braces.
#[derive(Default)]
struct Headers {
    values: Vec<(&'static str, LitStr)>,
    /// Keywords whose value could not be read, or that a misspelled word stands for
    /// (`halp "…"`): reported already, so not missing as well.
    broken: Vec<&'static str>,
}

impl Headers {
    fn parse(
        &mut self,
        input: ParseStream<'_>,
        errors: &mut Vec<Error>,
        allowed: &[&'static str],
        owner: &str,
    ) {
        while !input.is_empty() && !input.peek(token::Brace) {
            if peek_word(input, "noun") || peek_word(input, "verb") {
                return;
            }
            let Ok(token) = input.parse::<TokenTree>() else {
                return;
            };
            let TokenTree::Ident(word) = &token else {
                errors.push(Error::new_spanned(
                    &token,
                    format!(
                        "expected {} or `{{` after the {owner}'s name",
                        header_list(allowed)
                    ),
                ));
                continue;
            };
            let text = word.to_string();
            let Some(keyword) = allowed.iter().copied().find(|k| *k == text) else {
                let close = suggest(&text, allowed);
                if let Some(meant) = close {
                    self.broken.push(meant);
                }
                let hint = close
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                errors.push(Error::new_spanned(
                    word,
                    format!(
                        "unknown word `{text}`{hint} in the {owner}'s header; expected {} or `{{`",
                        header_list(allowed)
                    ),
                ));
                if input.peek(LitStr) {
                    let _ = input.parse::<LitStr>();
                }
                continue;
            };
            if input.peek(Token![:]) {
                let colon: Token![:] = match input.parse() {
                    Ok(colon) => colon,
                    Err(_) => return,
                };
                errors.push(Error::new_spanned(
                    colon,
                    format!("no `:` in the {owner}'s header: write `{keyword} \"…\"`"),
                ));
            }
            match string(input, errors) {
                Ok(value) => {
                    if self.values.iter().any(|(k, _)| *k == keyword) {
                        errors.push(Error::new_spanned(
                            word,
                            format!("`{keyword}` is given twice in the {owner}'s header; keep one"),
                        ));
                    } else {
                        self.values.push((keyword, value));
                    }
                }
                Err(_) => {
                    self.broken.push(keyword);
                    let message =
                        format!("expected a string after `{keyword}`, e.g. `{keyword} \"…\"`");
                    if input.is_empty() || input.peek(token::Brace) {
                        errors.push(Error::new_spanned(word, message));
                    } else {
                        let wrong: TokenTree = match input.parse() {
                            Ok(wrong) => wrong,
                            Err(_) => return,
                        };
                        errors.push(Error::new_spanned(wrong, message));
                    }
                }
            }
        }
    }

    /// The value of `keyword`: given, broken (reported already) or absent.
    fn take(&mut self, keyword: &str) -> Slot<LitStr> {
        match self.values.iter().position(|(k, _)| *k == keyword) {
            Some(index) => Slot::Given(self.values.remove(index).1),
            None if self.broken.contains(&keyword) => Slot::Broken,
            None => Slot::Absent,
        }
    }
}

fn header_list(allowed: &[&str]) -> String {
    let examples: Vec<String> = allowed.iter().map(|k| format!("{k} \"…\"")).collect();
    let refs: Vec<&str> = examples.iter().map(String::as_str).collect();
    list(&refs)
}

/// The nouns and verbs inside an app's or a noun's braces. Returns them and whether one
/// could not be read.
fn items(input: ParseStream<'_>, errors: &mut Vec<Error>, in_app: bool) -> (Vec<Item>, bool) {
    let mut items = Vec::new();
    let mut poisoned = false;
    while !input.is_empty() {
        if peek_word(input, "noun") {
            match noun(input, errors) {
                Some(noun) => items.push(Item::Noun(noun)),
                None => poisoned = true,
            }
        } else if peek_word(input, "verb") {
            match verb(input, errors) {
                Some(verb) if in_app => {
                    errors.push(Error::new_spanned(
                        &verb.keyword,
                        "a verb belongs to a noun: put it inside `noun \"…\" help \"…\" { … }`",
                    ));
                    poisoned = true;
                }
                Some(verb) => items.push(Item::Verb(Box::new(verb))),
                None => poisoned = true,
            }
        } else if in_app && (peek_word(input, "args") || peek_word(input, "sets")) {
            let Ok(word) = input.call(Ident::parse_any) else {
                break;
            };
            errors.push(Error::new_spanned(
                &word,
                format!(
                    "the app's `{word}: [ … ],` come first inside its braces, before its nouns"
                ),
            ));
            poisoned = true;
            skip_to_item(input);
        } else {
            let Ok(stray) = input.parse::<TokenTree>() else {
                break;
            };
            // An app holds nouns only (a verb there is refused above): propose nothing
            // that is then refused.
            let (keywords, expected, items): (&[&str], _, _) = if in_app {
                (
                    &["noun"],
                    "`noun \"name\" help \"…\" { … }`",
                    "nouns follow each other",
                )
            } else {
                (
                    &["noun", "verb"],
                    "`noun \"name\" help \"…\" { … }` or `verb \"name\" { … }`",
                    "nouns and verbs follow each other",
                )
            };
            let message = match &stray {
                TokenTree::Punct(p) if matches!(p.as_char(), ',' | ';') => {
                    format!("remove this `{}`: {items} without separators", p.as_char())
                }
                TokenTree::Ident(word) => {
                    poisoned = true;
                    match suggest(&word.to_string(), keywords) {
                        Some(s) => format!("unknown keyword `{word}` (did you mean `{s}`?)"),
                        None => format!("unexpected `{word}`: expected {expected}"),
                    }
                }
                _ => {
                    poisoned = true;
                    format!("unexpected tokens: expected {expected}")
                }
            };
            errors.push(Error::new_spanned(stray, message));
            skip_to_item(input);
        }
    }
    (items, poisoned)
}

/// `noun "name" help "…" { … }`; `None` (after reporting) when it cannot be read.
fn noun(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Option<Noun> {
    let keyword = input.call(Ident::parse_any).ok()?;
    let name = match header_name(input, errors, &keyword, "noun", "file") {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let mut headers = Headers::default();
    headers.parse(input, errors, &["help", "long_help"], "noun");
    if !input.peek(token::Brace) {
        let message = "expected `{ … }` with the noun's verbs after its header";
        if peek_word(input, "verb") {
            // The verbs that follow were meant to be inside: one error on the noun, and
            // the verbs are read for their own mistakes but not reported again as verbs
            // outside a noun.
            errors.push(match &name {
                Some(name) => Error::new_spanned(
                    name,
                    format!(
                        "noun `{}` has no `{{ … }}`: put its verbs inside braces, `noun \"{}\" help \"…\" {{ verb \"…\" {{ … }} }}`",
                        name.value(),
                        name.value()
                    ),
                ),
                None => Error::new(input.span(), message),
            });
            while peek_word(input, "verb") {
                let _ = verb(input, errors);
            }
            return None;
        }
        errors.push(match &name {
            Some(name) if input.is_empty() => Error::new_spanned(name, message),
            _ => Error::new(input.span(), message),
        });
        return None;
    }
    let content = match braces(input) {
        Ok(content) => content,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let (items, poisoned) = items(&content, errors, false);
    Some(Noun {
        keyword,
        name: name?,
        help: headers.take("help"),
        long_help: headers.take("long_help").into_given(),
        items,
        poisoned,
    })
}

/// `verb "name" { field: value, … }`; `None` (after reporting) when it cannot be read.
fn verb(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Option<Verb> {
    let keyword = input.call(Ident::parse_any).ok()?;
    let name = match header_name(input, errors, &keyword, "verb", "read") {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    // `verb "read" help "…" { … }`: the help was written, in the wrong place (reported),
    // so it is not missing as well.
    let mut help_outside = false;
    if !input.peek(token::Brace) {
        if input.is_empty() || peek_word(input, "noun") || peek_word(input, "verb") {
            let message =
                "expected `{ capability: …, resource: …, help: \"…\" }` after the verb's name";
            errors.push(match &name {
                Some(name) => Error::new_spanned(name, message),
                None => Error::new_spanned(&keyword, message),
            });
            return None;
        }
        let stray: TokenTree = input.parse().ok()?;
        help_outside = peek_word_token(&stray, "help");
        let message = if help_outside {
            "a verb's help goes inside its braces as a field: `verb \"name\" { help: \"…\", … }`"
        } else {
            "unexpected tokens between the verb's name and its `{ … }`"
        };
        errors.push(Error::new_spanned(stray, message));
        while !input.is_empty() && !input.peek(token::Brace) {
            if peek_word(input, "noun") || peek_word(input, "verb") {
                return None;
            }
            let _ = input.parse::<TokenTree>();
        }
        if input.is_empty() {
            return None;
        }
    }
    let content = match braces(input) {
        Ok(content) => content,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let mut fields = fields(&content, errors);
    if help_outside && !fields.help.is_written() {
        fields.help = Slot::Broken;
    }
    Some(Verb {
        keyword,
        name: name?,
        fields,
    })
}

/// The `field: value` list of a verb, separated by commas, in any order.
fn fields(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Fields {
    let mut fields = Fields::default();
    let mut semicolons = Semicolons::default();
    while !input.is_empty() {
        if input.peek(Token![,]) {
            if let Ok(comma) = input.parse::<Token![,]>() {
                errors.push(Error::new_spanned(
                    comma,
                    "unexpected `,`: expected a field such as `capability: Pure`",
                ));
            }
            continue;
        }
        if !input.peek(Ident::peek_any) {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(
                first_token(stray),
                "expected a field such as `capability: Pure` or `help: \"…\"`",
            ));
            eat_comma(input);
            continue;
        }
        let Ok(key) = input.call(Ident::parse_any) else {
            break;
        };
        let name = key.to_string();
        if input.peek(Token![:]) && !input.peek(Token![::]) {
            let _ = input.parse::<Token![:]>();
        } else {
            errors.push(Error::new_spanned(
                &key,
                format!("expected `:` after `{name}`, as in `{name}: …`"),
            ));
            mark_broken(&mut fields, &name);
            skip_to_comma(input);
            eat_comma(input);
            continue;
        }
        match name.as_str() {
            "capability" | "resource" | "safety" | "confirmation" | "stability" => {
                let value = word_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| match name.as_str() {
                    "capability" => StoreTo::Word(&mut f.capability),
                    "resource" => StoreTo::Word(&mut f.resource),
                    "safety" => StoreTo::Word(&mut f.safety),
                    "confirmation" => StoreTo::Word(&mut f.confirmation),
                    _ => StoreTo::Word(&mut f.stability),
                });
            }
            "help" | "long_help" | "deprecated" => {
                let value = string_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| match name.as_str() {
                    "help" => StoreTo::Text(&mut f.help),
                    "long_help" => StoreTo::Text(&mut f.long_help),
                    _ => StoreTo::Text(&mut f.deprecated),
                });
            }
            "args" => {
                let value = args_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| {
                    StoreTo::Args(&mut f.args)
                });
            }
            "title" | "mcp_name" => {
                let value = string_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| match name.as_str() {
                    "title" => StoreTo::Text(&mut f.title),
                    _ => StoreTo::Text(&mut f.mcp_name),
                });
            }
            "aliases" => {
                let value = strings_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| {
                    StoreTo::Strings(&mut f.aliases)
                });
            }
            "output" => {
                let value = type_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| {
                    StoreTo::Type(&mut f.output)
                });
            }
            "groups" => {
                let value = groups_value(input, errors, &key);
                store(&mut fields, &key, value, errors, |f| {
                    StoreTo::Groups(&mut f.groups)
                });
            }
            _ => {
                let close = suggest(&name, VERB_FIELDS);
                let hint = close
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                // The misspelled field stands for the one it is close to: that one is
                // not reported missing as well.
                if let Some(meant) = close
                    && !slot_written(&fields, meant)
                {
                    mark_broken(&mut fields, meant);
                }
                errors.push(Error::new_spanned(
                    &key,
                    format!(
                        "unknown field `{name}`{hint}; a verb's fields are {}",
                        list(VERB_FIELDS)
                    ),
                ));
                skip_to_comma(input);
            }
        }
        after_value(input, errors, &mut semicolons);
    }
    fields
}

/// `;` where `,` belongs: reported at the first one of a list, then read as `,`, so a
/// verb written with semicolons is one mistake and its fields still count.
#[derive(Default)]
struct Semicolons {
    reported: bool,
}

impl Semicolons {
    /// Consumes a `;` if one is next (reporting the first), and says whether it did.
    fn eat(&mut self, input: ParseStream<'_>, errors: &mut Vec<Error>, what: &str) -> bool {
        if !input.peek(Token![;]) {
            return false;
        }
        let Ok(semicolon) = input.parse::<Token![;]>() else {
            return false;
        };
        if !self.reported {
            self.reported = true;
            errors.push(Error::new_spanned(
                semicolon,
                format!("write `,` here: {what} are separated by commas, not semicolons"),
            ));
        }
        true
    }
}

/// Where a parsed value goes.
enum StoreTo<'a> {
    Word(&'a mut Slot<Ident>),
    Text(&'a mut Slot<LitStr>),
    Args(&'a mut Slot<Args>),
    Strings(&'a mut Slot<Vec<LitStr>>),
    Type(&'a mut Slot<Type>),
    Groups(&'a mut Slot<Vec<Group>>),
}

/// A parsed field value: read, or unreadable (already reported).
enum Value {
    Word(Ident),
    Text(LitStr),
    Args(Args),
    Strings(Vec<LitStr>),
    Type(Type),
    Groups(Vec<Group>),
    Broken,
}

fn store(
    fields: &mut Fields,
    key: &Ident,
    value: Value,
    errors: &mut Vec<Error>,
    slot: impl FnOnce(&mut Fields) -> StoreTo<'_>,
) {
    let duplicate = |errors: &mut Vec<Error>| {
        errors.push(Error::new_spanned(
            key,
            format!("`{key}` is given twice in this verb; keep one"),
        ));
    };
    match (slot(fields), value) {
        (StoreTo::Word(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Text(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Args(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Strings(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Type(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Groups(slot), _) if slot.is_written() => duplicate(errors),
        (StoreTo::Word(slot), Value::Word(word)) => *slot = Slot::Given(word),
        (StoreTo::Text(slot), Value::Text(text)) => *slot = Slot::Given(text),
        (StoreTo::Args(slot), Value::Args(args)) => *slot = Slot::Given(args),
        (StoreTo::Strings(slot), Value::Strings(list)) => *slot = Slot::Given(list),
        (StoreTo::Type(slot), Value::Type(ty)) => *slot = Slot::Given(ty),
        (StoreTo::Groups(slot), Value::Groups(groups)) => *slot = Slot::Given(groups),
        (StoreTo::Word(slot), _) => *slot = Slot::Broken,
        (StoreTo::Text(slot), _) => *slot = Slot::Broken,
        (StoreTo::Args(slot), _) => *slot = Slot::Broken,
        (StoreTo::Strings(slot), _) => *slot = Slot::Broken,
        (StoreTo::Type(slot), _) => *slot = Slot::Broken,
        (StoreTo::Groups(slot), _) => *slot = Slot::Broken,
    }
}

fn slot_written(fields: &Fields, name: &str) -> bool {
    match name {
        "capability" => fields.capability.is_written(),
        "resource" => fields.resource.is_written(),
        "safety" => fields.safety.is_written(),
        "confirmation" => fields.confirmation.is_written(),
        "stability" => fields.stability.is_written(),
        "help" => fields.help.is_written(),
        "long_help" => fields.long_help.is_written(),
        "deprecated" => fields.deprecated.is_written(),
        "args" => fields.args.is_written(),
        "aliases" => fields.aliases.is_written(),
        "title" => fields.title.is_written(),
        "mcp_name" => fields.mcp_name.is_written(),
        "output" => fields.output.is_written(),
        "groups" => fields.groups.is_written(),
        _ => false,
    }
}

fn mark_broken(fields: &mut Fields, name: &str) {
    match name {
        "capability" => fields.capability = Slot::Broken,
        "resource" => fields.resource = Slot::Broken,
        "safety" => fields.safety = Slot::Broken,
        "confirmation" => fields.confirmation = Slot::Broken,
        "stability" => fields.stability = Slot::Broken,
        "help" => fields.help = Slot::Broken,
        "long_help" => fields.long_help = Slot::Broken,
        "deprecated" => fields.deprecated = Slot::Broken,
        "args" => fields.args = Slot::Broken,
        "aliases" => fields.aliases = Slot::Broken,
        "title" => fields.title = Slot::Broken,
        "mcp_name" => fields.mcp_name = Slot::Broken,
        "output" => fields.output = Slot::Broken,
        "groups" => fields.groups = Slot::Broken,
        _ => {}
    }
}

/// After a field's value: a `,`, the end, or a reported mistake (a missing comma before
/// the next field is reported once and parsing goes on from that field).
fn after_value(input: ParseStream<'_>, errors: &mut Vec<Error>, semicolons: &mut Semicolons) {
    if input.is_empty() || eat_comma(input) || semicolons.eat(input, errors, "a verb's fields") {
        return;
    }
    if input.peek(Ident::peek_any) && input.peek2(Token![:]) {
        errors.push(Error::new(
            input.span(),
            "expected `,` before this field: a verb's fields are separated by commas",
        ));
        return;
    }
    let stray = skip_to_comma(input);
    errors.push(Error::new_spanned(
        first_token(stray),
        "unexpected tokens after the field's value; fields are separated by `,`",
    ));
    eat_comma(input);
}

/// The value of `capability:`, `resource:`, `safety:`, `confirmation:` or `stability:`:
/// one name.
fn word_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    let field = &key.to_string();
    if input.peek(LitStr) {
        if let Ok(text) = input.parse::<LitStr>() {
            let value = text.value();
            errors.push(Error::new_spanned(
                &text,
                format!(
                    "write `{field}: {value}` without quotes: `{value}` is a name, not a string"
                ),
            ));
        }
        return Value::Broken;
    }
    if !input.peek(Ident::peek_any) {
        let message = format!(
            "expected a name after `{field}:`, e.g. `{}`",
            example(field)
        );
        if input.is_empty() || input.peek(Token![,]) {
            errors.push(Error::new_spanned(key, message));
        } else {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(first_token(stray), message));
        }
        return Value::Broken;
    }
    let Ok(word) = input.call(Ident::parse_any) else {
        return Value::Broken;
    };
    if input.peek(Token![::]) {
        let mut path = word.to_token_stream();
        let mut last = word.clone();
        while input.peek(Token![::]) {
            let Ok(separator) = input.parse::<Token![::]>() else {
                break;
            };
            separator.to_tokens(&mut path);
            let Ok(segment) = input.call(Ident::parse_any) else {
                break;
            };
            segment.to_tokens(&mut path);
            last = segment;
        }
        errors.push(Error::new_spanned(
            path,
            format!("write just the name, `{field}: {last}`, not a path"),
        ));
        return Value::Broken;
    }
    Value::Word(word)
}

fn example(field: &str) -> &'static str {
    match field {
        "capability" => "ReadOnlyFS",
        "resource" => "Fast",
        "safety" => "HumanReviewRequired",
        "confirmation" => "Routine",
        _ => "Stable",
    }
}

/// The value of `help:`, `long_help:` or `deprecated:`: one string literal.
fn string_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    let field = &key.to_string();
    if input.peek(LitStr) {
        return match string(input, errors) {
            Ok(text) => Value::Text(text),
            Err(_) => Value::Broken,
        };
    }
    let message = format!("expected a string after `{field}:`, e.g. `{field}: \"…\"`");
    if input.is_empty() || input.peek(Token![,]) {
        errors.push(Error::new_spanned(key, message));
    } else {
        let stray = skip_to_comma(input);
        errors.push(Error::new_spanned(first_token(stray), message));
    }
    Value::Broken
}

/// The value of `aliases:`: `["ls", "l"]`.
fn strings_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    let field = key.to_string();
    let message = format!("expected a list of strings after `{field}:`, e.g. `{field}: [\"ls\"]`");
    if !input.peek(token::Bracket) {
        if input.is_empty() || input.peek(Token![,]) {
            errors.push(Error::new_spanned(key, message));
        } else {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(first_token(stray), message));
        }
        return Value::Broken;
    }
    let Ok(content) = brackets(input) else {
        return Value::Broken;
    };
    let mut list = Vec::new();
    while !content.is_empty() {
        if content.peek(LitStr) {
            match string(&content, errors) {
                Ok(text) => list.push(text),
                Err(_) => return Value::Broken,
            }
        } else {
            let stray = skip_to_comma(&content);
            errors.push(Error::new_spanned(first_token(stray), &message));
            return Value::Broken;
        }
        if !content.is_empty() && !eat_comma(&content) {
            let stray = skip_to_comma(&content);
            errors.push(Error::new_spanned(
                first_token(stray),
                "strings in a list are separated by `,`",
            ));
            return Value::Broken;
        }
    }
    Value::Strings(list)
}

/// The value of `output:`: a type.
fn type_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    let message = "expected the type the verb returns as its structured output after `output:`, e.g. `output: Added` (a type implementing `OutputSchema`)";
    if input.is_empty() || input.peek(Token![,]) || input.peek(LitStr) {
        errors.push(Error::new_spanned(key, message));
        skip_to_comma(input);
        return Value::Broken;
    }
    match input.parse::<Type>() {
        Ok(ty) => Value::Type(ty),
        Err(_) => {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(first_token(stray), message));
            Value::Broken
        }
    }
}

/// The value of `groups:`: `[ name: [a, b] required multiple, … ]`.
fn groups_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    const EXAMPLE: &str = "`groups: [output: [json, yaml] required]`";
    if !input.peek(token::Bracket) {
        let message = format!("expected `[ … ]` after `groups:`, e.g. {EXAMPLE}");
        if input.is_empty() || input.peek(Token![,]) {
            errors.push(Error::new_spanned(key, message));
        } else {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(first_token(stray), message));
        }
        return Value::Broken;
    }
    let Ok(content) = brackets(input) else {
        return Value::Broken;
    };
    let mut groups = Vec::new();
    while !content.is_empty() {
        match group(&content) {
            Ok(group) => groups.push(group),
            Err(error) => {
                errors.push(error);
                skip_to_comma(&content);
                eat_comma(&content);
                return Value::Broken;
            }
        }
        if !content.is_empty() && !eat_comma(&content) {
            let stray = skip_to_comma(&content);
            errors.push(Error::new_spanned(
                first_token(stray),
                format!("expected `,` between groups, `required` or `multiple` after a group's list, e.g. {EXAMPLE}"),
            ));
            return Value::Broken;
        }
    }
    Value::Groups(groups)
}

/// One group: `name: [a, b] required multiple`.
fn group(input: ParseStream<'_>) -> syn::Result<Group> {
    let mut tokens = TokenStream::new();
    let text = kebab(input, &mut tokens).map_err(|_| {
        Error::new(
            input.span(),
            "expected a group: `name: [argument, argument]`, e.g. `output: [json, yaml]`",
        )
    })?;
    let name = Name { text, tokens };
    if !input.peek(Token![:]) || input.peek(Token![::]) {
        return Err(Error::new_spanned(
            &name.tokens,
            format!(
                "expected `:` and the group's arguments after `{}`, e.g. `{}: [json, yaml]`",
                name.text, name.text
            ),
        ));
    }
    input.parse::<Token![:]>()?;
    let (args, list_tokens) = names_list(input, "the group's arguments")?;
    let mut required = false;
    let mut multiple = false;
    while input.peek(Ident::peek_any) {
        let word = input.call(Ident::parse_any)?;
        match word.to_string().as_str() {
            "required" if !required => required = true,
            "multiple" if !multiple => multiple = true,
            other => {
                let hint = suggest(other, &["required", "multiple"])
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(Error::new_spanned(
                    word,
                    format!(
                        "unknown word `{other}`{hint} after a group's list; a group may say `required` (at least one is given) and `multiple` (several may be given), once each"
                    ),
                ));
            }
        }
    }
    Ok(Group {
        name,
        args,
        list_tokens,
        required,
        multiple,
    })
}

/// `[a, dry-run]`: argument names written bare, and the tokens of the whole list.
fn names_list(input: ParseStream<'_>, what: &str) -> syn::Result<(Vec<Name>, TokenStream)> {
    if !input.peek(token::Bracket) {
        return Err(Error::new(
            input.span(),
            format!("expected {what} in brackets, e.g. `[json, yaml]`"),
        ));
    }
    let content;
    let bracket = syn::bracketed!(content in input);
    let mut names = Vec::new();
    while !content.is_empty() {
        let mut tokens = TokenStream::new();
        if content.peek(Token![-]) {
            return Err(Error::new(
                content.span(),
                "name arguments without dashes here: `[json, dry-run]`, not `[--json]`",
            ));
        }
        let text = kebab(&content, &mut tokens)?;
        names.push(Name { text, tokens });
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    let mut tokens = TokenStream::new();
    bracket.surround(&mut tokens, |inner| {
        for name in &names {
            name.tokens.to_tokens(inner);
        }
    });
    Ok((names, tokens))
}

/// The value of `args:`: `[ arg, arg, … ]`.
fn args_value(input: ParseStream<'_>, errors: &mut Vec<Error>, key: &Ident) -> Value {
    if !input.peek(token::Bracket) {
        let message = "expected `[ … ]` after `args:`, e.g. `args: [path: PathBuf \"The file\", --force: bool \"Overwrite\"]`";
        if input.is_empty() || input.peek(Token![,]) {
            errors.push(Error::new_spanned(key, message));
        } else {
            let stray = skip_to_comma(input);
            errors.push(Error::new_spanned(first_token(stray), message));
        }
        return Value::Broken;
    }
    let content = match brackets(input) {
        Ok(content) => content,
        Err(error) => {
            errors.push(error);
            return Value::Broken;
        }
    };
    let mut args = Args::default();
    let mut semicolons = Semicolons::default();
    while !content.is_empty() {
        if content.peek(Token![..]) {
            let mut tokens = TokenStream::new();
            let parsed = content
                .parse::<Token![..]>()
                .map(|dots| dots.to_tokens(&mut tokens))
                .and_then(|()| kebab(&content, &mut tokens));
            match parsed {
                Ok(text) => args.uses.push((args.list.len(), Name { text, tokens })),
                Err(_) => {
                    errors.push(Error::new_spanned(
                        &tokens,
                        "expected a set's name after `..`, e.g. `..folder`",
                    ));
                    args.poisoned = true;
                    skip_to_comma(&content);
                }
            }
        } else {
            match arg(&content, errors) {
                Ok(arg) => {
                    args.poisoned |= arg.broken;
                    args.list.push(arg);
                }
                Err(error) => {
                    errors.push(error);
                    args.poisoned = true;
                    skip_to_comma(&content);
                }
            }
        }
        if content.is_empty()
            || eat_comma(&content)
            || semicolons.eat(&content, errors, "arguments")
        {
            continue;
        }
        let stray = skip_to_comma(&content);
        errors.push(Error::new_spanned(
            first_token(stray),
            "unexpected tokens after the argument's help text; arguments are separated by `,`",
        ));
        args.poisoned = true;
        eat_comma(&content);
    }
    Value::Args(args)
}

/// One argument: `name: Type (= default)? "help"`, with `--name` or `-s --name` for a
/// named one.
fn arg(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Arg> {
    let mut name_tokens = TokenStream::new();
    let mut short = None;
    let positional = !input.peek(Token![-]);
    if !positional {
        let dash: Token![-] = input.parse()?;
        if input.peek(Token![-]) {
            dash.to_tokens(&mut name_tokens);
            input.parse::<Token![-]>()?.to_tokens(&mut name_tokens);
        } else {
            let letter = input.call(Ident::parse_any).map_err(|_| {
                Error::new(
                    input.span(),
                    "expected a short flag such as `-t` or a long one such as `--timeout-ms`",
                )
            })?;
            let mut tokens = dash.to_token_stream();
            letter.to_tokens(&mut tokens);
            if !input.peek(Token![-]) {
                return Err(Error::new_spanned(
                    tokens,
                    format!(
                        "a short flag needs a long name after it: `-{letter} --name: Type \"help\"`"
                    ),
                ));
            }
            short = Some((letter.to_string(), tokens));
            input.parse::<Token![-]>()?.to_tokens(&mut name_tokens);
            if !input.peek(Token![-]) {
                return Err(Error::new(
                    input.span(),
                    "expected `--` and the long name after the short flag",
                ));
            }
            input.parse::<Token![-]>()?.to_tokens(&mut name_tokens);
        }
    }
    let name = kebab(input, &mut name_tokens)?;
    if !input.peek(Token![:]) || input.peek(Token![::]) {
        return Err(Error::new(
            input.span(),
            format!("expected `:` and the value type after `{name}`, e.g. `{name}: String \"…\"`"),
        ));
    }
    let colon: Token![:] = input.parse()?;
    if input.is_empty() || input.peek(Token![,]) || input.peek(LitStr) || input.peek(Token![=]) {
        return Err(Error::new_spanned(
            colon,
            format!("expected the value type after `{name}:`, e.g. `{name}: String \"…\"`"),
        ));
    }
    let ty: Type = input.parse()?;
    let mut arg = Arg {
        name,
        name_tokens,
        short,
        positional,
        ty,
        default: None,
        values: None,
        env: None,
        value_name: None,
        aliases: Vec::new(),
        count: None,
        conflicts_with: Vec::new(),
        requires: Vec::new(),
        range: None,
        hidden: None,
        mcp: None,
        help: None,
        broken: false,
        from_set: None,
    };
    // From here on the argument has a name and a type, so its field exists whatever
    // follows: a mistake is reported, the rest of the argument skipped, and the argument
    // kept (marked broken).
    if let Err(error) = clauses(input, errors, &mut arg) {
        errors.push(error);
        arg.broken = true;
        skip_to_comma(input);
    }
    Ok(arg)
}

/// The default, the clauses and the help of `arg`, after its type.
fn clauses(input: ParseStream<'_>, errors: &mut Vec<Error>, arg: &mut Arg) -> syn::Result<()> {
    let name = arg.name.clone();
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        arg.default = Some(default_value(input, errors)?);
    }
    loop {
        if input.peek(LitStr) {
            arg.help = Some(string(input, errors)?);
            return Ok(());
        }
        if input.is_empty() || input.peek(Token![,]) {
            let message = format!(
                "argument `{name}` needs a help text after its type{}, e.g. `{name}: {} \"what it is\"`",
                if arg.default.is_some() {
                    " and default"
                } else {
                    ""
                },
                crate::types::type_name(&arg.ty),
            );
            arg.broken = true;
            errors.push(Error::new_spanned(&arg.name_tokens, message));
            return Ok(());
        }
        if input.peek(Token![in]) {
            let clause = possible_values(input, errors, &name)?;
            if arg.values.is_some() {
                return Err(twice(&clause.tokens, "in"));
            }
            arg.values = Some(clause);
            continue;
        }
        if !input.peek(Ident::peek_any) {
            return Err(Error::new(
                input.span(),
                format!(
                    "expected the help text of `{name}` (a string), or a clause before it: {}",
                    list(ARG_CLAUSES)
                ),
            ));
        }
        let keyword = input.call(Ident::parse_any)?;
        match keyword.to_string().as_str() {
            "env" => {
                let value = clause_string(
                    input,
                    errors,
                    &keyword,
                    &format!("{name}: PathBuf env \"NOTES_DIR\" \"…\""),
                )?;
                set_once(&mut arg.env, value, &keyword)?;
            }
            "value_name" => {
                let value = clause_string(
                    input,
                    errors,
                    &keyword,
                    &format!("--{name}: u8 value_name \"LEVEL\" \"…\""),
                )?;
                set_once(&mut arg.value_name, value, &keyword)?;
            }
            "alias" => {
                let value = clause_string(
                    input,
                    errors,
                    &keyword,
                    &format!("--{name}: u8 alias \"lvl\" \"…\""),
                )?;
                arg.aliases.push(value);
            }
            "count" => set_once(&mut arg.count, keyword.clone(), &keyword)?,
            "hidden" => set_once(&mut arg.hidden, keyword.clone(), &keyword)?,
            "mcp" => set_once(&mut arg.mcp, keyword.clone(), &keyword)?,
            "conflicts_with" | "requires" => {
                let (names, _) = names_list(input, &format!("the arguments after `{keyword}`"))?;
                let list = if keyword == "requires" {
                    &mut arg.requires
                } else {
                    &mut arg.conflicts_with
                };
                if !list.is_empty() {
                    return Err(twice(&keyword, &keyword.to_string()));
                }
                *list = names;
            }
            "range" => {
                let range = range_clause(input, &keyword)?;
                if arg.range.is_some() {
                    return Err(twice(&keyword, "range"));
                }
                arg.range = Some(range);
            }
            other => {
                let hint = suggest(other, ARG_CLAUSES)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(Error::new_spanned(
                    &keyword,
                    format!(
                        "unknown clause `{other}`{hint} in argument `{name}`; after the type (and default) come {}, then the help text",
                        list(ARG_CLAUSES)
                    ),
                ));
            }
        }
    }
}

/// The string after `env`, `value_name` or `alias`.
fn clause_string(
    input: ParseStream<'_>,
    errors: &mut Vec<Error>,
    keyword: &Ident,
    example: &str,
) -> syn::Result<LitStr> {
    if !input.peek(LitStr) {
        return Err(Error::new_spanned(
            keyword,
            format!("expected a string after `{keyword}`, e.g. `{example}`"),
        ));
    }
    string(input, errors)
}

/// `slot = value`, or an error when the clause was given already.
fn set_once<T>(slot: &mut Option<T>, value: T, keyword: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        return Err(twice(keyword, &keyword.to_string()));
    }
    *slot = Some(value);
    Ok(())
}

fn twice(tokens: &impl ToTokens, clause: &str) -> Error {
    Error::new_spanned(
        tokens,
        format!("`{clause}` is given twice in this argument; keep one"),
    )
}

/// `range 1..=10`, `range 1..`, `range ..=10` or `range 1..11`, as inclusive bounds.
fn range_clause(input: ParseStream<'_>, keyword: &Ident) -> syn::Result<RangeClause> {
    const EXAMPLE: &str = "e.g. `range 1..=10`, `range 1..` or `range ..=10`";
    let mut tokens = keyword.to_token_stream();
    let bound = |input: ParseStream<'_>, tokens: &mut TokenStream| -> syn::Result<i128> {
        let negative = if input.peek(Token![-]) {
            input.parse::<Token![-]>()?.to_tokens(tokens);
            true
        } else {
            false
        };
        let digits: syn::LitInt = input.parse().map_err(|_| {
            Error::new(
                input.span(),
                format!("expected an integer bound, {EXAMPLE}"),
            )
        })?;
        digits.to_tokens(tokens);
        let text = if negative {
            format!("-{}", digits.base10_digits())
        } else {
            digits.base10_digits().to_owned()
        };
        text.parse::<i128>().map_err(|_| {
            Error::new_spanned(&digits, "this bound is beyond every integer type's values")
        })
    };
    let min = if input.peek(Token![..]) || input.peek(Token![..=]) {
        None
    } else {
        Some(bound(input, &mut tokens)?)
    };
    let max = if input.peek(Token![..=]) {
        input.parse::<Token![..=]>()?.to_tokens(&mut tokens);
        Some(bound(input, &mut tokens)?)
    } else if input.peek(Token![..]) {
        input.parse::<Token![..]>()?.to_tokens(&mut tokens);
        if input.peek(syn::LitInt) || input.peek(Token![-]) {
            // `1..11`: up to 10.
            let end = bound(input, &mut tokens)?;
            Some(
                end.checked_sub(1)
                    .ok_or_else(|| Error::new_spanned(&tokens, "this range holds no value"))?,
            )
        } else {
            None
        }
    } else {
        return Err(Error::new(
            input.span(),
            format!("expected `..=` or `..` in the range, {EXAMPLE}"),
        ));
    };
    if min.is_none() && max.is_none() {
        return Err(Error::new_spanned(
            &tokens,
            format!("a range needs at least one bound, {EXAMPLE}"),
        ));
    }
    Ok(RangeClause { min, max, tokens })
}

/// `in ["name", "date"]`: the only values an argument accepts, each written like a
/// default.
fn possible_values(
    input: ParseStream<'_>,
    errors: &mut Vec<Error>,
    name: &str,
) -> syn::Result<PossibleValues> {
    let keyword: Token![in] = input.parse()?;
    let mut tokens = keyword.to_token_stream();
    if !input.peek(token::Bracket) {
        if input.peek(LitStr) || input.is_empty() || input.peek(Token![,]) {
            return Err(Error::new_spanned(
                keyword,
                format!(
                    "expected a list or a type after `in`, e.g. `{name}: String = \"name\" in [\"name\", \"date\"] \"…\"` or `{name}: Sort = \"name\" in Sort \"…\"`"
                ),
            ));
        }
        let ty: Type = input.parse()?;
        ty.to_tokens(&mut tokens);
        return Ok(PossibleValues {
            values: Vec::new(),
            from: Some(ty),
            tokens,
        });
    }
    let content;
    let bracket = syn::bracketed!(content in input);
    let mut values = Vec::new();
    while !content.is_empty() {
        let value = default_value(&content, errors)?;
        if value.constant.is_some() {
            return Err(Error::new_spanned(
                &value.tokens,
                "a possible value is a literal a user types (`\"name\"`, `3`); a list from a type is written `in Type`",
            ));
        }
        values.push(value);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    bracket.surround(&mut tokens, |inner| {
        for value in &values {
            value.tokens.to_tokens(inner);
        }
    });
    Ok(PossibleValues {
        values,
        from: None,
        tokens,
    })
}

/// A kebab-case name as tokens: `timeout-ms` is `timeout`, `-`, `ms`. Checked for case
/// and form by validation; this only collects it.
fn kebab(input: ParseStream<'_>, tokens: &mut TokenStream) -> syn::Result<String> {
    let first = input.call(Ident::parse_any).map_err(|_| {
        Error::new(input.span(), "expected the argument's name, e.g. `path: PathBuf \"The file\"` or `--force: bool \"Overwrite\"`")
    })?;
    let mut name = first.to_string();
    first.to_tokens(tokens);
    while input.peek(Token![-]) && (input.peek2(Ident::peek_any) || input.peek2(syn::LitInt)) {
        input.parse::<Token![-]>()?.to_tokens(tokens);
        name.push('-');
        if input.peek(syn::LitInt) {
            let digits: syn::LitInt = input.parse()?;
            name.push_str(&digits.to_string());
            digits.to_tokens(tokens);
        } else {
            let word = input.call(Ident::parse_any)?;
            name.push_str(&word.to_string());
            word.to_tokens(tokens);
        }
    }
    Ok(name)
}

/// `500`, `-1`, `0.5`, `true`, `'x'` or `"text"`.
fn default_value(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<DefaultValue> {
    let mut tokens = TokenStream::new();
    let negative = if input.peek(Token![-]) {
        input.parse::<Token![-]>()?.to_tokens(&mut tokens);
        true
    } else {
        false
    };
    if !negative && !input.peek(Lit) && input.peek(Ident::peek_any) {
        let path = input.call(Path::parse_mod_style)?;
        path.to_tokens(&mut tokens);
        // A mod-style path (`limits::MAX`) needs no space anywhere.
        let text = path.to_token_stream().to_string().replace(' ', "");
        return Ok(DefaultValue {
            text,
            tokens,
            constant: Some(path),
        });
    }
    let literal: Lit = input.parse().map_err(|_| {
        Error::new(
            input.span(),
            "expected a default after `=`: a literal such as `500`, `true` or `\"text\"`, or a constant such as `MAX_RETRIES`",
        )
    })?;
    literal.to_tokens(&mut tokens);
    if matches!(literal, Lit::Str(_) | Lit::Char(_)) {
        refuse_suffix(&literal, literal.suffix(), errors);
    }
    let text = match &literal {
        Lit::Int(int) if !negative || int.suffix().is_empty() || int.suffix().starts_with('i') => {
            int.base10_digits().to_string()
        }
        Lit::Float(float) => float.base10_digits().to_string(),
        Lit::Str(text) if !negative => text.value(),
        Lit::Bool(flag) if !negative => flag.value.to_string(),
        Lit::Char(letter) if !negative => letter.value().to_string(),
        _ => {
            return Err(Error::new_spanned(
                tokens,
                "this default cannot be typed on a command line; use a number, `true`/`false`, a char or a string",
            ));
        }
    };
    let text = if negative { format!("-{text}") } else { text };
    Ok(DefaultValue {
        text,
        tokens,
        constant: None,
    })
}

/// A string literal. A suffix (`"text"sfx`) is reported on the literal, and the string
/// still counts, so nothing is reported missing after it.
fn string(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<LitStr> {
    let text: LitStr = input.parse()?;
    refuse_suffix(&text, text.suffix(), errors);
    Ok(text)
}

/// Reports the suffix of a string or char literal: Rust accepts one on any literal,
/// and it would be silently dropped.
fn refuse_suffix(literal: &impl ToTokens, suffix: &str, errors: &mut Vec<Error>) {
    if !suffix.is_empty() {
        errors.push(Error::new_spanned(
            literal,
            format!("unexpected suffix `{suffix}` after this literal; remove it"),
        ));
    }
}

/// Consumes tokens up to (not including) the next `,` outside angle brackets, and
/// returns them.
fn skip_to_comma(input: ParseStream<'_>) -> TokenStream {
    let mut skipped = TokenStream::new();
    let mut depth = 0usize;
    while !input.is_empty() {
        if depth == 0 && input.peek(Token![,]) {
            break;
        }
        let Ok(token) = input.parse::<TokenTree>() else {
            break;
        };
        if let TokenTree::Punct(p) = &token {
            match p.as_char() {
                '<' => depth += 1,
                '>' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        skipped.extend([token]);
    }
    skipped
}

/// Consumes tokens up to the next `noun` or `verb` keyword.
fn skip_to_item(input: ParseStream<'_>) {
    while !input.is_empty() && !peek_word(input, "noun") && !peek_word(input, "verb") {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// Consumes a `,` if one is next.
fn eat_comma(input: ParseStream<'_>) -> bool {
    input.peek(Token![,]) && input.parse::<Token![,]>().is_ok()
}

fn first_token(tokens: TokenStream) -> TokenStream {
    tokens.into_iter().next().into_iter().collect()
}

fn peek_word(input: ParseStream<'_>, word: &str) -> bool {
    input
        .cursor()
        .ident()
        .is_some_and(|(ident, _)| ident == word)
}

fn peek_word_token(token: &TokenTree, word: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident == word)
}

fn braces<'a>(input: ParseStream<'a>) -> syn::Result<ParseBuffer<'a>> {
    let content;
    syn::braced!(content in input);
    Ok(content)
}

fn brackets<'a>(input: ParseStream<'a>) -> syn::Result<ParseBuffer<'a>> {
    let content;
    syn::bracketed!(content in input);
    Ok(content)
}
