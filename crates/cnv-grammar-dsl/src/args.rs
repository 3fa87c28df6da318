//! The item form's typed arguments: one module per noun, one struct per verb, each
//! implementing `cnv_cli::VerbArgs`, written from the syntax tree so that they exist (and
//! user code that names them reports nothing more) even when the grammar has a mistake.
//!
//! `noun "file"` becomes `mod file`, `verb "dry-run"` becomes `struct DryRun`, argument
//! `timeout-ms` becomes the field `timeout_ms`; a name that is a Rust keyword is written
//! raw (`r#type`), and `self`, `super`, `crate` and `Self`, which cannot be, are refused.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Ident, LitStr};

use cnv_caps::CapabilityClass;
use cnv_grammar::rules::Scalar;

use crate::ast::{Arg, Grammar, Item, Noun, Slot, Verb};
use crate::types::{Shape, shape, type_name};
use crate::vocab;

/// Every noun module of `grammar`, with `vis`, for the code at `cli` (the `cnv-cli` crate).
/// Names that cannot be Rust identifiers are errors in `errors`.
#[must_use]
pub fn modules(
    cli: &TokenStream,
    vis: &syn::Visibility,
    name: &Ident,
    grammar: &Grammar,
    errors: &mut Vec<Error>,
) -> TokenStream {
    let globals: Vec<&Arg> = match &grammar.app.args {
        Slot::Given(args) => args.list.iter().collect(),
        Slot::Absent | Slot::Broken => Vec::new(),
    };
    let mut out = TokenStream::new();
    let mut verbs = Vec::new();
    for item in &grammar.app.items {
        if let Item::Noun(noun) = item {
            out.extend(noun_module(
                cli,
                vis,
                name,
                noun,
                &[],
                &globals,
                &mut verbs,
                errors,
            ));
        }
    }
    out.extend(handlers(cli, vis, name, &verbs));
    out
}

/// A verb whose struct the item form generated, for the builder's type-state.
struct Generated {
    /// `note add`.
    command: String,
    /// `note::Add`, from the static's module.
    path: TokenStream,
    /// The verb's class, when the grammar names a known one.
    class: Option<CapabilityClass>,
    /// Where the verb is named (where the compiler points to say who has a handler).
    span: Span,
}

/// The type-state of a command line made from the grammar `name`: `Handlers<P0, …>`, one
/// parameter per verb (`Bound` or `Unbound`), each verb's struct moving its own parameter
/// to `Bound` when its handler is bound, and `build` allowed only when every parameter is
/// `Bound` (each verb's trait says, when it is not, which verb has no handler).
fn handlers(
    cli: &TokenStream,
    vis: &syn::Visibility,
    name: &Ident,
    verbs: &[Generated],
) -> TokenStream {
    if verbs.is_empty() {
        return TokenStream::new();
    }
    let module = format_ident!("__cnv_handlers_of_{}", name);
    let params: Vec<Ident> = (0..verbs.len()).map(|i| format_ident!("P{i}")).collect();
    let mut traits = Vec::new();
    let mut trait_names: Vec<Ident> = Vec::new();
    let mut steps = TokenStream::new();
    for (index, verb) in verbs.iter().enumerate() {
        let mut trait_name =
            format_ident!("{}Handler", pascal_case(&verb.command.replace(' ', "-")));
        if trait_names.contains(&trait_name) {
            trait_name = format_ident!("{}{}", trait_name, index);
        }
        let command = &verb.command;
        let path = &verb.path;
        let message = format!("`{command}` has no handler");
        let label = format!("this command line has no handler for `{command}`");
        let call = verb.class.map_or_else(String::new, |class| {
            format!("call: &Invocation<'_, {}>, ", class.name())
        });
        let struct_name = path.to_string().replace(' ', "");
        let note = format!(
            "bind one with `.bind(handler)`, where `fn handler({call}args: {struct_name}) -> Result<Output, HandlerError>`; a command line that binds a verb by name (`bind_verb`, `handler`) has its handlers checked when it is built instead"
        );
        let doc = format!("Implemented by `Bound` only: `{command}` has a handler.");
        traits.push(quote_spanned! {verb.span=>
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            pub trait #trait_name {}
            impl #trait_name for #cli::Bound {}
        });
        let first: Vec<TokenStream> = (0..verbs.len())
            .map(|i| {
                if i == index {
                    quote!(#cli::Bound)
                } else {
                    quote!(#cli::Unbound)
                }
            })
            .collect();
        let next: Vec<TokenStream> = params
            .iter()
            .enumerate()
            .map(|(i, param)| {
                if i == index {
                    quote!(#cli::Bound)
                } else {
                    quote!(#param)
                }
            })
            .collect();
        steps.extend(quote! {
            impl #cli::BindStep<#cli::NothingBound> for #path {
                type Next = Handlers<#(#first),*>;
            }
            impl<#(#params),*> #cli::BindStep<Handlers<#(#params),*>> for #path {
                type Next = Handlers<#(#next),*>;
            }
        });
        trait_names.push(trait_name);
    }
    // Spanned on the static's name: "required for `Handlers<…>` to implement
    // `Buildable`" points at the grammar.
    let buildable = quote_spanned! {name.span()=>
        impl<#(#params),*> #cli::Buildable for Handlers<#(#params),*>
        where
            #(#params: #trait_names,)*
        {
        }
    };
    let commands: Vec<&str> = verbs.iter().map(|verb| verb.command.as_str()).collect();
    let doc = format!(
        "The handlers bound so far to a command line made from `{name}`: one parameter per verb, `Bound` or `Unbound`, in the grammar's order ({}). `CliBuilder::build` is there when every one is `Bound` (generated by `grammar_dsl!`).",
        commands.join(", ")
    );
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, missing_debug_implementations, unreachable_pub, dead_code)]
        #vis mod #module {
            #[allow(unused_imports)]
            use super::*;

            #[doc = #doc]
            pub struct Handlers<#(#params),*>(::core::marker::PhantomData<(#(#params,)*)>);

            #(#traits)*

            #buildable

            #steps
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the recursion carries the grammar's context down the nouns"
)]
fn noun_module(
    cli: &TokenStream,
    vis: &syn::Visibility,
    grammar: &Ident,
    noun: &Noun,
    path: &[String],
    globals: &[&Arg],
    verbs: &mut Vec<Generated>,
    errors: &mut Vec<Error>,
) -> TokenStream {
    let name = noun.name.value();
    let Some(module) = ident(&name.replace('-', "_"), &noun.name, "noun", errors) else {
        return TokenStream::new();
    };
    let mut path = path.to_vec();
    path.push(name.clone());
    let mut body = TokenStream::new();
    for item in &noun.items {
        match item {
            Item::Noun(nested) => {
                body.extend(noun_module(
                    cli,
                    &pub_vis(),
                    grammar,
                    nested,
                    &path,
                    globals,
                    verbs,
                    errors,
                ));
            }
            Item::Verb(verb) => {
                body.extend(verb_struct(
                    cli, grammar, verb, &path, globals, verbs, errors,
                ));
            }
        }
    }
    let doc = format!(
        "The typed arguments of the verbs of `{}`, one struct per verb (generated by `grammar_dsl!`).",
        path.join(" ")
    );
    quote! {
        #[doc = #doc]
        #[allow(unused_imports, non_snake_case)]
        #vis mod #module {
            use super::*;
            #body
        }
    }
}

/// `pub`, for what is inside a noun module (the module's own visibility caps it).
fn pub_vis() -> syn::Visibility {
    syn::parse_quote!(pub)
}

fn verb_struct(
    cli: &TokenStream,
    grammar: &Ident,
    verb: &Verb,
    nouns: &[String],
    globals: &[&Arg],
    verbs: &mut Vec<Generated>,
    errors: &mut Vec<Error>,
) -> TokenStream {
    let name = verb.name.value();
    let Some(ty) = ident(&pascal_case(&name), &verb.name, "verb", errors) else {
        return TokenStream::new();
    };
    let command = format!("{} {name}", nouns.join(" "));
    let help = verb
        .fields
        .help
        .given()
        .map(LitStr::value)
        .unwrap_or_default();
    let args: Vec<&Arg> = match &verb.fields.args {
        Slot::Given(args) => args.list.iter().collect(),
        Slot::Absent | Slot::Broken => Vec::new(),
    };
    let mut fields = Vec::new();
    let mut configure = Vec::new();
    let mut reads = Vec::new();
    let mut names = Vec::new();
    // The verb's own arguments, then the program's global ones (each verb's struct holds
    // them too, so a handler reads `--verbose` like any other argument).
    let own = args.len();
    for (index, arg) in args.iter().chain(globals).enumerate() {
        let global = index >= own;
        let Some(field) = ident(
            &arg.name.replace('-', "_"),
            &arg.name_tokens,
            "argument",
            errors,
        ) else {
            continue;
        };
        let arg_name = &arg.name;
        names.push(arg_name.clone());
        let (shape, inner) = shape(&arg.ty);
        // A nested `Option`/`Vec` was refused by validation; its field is left out rather
        // than reported again.
        if shape != Shape::One && crate::types::shape(inner).0 != Shape::One {
            continue;
        }
        let scalar = Scalar::of(&type_name(inner));
        let switch = !arg.positional && scalar == Scalar::Bool;
        let span = arg.ty.span();
        let field_ty: TokenStream = match shape {
            _ if switch => quote!(bool),
            Shape::One => quote!(#inner),
            Shape::Optional => quote!(::core::option::Option<#inner>),
            Shape::Repeated => quote!(::std::vec::Vec<#inner>),
        };
        let doc = arg.help.as_ref().map(LitStr::value).unwrap_or_default();
        fields.push(quote! {
            #[doc = #doc]
            pub #field: #field_ty,
        });
        let read = match shape {
            _ if switch => {
                quote_spanned!(span=> #cli::__private::switch(matches, #command, #arg_name)?)
            }
            // A global argument is declared on the program's root, where no verb's
            // `configure` reaches: its text is parsed here, with the same `FromStr`.
            Shape::One if global => {
                quote_spanned!(span=> #cli::__private::global_one::<#inner>(matches, #command, #arg_name)?)
            }
            Shape::Optional if global => {
                quote_spanned!(span=> #cli::__private::global_optional::<#inner>(matches, #command, #arg_name)?)
            }
            Shape::Repeated if global => {
                quote_spanned!(span=> #cli::__private::global_many::<#inner>(matches, #command, #arg_name)?)
            }
            Shape::One => {
                quote_spanned!(span=> <#inner as #cli::ArgValue>::__one(matches, #command, #arg_name)?)
            }
            Shape::Optional => {
                quote_spanned!(span=> <#inner as #cli::ArgValue>::__optional(matches, #command, #arg_name)?)
            }
            Shape::Repeated => {
                quote_spanned!(span=> <#inner as #cli::ArgValue>::__many(matches, #command, #arg_name)?)
            }
        };
        reads.push(quote!(#field: #read,));
        // Numbers, `bool` and `char` already have clap's own typed parsers (the
        // grammar's scalar table); every other type is parsed with its `FromStr`.
        if scalar == Scalar::Text && !global {
            configure.push(quote_spanned! {span=>
                let parser = <#inner as #cli::ArgValue>::__among(
                    #cli::__private::possible_values(&command, #arg_name),
                );
                let command = #cli::__private::with_parser(command, #arg_name, parser);
            });
        }
    }
    let class = match &verb.fields.capability {
        Slot::Given(word) => vocab::exact::<CapabilityClass>(&word.to_string()),
        Slot::Absent | Slot::Broken => None,
    };
    let doc = format!("The arguments of `{command}`: {help}");
    let definition = quote! {
        #[doc = #doc]
        #[derive(Clone)]
        #[allow(missing_debug_implementations)]
        pub struct #ty {
            #(#fields)*
        }
    };
    let modules = nouns
        .iter()
        .map(|noun| format_ident!("{}", noun.replace('-', "_")));
    verbs.push(Generated {
        command: command.clone(),
        path: quote!(#(#modules::)* #ty),
        class,
        span: verb.name.span(),
    });
    // An unknown or missing class was reported by validation; the struct still binds to a
    // handler of any class (with `Pure` for one that takes the arguments alone), so code
    // that uses it reports nothing more: one mistake, one error.
    let of_class = match class {
        Some(class) => {
            let class = format_ident!("{}", class.name());
            quote!(impl #cli::OfClass<#cli::__private::caps::#class> for #ty {})
        }
        None => quote! {
            impl<C: #cli::__private::caps::ConstRisk> #cli::OfClass<C> for #ty {}
        },
    };
    let class = format_ident!("{}", class.unwrap_or(CapabilityClass::Pure).name());
    // The struct sits in one module per noun: the grammar's static is that many levels up.
    let supers = nouns.iter().map(|_| format_ident!("super"));
    quote! {
        #definition

        #of_class

        impl #cli::VerbArgs for #ty {
            type Class = #cli::__private::caps::#class;
            const COMMAND: &'static str = #command;
            const ARGS: &'static [&'static str] = &[#(#names),*];

            fn grammar() -> &'static #cli::__private::GrammarModel {
                &#(#supers::)* #grammar
            }

            fn configure(command: #cli::__private::Command) -> #cli::__private::Command {
                #(#configure)*
                command
            }

            fn from_matches(
                matches: &#cli::__private::ArgMatches,
            ) -> ::core::result::Result<Self, #cli::ArgError> {
                ::core::result::Result::Ok(Self { #(#reads)* })
            }
        }
    }
}

/// `name` as a Rust identifier spanned on `token`: raw when it is a keyword, `None` (and
/// an error) when it cannot be one at all.
fn ident(
    name: &str,
    token: &impl quote::ToTokens,
    what: &str,
    errors: &mut Vec<Error>,
) -> Option<Ident> {
    let span = token
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    if matches!(name, "self" | "super" | "crate" | "Self") {
        errors.push(Error::new_spanned(
            token,
            format!(
                "the {what} name becomes the Rust name `{name}` in the typed arguments of the item form, which Rust keeps for itself; rename the {what}"
            ),
        ));
        return None;
    }
    Some(match syn::parse_str::<Ident>(name) {
        Ok(_) => Ident::new(name, span),
        Err(_) => Ident::new_raw(name, span),
    })
}

/// `dry-run` -> `DryRun`.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_rust_names() {
        assert_eq!(pascal_case("write"), "Write");
        assert_eq!(pascal_case("dry-run"), "DryRun");
        assert_eq!(pascal_case("ipv4"), "Ipv4");
        let mut errors = Vec::new();
        let token = LitStr::new("type", Span::call_site());
        assert_eq!(
            ident("type", &token, "noun", &mut errors).map(|i| i.to_string()),
            Some("r#type".to_owned())
        );
        assert!(ident("self", &token, "noun", &mut errors).is_none());
        assert_eq!(errors.len(), 1);
    }
}
