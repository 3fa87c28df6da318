//! [`Model`] -> tokens: one constant expression that builds the `GrammarModel` from
//! `'static` data, so it can initialise a `let`, a `const` or a `static` and costs no
//! allocation and no start-up work.
//!
//! Each list becomes a named constant (`const __CNV_VERBS_3: &[GrammarVerb] = &[…];`)
//! inside a block, because only a constant's own initializer is promoted to `'static`.

use cnv_caps::Confirmation;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Type};

use crate::validate::{ArgModel, Model, NounModel, TypeTokens, VerbModel};

/// The default path of the `cnv-grammar` crate in generated code.
#[must_use]
pub fn default_crate() -> TokenStream {
    quote!(::cnv::grammar)
}

/// The default path of the `cnv-cli` crate in the item form's typed arguments.
#[must_use]
pub fn default_cli() -> TokenStream {
    quote!(::cnv::cli)
}

/// The grammar as a constant expression of type `GrammarModel`.
#[must_use]
pub fn model(krate: &TokenStream, model: &Model, checks: &TokenStream) -> TokenStream {
    let mut out = Emitter {
        krate,
        items: TokenStream::new(),
        next: 0,
    };
    let nouns = out.nouns(&model.nouns);
    let args = model.args.iter().map(|arg| out.argument(arg)).collect();
    let args = out.list("ARGS", quote!(#krate::GrammarArgument), args);
    let Emitter { items, .. } = out;
    let name = &model.name;
    let version = option(krate, model.version.as_deref());
    let help = option(krate, model.help.as_deref());
    let grammar = Ident::new("__CNV_GRAMMAR", Span::mixed_site());
    quote! {{
        #checks
        #items
        const #grammar: #krate::GrammarModel =
            #krate::GrammarModel::__from_static(#name, #version, #help, #args, #nouns);
        #grammar
    }}
}

/// The expansion after errors: the errors, the argument type checks (so a type that is
/// not `FromStr` is reported in the same compile) and an empty model of the right type,
/// so that code using the grammar reports nothing more.
#[must_use]
pub fn fallback(krate: &TokenStream, errors: Vec<Error>, checks: &TokenStream) -> TokenStream {
    let errors = errors.into_iter().map(|error| error.to_compile_error());
    quote! {{
        #(#errors)*
        #checks
        #krate::GrammarModel::__placeholder()
    }}
}

/// `const _: fn() = assert_value_type::<T>;` for each argument's value type, spanned on
/// the type so the compiler's message points at it.
#[must_use]
pub fn type_checks(krate: &TokenStream, types: &[&Type]) -> TokenStream {
    types
        .iter()
        .map(|ty| {
            quote_spanned! {ty.span()=>
                const _: fn() = #krate::__private::assert_value_type::<#ty>;
            }
        })
        .collect()
}

struct Emitter<'a> {
    krate: &'a TokenStream,
    items: TokenStream,
    next: usize,
}

impl Emitter<'_> {
    /// A fresh name for a list constant.
    fn name(&mut self, what: &str) -> Ident {
        self.next += 1;
        Ident::new(&format!("__CNV_{what}_{}", self.next), Span::mixed_site())
    }

    /// Emits `const NAME: &[T] = &[elements];` and returns `NAME`, or `&[]` when empty.
    fn list(&mut self, what: &str, ty: TokenStream, elements: Vec<TokenStream>) -> TokenStream {
        if elements.is_empty() {
            return quote!(&[]);
        }
        let name = self.name(what);
        self.items.extend(quote! {
            const #name: &[#ty] = &[#(#elements),*];
        });
        quote!(#name)
    }

    fn argument(&mut self, arg: &ArgModel) -> TokenStream {
        let krate = self.krate;
        let ArgModel {
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
            values_from,
        } = arg;
        let short = match short {
            Some(short) => quote!(#krate::__private::Some(#short)),
            None => quote!(#krate::__private::None),
        };
        let default_text = default.as_deref();
        let default_text_lit = default_text.unwrap_or_default();
        let default = option(krate, default.as_deref());
        let env = option(krate, env.as_deref());
        let values = values
            .iter()
            .map(|value| quote!(#krate::__private::Cow::Borrowed(#value)))
            .collect();
        let values = match values_from {
            // The type's own list; a default must be on it, which the compiler checks
            // here (a grammar from a list is checked by the macro itself).
            Some(TypeTokens(ty)) => {
                if let Some(default) = default_text {
                    let message = format!(
                        "the default `{default}` of `{name}` is not one of the values of `{}`",
                        quote!(#ty)
                    );
                    self.items.extend(quote_spanned! {ty.span()=>
                        const _: () = ::core::assert!(
                            #krate::__private::contains(
                                <#ty as #krate::PossibleValues>::VALUES,
                                #default_text_lit,
                            ),
                            #message,
                        );
                    });
                }
                quote!(<#ty as #krate::PossibleValues>::VALUES)
            }
            None => self.list("VALUES", quote!(#krate::Text), values),
        };
        quote! {
            #krate::GrammarArgument::__from_static(
                #name, #value_type, #help, #positional, #short, #required, #default, #multiple,
                #env, #values,
            )
        }
    }

    fn nouns(&mut self, nouns: &[NounModel]) -> TokenStream {
        let krate = self.krate;
        let elements = nouns.iter().map(|noun| self.noun(noun)).collect();
        self.list("NOUNS", quote!(#krate::GrammarNoun), elements)
    }

    fn noun(&mut self, noun: &NounModel) -> TokenStream {
        let krate = self.krate;
        let nouns = self.nouns(&noun.nouns);
        let verbs = noun.verbs.iter().map(|verb| self.verb(verb)).collect();
        let verbs = self.list("VERBS", quote!(#krate::GrammarVerb), verbs);
        let name = &noun.name;
        let help = &noun.help;
        let long_help = option(krate, noun.long_help.as_deref());
        quote! {
            #krate::GrammarNoun::__from_static(#name, #help, #long_help, #nouns, #verbs)
        }
    }

    fn verb(&mut self, verb: &VerbModel) -> TokenStream {
        let krate = self.krate;
        let args = verb.args.iter().map(|arg| self.argument(arg)).collect();
        let args = self.list("ARGS", quote!(#krate::GrammarArgument), args);
        let name = &verb.name;
        let help = &verb.help;
        let long_help = option(krate, verb.long_help.as_deref());
        let deprecated = option(krate, verb.deprecated.as_deref());
        let class = format_ident!("{}", verb.class.name());
        let band = format_ident!("{}", verb.band.name());
        let stability = format_ident!("{}", verb.stability.name());
        let safety = match verb.safety {
            Some(safety) => {
                let safety = format_ident!("{}", safety.name());
                quote!(#krate::__private::Some(#krate::__private::SafetyProfile::#safety))
            }
            None => quote!(#krate::__private::None),
        };
        let confirmation = format_ident!(
            "{}",
            verb.confirmation.unwrap_or(Confirmation::Asked).name()
        );
        quote! {
            #krate::GrammarVerb::__from_static(
                #name,
                #help,
                #long_help,
                #krate::__private::contract(
                    #krate::__private::CapabilityClass::#class,
                    #krate::__private::ResourceBand::#band,
                    #safety,
                    #krate::__private::Confirmation::#confirmation,
                    #krate::__private::StabilityProfile::#stability,
                ),
                #deprecated,
                #args,
            )
        }
    }
}

fn option(krate: &TokenStream, text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(#krate::__private::Some(#text)),
        None => quote!(#krate::__private::None),
    }
}
