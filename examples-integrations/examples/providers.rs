//! LLM calls recorded from the HTTP exchange: a ureq agent with aiobs's middleware calls
//! OpenAI (a completion and a stream), Gemini, and Anthropic through a provider written here,
//! all against a mock server on loopback that the example starts itself (no network, no key).
//!
//! ```sh
//! cargo run -p examples-integrations --example providers
//! ```

use std::io::{BufRead, BufReader};

use aiobs::providers::{Body, Exchange, HttpRequest, SseEvent, UreqMiddleware};
use aiobs::{EventFields, FlushOptions, ObserveOptions, Provider, observe};
use serde_json::{Value, json};

/// Anthropic's Messages API: what the `Provider` trait takes to teach aiobs a new API.
struct Anthropic;

impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        (http.method == "POST" && http.path.ends_with("/v1/messages"))
            .then(|| "messages.create".to_owned())
    }

    fn stream_complete(&self, _api: &str, events: &[SseEvent]) -> bool {
        events.last().and_then(|e| e.event.as_deref()) == Some("message_stop")
    }

    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        let request = exchange.request.json();
        event.request(&json!({
            "model": request.and_then(|r| r.get("model")),
            "messages": request.and_then(|r| r.get("messages")),
            "max_tokens": request.and_then(|r| r.get("max_tokens")),
        }));
        if let Some(status) = exchange.status.filter(|s| *s >= 400) {
            let message = exchange
                .response
                .json()
                .and_then(|b| b.pointer("/error/message"))
                .and_then(Value::as_str)
                .unwrap_or("");
            event.error(format!("APIStatusError: {status} {message}"));
            return;
        }
        match exchange.response {
            Body::Json { value, .. } => event.response(&json!({
                "id": value.get("id"),
                "model": value.get("model"),
                "usage": value.get("usage"),
                "text": value.pointer("/content/0/text"),
            })),
            // A stream: the text deltas joined.
            Body::Stream { events, finished } => {
                let text: String = events
                    .iter()
                    .filter(|e| e.event.as_deref() == Some("content_block_delta"))
                    .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
                    .filter_map(|d| {
                        d.pointer("/delta/text")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect();
                event.response(&json!({"text": text, "finished": finished}));
            }
            _ => {}
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

#[observe(skip(agent, base))]
fn compare_models(agent: &ureq::Agent, base: &str, question: &str) -> Vec<String> {
    let mut answers = vec![
        ask_openai(agent, base, question).unwrap_or_else(|e| e.to_string()),
        stream_openai(agent, base, question).unwrap_or_else(|e| e.to_string()),
        ask_gemini(agent, base, question).unwrap_or_else(|e| e.to_string()),
        ask_claude(agent, base, question).unwrap_or_else(|e| e.to_string()),
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
    obs.register_provider(Anthropic);
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
