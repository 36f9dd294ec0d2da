//! genai 0.7.2 with its `otel` feature, the real crate, against the loopback OpenAI mock: its
//! `genai.chat` span, recorded by `AiobsLayer`, is an LLM call under the `#[observe]` function
//! that made it, with the model, text and usage genai records.
//!
//! genai reads whether to record message content from
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` once per process; this file holds a
//! single test, which sets it before genai reads it.

mod support;

use aiobs::bridge::AiobsLayer;
use aiobs::{Collector, ObserveOptions, observe};
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatRequest};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use mock_llm::MockServer;
use serde_json::{Value, json};
use support::{flushed, runtime};
use tracing_subscriber::layer::SubscriberExt as _;

/// A genai client whose OpenAI calls go to the mock.
fn client(server: &MockServer) -> Result<Client, genai::Error> {
    let base = format!("{}/v1/", server.url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(base.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    Client::builder()
        .with_service_target_resolver(resolver)
        .build()
}

#[observe]
async fn ask(client: &Client, question: &str) -> String {
    let request = ChatRequest::default()
        .with_system("You are terse.")
        .append_message(ChatMessage::user(question));
    match client.exec_chat("gpt-4o-mini", request, None).await {
        Ok(response) => response.into_first_text().unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn a_genai_chat_is_an_llm_call_under_the_observed_function() {
    // SAFETY: the only test of this binary, before it starts any thread of its own or calls
    // genai (which reads the variable once).
    unsafe { std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true") };
    let subscriber = tracing_subscriber::registry().with(AiobsLayer::new());
    let _tracing = tracing::subscriber::set_default(subscriber);
    let server = MockServer::start().expect("the mock");
    let client = client(&server).expect("a genai client");
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("a session");
    let answer = runtime().block_on(ask(&client, "Capital of France?"));
    assert_eq!(answer, "Hello from the mock.");
    let export = flushed(&obs, "genai");

    let tree = &export["trace_tree"];
    assert_eq!(tree.as_array().map(Vec::len), Some(1), "one root: {tree:#}");
    assert_eq!(tree[0]["name"], "ask");
    let children = tree[0]["children"].as_array().expect("children");
    assert_eq!(children.len(), 1);
    let [call] = export["events"].as_array().expect("events").as_slice() else {
        panic!("one LLM call: {:#}", export["events"]);
    };
    assert_eq!(call["parent_span_id"], tree[0]["span_id"]);
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
    // genai 0.7.2's OpenAI adapter does not read the response id (`response_id: None` in
    // `adapter/adapters/openai/adapter_impl.rs`), so the span has none.
    assert_eq!(response["id"], Value::Null);
    assert_eq!(response["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(response["text"], "Hello from the mock.");
    assert_eq!(response["usage"]["prompt_tokens"], 12);
    assert_eq!(response["usage"]["completion_tokens"], 5);
    assert_eq!(response["usage"]["total_tokens"], 17);
    assert_eq!(response["finish_reasons"], json!(["stop"]));
    assert_eq!(
        call["request"]["other"],
        json!({"server.address": "127.0.0.1", "server.port": server.addr().port(), "stream": false})
    );
    assert_eq!(call["error"], Value::Null);
    let request = server.requests()[0].clone();
    assert_eq!(request.path, "/v1/chat/completions");
}
