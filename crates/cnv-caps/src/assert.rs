//! Compile-time assertions: call them in `const _: () = …;` and a violation stops the
//! build with a message naming the capability or band and the limit.

use crate::{ConstResourceBand, ConstRisk};

/// Stops compilation unless `C` is agent-safe (`Pure` or `ReadOnlyFS`).
///
/// ```
/// use cnv_caps::*;
/// const _: () = assert_agent_safe::<Pure>();
/// ```
///
/// ```compile_fail
/// use cnv_caps::*;
/// const _: () = assert_agent_safe::<Network>(); // `Network` is not agent-safe
/// ```
///
/// # Panics
///
/// When `C` is not agent-safe. Evaluated in a `const` item, that panic is a compile
/// error; called at run time, it panics like `assert!`.
pub const fn assert_agent_safe<C: ConstRisk>() {
    if !C::IS_AGENT_SAFE {
        let message = Message::new()
            .push("capability `")
            .push(C::NAME)
            .push("` is not agent-safe (risk level ")
            .number(C::RISK_LEVEL as u64)
            .push("): only `Pure` and `ReadOnlyFS` may run without a human; require a human review for this command or declare it with an agent-safe class");
        panic!("{}", message.as_str());
    }
}

/// Stops compilation unless the risk level of `C` is strictly below `limit`.
///
/// ```
/// use cnv_caps::*;
/// const _: () = assert_risk_below::<ReadOnlyFS>(5); // 2 < 5
/// ```
///
/// ```compile_fail
/// use cnv_caps::*;
/// const _: () = assert_risk_below::<Network>(5); // 5 is not below 5
/// ```
///
/// # Panics
///
/// When `C::RISK_LEVEL >= limit`; in a `const` item that is a compile error.
pub const fn assert_risk_below<C: ConstRisk>(limit: u8) {
    if C::RISK_LEVEL >= limit {
        let message = Message::new()
            .push("capability `")
            .push(C::NAME)
            .push("` has risk level ")
            .number(C::RISK_LEVEL as u64)
            .push(", which is not below the limit of ")
            .number(limit as u64)
            .push("; use a class with a lower risk level or raise the limit");
        panic!("{}", message.as_str());
    }
}

/// Stops compilation unless the runtime budget of the band `R` fits within `limit_ms`
/// milliseconds (`R::MAX_RUNTIME_MS <= limit_ms`; the const-capabilities example's
/// `assert_runtime_below::<Instant>(100)` holds because `Instant` is exactly 100 ms).
/// `Cold` is unbounded and fits no limit.
///
/// ```
/// use cnv_caps::*;
/// const _: () = assert_runtime_below::<Instant>(100);
/// ```
///
/// ```compile_fail
/// use cnv_caps::*;
/// const _: () = assert_runtime_below::<Fast>(100); // Fast may take 1000 ms
/// ```
///
/// # Panics
///
/// When the band's budget exceeds `limit_ms`; in a `const` item that is a compile error.
pub const fn assert_runtime_below<R: ConstResourceBand>(limit_ms: u64) {
    let unbounded = !R::BAND.is_bounded();
    if unbounded || R::MAX_RUNTIME_MS > limit_ms {
        let message = Message::new().push("resource band `").push(R::BAND_NAME);
        let message = if unbounded {
            message.push("` has no runtime limit")
        } else {
            message
                .push("` may run for ")
                .number(R::MAX_RUNTIME_MS)
                .push(" ms")
        };
        let message = message
            .push(", which exceeds the limit of ")
            .number(limit_ms)
            .push(" ms; use a faster band or raise the limit");
        panic!("{}", message.as_str());
    }
}

/// A fixed-capacity text buffer that `const fn`s can format into: `panic!` in a const
/// context formats only a single `&str`, so the message is assembled here first.
///
/// Not part of the public API: other cnv crates build their own compile-time messages
/// with it (`cnv_caps::__private::ConstMessage`).
#[derive(Debug)]
pub struct Message {
    bytes: [u8; Message::CAPACITY],
    len: usize,
}

impl Default for Message {
    fn default() -> Self {
        Self::new()
    }
}

impl Message {
    const CAPACITY: usize = 512;

    /// An empty message.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bytes: [0; Self::CAPACITY],
            len: 0,
        }
    }

    /// Appends `text`; a piece that would overflow the capacity is dropped whole, so no
    /// character is ever split.
    #[must_use]
    pub const fn push(mut self, text: &str) -> Self {
        let bytes = text.as_bytes();
        if self.len + bytes.len() > Self::CAPACITY {
            return self;
        }
        let mut i = 0;
        while i < bytes.len() {
            self.bytes[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// Appends `n` in decimal.
    #[must_use]
    pub const fn number(self, mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let (_, used) = digits.split_at(start);
        match core::str::from_utf8(used) {
            Ok(text) => self.push(text),
            Err(_) => self,
        }
    }

    /// The text so far. Only whole `&str` pieces are ever appended, so it is UTF-8.
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (used, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(used) {
            Ok(text) => text,
            Err(_) => "a capability assertion failed",
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::{Cold, Dangerous, Environment, Fast, Instant, Network, Pure, ReadOnlyFS};
    use alloc::string::{String, ToString};

    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(f).expect_err("the assertion should fail");
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(ToString::to_string))
            .expect("a text payload")
    }

    // The passing cases are evaluated by the compiler.
    const _: () = assert_agent_safe::<Pure>();
    const _: () = assert_agent_safe::<ReadOnlyFS>();
    const _: () = assert_risk_below::<Environment>(4);
    const _: () = assert_runtime_below::<Instant>(100);
    const _: () = assert_runtime_below::<Fast>(1_000);

    #[test]
    fn agent_safe_failure_names_the_capability() {
        let message = panic_message(assert_agent_safe::<Network>);
        assert_eq!(
            message,
            "capability `Network` is not agent-safe (risk level 5): only `Pure` and `ReadOnlyFS` \
             may run without a human; require a human review for this command or declare it \
             with an agent-safe class"
        );
    }

    #[test]
    fn risk_failure_names_level_and_limit() {
        let message = panic_message(|| assert_risk_below::<Dangerous>(10));
        assert!(
            message.starts_with(
                "capability `Dangerous` has risk level 10, which is not below the limit of 10;"
            ),
            "{message}"
        );
    }

    #[test]
    fn runtime_failure_names_band_and_limit() {
        let message = panic_message(|| assert_runtime_below::<Fast>(999));
        assert!(
            message.starts_with(
                "resource band `Fast` may run for 1000 ms, which exceeds the limit of 999 ms;"
            ),
            "{message}"
        );
        let message = panic_message(|| assert_runtime_below::<Cold>(u64::MAX));
        assert!(
            message.starts_with("resource band `Cold` has no runtime limit, which exceeds"),
            "{message}"
        );
    }

    #[test]
    fn message_formats_numbers_and_respects_capacity() {
        let message = Message::new().number(0).push(" ").number(u64::MAX);
        assert_eq!(&message.bytes[..message.len], b"0 18446744073709551615");
        let long = "x".repeat(Message::CAPACITY + 1);
        let message = Message::new().push("ok").push(&long);
        assert_eq!(&message.bytes[..message.len], b"ok");
    }
}
