//! The states a session moves through and the modes it runs in, all zero-sized.

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;

use cnv_caps::{CapabilityClass, ConstRisk, Dangerous};
use serde::{Deserialize, Serialize};

use crate::lattice::ClassVisitor;
use crate::sealed::Sealed;

/// The state of a session that holds no capability yet: it can only be
/// [verified](crate::TypedSession::verify).
///
/// The state is a type, never a value you hold; it cannot be constructed outside this
/// crate.
pub struct Unverified {
    _private: (),
}

/// The state of a session verified to hold capability class `C` (one of cnv's
/// type-level classes: [`Pure`](cnv_caps::Pure), [`Network`](cnv_caps::Network), …).
///
/// Only [`verify`](crate::TypedSession::verify), its approved form and
/// [`narrow`](crate::TypedSession::narrow) produce a session in this state; the state
/// itself cannot be constructed outside this crate.
pub struct Verified<C: ConstRisk> {
    _class: PhantomData<fn() -> C>,
}

/// The state of a session that was verified as `Origin` and has since been escalated to
/// hold `Current`.
///
/// `Origin` stays the class the session was verified with through a chain of
/// escalations (`Pure` → `Network` → `Subprocess` is `Escalated<Pure, Subprocess>`); the
/// audit trail has every step. Only the `escalate` methods produce it.
pub struct Escalated<Origin: ConstRisk, Current: ConstRisk> {
    _classes: PhantomData<fn() -> (Origin, Current)>,
}

/// A session state: [`Unverified`], [`Verified`] or [`Escalated`]. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cnv session state",
    label = "not one of cnv's session states",
    note = "the states are `Unverified`, `Verified<C>` and `Escalated<Origin, C>`, and the set is sealed: a state of one's own could claim a capability no one granted; use `TypedSession::verify` and `escalate` to move between them"
)]
pub trait SessionState: Sealed + Send + Sync + 'static {
    /// The class a session in this state holds, `None` when unverified.
    const CURRENT: Option<CapabilityClass>;

    /// Writes the state's name, e.g. `Escalated<Pure, Network>`.
    #[doc(hidden)]
    fn fmt_name(f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A state in which the session holds a capability: [`Verified<C>`] and
/// [`Escalated<Origin, C>`], both with `Current = C`. Sealed.
///
/// Write code generic over "a session whose current capability is `C`" with it, however
/// the session got there:
///
/// ```
/// use cnv_typestate::{Authorized, SessionMode, TypedSession};
/// use cnv_caps::Network;
///
/// fn fetch<S: Authorized<Current = Network>, M: SessionMode>(session: &TypedSession<S, M>) -> usize {
///     session.execute(|| 42)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "an unverified session holds no capability, so it can neither execute nor escalate",
    label = "this session is `{Self}`",
    note = "verify it first with the class the code needs, e.g. `let session = session.verify(CapabilityContract::pure());`, then call this method on the verified session"
)]
pub trait Authorized: SessionState {
    /// The class the session was verified with.
    type Origin: ConstRisk;
    /// The class the session holds now.
    type Current: ConstRisk;
}

/// `Self` holds `Current` and was verified as `Origin`: the form of [`Authorized`] that
/// the transitions use, so that both classes are inferred from the session's type.
/// Implemented for every `Authorized` state, and for nothing else.
#[diagnostic::on_unimplemented(
    message = "an unverified session holds no capability, so it can neither execute nor escalate",
    label = "this session is `{Self}`",
    note = "verify it first with the class the code needs, e.g. `let session = session.verify(CapabilityContract::pure());`, then call this method on the verified session"
)]
pub trait Holds<Origin: ConstRisk, Current: ConstRisk>: SessionState {}

impl<S: Authorized> Holds<S::Origin, S::Current> for S {}

impl Sealed for Unverified {}
impl<C: ConstRisk> Sealed for Verified<C> {}
impl<O: ConstRisk, C: ConstRisk> Sealed for Escalated<O, C> {}

impl SessionState for Unverified {
    const CURRENT: Option<CapabilityClass> = None;

    fn fmt_name(f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unverified")
    }
}

impl<C: ConstRisk> SessionState for Verified<C> {
    const CURRENT: Option<CapabilityClass> = Some(C::CLASS);

    fn fmt_name(f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verified<{}>", C::NAME)
    }
}

impl<O: ConstRisk, C: ConstRisk> SessionState for Escalated<O, C> {
    const CURRENT: Option<CapabilityClass> = Some(C::CLASS);

    fn fmt_name(f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Escalated<{}, {}>", O::NAME, C::NAME)
    }
}

#[diagnostic::do_not_recommend]
impl<C: ConstRisk> Authorized for Verified<C> {
    type Origin = C;
    type Current = C;
}

#[diagnostic::do_not_recommend]
impl<O: ConstRisk, C: ConstRisk> Authorized for Escalated<O, C> {
    type Origin = O;
    type Current = C;
}

impl fmt::Debug for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Self::fmt_name(f)
    }
}

impl<C: ConstRisk> fmt::Debug for Verified<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Self::fmt_name(f)
    }
}

impl<O: ConstRisk, C: ConstRisk> fmt::Debug for Escalated<O, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Self::fmt_name(f)
    }
}

/// Who watches a session, as a run-time value: the twin of the type-level modes
/// [`Autonomous`] and [`Supervised`], for code (a CLI) that learns the mode at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RunMode {
    /// No human reads each step (an agent drives the session). `Dangerous` is never
    /// reachable.
    Autonomous,
    /// A human supervises the session. `Dangerous` is reachable with a
    /// [`HumanApproval`](crate::HumanApproval).
    Supervised,
}

impl RunMode {
    /// The name, `"Autonomous"` or `"Supervised"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Autonomous => "Autonomous",
            Self::Supervised => "Supervised",
        }
    }
}

impl fmt::Display for RunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A name that is not a [`RunMode`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown run mode `{input}`; expected `Autonomous` or `Supervised`")]
#[non_exhaustive]
pub struct ParseRunModeError {
    /// The text that was refused.
    pub input: String,
}

impl FromStr for RunMode {
    type Err = ParseRunModeError;

    /// Parses `Autonomous` or `Supervised`, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("autonomous") {
            Ok(Self::Autonomous)
        } else if s.eq_ignore_ascii_case("supervised") {
            Ok(Self::Supervised)
        } else {
            Err(ParseRunModeError { input: s.into() })
        }
    }
}

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

// The states and modes cost nothing: cnv promises "+0 bytes (zero-sized types)".
const _: () = {
    use cnv_caps::{Network, Pure, Subprocess};
    use core::mem::size_of;
    assert!(size_of::<Unverified>() == 0);
    assert!(size_of::<Verified<Pure>>() == 0);
    assert!(size_of::<Verified<Dangerous>>() == 0);
    assert!(size_of::<Escalated<Pure, Network>>() == 0);
    assert!(size_of::<Escalated<Network, Subprocess>>() == 0);
    assert!(size_of::<Autonomous>() == 0);
    assert!(size_of::<Supervised>() == 0);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_mode_parses_and_prints() {
        assert_eq!("autonomous".parse(), Ok(RunMode::Autonomous));
        assert_eq!("Supervised".parse(), Ok(RunMode::Supervised));
        let err = "agent".parse::<RunMode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown run mode `agent`; expected `Autonomous` or `Supervised`"
        );
        assert_eq!(RunMode::Supervised.to_string(), "Supervised");
        assert_eq!(Autonomous::MODE, RunMode::Autonomous);
        assert_eq!(Supervised::MODE, RunMode::Supervised);
    }
}
