//! Compatibility with the Python SDK aiobs 0.1.5: its files read into our types, and what we
//! write passes its models and the tree rules (`aiobs validate --require-tree`).

mod support;

use aiobs::model::{ObservabilityExport, TraceNode};
use aiobs::{Collector, FlushOptions, ObserveOptions, ProviderCall};

const FIXTURE: &str = include_str!("fixtures/python-0.1.5.json");

#[test]
fn a_python_written_file_round_trips_through_the_rust_types() {
    let export: ObservabilityExport =
        serde_json::from_str(FIXTURE).expect("the Python file parses");
    assert_eq!(export.version, 1);
    assert_eq!(export.sessions.len(), 2);
    assert_eq!(export.events.len(), 1);
    assert_eq!(export.function_events.len(), 24);
    assert!(
        export.sessions.iter().any(|s| s.ended_at.is_none()),
        "an active session"
    );
    let errors = export
        .function_events
        .iter()
        .filter(|e| e.event.error.is_some())
        .count();
    assert!(errors >= 1);
    assert!(
        export
            .enh_prompt_traces
            .as_ref()
            .is_some_and(|t| t.len() == 2)
    );
    // Every event is once in the tree.
    let mut stack: Vec<&TraceNode> = export.trace_tree.iter().flatten().collect();
    let mut nodes = 0;
    while let Some(n) = stack.pop() {
        nodes += 1;
        stack.extend(n.children());
    }
    assert_eq!(nodes, 25);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round-trip.json");
    std::fs::write(&path, serde_json::to_vec(&export).unwrap()).unwrap();
    support::validate_export(&[&path]);
    let again: ObservabilityExport =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(again, export, "nothing is lost or changed on the way");
}

#[test]
fn what_the_collector_writes_passes_the_python_models_and_tree_rules() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(
        ObserveOptions::new()
            .session_name("first")
            .label("team", "core"),
    )
    .unwrap();
    let request = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi \"there\"\n"}]});
    ProviderCall::start("openai", "chat.completions.create", &request)
        .unwrap()
        .finish_ok(&serde_json::json!({"id": "x", "text": "hello", "usage": {"total_tokens": 3}}));
    ProviderCall::start("gemini", "models.generate_content", &request)
        .unwrap()
        .finish_err("ClientError: 429 quota");
    obs.end();
    obs.observe(ObserveOptions::new()).unwrap();
    ProviderCall::start("openai", "embeddings.create", &["a", "b"])
        .unwrap()
        .finish_ok(&[[0.5, f64::NAN]]);
    let with_tree = obs
        .flush(FlushOptions::to_path(dir.path().join("tree.json")))
        .unwrap();
    ProviderCall::start("openai", "chat.completions.create", &request)
        .unwrap()
        .finish_ok(&1);
    let empty_then_more = obs
        .flush(FlushOptions::to_path(dir.path().join("later.json")))
        .unwrap();
    let nothing = Collector::new()
        .flush(FlushOptions::to_path(dir.path().join("empty.json")))
        .unwrap();
    support::validate_export(&[&with_tree, &empty_then_more, &nothing]);
}
