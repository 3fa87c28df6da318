//! Typed handlers: a verb's arguments as a Rust struct that `grammar_dsl!` generates from
//! the grammar, and the functions that take one.
//!
//! Declared in item form, a grammar brings one module per noun and one struct per verb:
//!
//! ```text
//! grammar_dsl! {
//!     pub static GRAMMAR = app "notes" {
//!         noun "note" help "Notes" {
//!             verb "add" { capability: ReadWriteFS, resource: Fast, help: "Add a note",
//!                          args: [title: String "The title", --tag: Vec<String> "Tags"] }
//!         }
//!     }
//! }
//! // is the static GRAMMAR, and
//! pub mod note {
//!     pub struct Add { pub title: String, pub tag: Vec<String> }   // implements VerbArgs
//! }
//! ```
//!
//! A handler takes the struct, after the call when it needs the session or the
//! workspace: `fn add(call: &Invocation<'_, ReadWriteFS>, args: note::Add) -> Result<Output,
//! HandlerError>` or `fn add(args: note::Add) -> …`. [`CliBuilder::bind`](crate::CliBuilder::bind)
//! takes the function alone: the struct names the verb, and the compiler checks that the
//! function's class is the verb's, that every field it reads exists, and that it reads each
//! with its declared type.

use core::marker::PhantomData;
use core::str::FromStr;

use clap::builder::ValueParser;
use clap::{ArgMatches, Command};
use cnv_caps::ConstRisk;
use cnv_grammar::GrammarModel;
use cnv_typestate::TypedClass;

use crate::invocation::Invocation;
use crate::output::{ArgError, HandlerError, Output};

/// The typed arguments of one verb: a struct `grammar_dsl!` generates for each verb of a
/// grammar declared in item form (`grammar_dsl! { pub static GRAMMAR = app … }`), with one
/// public field per argument of the declared type (`T`, `Option<T>`, `Vec<T>`, `bool` for
/// a switch).
///
/// The struct names its verb and that verb's class, so a handler that takes it is bound
/// with [`CliBuilder::bind`](crate::CliBuilder::bind) alone. Writing an implementation by
/// hand is possible but rarely useful; the generated one is checked against the grammar
/// by the compiler, and [`CliBuilder::build`](crate::CliBuilder::build) checks it again
/// against the grammar the command line is made from.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the arguments of a verb",
    label = "a handler takes the arguments of its verb here",
    note = "declare the grammar in item form (`grammar_dsl! {{ pub static GRAMMAR = app \"…\" {{ … }} }}`): it generates one module per noun and one struct per verb, e.g. `file::Write` for `file write`"
)]
pub trait VerbArgs: Sized + Send + 'static {
    /// The class the verb is declared with.
    type Class: TypedClass;
    /// The verb's command: its nouns, then its name (`"file write"`).
    const COMMAND: &'static str;
    /// The verb's argument names, in declaration order.
    const ARGS: &'static [&'static str];

    /// The grammar the struct was generated from: a handler that takes it may be bound
    /// only to a command line made from that grammar, where the compiler has checked its
    /// class.
    fn grammar() -> &'static GrammarModel;

    /// The verb's subcommand with the value parser of each argument's Rust type, so that
    /// clap refuses a value the type cannot parse before anything runs.
    fn configure(command: Command) -> Command;

    /// The arguments of one call, from what clap parsed with [`configure`](Self::configure)'s
    /// parsers.
    ///
    /// # Errors
    ///
    /// An [`ArgError`] when the matches do not hold what the grammar declares: the command
    /// line was made from another grammar than the struct.
    fn from_matches(matches: &ArgMatches) -> Result<Self, ArgError>;
}

/// A function that handles the verb whose arguments are `A`, with a call of class `C`: it
/// takes `(&Invocation<'_, C>, A)` or `(A)` and returns [`Output`](Handler::Output), which
/// [`CliBuilder::bind`](crate::CliBuilder::bind) requires to be
/// `Result<Output, HandlerError>` ([`Returned`]).
///
/// Implemented for every such function and closure; `M` tells the forms apart and is
/// inferred. `bind` also requires `C` to be the class the grammar declares for the verb
/// ([`OfClass`]).
pub trait Handler<A, C: ConstRisk, M>: Send + Sync + 'static {
    /// What the function returns.
    type Output;

    /// Runs the handler.
    fn handle(&self, call: &Invocation<'_, C>, args: A) -> Self::Output;
}

/// The form `(&Invocation<'_, C>, A) -> R` of a [`Handler`].
#[derive(Debug)]
pub struct WithCall<R>(PhantomData<fn() -> R>);

/// The form `(A) -> R` of a [`Handler`].
#[derive(Debug)]
pub struct ArgsOnly<R>(PhantomData<fn() -> R>);

impl<A, C, R, F> Handler<A, C, WithCall<R>> for F
where
    C: ConstRisk,
    F: Fn(&Invocation<'_, C>, A) -> R + Send + Sync + 'static,
{
    type Output = R;

    fn handle(&self, call: &Invocation<'_, C>, args: A) -> R {
        self(call, args)
    }
}

impl<A, R, F> Handler<A, A::Class, ArgsOnly<R>> for F
where
    A: VerbArgs,
    F: Fn(A) -> R + Send + Sync + 'static,
{
    type Output = R;

    fn handle(&self, _call: &Invocation<'_, A::Class>, args: A) -> R {
        self(args)
    }
}

/// A handler that reads its arguments by name ([`Invocation::value`]): a function that
/// takes `&Invocation<'_, C>` and returns `Result<Output, HandlerError>`, bound with
/// [`CliBuilder::bind_verb`](crate::CliBuilder::bind_verb) or
/// [`CliBuilder::handler`](crate::CliBuilder::handler).
///
/// Implemented for every such function and closure. The `Fn` bound is its supertrait, so a
/// closure passed where a `NamedArgsHandler<C>` is expected needs no annotation: its
/// parameter is `&Invocation<'_, C>`.
pub trait NamedArgsHandler<C: ConstRisk>:
    Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static
{
    /// Runs the handler.
    ///
    /// # Errors
    ///
    /// The handler's own failure.
    fn handle(&self, call: &Invocation<'_, C>) -> Result<Output, HandlerError> {
        self(call)
    }
}

impl<C, F> NamedArgsHandler<C> for F
where
    C: ConstRisk,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static,
{
}

/// A handler that takes its call as `&Invocation<'_, T>`, bound to a verb with class `C`:
/// implemented only when `T` is `C`.
///
/// The binding methods require, in this order, `NamedArgsHandler<C>` (which gives a
/// closure its parameter's type), `Fn(&Invocation<'_, T>) -> …` (which finds the class `T`
/// a function is written for) and `SameClass<C, T>`. A handler written for another class
/// is then refused with this trait's message, which names both classes; the compiler's own
/// complaint about the function's signature is implied by it and left out.
#[diagnostic::on_unimplemented(
    message = "the handler takes its call as `&Invocation<'_, {T}>`, but it is bound as `{C}`",
    label = "this handler is written for `{T}`",
    note = "a handler runs with the class its verb is bound with: take the call as `&Invocation<'_, {C}>`, or bind it with the class it takes if the grammar declares the verb with that class"
)]
pub trait SameClass<C: ConstRisk, T: ConstRisk>:
    Fn(&Invocation<'_, C>) -> Result<Output, HandlerError>
{
}

impl<C, F> SameClass<C, C> for F
where
    C: ConstRisk,
    F: Fn(&Invocation<'_, C>) -> Result<Output, HandlerError>,
{
}

/// The state of a [`CliBuilder`](crate::CliBuilder) made from a constant grammar before
/// any handler is bound. Binding a typed handler ([`CliBuilder::bind`](crate::CliBuilder::bind))
/// moves it to the grammar's own state, which knows every verb; binding one by name moves
/// it to [`CheckedAtBuild`]. A builder in this state cannot be built: it has no handler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NothingBound;

/// The state of a [`CliBuilder`](crate::CliBuilder) whose handlers are checked when it is
/// built: one made from a grammar built or loaded at run time
/// ([`CliBuilder::from_model`](crate::CliBuilder::from_model)), or one to which a handler
/// was bound by name ([`bind_verb`](crate::CliBuilder::bind_verb),
/// [`handler`](crate::CliBuilder::handler)). `build` refuses a handler bound to no verb or
/// of another class; a verb left without a handler fails when it is called, and `--help`
/// and introspection still work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckedAtBuild;

/// In the state `grammar_dsl!` generates for a grammar in item form (one parameter per
/// verb): this verb has a handler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bound;

/// In the state `grammar_dsl!` generates for a grammar in item form (one parameter per
/// verb): this verb has no handler yet, so `build` is not there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unbound;

/// Binding the handler of the verb whose arguments are `Self`, in the builder state `B`,
/// leads to the state `Next`. `grammar_dsl!` implements it for each verb's struct of a
/// grammar in item form (from [`NothingBound`] and from the grammar's own state); every
/// arguments struct keeps [`CheckedAtBuild`] as it is.
#[diagnostic::on_unimplemented(
    message = "`{Self}` are the arguments of a verb of another grammar than the handlers bound before",
    label = "this handler is for another grammar",
    note = "a command line is made from one grammar: bind the handlers of its verbs, whose arguments structs its `grammar_dsl!` generated"
)]
pub trait BindStep<B> {
    /// The state after the binding.
    type Next;
}

impl<A: VerbArgs> BindStep<CheckedAtBuild> for A {
    type Next = CheckedAtBuild;
}

/// A builder state in which [`CliBuilder::build`](crate::CliBuilder::build) is there:
/// [`CheckedAtBuild`], or the state of a grammar in item form in which every verb is
/// [`Bound`] (when one is not, the compiler names it: "`note add` has no handler").
#[diagnostic::on_unimplemented(
    message = "no handler is bound to this command line",
    label = "`build` needs the verbs' handlers",
    note = "bind a handler for each verb with `.bind(handler)` (a grammar in item form checks at compile time that none is missing), or by name with `.bind_verb(verb!(…), handler)` or `.handler(\"noun verb\", handler)`"
)]
pub trait Buildable {}

impl Buildable for CheckedAtBuild {}

/// What a handler returns: `Result<Output, HandlerError>`.
#[diagnostic::on_unimplemented(
    message = "a handler returns `Result<Output, HandlerError>`, not `{Self}`",
    label = "this handler returns `{Self}`",
    note = "wrap what it produces: `Ok(Output::text(…))` for a person, `Ok(Output::json(…))` or `Output::text(…).with_data(…)` for a program; any error converts into `HandlerError` with `?`"
)]
pub trait Returned {
    /// The result as the command line takes it.
    ///
    /// # Errors
    ///
    /// The handler's failure.
    fn into_result(self) -> Result<Output, HandlerError>;
}

impl Returned for Result<Output, HandlerError> {
    fn into_result(self) -> Result<Output, HandlerError> {
        self
    }
}

/// The arguments `Self` belong to a verb of class `C`: a handler that takes them runs
/// with `&Invocation<'_, C>`. `grammar_dsl!` implements it for each verb's struct with the
/// verb's class, and for no other class.
#[diagnostic::on_unimplemented(
    message = "the handler takes its call as `&Invocation<'_, {C}>`, but `{Self}` are the arguments of a verb that is not `{C}`",
    label = "this handler is written for `{C}`",
    note = "a handler runs with the class the grammar declares for its verb: take the call as `&Invocation<'_, C>` with the class named below, or take the arguments of the verb the handler was written for"
)]
pub trait OfClass<C: ConstRisk>: VerbArgs {}

/// The type of a typed argument's value: what a command-line word is parsed into, and
/// kept by clap until the handler takes it. Implemented for every type that implements
/// `FromStr` (with an error that implements `Display`), `Clone`, `Send`, `Sync` and
/// `'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the type of a typed argument",
    label = "the command line gives text, and a typed argument must be parsed from it and kept",
    note = "the type must implement `FromStr` (with an error that implements `Display`), `Clone`, `Send` and `Sync`, and own its data (`'static`): `String`, `PathBuf`, `u64`, a program's own enum with `FromStr`, …"
)]
pub trait ArgValue: Sized {
    /// The parser of an argument limited to `values` (none: any value of the type).
    #[doc(hidden)]
    fn __among(values: Vec<String>) -> ValueParser;

    /// `text` parsed, or the reason it does not parse.
    ///
    /// # Errors
    ///
    /// What the type's `FromStr` says.
    #[doc(hidden)]
    fn __from_text(text: &str) -> Result<Self, String>;

    /// The value of a required argument, or one with a default.
    ///
    /// # Errors
    ///
    /// When clap did not keep a `Self` for it.
    #[doc(hidden)]
    fn __one(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Self, ArgError>;

    /// The value of an `Option<Self>` argument.
    ///
    /// # Errors
    ///
    /// When clap kept something other than a `Self` for it.
    #[doc(hidden)]
    fn __optional(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Option<Self>, ArgError>;

    /// The values of a `Vec<Self>` argument (empty when none was given).
    ///
    /// # Errors
    ///
    /// When clap kept something other than `Self`s for it.
    #[doc(hidden)]
    fn __many(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Vec<Self>, ArgError>;
}

#[diagnostic::do_not_recommend]
impl<T> ArgValue for T
where
    T: FromStr<Err: core::fmt::Display> + Clone + Send + Sync + 'static,
{
    fn __among(values: Vec<String>) -> ValueParser {
        crate::command::among(values, crate::command::FromStrParser::<T>::new())
    }

    fn __from_text(text: &str) -> Result<T, String> {
        text.parse::<T>().map_err(|err| err.to_string())
    }

    fn __one(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<T, ArgError> {
        Self::__optional(matches, command, name)?.ok_or_else(|| ArgError::Missing {
            command: command.to_owned(),
            name: name.to_owned(),
        })
    }

    fn __optional(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Option<T>, ArgError> {
        matches
            .try_get_one::<T>(name)
            .map(Option::<&T>::cloned)
            .map_err(|_| generated::lost(command, name))
    }

    fn __many(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Vec<T>, ArgError> {
        matches
            .try_get_many::<T>(name)
            .map(|values| {
                values
                    .map(|values| values.cloned().collect())
                    .unwrap_or_default()
            })
            .map_err(|_| generated::lost(command, name))
    }
}

/// What the code `grammar_dsl!` generates for typed arguments names. Not part of the
/// public API.
pub(crate) mod generated {
    use super::*;

    /// `command` with the value parser of `arg` replaced by `parser`.
    #[must_use]
    pub fn with_parser(command: Command, arg: &'static str, parser: ValueParser) -> Command {
        command.mut_arg(arg, |arg| arg.value_parser(parser))
    }

    /// The possible values the grammar lists for `arg` of `command` (empty: any value),
    /// so that a typed parser set on it keeps them.
    #[must_use]
    pub fn possible_values(command: &Command, arg: &'static str) -> Vec<String> {
        command
            .get_arguments()
            .find(|candidate| candidate.get_id() == arg)
            .map(|found| {
                found
                    .get_possible_values()
                    .iter()
                    .map(|value| value.get_name().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of a required global argument (or one with a default), parsed from its
    /// text with `T`'s `FromStr`.
    ///
    /// # Errors
    ///
    /// When it is missing, or its text does not parse.
    pub fn global_one<T>(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<T, ArgError>
    where
        T: ArgValue,
    {
        global_optional(matches, command, name)?.ok_or_else(|| ArgError::Missing {
            command: command.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The value of an optional global argument, parsed from its text.
    ///
    /// # Errors
    ///
    /// When its text does not parse.
    pub fn global_optional<T>(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Option<T>, ArgError>
    where
        T: ArgValue,
    {
        Ok(global_many(matches, command, name)?.into_iter().next())
    }

    /// The values of a repeatable global argument, each parsed from its text.
    ///
    /// # Errors
    ///
    /// When a text does not parse, or is not UTF-8.
    pub fn global_many<T>(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<Vec<T>, ArgError>
    where
        T: ArgValue,
    {
        let Ok(Some(raw)) = matches.try_get_raw(name) else {
            return Ok(Vec::new());
        };
        raw.map(|value| {
            let text = value.to_str().ok_or_else(|| ArgError::NotUtf8 {
                command: command.to_owned(),
                name: name.to_owned(),
            })?;
            T::__from_text(text).map_err(|reason| ArgError::Invalid {
                command: command.to_owned(),
                name: name.to_owned(),
                value: text.to_owned(),
                type_name: crate::output::type_label(core::any::type_name::<T>()),
                reason,
            })
        })
        .collect()
    }

    pub(crate) fn lost(command: &'static str, name: &'static str) -> ArgError {
        ArgError::Mismatched {
            command: command.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Whether a switch was given.
    ///
    /// # Errors
    ///
    /// When clap kept something other than a `bool` for it.
    pub fn switch(
        matches: &ArgMatches,
        command: &'static str,
        name: &'static str,
    ) -> Result<bool, ArgError> {
        bool::__optional(matches, command, name).map(|value| value.unwrap_or(false))
    }
}

/// A typed handler as the untyped form [`CliBuilder::handler`](crate::CliBuilder::handler)
/// stores: it reads its arguments from the matches, then runs.
pub(crate) fn untyped<A, C, M, H>(
    handler: H,
) -> impl Fn(&Invocation<'_, C>) -> Result<Output, HandlerError> + Send + Sync + 'static
where
    A: VerbArgs,
    C: ConstRisk,
    H: Handler<A, C, M, Output: Returned>,
{
    move |call: &Invocation<'_, C>| {
        // clap checked every value with the struct's own parsers; a failure here means the
        // command line was made from another grammar, a mistake of the program (exit 1).
        let args = A::from_matches(call.matches)?;
        handler.handle(call, args).into_result()
    }
}
