//! The `agent` example recorded against mock-llm (tool calls, a 429, a stream), then replayed
//! from its trace with the mock stopped, through reqwest and through ureq: the same outputs,
//! and a trace with the same tree, names, results, errors and token counts.

// The example itself: the test calls its `run`; `main` is the example's own.
#[allow(dead_code)]
#[path = "../examples/agent.rs"]
mod agent;

use std::path::Path;

use agent::{Http, Options, Outcome};
use serde_json::{Value, json};

/// Runs the example in a collector of its own; what it printed, and the trace it wrote.
fn run(options: Options) -> (Outcome, Value) {
    let obs = aiobs::Collector::new();
    let _scope = obs.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = runtime
        .block_on(agent::run(&options))
        .unwrap_or_else(|e| panic!("the agent failed with {options:?}: {e}"));
    let text = std::fs::read_to_string(&outcome.trace).expect("read the trace");
    let trace = serde_json::from_str(&text).expect("the trace is JSON");
    (outcome, trace)
}

fn replay(recorded: &Path, http: Http, out: &Path) -> (Outcome, Value) {
    let args = ["--replay", &recorded.display().to_string(), "--http"]
        .map(str::to_owned)
        .into_iter()
        .chain([match http {
            Http::Reqwest => "reqwest".to_owned(),
            Http::Ureq => "ureq".to_owned(),
        }]);
    let options = Options {
        out: Some(out.to_owned()),
        ..Options::parse(args).expect("the command line parses")
    };
    assert_eq!(options.http, http);
    run(options)
}

/// The tree as the comparison sees it: each node's function name (or the LLM call's API), its
/// result and error, an LLM call's token counts, and its children; no times or ids.
fn tree(nodes: &Value) -> Vec<Value> {
    let Some(nodes) = nodes.as_array() else {
        return Vec::new();
    };
    nodes
        .iter()
        .map(|n| {
            let is_function = n.get("name").is_some_and(|v| !v.is_null());
            if is_function {
                json!({
                    "name": n["name"],
                    "result": n["result"],
                    "error": n["error"],
                    "children": tree(&n["children"]),
                })
            } else {
                json!({
                    "api": n["api"],
                    "model": n["request"]["model"],
                    "usage": n["response"]["usage"],
                    "error": n["error"],
                    "children": tree(&n["children"]),
                })
            }
        })
        .collect()
}

/// Every node of a tree, depth first.
fn nodes(tree: &[Value]) -> Vec<&Value> {
    let mut all = Vec::new();
    for n in tree {
        all.push(n);
        if let Some(children) = n["children"].as_array() {
            all.extend(nodes(children));
        }
    }
    all
}

#[test]
fn the_agent_recorded_against_the_mock_replays_through_reqwest_and_ureq() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recorded_path = dir.path().join("recorded.json");
    // The run starts mock-llm and stops it before it returns.
    let (recorded, recorded_trace) = run(Options {
        out: Some(recorded_path.clone()),
        ..Options::default()
    });
    assert_eq!(recorded.answer, "Hello from the mock.");
    assert_eq!(recorded.summary, "Hello from the mock.");
    let recorded_tree = tree(&recorded_trace["trace_tree"]);

    // What the recording holds: the rate-limited call, the tool calls, the stream.
    let all = nodes(&recorded_tree);
    let names: Vec<&str> = all.iter().filter_map(|n| n["name"].as_str()).collect();
    for name in [
        "run_agent",
        "call_model",
        "run_tool",
        "get_weather",
        "summarise",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let rate_limited = all
        .iter()
        .find(|n| n["name"] == "call_model" && !n["error"].is_null())
        .expect("the rate-limited call_model");
    assert!(
        rate_limited["error"]
            .as_str()
            .unwrap_or_default()
            .contains("429"),
        "{rate_limited}"
    );
    let llm_events = recorded_trace["events"].as_array().expect("events");
    assert_eq!(llm_events.len(), 4, "429, tool call, answer, stream");
    for e in llm_events {
        assert!(e.get("replayed").is_none(), "{e}");
    }
    let streamed: Vec<&Value> = llm_events
        .iter()
        .filter(|e| e["request"]["other"]["stream"] == json!(true))
        .collect();
    assert_eq!(streamed.len(), 1);
    assert_eq!(streamed[0]["response"]["stream"]["finished"], json!(true));
    assert!(
        streamed[0]["response"]["usage"]["total_tokens"].as_u64() > Some(0),
        "{}",
        streamed[0]
    );

    for http in [Http::Reqwest, Http::Ureq] {
        let out = dir.path().join(format!("replayed-{http:?}.json"));
        // Strict: `run` panics if a recorded call was never asked for again.
        let (replayed, replayed_trace) = replay(&recorded_path, http, &out);
        assert_eq!(replayed.answer, recorded.answer, "{http:?}");
        // async-openai parsed the replayed stream's chunks into the same text.
        assert!(!replayed.summary.is_empty());
        assert_eq!(replayed.summary, recorded.summary, "{http:?}");
        assert_eq!(replayed.trace, out);
        assert_eq!(
            tree(&replayed_trace["trace_tree"]),
            recorded_tree,
            "{http:?}: the replayed trace's tree"
        );
        let events = replayed_trace["events"].as_array().expect("events");
        assert_eq!(events.len(), llm_events.len(), "{http:?}");
        for e in events {
            assert_eq!(e["replayed"], json!(true), "{http:?}: {e}");
        }
    }
}

#[test]
fn the_command_line() {
    let parse = |args: &[&str]| Options::parse(args.iter().map(|a| (*a).to_owned()));
    let plain = parse(&[]).expect("no arguments");
    assert_eq!((plain.replay, plain.http), (None, Http::Reqwest));
    let default_file = parse(&["--replay", "--http", "ureq"]).expect("parses");
    assert_eq!(
        default_file.replay.as_deref(),
        Some(Path::new("target/aiobs/agent.json"))
    );
    assert_eq!(default_file.http, Http::Ureq);
    let file = parse(&["--replay", "x.json"]).expect("parses");
    assert_eq!(file.replay.as_deref(), Some(Path::new("x.json")));
    assert!(parse(&["--http", "curl"]).is_err());
    assert!(parse(&["--record"]).is_err());
}
