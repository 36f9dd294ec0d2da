//! The main example: a small "agent" answers questions. Its functions are observed, its model
//! call is recorded as an OpenAI provider event, one tool fails; the trace is flushed to JSON
//! and printed as a tree.
//!
//! ```sh
//! cargo run -p examples --example quickstart
//! ```

use aiobs::{FlushOptions, ObserveOptions, ProviderCall, observe};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Document {
    title: String,
    score: f64,
}

#[derive(Debug)]
struct ToolError(String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool failed: {}", self.0)
    }
}
impl std::error::Error for ToolError {}

#[observe]
fn retrieve(query: &str, top_k: usize) -> Vec<Document> {
    (0..top_k)
        .map(|i| Document {
            title: format!("{query} — doc {i}"),
            score: 1.0 / (i as f64 + 1.0),
        })
        .collect()
}

#[observe(name = "weather_tool")]
fn weather(city: &str) -> Result<String, ToolError> {
    if city.is_empty() {
        return Err(ToolError("no city given".into()));
    }
    Ok(format!("sunny in {city}"))
}

/// Stands in for a chat-completions call: records the same event an OpenAI client would.
#[observe(capture_args = false)]
fn call_model(prompt: &str) -> String {
    let request = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
    });
    let answer = format!("An answer to: {prompt}");
    if let Some(call) = ProviderCall::start("openai", "chat.completions.create", &request) {
        std::thread::sleep(std::time::Duration::from_millis(2));
        call.finish_ok(&serde_json::json!({
            "id": "chatcmpl-example",
            "model": "gpt-4o-mini",
            "text": answer,
            "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
        }));
    }
    answer
}

#[observe(enh_prompt = true, auto_enhance_after = 10)]
fn answer(question: &str) -> String {
    let docs = retrieve(question, 3);
    let context: Vec<&str> = docs.iter().map(|d| d.title.as_str()).collect();
    let _ = weather(""); // a failing tool call, recorded with its error
    let forecast = weather("Lisbon").unwrap_or_default();
    call_model(&format!(
        "{question}\ncontext: {context:?}\nweather: {forecast}"
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let obs = aiobs::observer();
    obs.observe(
        ObserveOptions::new()
            .session_name("quickstart")
            .label("example", "quickstart"),
    )?;
    for q in ["What is aiobs?", "How do traces nest?"] {
        println!("{q} => {}", answer(q));
    }
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(), // LLM_OBS_OUT decides
        None => FlushOptions::to_path("target/aiobs/quickstart.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples::print_tree(&path)
}
