//! Every list of the capability classes written out in the code (a note of the compiler's
//! refusal, a table in a crate's documentation, a hint) names every class: a class added
//! to cnv-caps' one list fails this test until each such list says where it stands.
//!
//! What counts as a list: a line of code, or a paragraph of comments, that names at least
//! five classes by their bare names (`Pure`, `ReadOnlyFS`, …). Paths such as
//! `CapabilityClass::Network` are `match` arms and the like, `use` declarations import what
//! they need, and a macro's arguments (`chain!(…)`) are code it generates: the compiler
//! checks all three. Documents outside the code (the guide, the
//! snapshots) are read by people and updated with them.

use std::fs;
use std::path::{Path, PathBuf};

use cnv::CapabilityClass;

/// The fewest bare class names that make a line or paragraph a list of the classes.
const A_LIST: usize = 5;

#[test]
fn every_written_list_of_the_classes_names_every_class() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "benches", "xtask"] {
        collect(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the workspace's sources were found");
    let mut incomplete = Vec::new();
    for file in &files {
        // This file's own examples are lists by design.
        if file.ends_with("tests/class_lists.rs") {
            continue;
        }
        let text = fs::read_to_string(file).expect("a source file");
        for (line, chunk) in chunks(&text) {
            let named = named_classes(&chunk);
            if named.len() >= A_LIST && named.len() < CapabilityClass::COUNT {
                let missing: Vec<&str> = CapabilityClass::NAMES
                    .iter()
                    .copied()
                    .filter(|name| !named.contains(name))
                    .collect();
                incomplete.push(format!(
                    "{}:{line}: names {} classes, not {}",
                    file.strip_prefix(&root).unwrap_or(file).display(),
                    named.len(),
                    missing.join(", ")
                ));
            }
        }
    }
    assert!(
        incomplete.is_empty(),
        "lists of the capability classes that miss some:\n{}",
        incomplete.join("\n")
    );
}

#[test]
fn a_list_missing_a_class_is_found_and_a_match_arm_is_not() {
    let all = "the classes are `Pure`, `ReadOnlyFS`, `Environment`, `Network`, `ReadWriteFS`, `Subprocess` and `Dangerous`";
    assert_eq!(named_classes(all).len(), 7);
    let short = "Pure (0) < ReadOnlyFS (2) < Environment (3) < Network (5) < ReadWriteFS (6)";
    assert_eq!(named_classes(short).len(), 5);
    let arm = "Self::Environment | Self::Network | Self::ReadWriteFS | Self::Subprocess | Self::Dangerous => false,";
    assert!(named_classes(arm).is_empty());
    let comments = "//! first line names Pure and ReadOnlyFS\n//! and Environment, Network,\n//! ReadWriteFS\nfn x() {}";
    let found: Vec<(usize, String)> = chunks(comments);
    assert_eq!(found[0].0, 1);
    assert_eq!(named_classes(&found[0].1).len(), 5);
}

/// Every `.rs` file beneath `dir`, but the compile-fail cases (read beside their
/// snapshots) and build output.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "ui" {
                collect(&path, files);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The text as it is read for lists: each paragraph of comment lines joined, each other
/// line alone, with the number of its first line; `use` declarations are left out.
fn chunks(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut paragraph: Option<(usize, String)> = None;
    let mut in_use = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if in_use || trimmed.starts_with("use ") || trimmed.starts_with("pub use ") {
            in_use = !trimmed.trim_end().ends_with(';');
            out.extend(paragraph.take());
            continue;
        }
        if trimmed.starts_with("//") && !trimmed.trim_start_matches('/').trim().is_empty() {
            let (_, text) = paragraph.get_or_insert_with(|| (index + 1, String::new()));
            text.push(' ');
            text.push_str(trimmed);
        } else {
            out.extend(paragraph.take());
            if !trimmed.contains("!(") {
                out.push((index + 1, line.to_owned()));
            }
        }
    }
    out.extend(paragraph);
    out
}

/// The classes `text` names by their bare names (not as `Type::Name` paths), each once.
fn named_classes(text: &str) -> Vec<&'static str> {
    let bytes = text.as_bytes();
    let word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    CapabilityClass::NAMES
        .iter()
        .copied()
        .filter(|name| {
            text.match_indices(name).any(|(at, _)| {
                let end = at + name.len();
                let before_ok = at == 0 || !word(bytes[at - 1]);
                let after_ok = end == bytes.len() || !word(bytes[end]);
                let a_path = at >= 2 && &bytes[at - 2..at] == b"::";
                before_ok && after_ok && !a_path
            })
        })
        .collect()
}
