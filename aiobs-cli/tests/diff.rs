//! `aiobs diff`, run as a child process on traces that real programs wrote: an agent whose
//! variants make one more LLM call, grow the prompt, drop a tool or meet a failing tool,
//! recorded by the runtime through the OpenAI wire format (`HttpCall`, as a middleware
//! records), its model a fake whose token counts follow the prompt.

mod common;

use std::path::{Path, PathBuf};

use aiobs::providers::HttpCall;
use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use common::{ToolError, aiobs, arg, python_fixture};
use serde_json::{Value, json};

/// How an agent run differs from the baseline.
#[derive(Debug, Clone, Copy, Default)]
struct Variant {
    /// Checks its answer with one more LLM call.
    verify: bool,
    /// Sends this many more words of context with each question.
    extra_context: usize,
    /// Offers the model only `get_weather`, not `search`.
    drop_search: bool,
    /// `search` fails.
    search_fails: bool,
}

/// Words in the messages, as the fake model counts tokens.
fn words(messages: &Value) -> u64 {
    messages
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["content"].as_str())
                .map(|c| c.split_whitespace().count() as u64)
                .sum()
        })
        .unwrap_or(0)
}

/// The fake model's answer: a call of every tool offered, or a text; the prompt's tokens are
/// its words.
fn model_answer(request: &Value) -> Value {
    let prompt = words(&request["messages"]);
    let tools: Vec<&str> = request["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let message = if tools.is_empty() {
        json!({"role": "assistant", "content": "It is sunny in Lisbon today."})
    } else {
        let calls: Vec<Value> = tools
            .iter()
            .enumerate()
            .map(|(i, name)| {
                json!({"id": format!("call_{i}"), "type": "function",
                       "function": {"name": name, "arguments": "{\"q\":\"Lisbon\"}"}})
            })
            .collect();
        json!({"role": "assistant", "content": null, "tool_calls": calls})
    };
    let completion = if tools.is_empty() { 6 } else { 10 };
    json!({"id": "chatcmpl-agent", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
           "choices": [{"index": 0, "message": message,
                        "finish_reason": if tools.is_empty() { "stop" } else { "tool_calls" }}],
           "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion}})
}

/// One chat completion, recorded as the HTTP middleware records it.
#[observe(skip(request))]
fn call_model(request: &Value) -> Value {
    let body = request.to_string();
    let answer = model_answer(request);
    let mut call = HttpCall::start(
        "POST",
        "https://api.openai.com/v1/chat/completions",
        body.as_bytes(),
    )
    .expect("a session is recording");
    call.response_head(200, Some("application/json"));
    call.response_bytes(answer.to_string().as_bytes());
    call.finish();
    answer
}

#[observe]
fn get_weather(city: &str) -> String {
    format!("sunny in {city}")
}

#[observe]
fn search(query: &str, fails: bool) -> Result<String, ToolError> {
    if fails {
        return Err(ToolError(format!("search index unavailable for {query:?}")));
    }
    Ok(format!("3 pages about {query}"))
}

#[observe(skip(variant))]
fn answer(question: &str, variant: Variant) -> String {
    let context = "background ".repeat(variant.extra_context);
    let mut messages = vec![json!({"role": "user", "content": format!("{context}{question}")})];
    let mut tools = vec![json!({"type": "function", "function": {"name": "get_weather"}})];
    if !variant.drop_search {
        tools.push(json!({"type": "function", "function": {"name": "search"}}));
    }
    let first = call_model(&json!({"model": "gpt-4o-mini", "messages": messages, "tools": tools}));
    let asked = first["choices"][0]["message"]["tool_calls"].clone();
    for tool in asked.as_array().into_iter().flatten() {
        let result = match tool["function"]["name"].as_str() {
            Some("get_weather") => get_weather("Lisbon"),
            _ => search("Lisbon", variant.search_fails).unwrap_or_else(|e| e.0),
        };
        messages.push(json!({"role": "tool", "content": result}));
    }
    let reply = call_model(&json!({"model": "gpt-4o-mini", "messages": messages}));
    let text = reply["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if variant.verify {
        let check = json!({"role": "user", "content": format!("Is this right? {text}")});
        call_model(&json!({"model": "gpt-4o-mini", "messages": [check]}));
    }
    text
}

const QUESTIONS: [&str; 3] = [
    "What is the weather in Lisbon?",
    "Should I take an umbrella?",
    "Is it warm enough to swim?",
];

/// Runs the agent on every question in a session of its own, flushed to `dir/name.json`.
fn run_agent(dir: &Path, name: &str, variant: Variant) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name(name))
        .expect("observe");
    for q in QUESTIONS {
        answer(q, variant);
    }
    obs.end();
    obs.flush(FlushOptions::to_path(dir.join(format!("{name}.json"))))
        .expect("flush")
}

fn json_of(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn path_entry<'j>(json: &'j Value, path: &str) -> &'j Value {
    json["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .find(|p| p["path"] == path)
        .unwrap_or_else(|| panic!("no path {path:?} in {:#}", json["paths"]))
}

const LLM: &str = "[openai] chat.completions.create";

#[test]
fn two_runs_of_one_program_are_within_every_budget() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(dir.path(), "new", Variant::default());
    let budgets = [
        "--fail-on",
        "llm_calls>+0",
        "--fail-on",
        "tokens>+0",
        "--fail-on",
        "cost>+0%",
        "--fail-on",
        "errors>0",
        "--fail-on",
        "tools_changed",
    ];
    // On a busy test machine a sub-millisecond call can take a few ms once: this test is
    // about the calls, tokens and tools, so durations get a wide noise band.
    let mut args = vec!["diff", arg(&base), arg(&new), "--min-change-ms", "1000"];
    args.extend(budgets);
    let run = aiobs(&args);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("call paths: 0 added, 0 removed, 0 changed, 5 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("budgets: 0 budgets exceeded"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b'), "no colour in a pipe");

    args.push("--json");
    let json = json_of(&aiobs(&args));
    let totals = &json["totals"];
    // Per question: 2 LLM calls, get_weather, search, answer and its 2 call_model.
    assert_eq!(totals["llm_calls"]["base"], 6);
    assert_eq!(totals["calls"]["new"], 3 * 7);
    assert_eq!(totals["tokens"]["change"], 0);
    assert_eq!(json["tools"]["base"].as_array().unwrap().len(), 6);
    assert_eq!(json["tools"]["changed"], false);
    assert_eq!(json["base"]["files"][0], arg(&base));
    for p in json["paths"].as_array().unwrap() {
        assert_eq!(p["status"], "unchanged", "{p}");
    }
}

#[test]
fn one_more_llm_call_per_question_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(
        dir.path(),
        "new",
        Variant {
            verify: true,
            ..Variant::default()
        },
    );
    let run = aiobs(&[
        "diff",
        arg(&base),
        arg(&new),
        "--fail-on",
        "llm_calls>+1",
        "--fail-on",
        "errors>0",
    ]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "aiobs diff: budget exceeded: llm_calls>+1 (llm_calls: 6 → 9 (+50.0%))\n"
    );
    let added = format!("+  answer > call_model > {LLM}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("~  answer > call_model ")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(&added),
        "the path is the same, with more calls"
    );
    assert!(run.stdout.contains("✗  llm_calls>+1"), "{}", run.stdout);
    assert!(run.stdout.contains("✓  errors>0"), "{}", run.stdout);

    let json = json_of(&aiobs(&["diff", "--json", arg(&base), arg(&new)]));
    let llm = path_entry(&json, &format!("answer > call_model > {LLM}"));
    assert_eq!(
        (&llm["status"], &llm["calls"]["base"], &llm["calls"]["new"]),
        (&json!("changed"), &json!(6), &json!(9))
    );
    assert_eq!(json["totals"]["llm_calls"]["change"], 3);
    assert_eq!(json["totals"]["llm_calls"]["change_pct"], 50.0);
    assert!(json["budgets"].as_array().unwrap().is_empty());
}

#[test]
fn a_growing_prompt_shows_in_tokens_and_cost_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(
        dir.path(),
        "new",
        Variant {
            extra_context: 1000,
            ..Variant::default()
        },
    );
    let run = aiobs(&[
        "diff",
        "--json",
        arg(&base),
        arg(&new),
        "--fail-on",
        "cost>+10%",
        "--fail-on",
        "tokens>+10000",
        "--fail-on",
        "tokens_in>+5000",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = json_of(&run);
    // Each question's two calls carry the 1,000 more words: 6,000 more input tokens.
    let model = &json["models"][0];
    assert_eq!(model["model"], "openai/gpt-4o-mini-2024-07-18");
    assert_eq!(model["status"], "changed");
    assert_eq!(model["tokens_in"]["change"], 6000);
    assert_eq!(model["tokens_out"]["change"], 0);
    assert_eq!(model["llm_calls"]["change"], 0);
    let cost = &model["cost_usd"];
    // gpt-4o-mini: $0.15 per million input tokens.
    let change = cost["change"].as_f64().unwrap();
    assert!((change - 6000.0 * 0.15 / 1e6).abs() < 1e-12, "{cost}");
    assert!(cost["change_pct"].as_f64().unwrap() > 10.0);
    let verdicts: Vec<(&str, bool)> = json["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["budget"].as_str().unwrap(),
                v["exceeded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("cost>+10%", true),
            ("tokens>+10000", false),
            ("tokens_in>+5000", true)
        ]
    );
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("budget exceeded: cost>+10% (cost: $"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dropped_tool_is_reported_and_fails_tools_changed() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(
        dir.path(),
        "new",
        Variant {
            drop_search: true,
            ..Variant::default()
        },
    );
    let run = aiobs(&["diff", arg(&base), arg(&new), "--fail-on", "tools_changed"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "aiobs diff: budget exceeded: tools_changed (tools: -3 search)\n"
    );
    assert!(run.stdout.contains("\n-  search ×3\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("-  answer > search ")),
        "{}",
        run.stdout
    );

    let json = json_of(&aiobs(&["diff", "--json", arg(&base), arg(&new)]));
    assert_eq!(
        json["tools"]["removed"],
        json!([{"name": "search", "count": 3}])
    );
    assert_eq!(json["tools"]["added"], json!([]));
    assert_eq!(json["tools"]["reordered"], false);
    assert_eq!(
        json["tools"]["new"],
        json!(["get_weather", "get_weather", "get_weather"])
    );
    let gone = path_entry(&json, "answer > search");
    assert_eq!(gone["status"], "removed");
    assert_eq!(gone["p50_ms"]["new"], Value::Null);

    // The other way round, the tool comes back: added, and not a reordering.
    let json = json_of(&aiobs(&["diff", "--json", arg(&new), arg(&base)]));
    assert_eq!(
        json["tools"]["added"],
        json!([{"name": "search", "count": 3}])
    );
    assert_eq!(path_entry(&json, "answer > search")["status"], "added");
}

#[test]
fn a_new_error_deep_in_the_tree_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(
        dir.path(),
        "new",
        Variant {
            search_fails: true,
            ..Variant::default()
        },
    );
    let run = aiobs(&["diff", arg(&base), arg(&new), "--fail-on", "errors>0"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "aiobs diff: budget exceeded: errors>0 (errors: 0 → 3)\n"
    );
    assert!(
        run.stdout
            .contains("new error: ToolError: search index unavailable for \"Lisbon\""),
        "{}",
        run.stdout
    );
    let json = json_of(&aiobs(&["diff", "--json", arg(&base), arg(&new)]));
    let search = path_entry(&json, "answer > search");
    assert_eq!(search["errors"]["new"], 3);
    assert_eq!(search["errors_gone"], json!([]));
    assert_eq!(search["errors_new"].as_array().unwrap().len(), 1);
    // A per-path budget, by the end of the path.
    let run = aiobs(&[
        "diff",
        arg(&base),
        arg(&new),
        "--fail-on",
        "errors:search>+0",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("errors of answer > search: 0 → 3"),
        "{}",
        run.stderr
    );
    let run = aiobs(&[
        "diff",
        arg(&new),
        arg(&base),
        "--fail-on",
        "errors:search>+0",
    ]);
    assert_eq!(run.code, Some(0), "errors gone: {}", run.stderr);
}

#[test]
fn colour_on_demand_and_never_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    let new = run_agent(
        dir.path(),
        "new",
        Variant {
            drop_search: true,
            ..Variant::default()
        },
    );
    let plain = aiobs(&["diff", arg(&base), arg(&new)]);
    assert_eq!(plain.code, Some(0));
    assert!(!plain.stdout.contains('\x1b'));
    let coloured = aiobs(&["diff", "--color", "always", arg(&base), arg(&new)]);
    assert!(
        coloured.stdout.contains("\x1b[31m-\x1b[0m  search ×3"),
        "{}",
        coloured.stdout
    );
}

#[test]
fn the_numbered_files_of_one_session_are_one_side() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_agent(dir.path(), "base", Variant::default());
    // The same program, flushed after each question into a directory of numbered files.
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    let sid = obs
        .observe(ObserveOptions::new().session_name("parts"))
        .unwrap();
    for (n, q) in QUESTIONS.iter().enumerate() {
        answer(q, Variant::default());
        if n + 1 == QUESTIONS.len() {
            obs.end();
        }
        obs.flush(FlushOptions::to_path(
            parts.join(format!("{sid}-{}.json", n + 1)),
        ))
        .unwrap();
    }
    let run = aiobs(&["diff", "--json", arg(&base), arg(&parts)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = json_of(&run);
    assert_eq!(json["new"]["files"].as_array().unwrap().len(), 3);
    assert_eq!(json["totals"]["calls"]["change"], 0);
    assert_eq!(json["totals"]["tokens"]["change"], 0);
    assert_eq!(json["tools"]["changed"], false);

    // A file of another session among them is bad input, named.
    let stranger = run_agent(&parts, "stranger", Variant::default());
    let run = aiobs(&["diff", arg(&base), arg(&parts)]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("aiobs: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the files of one side must be the numbered files of one session"),
        "{}",
        run.stderr
    );
    // The stranger sorts last; the first file it doesn't share a session with is named.
    assert!(run.stderr.contains(arg(&stranger)), "{}", run.stderr);
}

#[test]
fn python_written_fixtures_are_compared() {
    let python = python_fixture();
    let run = aiobs(&[
        "diff",
        "--json",
        arg(&python),
        arg(&python),
        "--fail-on",
        "errors>0",
    ]);
    // The fixture has one failed call (`flaky`): `errors>0` holds of NEW itself.
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = json_of(&run);
    assert_eq!(json["totals"]["errors"]["new"], 1);
    assert_eq!(json["totals"]["llm_calls"]["new"], 1);
    assert_eq!(json["totals"]["tokens_in"]["new"], 21);
    assert_eq!(
        json["tools"]["base"],
        json!([]),
        "the Python SDK records no tool calls"
    );
    assert_eq!(json["models"][0]["model"], "openai/gpt-4o-mini-2024-07-18");

    // Against a run of this crate's agent: everything added or removed, and the LLM calls
    // of both, each with its own path.
    let dir = tempfile::tempdir().unwrap();
    let rust = run_agent(dir.path(), "rust", Variant::default());
    let run = aiobs(&[
        "diff",
        "--json",
        arg(&python),
        arg(&rust),
        "--fail-on",
        "llm_calls>+1",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = json_of(&run);
    assert_eq!(json["totals"]["llm_calls"]["change"], 5);
    for p in json["paths"].as_array().unwrap() {
        assert!(p["status"] == "added" || p["status"] == "removed", "{p}");
    }
}

/// One line on stderr, naming `file`, and exit status 2.
fn bad_input(run: &common::Run, file: &Path, expected: &str) {
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, format!("aiobs: {}{expected}\n", file.display()));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn bad_input_is_exit_2_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = run_agent(dir.path(), "good", Variant::default());
    let missing = dir.path().join("missing.json");
    bad_input(
        &aiobs(&["diff", arg(&good), arg(&missing)]),
        &missing,
        ": no such file",
    );
    bad_input(
        &aiobs(&["diff", arg(&missing), arg(&good)]),
        &missing,
        ": no such file",
    );

    let not_json = dir.path().join("notes.json");
    std::fs::write(&not_json, "these are notes").unwrap();
    bad_input(
        &aiobs(&["diff", arg(&good), arg(&not_json)]),
        &not_json,
        ":1:2: expected ident",
    );

    // The agent's own file, claiming a version this aiobs does not read.
    let mut export: Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    export["version"] = 2.into();
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, export.to_string()).unwrap();
    bad_input(
        &aiobs(&["diff", arg(&v2), arg(&good)]),
        &v2,
        ": version 2 is not supported (this aiobs reads version 1)",
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    bad_input(
        &aiobs(&["diff", arg(&good), arg(&empty)]),
        &empty,
        ": a directory without *.json files (expected aiobs exports)",
    );
}

#[test]
fn a_bad_budget_is_exit_2_listing_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = run_agent(dir.path(), "good", Variant::default());
    let run = aiobs(&["diff", arg(&good), arg(&good), "--fail-on", "price>+10%"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bad budget \"price>+10%\": no figure \"price\""),
        "{}",
        run.stderr
    );
    for valid in ["tools_changed", "llm_calls", "p95:PATH", "cost>+10%", ">="] {
        assert!(run.stderr.contains(valid), "{valid} in {}", run.stderr);
    }
    // A path in neither file.
    let run = aiobs(&[
        "diff",
        arg(&good),
        arg(&good),
        "--fail-on",
        "p95:nowhere>+20%",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "aiobs: budget \"p95:nowhere>+20%\": no call path is \"nowhere\" or ends in \"> nowhere\", in BASE or NEW\n"
    );
    let run = aiobs(&["diff", arg(&good), arg(&good), "--min-change", "-5"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}
