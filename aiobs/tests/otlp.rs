//! `OtlpExporter` against a real OTLP/HTTP receiver (oteltap, see `support/otlp.rs`): a tree
//! of observed calls with an LLM call in it arrives as one trace of spans with the right
//! parents, status, GenAI attributes and usage; an unreachable endpoint is an error that keeps
//! the events.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use aiobs::exporters::OtlpExporter;
use aiobs::{Collector, ObserveOptions, ProviderCall, observe};
use serde_json::{Value, json};

#[derive(Debug)]
struct ToolError(String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

#[observe]
fn lookup(city: &str) -> u32 {
    city.len() as u32
}

#[observe]
fn book(city: &str) -> Result<u32, ToolError> {
    Err(ToolError(format!("no rooms in {city}")))
}

#[observe(name = "plan_trip")]
fn plan(city: &str) -> String {
    let request = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": format!("Plan a trip to {city}")}],
        "max_tokens": 64,
        "temperature": 0.2
    });
    if let Some(call) = ProviderCall::start("openai", "chat.completions.create", &request) {
        call.finish_ok(&json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Go by train."}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}
        }));
    }
    let n = lookup(city);
    let booked = book(city).is_ok();
    format!("{n} {booked}")
}

/// The attributes of a span (protobuf JSON) by key, as plain JSON values.
fn attributes(span: &Value) -> HashMap<String, Value> {
    span["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let v = &kv["value"];
            let value = if let Some(s) = v.get("string_value") {
                s.clone()
            } else if let Some(i) = v.get("int_value") {
                // int64 comes as a JSON string in protobuf JSON.
                json!(
                    i.as_str()
                        .and_then(|s| s.parse::<i64>().ok())
                        .or(i.as_i64())
                )
            } else if let Some(d) = v.get("double_value") {
                d.clone()
            } else if let Some(b) = v.get("bool_value") {
                b.clone()
            } else if let Some(a) = v.get("array_value") {
                Value::Array(
                    a["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| x["string_value"].clone())
                        .collect(),
                )
            } else {
                Value::Null
            };
            (kv["key"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn a_tree_arrives_as_one_trace_of_spans() {
    let receiver = support::otlp::Receiver::start();
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(
        ObserveOptions::new()
            .session_name("otlp-test")
            .labels([("team", "travel")]),
    )
    .expect("observe");
    assert_eq!(plan("Oslo"), "4 false");

    // The file the same flush would write, to compare ids with.
    let exported = std::sync::Mutex::new(None);
    let otlp = OtlpExporter::from_env_with(|_| None)
        .endpoint(receiver.endpoint())
        .header("Authorization", "Bearer test-key-123")
        .service_name("trip-planner");
    let copy_and_send = aiobs::exporters::CustomExporter::new("copy", |doc| {
        *exported.lock().unwrap() = Some(doc.to_model()?);
        aiobs::Exporter::export(&otlp, doc)
    });
    let result = obs
        .flush_to(&copy_and_send, true)
        .expect("flush to the receiver");
    let model = exported.lock().unwrap().take().unwrap();
    assert_eq!(result.destination.as_deref(), Some(otlp.traces_url()));
    assert!(otlp.traces_url().ends_with("/v1/traces"));
    assert_eq!(result.metadata["spans"], 4);
    assert_eq!(result.metadata["traces"], 1);
    assert!(!format!("{result:?}").contains("test-key-123"));

    let spans = receiver.spans(4, Duration::from_secs(20));
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let by_name: HashMap<&str, &Value> = spans
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s))
        .collect();
    let mut names: Vec<_> = by_name.keys().copied().collect();
    names.sort_unstable();
    assert_eq!(names, ["book", "chat gpt-4o", "lookup", "plan_trip"]);

    // One trace: the root's UUID; span ids: the first 8 bytes of each UUID.
    let root_event = model
        .function_events
        .iter()
        .find(|f| f.event.name == "plan_trip")
        .unwrap();
    let root_uuid = root_event
        .event
        .span_id
        .as_deref()
        .unwrap()
        .replace('-', "");
    let root = by_name["plan_trip"];
    for span in &spans {
        assert_eq!(span["trace_id"], root_uuid, "{span:#?}");
    }
    assert_eq!(root["span_id"], root_uuid[..16]);
    assert!(root.get("parent_span_id").is_none(), "{root:#?}");
    for child in ["lookup", "book", "chat gpt-4o"] {
        assert_eq!(by_name[child]["parent_span_id"], root["span_id"], "{child}");
    }
    for f in &model.function_events {
        let uuid = f.event.span_id.as_deref().unwrap().replace('-', "");
        assert_eq!(by_name[f.event.name.as_str()]["span_id"], uuid[..16]);
    }

    // Times: Unix nanoseconds (int64 as strings in protobuf JSON).
    let nanos = |s: &Value, k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
    let start = nanos(root, "start_time_unix_nano");
    let expected = (root_event.event.started_at * 1e9).round() as u64;
    assert!(start.abs_diff(expected) < 1_000, "{start} vs {expected}");
    assert!(nanos(root, "end_time_unix_nano") >= start);

    // Status: ERROR with the error text on the failed call only.
    let book = by_name["book"];
    assert_eq!(book["status"]["code"], 2, "{book:#?}");
    assert_eq!(book["status"]["message"], "ToolError: no rooms in Oslo");
    let book_attrs = attributes(book);
    assert_eq!(book_attrs["error.type"], "ToolError");
    for ok in ["plan_trip", "lookup", "chat gpt-4o"] {
        assert!(
            by_name[ok]
                .get("status")
                .is_none_or(|s| s.get("code").is_none())
        );
    }

    // Function attributes.
    let lookup = attributes(by_name["lookup"]);
    assert_eq!(lookup["code.function.name"], "otlp::lookup");
    assert_eq!(lookup["code.namespace"], "otlp");
    assert_eq!(lookup["aiobs.args"], r#"["Oslo"]"#);
    assert_eq!(lookup["aiobs.arg_names"], json!(["city"]));
    assert_eq!(lookup["aiobs.result"], "4");
    assert_eq!(lookup["code.file.path"], "aiobs/tests/otlp.rs");
    assert!(lookup["code.line.number"].as_i64().unwrap() > 0);
    assert_eq!(lookup["aiobs.session.name"], "otlp-test");
    assert_eq!(lookup["aiobs.label.team"], "travel");
    assert_eq!(lookup["session.id"], json!(model.sessions[0].id));
    assert_eq!(by_name["lookup"]["kind"], 1); // INTERNAL

    // The LLM call: GenAI semantic conventions.
    let chat = by_name["chat gpt-4o"];
    assert_eq!(chat["kind"], 3); // CLIENT
    let a = attributes(chat);
    assert_eq!(a["gen_ai.provider.name"], "openai");
    assert_eq!(a["gen_ai.operation.name"], "chat");
    assert_eq!(a["gen_ai.request.model"], "gpt-4o");
    assert_eq!(a["gen_ai.request.max_tokens"], 64);
    assert_eq!(a["gen_ai.request.temperature"], 0.2);
    assert_eq!(a["gen_ai.response.model"], "gpt-4o-2024-08-06");
    assert_eq!(a["gen_ai.response.id"], "chatcmpl-1");
    assert_eq!(a["gen_ai.response.finish_reasons"], json!(["stop"]));
    assert_eq!(a["gen_ai.usage.input_tokens"], 9);
    assert_eq!(a["gen_ai.usage.output_tokens"], 12);
    assert!(
        !a.contains_key("gen_ai.input.messages"),
        "message content is opt-in"
    );
    let request: Value = serde_json::from_str(a["aiobs.request"].as_str().unwrap()).unwrap();
    assert_eq!(request["messages"][0]["content"], "Plan a trip to Oslo");
    let response: Value = serde_json::from_str(a["aiobs.response"].as_str().unwrap()).unwrap();
    assert_eq!(response["choices"][0]["message"]["content"], "Go by train.");

    // Everything was sent: nothing left for the next flush.
    let (export, _, _dir) = support::flush_validated(&obs, "after.json");
    assert_eq!(export["function_events"], json!([]));
}

#[test]
fn the_result_reports_spans_traces_and_bytes() {
    let receiver = support::otlp::Receiver::start();
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    lookup("a");
    lookup("bb");
    let otlp = OtlpExporter::from_env_with(|_| None).endpoint(receiver.endpoint());
    let result = obs.flush_to(&otlp, false).expect("flush");
    assert_eq!(result.destination.as_deref(), Some(otlp.traces_url()));
    assert!(result.bytes_written.unwrap() > 100, "{result:?}");
    assert_eq!(result.metadata["spans"], 2);
    assert_eq!(result.metadata["traces"], 2);
    assert_eq!(result.metadata["http_status"], 200);
    let spans = receiver.spans(2, Duration::from_secs(20));
    assert_eq!(spans.len(), 2);
    assert_ne!(spans[0]["trace_id"], spans[1]["trace_id"]);
    // Nothing recorded: nothing sent.
    let empty = obs.flush_to(&otlp, false).expect("empty flush");
    assert_eq!(empty.metadata["spans"], 0);
    assert_eq!(empty.bytes_written, Some(0));
}

#[test]
fn an_unreachable_endpoint_is_an_error_that_keeps_the_events() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    lookup("Bergen");
    let otlp = OtlpExporter::from_env_with(|_| None)
        .endpoint(format!("http://127.0.0.1:{port}"))
        .header("Authorization", "Bearer secret-key-456")
        .timeout(Duration::from_secs(5));
    let err = obs.flush_to(&otlp, true).expect_err("nothing listens");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/v1/traces")),
        "{text}"
    );
    assert!(!text.contains("secret-key-456"), "{text}");
    // The events are still there for the next flush.
    let (export, _, _dir) = support::flush_validated(&obs, "kept.json");
    assert_eq!(export["function_events"][0]["args"], json!(["Bergen"]));
}

#[test]
fn a_refusing_endpoint_is_an_error_with_its_status() {
    // A tiny HTTP server on this machine that answers 401 to anything.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 65536];
        let _ = conn.read(&mut buf);
        let body = "invalid credentials: Bearer secret-key-789";
        let _ = write!(
            conn,
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    lookup("Tromsø");
    let otlp = OtlpExporter::from_env_with(|_| None)
        .traces_endpoint(format!("http://127.0.0.1:{port}/custom/traces"))
        .header("Authorization", "Bearer secret-key-789");
    let err = obs.flush_to(&otlp, true).expect_err("401");
    server.join().unwrap();
    let text = format!("{err} {err:?}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("/custom/traces"), "{text}");
    assert!(!text.contains("secret-key-789"), "{text}");
    let (export, _, _dir) = support::flush_validated(&obs, "kept.json");
    assert_eq!(export["function_events"].as_array().unwrap().len(), 1);
}

/// An Anthropic call recorded by the built-in provider goes out with the conventions' names:
/// provider `anthropic`, its stop reason, and the input counted with the prompt cache's tokens.
#[test]
fn an_anthropic_call_reports_its_cache_and_stop_reason() {
    let receiver = support::otlp::Receiver::start();
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024,
                         "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
                         "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    let mut call = aiobs::providers::HttpCall::start(
        "POST",
        "https://api.anthropic.com/v1/messages",
        request.to_string().as_bytes(),
    )
    .expect("recording");
    call.response_head(200, Some("application/json"));
    call.response_bytes(mock_llm::fixtures::ANTHROPIC_MESSAGE_TOOL_USE.as_bytes());
    call.finish();
    // The conversation too: opt-in, as the conventions ask.
    let otlp = OtlpExporter::from_env_with(|name| {
        (name == "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT").then(|| "true".to_owned())
    })
    .endpoint(receiver.endpoint());
    obs.flush_to(&otlp, true).expect("flush to the receiver");
    let spans = receiver.spans(1, Duration::from_secs(20));
    let a = attributes(&spans[0]);
    assert_eq!(a["gen_ai.provider.name"], "anthropic");
    assert_eq!(a["gen_ai.operation.name"], "chat");
    assert_eq!(a["gen_ai.request.max_tokens"], 1024);
    assert_eq!(a["gen_ai.response.finish_reasons"], json!(["tool_use"]));
    assert_eq!(a["gen_ai.usage.input_tokens"], 24 + 1800);
    assert_eq!(a["gen_ai.usage.cache_read.input_tokens"], 1800);
    assert_eq!(a["gen_ai.usage.cache_creation.input_tokens"], 0);
    assert_eq!(a["gen_ai.usage.output_tokens"], 62);
    let input: Value = serde_json::from_str(a["gen_ai.input.messages"].as_str().unwrap()).unwrap();
    assert_eq!(
        input,
        json!([{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}])
    );
    let output: Value =
        serde_json::from_str(a["gen_ai.output.messages"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!([{"role": "assistant", "finish_reason": "tool_use", "parts": [
            {"type": "text", "content": "Let me check the weather."},
            {"type": "tool_call", "id": "toolu_01MockWeather0001", "name": "get_weather",
             "arguments": {"city": "Paris"}}]}])
    );
}
