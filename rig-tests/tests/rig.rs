//! rig-core and rig-agent 0.44, the real crates, against the loopback OpenAI mock (mock-llm),
//! their `tracing` spans recorded by `AiobsLayer` under an `#[observe]` function: one tree,
//! observed function → `invoke_agent` → the LLM call (and `execute_tool` when a tool runs),
//! with the model, text and usage that rig records; and what a bare model call records.

mod support;

use std::sync::Once;

use aiobs::bridge::AiobsLayer;
use aiobs::{Collector, ObserveOptions, observe};
use mock_llm::MockServer;
use rig_agent::{Agent, AgentBuilder};
use rig_core::completion::CompletionRequest;
use rig_core::providers::openai::{OpenAI, OpenAIConfig};
use rig_core::tool::PortableTool;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{flushed, runtime};
use tracing_subscriber::layer::SubscriberExt as _;

/// What the mock answers a chat completion with (mock-llm/fixtures/openai).
const ANSWER: &str = "Hello from the mock.";
const MODEL: &str = "gpt-4o-mini";
const RESPONSE_MODEL: &str = "gpt-4o-mini-2024-07-18";

/// One global subscriber for the test binary (rig polls on whichever thread runs the task);
/// each test records into its own collector.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(AiobsLayer::new());
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
}

/// The OpenAI client of rig, on its bundled reqwest transport, pointed at the mock.
fn openai(server: &MockServer) -> OpenAI {
    OpenAIConfig::new("sk-test")
        .with_base_url(format!("{}/v1", server.url()))
        .client()
}

/// The trace tree as `name(child,child)` text, children in order.
fn shape(nodes: &Value) -> String {
    nodes
        .as_array()
        .expect("a list of nodes")
        .iter()
        .map(|n| {
            let name = n["name"].as_str().or(n["api"].as_str()).unwrap_or("?");
            match n["children"].as_array() {
                Some(children) if !children.is_empty() => {
                    format!("{name}({})", shape(&n["children"]))
                }
                _ => name.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The function events named `name`.
fn functions<'a>(export: &'a Value, name: &str) -> Vec<&'a Value> {
    export["function_events"]
        .as_array()
        .expect("function events")
        .iter()
        .filter(|e| e["name"] == name)
        .collect()
}

/// The one function event named `name`.
fn function<'a>(export: &'a Value, name: &str) -> &'a Value {
    match functions(export, name).as_slice() {
        [one] => one,
        other => panic!("{} function events {name}", other.len()),
    }
}

/// The value of the argument `name` of a function event (a span's field).
fn arg<'a>(event: &'a Value, name: &str) -> &'a Value {
    let names = event["arg_names"].as_array().expect("arg_names");
    let at = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no argument {name} in {names:?}"));
    &event["args"][at]
}

/// The LLM calls (provider events).
fn calls(export: &Value) -> &Vec<Value> {
    export["events"].as_array().expect("provider events")
}

/// Checks what every call of the mock's chat answer records: provider, API, models, usage.
fn assert_chat_call(call: &Value, prompt_tokens: u64, completion_tokens: u64) {
    assert_eq!(call["provider"], "openai");
    assert_eq!(call["api"], "chat.completions.create");
    assert_eq!(call["request"]["model"], MODEL);
    assert_eq!(call["response"]["model"], RESPONSE_MODEL);
    let usage = &call["response"]["usage"];
    assert_eq!(usage["prompt_tokens"], prompt_tokens);
    assert_eq!(usage["completion_tokens"], completion_tokens);
    assert_eq!(usage["total_tokens"], prompt_tokens + completion_tokens);
    assert_eq!(call["error"], Value::Null);
}

// --- a plain prompt ------------------------------------------------------------------------

fn geo_agent(server: &MockServer) -> Agent {
    AgentBuilder::new(openai(server).chat(MODEL))
        .name("geo")
        .preamble("You are terse.")
        .record_content_telemetry(true)
        .build()
}

#[observe]
async fn ask(agent: &Agent, question: &str) -> String {
    match agent.prompt(question).await {
        Ok(response) => response.output(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn an_agent_prompt_is_one_tree_under_the_observed_function() {
    install();
    let server = MockServer::start().expect("the mock");
    let agent = geo_agent(&server);
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(ask(&agent, "Capital of France?"));
    assert_eq!(answer, ANSWER);
    let export = flushed(&obs, "prompt");

    assert_eq!(
        shape(&export["trace_tree"]),
        "ask(invoke_agent(chat.completions.create))"
    );
    let ask = function(&export, "ask");
    let agent_span = function(&export, "invoke_agent");
    assert_eq!(ask["parent_span_id"], Value::Null);
    assert_eq!(agent_span["parent_span_id"], ask["span_id"]);
    assert_eq!(arg(agent_span, "gen_ai.agent.name"), "geo");
    assert_eq!(arg(agent_span, "gen_ai.prompt"), "Capital of France?");
    assert_eq!(arg(agent_span, "gen_ai.completion"), ANSWER);
    assert_eq!(arg(agent_span, "gen_ai.usage.input_tokens"), 12);
    assert_eq!(arg(agent_span, "gen_ai.usage.output_tokens"), 5);

    let [call] = calls(&export).as_slice() else {
        panic!("one LLM call: {:#}", export["events"]);
    };
    assert_eq!(call["parent_span_id"], agent_span["span_id"]);
    assert_chat_call(call, 12, 5);
    assert_eq!(call["response"]["id"], "chatcmpl-mock0001");
    assert_eq!(
        call["request"]["messages"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Capital of France?"}
        ])
    );
    assert_eq!(call["response"]["text"], ANSWER);
    // The mock was asked once, as rig sent it.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions");
}

// --- a tool --------------------------------------------------------------------------------

/// The tool the mock calls (`get_weather` with `{"city": "Paris"}`).
struct Weather;

#[derive(Deserialize)]
struct City {
    city: String,
}

#[derive(Debug)]
struct NoWeather;

impl std::fmt::Display for NoWeather {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no weather")
    }
}

impl std::error::Error for NoWeather {}

impl PortableTool for Weather {
    const NAME: &'static str = "get_weather";
    type Args = City;
    type Output = String;
    type Error = NoWeather;

    fn description(&self) -> String {
        "The weather in a city".to_owned()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })
    }

    async fn call(&self, args: City) -> Result<String, NoWeather> {
        Ok(format!("Sunny in {}", args.city))
    }
}

#[observe]
async fn plan_trip(agent: &Agent, question: &str) -> String {
    match agent.prompt(question).max_turns(3).await {
        Ok(response) => response.output(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn a_tool_call_is_execute_tool_under_invoke_agent_between_the_two_llm_calls() {
    install();
    let server = MockServer::start().expect("the mock");
    let agent = AgentBuilder::new(openai(&server).chat(MODEL))
        .name("travel")
        .tool(Weather)
        .record_content_telemetry(true)
        .build();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(plan_trip(&agent, "Weather in Paris?"));
    assert_eq!(answer, ANSWER);
    let export = flushed(&obs, "tool");

    assert_eq!(
        shape(&export["trace_tree"]),
        "plan_trip(invoke_agent(chat.completions.create,execute_tool,chat.completions.create))"
    );
    let agent_span = function(&export, "invoke_agent");
    assert_eq!(
        agent_span["parent_span_id"],
        function(&export, "plan_trip")["span_id"]
    );
    // The tool's span: a function event, its gen_ai.tool.* fields as arguments.
    let tool = function(&export, "execute_tool");
    assert_eq!(tool["parent_span_id"], agent_span["span_id"]);
    assert_eq!(arg(tool, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(arg(tool, "gen_ai.tool.name"), "get_weather");
    assert_eq!(arg(tool, "gen_ai.tool.call.id"), "call_mock0001");
    assert_eq!(
        serde_json::from_str::<Value>(arg(tool, "gen_ai.tool.call.arguments").as_str().unwrap())
            .expect("the arguments as JSON"),
        json!({"city": "Paris"})
    );
    assert_eq!(arg(tool, "gen_ai.tool.call.result"), "Sunny in Paris");

    let [first, second] = calls(&export).as_slice() else {
        panic!("two LLM calls: {:#}", export["events"]);
    };
    for call in [first, second] {
        assert_eq!(call["parent_span_id"], agent_span["span_id"]);
    }
    // The first turn asks for the tool: no text, the tool call in the output message.
    assert_chat_call(first, 60, 15);
    assert_eq!(first["response"]["id"], "chatcmpl-mock0002");
    assert_eq!(first["response"]["text"], Value::Null);
    assert_eq!(
        first["response"]["messages"],
        json!([{
            "role": "assistant",
            "finish_reason": "tool_call",
            "content": [{
                "type": "tool_call",
                "id": "call_mock0001",
                "name": "get_weather",
                "arguments": {"city": "Paris"}
            }]
        }])
    );
    // The second gets the tool's result and answers.
    assert_chat_call(second, 12, 5);
    assert_eq!(second["response"]["text"], ANSWER);
    // The run's usage, on the agent span, is the sum of both turns.
    assert_eq!(arg(agent_span, "gen_ai.usage.input_tokens"), 72);
    assert_eq!(arg(agent_span, "gen_ai.usage.output_tokens"), 20);
}

// --- a streamed prompt ---------------------------------------------------------------------

#[observe]
async fn ask_streamed(agent: &Agent, question: &str) -> String {
    use futures::StreamExt as _;
    use rig_agent::agent::MultiTurnStreamItem;
    let mut stream = agent.prompt(question).stream();
    let mut output = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(MultiTurnStreamItem::FinalResponse(done)) => output = Some(done.output()),
            Ok(_) => {}
            Err(e) => return format!("error: {e}"),
        }
    }
    output.unwrap_or_default()
}

#[test]
fn a_streamed_agent_prompt_is_the_same_tree() {
    install();
    let server = MockServer::start().expect("the mock");
    let agent = geo_agent(&server);
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(ask_streamed(&agent, "Capital of France?"));
    assert_eq!(answer, ANSWER);
    let export = flushed(&obs, "stream");

    assert_eq!(
        shape(&export["trace_tree"]),
        "ask_streamed(invoke_agent(chat.completions.create))"
    );
    let agent_span = function(&export, "invoke_agent");
    assert_eq!(
        agent_span["parent_span_id"],
        function(&export, "ask_streamed")["span_id"]
    );
    let [call] = calls(&export).as_slice() else {
        panic!("one LLM call: {:#}", export["events"]);
    };
    assert_eq!(call["parent_span_id"], agent_span["span_id"]);
    assert_chat_call(call, 12, 5);
    assert_eq!(call["request"]["other"]["stream"], true);
    assert_eq!(call["response"]["text"], ANSWER);
    let request = server.requests()[0].json().expect("a JSON request");
    assert_eq!(request["stream"], true);
}

// --- a bare model call ---------------------------------------------------------------------

#[observe]
async fn complete(model: &rig_core::Model<rig_core::providers::openai::wire::Chat>) -> String {
    let request = CompletionRequest::new("Capital of France?")
        .preamble("You are terse.")
        .record_content_telemetry(true);
    match model.call(request).await {
        Ok(response) => response.text(),
        Err(e) => format!("error: {e}"),
    }
}

/// rig-core alone (no agent) makes the `chat` span and records the response's id, model and
/// usage on it, and the system instructions when content telemetry is on; it never records
/// the input or output messages (only rig-agent does). The LLM call has the request and the
/// tokens, not the prompt or the answer.
#[test]
fn a_bare_model_call_records_the_request_and_tokens_but_no_messages() {
    install();
    let server = MockServer::start().expect("the mock");
    let model = openai(&server).chat(MODEL);
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(complete(&model));
    assert_eq!(answer, ANSWER);
    let export = flushed(&obs, "bare");

    assert_eq!(
        shape(&export["trace_tree"]),
        "complete(chat.completions.create)"
    );
    let [call] = calls(&export).as_slice() else {
        panic!("one LLM call: {:#}", export["events"]);
    };
    assert_eq!(
        call["parent_span_id"],
        function(&export, "complete")["span_id"]
    );
    assert_chat_call(call, 12, 5);
    assert_eq!(call["response"]["id"], "chatcmpl-mock0001");
    // Only the system instructions: rig-core records no input messages...
    assert_eq!(
        call["request"]["messages"],
        json!([{"role": "system", "content": "You are terse."}])
    );
    // ... and no output messages: no text.
    assert_eq!(call["response"]["text"], Value::Null);
    assert_eq!(call["response"]["messages"], Value::Null);
}

// --- an agent under a tracing span ---------------------------------------------------------

#[tracing::instrument(skip(agent))]
async fn handle(agent: &Agent, question: &str) -> String {
    match agent.prompt(question).await {
        Ok(response) => response.output(),
        Err(e) => format!("error: {e}"),
    }
}

/// With a tracing span current, rig runs the agent under it and makes no `invoke_agent`.
#[test]
fn under_a_tracing_span_rig_adopts_it_and_makes_no_invoke_agent() {
    install();
    let server = MockServer::start().expect("the mock");
    let agent = geo_agent(&server);
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(handle(&agent, "Capital of France?"));
    assert_eq!(answer, ANSWER);
    let export = flushed(&obs, "adopted");

    assert_eq!(
        shape(&export["trace_tree"]),
        "handle(chat.completions.create)"
    );
    let handle = function(&export, "handle");
    assert_eq!(handle["arg_names"], json!(["question"]));
    let [call] = calls(&export).as_slice() else {
        panic!("one LLM call: {:#}", export["events"]);
    };
    assert_eq!(call["parent_span_id"], handle["span_id"]);
    assert_chat_call(call, 12, 5);
    assert_eq!(call["response"]["text"], ANSWER);
}
