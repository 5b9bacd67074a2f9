//! The crate's shape, read from its source: no import circle between its
//! top-level modules, and the engine's parts (`src/engine/*.rs`) depend on
//! one another in one direction only, never on the engine module itself
//! (`src/engine/mod.rs`), which composes them.
//!
//! References are read from the code (comment lines and `#[cfg(test)]`
//! modules left out): every `crate::a…` path and, inside `src/engine/`,
//! every `super::a…` path, with `{a, b}` groups expanded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src()).unwrap().to_string_lossy().into_owned();
            out.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// The library code of a file: no comment lines, nothing from its unit tests on.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn identifier(s: &str) -> String {
    s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The first segment of every path that starts with `prefix` (`crate::` or
/// `super::`): `crate::a::b` gives `a`; `crate::{a, b::c}` gives `a` and `b`.
fn first_segments(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        found.insert(identifier(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(identifier(rest));
        }
    }
    found.retain(|s| !s.is_empty() && s != "self");
    found
}

/// A cycle in `graph`, as the path that closes it, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Which top-level modules each top-level module refers to.
fn top_level_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let all = files(&src());
    let modules: BTreeSet<String> = all
        .iter()
        .filter(|(path, _)| path != "lib.rs")
        .map(|(path, _)| path.trim_end_matches(".rs").split('/').next().unwrap().to_string())
        .collect();
    for (path, text) in &all {
        if path == "lib.rs" {
            continue;
        }
        let module = path.trim_end_matches(".rs").split('/').next().unwrap().to_string();
        let uses = first_segments(&code(text), "crate::");
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(uses.into_iter().filter(|m| modules.contains(m) && *m != module));
    }
    graph
}

#[test]
fn smoke() {
    let graph = top_level_graph();
    for module in ["book", "engine", "journal", "matcher", "record", "risk", "snapshot"] {
        assert!(graph.contains_key(module), "{module} is read: {graph:?}");
    }
    assert!(graph["snapshot"].contains("matcher"), "{graph:?}");
}

#[test]
fn path_reader_sees_grouped_and_plain_paths_and_not_comments() {
    let text = "//! see crate::ffi\nuse crate::{snapshot, sys::{a, b}};\nuse crate::journal::Faults;\nlet x = crate::risk::limit::A;\nlet y = notcrate::book;\n";
    let found = first_segments(&code(text), "crate::");
    let expected: BTreeSet<String> = ["journal", "risk", "snapshot", "sys"].map(String::from).into();
    assert_eq!(found, expected);
}

#[test]
fn cycle_finder_names_the_circle_and_passes_a_tree() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let circle = graph(&[("matcher", "risk"), ("risk", "snapshot"), ("snapshot", "matcher")]);
    assert_eq!(cycle(&circle).map(|c| c.len()), Some(4));
    let tree = graph(&[("snapshot", "matcher"), ("snapshot", "risk"), ("matcher", "risk"), ("risk", "cursor")]);
    assert_eq!(cycle(&tree), None);
}

#[test]
fn no_import_circle_between_the_crates_top_level_modules() {
    let graph = top_level_graph();
    if let Some(circle) = cycle(&graph) {
        panic!("Import circle between top-level modules: {}; graph: {graph:?}", circle.join(" -> "));
    }
}

/// What is wrong with a module's parts, given each part's name and code:
/// a part that refers to its parent module (`super::Item` that is not a
/// sibling, or `crate::<parent>::…`), and an import circle between parts.
fn parts_faults(parent: &str, parts: &[(String, String)]) -> Vec<String> {
    let names: BTreeSet<String> = parts.iter().map(|(name, _)| name.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut faults = Vec::new();
    for (name, text) in parts {
        let code = code(text);
        let mut uses = first_segments(&code, "super::");
        uses.extend(first_segments(&code, &format!("crate::{parent}::")));
        for used in uses {
            if names.contains(&used) {
                graph.entry(name.clone()).or_default().insert(used);
            } else {
                faults.push(format!("{name} refers to {parent}::{used}, in the module that composes the parts"));
            }
        }
        graph.entry(name.clone()).or_default();
    }
    if let Some(circle) = cycle(&graph) {
        faults.push(format!("import circle between {parent}'s parts: {}", circle.join(" -> ")));
    }
    faults
}

#[test]
fn parts_checker_names_a_part_that_uses_its_parent_and_a_circle() {
    let parts = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect()
    };
    let good = parts(&[
        ("thread", "use super::layer::Core;"),
        ("layer", "use super::{durability::X, signals};"),
        ("durability", "use super::signals::Halting;"),
        ("signals", "use crate::sys;"),
    ]);
    assert_eq!(parts_faults("engine", &good), Vec::<String>::new());
    let up = parts(&[("thread", "use super::Engine;\nlet s = crate::engine::Shared::new();")]);
    assert_eq!(parts_faults("engine", &up).len(), 2, "{:?}", parts_faults("engine", &up));
    let circle = parts(&[("layer", "use super::durability::X;"), ("durability", "use super::layer::Core;")]);
    let faults = parts_faults("engine", &circle);
    assert_eq!(faults.len(), 1);
    assert!(faults[0].starts_with("import circle between engine's parts"), "{faults:?}");
}

#[test]
fn the_engines_parts_depend_one_way_and_never_on_the_engine_module() {
    let dir = src().join("engine");
    let parts: Vec<(String, String)> = files(&dir)
        .into_iter()
        .filter(|(path, _)| path != "engine/mod.rs")
        .map(|(path, text)| (path.trim_start_matches("engine/").trim_end_matches(".rs").to_string(), text))
        .collect();
    for part in ["rings", "signals", "layer", "durability", "recovery", "placement", "thread"] {
        assert!(parts.iter().any(|(name, _)| name == part), "src/engine/{part}.rs exists");
    }
    assert_eq!(parts_faults("engine", &parts), Vec::<String>::new());
}

#[test]
fn every_engine_part_opens_with_its_invariants() {
    for (path, text) in files(&src().join("engine")) {
        assert!(text.starts_with("//! "), "{path} opens with a module comment");
        assert!(text.contains("\n//! # Invariants\n"), "{path} states its invariants");
    }
}
