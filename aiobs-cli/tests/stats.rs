//! `aiobs stats`: calls, errors, durations and tokens per function and per provider/model.

mod common;

use common::{aiobs, arg, python_fixture, runtime_trace};
use serde_json::Value;

#[test]
fn the_table_has_a_row_per_function_and_per_provider_model() {
    let run = aiobs(&["stats", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let header = "kind      name                           calls  errors  p50 ms  p95 ms  max ms  tok in  cached  tok out  reasoning";
    assert_eq!(lines[0], header);
    for expected in [
        "function  app.fetch_answer                   3       0   3.211   7.845   7.845       0       0        0          0",
        "function  app.flaky                          1       1   2.510   2.510   2.510       0       0        0          0",
        "function  app.ask_llm                        1       0   5.480   5.480   5.480      21       0        9          0",
        "provider  openai/gpt-4o-mini-2024-07-18      1       0   4.548   4.548   4.548      21       0        9          0",
    ] {
        assert!(
            lines.contains(&expected),
            "no row {expected:?} in\n{}",
            run.stdout
        );
    }
    // Every row is as wide as the header: the columns line up.
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() == header.chars().count())
    );
    assert_eq!(lines.len(), 16);
}

#[test]
fn json_has_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let file = runtime_trace(dir.path());
    let run = aiobs(&["stats", "--json", arg(&file)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let function = |api_end: &str| {
        json["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"].as_str().unwrap().ends_with(api_end))
            .unwrap_or_else(|| panic!("no {api_end} in {json}"))
            .clone()
    };
    let lookup = function("::lookup");
    assert_eq!(
        (lookup["calls"].as_u64(), lookup["errors"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(lookup["max_ms"].as_f64().unwrap() >= lookup["p50_ms"].as_f64().unwrap());
    // The LLM call's tokens count for the functions it ran inside.
    let agent = function("::agent");
    assert_eq!(
        (agent["tokens_in"].as_u64(), agent["tokens_out"].as_u64()),
        (Some(12), Some(5))
    );
    assert_eq!(function("::tokenize")["tokens_in"], 0);
    let providers = json["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0]["name"], "openai/gpt-4o-mini-2024-07-18");
    assert_eq!(providers[0]["calls"], 1);
    assert_eq!(providers[0]["tokens_out"], 5);
}

/// The Anthropic example's calls: cached and output tokens per model, Anthropic's cache reads
/// added to its input count once.
#[test]
fn cached_and_reasoning_tokens_are_counted_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::anthropic_trace(dir.path());
    let run = aiobs(&["stats", "--json", arg(&file)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let provider = |name: &str| {
        json["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {json}"))
            .clone()
    };
    // The tool-use answer: 24 input tokens and 1,800 read from the cache; 62 out.
    let tools = provider("anthropic/claude-sonnet-4-5-20250929");
    assert_eq!(
        [
            &tools["tokens_in"],
            &tools["tokens_cached"],
            &tools["tokens_cache_write"],
            &tools["tokens_out"],
            &tools["tokens_reasoning"]
        ],
        [1824, 1800, 0, 62, 0]
    );
    let plain = provider("anthropic/claude-sonnet-4-20250514");
    assert_eq!(
        (
            &plain["calls"],
            &plain["tokens_in"],
            &plain["tokens_cached"],
            &plain["tokens_out"]
        ),
        (&3.into(), &36.into(), &0.into(), &24.into())
    );
}
