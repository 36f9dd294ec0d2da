//! An async agent with tools, recorded end to end: the example to run after the quickstart.
//!
//! `run_agent` loops: it calls the model (async-openai through aiobs's `ReqwestMiddleware`,
//! `examples_integrations::openai_client`, so every call is an OpenAI provider event), runs the tool calls the
//! model returns (each on its own tokio task, kept in the trace with `in_current_span`), sends
//! the results back, and stops at the model's text answer. The `get_weather` tool nests calls of
//! its own, two of them concurrent (`futures::join!`), and one of those fails: the trace keeps
//! its error while the tool still answers. The model is a mock OpenAI server on loopback that
//! the example starts itself (no network, no API key): it asks for `get_weather` while the last
//! message is the user's, and answers with text once a tool result comes back.
//!
//! ```sh
//! cargo run -p examples-integrations --example agent
//! ```
//!
//! It prints the agent's answer, then the trace tree from the flushed JSON
//! (`target/aiobs/agent.json`, or the path `LLM_OBS_OUT` names): `run_agent` above two model
//! calls and the tool calls between them, with durations, results and the error.

use aiobs::{FlushOptions, FutureExt, ObserveOptions, observe};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessageArgs,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestToolMessageArgs, ChatCompletionRequestUserMessageArgs,
    ChatCompletionResponseMessage, ChatCompletionTool, ChatCompletionTools,
    CreateChatCompletionRequestArgs, FunctionObjectArgs,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The most model calls one question may take before the agent gives up.
const MAX_TURNS: usize = 4;

// ---- The tools -------------------------------------------------------------------------------

#[derive(Debug)]
struct ToolError(String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool failed: {}", self.0)
    }
}
impl std::error::Error for ToolError {}

#[derive(Debug, Clone, Copy, Serialize)]
struct Coordinates {
    lat: f64,
    lon: f64,
}

#[derive(Debug, Serialize)]
struct Doc {
    title: String,
    score: f64,
}

/// A nested, synchronous step of `get_weather`.
#[observe]
fn geocode(city: &str) -> Result<Coordinates, ToolError> {
    match city {
        "Paris" => Ok(Coordinates {
            lat: 48.857,
            lon: 2.352,
        }),
        "Lisbon" => Ok(Coordinates {
            lat: 38.722,
            lon: -9.139,
        }),
        other => Err(ToolError(format!("unknown city {other:?}"))),
    }
}

#[observe]
async fn forecast(at: Coordinates) -> String {
    tokio::task::yield_now().await; // stands in for an HTTP call
    format!("18°C and sunny at ({:.2}, {:.2})", at.lat, at.lon)
}

/// Always fails: its error is recorded on its node, and `get_weather` answers without it.
#[observe]
async fn air_quality(at: Coordinates) -> Result<u32, ToolError> {
    tokio::task::yield_now().await;
    Err(ToolError(format!(
        "air-quality service unavailable for ({:.2}, {:.2})",
        at.lat, at.lon
    )))
}

/// Tool: the weather in a city. Looks the city up, then asks two services at once.
#[observe]
async fn get_weather(city: &str) -> Result<String, ToolError> {
    let at = geocode(city)?;
    let (sky, air) = futures::join!(forecast(at), air_quality(at));
    Ok(match air {
        Ok(index) => format!("{city}: {sky}, air quality index {index}"),
        Err(_) => format!("{city}: {sky} (air quality unknown)"),
    })
}

/// Tool: the `top_k` best documentation pages for a query.
#[observe]
fn search_docs(query: &str, top_k: usize) -> Vec<Doc> {
    (0..top_k)
        .map(|i| Doc {
            title: format!("{query} — page {i}"),
            score: 1.0 / (i as f64 + 1.0),
        })
        .collect()
}

#[derive(Deserialize)]
struct WeatherArgs {
    city: String,
}

#[derive(Deserialize)]
struct SearchArgs {
    query: String,
    #[serde(default = "default_top_k")]
    top_k: usize,
}

fn default_top_k() -> usize {
    3
}

/// Runs one tool call the model asked for; its JSON arguments are parsed here.
#[observe]
async fn run_tool(name: String, arguments: String) -> Result<String, ToolError> {
    let bad_args = |e: serde_json::Error| ToolError(format!("bad arguments for {name}: {e}"));
    match name.as_str() {
        "get_weather" => {
            let args: WeatherArgs = serde_json::from_str(&arguments).map_err(bad_args)?;
            get_weather(&args.city).await
        }
        "search_docs" => {
            let args: SearchArgs = serde_json::from_str(&arguments).map_err(bad_args)?;
            let docs = search_docs(&args.query, args.top_k);
            Ok(serde_json::to_string(&docs).unwrap_or_default())
        }
        other => Err(ToolError(format!("no tool named {other:?}"))),
    }
}

/// The tools as the model sees them.
fn tool_specs() -> Result<Vec<ChatCompletionTools>, OpenAIError> {
    let function = |name: &str, description: &str, parameters: serde_json::Value| {
        FunctionObjectArgs::default()
            .name(name)
            .description(description)
            .parameters(parameters)
            .build()
            .map(|function| ChatCompletionTools::Function(ChatCompletionTool { function }))
    };
    Ok(vec![
        function(
            "get_weather",
            "The current weather in a city.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )?,
        function(
            "search_docs",
            "Search the aiobs documentation.",
            json!({"type": "object", "properties": {
                "query": {"type": "string"}, "top_k": {"type": "integer"}}, "required": ["query"]}),
        )?,
    ])
}

// ---- The agent -------------------------------------------------------------------------------

/// One model turn: the conversation so far, with the tools on offer.
#[observe(skip(client, tools))]
async fn call_model(
    client: &examples_integrations::OpenAi,
    messages: &[ChatCompletionRequestMessage],
    tools: &[ChatCompletionTools],
) -> Result<ChatCompletionResponseMessage, OpenAIError> {
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages(messages.to_vec())
        .tools(tools.to_vec())
        .build()?;
    let mut response = client.chat().create(request).await?;
    match response.choices.pop() {
        Some(choice) => Ok(choice.message),
        None => Err(OpenAIError::InvalidArgument(
            "no choice in the answer".into(),
        )),
    }
}

#[observe(skip(client))]
async fn run_agent(
    client: &examples_integrations::OpenAi,
    question: &str,
) -> Result<String, OpenAIError> {
    let tools = tool_specs()?;
    // Ground the conversation in the docs before the first turn.
    let docs = search_docs(question, 2);
    let context: Vec<&str> = docs.iter().map(|d| d.title.as_str()).collect();
    let mut messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessageArgs::default()
            .content(format!("You answer with tools. Context: {context:?}"))
            .build()?
            .into(),
        ChatCompletionRequestUserMessageArgs::default()
            .content(question)
            .build()?
            .into(),
    ];
    for _ in 0..MAX_TURNS {
        let reply = call_model(client, &messages, &tools).await?;
        let calls = reply.tool_calls.unwrap_or_default();
        if calls.is_empty() {
            return Ok(reply.content.unwrap_or_default());
        }
        messages.push(
            ChatCompletionRequestAssistantMessageArgs::default()
                .tool_calls(calls.clone())
                .build()?
                .into(),
        );
        // Each tool call on its own task, all at once; `in_current_span` keeps them under
        // `run_agent` in the trace.
        let tasks: Vec<_> = calls
            .into_iter()
            .filter_map(|call| match call {
                ChatCompletionMessageToolCalls::Function(call) => Some(call),
                ChatCompletionMessageToolCalls::Custom(_) => None,
            })
            .map(|call| {
                let task = run_tool(call.function.name, call.function.arguments);
                (call.id, tokio::spawn(task.in_current_span()))
            })
            .collect();
        for (id, task) in tasks {
            let output = match task.await {
                Ok(Ok(output)) => output,
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("tool task failed: {e}"),
            };
            messages.push(
                ChatCompletionRequestToolMessageArgs::default()
                    .tool_call_id(id)
                    .content(output)
                    .build()?
                    .into(),
            );
        }
    }
    Err(OpenAIError::InvalidArgument(format!(
        "no answer after {MAX_TURNS} model calls"
    )))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_llm::MockServer::start()?;
    let obs = aiobs::observer();
    obs.observe(
        ObserveOptions::new()
            .session_name("agent")
            .label("example", "agent"),
    )?;
    let client = examples_integrations::openai_client(format!("{}/v1", server.url()));
    let question = "What's the weather in Paris?";
    // The mock model's final answer is always "Hello from the mock.".
    let answer = run_agent(&client, question).await?;
    println!("{question} => {answer}");
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(), // LLM_OBS_OUT decides
        None => FlushOptions::to_path("target/aiobs/agent.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples_integrations::print_tree(&path)
}
