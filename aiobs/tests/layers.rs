//! The layering of `aiobs/src` (ARCHITECTURE.md), checked: no module names a module of a
//! layer above its own, every module has a layer, no two modules (files) import each other,
//! and what cycles there are between top-level modules (directories taken whole) stay small
//! and away from storage and the hot path.
//!
//! A module's dependencies are the `crate::` and `super::` paths in its code (comments,
//! `#[cfg(test)]` modules and `tests/` folders left out). A parent naming its own children
//! (`mod x; pub use x::Y;`) is structure, not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each module path (a prefix: the longest match wins) with its layer, lowest first.
const LAYERS: &[(&str, u8, &str)] = &[
    ("clock", 1, "base"),
    ("id", 1, "base"),
    ("error", 1, "base"),
    ("sync", 1, "base"),
    ("bytes", 1, "base"),
    ("capture", 2, "capture"),
    ("store", 3, "storage"),
    ("scrub", 4, "vocabulary and policy"),
    ("labels", 4, "vocabulary and policy"),
    ("model", 4, "vocabulary and policy"),
    ("tree", 4, "vocabulary and policy"),
    ("sampling", 4, "vocabulary and policy"),
    ("remote", 4, "vocabulary and policy"),
    ("wire", 4, "vocabulary and policy"),
    ("replay", 5, "replay"),
    ("document", 5, "document"),
    ("state", 6, "collector state"),
    ("observed", 7, "recording"),
    ("span", 7, "recording"),
    ("providers", 7, "recording"),
    ("bridge", 7, "recording"),
    ("flush", 8, "flush pipeline and outputs"),
    ("autoflush", 8, "flush pipeline and outputs"),
    ("exporters", 8, "flush pipeline and outputs"),
    ("merge", 8, "flush pipeline and outputs"),
    ("collector", 9, "facade"),
    ("shutdown", 9, "facade"),
];

/// Top-level modules no cycle may pass through: storage and the hot path.
const ACYCLIC: &[&str] = &["store", "observed", "capture"];

/// The largest cycle of top-level modules allowed (serde_derive has none; fastrace has 4).
const MAX_CYCLE: usize = 3;

struct Module {
    path: String,
    file: PathBuf,
    code: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the crate but `lib.rs`, with its code.
fn modules() -> Vec<Module> {
    let mut out = Vec::new();
    let mut dirs = vec![src()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "tests") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src()).expect("under src");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] {
                continue;
            }
            let text = fs::read_to_string(&path).expect("read module");
            out.push(Module {
                path: parts.join("::"),
                file: rel.to_path_buf(),
                code: code_of(&text),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The code of a file without comments and without its `#[cfg(test)]` modules.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i64> = None;
    let mut depth = 0i64;
    let mut test_attr = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let line = line.split(" //").next().unwrap_or("");
        if skip_depth.is_none() {
            if trimmed.starts_with("#[cfg(test)]") {
                test_attr = true;
                continue;
            }
            if test_attr && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
                skip_depth = Some(depth);
            }
            test_attr = false;
        }
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The module paths `code` names, each as written after `crate::` (or resolved from
/// `super::`), with the line it is on.
fn named_paths(module: &str, code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for prefix in ["crate::", "super::"] {
            let mut rest = line;
            while let Some(i) = rest.find(prefix) {
                let before = rest[..i].chars().last();
                rest = &rest[i + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let mut base = String::new();
                if prefix == "super::" {
                    base = parent_of(module);
                    while let Some(up) = rest.strip_prefix("super::") {
                        base = parent_of(&base);
                        rest = up;
                    }
                }
                for path in expand(rest) {
                    let full = if base.is_empty() {
                        path
                    } else {
                        format!("{base}::{path}")
                    };
                    out.push((full, n + 1));
                }
            }
        }
    }
    out
}

fn parent_of(module: &str) -> String {
    module.rsplit_once("::").map_or("", |(p, _)| p).to_owned()
}

/// The paths at the start of `rest`: one (`a::b::C`), or each of a group (`{a::B, c}`).
fn expand(rest: &str) -> Vec<String> {
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(String::new());
                    continue;
                }
                _ => {}
            }
            if let Some(last) = items.last_mut() {
                last.push(c);
            }
        }
        let mut paths = Vec::new();
        for item in items.iter().map(|i| i.trim()) {
            match item.split_once("::{") {
                // A nested group: its paths, each under the prefix.
                Some((prefix, inner)) => paths.extend(
                    expand(&format!("{{{inner}}}"))
                        .into_iter()
                        .map(|p| format!("{prefix}::{p}")),
                ),
                None => paths.push(path_head(item)),
            }
        }
        paths.retain(|p| !p.is_empty());
        return paths;
    }
    vec![path_head(rest)]
}

/// The leading `a::b::c` of `s`.
fn path_head(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_owned()
}

/// The module of `known` that `path` names: its longest prefix that is a module.
fn module_named<'a>(path: &str, known: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .find_map(|n| known.get(&parts[..n].join("::")))
}

fn layer_of(module: &str) -> Option<(u8, &'static str, &'static str)> {
    LAYERS
        .iter()
        .filter(|(prefix, _, _)| module == *prefix || module.starts_with(&format!("{prefix}::")))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|&(prefix, layer, name)| (layer, name, prefix))
}

/// Every dependency of every module: (from, to, file, line, path as written).
fn dependencies() -> Vec<(String, String, PathBuf, usize, String)> {
    let modules = modules();
    let known: BTreeSet<String> = modules.iter().map(|m| m.path.clone()).collect();
    let mut out = Vec::new();
    for m in &modules {
        for (path, line) in named_paths(&m.path, &m.code) {
            let Some(target) = module_named(&path, &known) else {
                continue; // an item of lib.rs (a re-export) or `__private`
            };
            // A module naming itself or its own children is structure.
            if *target == m.path || target.starts_with(&format!("{}::", m.path)) {
                continue;
            }
            out.push((m.path.clone(), target.clone(), m.file.clone(), line, path));
        }
    }
    out
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = modules()
        .into_iter()
        .filter(|m| layer_of(&m.path).is_none())
        .map(|m| format!("{} ({})", m.path, m.file.display()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no layer: add them to LAYERS (and ARCHITECTURE.md): {unplaced:#?}"
    );
}

#[test]
fn no_module_names_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (from, to, file, line, path) in dependencies() {
        let (Some((lf, nf, _)), Some((lt, nt, _))) = (layer_of(&from), layer_of(&to)) else {
            continue;
        };
        if lt > lf {
            upward.push(format!(
                "{}:{line}: `{from}` (layer {lf}, {nf}) names `{path}` (layer {lt}, {nt})",
                file.display()
            ));
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a layer above (see ARCHITECTURE.md):\n{}",
        upward.join("\n")
    );
}

#[test]
fn cycles_between_top_level_modules_are_small_and_avoid_storage_and_the_hot_path() {
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to, ..) in dependencies() {
        let (from, to) = (top(&from), top(&to));
        if from != to {
            edges.entry(from).or_default().insert(to);
        }
    }
    for cycle in strongly_connected(&edges) {
        assert!(
            cycle.len() <= MAX_CYCLE,
            "a cycle of {} top-level modules: {cycle:?}",
            cycle.len()
        );
        for m in ACYCLIC {
            assert!(
                !cycle.contains(&m.to_string()),
                "`{m}` is in a cycle: {cycle:?}"
            );
        }
    }
}

#[test]
fn no_two_modules_import_each_other_in_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to, ..) in dependencies() {
        edges.entry(from).or_default().insert(to);
    }
    let cycles = strongly_connected(&edges);
    assert!(
        cycles.is_empty(),
        "modules that import each other, through one another: {cycles:#?}"
    );
}

/// The strongly connected components of more than one node (Tarjan's algorithm).
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w.as_str()]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w.as_str()) {
                    let low = self.low[v].min(self.index[w.as_str()]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

/// The check itself is checked: it sees grouped and nested imports, `super::` paths and
/// inline paths, and it skips comments and test modules.
#[test]
fn the_check_reads_imports_as_rustc_does() {
    let code = code_of(
        "use crate::{a::B, c::{D, e::F}};\n\
         use super::g::H;\n\
         use super::super::r::S;\n\
         // use crate::commented::Out;\n\
         fn f() { crate::i::j(); let _ = my_crate::k::L; }\n\
         #[cfg(test)]\nmod tests {\n    use crate::test_only::X;\n}\n\
         fn after() { crate::m::n(); }\n",
    );
    let paths: Vec<String> = named_paths("p::q::t", &code)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        paths,
        [
            "a::B",
            "c::D",
            "c::e::F",
            "p::q::g::H",
            "p::r::S",
            "i::j",
            "m::n"
        ],
        "{code}"
    );
}
