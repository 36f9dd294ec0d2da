//! The LLM APIs beyond what the Python SDK records, through `UreqMiddleware` against a real
//! HTTP server on loopback (`mock-llm`): Anthropic's Messages API, OpenAI's Responses API,
//! tool calls and finish reasons, cached and reasoning tokens, OpenAI-compatible servers.

mod support;

use std::io::Read;

use aiobs::providers::UreqMiddleware;
use aiobs::{Collector, ObserveOptions, observe};
use mock_llm::{MockServer, fixtures};
use serde_json::{Value, json};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new())
        .build()
        .into()
}

fn session() -> (Collector, aiobs::DefaultGuard) {
    let obs = Collector::new();
    let guard = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    (obs, guard)
}

/// POSTs `body` to `path` with an Anthropic key, reading the answer to its end (or `lines`
/// lines of it, as a reader that stops early does).
#[observe(skip(agent))]
fn post(agent: &ureq::Agent, url: &str, body: Value, lines: usize) -> Result<String, ureq::Error> {
    let mut response = agent
        .post(url)
        .header("x-api-key", "sk-ant-api03-SECRET-0001")
        .header("anthropic-version", "2023-06-01")
        .header("Authorization", "Bearer sk-proj-SECRET-0002")
        .send_json(body)?;
    let mut reader = response.body_mut().as_reader();
    let mut out = String::new();
    let mut buf = [0u8; 64];
    while out.lines().count() < lines {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    Ok(out)
}

/// The keys of each event's `request`, in the file's order (a `Value` sorts them).
fn request_keys(text: &str) -> Vec<Vec<String>> {
    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    #[derive(serde::Deserialize)]
    struct Event {
        request: Keys,
    }
    #[derive(serde::Deserialize)]
    struct Doc {
        events: Vec<Event>,
    }
    let doc: Doc = serde_json::from_str(text).expect("the export");
    doc.events.into_iter().map(|e| e.request.0).collect()
}

fn claude(extra: Value) -> Value {
    let mut body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

fn weather_tool() -> Value {
    json!([{"name": "get_weather", "description": "The weather in a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}])
}

#[test]
fn anthropic_messages_are_recorded_plain_streamed_and_with_tools() {
    let server = MockServer::start().expect("server");
    let url = format!("{}/v1/messages", server.url());
    let (obs, _g) = session();
    let agent = agent();
    let plain = post(
        &agent,
        &url,
        claude(json!({"temperature": 0.3, "metadata": {"user_id": "u1"}})),
        usize::MAX,
    )
    .unwrap();
    assert_eq!(
        plain,
        fixtures::ANTHROPIC_MESSAGE,
        "the caller gets the same bytes"
    );
    let streamed = post(&agent, &url, claude(json!({"stream": true})), usize::MAX).unwrap();
    assert_eq!(streamed, fixtures::ANTHROPIC_STREAM);
    post(
        &agent,
        &url,
        claude(json!({"tools": weather_tool(), "tool_choice": {"type": "auto"}})),
        usize::MAX,
    )
    .unwrap();
    post(
        &agent,
        &url,
        claude(json!({"tools": weather_tool(), "stream": true})),
        usize::MAX,
    )
    .unwrap();
    let (export, text, _dir) = support::flush_validated(&obs, "anthropic.json");
    assert!(!text.contains("SECRET"), "no key reaches the file");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    for e in events {
        assert_eq!(e["provider"], "anthropic");
        assert_eq!(e["api"], "messages.create");
        assert_eq!(e["error"], Value::Null, "{e}");
    }

    let plain = &events[0];
    assert_eq!(
        request_keys(&text)[0],
        [
            "model",
            "messages",
            "system",
            "max_tokens",
            "temperature",
            "metadata"
        ],
        "the named parameters first, the rest under their own names"
    );
    assert_eq!(plain["request"]["metadata"], json!({"user_id": "u1"}));
    let message: Value = serde_json::from_str(fixtures::ANTHROPIC_MESSAGE).unwrap();
    assert_eq!(
        plain["response"],
        json!({"id": message["id"], "model": message["model"], "usage": message["usage"],
               "text": "Hello from the mock.", "stop_reason": "end_turn"})
    );

    let streamed = &events[1];
    assert_eq!(streamed["response"]["text"], "Hello from the mock.");
    assert_eq!(streamed["response"]["stop_reason"], "end_turn");
    assert_eq!(streamed["response"]["usage"]["input_tokens"], 12);
    assert_eq!(
        streamed["response"]["usage"]["output_tokens"], 8,
        "message_delta's count"
    );
    assert_eq!(streamed["response"]["stream"]["finished"], true);

    let expected_tool =
        |id: &str| json!([{"id": id, "name": "get_weather", "input": {"city": "Paris"}}]);
    let tools = &events[2];
    assert_eq!(tools["request"]["tools"], weather_tool());
    assert_eq!(tools["request"]["tool_choice"], json!({"type": "auto"}));
    assert_eq!(
        tools["response"]["tool_calls"],
        expected_tool("toolu_01MockWeather0001")
    );
    assert_eq!(tools["response"]["text"], "Let me check the weather.");
    assert_eq!(
        tools["response"]["thinking"],
        "The user wants the weather; I should call get_weather."
    );
    assert_eq!(tools["response"]["stop_reason"], "tool_use");
    assert_eq!(tools["response"]["usage"]["cache_read_input_tokens"], 1800);

    let streamed_tools = &events[3];
    for field in ["text", "thinking", "stop_reason", "usage"] {
        assert_eq!(
            streamed_tools["response"][field], tools["response"][field],
            "{field}: the stream assembles to what the plain call answered"
        );
    }
    assert_eq!(
        streamed_tools["response"]["tool_calls"],
        expected_tool("toolu_01MockWeather0002")
    );
}

#[test]
fn anthropic_errors_overloads_and_dropped_streams() {
    let server = MockServer::start().expect("server");
    let url = format!("{}/v1/messages", server.url());
    let (obs, _g) = session();
    let agent = agent();
    for model in ["claude-error-429", "claude-error-529"] {
        let result = post(&agent, &url, claude(json!({"model": model})), usize::MAX);
        assert!(
            matches!(result, Err(ureq::Error::StatusCode(_))),
            "{result:?}"
        );
    }
    post(
        &agent,
        &url,
        claude(json!({"model": "claude-overloaded-mid-stream", "stream": true})),
        usize::MAX,
    )
    .unwrap();
    // A reader that stops after the first event drops the stream half-way.
    post(&agent, &url, claude(json!({"stream": true})), 4).unwrap();
    let (export, _, _dir) = support::flush_validated(&obs, "anthropic_errors.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    let limited = events[0]["error"].as_str().unwrap();
    assert!(
        limited.starts_with(
            "RateLimitError: Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', 'message': '"
        ),
        "{limited}"
    );
    assert_eq!(
        events[1]["error"],
        "OverloadedError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}"
    );
    let overloaded = &events[2];
    assert_eq!(
        overloaded["error"],
        "OverloadedError: {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}"
    );
    assert_eq!(
        overloaded["response"]["text"], "Hello",
        "the text until the error"
    );
    assert_eq!(overloaded["response"]["stream"]["finished"], false);
    let dropped = &events[3];
    assert_eq!(
        dropped["error"],
        "cancelled: the stream was dropped before it finished"
    );
    assert_eq!(dropped["response"]["id"], "msg_01MockMessage0000000002");
    assert_eq!(dropped["response"]["stream"]["finished"], false);
}

#[test]
fn openai_responses_are_recorded_plain_streamed_and_with_function_calls() {
    let server = MockServer::start().expect("server");
    let url = format!("{}/v1/responses", server.url());
    let (obs, _g) = session();
    let agent = agent();
    let body = |extra: Value| {
        let mut b = json!({"model": "gpt-4.1-mini", "instructions": "Be terse.", "input": "Weather in Paris?"});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let plain = post(&agent, &url, body(json!({"store": false})), usize::MAX).unwrap();
    assert_eq!(plain, fixtures::OPENAI_RESPONSE);
    let streamed = post(&agent, &url, body(json!({"stream": true})), usize::MAX).unwrap();
    assert_eq!(streamed, fixtures::OPENAI_RESPONSE_STREAM);
    post(&agent, &url, body(json!({"tools": tools})), usize::MAX).unwrap();
    post(
        &agent,
        &url,
        body(json!({"tools": tools, "stream": true})),
        usize::MAX,
    )
    .unwrap();
    post(&agent, &url, body(json!({"stream": true})), 6).unwrap();
    let (export, text, _dir) = support::flush_validated(&obs, "responses.json");
    assert!(!text.contains("SECRET"));
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    for e in events {
        assert_eq!(e["provider"], "openai");
        assert_eq!(e["api"], "responses.create");
    }
    let plain = &events[0];
    assert_eq!(
        request_keys(&text)[0],
        ["model", "input", "instructions", "store"]
    );
    let response: Value = serde_json::from_str(fixtures::OPENAI_RESPONSE).unwrap();
    assert_eq!(
        plain["response"],
        json!({"id": "resp_mock0001", "model": response["model"], "usage": response["usage"],
               "text": "Hello from the mock.", "status": "completed"})
    );
    assert_eq!(
        plain["response"]["usage"]["input_tokens_details"]["cached_tokens"],
        1280
    );
    assert_eq!(
        plain["response"]["usage"]["output_tokens_details"]["reasoning_tokens"],
        64
    );

    let streamed = &events[1];
    assert_eq!(streamed["response"]["text"], "Hello from the mock.");
    assert_eq!(streamed["response"]["usage"], response["usage"]);
    assert_eq!(streamed["response"]["stream"]["finished"], true);
    assert_eq!(streamed["error"], Value::Null);

    let call = |id: &str, call_id: &str| json!([{"id": id, "call_id": call_id, "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]);
    assert_eq!(
        events[2]["response"]["tool_calls"],
        call("fc_mock0001", "call_mock0101")
    );
    assert_eq!(events[2]["response"]["text"], Value::Null);
    assert_eq!(
        events[3]["response"]["tool_calls"],
        call("fc_mock0004", "call_mock0104")
    );

    let dropped = &events[4];
    assert_eq!(
        dropped["error"],
        "cancelled: the stream was dropped before it finished"
    );
    assert_eq!(dropped["response"]["id"], "resp_mock0003");
    assert_eq!(dropped["response"]["stream"]["finished"], false);
}

#[test]
fn chat_tool_calls_and_finish_reasons_are_kept_for_calls_and_streams() {
    let server = MockServer::start().expect("server");
    let url = format!("{}/v1/chat/completions", server.url());
    let (obs, _g) = session();
    let agent = agent();
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let body = |stream: bool| {
        json!({"model": "gpt-4o-mini", "tools": tools, "stream": stream,
               "messages": [{"role": "user", "content": "Weather in Paris?"}]})
    };
    post(&agent, &url, body(false), usize::MAX).unwrap();
    post(&agent, &url, body(true), usize::MAX).unwrap();
    let plain = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]});
    post(&agent, &url, plain, usize::MAX).unwrap();
    let (export, _, _dir) = support::flush_validated(&obs, "chat_tools.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(
        events[0]["response"]["tool_calls"],
        json!([{"id": "call_mock0001", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}])
    );
    assert_eq!(events[0]["response"]["finish_reason"], "tool_calls");
    assert_eq!(events[0]["response"]["text"], Value::Null);
    assert_eq!(
        events[1]["response"]["tool_calls"],
        json!([{"id": "call_mock0002", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]),
        "the deltas joined"
    );
    assert_eq!(events[1]["response"]["finish_reason"], "tool_calls");
    assert_eq!(events[2]["response"]["finish_reason"], "stop");
    assert!(
        events[2]["response"].get("tool_calls").is_none(),
        "no tool call, no field: the Python SDK's shape"
    );
}

#[test]
fn gemini_function_calls_are_kept() {
    let server = MockServer::start().expect("server");
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        server.url()
    );
    let (obs, _g) = session();
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
                      "tools": [{"functionDeclarations": [{"name": "get_weather"}]}]});
    post(&agent(), &url, body, usize::MAX).unwrap();
    let (export, _, _dir) = support::flush_validated(&obs, "gemini_tools.json");
    let e = &export["events"][0];
    assert_eq!(e["provider"], "gemini");
    assert_eq!(
        e["response"]["tool_calls"],
        json!([{"id": null, "name": "get_weather", "args": {"city": "Paris"}}])
    );
}

#[test]
fn openai_compatible_servers_are_recorded_as_openai_with_the_model_they_report() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let agent = agent();
    // Ollama, vLLM, OpenRouter, Groq and DeepSeek: their own hosts and path prefixes.
    let prefixes = ["/v1", "/api/v1", "/openai/v1", ""];
    for prefix in prefixes {
        let url = format!("{}{prefix}/chat/completions", server.url());
        let body = json!({"model": "llama3.1:8b", "messages": [{"role": "user", "content": "Hi"}]});
        post(&agent, &url, body, usize::MAX).unwrap();
    }
    let (export, _, _dir) = support::flush_validated(&obs, "compatible.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), prefixes.len());
    let reported: Value = serde_json::from_str(fixtures::OPENAI_CHAT_COMPLETION).unwrap();
    for e in events {
        assert_eq!(e["provider"], "openai");
        assert_eq!(e["api"], "chat.completions.create");
        assert_eq!(e["request"]["model"], "llama3.1:8b", "the model asked for");
        assert_eq!(
            e["response"]["model"], reported["model"],
            "the model that answered"
        );
    }
}
