//! The words of the DSL are cnv-caps' vocabulary, spelled as its `NAMES`; this module only
//! looks them up exactly (the DSL is strict about spelling, unlike `FromStr`) and words
//! the "did you mean" that `cnv-caps` decides for every part of cnv.

/// One of the vocabulary enums of `cnv-caps`, as the DSL looks it up.
pub trait Word: Copy + 'static {
    /// What the word is, for messages: `"capability class"`.
    const KIND: &'static str;
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The name of every value, in the same order.
    const NAMES: &'static [&'static str];
}

macro_rules! words {
    ($($ty:ident = $kind:literal),+ $(,)?) => {$(
        impl Word for cnv_caps::$ty {
            const KIND: &'static str = $kind;
            const ALL: &'static [Self] = cnv_caps::$ty::ALL;
            const NAMES: &'static [&'static str] = cnv_caps::$ty::NAMES;
        }
    )+};
}

words! {
    CapabilityClass = "capability class",
    ResourceBand = "resource band",
    SafetyProfile = "safety profile",
    Confirmation = "confirmation",
    StabilityProfile = "stability profile",
}

/// The value spelled exactly `name`.
#[must_use]
pub fn exact<W: Word>(name: &str) -> Option<W> {
    W::NAMES
        .iter()
        .position(|candidate| *candidate == name)
        .map(|index| W::ALL[index])
}

/// The accepted name closest to `input`, if it is close enough to be a typo: cnv's one
/// "did you mean" rule (`cnv_caps::__private::closest`).
#[must_use]
pub fn suggest<'a>(input: &str, names: &[&'a str]) -> Option<&'a str> {
    cnv_caps::__private::closest(input, names.iter().copied())
}

/// `a`, `b` or `c` / `a`, `b`, … as text for messages: every name in backticks.
#[must_use]
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv_caps::{CapabilityClass, ResourceBand, SafetyProfile};

    #[test]
    fn words_are_looked_up_exactly() {
        assert_eq!(
            exact::<CapabilityClass>("ReadOnlyFS"),
            Some(CapabilityClass::ReadOnlyFS)
        );
        // `FromStr` would take this; the DSL asks for the name as written.
        assert_eq!(exact::<CapabilityClass>("read-only-fs"), None);
        assert_eq!(exact::<ResourceBand>("Fast"), Some(ResourceBand::Fast));
    }

    #[test]
    fn suggestions_catch_typos_and_case() {
        assert_eq!(
            suggest("ReadOnlyFs", CapabilityClass::NAMES),
            Some("ReadOnlyFS")
        );
        assert_eq!(suggest("Fats", ResourceBand::NAMES), Some("Fast"));
        assert_eq!(suggest("halp", &["help", "long_help"]), Some("help"));
        assert_eq!(
            suggest("HumanReview", SafetyProfile::NAMES),
            Some("HumanReviewRequired")
        );
        assert_eq!(suggest("Net", CapabilityClass::NAMES), None);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
