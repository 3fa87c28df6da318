//! Binding a handler to a verb with its capability class, checked by the compiler when
//! the grammar is a constant (`verb!`) and when the command line is built otherwise.

use core::fmt;
use core::marker::PhantomData;

use cnv_caps::{CapabilityClass, ConstRisk};
use cnv_grammar::GrammarModel;

/// A verb of the grammar (`"file write"`: nouns, then the verb) and the capability class
/// `C` its handler is bound with.
///
/// Make one with [`verb!`](crate::verb), which checks at compile time that a constant
/// grammar declares the verb with class `C`, or with [`VerbBinding::new`] for a grammar
/// built at run time (checked by [`CliBuilder::build`](crate::CliBuilder::build)).
pub struct VerbBinding<C: ConstRisk> {
    command: &'static str,
    /// The grammar `verb!` checked the class against; `None` when nothing was checked.
    checked_in: Option<&'static GrammarModel>,
    class: PhantomData<fn() -> C>,
}

impl<C: ConstRisk> VerbBinding<C> {
    /// The verb `command`, bound with class `C`. Unlike [`verb!`](crate::verb), nothing
    /// is checked until the command line is built.
    #[must_use]
    pub const fn new(command: &'static str) -> Self {
        Self {
            command,
            checked_in: None,
            class: PhantomData,
        }
    }

    /// The verb `command` of `grammar`, whose class `C` `verb!` checked at compile time.
    #[doc(hidden)]
    #[must_use]
    pub const fn __checked(command: &'static str, grammar: &'static GrammarModel) -> Self {
        Self {
            command,
            checked_in: Some(grammar),
            class: PhantomData,
        }
    }

    /// The grammar whose declaration of the verb the compiler checked the class against
    /// (with [`verb!`](crate::verb)); `None` for a binding checked when the command line
    /// is built.
    #[must_use]
    pub const fn checked_in(&self) -> Option<&'static GrammarModel> {
        self.checked_in
    }

    /// The command, nouns then verb.
    #[must_use]
    pub const fn command(&self) -> &'static str {
        self.command
    }

    /// The class the handler is bound with.
    #[must_use]
    pub const fn class(&self) -> CapabilityClass {
        C::CLASS
    }
}

impl<C: ConstRisk> Clone for VerbBinding<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ConstRisk> Copy for VerbBinding<C> {}

impl<C: ConstRisk> fmt::Debug for VerbBinding<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerbBinding")
            .field("command", &self.command)
            .field("class", &C::CLASS)
            .field("checked", &self.checked_in.is_some())
            .finish()
    }
}

/// Names a verb of a constant grammar and the capability class its handler is bound
/// with, and **checks at compile time** that the grammar declares that verb with that
/// class.
///
/// ```
/// use cnv_cli::{verb, Cli, CliBuilder, Invocation, Output};
/// use cnv_caps::ReadWriteFS;
/// use cnv_grammar::GrammarModel;
/// # use cnv_grammar::{GrammarNoun, GrammarVerb};
/// # use cnv_caps::{CapabilityContract, CapabilityClass, ResourceBand};
/// # static VERBS: &[GrammarVerb] = &[GrammarVerb::__from_static(
/// #     "write", "Write a file", None,
/// #     CapabilityContract::new(CapabilityClass::ReadWriteFS, ResourceBand::Fast), None, &[])];
/// # static NOUNS: &[GrammarNoun] = &[GrammarNoun::__from_static("file", "Files", None, &[], VERBS)];
/// # static GRAMMAR: GrammarModel = GrammarModel::__from_static("app", None, None, &[], NOUNS);
/// // static GRAMMAR: GrammarModel = grammar_dsl! { app "app" { noun "file" help "Files" {
/// //     verb "write" { capability: ReadWriteFS, resource: Fast, help: "Write a file" } } } };
///
/// let cli: Cli = CliBuilder::new(&GRAMMAR)
///     .bind_verb(verb!(GRAMMAR, "file write", ReadWriteFS), |call: &Invocation<'_, ReadWriteFS>| {
///         Ok(Output::text(format!("{} runs under {:?}", call.command(), call.session().class())))
///     })
///     .build()
///     .expect("every verb has a handler of its class");
/// # let _ = cli;
/// ```
///
/// A class that the grammar does not declare for the verb stops the build:
///
/// ```text
/// error[E0080]: evaluation panicked: `file write` is declared `ReadWriteFS` in the grammar,
///               but this binding says `Network`; bind it with `ReadWriteFS` (its handler
///               takes `&Invocation<'_, ReadWriteFS>`), or change the grammar
/// ```
///
/// The grammar must be a `static` or `const` item (a `grammar_dsl!` constant); for a
/// grammar built at run time use [`CliBuilder::handler`](crate::CliBuilder::handler),
/// which is checked when the command line is built.
#[macro_export]
macro_rules! verb {
    ($grammar:path, $command:literal, $class:ty $(,)?) => {{
        const _: () = {
            static __CNV_GRAMMAR: &$crate::__private::GrammarModel = &$grammar;
            $crate::__private::assert_bound(
                __CNV_GRAMMAR,
                $command,
                <$class as $crate::__private::ConstRisk>::CLASS,
            );
        };
        $crate::VerbBinding::<$class>::__checked($command, &$grammar)
    }};
}

/// What `verb!` checks, in a constant: the grammar declares `command` with `class`.
///
/// # Panics
///
/// When it does not; in the constant `verb!` emits, that is a compile error whose
/// message names the command, both classes and the fix.
pub const fn assert_bound(model: &GrammarModel, command: &str, class: CapabilityClass) {
    use cnv_caps::__private::ConstMessage;
    match model.__const_class_of(command) {
        Some(declared) if declared as u8 == class as u8 => {}
        Some(declared) => {
            let message = ConstMessage::new()
                .push("`")
                .push(command)
                .push("` is declared `")
                .push(declared.name())
                .push("` in the grammar, but this binding says `")
                .push(class.name())
                .push("`; bind it with `")
                .push(declared.name())
                .push("` (its handler takes `&Invocation<'_, ")
                .push(declared.name())
                .push(">`), or change the grammar");
            panic!("{}", message.as_str());
        }
        None => {
            let message = ConstMessage::new()
                .push("the grammar has no verb `")
                .push(command)
                .push("`; name it by its nouns and then the verb, separated by single spaces (e.g. \"file read\")");
            panic!("{}", message.as_str());
        }
    }
}
