//! `aiobs validate`: the files the runtime and the Python SDK write pass (and the Python SDK's
//! own models accept them); broken ones fail with a message that says where.

mod common;

use std::path::{Path, PathBuf};

use common::{aiobs, arg, python_accepts, python_fixture, runtime_trace};
use serde_json::{Value, json};

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// `aiobs validate` and the Python SDK's models accept `path`.
fn assert_valid(path: &Path) {
    let run = aiobs(&["validate", arg(path)]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, format!("{}: valid\n", path.display()));
    assert!(
        python_accepts(path),
        "the Python SDK's models reject {}",
        path.display()
    );
}

/// `aiobs validate` rejects `path`, saying `expected` (after the file name). Whether the
/// Python SDK's models reject it too is checked where the break is one of theirs
/// ([`assert_models_reject`]); the parity test holds the two together on hundreds of files.
fn assert_rejected(path: &Path, expected: &str) {
    let run = aiobs(&["validate", arg(path)]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let wanted = format!("{}{expected}", path.display());
    assert!(
        run.stdout.lines().any(|l| l.starts_with(&wanted)),
        "no line starting {wanted:?} in\n{}",
        run.stdout
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// The Python SDK's models reject `path` too.
fn assert_models_reject(path: &Path) {
    assert!(
        !python_accepts(path),
        "the Python SDK's models accept {}",
        path.display()
    );
}

#[test]
fn the_python_fixture_and_a_runtime_trace_are_valid() {
    assert_valid(&python_fixture());
    let dir = tempfile::tempdir().unwrap();
    assert_valid(&runtime_trace(dir.path()));
    // The runtime without a trace tree is valid too (null tree, null enh_prompt_traces).
    let mut v = read(&runtime_trace(dir.path()));
    v["trace_tree"] = Value::Null;
    let path = write(dir.path(), "no-tree.json", &v);
    let run = aiobs(&["validate", arg(&path)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    // ... unless a tree is asked for.
    let run = aiobs(&["validate", "--require-tree", arg(&path)]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.stdout,
        format!(
            "{}: trace_tree: missing or null (--require-tree)\n",
            path.display()
        )
    );
    let run = aiobs(&["validate", "--require-tree", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[test]
fn several_files_get_one_verdict_each_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let good = runtime_trace(dir.path());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let run = aiobs(&["validate", arg(&good), arg(&bad)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.ends_with("1 valid, 1 invalid\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("{}: valid", good.display())));
}

/// The runtime trace, changed by `edit`.
fn broken(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v = read(&runtime_trace(dir));
    edit(&mut v);
    write(dir, name, &v)
}

/// The tree node with this span id, anywhere in the tree.
fn node_mut<'v>(nodes: &'v mut Value, span: &Value) -> Option<&'v mut Value> {
    for node in nodes.as_array_mut()? {
        if node["span_id"] == *span {
            return Some(node);
        }
        if let Some(found) = node_mut(&mut node["children"], span) {
            return Some(found);
        }
    }
    None
}

#[test]
fn a_field_of_the_wrong_type_is_named_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "type.json", |v| {
        v["function_events"][3]["span_id"] = json!(12);
    });
    assert_rejected(
        &path,
        ": function_events[3].span_id: expected a string, got 12",
    );
    assert_models_reject(&path);
    let path = broken(dir.path(), "float-int.json", |v| {
        v["sessions"][0]["meta"]["pid"] = json!(1.0);
    });
    assert_rejected(
        &path,
        ": sessions[0].meta.pid: expected an integer, got 1.0",
    );
    assert_models_reject(&path);
    let path = broken(dir.path(), "time.json", |v| {
        v["events"][0]["started_at"] = json!("soon");
    });
    assert_rejected(
        &path,
        ": events[0].started_at: expected a number, got \"soon\"",
    );
    assert_models_reject(&path);
}

#[test]
fn missing_and_unknown_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "missing.json", |v| {
        v["function_events"][0]
            .as_object_mut()
            .unwrap()
            .remove("kwargs");
    });
    assert_rejected(&path, ": function_events[0]: missing key(s) [\"kwargs\"]");
    let path = broken(dir.path(), "unknown.json", |v| {
        v["sessions"][0]["colour"] = json!("blue");
    });
    assert_rejected(&path, ": sessions[0]: unknown key(s) [\"colour\"]");
}

#[test]
fn a_span_id_used_twice_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "dup-span.json", |v| {
        let span = v["function_events"][0]["span_id"].clone();
        v["function_events"][1]["span_id"] = span;
    });
    assert_rejected(&path, ": function_events[1]: span_id \"");
}

#[test]
fn an_event_missing_from_the_tree_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "missing-node.json", |v| {
        v["trace_tree"][0]["children"]
            .as_array_mut()
            .unwrap()
            .remove(0);
    });
    assert_rejected(
        &path,
        ": trace_tree: 1 span_id(s) of events are not in trace_tree",
    );
}

#[test]
fn a_child_under_the_wrong_parent_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "links.json", |v| {
        // The LLM call claims the root as its parent, in the flat list and in its node.
        let root = v["trace_tree"][0]["span_id"].clone();
        v["events"][0]["parent_span_id"] = root.clone();
        let span = v["events"][0]["span_id"].clone();
        let tree = &mut v["trace_tree"];
        node_mut(tree, &span).unwrap()["parent_span_id"] = root;
    });
    assert_rejected(&path, ": trace_tree node 5 (depth 2): parent_span_id \"");
}

#[test]
fn children_out_of_order_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "order.json", |v| {
        v["trace_tree"][0]["children"]
            .as_array_mut()
            .unwrap()
            .swap(0, 1);
    });
    assert_rejected(&path, ": children of trace_tree node 0: entry 1 starts at");
}

#[test]
fn a_node_that_differs_from_its_event_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "node.json", |v| {
        v["trace_tree"][0]["result"] = json!("something else");
    });
    assert_rejected(
        &path,
        ": trace_tree node 0 (depth 0): differs from its flat event in [\"result\"]",
    );
}

#[test]
fn wrong_enh_prompt_traces_and_version_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = broken(dir.path(), "enh.json", |v| {
        v["enh_prompt_traces"] = json!([]);
    });
    assert_rejected(
        &path,
        ": enh_prompt_traces: expected null or absent (no enh_prompt node), got []",
    );
    let path = broken(dir.path(), "version.json", |v| {
        v["version"] = json!(2);
    });
    assert_rejected(&path, ": version: expected the integer 1");
}

#[test]
fn a_duplicate_key_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(runtime_trace(dir.path())).unwrap();
    let path = dir.path().join("dup-key.json");
    std::fs::write(
        &path,
        text.replacen("\"generated_at\":", "\"version\": 1, \"generated_at\":", 1),
    )
    .unwrap();
    assert_rejected(&path, ":1:");
    let run = aiobs(&["validate", arg(&path)]);
    assert!(
        run.stdout
            .contains("duplicate key \"version\" in one JSON object"),
        "{}",
        run.stdout
    );
}

#[test]
fn files_that_are_not_exports_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("not-json.json", "hello", ":1:1: expected value"),
        (
            "truncated.json",
            "{\"sessions\": [",
            ":1:14: truncated file: EOF while parsing a list",
        ),
        ("empty.json", "", ": empty file"),
        (
            "array.json",
            "[1, 2]",
            ": top level: expected an object, got a list",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_rejected(&path, expected);
    }
    let missing = dir.path().join("missing.json");
    let run = aiobs(&["validate", arg(&missing)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, format!("{}: no such file\n", missing.display()));
}
