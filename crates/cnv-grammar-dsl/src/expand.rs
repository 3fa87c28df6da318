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

use cnv_grammar::rules::Scalar;

use crate::validate::{ArgModel, GroupModel, Model, NounModel, PathTokens, TypeTokens, VerbModel};

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

/// `const _: &str = <T as OutputSchema>::SCHEMA;` for each verb's output type, spanned on
/// the type: made beside the errors, so a type without a schema is reported in the same
/// compile.
#[must_use]
pub fn output_checks(krate: &TokenStream, types: &[&Type]) -> TokenStream {
    types
        .iter()
        .map(|ty| {
            quote_spanned! {ty.span()=>
                const _: &str = <#ty as #krate::OutputSchema>::SCHEMA;
            }
        })
        .collect()
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
            value_name,
            aliases,
            counted,
            conflicts_with,
            requires,
            range,
            hidden,
            mcp,
            default_const,
        } = arg;
        let short = match short {
            Some(short) => quote!(#krate::__private::Some(#short)),
            None => quote!(#krate::__private::None),
        };
        // The default's text: the literal, or a constant made from the program's constant
        // (checked by the compiler against the type, the range and the values).
        // How the default is written, for the compiler's messages.
        let written = match (default_const, default) {
            (Some(PathTokens(path)), _) => Some(quote!(#path).to_string().replace(' ', "")),
            (None, default) => default.clone(),
        };
        let default_text: Option<TokenStream> = match (default_const, default) {
            (Some(PathTokens(path)), _) => Some(self.default_from_constant(arg, path)),
            (None, Some(text)) => Some(quote!(#text)),
            (None, None) => None,
        };
        let default = match &default_text {
            Some(text) => quote!(#krate::__private::Some(#text)),
            None => quote!(#krate::__private::None),
        };
        let env = option(krate, env.as_deref());
        let value_name = option(krate, value_name.as_deref());
        let listed: Vec<TokenStream> = values
            .iter()
            .map(|value| quote!(#krate::__private::Cow::Borrowed(#value)))
            .collect();
        let values = match values_from {
            // The type's own list; a default must be on it, which the compiler checks
            // here (a grammar from a list is checked by the macro itself).
            Some(TypeTokens(ty)) => {
                if let (Some(default), Some(written)) = (&default_text, &written) {
                    let message = format_message(&format!(
                        "the default `{written}` of `{name}` is not one of the values of `{}`",
                        quote!(#ty)
                    ));
                    self.items.extend(quote_spanned! {ty.span()=>
                        const _: () = ::core::assert!(
                            #krate::__private::contains(
                                <#ty as #krate::PossibleValues>::VALUES,
                                #default,
                            ),
                            #message,
                        );
                    });
                }
                quote!(<#ty as #krate::PossibleValues>::VALUES)
            }
            None => {
                let list = self.list("VALUES", quote!(#krate::Text), listed);
                // A constant default must be on the list too (a literal one the macro
                // checked already).
                if let (Some(PathTokens(path)), Some(default)) = (default_const, &default_text)
                    && !values.is_empty()
                {
                    let message = format_message(&format!(
                        "the default `{}` of `{name}` is not one of its possible values",
                        quote!(#path)
                    ));
                    self.items.extend(quote_spanned! {path.span()=>
                        const _: () = ::core::assert!(
                            #krate::__private::contains(#list, #default),
                            #message,
                        );
                    });
                }
                list
            }
        };
        let texts = |list: &[String]| -> Vec<TokenStream> {
            list.iter()
                .map(|text| quote!(#krate::__private::Cow::Borrowed(#text)))
                .collect()
        };
        let aliases = self.list("ALIASES", quote!(#krate::Text), texts(aliases));
        let conflicts_with = self.list("CONFLICTS", quote!(#krate::Text), texts(conflicts_with));
        let requires = self.list("REQUIRES", quote!(#krate::Text), texts(requires));
        let range = match range {
            Some(range) => {
                let bound = |bound: Option<i128>| match bound {
                    Some(bound) => quote!(#krate::__private::Some(#bound)),
                    None => quote!(#krate::__private::None),
                };
                let (min, max) = (bound(range.min()), bound(range.max()));
                quote!(#krate::__private::Some(#krate::ValueRange::new(#min, #max)))
            }
            None => quote!(#krate::__private::None),
        };
        quote! {
            #krate::GrammarArgument::__from_parts(#krate::__private::ArgumentParts {
                name: #name,
                value_type: #value_type,
                help: #help,
                positional: #positional,
                short: #short,
                required: #required,
                default: #default,
                multiple: #multiple,
                env: #env,
                values: #values,
                value_name: #value_name,
                aliases: #aliases,
                counted: #counted,
                conflicts_with: #conflicts_with,
                requires: #requires,
                range: #range,
                hidden: #hidden,
                mcp: #mcp,
            })
        }
    }

    /// The text of a default taken from the constant `path`, as a constant of its own:
    /// the constant is read as the argument's value type (so the compiler refuses a
    /// constant of another type, pointing at it), written as text, and checked against
    /// the argument's range.
    fn default_from_constant(&mut self, arg: &ArgModel, path: &syn::Path) -> TokenStream {
        let krate = self.krate;
        let span = path.span();
        let value = self.name("DEFAULT_VALUE");
        let text = self.name("DEFAULT");
        let scalar = Scalar::of(&arg.value_type);
        let primitive = scalar
            .name()
            .map(|name| Ident::new(name, Span::call_site()));
        let made = match (scalar, primitive) {
            (Scalar::Bool, _) => quote_spanned! {span=>
                const #value: bool = #path;
                const #text: &str = if #value { "true" } else { "false" };
            },
            (Scalar::Char, _) => quote_spanned! {span=>
                const #value: char = #path;
                const #text: &str = {
                    const TEXT: &#krate::__private::DefaultText =
                        &#krate::__private::DefaultText::char(#value);
                    TEXT.as_str()
                };
            },
            (_, Some(primitive)) if scalar.is_integer() => {
                let (make, wide) = if scalar.is_unsigned() {
                    (quote!(unsigned), quote!(u128))
                } else {
                    (quote!(signed), quote!(i128))
                };
                quote_spanned! {span=>
                    const #value: ::core::primitive::#primitive = #path;
                    const #text: &str = {
                        const TEXT: &#krate::__private::DefaultText =
                            &#krate::__private::DefaultText::#make(#value as #wide);
                        TEXT.as_str()
                    };
                }
            }
            // Any other value type is parsed from text: the constant is that text.
            _ => quote_spanned! {span=>
                const #value: &str = #path;
                const #text: &str = #value;
            },
        };
        self.items.extend(made);
        if let Some(range) = arg.range.filter(|_| scalar.is_integer()) {
            let message = format_message(&format!(
                "the default `{}` of `{}` is outside the range `{range}`",
                quote!(#path),
                arg.name
            ));
            let above = range.min().map(|min| {
                let min = proc_macro2::Literal::i128_unsuffixed(min);
                quote!(#value >= #min)
            });
            let below = range.max().map(|max| {
                let max = proc_macro2::Literal::i128_unsuffixed(max);
                quote!(#value <= #max)
            });
            let holds = above.into_iter().chain(below);
            self.items.extend(quote_spanned! {span=>
                const _: () = ::core::assert!(#(#holds)&&*, #message);
            });
        }
        quote!(#text)
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
        let title = option(krate, verb.title.as_deref());
        let mcp_name = option(krate, verb.mcp_name.as_deref());
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
        let aliases = verb
            .aliases
            .iter()
            .map(|alias| quote!(#krate::__private::Cow::Borrowed(#alias)))
            .collect();
        let aliases = self.list("ALIASES", quote!(#krate::Text), aliases);
        let groups = verb
            .groups
            .iter()
            .map(|group| {
                let members = group
                    .args
                    .iter()
                    .map(|member| quote!(#krate::__private::Cow::Borrowed(#member)))
                    .collect();
                let members = self.list("MEMBERS", quote!(#krate::Text), members);
                let GroupModel {
                    name,
                    required,
                    multiple,
                    ..
                } = group;
                quote!(#krate::GrammarGroup::__from_static(#name, #members, #required, #multiple))
            })
            .collect();
        let groups = self.list("GROUPS", quote!(#krate::GrammarGroup), groups);
        let output_schema = match &verb.output {
            Some(TypeTokens(ty)) => {
                let message = format_message(&format!(
                    "the output schema of `{}` (`OutputSchema::SCHEMA`) is not a JSON object; write `{{\"type\": \"object\", …}}`",
                    quote!(#ty)
                ));
                self.items.extend(quote_spanned! {ty.span()=>
                    const _: () = ::core::assert!(
                        #krate::__private::starts_like_an_object(
                            <#ty as #krate::OutputSchema>::SCHEMA,
                        ),
                        #message,
                    );
                });
                quote!(#krate::__private::Some(<#ty as #krate::OutputSchema>::SCHEMA))
            }
            None => quote!(#krate::__private::None),
        };
        quote! {
            #krate::GrammarVerb::__from_parts(#krate::__private::VerbParts {
                name: #name,
                help: #help,
                long_help: #long_help,
                contract: #krate::__private::contract(
                    #krate::__private::CapabilityClass::#class,
                    #krate::__private::ResourceBand::#band,
                    #safety,
                    #krate::__private::Confirmation::#confirmation,
                    #krate::__private::StabilityProfile::#stability,
                ),
                deprecated: #deprecated,
                args: #args,
                aliases: #aliases,
                groups: #groups,
                title: #title,
                mcp_name: #mcp_name,
                output_schema: #output_schema,
            })
        }
    }
}

/// `message` as the format string of an `assert!` (its braces escaped).
fn format_message(message: &str) -> String {
    message.replace('{', "{{").replace('}', "}}")
}

fn option(krate: &TokenStream, text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(#krate::__private::Some(#text)),
        None => quote!(#krate::__private::None),
    }
}
