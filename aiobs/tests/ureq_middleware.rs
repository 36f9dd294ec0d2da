//! `UreqMiddleware` against a real HTTP server on loopback (`mock-llm`): events recorded field
//! by field, parents, identical bytes for the caller, streams teed, cut and dropped, error
//! statuses returned as the agent returns them, secrets kept out of the file.

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

fn plain_agent() -> ureq::Agent {
    ureq::Agent::config_builder().build().into()
}

fn session() -> (Collector, aiobs::DefaultGuard) {
    let obs = Collector::new();
    let guard = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    (obs, guard)
}

#[observe]
fn ask(agent: &ureq::Agent, base: &str, model: &str) -> Result<String, ureq::Error> {
    agent
        .post(format!("{base}/v1/chat/completions"))
        .header("Authorization", "Bearer sk-test-SECRET-0001")
        .send_json(json!({
            "model": model,
            "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "Hi"}],
            "temperature": 0.2,
        }))?
        .body_mut()
        .read_to_string()
}

#[test]
fn a_chat_completion_is_a_child_event_with_the_python_fields_and_the_caller_gets_the_same_bytes() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let with = ask(&agent(), &server.url(), "gpt-4o-mini").expect("call");
    let without = ask(&plain_agent(), &server.url(), "gpt-4o-mini").expect("call");
    assert_eq!(with, fixtures::OPENAI_CHAT_COMPLETION);
    assert_eq!(with, without);
    let sent = server.requests();
    assert_eq!(
        sent[0].body, sent[1].body,
        "the request bytes are unchanged"
    );
    assert_eq!(
        sent[0].header("content-length"),
        sent[1].header("content-length")
    );

    let (export, text, _dir) = support::flush_validated(&obs, "chat.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        1,
        "only the agent with the middleware records"
    );
    let e = &events[0];
    assert_eq!(e["provider"], "openai");
    assert_eq!(e["api"], "chat.completions.create");
    assert_eq!(
        e["request"],
        json!({"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "Hi"}],
               "temperature": 0.2, "max_tokens": null, "other": {}})
    );
    let body: Value = serde_json::from_str(fixtures::OPENAI_CHAT_COMPLETION).unwrap();
    assert_eq!(e["response"]["id"], body["id"]);
    assert_eq!(e["response"]["model"], body["model"]);
    assert_eq!(
        e["response"]["text"],
        body["choices"][0]["message"]["content"]
    );
    assert_eq!(
        e["response"]["usage"]["total_tokens"],
        body["usage"]["total_tokens"]
    );
    assert_eq!(e["error"], Value::Null);
    let function = &export["function_events"][0];
    assert_eq!(
        e["parent_span_id"], function["span_id"],
        "a child of the observed call"
    );
    assert!(
        !text.contains("SECRET"),
        "the API key never reaches the file"
    );
}

#[test]
fn an_error_status_is_recorded_with_the_providers_message_and_returned_as_the_agent_would() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let with = ask(&agent(), &server.url(), "gpt-error-429");
    let without = ask(&plain_agent(), &server.url(), "gpt-error-429");
    assert!(
        matches!(with, Err(ureq::Error::StatusCode(429))),
        "{with:?}"
    );
    assert!(matches!(without, Err(ureq::Error::StatusCode(429))));

    // An agent that hands error statuses back as responses gets its response, body and all.
    let lenient: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .middleware(UreqMiddleware::new().http_status_as_error(false))
        .build()
        .into();
    let body = ask(&lenient, &server.url(), "gpt-error-429").expect("a response");
    assert_eq!(body, fixtures::OPENAI_ERROR_429);

    let (export, _, _dir) = support::flush_validated(&obs, "error.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for e in events {
        let error = e["error"].as_str().expect("an error");
        assert!(
            error.starts_with("RateLimitError: Error code: 429 - {'error': {"),
            "{error}"
        );
        assert_eq!(e["response"], Value::Null);
    }
    assert_eq!(
        export["function_events"][0]["error"],
        "ureq::Error: http status: 429"
    );
}

/// Reads a streamed chat completion line by line, as a caller of a streaming API does.
#[observe]
fn stream_chat(agent: &ureq::Agent, base: &str, model: &str, read_lines: usize) -> String {
    let response = agent.post(format!("{base}/v1/chat/completions")).send_json(
        json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
                          "messages": [{"role": "user", "content": "Hi"}]}),
    );
    let mut out = String::new();
    let Ok(mut response) = response else {
        return out;
    };
    let mut reader = response.body_mut().as_reader();
    let mut buf = [0u8; 64];
    let mut lines = 0;
    while lines < read_lines {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.push_str(&String::from_utf8_lossy(&buf[..n]));
                lines += buf[..n].iter().filter(|b| **b == b'\n').count();
            }
        }
    }
    out
}

#[test]
fn a_stream_is_teed_and_assembled_when_it_ends() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let got = stream_chat(&agent(), &server.url(), "gpt-4o-mini", usize::MAX);
    assert_eq!(
        got,
        fixtures::OPENAI_CHAT_STREAM_USAGE,
        "the caller reads every byte"
    );
    let (export, _, _dir) = support::flush_validated(&obs, "stream.json");
    let e = &export["events"][0];
    assert_eq!(e["response"]["text"], "Hello from the mock.");
    assert_eq!(e["response"]["id"], "chatcmpl-mock0003");
    assert!(
        e["response"]["usage"]["total_tokens"].as_u64().is_some(),
        "{e}"
    );
    assert_eq!(e["response"]["stream"]["finished"], true);
    assert!(e["response"]["stream"]["first_chunk_ms"].as_f64().is_some());
    assert_eq!(e["error"], Value::Null);
    assert_eq!(e["request"]["other"]["stream"], true);
}

#[test]
fn a_stream_dropped_half_way_is_recorded_with_the_partial_text() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    stream_chat(&agent(), &server.url(), "gpt-4o-mini", 4);
    let (export, _, _dir) = support::flush_validated(&obs, "dropped.json");
    let e = &export["events"][0];
    assert_eq!(
        e["error"],
        "cancelled: the stream was dropped before it finished"
    );
    assert_eq!(e["response"]["stream"]["finished"], false);
    let text = e["response"]["text"].as_str().unwrap_or("");
    assert!(
        "Hello from the mock.".starts_with(text) && text.len() < 20,
        "{text:?}"
    );
    assert!(e["duration_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn a_stream_cut_by_the_server_is_recorded_as_incomplete() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    stream_chat(&agent(), &server.url(), "gpt-cut", usize::MAX);
    let (export, _, _dir) = support::flush_validated(&obs, "cut.json");
    let e = &export["events"][0];
    let error = e["error"].as_str().expect("an error");
    assert!(error.starts_with("IncompleteRead"), "{error}");
    assert_eq!(e["response"]["stream"]["finished"], false);
}

#[test]
fn gemini_calls_are_recorded_and_the_key_in_the_url_never_is() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let agent = agent();
    let base = server.url();
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
                      "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64}});
    let text = agent
        .post(format!(
            "{base}/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSECRETKEY"
        ))
        .send_json(&body)
        .expect("call")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert_eq!(text, fixtures::GEMINI_GENERATE_CONTENT);
    let streamed = agent
        .post(format!(
            "{base}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
        ))
        .header("x-goog-api-key", "AIzaSECRETKEY")
        .send_json(&body)
        .expect("call")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert_eq!(streamed, fixtures::GEMINI_STREAM);
    let (export, file, _dir) = support::flush_validated(&obs, "gemini.json");
    assert!(!file.contains("SECRETKEY"));
    let events = export["events"].as_array().unwrap();
    let e = &events[0];
    assert_eq!(e["provider"], "gemini");
    assert_eq!(e["api"], "models.generate_content");
    assert_eq!(e["request"]["model"], "gemini-2.0-flash");
    assert_eq!(
        e["request"]["config"],
        json!({"temperature": 0.5, "max_output_tokens": 64})
    );
    assert_eq!(e["request"]["contents"][0]["parts"][0]["text"], "Hi");
    let answer: Value = serde_json::from_str(fixtures::GEMINI_GENERATE_CONTENT).unwrap();
    assert_eq!(
        e["response"]["usage"]["total_token_count"],
        answer["usageMetadata"]["totalTokenCount"]
    );
    assert_eq!(
        e["response"]["text"],
        answer["candidates"][0]["content"]["parts"][0]["text"]
    );
    assert_eq!(
        e["response"]["candidates"][0]["finish_reason"],
        answer["candidates"][0]["finishReason"]
    );
    let s = &events[1];
    assert_eq!(s["api"], "models.generate_content_stream");
    assert_eq!(s["response"]["text"], "Hello from the mock.");
    assert_eq!(s["response"]["stream"]["finished"], true);
}

#[test]
fn calls_that_no_provider_knows_and_calls_without_a_session_pass_untouched() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    // No session yet: nothing is recorded.
    ask(&agent(), &server.url(), "gpt-4o-mini").expect("call");
    obs.observe(ObserveOptions::new()).expect("observe");
    let not_found = agent().get(format!("{}/v1/other", server.url())).call();
    assert!(matches!(not_found, Err(ureq::Error::StatusCode(404))));
    let (export, _, _dir) = support::flush_validated(&obs, "none.json");
    assert_eq!(export["events"].as_array().unwrap().len(), 0);
}

#[test]
fn a_body_that_is_not_json_goes_through_and_the_event_says_so() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let body = ask(&agent(), &server.url(), "gpt-not-json").expect("call");
    assert_eq!(body, fixtures::NOT_JSON);
    let (export, _, _dir) = support::flush_validated(&obs, "notjson.json");
    let reason = export["events"][0]["response"]["aiobs_unreadable"]
        .as_str()
        .expect("a reason");
    assert!(reason.starts_with("body is not JSON"), "{reason}");
}

#[observe]
async fn ask_async(agent: ureq::Agent, base: String) -> Result<String, ureq::Error> {
    std::future::ready(()).await;
    ask_inline(&agent, &base)
}

/// Not observed: the event's parent is the async function that called it.
fn ask_inline(agent: &ureq::Agent, base: &str) -> Result<String, ureq::Error> {
    agent
        .post(format!("{base}/v1/embeddings"))
        .send_json(json!({"model": "text-embedding-3-small", "input": ["a", "b", "c", "d"]}))?
        .body_mut()
        .read_to_string()
}

#[test]
fn inside_an_observed_async_fn_the_call_is_its_child() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    futures::executor::block_on(ask_async(agent(), server.url())).expect("call");
    let (export, _, _dir) = support::flush_validated(&obs, "async.json");
    let e = &export["events"][0];
    assert_eq!(e["api"], "embeddings.create");
    assert_eq!(e["parent_span_id"], export["function_events"][0]["span_id"]);
    assert_eq!(
        e["request"]["input"],
        json!(["a", "b", "c"]),
        "cut to three"
    );
    assert!(
        e["response"]["embedding_dimensions"].as_u64().is_some(),
        "{e}"
    );
}

#[test]
fn a_response_over_the_body_cap_reaches_the_caller_whole_and_is_noted() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let small: ureq::Agent = ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new().body_cap(64))
        .build()
        .into();
    let body = ask(&small, &server.url(), "gpt-4o-mini").expect("call");
    assert_eq!(body, fixtures::OPENAI_CHAT_COMPLETION);
    let (export, _, _dir) = support::flush_validated(&obs, "cap.json");
    let e = &export["events"][0];
    let why = e["request"]["aiobs_unreadable"]
        .as_str()
        .expect("request over the cap");
    assert!(why.contains("over the 64-byte cap"), "{why}");
    let why = e["response"]["aiobs_unreadable"]
        .as_str()
        .expect("response over the cap");
    let size = fixtures::OPENAI_CHAT_COMPLETION.len();
    assert!(why.contains(&format!("body of {size} bytes")), "{why}");
}

#[test]
fn a_body_of_unknown_length_is_teed_so_a_json_array_stream_reaches_the_caller_as_it_comes() {
    let server = MockServer::start().expect("server");
    let (obs, _g) = session();
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]});
    let text = agent()
        .post(format!(
            "{}/v1beta/models/gemini-2.0-flash:streamGenerateContent",
            server.url()
        ))
        .send_json(&body)
        .expect("call")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert_eq!(text, fixtures::GEMINI_STREAM_ARRAY);
    let (export, _, _dir) = support::flush_validated(&obs, "array.json");
    let e = &export["events"][0];
    assert_eq!(e["api"], "models.generate_content_stream");
    assert_eq!(e["response"]["text"], "Hello from the mock.");
    assert_eq!(e["error"], Value::Null);
}
