//! The compile-time promises of cnv: every case under `tests/ui/<topic>/` must fail to
//! compile with the message in its `.stderr` snapshot. Re-bless the snapshots with
//! `cargo xtask ui` after a deliberate change, and read the diff: the messages are
//! documentation.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
}
