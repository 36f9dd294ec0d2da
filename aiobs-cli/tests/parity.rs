//! `aiobs validate` and `validate_export.py` give the same verdict on hundreds of single
//! changes to real files: each key of each kind of entry removed or given a value of every JSON
//! type, in the flat list alone or in the tree too, and the tree's rules broken one at a time.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{arg, python_fixture, runtime_trace, validator_python, workspace_root};
use serde_json::{Value, json};

fn values() -> [(&'static str, Value); 7] {
    [
        ("null", Value::Null),
        ("int", json!(12)),
        ("float", json!(1.5)),
        ("str", json!("x")),
        ("list", json!([])),
        ("obj", json!({})),
        ("bool", json!(true)),
    ]
}

/// Sets `key` to `value` in every tree node with this span id.
fn set_in_tree(nodes: &mut Value, span: &Value, key: &str, value: &Value) {
    for node in nodes.as_array_mut().into_iter().flatten() {
        if node["span_id"] == *span {
            node[key] = value.clone();
        }
        set_in_tree(&mut node["children"], span, key, value);
    }
}

/// Every changed copy of `base`: (name, document).
fn mutations(base: &Value) -> Vec<(String, Value)> {
    let mut out = vec![("unchanged".to_owned(), base.clone())];
    let mut add = |name: String, edit: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        edit(&mut v);
        out.push((name, v));
    };
    for list in ["function_events", "events", "sessions"] {
        let Some(first) = base[list].get(0).and_then(Value::as_object) else {
            continue;
        };
        for key in first.keys() {
            add(format!("{list}[0] without {key}"), &|v| {
                v[list][0].as_object_mut().unwrap().remove(key);
            });
            for (name, value) in values() {
                add(format!("{list}[0].{key} = {name}"), &|v| {
                    v[list][0][key] = value.clone();
                });
                if list != "sessions" {
                    add(format!("{list}[0].{key} = {name}, tree too"), &|v| {
                        let span = v[list][0]["span_id"].clone();
                        v[list][0][key] = value.clone();
                        set_in_tree(&mut v["trace_tree"], &span, key, &value);
                    });
                }
            }
        }
    }
    for key in base.as_object().unwrap().keys() {
        add(format!("without {key}"), &|v| {
            v.as_object_mut().unwrap().remove(key);
        });
        for (name, value) in values() {
            add(format!("{key} = {name}"), &|v| v[key] = value.clone());
        }
    }
    add("a label key in capitals".into(), &|v| {
        v["sessions"][0]["labels"] = json!({"Bad": "x"})
    });
    add("a long label".into(), &|v| {
        v["sessions"][0]["labels"] = json!({"ok": "x".repeat(257)})
    });
    add("meta pid as text".into(), &|v| {
        v["sessions"][0]["meta"]["pid"] = json!("1")
    });
    add("an unknown key in a node".into(), &|v| {
        v["trace_tree"][0]["zzz"] = json!(1)
    });
    add("a node without children".into(), &|v| {
        v["trace_tree"][0]
            .as_object_mut()
            .unwrap()
            .remove("children");
    });
    add("children an object".into(), &|v| {
        v["trace_tree"][0]["children"] = json!({})
    });
    add("a root that is a number".into(), &|v| {
        v["trace_tree"].as_array_mut().unwrap().push(json!(5))
    });
    add("a root twice".into(), &|v| {
        let root = v["trace_tree"][0].clone();
        v["trace_tree"].as_array_mut().unwrap().push(root);
    });
    add("an empty tree".into(), &|v| v["trace_tree"] = json!([]));
    add("roots reversed".into(), &|v| {
        v["trace_tree"].as_array_mut().unwrap().reverse()
    });
    add("a session twice".into(), &|v| {
        let s = v["sessions"][0].clone();
        v["sessions"].as_array_mut().unwrap().push(s);
    });
    add("enh_prompt without an id".into(), &|v| {
        v["function_events"][0]["enh_prompt"] = json!(true)
    });
    out
}

/// The files `validate_export.py` rejects among `paths`. It is run on a few files at a time;
/// a file that makes it crash (it does on some shapes, e.g. `events` a number) is rejected: a
/// batch that crashes is split in halves until the crashing files are found alone.
fn python_rejects(python: &Path, paths: &[PathBuf]) -> BTreeSet<String> {
    let mut rejected = BTreeSet::new();
    for batch in paths.chunks(100) {
        python_batch(python, batch, &mut rejected);
    }
    rejected
}

/// Runs the Python validator on `batch`, adding the files it rejects to `rejected`.
fn python_batch(python: &Path, batch: &[PathBuf], rejected: &mut BTreeSet<String>) {
    let out = Command::new(python)
        .arg(workspace_root().join("../shared/compat/validate_export.py"))
        .args(batch)
        .output()
        .unwrap();
    let crashed = String::from_utf8_lossy(&out.stderr).contains("Traceback");
    if crashed && batch.len() > 1 {
        let (a, b) = batch.split_at(batch.len() / 2);
        python_batch(python, a, rejected);
        python_batch(python, b, rejected);
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for p in batch {
        let p = p.display().to_string();
        let failed = text.lines().any(|l| l.starts_with(&format!("FAIL {p}: ")));
        let single_failed = batch.len() == 1 && out.status.code().is_some_and(|c| c != 0);
        if failed || crashed || single_failed {
            rejected.insert(p);
        }
    }
}

/// The files `aiobs validate` rejects among `paths`.
fn ours_rejects(paths: &[PathBuf]) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .arg("validate")
        .args(paths)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    paths
        .iter()
        .map(|p| p.display().to_string())
        .filter(|p| !text.lines().any(|l| l == format!("{p}: valid")))
        .collect()
}

fn same_verdicts(name: &str, base_file: &Path) {
    let Some(python) = validator_python() else {
        eprintln!("note: no Python with aiobs 0.1.5: parity with validate_export.py not checked");
        return;
    };
    let base: Value = serde_json::from_slice(&std::fs::read(base_file).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = mutations(&base);
    let mut paths = Vec::new();
    let mut names = Vec::new();
    for (i, (what, doc)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{name}-{i}.json"));
        std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
        paths.push(path);
        names.push(what.clone());
    }
    let python_says = python_rejects(&python, &paths);
    let we_say = ours_rejects(&paths);
    let differ: Vec<&String> = paths
        .iter()
        .zip(&names)
        .filter(|(p, _)| {
            let p = p.display().to_string();
            python_says.contains(&p) != we_say.contains(&p)
        })
        .map(|(_, n)| n)
        .collect();
    assert!(differ.is_empty(), "the validators disagree on: {differ:?}");
    assert!(
        !we_say.contains(arg(&paths[0])),
        "the unchanged file is valid"
    );
    assert!(
        we_say.len() > cases.len() / 2,
        "most changes break the file"
    );
}

#[test]
fn both_validators_agree_on_changes_to_a_runtime_trace() {
    let dir = tempfile::tempdir().unwrap();
    same_verdicts("runtime", &runtime_trace(dir.path()));
}

#[test]
fn both_validators_agree_on_changes_to_the_python_fixture() {
    same_verdicts("python", &python_fixture());
}
