//! The tracing bridge: `tracing` spans recorded by `aiobs::bridge::AiobsLayer` as function
//! events, nested with `#[observe]` calls both ways (sync, async on a multi-thread runtime,
//! spawned tasks, other threads), and a span shaped as rig emits it as an LLM call.

mod support;

use std::sync::Once;

use aiobs::bridge::AiobsLayer;
use aiobs::{Collector, ObserveOptions, Sampling, observe};
use serde_json::{Value, json};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// One subscriber for the whole test binary, global so that tokio's worker threads use it too;
/// each test records into its own collector (the one current where its spans are created).
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(AiobsLayer::new());
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
}

/// The trace tree as `name(child,child)` text, children in order.
fn shape(nodes: &Value) -> String {
    nodes
        .as_array()
        .expect("a list of nodes")
        .iter()
        .map(|n| {
            let name = n["name"].as_str().or(n["api"].as_str()).unwrap_or("?");
            let children = &n["children"];
            if children.as_array().is_some_and(|c| !c.is_empty()) {
                format!("{name}({})", shape(children))
            } else {
                name.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The function event named `name` (the first one).
fn function<'a>(export: &'a Value, name: &str) -> &'a Value {
    export["function_events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no function event {name}"))
}

// --- sync: instrument → observe → instrument → observe -------------------------------------

#[tracing::instrument]
fn plan(task: &str, steps: u32) -> usize {
    research(task) + 1
}

#[observe]
fn research(topic: &str) -> usize {
    lookup(topic, 3).len()
}

#[tracing::instrument(skip_all, fields(query = topic, limit = tracing::field::Empty, otel.kind = "internal"))]
fn lookup(topic: &str, limit: usize) -> Vec<String> {
    tracing::Span::current().record("limit", limit);
    (0..limit).map(fetch).collect()
}

#[observe]
fn fetch(i: usize) -> String {
    format!("doc {i}")
}

#[test]
fn instrumented_and_observed_functions_nest_both_ways() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("sync"))
        .unwrap();
    assert_eq!(plan("rust", 2), 4);
    let (export, _, _dir) = support::flush_validated(&obs, "sync.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "plan(research(lookup(fetch,fetch,fetch)))"
    );
    let plan = function(&export, "plan");
    assert_eq!(plan["args"], json!(["rust", 2]));
    assert_eq!(plan["arg_names"], json!(["task", "steps"]));
    assert_eq!(plan["api"], "bridge::plan");
    assert_eq!(plan["module"], "bridge");
    assert_eq!(plan["callsite"]["file"], "aiobs/tests/bridge.rs");
    assert_eq!(plan["parent_span_id"], Value::Null);
    let research = function(&export, "research");
    assert_eq!(research["parent_span_id"], plan["span_id"]);
    let lookup = function(&export, "lookup");
    assert_eq!(lookup["parent_span_id"], research["span_id"]);
    // A field recorded later has its value; `otel.*` fields are not arguments.
    assert_eq!(lookup["args"], json!(["rust", 3]));
    assert_eq!(lookup["arg_names"], json!(["query", "limit"]));
    let fetches: Vec<&Value> = export["function_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "fetch")
        .collect();
    assert_eq!(fetches.len(), 3);
    assert!(
        fetches
            .iter()
            .all(|f| f["parent_span_id"] == lookup["span_id"])
    );
}

// --- errors and results ---------------------------------------------------------------------

#[tracing::instrument(err, ret)]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[test]
fn instrument_err_and_ret_become_the_error_and_the_result() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    assert!(parse("12").is_ok());
    assert!(parse("x").is_err());
    {
        let span = tracing::info_span!(
            "export",
            otel.status_code = tracing::field::Empty,
            otel.status_message = tracing::field::Empty
        );
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_message", "bucket not found");
    }
    tracing::info_span!(
        "call",
        exception.type = "TimeoutError",
        exception.message = "no answer in 30s"
    )
    .in_scope(|| {});
    let (export, _, _dir) = support::flush_validated(&obs, "errors.json");
    let events = export["function_events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    // tracing hands over the `Debug` text of the `Ok` value.
    assert_eq!(events[0]["result"], "12");
    assert_eq!(events[0]["error"], Value::Null);
    assert_eq!(events[1]["error"], "invalid digit found in string");
    assert_eq!(events[1]["result"], Value::Null);
    assert_eq!(events[2]["name"], "export");
    assert_eq!(events[2]["error"], "bucket not found");
    assert_eq!(events[2]["args"], json!([]));
    assert_eq!(events[3]["error"], "TimeoutError: no answer in 30s");
}

// --- async: a multi-thread runtime, instrumented futures, spawned tasks ---------------------

#[tracing::instrument]
async fn serve(request_id: u64) -> usize {
    let mut tasks = Vec::new();
    for part in 0..2u32 {
        let span = tracing::info_span!("part", part);
        tasks.push(tokio::spawn(
            async move { summarize(part).await }.instrument(span),
        ));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("the task ran");
    }
    total
}

#[observe]
async fn summarize(part: u32) -> usize {
    tokio::task::yield_now().await;
    search(part).await
}

#[tracing::instrument]
async fn search(part: u32) -> usize {
    tokio::task::yield_now().await;
    let n = score(part);
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    n
}

#[observe]
fn score(part: u32) -> usize {
    part as usize + 1
}

#[test]
fn async_spans_and_observed_futures_nest_across_worker_threads() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("async"))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(serve(7)), 3);
    drop(rt);
    let (export, _, _dir) = support::flush_validated(&obs, "async.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "serve(part(summarize(search(score))),part(summarize(search(score))))"
    );
    let tree = &export["trace_tree"][0];
    assert_eq!(tree["args"], json!([7]));
    for (i, part) in tree["children"].as_array().unwrap().iter().enumerate() {
        assert_eq!(part["args"], json!([i]));
        let summarize = &part["children"][0];
        assert_eq!(summarize["args"], json!([i]));
        let search = &summarize["children"][0];
        assert_eq!(search["args"], json!([i]));
        assert_eq!(search["children"][0]["result"], json!(i + 1));
        // The search span is timed from its creation to its close, across the sleep.
        assert!(search["duration_ms"].as_f64().unwrap() >= 1.0);
    }
}

// --- threads -------------------------------------------------------------------------------

#[observe]
fn dispatch() -> usize {
    let span = tracing::info_span!("job", worker = "w1");
    std::thread::spawn(move || {
        let _entered = span.enter();
        let _child = tracing::info_span!("step").entered();
        score(1)
    })
    .join()
    .expect("the thread ran")
}

#[test]
fn a_span_entered_on_another_thread_keeps_its_parent_and_collector() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    assert_eq!(dispatch(), 2);
    let (export, _, _dir) = support::flush_validated(&obs, "thread.json");
    // The other thread has no collector of its own: entering the span made `obs` current.
    assert_eq!(shape(&export["trace_tree"]), "dispatch(job(step(score)))");
    assert_eq!(function(&export, "job")["args"], json!(["w1"]));
}

#[test]
fn an_explicit_parent_is_the_parent() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let outer = tracing::info_span!("outer");
    let other = tracing::info_span!("other");
    other.in_scope(|| {
        // Created while `other` is entered, but its parent is `outer`.
        tracing::info_span!(parent: &outer, "child").in_scope(|| score(0));
        tracing::info_span!(parent: None, "root").in_scope(|| {});
    });
    drop((outer, other));
    let (export, _, _dir) = support::flush_validated(&obs, "explicit.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "outer(child(score)),other,root"
    );
}

/// A span made with `parent: None` (as rig makes its `invoke_agent` when no tracing span is
/// current) and another made inside an entered span.
#[observe]
fn detached_spans() {
    tracing::info_span!(parent: None, "detached").in_scope(|| score(1));
    tracing::info_span!("entered").in_scope(|| {
        tracing::info_span!(parent: None, "detached_from_entered").in_scope(|| {});
    });
}

#[test]
fn a_span_with_parent_none_is_the_child_of_the_running_observed_call() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    detached_spans();
    // Outside any observed call, `parent: None` is a root, as tracing means it.
    tracing::info_span!(parent: None, "root").in_scope(|| score(2));
    let (export, _, _dir) = support::flush_validated(&obs, "parent_none.json");
    // Not under `entered`, which the span asked to leave: under the call, which tracing
    // does not see.
    assert_eq!(
        shape(&export["trace_tree"]),
        "detached_spans(detached(score),entered,detached_from_entered),root(score)"
    );
    let call = function(&export, "detached_spans");
    assert_eq!(
        function(&export, "detached_from_entered")["parent_span_id"],
        call["span_id"]
    );
    assert_eq!(function(&export, "root")["parent_span_id"], Value::Null);
}

/// A span whose explicit parent was opened before the session (so is not recorded).
#[observe]
fn under_an_unrecorded_parent(early: &tracing::Span) {
    tracing::info_span!(parent: early, "late_child").in_scope(|| score(3));
}

#[test]
fn a_span_whose_explicit_parent_is_not_recorded_is_the_child_of_the_running_call() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    let early = tracing::info_span!("early"); // no session yet: not recorded
    obs.observe(ObserveOptions::new()).unwrap();
    under_an_unrecorded_parent(&early);
    tracing::info_span!(parent: &early, "late_root").in_scope(|| {});
    let (export, _, _dir) = support::flush_validated(&obs, "unrecorded_parent.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "under_an_unrecorded_parent(late_child(score)),late_root"
    );
}

/// A span whose explicit parent this layer's filter keeps out.
#[observe]
fn under_a_filtered_parent() {
    let hidden = tracing::info_span!(target: "hidden", "hidden");
    tracing::info_span!(target: "kept", parent: &hidden, "kept_child").in_scope(|| score(4));
}

#[test]
fn a_span_whose_explicit_parent_is_filtered_out_is_the_child_of_the_running_call() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    // This thread's own subscriber: the aiobs layer sees only the `kept` target.
    let layer =
        AiobsLayer::new().with_filter(Targets::new().with_target("kept", LevelFilter::TRACE));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, under_a_filtered_parent);
    let (export, _, _dir) = support::flush_validated(&obs, "filtered_parent.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "under_a_filtered_parent(kept_child(score))"
    );
}

#[observe]
async fn detached_after_awaits() -> usize {
    tokio::task::yield_now().await;
    let span = tracing::info_span!(parent: None, "detached");
    async {
        tokio::task::yield_now().await;
        score(3)
    }
    .instrument(span)
    .await
}

#[test]
fn a_span_with_parent_none_in_an_observed_future_is_its_child_on_any_worker() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.spawn(detached_after_awaits());
    assert_eq!(rt.block_on(handle).expect("the task ran"), 4);
    drop(rt);
    let (export, _, _dir) = support::flush_validated(&obs, "parent_none_async.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "detached_after_awaits(detached(score))"
    );
}

#[test]
fn spans_exited_out_of_order_restore_the_right_parent() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let a = tracing::info_span!("a");
    let enter_a = a.enter();
    let b = tracing::info_span!("b");
    let enter_b = b.enter();
    drop(enter_a);
    score(1); // `b` is still entered
    drop(enter_b);
    score(2); // nothing is
    drop((a, b));
    let (export, _, _dir) = support::flush_validated(&obs, "order.json");
    assert_eq!(shape(&export["trace_tree"]), "a(b(score)),score");
}

// --- no session, sampling -------------------------------------------------------------------

#[test]
fn without_a_session_nothing_is_recorded() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    assert_eq!(plan("idle", 1), 4);
    let span = tracing::info_span!("late", n = tracing::field::Empty);
    obs.observe(ObserveOptions::new()).unwrap();
    // Created before the session: not recorded, even when it is used during it.
    span.record("n", 1);
    span.in_scope(|| score(1));
    drop(span);
    let (export, _, _dir) = support::flush_validated(&obs, "idle.json");
    assert_eq!(shape(&export["trace_tree"]), "score");
}

#[test]
fn a_span_under_a_dropped_root_is_dropped_too() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().head_ratio(0.0));
    obs.observe(ObserveOptions::new()).unwrap();
    // A dropped span root: the observed call and the span under it are not recorded.
    assert_eq!(plan("dropped", 1), 4);
    // A dropped observed root: neither is the span under it.
    assert_eq!(research("dropped"), 3);
    let (export, _, _dir) = support::flush_validated(&obs, "dropped.json");
    assert_eq!(export["function_events"], json!([]));
    let labels = &export["sessions"][0]["labels"];
    assert_eq!(labels["aiobs_sampled_dropped"], "2");
}

// --- a span shaped as rig emits it -------------------------------------------------------------

/// The completion span of rig-core (0xPlaygrounds/rig, `crates/rig-core/src/telemetry/mod.rs`:
/// `new_completion_span!` through `__rig_canonical_completion_span!`, target
/// `rig::completions`, name `chat`; the OpenAI provider builds it with `CompletionSpanBuilder`
/// in `providers/openai/completion/mod.rs` and records the response with
/// `record_response_metadata`, `record_token_usage`, `record_model_input/output`, whose JSON
/// is the OpenTelemetry GenAI `{role, parts}` shape).
fn rig_completion(prompt: &str) -> String {
    let system = r#"[{"type":"text","content":"You are terse."}]"#;
    let span = tracing::info_span!(
        target: "rig::completions",
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = "gpt-4o-mini",
        gen_ai.system_instructions = system,
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
        gen_ai.usage.cache_creation.input_tokens = tracing::field::Empty,
        gen_ai.usage.tool_use_prompt_tokens = tracing::field::Empty,
        gen_ai.usage.reasoning_tokens = tracing::field::Empty,
        gen_ai.input.messages = tracing::field::Empty,
        gen_ai.output.messages = tracing::field::Empty
    );
    let _entered = span.enter();
    let input = json!([{"role": "user", "parts": [{"type": "text", "content": prompt}]}]);
    span.record("gen_ai.input.messages", input.to_string());
    // ... the HTTP call ...
    let answer = "Paris.";
    span.record("gen_ai.response.id", "chatcmpl-42");
    span.record("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
    span.record("gen_ai.usage.input_tokens", 21u64);
    span.record("gen_ai.usage.output_tokens", 3u64);
    span.record("gen_ai.usage.cache_read.input_tokens", 0u64);
    let output = json!([{
        "role": "assistant",
        "parts": [{"type": "text", "content": answer}],
        "finish_reason": "unknown"
    }]);
    span.record("gen_ai.output.messages", output.to_string());
    answer.to_owned()
}

/// The agent span of rig-agent 0.44 (`src/agent/telemetry.rs`, `acquire_agent_span`), field
/// for field: with no tracing span current (an observed function is not one), rig makes
/// `invoke_agent` with an explicit `parent: None`. It records the prompt, the completion and
/// the run's usage as the run goes.
fn rig_agent_prompt(prompt: &str) -> String {
    let system_instructions: Option<String> = None; // no preamble
    let span = tracing::info_span!(
        parent: None,
        "invoke_agent",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = "geo",
        gen_ai.system_instructions = system_instructions.as_deref(),
        gen_ai.prompt = tracing::field::Empty,
        gen_ai.completion = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
        gen_ai.usage.cache_creation.input_tokens = tracing::field::Empty,
        gen_ai.usage.tool_use_prompt_tokens = tracing::field::Empty,
        gen_ai.usage.reasoning_tokens = tracing::field::Empty,
    );
    let _entered = span.enter();
    span.record("gen_ai.prompt", prompt);
    let answer = rig_completion(prompt);
    span.record("gen_ai.completion", answer.as_str());
    span.record("gen_ai.usage.input_tokens", 21u64);
    span.record("gen_ai.usage.output_tokens", 3u64);
    answer
}

#[observe]
fn capital_agent(question: &str) -> String {
    rig_agent_prompt(question)
}

#[test]
fn a_rig_completion_span_becomes_an_llm_call_under_the_observed_agent() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    assert_eq!(capital_agent("Capital of France?"), "Paris.");
    let (export, _, _dir) = support::flush_validated(&obs, "rig.json");
    assert_eq!(
        shape(&export["trace_tree"]),
        "capital_agent(invoke_agent(chat.completions.create))"
    );
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let call = &events[0];
    assert_eq!(call["provider"], "openai");
    assert_eq!(call["api"], "chat.completions.create");
    assert_eq!(call["request"]["model"], "gpt-4o-mini");
    assert_eq!(
        call["request"]["messages"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Capital of France?"}
        ])
    );
    let response = &call["response"];
    assert_eq!(response["id"], "chatcmpl-42");
    assert_eq!(response["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(response["text"], "Paris.");
    assert_eq!(response["usage"]["prompt_tokens"], 21);
    assert_eq!(response["usage"]["completion_tokens"], 3);
    assert_eq!(response["usage"]["total_tokens"], 24);
    assert_eq!(response["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(call["error"], Value::Null);
    assert!(
        call["callsite"]["file"]
            .as_str()
            .unwrap()
            .ends_with("bridge.rs")
    );
    // The agent span stays a function event, its fields as arguments.
    let agent = function(&export, "invoke_agent");
    assert_eq!(call["parent_span_id"], agent["span_id"]);
    assert_eq!(
        agent["parent_span_id"],
        function(&export, "capital_agent")["span_id"]
    );
    let names = agent["arg_names"].as_array().unwrap();
    let prompt_at = names.iter().position(|n| n == "gen_ai.prompt").unwrap();
    assert_eq!(agent["args"][prompt_at], "Capital of France?");
}

#[test]
fn a_failed_gen_ai_span_is_an_llm_call_with_its_error() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    tracing::info_span!(
        "generate_content gemini-2.0-flash",
        gen_ai.operation.name = "generate_content",
        gen_ai.system = "gemini",
        gen_ai.request.model = "gemini-2.0-flash",
        gen_ai.request.temperature = 0.2,
        gen_ai.request.max_tokens = 64u64,
        gen_ai.request.top_p = 0.9,
        gen_ai.prompt = "hi",
        error = "ClientError: 429 RESOURCE_EXHAUSTED"
    )
    .in_scope(|| {});
    let (export, _, _dir) = support::flush_validated(&obs, "gemini.json");
    let call = &export["events"][0];
    assert_eq!(call["provider"], "gemini");
    assert_eq!(call["api"], "models.generate_content");
    assert_eq!(
        call["request"],
        json!({
            "model": "gemini-2.0-flash",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2,
            "max_tokens": 64,
            "other": {"top_p": 0.9}
        })
    );
    assert_eq!(call["response"], Value::Null);
    assert_eq!(call["error"], "ClientError: 429 RESOURCE_EXHAUSTED");
}

/// The chat span of the genai crate (jeremychone/rust-genai, `src/otel/span.rs`: name
/// `genai.chat`, the span's OpenTelemetry name in `otel.name`, a failure as
/// `otel.status_code = "error"` and `error.type`, `src/otel/error.rs`).
#[test]
fn a_genai_chat_span_that_failed_is_an_llm_call_with_the_error_type() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    {
        let span = tracing::info_span!(
            "genai.chat",
            "otel.name" = "chat claude-sonnet-4",
            "otel.kind" = "client",
            "otel.status_code" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            "gen_ai.operation.name" = "chat",
            "gen_ai.provider.name" = "anthropic",
            "gen_ai.request.model" = "claude-sonnet-4",
            "gen_ai.request.stream" = false,
            "server.address" = "api.anthropic.com",
            "gen_ai.input.messages" = tracing::field::Empty,
        );
        let input = r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#;
        span.record("gen_ai.input.messages", input);
        span.record("otel.status_code", "error");
        span.record("error.type", "429");
    }
    let (export, _, _dir) = support::flush_validated(&obs, "genai.json");
    let call = &export["events"][0];
    assert_eq!(call["provider"], "anthropic");
    assert_eq!(
        call["api"], "chat",
        "the operation, for a provider without a known API name"
    );
    assert_eq!(
        call["request"]["messages"],
        json!([{"role": "user", "content": "hi"}])
    );
    // `gen_ai.request.*` fields lose their prefix in `other`.
    assert_eq!(
        call["request"]["other"],
        json!({"stream": false, "server.address": "api.anthropic.com"})
    );
    assert_eq!(call["response"], Value::Null);
    assert_eq!(call["error"], "429");
}

// --- limits and scrubbing -----------------------------------------------------------------------

#[test]
fn span_fields_are_captured_with_the_limits_and_scrubbed() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let long = "x".repeat(2_000);
    let items: Vec<u32> = (0..1_000).collect();
    tracing::info_span!("limits", text = long.as_str(), items = ?items, api_key = "sk-abc123")
        .in_scope(|| {});
    let (export, _, _dir) = support::flush_validated(&obs, "limits.json");
    let args = &export["function_events"][0]["args"];
    assert_eq!(
        args[0].as_str().unwrap().len(),
        503,
        "500 characters and ..."
    );
    assert!(
        args[1].as_str().unwrap().ends_with("..."),
        "Debug text is cut too"
    );
    assert_eq!(args[2], "[REDACTED]", "a secret's name hides its value");
}

#[test]
fn the_mask_hook_sees_span_fields_as_arguments_and_llm_calls_by_path() {
    use aiobs::mask::{Captured, Mask, MaskPath};
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_mask(|path: &MaskPath<'_>, value: &Captured<'_>| match value {
        Captured::Str(s) if s.contains('@') => Mask::Replace("<email>".into()),
        _ if path.arg() == Some("user.id") => Mask::Remove,
        _ => Mask::Keep,
    });
    obs.observe(ObserveOptions::new()).unwrap();
    tracing::info_span!("signup", email = "ada@example.com", user.id = 7u64).in_scope(|| {});
    tracing::info_span!(
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = "gpt-4o-mini",
        gen_ai.prompt = "mail ada@example.com"
    )
    .in_scope(|| {});
    let (export, _, _dir) = support::flush_validated(&obs, "mask.json");
    assert_eq!(
        export["function_events"][0]["args"],
        json!(["<email>", null])
    );
    assert_eq!(
        export["events"][0]["request"]["messages"][0]["content"],
        "<email>"
    );
}

#[test]
fn the_latest_value_of_a_field_wins() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    {
        let span = tracing::info_span!(
            "progress",
            done = tracing::field::Empty,
            step = 1u64,
            note = tracing::field::Empty
        );
        span.record("done", false);
        span.record("step", 2u64);
        span.record("done", true);
    }
    let (export, _, _dir) = support::flush_validated(&obs, "latest.json");
    assert_eq!(export["function_events"][0]["args"], json!([true, 2, null]));
}

#[test]
fn a_span_that_outlives_its_session_is_recorded_when_it_closes() {
    install();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let span = tracing::info_span!("outlives", n = 1u64);
    obs.end();
    span.record("n", 2u64);
    drop(span);
    let (export, _, _dir) = support::flush_validated(&obs, "outlives.json");
    assert_eq!(shape(&export["trace_tree"]), "outlives");
    assert_eq!(export["function_events"][0]["args"], json!([2]));
}
