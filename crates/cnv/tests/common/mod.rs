//! What the process tests share: finding the example binaries they run.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

/// The example binary `name`, which `cargo test` and `cargo nextest` build before the
/// tests, refusing one older than the sources it is built from.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p cnv --example {name}`",
        bin.display()
    );
    // `cargo test --test workbench` alone does not rebuild examples: refuse to test an
    // old binary against new sources.
    let built = modified(&bin);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(newer) =
        newest_source(&workspace.join("crates"), name).filter(|(time, _)| *time > built)
    {
        panic!(
            "{} is older than {}: rebuild it with `cargo build -p cnv --example {name}` \
             (or run the whole suite, which builds examples first)",
            bin.display(),
            newer.1.display()
        );
    }
    bin
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}

/// The most recently modified `.rs` or `Cargo.toml` file under `dir`, leaving out tests,
/// benches and the other examples (they are not part of the example `name`).
fn newest_source(dir: &Path, example: &str) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let other_example =
                dir.ends_with("examples") && path.file_stem().is_some_and(|stem| stem != example);
            if other_example {
                continue;
            }
            if path.is_dir() {
                if !["target", "tests", "benches"]
                    .iter()
                    .any(|skip| name == *skip)
                {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") || name == "Cargo.toml" {
                let time = modified(&path);
                if newest.as_ref().is_none_or(|(t, _)| time > *t) {
                    newest = Some((time, path));
                }
            }
        }
    }
    newest
}
