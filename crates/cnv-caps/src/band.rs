//! Resource bands: how long a command may run and how much memory it may use.

use core::time::Duration;

use crate::sealed::Sealed;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

vocabulary! {
    /// How long a command may run and how much memory it may use, from `Instant`
    /// (100 ms, 10 MiB) to `Cold` (unbounded). `Ord` compares the budgets.
    ///
    /// | band | runtime | memory |
    /// |---|---|---|
    /// | `Instant` | 100 ms | 10 MiB |
    /// | `Fast` | 1 s | 100 MiB |
    /// | `Medium` | 10 s | 1 GiB |
    /// | `Slow` | 60 s | 5 GiB |
    /// | `Cold` | unbounded | unbounded |
    ///
    /// ```
    /// use cnv_caps::ResourceBand;
    /// use std::time::Duration;
    ///
    /// assert_eq!(ResourceBand::Fast.max_runtime(), Some(Duration::from_secs(1)));
    /// assert_eq!(ResourceBand::Cold.max_memory_bytes(), None);
    /// ```
    pub enum ResourceBand, kind = "resource band" {
        /// At most 100 ms and 10 MiB.
        Instant,
        /// At most 1 s and 100 MiB.
        Fast,
        /// At most 10 s and 1 GiB.
        Medium,
        /// At most 60 s and 5 GiB.
        Slow,
        /// No limit on time or memory.
        Cold,
    }
}

impl ResourceBand {
    /// The runtime budget in milliseconds; `None` for `Cold` (unbounded).
    #[must_use]
    pub const fn max_runtime_ms(self) -> Option<u64> {
        match self {
            Self::Instant => Some(100),
            Self::Fast => Some(1_000),
            Self::Medium => Some(10_000),
            Self::Slow => Some(60_000),
            Self::Cold => None,
        }
    }

    /// The runtime budget; `None` for `Cold` (unbounded).
    #[must_use]
    pub const fn max_runtime(self) -> Option<Duration> {
        match self.max_runtime_ms() {
            Some(ms) => Some(Duration::from_millis(ms)),
            None => None,
        }
    }

    /// The memory budget in bytes (binary units: 10 MiB = 10 × 2²⁰); `None` for `Cold`.
    #[must_use]
    pub const fn max_memory_bytes(self) -> Option<u64> {
        match self {
            Self::Instant => Some(10 * MIB),
            Self::Fast => Some(100 * MIB),
            Self::Medium => Some(GIB),
            Self::Slow => Some(5 * GIB),
            Self::Cold => None,
        }
    }

    /// Whether the band is bounded in time and memory (every band but `Cold`).
    #[must_use]
    pub const fn is_bounded(self) -> bool {
        self.max_runtime_ms().is_some()
    }
}

/// A resource band as a type: the zero-sized [`Instant`], [`Fast`], [`Medium`], [`Slow`]
/// and [`Cold`]. Sealed, like [`ConstRisk`](crate::ConstRisk).
///
/// `Cold` is unbounded; its constants are `u64::MAX`.
///
/// ```
/// use cnv_caps::{ConstResourceBand, Fast, ResourceBand};
///
/// const BUDGET: u64 = <Fast as ConstResourceBand>::MAX_RUNTIME_MS;
/// assert_eq!(BUDGET, 1_000);
/// assert_eq!(<Fast as ConstResourceBand>::BAND, ResourceBand::Fast);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cnv resource band",
    label = "expected one of cnv's resource bands here",
    note = "the resource bands are `Instant`, `Fast`, `Medium`, `Slow` and `Cold`; `ConstResourceBand` is sealed so no other type can be one"
)]
pub trait ConstResourceBand: Sealed + Copy + Default + Send + Sync + 'static {
    /// The run-time band this type stands for.
    const BAND: ResourceBand;
    /// The runtime budget in milliseconds (`u64::MAX` for `Cold`).
    const MAX_RUNTIME_MS: u64 = unbounded_as_max(Self::BAND.max_runtime_ms());
    /// The memory budget in bytes (`u64::MAX` for `Cold`).
    const MAX_MEMORY_BYTES: u64 = unbounded_as_max(Self::BAND.max_memory_bytes());
    /// The canonical name, e.g. `"Fast"`.
    const BAND_NAME: &'static str = Self::BAND.name();
}

const fn unbounded_as_max(limit: Option<u64>) -> u64 {
    match limit {
        Some(limit) => limit,
        None => u64::MAX,
    }
}

/// The [`Instant`] band: at most 100 ms and 10 MiB.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an instant operation",
    label = "this needs the `Instant` resource band, but `{Self}` allows more",
    note = "an instant operation must finish within 100 ms and 10 MiB; only the `Instant` band promises that",
    note = "declare the command with `Instant` if it really is that quick, or drop the `InstantOperation` bound where a longer runtime is acceptable"
)]
pub trait InstantOperation: ConstResourceBand {}

macro_rules! band_types {
    ($( $(#[$doc:meta])* $ty:ident ),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty;

        impl Sealed for $ty {}

        impl ConstResourceBand for $ty {
            const BAND: ResourceBand = ResourceBand::$ty;
        }
    )+};
}

/// The resource bands as zero-sized types, one per [`ResourceBand`] (all re-exported at
/// the crate's root): what `ConstResourceBand` and the bounds are written against.
pub mod bands {
    use super::{ConstResourceBand, ResourceBand, Sealed};

    band_types! {
    /// The `Instant` resource band as a type (100 ms, 10 MiB).
    Instant,
    /// The `Fast` resource band as a type (1 s, 100 MiB).
    Fast,
    /// The `Medium` resource band as a type (10 s, 1 GiB).
    Medium,
    /// The `Slow` resource band as a type (60 s, 5 GiB).
    Slow,
    /// The `Cold` resource band as a type (unbounded).
    Cold,
    }
}

use bands::*;

impl InstantOperation for Instant {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_the_documented_ones() {
        let expected = [
            (ResourceBand::Instant, Some(100), Some(10 * MIB)),
            (ResourceBand::Fast, Some(1_000), Some(100 * MIB)),
            (ResourceBand::Medium, Some(10_000), Some(GIB)),
            (ResourceBand::Slow, Some(60_000), Some(5 * GIB)),
            (ResourceBand::Cold, None, None),
        ];
        for (band, runtime, memory) in expected {
            assert_eq!(band.max_runtime_ms(), runtime, "{band}");
            assert_eq!(band.max_memory_bytes(), memory, "{band}");
            assert_eq!(band.is_bounded(), runtime.is_some(), "{band}");
        }
        assert_eq!(
            ResourceBand::Slow.max_runtime(),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn ord_follows_budget() {
        for pair in ResourceBand::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
        }
    }

    #[test]
    fn type_level_constants_link_to_the_runtime_enum() {
        fn check<R: ConstResourceBand>(band: ResourceBand) {
            assert_eq!(R::BAND, band);
            assert_eq!(R::MAX_RUNTIME_MS, band.max_runtime_ms().unwrap_or(u64::MAX));
            assert_eq!(
                R::MAX_MEMORY_BYTES,
                band.max_memory_bytes().unwrap_or(u64::MAX)
            );
            assert_eq!(R::BAND_NAME, band.name());
            assert_eq!(size_of::<R>(), 0);
        }
        check::<Instant>(ResourceBand::Instant);
        check::<Fast>(ResourceBand::Fast);
        check::<Medium>(ResourceBand::Medium);
        check::<Slow>(ResourceBand::Slow);
        check::<Cold>(ResourceBand::Cold);
    }

    #[test]
    fn parse_errors_list_the_bands() {
        assert_eq!("slow".parse::<ResourceBand>(), Ok(ResourceBand::Slow));
        let err = "Fats".parse::<ResourceBand>().unwrap_err();
        assert_eq!(err.suggestion(), Some("Fast"));
        assert_eq!(err.expected(), ResourceBand::NAMES);
    }
}
