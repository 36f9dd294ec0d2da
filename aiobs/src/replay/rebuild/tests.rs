//! The round trip: a wire answer recorded by its provider's parser, rebuilt, and recorded
//! again must give the same event (streams: but for `first_chunk_ms` and `chunks`, as the
//! rebuilt stream has its own chunking). Over the mock-llm answers and the Python fixtures.

use serde_json::{Value, json};

use super::{form, rebuild};
use crate::replay::answer::{Answer, Form};
use crate::wire::{
    Anthropic, Body, EventFields, Exchange, Gemini, HttpRequest, OpenAi, Provider, SseEvent,
};

/// What a provider recorded of an exchange: `(request, response, error)`, null when unset.
struct Event {
    request: Value,
    response: Value,
    error: Value,
}

impl Event {
    fn response(&self) -> Option<&Value> {
        Some(&self.response).filter(|r| !r.is_null())
    }
    fn error(&self) -> Option<&str> {
        self.error.as_str()
    }
}

/// Splits the fields as `EventFields::write_to` lays them out and renders each as JSON.
fn fields_json(fields: EventFields) -> Event {
    use crate::capture::walk::value_end;
    use crate::document::render::to_json;
    use crate::store::flag;
    let mut out = Vec::new();
    let flags = fields.write_to(&mut out);
    let parse = |bytes: &[u8]| -> Value { serde_json::from_str(&to_json(bytes)).expect("JSON") };
    let end = value_end(&out, 0).expect("a request");
    let request = parse(&out[..end]);
    let mut pos = end;
    let mut response = Value::Null;
    if flags & flag::RESPONSE != 0 {
        let end = value_end(&out, pos).expect("a response");
        response = parse(&out[pos..end]);
        pos = end;
    }
    let error = if flags & flag::ERROR != 0 {
        parse(&out[pos..])
    } else {
        Value::Null
    };
    Event {
        request,
        response,
        error,
    }
}

/// A body as the HTTP layer hands it to a provider: events for an SSE text, else JSON.
fn wire_body(raw: &str, stream: bool) -> Body {
    if !stream {
        return match serde_json::from_str::<Value>(raw) {
            Ok(value) => Body::Json {
                value,
                keys: Vec::new(),
            },
            Err(e) => Body::Unreadable(e.to_string()),
        };
    }
    let events = raw
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut event = None;
            let mut data: Vec<&str> = Vec::new();
            for line in e.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = Some(name.trim_start().to_owned());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d));
                }
            }
            SseEvent {
                event,
                data: data.join("\n"),
            }
        })
        .collect();
    Body::Stream {
        events,
        finished: true,
    }
}

fn provider(name: &str) -> &'static dyn Provider {
    match name {
        "openai" => &OpenAi,
        "gemini" => &Gemini,
        "anthropic" => &Anthropic,
        other => panic!("no provider {other}"),
    }
}

/// One call: where it went and what it sent.
struct Call<'a> {
    provider: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    request: Value,
}

impl Call<'_> {
    fn http(&self) -> HttpRequest<'_> {
        HttpRequest {
            method: "POST",
            path: self.path,
            query: self.query,
        }
    }

    fn api(&self) -> String {
        provider(self.provider)
            .api(&self.http())
            .expect("a known endpoint")
    }

    fn form(&self) -> Form {
        form(
            self.provider,
            &self.api(),
            &self.http(),
            Some(&self.request),
        )
    }

    /// What the provider records of this call answered `status` with `raw`.
    fn record(&self, status: u16, raw: &[u8], stream: bool) -> Event {
        let raw_text = String::from_utf8_lossy(raw);
        let response = wire_body(&raw_text, stream);
        let request = Body::Json {
            value: self.request.clone(),
            keys: Vec::new(),
        };
        let api = self.api();
        let exchange = Exchange {
            api: &api,
            http: self.http(),
            request: &request,
            status: Some(status),
            response: &response,
            response_raw: if stream { &[] } else { raw },
            failure: None,
            first_chunk_ms: None,
        };
        let mut fields = EventFields::default();
        provider(self.provider).record(&exchange, &mut fields);
        fields_json(fields)
    }

    /// Rebuilds an event's answer for this call.
    fn rebuild(&self, event: &Event, form: Form) -> Answer {
        rebuild(
            self.provider,
            &self.api(),
            &event.request,
            event.response(),
            event.error(),
            form,
        )
        .unwrap_or_else(|e| panic!("{} {}: {e}", self.provider, self.path))
    }

    /// Records `answer` as the answer to this call.
    fn record_answer(&self, answer: &Answer) -> Event {
        self.record(answer.status, &answer.body, answer.is_stream())
    }
}

/// A recorded response without what a rebuilt stream can't keep: when its first chunk came
/// and how many there were.
fn comparable(mut response: Value) -> Value {
    if let Some(stream) = response.get_mut("stream").and_then(Value::as_object_mut) {
        stream.remove("first_chunk_ms");
        stream.remove("chunks");
    }
    response
}

/// The round trip of one wire answer: recorded, rebuilt in the form the call asks, recorded
/// again: the same response and error. Returns the rebuilt answer.
fn round_trip(call: &Call<'_>, status: u16, raw: &str) -> Answer {
    let form = call.form();
    let stream = raw.starts_with("data:") || raw.starts_with("event:");
    let first = call.record(status, raw.as_bytes(), stream);
    let answer = call.rebuild(&first, form);
    assert_eq!(answer.status, status, "{} {raw}", call.path);
    // An error is answered whole, whatever the form.
    assert_eq!(answer.is_stream(), form == Form::Sse && status < 400);
    let again = call.record_answer(&answer);
    assert_eq!(
        comparable(again.response.clone()),
        comparable(first.response.clone()),
        "{} {}\nrebuilt: {}",
        call.provider,
        call.path,
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(again.error, first.error, "{}", call.path);
    answer
}

fn mock(path: &str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mock-llm/fixtures")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn chat(stream: bool) -> Call<'static> {
    Call {
        provider: "openai",
        path: "/v1/chat/completions",
        query: None,
        request: json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": stream}),
    }
}

fn responses(stream: bool) -> Call<'static> {
    Call {
        provider: "openai",
        path: "/v1/responses",
        query: None,
        request: json!({"model": "gpt-4.1-mini", "input": "Hi", "stream": stream}),
    }
}

fn messages(stream: bool) -> Call<'static> {
    Call {
        provider: "anthropic",
        path: "/v1/messages",
        query: None,
        request: json!({"model": "claude-sonnet-4", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}], "stream": stream}),
    }
}

fn gemini(method: &str, query: Option<&'static str>) -> Call<'static> {
    Call {
        provider: "gemini",
        path: Box::leak(format!("/v1beta/models/gemini-2.0-flash:{method}").into_boxed_str()),
        query,
        request: json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}),
    }
}

fn lines(answer: &Answer) -> Vec<String> {
    String::from_utf8_lossy(&answer.body)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn data_events(answer: &Answer) -> Vec<Value> {
    lines(answer)
        .iter()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

fn body(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).expect("a JSON body")
}

#[test]
fn mock_llm_answers_round_trip() {
    let cases: Vec<(Call<'static>, u16, &str)> = vec![
        (chat(false), 200, "openai/chat_completion.json"),
        (chat(false), 200, "openai/chat_completion_tools.json"),
        (chat(true), 200, "openai/chat_stream.sse"),
        (chat(true), 200, "openai/chat_stream_tools.sse"),
        (chat(true), 200, "openai/chat_stream_usage.sse"),
        (chat(true), 200, "openai/chat_stream_tools_usage.sse"),
        (chat(false), 400, "openai/error_400.json"),
        (chat(true), 401, "openai/error_401.json"),
        (chat(false), 429, "openai/error_429.json"),
        (chat(false), 500, "openai/error_500.json"),
        (
            Call {
                provider: "openai",
                path: "/v1/embeddings",
                query: None,
                request: json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
            },
            200,
            "openai/embeddings.json",
        ),
        (responses(false), 200, "openai/response.json"),
        (responses(false), 200, "openai/response_tools.json"),
        (responses(true), 200, "openai/response_stream.sse"),
        (responses(true), 200, "openai/response_stream_tools.sse"),
        (responses(false), 429, "openai/error_429.json"),
        (messages(false), 200, "anthropic/message.json"),
        (messages(false), 200, "anthropic/message_tool_use.json"),
        (messages(true), 200, "anthropic/stream.sse"),
        (messages(true), 200, "anthropic/stream_tool_use.sse"),
        (messages(true), 200, "anthropic/stream_overloaded.sse"),
        (messages(false), 400, "anthropic/error_400.json"),
        (messages(false), 401, "anthropic/error_401.json"),
        (messages(true), 429, "anthropic/error_429.json"),
        (messages(false), 500, "anthropic/error_500.json"),
        (messages(false), 529, "anthropic/error_529.json"),
        (
            gemini("generateContent", None),
            200,
            "gemini/generate_content.json",
        ),
        (
            gemini("generateContent", None),
            200,
            "gemini/function_call.json",
        ),
        (
            gemini("streamGenerateContent", Some("alt=sse")),
            200,
            "gemini/stream.sse",
        ),
        (
            gemini("streamGenerateContent", None),
            200,
            "gemini/stream_array.json",
        ),
        (
            gemini("generateContent", None),
            400,
            "gemini/error_400.json",
        ),
        (
            gemini("generateContent", None),
            401,
            "gemini/error_401.json",
        ),
        (
            gemini("streamGenerateContent", Some("alt=sse")),
            429,
            "gemini/error_429.json",
        ),
        (
            gemini("generateContent", None),
            500,
            "gemini/error_500.json",
        ),
        (
            gemini("predictLongRunning", None),
            200,
            "gemini/operation.json",
        ),
        (
            gemini("predictLongRunning", None),
            200,
            "gemini/operation_done.json",
        ),
    ];
    for (call, status, file) in cases {
        let answer = round_trip(&call, status, &mock(file));
        if status >= 400 {
            // The error body comes back as it was sent.
            let sent: Value = serde_json::from_str(&mock(file)).expect("JSON");
            assert_eq!(body(&answer), sent, "{file}");
        }
    }
}

#[test]
fn python_fixture_cases_round_trip() {
    for fixture in [
        include_str!("../../../tests/fixtures/python-providers-0.1.5.json"),
        include_str!("../../../tests/fixtures/python-gemini-0.1.5.json"),
    ] {
        let fixture: Value = serde_json::from_str(fixture).expect("fixture");
        for case in fixture["cases"].as_array().expect("cases") {
            let url = case["url"].as_str().expect("url");
            let (path, query) = crate::wire::split_url(url);
            let request: Value =
                serde_json::from_str(case["request_body"].as_str().expect("body")).expect("JSON");
            let call = Call {
                provider: case["provider"].as_str().expect("provider"),
                path,
                query,
                request,
            };
            let status = case["status"].as_u64().expect("status") as u16;
            round_trip(&call, status, case["response_body"].as_str().expect("body"));

            // The Python SDK's own event rebuilt: what it recorded comes back (beyond what
            // aiobs records that it doesn't).
            let python = &case["python"];
            let event = Event {
                request: python["request"].clone(),
                response: python["response"].clone(),
                error: python["error"].clone(),
            };
            let answer = call.rebuild(&event, call.form());
            assert_eq!(answer.status, status, "{url}");
            let again = call.record_answer(&answer);
            assert_eq!(again.error, python["error"], "{url}");
            let mut response = again.response.clone();
            if let Some(o) = response.as_object_mut() {
                for added in ["finish_reason", "tool_calls", "stream"] {
                    o.remove(added);
                }
            }
            if call.provider == "gemini" && !python["response"].is_null() {
                // google-genai dumps every field of its models, nulls too; the wire has none.
                assert_eq!(without_nulls(&response), without_nulls(&python["response"]));
            } else {
                assert_eq!(response, python["response"], "{url}");
            }
        }
    }
}

/// `value` without its null fields, and Python's `model: null` (it reads a field the
/// response doesn't have) left out with them.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !v.is_null() && *k != "model")
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_whole_answer_replays_as_a_stream() {
    for (whole, streamed, file) in [
        (chat(false), chat(true), "openai/chat_completion_tools.json"),
        (
            responses(false),
            responses(true),
            "openai/response_tools.json",
        ),
        (
            messages(false),
            messages(true),
            "anthropic/message_tool_use.json",
        ),
        (
            gemini("generateContent", None),
            gemini("streamGenerateContent", Some("alt=sse")),
            "gemini/function_call.json",
        ),
    ] {
        let first = whole.record(200, mock(file).as_bytes(), false);
        let answer = streamed.rebuild(&first, streamed.form());
        assert!(answer.is_stream(), "{file}");
        let mut again = streamed.record_answer(&answer).response;
        let stream = again
            .as_object_mut()
            .and_then(|o| o.remove("stream"))
            .expect("a stream");
        assert_eq!(stream["finished"], true, "{file}");
        if streamed.provider == "gemini" {
            // A stream's candidates keep their text in one part.
            again["candidates"] = first.response["candidates"].clone();
        }
        assert_eq!(again, first.response, "{file}");
    }
}

#[test]
fn rebuilt_bodies_have_what_clients_require() {
    // Chat completion, whole.
    let a = round_trip(
        &chat(false),
        200,
        &mock("openai/chat_completion_tools.json"),
    );
    let b = body(&a);
    for key in ["id", "object", "created", "model", "choices", "usage"] {
        assert!(b.get(key).is_some(), "{key}");
    }
    assert_eq!(b["object"], "chat.completion");
    let choice = &b["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "tool_calls");
    let tool = &choice["message"]["tool_calls"][0];
    assert_eq!(tool["type"], "function");
    assert!(tool["id"].is_string() && tool["function"]["name"].is_string());
    assert!(tool["function"]["arguments"].is_string());

    // Chat completion, streamed: chunks, tool call deltas with an index, a usage chunk,
    // `[DONE]`.
    let a = round_trip(
        &chat(true),
        200,
        &mock("openai/chat_stream_tools_usage.sse"),
    );
    assert_eq!(a.content_type, "text/event-stream");
    let l = lines(&a);
    assert_eq!(
        l.iter().rev().find(|l| !l.is_empty()).map(String::as_str),
        Some("data: [DONE]")
    );
    let chunks = data_events(&a);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["id"].is_string())
    );
    let tool_delta = chunks
        .iter()
        .find_map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]
                .as_object()
                .cloned()
        })
        .expect("a tool call delta");
    assert_eq!(tool_delta["index"], 0);
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["total_tokens"].is_u64());

    // Responses API stream.
    let a = round_trip(&responses(true), 200, &mock("openai/response_stream.sse"));
    let kinds: Vec<String> = lines(&a)
        .iter()
        .filter_map(|l| l.strip_prefix("event: ").map(str::to_owned))
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("response.created"));
    assert!(kinds.iter().any(|k| k == "response.output_text.delta"));
    assert_eq!(kinds.last().map(String::as_str), Some("response.completed"));
    let b = body(&round_trip(
        &responses(false),
        200,
        &mock("openai/response.json"),
    ));
    assert_eq!(b["object"], "response");

    // Anthropic stream: named events in the API's order.
    let a = round_trip(&messages(true), 200, &mock("anthropic/stream_tool_use.sse"));
    let kinds: Vec<String> = lines(&a)
        .iter()
        .filter_map(|l| l.strip_prefix("event: ").map(str::to_owned))
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("message_start"));
    assert_eq!(kinds.last().map(String::as_str), Some("message_stop"));
    assert_eq!(kinds[kinds.len() - 2], "message_delta");
    let events = data_events(&a);
    assert!(
        events
            .iter()
            .any(|e| e["delta"]["type"] == "input_json_delta")
    );
    assert!(
        events
            .iter()
            .any(|e| e["delta"]["type"] == "thinking_delta")
    );
    for (kind, data) in kinds.iter().zip(&events) {
        assert_eq!(data["type"], kind.as_str());
    }
    let b = body(&round_trip(
        &messages(false),
        200,
        &mock("anthropic/message.json"),
    ));
    assert_eq!(
        (b["type"].as_str(), b["role"].as_str()),
        (Some("message"), Some("assistant"))
    );

    // Gemini: a GenerateContentResponse, as SSE data and as a JSON array.
    let a = round_trip(
        &gemini("streamGenerateContent", Some("alt=sse")),
        200,
        &mock("gemini/stream.sse"),
    );
    let chunk = &data_events(&a)[0];
    assert!(chunk["candidates"][0]["content"]["parts"].is_array());
    assert!(chunk["usageMetadata"]["totalTokenCount"].is_u64());
    assert_eq!(chunk["modelVersion"], "gemini-2.0-flash");
    let a = round_trip(
        &gemini("streamGenerateContent", None),
        200,
        &mock("gemini/stream_array.json"),
    );
    assert!(body(&a).is_array());
    let b = body(&round_trip(
        &gemini("generateContent", None),
        200,
        &mock("gemini/function_call.json"),
    ));
    assert_eq!(
        b["candidates"][0]["content"]["parts"][0]["functionCall"],
        json!({"name": "get_weather", "args": {"city": "Paris"}})
    );
    assert_eq!(b["candidates"][0]["finishReason"], "STOP");
}

#[test]
fn forms_follow_the_live_request() {
    let http = |path| HttpRequest {
        method: "POST",
        path,
        query: None,
    };
    let streamed = json!({"stream": true});
    let chat = http("/v1/chat/completions");
    assert_eq!(
        form("openai", "chat.completions.create", &chat, Some(&streamed)),
        Form::Sse
    );
    assert_eq!(
        form(
            "openai",
            "chat.completions.create",
            &chat,
            Some(&json!({"stream": false}))
        ),
        Form::Whole
    );
    assert_eq!(
        form("openai", "chat.completions.create", &chat, None),
        Form::Whole
    );
    assert_eq!(
        form(
            "openai",
            "embeddings.create",
            &http("/v1/embeddings"),
            Some(&streamed)
        ),
        Form::Whole
    );
    assert_eq!(
        form(
            "anthropic",
            "messages.create",
            &http("/v1/messages"),
            Some(&streamed)
        ),
        Form::Sse
    );
    assert_eq!(
        form(
            "openai",
            "responses.create",
            &http("/v1/responses"),
            Some(&streamed)
        ),
        Form::Sse
    );
    let stream_path = "/v1beta/models/g:streamGenerateContent";
    let sse = HttpRequest {
        method: "POST",
        path: stream_path,
        query: Some("key=x&alt=sse"),
    };
    assert_eq!(
        form("gemini", "models.generate_content_stream", &sse, None),
        Form::Sse
    );
    assert_eq!(
        form(
            "gemini",
            "models.generate_content_stream",
            &http(stream_path),
            None
        ),
        Form::JsonArray
    );
    assert_eq!(
        form(
            "gemini",
            "models.generate_content",
            &http("/v1beta/models/g:generateContent"),
            Some(&streamed)
        ),
        Form::Whole
    );
    assert_eq!(
        form("ollama", "chat", &http("/api/chat"), Some(&streamed)),
        Form::Whole
    );
}

#[test]
fn unknown_providers_answer_their_recorded_body() {
    let body = json!({"message": {"role": "assistant", "content": "hi"}, "done": true});
    let a = rebuild(
        "ollama",
        "chat",
        &Value::Null,
        Some(&body),
        None,
        Form::Whole,
    )
    .expect("answered");
    assert_eq!((a.status, self::body(&a)), (200, body.clone()));
    assert!(rebuild("ollama", "chat", &Value::Null, Some(&body), None, Form::Sse).is_err());
    assert!(rebuild("ollama", "chat", &Value::Null, None, None, Form::Whole).is_err());
    let a = rebuild(
        "ollama",
        "chat",
        &Value::Null,
        None,
        Some("HTTPError: 404 {\"error\":\"model not found\"}"),
        Form::Whole,
    )
    .expect("answered");
    assert_eq!(a.status, 404);
    // A known provider with an API it doesn't have.
    assert!(
        rebuild(
            "openai",
            "files.list",
            &Value::Null,
            None,
            None,
            Form::Whole
        )
        .is_err()
    );
}

#[test]
fn what_cant_be_answered_says_why() {
    let response = json!({"id": "chatcmpl-1", "model": "m", "usage": null, "text": "partial"});
    for failure in [
        "ConnectionError: connection refused",
        "TimeoutError: timed out",
        "IncompleteRead: the stream broke: eof",
        "cancelled: the stream was dropped before it finished",
    ] {
        for (provider, api) in [
            ("openai", "chat.completions.create"),
            ("anthropic", "messages.create"),
            ("gemini", "models.generate_content"),
            ("ollama", "chat"),
        ] {
            let e = rebuild(
                provider,
                api,
                &Value::Null,
                Some(&response),
                Some(failure),
                Form::Sse,
            )
            .expect_err("a transport failure");
            assert!(e.contains("transport failure"), "{e}");
        }
    }
    // A null response and no error.
    for (provider, api) in [
        ("openai", "chat.completions.create"),
        ("openai", "responses.create"),
        ("anthropic", "messages.create"),
        ("gemini", "models.generate_videos"),
    ] {
        assert!(
            rebuild(
                provider,
                api,
                &Value::Null,
                Some(&Value::Null),
                None,
                Form::Whole
            )
            .is_err()
        );
    }
    // A body that was not recorded.
    let unreadable = json!({"aiobs_unreadable": "body is not JSON"});
    let e = rebuild(
        "openai",
        "chat.completions.create",
        &Value::Null,
        Some(&unreadable),
        None,
        Form::Whole,
    )
    .expect_err("unreadable");
    assert!(e.contains("not JSON"), "{e}");
}

#[test]
fn a_failed_response_and_an_error_event_are_replayed() {
    let failed = json!({"id": "resp_1", "object": "response", "status": "failed", "model": "gpt-4.1", "output": [],
        "error": {"code": "server_error", "message": "boom"}, "usage": null});
    round_trip(&responses(false), 200, &failed.to_string());
    let stream = concat!(
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_2\",\"model\":\"gpt-4.1\",\"status\":\"in_progress\",\"output\":[]}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Hel\"}\n\n",
        "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"stream broke\",\"param\":null}\n\n",
    );
    round_trip(&responses(true), 200, stream);
    // Python SDK events record no stream, no finish reason: a stream is still rebuilt.
    let python = Event {
        request: json!({"model": "gpt-4o-mini"}),
        response: json!({"id": "chatcmpl-9", "model": "gpt-4o-mini", "usage": null, "text": "Hi"}),
        error: Value::Null,
    };
    let a = chat(true).rebuild(&python, Form::Sse);
    let again = chat(true).record_answer(&a).response;
    assert_eq!(again["text"], "Hi");
    assert_eq!(again["finish_reason"], "stop");
    assert_eq!(again["stream"]["finished"], true);
}

#[test]
fn a_python_export_s_events_replay() {
    let export: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/python-0.1.5.json"))
            .expect("export");
    let events = export["events"].as_array().expect("events");
    assert!(!events.is_empty());
    for e in events {
        let event = Event {
            request: e["request"].clone(),
            response: e["response"].clone(),
            error: e["error"].clone(),
        };
        assert_eq!(e["provider"], "openai");
        for call in [chat(false), chat(true)] {
            let answer = call.rebuild(&event, call.form());
            let again = call.record_answer(&answer).response;
            for field in ["id", "model", "usage", "text"] {
                assert_eq!(again[field], e["response"][field], "{field}");
            }
        }
    }
}
