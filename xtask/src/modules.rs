//! `cargo xtask ci`'s module check: within each crate, the files (top-level modules) that
//! name each other through `crate::…` form no circle, so each file can be read after the
//! ones it uses.
//!
//! A module's dependencies are the `crate::<module>` paths in its source (and in the
//! files beneath it, for a module that is a directory), leaving out its `#[cfg(test)]
//! mod tests` and comments: what a reader follows from one file to the next.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The circles among the top-level modules of `src` (each listed once, by its members).
pub(crate) fn circles(src: &Path) -> Result<Vec<Vec<String>>, String> {
    let graph = graph(src)?;
    Ok(strongly_connected(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .collect())
}

/// Checks every crate under `crates/`, and says which circles it found.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let crates = root.join("crates");
    let entries =
        fs::read_dir(&crates).map_err(|err| format!("cannot read {}: {err}", crates.display()))?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in entries.flatten() {
        let src = entry.path().join("src");
        if !src.is_dir() {
            continue;
        }
        checked += 1;
        for circle in circles(&src)? {
            problems.push(format!(
                "{}: {} import each other in a circle",
                entry.file_name().to_string_lossy(),
                circle.join(" → ")
            ));
        }
    }
    if problems.is_empty() {
        println!("no module of the {checked} crates imports another in a circle");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Each top-level module of `src` and the modules of the same crate it names.
fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    walk(src, &mut files)?;
    for file in files {
        let relative = file.strip_prefix(src).unwrap_or(&file);
        let Some(first) = relative.components().next() else {
            continue;
        };
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = fs::read_to_string(&file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
        let deps = graph.entry(module.clone()).or_default();
        for dependency in crate_paths(&code_of(&text)) {
            if dependency != module {
                deps.insert(dependency);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        // `crate::Item` re-exported by the root is not a module of its own.
        deps.retain(|dep| modules.contains(dep));
    }
    Ok(graph)
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    let entries =
        fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// The code of a file as a reader follows it: without its unit tests and comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `x` of every `crate::x` in `code`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = code[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// Tarjan's strongly connected components of `graph`.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        components: Vec<Vec<String>>,
    }

    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        let graph = state.graph;
        for next in graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.to_owned());
                if member == node {
                    break;
                }
            }
            component.sort();
            state.components.push(component);
        }
    }

    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(from, to)| {
                (
                    (*from).to_owned(),
                    to.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let chain = graph_of(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        assert!(strongly_connected(&chain).iter().all(|c| c.len() == 1));
        let circle = graph_of(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        let circles: Vec<Vec<String>> = strongly_connected(&circle)
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect();
        assert_eq!(circles, [["a", "b", "c"]]);
    }

    #[test]
    fn paths_in_code_count_and_comments_and_tests_do_not() {
        let text = "use crate::gate::Job;\n// crate::cli is named here only\nfn f() { crate::audit::x(); my_crate::other(); }\n#[cfg(test)]\nmod tests {\n    use crate::run;\n}\n";
        let paths = crate_paths(&code_of(text));
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            ["audit".to_owned(), "gate".to_owned()]
        );
    }
}
