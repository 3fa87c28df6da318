//! The escalation lattice at the type level: which class may follow which, the modes a
//! session runs in, and which classes a mode may hold.
//!
//! The classes are ordered by risk, `Pure` (0) < `ReadOnlyFS` (2) < `Environment` (3) <
//! `Network` (5) < `ReadWriteFS` (6) < `Subprocess` (8) < `Dangerous` (10), and the
//! order is a chain: every class is comparable with every other. An escalation moves up
//! the chain ([`EscalateFrom`]), a narrowing moves down ([`NarrowFrom`]). Every trait
//! here is implemented by this crate for cnv's seven classes and by nothing else.

use core::fmt;

use cnv_caps::{
    AgentSafeCapability, CapabilityClass, ConstRisk, Dangerous, Environment, Network, Pure,
    ReadOnlyFS, ReadWriteFS, RunMode, Subprocess,
};

use crate::sealed::Sealed;

/// `Self` is riskier than `From`, so a session holding `From` may escalate to `Self`.
#[diagnostic::on_unimplemented(
    message = "cannot escalate from `{From}` to `{Self}`: an escalation must raise the risk",
    label = "`{Self}` is not riskier than `{From}`",
    note = "the escalation order is Pure (0) < ReadOnlyFS (2) < Environment (3) < Network (5) < ReadWriteFS (6) < Subprocess (8) < Dangerous (10)",
    note = "to give up capability, call `narrow(contract)` instead (it needs no justification); a session that already holds the class needs neither"
)]
pub trait EscalateFrom<From: ConstRisk>: ConstRisk + Sealed {}

/// `Self` is less risky than `From`, so a session holding `From` may narrow to `Self`.
#[diagnostic::on_unimplemented(
    message = "cannot narrow from `{From}` to `{Self}`: narrowing must lower the risk",
    label = "`{Self}` is not less risky than `{From}`",
    note = "the escalation order is Pure (0) < ReadOnlyFS (2) < Environment (3) < Network (5) < ReadWriteFS (6) < Subprocess (8) < Dangerous (10)",
    note = "to gain capability, call `escalate(contract, justification)` instead; the policy checks the justification"
)]
pub trait NarrowFrom<From: ConstRisk>: ConstRisk + Sealed {}

/// A session of mode `M` may reach `Self` with a justification alone, without a human's
/// approval: every class but [`Dangerous`], in either mode.
///
/// This is the bound of [`verify`](crate::TypedSession::verify) and
/// [`escalate`](crate::TypedSession::escalate).
#[diagnostic::on_unimplemented(
    message = "this `{M}` session cannot reach `{Self}` with a justification alone",
    label = "reaching `{Self}` needs a human",
    note = "an `Autonomous` session can never hold `Dangerous`, by any path: an agent must not be able to grant itself authority that no one reviews; run the command in a `Supervised` session instead",
    note = "a `Supervised` session reaches `Dangerous` only with a human's approval: obtain a `HumanApproval` (e.g. `HumanApproval::confirm_on_terminal`) and call `escalate_approved(contract, justification, approval)`"
)]
pub trait NoApprovalNeeded<M: SessionMode>: ConstRisk + Sealed {}

/// A session of mode `M` may hold `Self` at all: every class in a [`Supervised`] session,
/// every class but [`Dangerous`] in an [`Autonomous`] one.
///
/// This is the bound of the approved escalation,
/// [`escalate_approved`](crate::TypedSession::escalate_approved).
#[diagnostic::on_unimplemented(
    message = "this `{M}` session can never hold `{Self}`",
    label = "`{Self}` is out of reach in this mode",
    note = "an `Autonomous` session can never hold `Dangerous`, by any path and with any approval: an agent must not be able to grant itself authority that no one reviews",
    note = "run the command in a `Supervised` session, where a `HumanApproval` lets it reach `Dangerous`"
)]
pub trait AllowedIn<M: SessionMode>: ConstRisk + Sealed {}

/// Type-level dispatch on a class, for code generic over it.
///
/// A program that binds handlers to verbs is generic over the verb's class `C`, but the
/// transitions it needs have bounds (`C: NoApprovalNeeded<M>`, `C: EscalateFrom<Pure>`)
/// that a generic `C` does not satisfy. [`visit`](Self::visit) calls the one method of a
/// [`ClassVisitor`] that applies to `C` in mode `M`, and that method's `where` clause
/// hands the bounds over. Nothing is decided at run time; no session of a forbidden
/// combination can be named or made.
///
/// ```
/// use cnv_caps::{CapabilityContract, ConstRisk, Pure, TypedContract};
/// use cnv_typestate::*;
///
/// /// Brings a session to class `C` the way an agent-facing CLI might.
/// struct Enter<'a, M: SessionMode> {
///     session: TypedSession<Unverified, M>,
///     justification: &'a str,
/// }
///
/// impl<C: ConstRisk, M: SessionMode> ClassVisitor<C, M> for Enter<'_, M> {
///     type Output = Result<String, EscalationError>;
///     fn agent_safe(self) -> Self::Output
///     where
///         C: cnv_caps::AgentSafeCapability + NoApprovalNeeded<M>,
///     {
///         let session = self.session.verify(CapabilityContract::of::<C>());
///         Ok(session.execute(|| format!("ran {}", C::NAME)))
///     }
///     fn justified_or_confirmed(self) -> Self::Output
///     where
///         C: NoApprovalNeeded<M> + EscalateFrom<Pure> + EscalateFrom<cnv_caps::ReadOnlyFS>,
///     {
///         let session = self.session.verify(CapabilityContract::pure());
///         let session = session.escalate(CapabilityContract::of::<C>(), self.justification)?;
///         Ok(session.execute(|| format!("ran {}", C::NAME)))
///     }
///     fn approval_required(self) -> Self::Output
///     where
///         C: AllowedIn<M> + EscalateFrom<Pure> + EscalateFrom<cnv_caps::ReadOnlyFS>,
///     {
///         Err(EscalationError::ApprovalRequired { from: cnv_caps::CapabilityClass::Pure, to: C::CLASS })
///     }
///     fn forbidden(self) -> Self::Output {
///         Err(EscalationError::DangerousInAutonomousMode { from: cnv_caps::CapabilityClass::Pure })
///     }
/// }
///
/// fn run<C: TypedClass, M: SessionMode>(justification: &str) -> Result<String, EscalationError> {
///     let session = TypedSession::<Unverified, M>::with_name("cli");
///     C::visit(Enter { session, justification })
/// }
///
/// assert_eq!(run::<cnv_caps::ReadOnlyFS, Autonomous>("").unwrap(), "ran ReadOnlyFS");
/// assert_eq!(
///     run::<cnv_caps::Network, Autonomous>("fetch the release index from the mirror").unwrap(),
///     "ran Network"
/// );
/// assert!(run::<cnv_caps::Network, Autonomous>("because").is_err());
/// assert!(run::<cnv_caps::Dangerous, Autonomous>("no justification is ever enough here").is_err());
/// ```
pub trait TypedClass: ConstRisk + Sealed {
    /// Calls the method of `visitor` that applies to `Self` in mode `M`:
    /// [`agent_safe`](ClassVisitor::agent_safe) for `Pure` and `ReadOnlyFS`,
    /// [`justified_or_confirmed`](ClassVisitor::justified_or_confirmed) for `Environment`, `Network`,
    /// `ReadWriteFS` and `Subprocess`, and for `Dangerous`
    /// [`approval_required`](ClassVisitor::approval_required) in a `Supervised`
    /// session or [`forbidden`](ClassVisitor::forbidden) in an `Autonomous` one.
    fn visit<M: SessionMode, V: ClassVisitor<Self, M>>(visitor: V) -> V::Output;
}

/// The four cases of [`TypedClass::visit`]; each method's `where` clause is what the
/// type system then knows about `C` in mode `M`.
pub trait ClassVisitor<C: ConstRisk, M: SessionMode> {
    /// What every method returns.
    type Output;

    /// `C` is `Pure` or `ReadOnlyFS`: agent-safe, verified without a justification.
    fn agent_safe(self) -> Self::Output
    where
        C: AgentSafeCapability + NoApprovalNeeded<M>;

    /// `C` is `Environment`, `Network`, `ReadWriteFS` or `Subprocess`: reachable in either
    /// mode without a human's approval, with what the policy asks of the mode — a
    /// justification from an agent, a person's confirmation in a supervised session
    /// (unless the contract is routine).
    fn justified_or_confirmed(self) -> Self::Output
    where
        C: NoApprovalNeeded<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>;

    /// `C` is `Dangerous` and `M` is `Supervised`: reachable only with a
    /// [`HumanApproval`](crate::HumanApproval).
    fn approval_required(self) -> Self::Output
    where
        C: AllowedIn<M> + EscalateFrom<Pure> + EscalateFrom<ReadOnlyFS>;

    /// `C` is `Dangerous` and `M` is `Autonomous`: never reachable.
    fn forbidden(self) -> Self::Output;
}

/// The chain of the classes, from cnv-caps' one ordered list: every class is sealed, every
/// pair (lower, higher) may escalate up and narrow down, and each class's risk level is at
/// least its predecessor's.
macro_rules! chain {
    // Every pair (lower, higher) of the chain, lowest first.
    (@pairs $low:ident $(, $high:ident)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl EscalateFrom<$low> for $high {}
            #[diagnostic::do_not_recommend]
            impl NarrowFrom<$high> for $low {}
        )*
        chain!(@pairs $($high),*);
    };
    (@pairs) => {};
    // Every adjacent pair: the type-level order is the run-time risk order of cnv-caps.
    (@adjacent $low:ident, $high:ident $(, $rest:ident)*) => {
        const _: () = {
            const fn raises<Low: ConstRisk, High: EscalateFrom<Low>>() -> bool {
                Low::RISK_LEVEL <= High::RISK_LEVEL && (Low::CLASS as u8) < (High::CLASS as u8)
            }
            assert!(raises::<$low, $high>());
        };
        chain!(@adjacent $high $(, $rest)*);
    };
    (@adjacent $last:ident) => {};
    ($($class:ident),+) => {
        $(impl Sealed for $class {})+
        chain!(@pairs $($class),+);
        chain!(@adjacent $($class),+);
    };
}

cnv_caps::__for_each_capability_class!(chain);

macro_rules! reachable_without_approval {
    ($visit:ident: $($class:ident),+) => {$(
        #[diagnostic::do_not_recommend]
        impl<M: SessionMode> NoApprovalNeeded<M> for $class {}
        #[diagnostic::do_not_recommend]
        impl<M: SessionMode> AllowedIn<M> for $class {}
        impl TypedClass for $class {
            fn visit<M: SessionMode, V: ClassVisitor<Self, M>>(visitor: V) -> V::Output {
                visitor.$visit()
            }
        }
    )+};
}

reachable_without_approval!(agent_safe: Pure, ReadOnlyFS);
reachable_without_approval!(justified_or_confirmed: Environment, Network, ReadWriteFS, Subprocess);

#[diagnostic::do_not_recommend]
impl AllowedIn<Supervised> for Dangerous {}

impl TypedClass for Dangerous {
    fn visit<M: SessionMode, V: ClassVisitor<Self, M>>(visitor: V) -> V::Output {
        M::visit_dangerous(visitor)
    }
}

/// Every run-time class has its place in the type-level lattice: a visit (so generic code
/// such as a command line can reach it) and, but for `Pure`, an escalation from `Pure`.
/// The `match` is exhaustive: a new class does not compile until it is placed in
/// `chain!` and given a visit above.
const fn in_lattice(class: CapabilityClass) {
    const fn member<C: TypedClass>() {}
    const fn above_pure<C: TypedClass + EscalateFrom<Pure>>() {}
    match class {
        CapabilityClass::Pure => member::<Pure>(),
        CapabilityClass::ReadOnlyFS => above_pure::<ReadOnlyFS>(),
        CapabilityClass::Environment => above_pure::<Environment>(),
        CapabilityClass::Network => above_pure::<Network>(),
        CapabilityClass::ReadWriteFS => above_pure::<ReadWriteFS>(),
        CapabilityClass::Subprocess => above_pure::<Subprocess>(),
        CapabilityClass::Dangerous => above_pure::<Dangerous>(),
    }
}

const _: () = {
    let mut i = 0;
    while i < CapabilityClass::COUNT {
        in_lattice(CapabilityClass::ALL[i]);
        i += 1;
    }
};

// Everything below `Dangerous` is allowed in an autonomous session.
const _: () = {
    const fn allowed<C: AllowedIn<Autonomous>>() {}
    allowed::<Subprocess>();
};

/// The mode of a session in which no human reads each step: an agent drives it. A
/// session in this mode can never hold [`Dangerous`], by any path; the compiler refuses.
pub struct Autonomous {
    _private: (),
}

/// The mode of a session a human supervises. [`Dangerous`] is reachable, but only with a
/// [`HumanApproval`](crate::HumanApproval).
pub struct Supervised {
    _private: (),
}

/// A session mode: [`Autonomous`] or [`Supervised`]. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cnv session mode",
    label = "expected `Autonomous` or `Supervised`",
    note = "the modes are `Autonomous` (an agent drives the session) and `Supervised` (a human does); the set is sealed"
)]
pub trait SessionMode: Sealed + Send + Sync + Sized + 'static {
    /// The run-time twin of the mode.
    const MODE: RunMode;

    /// The type-level decision for `Dangerous` in this mode (see
    /// [`TypedClass::visit`](crate::TypedClass::visit)).
    #[doc(hidden)]
    fn visit_dangerous<V: ClassVisitor<Dangerous, Self>>(visitor: V) -> V::Output;
}

impl Sealed for Autonomous {}
impl Sealed for Supervised {}

impl SessionMode for Autonomous {
    const MODE: RunMode = RunMode::Autonomous;

    fn visit_dangerous<V: ClassVisitor<Dangerous, Self>>(visitor: V) -> V::Output {
        visitor.forbidden()
    }
}

impl SessionMode for Supervised {
    const MODE: RunMode = RunMode::Supervised;

    fn visit_dangerous<V: ClassVisitor<Dangerous, Self>>(visitor: V) -> V::Output {
        visitor.approval_required()
    }
}

impl fmt::Debug for Autonomous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Autonomous")
    }
}

impl fmt::Debug for Supervised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Supervised")
    }
}

// The modes cost nothing, as the states.
const _: () = {
    assert!(size_of::<Autonomous>() == 0);
    assert!(size_of::<Supervised>() == 0);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_level_modes_name_their_run_time_twins() {
        assert_eq!(Autonomous::MODE, RunMode::Autonomous);
        assert_eq!(Supervised::MODE, RunMode::Supervised);
    }
}
