//! LLM calls recorded from the HTTP exchange: a ureq agent with aiobs's middleware calls
//! OpenAI (a completion and a stream), Gemini, Anthropic, and Ollama's native API through a
//! provider written here, all against a mock server on loopback that the example starts itself
//! (no network, no key).
//!
//! ```sh
//! cargo run -p examples-integrations --example providers
//! ```

use std::io::{BufRead, BufReader};

use aiobs::providers::{Body, Exchange, HttpRequest, UreqMiddleware};
use aiobs::{EventFields, FlushOptions, ObserveOptions, Provider, observe};
use serde_json::{Value, json};

/// Ollama's native chat API (`POST /api/chat`; its OpenAI-compatible `/v1` is built in): what
/// the `Provider` trait takes to teach aiobs a new API.
struct Ollama;

impl Provider for Ollama {
    fn name(&self) -> &str {
        "ollama"
    }

    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        (http.method == "POST" && http.path.ends_with("/api/chat")).then(|| "chat".to_owned())
    }

    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        let request = exchange.request.json();
        event.request(&json!({
            "model": request.and_then(|r| r.get("model")),
            "messages": request.and_then(|r| r.get("messages")),
            "options": request.and_then(|r| r.get("options")),
        }));
        if let Some(status) = exchange.status.filter(|s| *s >= 400) {
            let message = exchange
                .response
                .json()
                .and_then(|b| b.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("");
            event.error(format!("ResponseError: {status} {message}"));
            return;
        }
        if let Body::Json { value, .. } = exchange.response {
            event.response(&json!({
                "model": value.get("model"),
                // Ollama's token counts, under the names cost tools read.
                "usage": {
                    "prompt_tokens": value.get("prompt_eval_count"),
                    "completion_tokens": value.get("eval_count"),
                },
                "text": value.pointer("/message/content"),
                "finish_reason": value.get("done_reason"),
            }));
        }
        if let Some(failure) = exchange.failure {
            event.error(failure);
        }
    }
}

#[observe(skip(agent))]
fn ask_openai(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let answer: Value = agent
        .post(format!("{base}/v1/chat/completions"))
        .header("Authorization", "Bearer sk-example-not-a-key")
        .send_json(json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": question}],
            "temperature": 0.2,
        }))?
        .body_mut()
        .read_json()?;
    Ok(answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Reads a streamed completion as it arrives, one server-sent event at a time.
#[observe(skip(agent))]
fn stream_openai(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let mut response = agent
        .post(format!("{base}/v1/chat/completions"))
        .send_json(json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": question}],
        }))?;
    let mut text = String::new();
    for line in BufReader::new(response.body_mut().as_reader()).lines() {
        let line = line?;
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let chunk = serde_json::from_str::<Value>(data).ok();
        let piece = chunk
            .as_ref()
            .and_then(|c| c.pointer("/choices/0/delta/content"))
            .and_then(Value::as_str);
        text.push_str(piece.unwrap_or_default());
    }
    Ok(text)
}

#[observe(skip(agent))]
fn ask_gemini(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let answer: Value = agent
        .post(format!(
            "{base}/v1beta/models/gemini-2.0-flash:generateContent"
        ))
        .header("x-goog-api-key", "AIza-example-not-a-key")
        .send_json(json!({
            "contents": [{"role": "user", "parts": [{"text": question}]}],
            "generationConfig": {"temperature": 0.5},
        }))?
        .body_mut()
        .read_json()?;
    Ok(answer["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[observe(skip(agent))]
fn ask_claude(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let answer: Value = agent
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "sk-ant-example-not-a-key")
        .send_json(json!({
            "model": "claude-sonnet-4-20250514",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": question}],
        }))?
        .body_mut()
        .read_json()?;
    Ok(answer["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[observe(skip(agent))]
fn ask_ollama(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let answer: Value = agent
        .post(format!("{base}/api/chat"))
        .send_json(json!({
            "model": "llama3.2:3b",
            "stream": false,
            "messages": [{"role": "user", "content": question}],
            "options": {"temperature": 0.2},
        }))?
        .body_mut()
        .read_json()?;
    Ok(answer["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[observe(skip(agent, base))]
fn compare_models(agent: &ureq::Agent, base: &str, question: &str) -> Vec<String> {
    let mut answers = vec![
        ask_openai(agent, base, question).unwrap_or_else(|e| e.to_string()),
        stream_openai(agent, base, question).unwrap_or_else(|e| e.to_string()),
        ask_gemini(agent, base, question).unwrap_or_else(|e| e.to_string()),
        ask_claude(agent, base, question).unwrap_or_else(|e| e.to_string()),
        ask_ollama(agent, base, question).unwrap_or_else(|e| e.to_string()),
    ];
    // A rate-limited call: recorded with the provider's message, returned as an error.
    let limited = agent.post(format!("{base}/v1/chat/completions")).send_json(
        json!({"model": "gpt-error-429", "messages": [{"role": "user", "content": question}]}),
    );
    answers.push(match limited {
        Ok(_) => "unexpected success".to_owned(),
        Err(e) => e.to_string(),
    });
    answers
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_llm::MockServer::start()?;
    let obs = aiobs::observer();
    obs.register_provider(Ollama);
    obs.observe(ObserveOptions::new().session_name("providers"))?;

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new())
        .build()
        .into();
    for answer in compare_models(&agent, &server.url(), "Say hello") {
        println!("{answer}");
    }
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(),
        None => FlushOptions::to_path("target/aiobs/providers.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples_integrations::print_tree(&path)
}
