//! A program that already uses `tracing`: `aiobs::bridge::AiobsLayer` beside its other layers
//! records its `#[instrument]`ed functions as function events, nested with `#[observe]`
//! functions both ways, and a span shaped as the rig crate emits for a model call (OpenTelemetry
//! GenAI fields) as an LLM call with its model, messages and tokens.
//!
//! ```sh
//! cargo run -p examples-integrations --example tracing_bridge
//! ```

use aiobs::bridge::AiobsLayer;
use aiobs::{FlushOptions, ObserveOptions, observe};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// A request handler instrumented with tracing: the root of the trace.
#[tracing::instrument]
fn handle(request_id: u64, question: &str) -> String {
    tracing::info!("handling"); // goes to the fmt layer; aiobs keeps spans, not log events
    answer(question)
}

/// An observed function inside the tracing span: its child.
#[observe]
fn answer(question: &str) -> String {
    let context = retrieve(question, 2);
    chat(&format!("{question}\ncontext: {}", context.join("; ")))
}

/// Instrumented again, inside the observed call: the observed call's child.
#[tracing::instrument(ret)]
fn retrieve(query: &str, top_k: usize) -> Vec<String> {
    (0..top_k).map(|i| format!("{query} / doc {i}")).collect()
}

/// A model call as rig reports it (`rig::completions` / `chat`, with `gen_ai.*` fields): the
/// bridge turns it into an OpenAI provider event. A real program gets this span from rig or
/// genai; here it is written out, with a canned answer instead of the HTTP call.
fn chat(prompt: &str) -> String {
    let span = tracing::info_span!(
        target: "rig::completions",
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = "gpt-4o-mini",
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.input.messages = tracing::field::Empty,
        gen_ai.output.messages = tracing::field::Empty
    );
    let _entered = span.enter();
    let input = json!([{"role": "user", "parts": [{"type": "text", "content": prompt}]}]);
    span.record("gen_ai.input.messages", input.to_string());
    let reply = "Traces nest across tracing and aiobs.";
    span.record("gen_ai.response.id", "chatcmpl-bridge");
    span.record("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
    span.record("gen_ai.usage.input_tokens", 42u64);
    span.record("gen_ai.usage.output_tokens", 9u64);
    let output = json!([{"role": "assistant", "parts": [{"type": "text", "content": reply}]}]);
    span.record("gen_ai.output.messages", output.to_string());
    reply.to_owned()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_target(false)) // the program's own layer
        .with(AiobsLayer::new())
        .init();

    let obs = aiobs::observer();
    obs.observe(
        ObserveOptions::new()
            .session_name("tracing-bridge")
            .label("example", "tracing_bridge"),
    )?;
    println!("{}", handle(1, "How do traces nest?"));
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(), // LLM_OBS_OUT decides
        None => FlushOptions::to_path("target/aiobs/tracing_bridge.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples_integrations::print_tree(&path)
}
