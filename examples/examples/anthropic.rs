//! Anthropic's Messages API through the ureq middleware: a plain call, a streamed call, and a
//! tool-use round trip (the model asks for `get_weather`, the program runs it and sends the
//! result back), against a mock of the API on loopback that the example starts itself (no
//! network, no key). The answers read part of the prompt from Anthropic's cache, and
//! `aiobs stats` counts those tokens apart.
//!
//! ```sh
//! cargo run -p examples --example anthropic
//! cargo run -p aiobs-cli -- stats target/aiobs/anthropic.json
//! ```

use std::io::{BufRead, BufReader};

use aiobs::providers::UreqMiddleware;
use aiobs::{FlushOptions, ObserveOptions, observe};
use serde_json::{Value, json};

const MODEL: &str = "claude-sonnet-4-5";

/// The system prompt, marked for Anthropic's prompt cache.
fn system() -> Value {
    json!([{"type": "text", "text": "You are a terse weather assistant.",
            "cache_control": {"type": "ephemeral"}}])
}

fn tools() -> Value {
    json!([{
        "name": "get_weather",
        "description": "The current weather in a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]},
    }])
}

fn messages(agent: &ureq::Agent, base: &str, body: &Value) -> Result<Value, ureq::Error> {
    agent
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "sk-ant-example-not-a-key")
        .header("anthropic-version", "2023-06-01")
        .send_json(body)?
        .body_mut()
        .read_json()
}

/// The text blocks of a message, joined.
fn text_of(message: &Value) -> String {
    message["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["text"].as_str())
        .collect()
}

#[observe(skip(agent, base))]
fn ask(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let body = json!({"model": MODEL, "max_tokens": 256, "system": system(),
                      "messages": [{"role": "user", "content": question}]});
    Ok(text_of(&messages(agent, base, &body)?))
}

/// Reads the answer as it is streamed, one server-sent event at a time.
#[observe(skip(agent, base))]
fn ask_streamed(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let body = json!({"model": MODEL, "max_tokens": 256, "stream": true, "system": system(),
                      "messages": [{"role": "user", "content": question}]});
    let mut response = agent
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "sk-ant-example-not-a-key")
        .send_json(body)?;
    let mut text = String::new();
    for line in BufReader::new(response.body_mut().as_reader()).lines() {
        let line = line?;
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let event: Value = serde_json::from_str(data).unwrap_or_default();
        if let Some(piece) = event.pointer("/delta/text").and_then(Value::as_str) {
            text.push_str(piece);
        }
    }
    Ok(text)
}

/// The tool the model may call.
#[observe]
fn get_weather(city: &str) -> String {
    format!("{city}: 18°C, light rain")
}

/// One tool-use round trip: the model asks for the weather, gets it, and answers.
#[observe(skip(agent, base))]
fn weather_agent(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, ureq::Error> {
    let mut conversation = vec![json!({"role": "user", "content": question})];
    loop {
        let body = json!({"model": MODEL, "max_tokens": 1024, "system": system(),
                          "tools": tools(), "messages": conversation});
        let answer = messages(agent, base, &body)?;
        if answer["stop_reason"] != "tool_use" {
            return Ok(text_of(&answer));
        }
        let results: Vec<Value> = answer["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|block| block["type"] == "tool_use")
            .map(|call| {
                let city = call["input"]["city"].as_str().unwrap_or("?");
                json!({"type": "tool_result", "tool_use_id": call["id"],
                       "content": get_weather(city)})
            })
            .collect();
        conversation.push(json!({"role": "assistant", "content": answer["content"]}));
        conversation.push(json!({"role": "user", "content": results}));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_llm::MockServer::start()?;
    let obs = aiobs::observer();
    obs.observe(ObserveOptions::new().session_name("anthropic"))?;

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new())
        .build()
        .into();
    let base = server.url();
    println!("{}", ask(&agent, &base, "Say hello")?);
    println!("{}", ask_streamed(&agent, &base, "Say hello")?);
    println!(
        "{}",
        weather_agent(&agent, &base, "What's the weather in Paris?")?
    );
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(),
        None => FlushOptions::to_path("target/aiobs/anthropic.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples::print_tree(&path)
}
