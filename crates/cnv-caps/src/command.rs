//! `ValidatedCommand`: a command name whose capability class and resource band are part
//! of its type.

use core::fmt;
use core::marker::PhantomData;

use crate::{CapabilityClass, CapabilityContract, ConstResourceBand, ConstRisk, ResourceBand};

/// A named command whose capability class `Cap` and resource band `R` are part of its
/// type, so bounds such as [`AgentSafeCapability`](crate::AgentSafeCapability) check it at
/// compile time.
///
/// It is zero-sized apart from its name (one `&'static str`), and every accessor is a
/// `const fn` answered from the type.
///
/// ```
/// use cnv_caps::*;
///
/// const CMD: ValidatedCommand<ReadOnlyFS, Fast> = ValidatedCommand::new("read-config");
/// const RISK: u8 = CMD.risk_level();
/// assert_eq!(RISK, 2);
/// assert!(CMD.is_agent_safe());
/// assert_eq!(CMD.max_runtime_ms(), 1_000);
/// assert_eq!(std::mem::size_of_val(&CMD), std::mem::size_of::<&str>());
/// ```
pub struct ValidatedCommand<Cap: ConstRisk, R: ConstResourceBand> {
    name: &'static str,
    marker: PhantomData<fn() -> (Cap, R)>,
}

impl<Cap: ConstRisk, R: ConstResourceBand> ValidatedCommand<Cap, R> {
    /// A command called `name`.
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            marker: PhantomData,
        }
    }

    /// The command's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The capability class, `Cap::CLASS`.
    #[must_use]
    pub const fn class(&self) -> CapabilityClass {
        Cap::CLASS
    }

    /// The resource band, `R::BAND`.
    #[must_use]
    pub const fn band(&self) -> ResourceBand {
        R::BAND
    }

    /// The risk level of the class, `Cap::RISK_LEVEL`.
    #[must_use]
    pub const fn risk_level(&self) -> u8 {
        Cap::RISK_LEVEL
    }

    /// Whether the class is agent-safe, `Cap::IS_AGENT_SAFE`.
    #[must_use]
    pub const fn is_agent_safe(&self) -> bool {
        Cap::IS_AGENT_SAFE
    }

    /// The runtime budget in milliseconds, `R::MAX_RUNTIME_MS` (`u64::MAX` for `Cold`).
    #[must_use]
    pub const fn max_runtime_ms(&self) -> u64 {
        R::MAX_RUNTIME_MS
    }

    /// The memory budget in bytes, `R::MAX_MEMORY_BYTES` (`u64::MAX` for `Cold`).
    #[must_use]
    pub const fn max_memory_bytes(&self) -> u64 {
        R::MAX_MEMORY_BYTES
    }

    /// The run-time contract: this class and band, the class's default safety, `Stable`.
    #[must_use]
    pub const fn contract(&self) -> CapabilityContract {
        CapabilityContract::new(Cap::CLASS, R::BAND)
    }
}

impl<Cap: ConstRisk, R: ConstResourceBand> Clone for ValidatedCommand<Cap, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Cap: ConstRisk, R: ConstResourceBand> Copy for ValidatedCommand<Cap, R> {}

impl<Cap: ConstRisk, R: ConstResourceBand> PartialEq for ValidatedCommand<Cap, R> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<Cap: ConstRisk, R: ConstResourceBand> Eq for ValidatedCommand<Cap, R> {}

impl<Cap: ConstRisk, R: ConstResourceBand> core::hash::Hash for ValidatedCommand<Cap, R> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl<Cap: ConstRisk, R: ConstResourceBand> fmt::Debug for ValidatedCommand<Cap, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedCommand")
            .field("name", &self.name)
            .field("class", &Cap::CLASS)
            .field("band", &R::BAND)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cold, Dangerous, Network, Pure};
    use alloc::format;

    #[test]
    fn accessors_answer_from_the_type() {
        let cmd = ValidatedCommand::<Network, Cold>::new("fetch");
        assert_eq!(cmd.name(), "fetch");
        assert_eq!(cmd.class(), CapabilityClass::Network);
        assert_eq!(cmd.band(), ResourceBand::Cold);
        assert_eq!(cmd.risk_level(), 5);
        assert!(!cmd.is_agent_safe());
        assert_eq!(cmd.max_runtime_ms(), u64::MAX);
        assert_eq!(cmd.max_memory_bytes(), u64::MAX);
        assert_eq!(
            cmd.contract(),
            CapabilityContract::new(CapabilityClass::Network, ResourceBand::Cold)
        );
    }

    #[test]
    fn only_the_name_takes_space() {
        assert_eq!(
            size_of::<ValidatedCommand<Dangerous, Cold>>(),
            size_of::<&'static str>()
        );
    }

    #[test]
    fn debug_shows_class_and_band() {
        let cmd = ValidatedCommand::<Pure, crate::Instant>::new("echo");
        assert_eq!(
            format!("{cmd:?}"),
            r#"ValidatedCommand { name: "echo", class: Pure, band: Instant }"#
        );
    }
}
