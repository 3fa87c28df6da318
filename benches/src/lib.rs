//! Criterion benches of cnv against its peers, in `benches/*.rs`.
//!
//! Run them with `cargo xtask bench`, which also writes the tables of
//! `docs/PERFORMANCE.md`. Within a criterion group, the function whose id starts with
//! `cnv` is the subject and every other function is a peer measured in the same run.
//!
//! This library holds what several benches share.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod maps;
pub mod queues;

/// The agent-safety rule written as a string comparison, the way a program without a
/// capability vocabulary would check a command's declared class at run time.
#[must_use]
pub fn agent_safe_by_name(class: &str) -> bool {
    matches!(class, "Pure" | "ReadOnlyFS")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv::CapabilityClass;

    #[test]
    fn the_string_peer_agrees_with_cnv() {
        for class in CapabilityClass::ALL {
            assert_eq!(agent_safe_by_name(class.name()), class.is_agent_safe());
        }
    }
}
