//! `aiobs validate` against the Python SDK aiobs 0.1.5's own pydantic models
//! (`compat/check_python_models.py`):
//!
//! - its table of the models' fields is the one the installed package has;
//! - on hundreds of single changes to real files (each key of each kind of entry removed or
//!   given a value of every JSON type, in the flat list alone or in the tree too, and the
//!   tree's rules broken one at a time), every file the models reject it rejects too, and
//!   every file it accepts the models accept. Where it rejects what the models accept, the
//!   break is one of the format's own rules (key sets, the tree, sessions, timing, labels),
//!   and the test names those cases, so that the list cannot grow unseen.

mod common;

use std::path::Path;

use common::{python_fixture, runtime_trace};
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

/// What `aiobs validate` says of `path`: its problems, none when it is valid.
fn our_problems(path: &Path) -> Vec<String> {
    aiobs_cli::validate::validate_file(path, Default::default()).problems
}

/// Whether a problem claims a value has the wrong type for its model field: the models' own
/// ground, where the two must agree. The tree's shape (`trace_tree` is a list of anything to
/// the models) is a rule of the format.
fn is_type_claim(problem: &str) -> bool {
    !problem.contains("trace_tree")
        && ["expected a ", "expected an ", "expected true or false"]
            .iter()
            .any(|t| problem.contains(t))
}

/// For every change to `base_file`: what changed, whether the models reject it, and what
/// `aiobs validate` says of it.
fn verdicts(name: &str, base_file: &Path) -> Vec<(String, bool, Vec<String>)> {
    let base: Value = serde_json::from_slice(&std::fs::read(base_file).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = mutations(&base);
    let mut paths = Vec::new();
    for (i, (_, doc)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{name}-{i}.json"));
        std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
        paths.push(path);
    }
    let models_reject = aiobs_compat::python_models_reject(&paths);
    let verdicts: Vec<(String, bool, Vec<String>)> = cases
        .into_iter()
        .zip(&paths)
        .map(|((what, _), p)| (what, models_reject.contains(p), our_problems(p)))
        .collect();
    assert!(verdicts[0].2.is_empty(), "the unchanged file is valid");
    assert!(!verdicts[0].1, "the models accept the unchanged file");
    let rejected = verdicts.iter().filter(|v| !v.2.is_empty()).count();
    assert!(rejected > verdicts.len() / 2, "most changes break the file");
    assert!(
        verdicts.iter().filter(|v| v.1).count() > verdicts.len() / 4,
        "the models reject many of them"
    );
    verdicts
}

fn same_verdicts(name: &str, base_file: &Path) {
    let verdicts = verdicts(name, base_file);
    let too_lax: Vec<&String> = verdicts
        .iter()
        .filter(|(_, models_reject, ours)| *models_reject && ours.is_empty())
        .map(|(what, ..)| what)
        .collect();
    assert!(
        too_lax.is_empty(),
        "aiobs validate accepts what the models reject: {too_lax:?}"
    );
    let wrong_type_claims: Vec<(&String, &String)> = verdicts
        .iter()
        .filter(|(_, models_reject, _)| !models_reject)
        .flat_map(|(what, _, ours)| {
            ours.iter()
                .filter(|p| is_type_claim(p))
                .map(move |p| (what, p))
        })
        .collect();
    assert!(
        wrong_type_claims.is_empty(),
        "aiobs validate calls a type wrong that the models accept: {wrong_type_claims:?}"
    );
}

#[test]
fn the_field_table_is_the_installed_models() {
    let models: Vec<(String, Vec<(String, bool)>)> = aiobs_compat::python_model_fields();
    let ours: Vec<(String, Vec<(String, bool)>)> = aiobs_cli::validate::model_fields()
        .into_iter()
        .map(|(m, fields)| {
            let fields = fields.into_iter().map(|(f, n)| (f.to_owned(), n)).collect();
            (m.to_owned(), fields)
        })
        .collect();
    let mut models_sorted = models.clone();
    models_sorted.sort();
    let mut ours_sorted = ours.clone();
    ours_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    // Same models, same fields in the same order, same nullability.
    assert_eq!(
        ours_sorted.iter().map(|m| &m.0).collect::<Vec<_>>(),
        models_sorted.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    for ((model, ours), (_, theirs)) in ours_sorted.iter().zip(&models_sorted) {
        assert_eq!(ours, theirs, "the fields of {model}");
    }
}

#[test]
fn the_validator_and_the_models_agree_on_changes_to_a_runtime_trace() {
    let dir = tempfile::tempdir().unwrap();
    same_verdicts("runtime", &runtime_trace(dir.path()));
}

#[test]
fn the_validator_and_the_models_agree_on_changes_to_the_python_fixture() {
    same_verdicts("python", &python_fixture());
}
