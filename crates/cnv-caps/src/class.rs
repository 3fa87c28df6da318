//! Capability classes: what a command may touch, as a run-time enum and as zero-sized
//! types.

use crate::sealed::Sealed;
use crate::{ResourceBand, SafetyProfile};

/// The one list of the capability classes, in the order of risk: it declares the run-time
/// enum ([`CapabilityClass`], through `vocabulary!`), the zero-sized type of each class (in
/// [`classes`](crate::classes)), and `__for_each_capability_class!`, with which other cnv
/// crates generate what follows the list (the escalation lattice's order, say) instead of
/// writing it again.
macro_rules! classes {
    (
        $(#[$meta:meta])*
        pub enum CapabilityClass, kind = $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        vocabulary! {
            $(#[$meta])*
            pub enum CapabilityClass, kind = $kind {
                $( $(#[$vmeta])* $variant ),+
            }
        }

        /// The capability classes as zero-sized types, one per [`CapabilityClass`] (all
        /// re-exported at the crate's root): what `ConstRisk` and the bounds are written
        /// against.
        pub mod classes {
            use super::{CapabilityClass, ConstRisk, Sealed};

            $(
                #[doc = concat!(
                    "The [`", stringify!($variant), "`](CapabilityClass::", stringify!($variant),
                    ") capability class as a type."
                )]
                #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
                pub struct $variant;

                impl Sealed for $variant {}

                impl ConstRisk for $variant {
                    const CLASS: CapabilityClass = CapabilityClass::$variant;
                }
            )+
        }

        classes!(@for_each ($) $($variant),+);
    };
    (@for_each ($d:tt) $($variant:ident),+) => {
        /// Calls `$callback!` with every capability class's name, in the order of risk:
        /// for other cnv crates to generate what follows the list. Not part of the public
        /// API.
        #[doc(hidden)]
        #[macro_export]
        macro_rules! __for_each_capability_class {
            ($d callback:path) => {
                $d callback!($($variant),+);
            };
        }
    };
}

classes! {
    /// What a command may touch, from `Pure` (nothing) to `Dangerous` (anything).
    ///
    /// The declaration order is the order of risk, so `Ord` compares risk:
    /// `CapabilityClass::Network < CapabilityClass::Subprocess`. Only [`Pure`](Self::Pure)
    /// and [`ReadOnlyFS`](Self::ReadOnlyFS) are agent-safe; the crate documentation says
    /// why.
    ///
    /// ```
    /// use cnv_caps::CapabilityClass;
    ///
    /// let class: CapabilityClass = "Network".parse()?;
    /// assert_eq!(class.risk_level(), 5);
    /// assert!(!class.is_agent_safe());
    /// assert_eq!(class.to_string(), "Network");
    /// # Ok::<(), cnv_caps::ParseError>(())
    /// ```
    pub enum CapabilityClass, kind = "capability class" {
        /// Computes from its arguments only: no file, network, environment or process
        /// access. Risk 0.
        Pure,
        /// Reads files, changes none. Risk 2.
        ReadOnlyFS,
        /// Reads (or sets for itself) environment variables, which often hold secrets.
        /// Risk 3.
        Environment,
        /// Talks to other hosts. Risk 5.
        Network,
        /// Creates, changes or deletes files. Risk 6.
        ReadWriteFS,
        /// Starts other programs with the caller's authority. Risk 8.
        Subprocess,
        /// May do anything, including what cannot be undone. Risk 10.
        Dangerous,
    }
}

impl CapabilityClass {
    /// The risk level, 0 (`Pure`) to 10 (`Dangerous`).
    #[must_use]
    pub const fn risk_level(self) -> u8 {
        match self {
            Self::Pure => 0,
            Self::ReadOnlyFS => 2,
            Self::Environment => 3,
            Self::Network => 5,
            Self::ReadWriteFS => 6,
            Self::Subprocess => 8,
            Self::Dangerous => 10,
        }
    }

    /// Whether an autonomous agent may run a command of this class without a human:
    /// `true` for `Pure` and `ReadOnlyFS` only.
    #[must_use]
    pub const fn is_agent_safe(self) -> bool {
        match self {
            Self::Pure | Self::ReadOnlyFS => true,
            Self::Environment
            | Self::Network
            | Self::ReadWriteFS
            | Self::Subprocess
            | Self::Dangerous => false,
        }
    }

    /// Whether the class is low-risk: risk level below 5 (`Pure`, `ReadOnlyFS`,
    /// `Environment`). Mirrors [`LowRiskCapability`].
    #[must_use]
    pub const fn is_low_risk(self) -> bool {
        self.risk_level() < LOW_RISK_LIMIT
    }

    /// The safety profile a contract of this class gets when none is declared. A class
    /// that is not agent-safe never defaults to [`SafetyProfile::AgentSafe`]; `Dangerous`
    /// defaults to [`SafetyProfile::InteractiveOnly`].
    #[must_use]
    pub const fn default_safety(self) -> SafetyProfile {
        match self {
            Self::Pure | Self::ReadOnlyFS => SafetyProfile::AgentSafe,
            Self::Environment | Self::Network | Self::ReadWriteFS | Self::Subprocess => {
                SafetyProfile::HumanReviewRequired
            }
            Self::Dangerous => SafetyProfile::InteractiveOnly,
        }
    }

    /// The resource band a contract of this class gets from the typed constructors
    /// (`CapabilityContract::pure()`, …): the band a typical command of the class fits in.
    #[must_use]
    pub const fn default_band(self) -> ResourceBand {
        match self {
            Self::Pure | Self::Environment => ResourceBand::Instant,
            Self::ReadOnlyFS | Self::ReadWriteFS => ResourceBand::Fast,
            Self::Network | Self::Subprocess => ResourceBand::Medium,
            Self::Dangerous => ResourceBand::Slow,
        }
    }

    /// MCP `readOnlyHint`: the command does not modify its environment.
    /// `true` for `Pure`, `ReadOnlyFS` and `Environment`.
    #[must_use]
    pub const fn read_only_hint(self) -> bool {
        match self {
            Self::Pure | Self::ReadOnlyFS | Self::Environment => true,
            Self::Network | Self::ReadWriteFS | Self::Subprocess | Self::Dangerous => false,
        }
    }

    /// MCP `destructiveHint`: the command may perform destructive updates. Every class
    /// that is not read-only may (MCP's own default is `true`, and a class says nothing
    /// narrower).
    #[must_use]
    pub const fn destructive_hint(self) -> bool {
        !self.read_only_hint()
    }

    /// MCP `idempotentHint`: calling the command again with the same arguments has no
    /// further effect. `true` exactly for the read-only classes.
    #[must_use]
    pub const fn idempotent_hint(self) -> bool {
        self.read_only_hint()
    }

    /// MCP `openWorldHint`: the command may interact with entities outside the local
    /// machine's closed domain. `true` for `Network`, `Subprocess` and `Dangerous`.
    #[must_use]
    pub const fn open_world_hint(self) -> bool {
        match self {
            Self::Network | Self::Subprocess | Self::Dangerous => true,
            Self::Pure | Self::ReadOnlyFS | Self::Environment | Self::ReadWriteFS => false,
        }
    }

    /// Whether a declaration of this class must say who reviews it (`safety:` in the
    /// grammar DSL) instead of taking its default: `true` for `Dangerous` only, whose
    /// reviewer is the whole point of the declaration.
    #[must_use]
    pub const fn must_declare_safety(self) -> bool {
        match self {
            Self::Dangerous => true,
            Self::Pure
            | Self::ReadOnlyFS
            | Self::Environment
            | Self::Network
            | Self::ReadWriteFS
            | Self::Subprocess => false,
        }
    }

    /// What a command of this class may do, in a few words, for prompts and hints
    /// (`"reads files"`).
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Pure => "computes only",
            Self::ReadOnlyFS => "reads files",
            Self::Environment => "reads environment variables",
            Self::Network => "talks to other hosts",
            Self::ReadWriteFS => "creates, changes or deletes files",
            Self::Subprocess => "starts other programs",
            Self::Dangerous => "may do what cannot be undone",
        }
    }
}

/// Classes whose risk level is below this are low-risk.
const LOW_RISK_LIMIT: u8 = 5;

/// A capability class as a type: the zero-sized types [`Pure`], [`ReadOnlyFS`],
/// [`Environment`], [`Network`], [`ReadWriteFS`], [`Subprocess`] and [`Dangerous`].
///
/// Every constant is known to the compiler, so checks written against them cost nothing
/// at run time. The trait is **sealed**: only this crate's types implement it, so no
/// crate can invent a class and declare it agent-safe.
///
/// The name is the specification's (`<Pure as ConstRisk>::RISK_LEVEL`); read it as "a
/// capability class as a type": every bound on a class (`C: ConstRisk`) means that.
///
/// ```
/// use cnv_caps::{CapabilityClass, ConstRisk, Network, Pure};
///
/// const RISK: u8 = <Pure as ConstRisk>::RISK_LEVEL;
/// const SAFE: bool = <Pure as ConstRisk>::IS_AGENT_SAFE;
/// assert_eq!((RISK, SAFE), (0, true));
/// assert_eq!(<Network as ConstRisk>::CLASS, CapabilityClass::Network);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cnv capability class",
    label = "expected one of cnv's capability classes here",
    note = "the capability classes are `Pure`, `ReadOnlyFS`, `Environment`, `Network`, `ReadWriteFS`, `Subprocess` and `Dangerous`; `ConstRisk` is sealed so no other type can be one"
)]
pub trait ConstRisk: Sealed + Copy + Default + Send + Sync + 'static {
    /// The run-time class this type stands for.
    const CLASS: CapabilityClass;
    /// The risk level, 0 to 10 ([`CapabilityClass::risk_level`]).
    const RISK_LEVEL: u8 = Self::CLASS.risk_level();
    /// Whether an autonomous agent may run it unsupervised
    /// ([`CapabilityClass::is_agent_safe`]).
    const IS_AGENT_SAFE: bool = Self::CLASS.is_agent_safe();
    /// The canonical name, e.g. `"ReadOnlyFS"`.
    const NAME: &'static str = Self::CLASS.name();
}

/// A capability class an autonomous agent may run without a human: [`Pure`] and
/// [`ReadOnlyFS`].
///
/// Use it as a bound to accept only commands that are safe to run unsupervised; a
/// command of any other class is refused by the compiler with a message saying why.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not agent-safe, so an autonomous agent may not run it unsupervised",
    label = "this needs an agent-safe capability, but `{Self}` is not",
    note = "only `Pure` and `ReadOnlyFS` are agent-safe: they cannot change files, reach the network, read secrets from the environment or start programs",
    note = "to run a `{Self}` command, require a human review (or a justified escalation) instead of `AgentSafeCapability`; if the command really does less, declare it with `Pure` or `ReadOnlyFS`"
)]
pub trait AgentSafeCapability: ConstRisk {}

/// A capability class whose risk level is below 5: [`Pure`], [`ReadOnlyFS`] and
/// [`Environment`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a low-risk capability (its risk level is 5 or more)",
    label = "this needs a low-risk capability, but `{Self}` is not",
    note = "the low-risk classes are `Pure` (risk 0), `ReadOnlyFS` (2) and `Environment` (3); `Network` is 5, `ReadWriteFS` 6, `Subprocess` 8, `Dangerous` 10",
    note = "declare the command with a low-risk class if it really does less, or relax the `LowRiskCapability` bound where higher risk is acceptable"
)]
pub trait LowRiskCapability: ConstRisk {}

use classes::*;

impl AgentSafeCapability for Pure {}
impl AgentSafeCapability for ReadOnlyFS {}

impl LowRiskCapability for Pure {}
impl LowRiskCapability for ReadOnlyFS {}
impl LowRiskCapability for Environment {}

/// Every run-time class has its type-level twin, and the marker traits a twin implements
/// say what the run-time facts say. The `match` is exhaustive: a new class does not
/// compile until it is given a type here and its marker impls are decided above.
const fn twin(class: CapabilityClass) {
    /// A twin whose markers agree with the run-time class.
    const fn check<C: ConstRisk>(class: CapabilityClass, agent_safe: bool, low_risk: bool) {
        assert!(C::CLASS as u8 == class as u8);
        assert!(class.is_agent_safe() == agent_safe);
        assert!(class.is_low_risk() == low_risk);
    }
    /// Only callable for a type that implements `AgentSafeCapability`.
    const fn safe<C: AgentSafeCapability>() -> bool {
        C::IS_AGENT_SAFE
    }
    /// Only callable for a type that implements `LowRiskCapability`.
    const fn low<C: LowRiskCapability>() -> bool {
        C::CLASS.is_low_risk()
    }
    match class {
        CapabilityClass::Pure => check::<Pure>(class, safe::<Pure>(), low::<Pure>()),
        CapabilityClass::ReadOnlyFS => {
            check::<ReadOnlyFS>(class, safe::<ReadOnlyFS>(), low::<ReadOnlyFS>());
        }
        CapabilityClass::Environment => check::<Environment>(class, false, low::<Environment>()),
        CapabilityClass::Network => check::<Network>(class, false, false),
        CapabilityClass::ReadWriteFS => check::<ReadWriteFS>(class, false, false),
        CapabilityClass::Subprocess => check::<Subprocess>(class, false, false),
        CapabilityClass::Dangerous => check::<Dangerous>(class, false, false),
    }
}

const _: () = {
    let mut i = 0;
    while i < CapabilityClass::COUNT {
        twin(CapabilityClass::ALL[i]);
        i += 1;
    }
};

// The declaration order is the order of risk: no class is less risky than the one
// declared before it. Neighbours may share a level (the levels are the specification's,
// 0 to 10), so a class can be inserted anywhere in the order.
const _: () = {
    let mut i = 1;
    while i < CapabilityClass::COUNT {
        assert!(
            CapabilityClass::ALL[i - 1].risk_level() <= CapabilityClass::ALL[i].risk_level(),
            "the capability classes are declared in the order of risk"
        );
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn risk_levels_are_the_documented_ones() {
        let levels: alloc::vec::Vec<u8> = CapabilityClass::ALL
            .iter()
            .map(|c| c.risk_level())
            .collect();
        assert_eq!(levels, [0, 2, 3, 5, 6, 8, 10]);
    }

    #[test]
    fn ord_follows_risk() {
        for pair in CapabilityClass::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].risk_level() <= pair[1].risk_level());
        }
    }

    #[test]
    fn only_pure_and_read_only_are_agent_safe() {
        let safe: alloc::vec::Vec<_> = CapabilityClass::ALL
            .iter()
            .filter(|c| c.is_agent_safe())
            .collect();
        assert_eq!(safe, [&CapabilityClass::Pure, &CapabilityClass::ReadOnlyFS]);
    }

    #[test]
    fn default_safety_never_grants_agent_safe_to_unsafe_classes() {
        for class in CapabilityClass::ALL {
            let default_is_agent_safe = class.default_safety() == SafetyProfile::AgentSafe;
            assert_eq!(default_is_agent_safe, class.is_agent_safe(), "{class}");
        }
        assert_eq!(
            CapabilityClass::Dangerous.default_safety(),
            SafetyProfile::InteractiveOnly
        );
    }

    #[test]
    fn type_level_constants_link_to_the_runtime_enum() {
        fn check<C: ConstRisk>(class: CapabilityClass) {
            assert_eq!(C::CLASS, class);
            assert_eq!(C::RISK_LEVEL, class.risk_level());
            assert_eq!(C::IS_AGENT_SAFE, class.is_agent_safe());
            assert_eq!(C::NAME, class.to_string());
            assert_eq!(size_of::<C>(), 0);
        }
        check::<Pure>(CapabilityClass::Pure);
        check::<ReadOnlyFS>(CapabilityClass::ReadOnlyFS);
        check::<Environment>(CapabilityClass::Environment);
        check::<Network>(CapabilityClass::Network);
        check::<ReadWriteFS>(CapabilityClass::ReadWriteFS);
        check::<Subprocess>(CapabilityClass::Subprocess);
        check::<Dangerous>(CapabilityClass::Dangerous);
    }

    #[test]
    fn names_round_trip_and_bad_names_list_the_valid_ones() {
        for class in CapabilityClass::ALL {
            assert_eq!(class.to_string().parse::<CapabilityClass>(), Ok(*class));
        }
        assert_eq!(
            "read-only-fs".parse::<CapabilityClass>(),
            Ok(CapabilityClass::ReadOnlyFS)
        );
        let err = "Quantum".parse::<CapabilityClass>().unwrap_err();
        assert_eq!(err.kind(), "capability class");
        assert_eq!(err.input(), "Quantum");
        assert_eq!(err.suggestion(), None);
        let message = err.to_string();
        for name in CapabilityClass::NAMES {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn mcp_hints_follow_the_class() {
        use CapabilityClass as C;
        let read_only: alloc::vec::Vec<_> = C::ALL
            .iter()
            .filter(|c| c.read_only_hint())
            .copied()
            .collect();
        assert_eq!(read_only, [C::Pure, C::ReadOnlyFS, C::Environment]);
        assert!(C::ReadWriteFS.destructive_hint() && !C::ReadOnlyFS.destructive_hint());
        assert!(C::Network.open_world_hint() && !C::ReadWriteFS.open_world_hint());
        assert!(C::Pure.idempotent_hint() && !C::Subprocess.idempotent_hint());
    }
}
