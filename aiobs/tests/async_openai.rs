//! `providers::async_openai` (feature `async-openai`): async-openai clients made in one call,
//! against a real HTTP server on loopback (`mock-llm`) on tokio's runtimes. A completion and a
//! stream become OpenAI provider events under the observed call that awaited them; the retries
//! async-openai's own client makes are kept, each attempt an event; `client_with` replays.

mod support;

use aiobs::providers::ReqwestMiddleware;
use aiobs::{Collector, ObserveOptions, observe};
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures::StreamExt;
use mock_llm::{Fault, MockServer};
use serde_json::Value;

type OpenAi = async_openai::Client<OpenAIConfig>;

fn config(server: &MockServer) -> OpenAIConfig {
    OpenAIConfig::new()
        .with_api_base(format!("{}/v1", server.url()))
        .with_api_key("sk-test-SECRET-0025")
}

fn request(question: &str) -> Result<CreateChatCompletionRequest, OpenAIError> {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content(question)
            .build()?
            .into()])
        .build()
}

#[observe(skip(client))]
async fn complete(client: &OpenAi, question: &str) -> Result<String, OpenAIError> {
    let response = client.chat().create(request(question)?).await?;
    Ok(response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default())
}

#[observe(skip(client))]
async fn stream(client: &OpenAi, question: &str) -> Result<String, OpenAIError> {
    let mut chunks = client.chat().create_stream(request(question)?).await?;
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        for choice in chunk?.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    Ok(text)
}

/// The function event whose span is `event`'s parent.
fn parent<'a>(export: &'a Value, event: &Value) -> &'a Value {
    export["function_events"]
        .as_array()
        .expect("function events")
        .iter()
        .find(|f| f["span_id"] == event["parent_span_id"])
        .unwrap_or_else(|| panic!("no parent for {event}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_and_a_stream_are_openai_events_under_the_observed_calls() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let client = aiobs::providers::async_openai::client(config(&server));
    let (completed, streamed) =
        tokio::join!(complete(&client, "Say hello"), stream(&client, "Say hello"));
    assert_eq!(completed.expect("completion"), "Hello from the mock.");
    assert_eq!(streamed.expect("stream"), "Hello from the mock.");
    let sent = server.requests();
    assert_eq!(sent.len(), 2, "one request each, no retry");
    assert!(
        sent.iter()
            .all(|r| r.header("authorization") == Some("Bearer sk-test-SECRET-0025")),
        "async-openai's headers reach the server"
    );

    let (export, text, _dir) = support::flush_validated(&obs, "async-openai.json");
    assert!(!text.contains("SECRET"), "the key is scrubbed");
    let events = export["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    for e in events {
        assert_eq!(e["provider"], "openai");
        assert_eq!(e["api"], "chat.completions.create");
        assert_eq!(e["request"]["model"], "gpt-4o-mini");
        assert_eq!(e["response"]["text"], "Hello from the mock.");
        assert_eq!(e["error"], Value::Null, "{e}");
        let name = if e["request"]["other"]["stream"] == true {
            assert_eq!(e["response"]["stream"]["finished"], true, "{e}");
            "stream"
        } else {
            assert_eq!(e["response"]["model"], "gpt-4o-mini-2024-07-18");
            assert_eq!(e["response"]["usage"]["prompt_tokens"], 12);
            assert_eq!(e["response"]["usage"]["completion_tokens"], 5);
            assert_eq!(e["response"]["usage"]["total_tokens"], 17);
            "complete"
        };
        assert_eq!(parent(&export, e)["name"], name, "each under its caller");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_error_is_retried_as_by_async_openai_and_each_attempt_recorded() {
    let server = MockServer::start().expect("server");
    server.inject(
        "/v1/chat/completions",
        Fault::Status(
            500,
            r#"{"error": {"message": "try again", "type": "server_error"}}"#.into(),
        ),
    );
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let client = aiobs::providers::async_openai::client(config(&server));
    let answer = complete(&client, "Say hello").await;
    assert_eq!(answer.expect("the retry succeeds"), "Hello from the mock.");
    assert_eq!(server.requests().len(), 2);

    let (export, _, _dir) = support::flush_validated(&obs, "async-openai-retry.json");
    let events = export["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    let failed = events.iter().filter(|e| !e["error"].is_null()).count();
    assert_eq!(failed, 1, "the 500, then the answer: {events:?}");
    // The retry drops the 500's body unread; the middleware read it first, so the event has
    // the provider's message.
    let error = events
        .iter()
        .find(|e| !e["error"].is_null())
        .expect("the 500")["error"]
        .as_str()
        .expect("error text")
        .to_owned();
    assert!(
        error.starts_with("InternalServerError: Error code: 500") && error.contains("try again"),
        "{error}"
    );
    for e in events {
        assert_eq!(parent(&export, e)["name"], "complete");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn client_with_a_replaying_middleware_answers_from_the_trace() {
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let cassette = aiobs::replay::Cassette::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/python-0.1.5.json"
    ))
    .expect("cassette");
    // Nothing listens on port 9: every answer comes from the file.
    let client = aiobs::providers::async_openai::client_with(
        OpenAIConfig::new().with_api_base("http://127.0.0.1:9/v1"),
        ReqwestMiddleware::replay(cassette).client(),
    );
    let recorded: CreateChatCompletionRequest = serde_json::from_str(
        r#"{"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
            "messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": "Write a short note about tracing."}]}"#,
    )
    .expect("request");
    let response = client.chat().create(recorded).await.expect("replayed");
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("aiobs records LLM calls and traced functions.")
    );
    // A request the trace doesn't hold: the replay's error, boxed, not a network error.
    let unknown = client
        .chat()
        .create(request("Never asked").expect("request"))
        .await
        .expect_err("not in the trace");
    let OpenAIError::Boxed(boxed) = &unknown else {
        panic!("{unknown:?}");
    };
    assert!(
        boxed.downcast_ref::<reqwest_middleware::Error>().is_some(),
        "{boxed:?}"
    );
    assert!(
        unknown
            .to_string()
            .contains("no recorded answer for openai chat.completions.create"),
        "{unknown}"
    );

    let (export, _, _dir) = support::flush_validated(&obs, "async-openai-replay.json");
    let events = export["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    for e in events {
        assert_eq!(e["replayed"], true, "{e}");
        assert_eq!(e["api"], "chat.completions.create");
    }
    assert_eq!(events[0]["error"], Value::Null);
    assert!(
        events[1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("ReplayError")),
        "{}",
        events[1]
    );
}
