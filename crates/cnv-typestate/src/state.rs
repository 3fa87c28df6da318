//! The states a session moves through, all zero-sized (the modes it runs in are the
//! lattice's, in `lattice.rs`).

use core::fmt;
use core::marker::PhantomData;

use cnv_caps::{CapabilityClass, ConstRisk};

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

// The states cost nothing: cnv promises "+0 bytes (zero-sized types)".
const _: () = {
    use cnv_caps::{Dangerous, Network, Pure, Subprocess};
    use core::mem::size_of;
    assert!(size_of::<Unverified>() == 0);
    assert!(size_of::<Verified<Pure>>() == 0);
    assert!(size_of::<Verified<Dangerous>>() == 0);
    assert!(size_of::<Escalated<Pure, Network>>() == 0);
    assert!(size_of::<Escalated<Network, Subprocess>>() == 0);
};
