//! Safety and stability profiles.

vocabulary! {
    /// Who must be present when a command runs. Ordered from least to most restrictive.
    ///
    /// A contract's default safety follows its class
    /// ([`CapabilityClass::default_safety`](crate::CapabilityClass::default_safety)), and
    /// only an agent-safe class may be `AgentSafe`.
    pub enum SafetyProfile, kind = "safety profile" {
        /// An autonomous agent may run it without a human.
        AgentSafe,
        /// A human must review (confirm) each run; an agent needs a justified escalation.
        HumanReviewRequired,
        /// Only a human at an interactive terminal may run it.
        InteractiveOnly,
    }
}

impl SafetyProfile {
    /// Whether this profile puts a human in the loop (every profile but `AgentSafe`).
    #[must_use]
    pub const fn requires_human(self) -> bool {
        !matches!(self, Self::AgentSafe)
    }
}

vocabulary! {
    /// Whether a person running a command that is not agent-safe confirms each run
    /// (human mode only: in agent mode the [`SafetyProfile`] alone decides, and an agent
    /// justifies whatever this says).
    ///
    /// | safety | `Asked` (default) | `Routine` |
    /// |---|---|---|
    /// | `AgentSafe` | nobody is asked | nobody is asked |
    /// | `HumanReviewRequired` | a person confirms (`[y/N]`, or `--yes` in a script) | a person runs it without a prompt |
    /// | `InteractiveOnly` | a person confirms at a terminal | not allowed |
    ///
    /// `Dangerous` always needs a person's typed approval, so it cannot be `Routine`.
    pub enum Confirmation, kind = "confirmation" {
        /// A person confirms each run.
        Asked,
        /// A person runs it without a prompt; an agent still needs a justification.
        Routine,
    }
}

impl Confirmation {
    /// Whether a person is asked (the default, which serialised contracts leave out).
    #[must_use]
    pub const fn is_asked(&self) -> bool {
        match self {
            Self::Asked => true,
            Self::Routine => false,
        }
    }
}

vocabulary! {
    /// How much a caller may rely on a command's interface and output.
    pub enum StabilityProfile, kind = "stability profile" {
        /// Interface and behaviour are covered by semantic versioning.
        Stable,
        /// Close to stable; may still change in a minor release.
        Preview,
        /// May change or disappear in any release.
        Experimental,
        /// Still works, but is going away; a replacement exists.
        Deprecated,
        /// Stable interface, but output differs between runs (time, randomness, the world).
        NonDeterministic,
    }
}

impl StabilityProfile {
    /// The weight this profile adds to
    /// [`CapabilityContract::risk_score`](crate::CapabilityContract::risk_score): how
    /// much less predictable it makes a command (0 for `Stable`, 10 for
    /// `NonDeterministic`).
    #[must_use]
    pub const fn risk_weight(self) -> u8 {
        match self {
            Self::Stable => 0,
            Self::Preview => 3,
            Self::Deprecated => 4,
            Self::Experimental => 6,
            Self::NonDeterministic => 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip() {
        for p in SafetyProfile::ALL {
            assert_eq!(p.to_string().parse::<SafetyProfile>(), Ok(*p));
        }
        for p in StabilityProfile::ALL {
            assert_eq!(p.to_string().parse::<StabilityProfile>(), Ok(*p));
        }
        assert_eq!(
            "non-deterministic".parse::<StabilityProfile>(),
            Ok(StabilityProfile::NonDeterministic)
        );
    }

    #[test]
    fn only_agent_safe_skips_the_human() {
        assert!(!SafetyProfile::AgentSafe.requires_human());
        assert!(SafetyProfile::HumanReviewRequired.requires_human());
        assert!(SafetyProfile::InteractiveOnly.requires_human());
        assert!(SafetyProfile::AgentSafe < SafetyProfile::InteractiveOnly);
    }

    #[test]
    fn bad_profile_names_are_refused_with_a_suggestion() {
        let err = "HumanReview".parse::<SafetyProfile>().unwrap_err();
        assert_eq!(err.kind(), "safety profile");
        // A name cut short is a close one: the one "did you mean" rule of cnv.
        assert_eq!(err.suggestion(), Some("HumanReviewRequired"));
        let err = "Careful".parse::<SafetyProfile>().unwrap_err();
        assert_eq!(err.suggestion(), None);
        let err = "Stabel".parse::<StabilityProfile>().unwrap_err();
        assert_eq!(err.suggestion(), Some("Stable"));
    }
}
