//! Capability contracts: one class, band, safety and stability profile per command.

use core::fmt;
use core::marker::PhantomData;

use crate::{
    CapabilityClass, Confirmation, ConstRisk, ContractError, Dangerous, Environment, Network, Pure,
    ReadOnlyFS, ReadWriteFS, ResourceBand, SafetyProfile, StabilityProfile, Subprocess,
};

/// What a command may touch ([`CapabilityClass`]), how long it may run
/// ([`ResourceBand`]), who must be present ([`SafetyProfile`]), whether a person confirms
/// each run ([`Confirmation`]) and how much its interface may change
/// ([`StabilityProfile`]).
///
/// A contract cannot contradict itself: its safety is the class default unless set with
/// [`with_safety`](Self::with_safety), which refuses `AgentSafe` for a class that is not
/// agent-safe, and [`with_confirmation`](Self::with_confirmation) refuses `Routine` where
/// a person must always be asked.
///
/// The typed constructors ([`pure`](Self::pure), [`read_only`](Self::read_only), …) return
/// a [`TypedContract`] whose type names the class; it converts into a
/// `CapabilityContract` with `.into()` wherever the class is only known at run time.
///
/// ```
/// use cnv_caps::{CapabilityClass, CapabilityContract, ResourceBand, SafetyProfile};
///
/// let contract = CapabilityContract::new(CapabilityClass::Network, ResourceBand::Slow);
/// assert_eq!(contract.safety(), SafetyProfile::HumanReviewRequired);
/// assert!(contract.with_safety(SafetyProfile::AgentSafe).is_err());
///
/// let pure: CapabilityContract = CapabilityContract::pure().into();
/// assert!(pure.is_agent_safe());
/// assert_eq!(pure.risk_score(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "serde_impl::ContractFields")
)]
pub struct CapabilityContract {
    #[cfg_attr(feature = "serde", serde(rename = "capability"))]
    class: CapabilityClass,
    #[cfg_attr(feature = "serde", serde(rename = "resource"))]
    band: ResourceBand,
    safety: SafetyProfile,
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "Confirmation::is_asked")
    )]
    confirmation: Confirmation,
    stability: StabilityProfile,
}

impl CapabilityContract {
    /// A contract of `class` in `band`, with the class's
    /// [default safety](CapabilityClass::default_safety) and `Stable` stability.
    #[must_use]
    pub const fn new(class: CapabilityClass, band: ResourceBand) -> Self {
        Self {
            class,
            band,
            safety: class.default_safety(),
            confirmation: Confirmation::Asked,
            stability: StabilityProfile::Stable,
        }
    }

    /// The same contract with another safety profile.
    ///
    /// # Errors
    ///
    /// [`ContractError::NotAgentSafe`] when `safety` is `AgentSafe` and the class is not
    /// agent-safe. Any class may ask for *more* review than its default.
    /// [`ContractError::ConfirmationRequired`] when `safety` is `InteractiveOnly` and the
    /// contract is [`Routine`](Confirmation::Routine).
    pub const fn with_safety(self, safety: SafetyProfile) -> Result<Self, ContractError> {
        if matches!(safety, SafetyProfile::AgentSafe) && !self.class.is_agent_safe() {
            return Err(ContractError::NotAgentSafe { class: self.class });
        }
        Self { safety, ..self }.checked_confirmation()
    }

    /// The same contract with another confirmation policy: [`Confirmation::Routine`]
    /// spares a person the prompt of a verb that is not agent-safe (an agent still
    /// justifies it).
    ///
    /// # Errors
    ///
    /// [`ContractError::ConfirmationRequired`] when `confirmation` is `Routine` and a
    /// person must always be asked: the class is `Dangerous` (a typed approval) or the
    /// safety is `InteractiveOnly`.
    ///
    /// ```
    /// use cnv_caps::{CapabilityContract, Confirmation};
    ///
    /// let add_note = CapabilityContract::read_write()
    ///     .with_confirmation(Confirmation::Routine)
    ///     .expect("a routine write");
    /// assert_eq!(add_note.contract().confirmation(), Confirmation::Routine);
    /// assert!(!add_note.contract().is_agent_safe(), "agents still justify it");
    /// assert!(CapabilityContract::dangerous().with_confirmation(Confirmation::Routine).is_err());
    /// ```
    pub const fn with_confirmation(
        self,
        confirmation: Confirmation,
    ) -> Result<Self, ContractError> {
        Self {
            confirmation,
            ..self
        }
        .checked_confirmation()
    }

    /// `self`, if its confirmation policy fits its class and safety.
    const fn checked_confirmation(self) -> Result<Self, ContractError> {
        let always_asked = match self.class {
            CapabilityClass::Dangerous => true,
            CapabilityClass::Pure
            | CapabilityClass::ReadOnlyFS
            | CapabilityClass::Environment
            | CapabilityClass::Network
            | CapabilityClass::ReadWriteFS
            | CapabilityClass::Subprocess => match self.safety {
                SafetyProfile::InteractiveOnly => true,
                SafetyProfile::AgentSafe | SafetyProfile::HumanReviewRequired => false,
            },
        };
        match self.confirmation {
            Confirmation::Routine if always_asked => Err(ContractError::ConfirmationRequired {
                class: self.class,
                safety: self.safety,
            }),
            Confirmation::Routine | Confirmation::Asked => Ok(self),
        }
    }

    /// The same contract in another resource band.
    #[must_use]
    pub const fn with_band(self, band: ResourceBand) -> Self {
        Self { band, ..self }
    }

    /// The same contract with another stability profile.
    #[must_use]
    pub const fn with_stability(self, stability: StabilityProfile) -> Self {
        Self { stability, ..self }
    }

    /// What the command may touch.
    #[must_use]
    pub const fn class(&self) -> CapabilityClass {
        self.class
    }

    /// How long it may run and how much memory it may use.
    #[must_use]
    pub const fn band(&self) -> ResourceBand {
        self.band
    }

    /// Who must be present when it runs.
    #[must_use]
    pub const fn safety(&self) -> SafetyProfile {
        self.safety
    }

    /// How much its interface may change.
    #[must_use]
    pub const fn stability(&self) -> StabilityProfile {
        self.stability
    }

    /// Whether a person confirms each run in human mode.
    #[must_use]
    pub const fn confirmation(&self) -> Confirmation {
        self.confirmation
    }

    /// Whether an autonomous agent may run it unsupervised: its safety is `AgentSafe`
    /// (which implies an agent-safe class).
    #[must_use]
    pub const fn is_agent_safe(&self) -> bool {
        matches!(self.safety, SafetyProfile::AgentSafe)
    }

    /// A risk score from 0 to 100 for ranking and thresholds:
    ///
    /// `8 × class risk level` (0–80) `+ band weight` (`Instant` 0, `Fast` 2, `Medium` 4,
    /// `Slow` 7, `Cold` 10) `+ stability weight` (`Stable` 0, `Preview` 3, `Deprecated`
    /// 4, `Experimental` 6, `NonDeterministic` 10).
    ///
    /// The class dominates: no band or stability lifts a class above the next one by more
    /// than its own step, and the safety profile is not part of the score because it is
    /// the *answer* to risk (who must watch), not a source of it. A pure, instant, stable
    /// contract scores 0; a dangerous, cold, non-deterministic one scores 100.
    #[must_use]
    pub const fn risk_score(&self) -> u8 {
        let band = match self.band {
            ResourceBand::Instant => 0,
            ResourceBand::Fast => 2,
            ResourceBand::Medium => 4,
            ResourceBand::Slow => 7,
            ResourceBand::Cold => 10,
        };
        8 * self.class.risk_level() + band + self.stability.risk_weight()
    }

    /// A typed `Pure` contract (band `Instant`).
    #[must_use]
    pub const fn pure() -> TypedContract<Pure> {
        TypedContract::new()
    }

    /// A typed `ReadOnlyFS` contract (band `Fast`).
    #[must_use]
    pub const fn read_only() -> TypedContract<ReadOnlyFS> {
        TypedContract::new()
    }

    /// A typed `Environment` contract (band `Instant`).
    #[must_use]
    pub const fn environment() -> TypedContract<Environment> {
        TypedContract::new()
    }

    /// A typed `Network` contract (band `Medium`).
    #[must_use]
    pub const fn network() -> TypedContract<Network> {
        TypedContract::new()
    }

    /// A typed `ReadWriteFS` contract (band `Fast`).
    #[must_use]
    pub const fn read_write() -> TypedContract<ReadWriteFS> {
        TypedContract::new()
    }

    /// A typed `Subprocess` contract (band `Medium`).
    #[must_use]
    pub const fn subprocess() -> TypedContract<Subprocess> {
        TypedContract::new()
    }

    /// A typed `Dangerous` contract (band `Slow`, safety `InteractiveOnly`).
    #[must_use]
    pub const fn dangerous() -> TypedContract<Dangerous> {
        TypedContract::new()
    }

    /// A typed contract of the class `C`, for generic code.
    #[must_use]
    pub const fn of<C: ConstRisk>() -> TypedContract<C> {
        TypedContract::new()
    }
}

/// The least authority: `Pure`, `Instant`, `AgentSafe`, `Stable`.
impl Default for CapabilityContract {
    fn default() -> Self {
        Self::pure().contract()
    }
}

impl fmt::Display for CapabilityContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (risk {}), {}, {}, {}",
            self.class,
            self.class.risk_level(),
            self.band,
            self.safety,
            self.stability
        )
    }
}

/// A [`CapabilityContract`] whose class is part of its type: `TypedContract<Network>` is
/// always a `Network` contract.
///
/// Typed contracts are what typed APIs take (a session verified with
/// `CapabilityContract::pure()` is a *pure* session, with no turbofish); band, safety and
/// stability stay run-time values. Convert into the run-time contract with `.into()` or
/// [`contract`](Self::contract); go back with `TryFrom`, which checks the class.
///
/// ```
/// use cnv_caps::{CapabilityContract, Network, ResourceBand, TypedContract};
///
/// let typed: TypedContract<Network> = CapabilityContract::network().with_band(ResourceBand::Slow);
/// let runtime: CapabilityContract = typed.into();
/// assert_eq!(TypedContract::<Network>::try_from(runtime), Ok(typed));
/// assert!(cnv_caps::TypedContract::<cnv_caps::Pure>::try_from(runtime).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypedContract<C: ConstRisk> {
    contract: CapabilityContract,
    class: PhantomData<C>,
}

impl<C: ConstRisk> TypedContract<C> {
    /// The contract of class `C` in the class's
    /// [default band](CapabilityClass::default_band), with its default safety.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            contract: CapabilityContract::new(C::CLASS, C::CLASS.default_band()),
            class: PhantomData,
        }
    }

    /// The same contract in another resource band.
    #[must_use]
    pub const fn with_band(self, band: ResourceBand) -> Self {
        Self {
            contract: self.contract.with_band(band),
            ..self
        }
    }

    /// The same contract with another stability profile.
    #[must_use]
    pub const fn with_stability(self, stability: StabilityProfile) -> Self {
        Self {
            contract: self.contract.with_stability(stability),
            ..self
        }
    }

    /// The same contract with another safety profile.
    ///
    /// # Errors
    ///
    /// [`ContractError::NotAgentSafe`] when `safety` is `AgentSafe` and `C` is not
    /// agent-safe.
    pub const fn with_safety(self, safety: SafetyProfile) -> Result<Self, ContractError> {
        match self.contract.with_safety(safety) {
            Ok(contract) => Ok(Self { contract, ..self }),
            Err(err) => Err(err),
        }
    }

    /// The same contract with another confirmation policy.
    ///
    /// # Errors
    ///
    /// [`ContractError::ConfirmationRequired`] when `confirmation` is `Routine` and `C`
    /// is `Dangerous` or the safety is `InteractiveOnly`.
    pub const fn with_confirmation(
        self,
        confirmation: Confirmation,
    ) -> Result<Self, ContractError> {
        match self.contract.with_confirmation(confirmation) {
            Ok(contract) => Ok(Self { contract, ..self }),
            Err(err) => Err(err),
        }
    }

    /// The run-time contract.
    #[must_use]
    pub const fn contract(&self) -> CapabilityContract {
        self.contract
    }

    /// `contract` as a contract of `C`, for code whose class the compiler has already
    /// checked (a command line's handler bound through its verb's generated arguments or
    /// `verb!`, against the grammar it was checked with): the one place that does not
    /// decide again. Not part of the public API; elsewhere, use `try_from`.
    #[doc(hidden)]
    #[must_use]
    pub const fn __checked_by_the_compiler(contract: CapabilityContract) -> Self {
        debug_assert!(contract.class as u8 == C::CLASS as u8);
        Self {
            contract,
            class: PhantomData,
        }
    }
}

impl<C: ConstRisk> Default for TypedContract<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: ConstRisk> From<TypedContract<C>> for CapabilityContract {
    fn from(typed: TypedContract<C>) -> Self {
        typed.contract
    }
}

impl<C: ConstRisk> TryFrom<CapabilityContract> for TypedContract<C> {
    type Error = ContractError;

    /// Refines a run-time contract whose class is `C`.
    ///
    /// # Errors
    ///
    /// [`ContractError::ClassMismatch`] when the contract's class is not `C`.
    fn try_from(contract: CapabilityContract) -> Result<Self, Self::Error> {
        if contract.class == C::CLASS {
            Ok(Self {
                contract,
                class: PhantomData,
            })
        } else {
            Err(ContractError::ClassMismatch {
                expected: C::CLASS,
                found: contract.class,
            })
        }
    }
}

impl<C: ConstRisk> PartialEq<CapabilityContract> for TypedContract<C> {
    fn eq(&self, other: &CapabilityContract) -> bool {
        self.contract == *other
    }
}

impl<C: ConstRisk> PartialEq<TypedContract<C>> for CapabilityContract {
    fn eq(&self, other: &TypedContract<C>) -> bool {
        *self == other.contract
    }
}

impl<C: ConstRisk> fmt::Display for TypedContract<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.contract, f)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;

    /// The wire form of a contract, validated into a [`CapabilityContract`]. `safety`
    /// may be omitted (the class default applies); `stability` defaults to `Stable`.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct ContractFields {
        capability: CapabilityClass,
        resource: ResourceBand,
        #[serde(default)]
        safety: Option<SafetyProfile>,
        #[serde(default)]
        confirmation: Option<Confirmation>,
        #[serde(default)]
        stability: Option<StabilityProfile>,
    }

    impl TryFrom<ContractFields> for CapabilityContract {
        type Error = ContractError;

        fn try_from(fields: ContractFields) -> Result<Self, ContractError> {
            let contract = Self::new(fields.capability, fields.resource)
                .with_stability(fields.stability.unwrap_or(StabilityProfile::Stable));
            let contract = match fields.safety {
                Some(safety) => contract.with_safety(safety)?,
                None => contract,
            };
            contract.with_confirmation(fields.confirmation.unwrap_or(Confirmation::Asked))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_constructors_name_their_class() {
        assert_eq!(
            CapabilityContract::pure().contract().class(),
            CapabilityClass::Pure
        );
        assert_eq!(
            CapabilityContract::read_only().contract().class(),
            CapabilityClass::ReadOnlyFS
        );
        assert_eq!(
            CapabilityContract::environment().contract().class(),
            CapabilityClass::Environment
        );
        assert_eq!(
            CapabilityContract::network().contract().class(),
            CapabilityClass::Network
        );
        assert_eq!(
            CapabilityContract::read_write().contract().class(),
            CapabilityClass::ReadWriteFS
        );
        assert_eq!(
            CapabilityContract::subprocess().contract().class(),
            CapabilityClass::Subprocess
        );
        assert_eq!(
            CapabilityContract::dangerous().contract().class(),
            CapabilityClass::Dangerous
        );
    }

    #[test]
    fn default_safety_follows_the_class() {
        for class in CapabilityClass::ALL {
            let contract = CapabilityContract::new(*class, ResourceBand::Fast);
            assert_eq!(contract.safety(), class.default_safety());
            assert_eq!(contract.is_agent_safe(), class.is_agent_safe());
        }
    }

    #[test]
    fn agent_safe_is_refused_for_unsafe_classes() {
        for class in CapabilityClass::ALL {
            let contract = CapabilityContract::new(*class, ResourceBand::Fast);
            let result = contract.with_safety(SafetyProfile::AgentSafe);
            if class.is_agent_safe() {
                assert!(result.is_ok(), "{class}");
            } else {
                assert_eq!(result, Err(ContractError::NotAgentSafe { class: *class }));
            }
            // More review is always allowed.
            assert!(contract.with_safety(SafetyProfile::InteractiveOnly).is_ok());
        }
    }

    #[test]
    fn risk_score_spans_0_to_100_and_the_class_dominates() {
        let lowest = CapabilityContract::new(CapabilityClass::Pure, ResourceBand::Instant);
        assert_eq!(lowest.risk_score(), 0);
        let highest = CapabilityContract::new(CapabilityClass::Dangerous, ResourceBand::Cold)
            .with_stability(StabilityProfile::NonDeterministic);
        assert_eq!(highest.risk_score(), 100);
        let worst_read_only =
            CapabilityContract::new(CapabilityClass::ReadOnlyFS, ResourceBand::Cold)
                .with_stability(StabilityProfile::NonDeterministic);
        let best_network = CapabilityContract::new(CapabilityClass::Network, ResourceBand::Instant);
        assert!(worst_read_only.risk_score() < best_network.risk_score());
        assert_eq!(best_network.risk_score(), 40);
    }

    #[test]
    fn try_from_checks_the_class() {
        let runtime: CapabilityContract = CapabilityContract::subprocess().into();
        assert!(TypedContract::<Subprocess>::try_from(runtime).is_ok());
        assert_eq!(
            TypedContract::<Network>::try_from(runtime),
            Err(ContractError::ClassMismatch {
                expected: CapabilityClass::Network,
                found: CapabilityClass::Subprocess,
            })
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_dsl_names_and_refuses_contradictions() {
        let contract = CapabilityContract::new(CapabilityClass::ReadOnlyFS, ResourceBand::Fast);
        let json = serde_json::to_string(&contract).expect("serializes");
        assert_eq!(
            json,
            r#"{"capability":"ReadOnlyFS","resource":"Fast","safety":"AgentSafe","stability":"Stable"}"#
        );
        assert_eq!(
            serde_json::from_str::<CapabilityContract>(&json).expect("round trip"),
            contract
        );
        let defaulted: CapabilityContract =
            serde_json::from_str(r#"{"capability":"Network","resource":"Slow"}"#).expect("parses");
        assert_eq!(defaulted.safety(), SafetyProfile::HumanReviewRequired);
        let err = serde_json::from_str::<CapabilityContract>(
            r#"{"capability":"Network","resource":"Slow","safety":"AgentSafe"}"#,
        )
        .expect_err("a network contract cannot be agent-safe");
        assert!(
            alloc::format!("{err}").contains("cannot be `AgentSafe`"),
            "{err}"
        );
        assert!(
            serde_json::from_str::<CapabilityContract>(
                r#"{"capability":"Netwrk","resource":"Slow"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn default_is_least_authority() {
        let contract = CapabilityContract::default();
        assert_eq!(contract, CapabilityContract::pure());
        assert_eq!(contract.band(), ResourceBand::Instant);
        assert_eq!(contract.risk_score(), 0);
    }

    #[test]
    fn routine_confirmation_is_refused_where_a_person_is_always_asked() {
        let routine = CapabilityContract::read_write()
            .with_confirmation(Confirmation::Routine)
            .expect("a routine write");
        assert_eq!(routine.contract().confirmation(), Confirmation::Routine);
        assert_eq!(
            routine.with_safety(SafetyProfile::InteractiveOnly),
            Err(ContractError::ConfirmationRequired {
                class: CapabilityClass::ReadWriteFS,
                safety: SafetyProfile::InteractiveOnly,
            })
        );
        assert!(
            CapabilityContract::dangerous()
                .with_confirmation(Confirmation::Routine)
                .is_err()
        );
        assert!(
            CapabilityContract::network()
                .with_safety(SafetyProfile::InteractiveOnly)
                .and_then(|c| c.with_confirmation(Confirmation::Routine))
                .is_err()
        );
        // Asked is always allowed, and the default.
        assert_eq!(
            CapabilityContract::dangerous().contract().confirmation(),
            Confirmation::Asked
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_keeps_a_routine_confirmation_and_leaves_the_default_out() {
        let routine: CapabilityContract = CapabilityContract::read_write()
            .with_confirmation(Confirmation::Routine)
            .expect("routine")
            .into();
        let json = serde_json::to_string(&routine).expect("serialises");
        assert!(json.contains(r#""confirmation":"Routine""#), "{json}");
        assert_eq!(
            serde_json::from_str::<CapabilityContract>(&json).expect("round trip"),
            routine
        );
        let asked = serde_json::to_string(&CapabilityContract::read_write().contract())
            .expect("serialises");
        assert!(!asked.contains("confirmation"), "{asked}");
        assert!(
            serde_json::from_str::<CapabilityContract>(
                r#"{"capability":"Dangerous","resource":"Slow","confirmation":"Routine"}"#
            )
            .is_err()
        );
    }
}
