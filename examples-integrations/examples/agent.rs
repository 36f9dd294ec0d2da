//! An async agent with tools, recorded end to end, then replayed offline: the example to run
//! after the quickstart.
//!
//! `run_agent` loops: it calls the model (async-openai through aiobs's `ReqwestMiddleware`, so
//! every call is an OpenAI provider event), runs the
//! tool calls the model returns (each on its own tokio task, kept in the trace with
//! `in_current_span`), sends the results back, and stops at the model's text answer. Its first
//! call goes to a rate-limited primary model: the 429 is recorded on that `call_model` and the
//! agent falls back to `gpt-4o-mini`. The `get_weather` tool nests calls of its own, two of them
//! concurrent (`futures::join!`), and one of those fails: the trace keeps its error while the
//! tool still answers. Then `summarise` streams a one-line summary of the answer
//! (`create_stream`, the deltas joined). The model is a mock OpenAI server on loopback that the
//! example starts itself (no network, no API key): it answers any model named `...error-429`
//! with OpenAI's 429, asks for `get_weather` while the last message is the user's, answers with
//! text once a tool result comes back, and streams when asked to. The agent handles the 429
//! itself, so its client has no retry layer: async-openai's `with_http_service` with aiobs's
//! `providers::async_openai::HttpService`, where `providers::async_openai::client` would retry
//! the 429 as async-openai's own client does.
//!
//! ```sh
//! cargo run -p examples-integrations --example agent
//! cargo run -p examples-integrations --example agent -- --replay target/aiobs/agent.json
//! cargo run -p examples-integrations --example agent -- --replay --http ureq
//! ```
//!
//! It prints the agent's answer and the summary, then the trace tree from the flushed JSON
//! (`target/aiobs/agent.json`, or the path `LLM_OBS_OUT` names): `run_agent` above three
//! model calls (the rate-limited one with its error) and the tool calls between them, then
//! `summarise` above the streamed call, with durations, results and errors.
//!
//! `--replay [FILE]` runs the same program without the mock server: every model call is answered
//! from FILE (a trace the example wrote before; `target/aiobs/agent.json` by default) by
//! `aiobs::replay::Cassette`, strict (every recorded call must be asked for again), and the
//! base URL points where nothing listens. The answers, the stream and the 429 come back as
//! recorded; the replayed trace (`target/aiobs/agent-replayed.json`, or `LLM_OBS_OUT`) has the
//! same tree, its LLM calls marked `"replayed": true`. `--http ureq` sends async-openai's
//! requests through a ureq agent carrying `UreqMiddleware` instead
//! (`examples_integrations::openai_client_ureq`), recording or replaying.

use std::error::Error;
use std::path::PathBuf;

use aiobs::providers::async_openai::HttpService;
use aiobs::providers::{ReqwestMiddleware, UreqMiddleware};
use aiobs::replay::Cassette;
use aiobs::{FlushOptions, FutureExt, ObserveOptions, observe};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessageArgs,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestToolMessageArgs, ChatCompletionRequestUserMessageArgs,
    ChatCompletionResponseMessage, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequestArgs, FunctionObjectArgs,
};
use examples_integrations::OpenAi;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The question the agent is asked.
pub const QUESTION: &str = "What's the weather in Paris?";

/// The model asked first: a rate-limited primary (the mock answers any model whose name holds
/// `error-429` with OpenAI's 429 `rate_limit_exceeded`).
const PRIMARY_MODEL: &str = "gpt-4o-mini-error-429";

/// The model the agent falls back to when the primary is rate-limited, and that summarises.
const FALLBACK_MODEL: &str = "gpt-4o-mini";

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
    client: &OpenAi,
    model: &str,
    messages: &[ChatCompletionRequestMessage],
    tools: &[ChatCompletionTools],
) -> Result<ChatCompletionResponseMessage, OpenAIError> {
    let request = CreateChatCompletionRequestArgs::default()
        .model(model)
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

/// Whether the API said 429: too many requests for that model.
fn is_rate_limited(e: &OpenAIError) -> bool {
    matches!(e, OpenAIError::ApiError(e) if e.status_code.as_u16() == 429)
}

#[observe(skip(client))]
async fn run_agent(client: &OpenAi, question: &str) -> Result<String, OpenAIError> {
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
    let mut model = PRIMARY_MODEL;
    for _ in 0..MAX_TURNS {
        let reply = match call_model(client, model, &messages, &tools).await {
            Ok(reply) => reply,
            // The primary is rate-limited: ask the fallback the same turn again.
            Err(e) if is_rate_limited(&e) && model != FALLBACK_MODEL => {
                model = FALLBACK_MODEL;
                continue;
            }
            Err(e) => return Err(e),
        };
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

/// A one-line summary of the answer, streamed: the text deltas joined as they come.
#[observe(skip(client))]
async fn summarise(client: &OpenAi, answer: &str) -> Result<String, OpenAIError> {
    let request = CreateChatCompletionRequestArgs::default()
        .model(FALLBACK_MODEL)
        .messages([
            ChatCompletionRequestSystemMessageArgs::default()
                .content("Summarise the answer in one line.")
                .build()?
                .into(),
            ChatCompletionRequestUserMessageArgs::default()
                .content(answer)
                .build()?
                .into(),
        ])
        // The last chunk carries the token counts.
        .stream_options(ChatCompletionStreamOptions {
            include_usage: Some(true),
            ..Default::default()
        })
        .build()?;
    let mut chunks = client.chat().create_stream(request).await?;
    let mut summary = String::new();
    while let Some(chunk) = chunks.next().await {
        for choice in chunk?.choices {
            summary.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    Ok(summary)
}

// ---- Running it: recorded against the mock, or replayed from a trace --------------------------

/// The HTTP client under async-openai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Http {
    /// reqwest with `ReqwestMiddleware` (`aiobs::providers::async_openai::HttpService`).
    #[default]
    Reqwest,
    /// A ureq agent with `UreqMiddleware` (`examples_integrations::openai_client_ureq`).
    Ureq,
}

/// How to run the agent: the command line's `[--replay [FILE]] [--http reqwest|ureq]`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Answer the model calls from this trace instead of the mock server.
    pub replay: Option<PathBuf>,
    pub http: Http,
    /// Where to write the trace; else `LLM_OBS_OUT`, else `target/aiobs/agent.json` (or
    /// `agent-replayed.json` when replaying).
    pub out: Option<PathBuf>,
}

impl Options {
    /// The options of a command line (the arguments after the program's name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let usage = "usage: agent [--replay [FILE]] [--http reqwest|ureq]";
        let mut options = Options::default();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--replay" => {
                    let file = args.next_if(|a| !a.starts_with("--"));
                    options.replay = Some(
                        file.unwrap_or_else(|| "target/aiobs/agent.json".into())
                            .into(),
                    );
                }
                "--http" => {
                    options.http = match args.next().as_deref() {
                        Some("reqwest") => Http::Reqwest,
                        Some("ureq") => Http::Ureq,
                        _ => return Err(format!("--http takes reqwest or ureq; {usage}")),
                    }
                }
                other => return Err(format!("unknown argument {other:?}; {usage}")),
            }
        }
        Ok(options)
    }
}

/// What a run printed, and the trace it wrote.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: String,
    pub summary: String,
    pub trace: PathBuf,
}

/// Runs the agent in a session of the current collector (`aiobs::observer()` unless a scope
/// set another) and flushes it.
pub async fn run(options: &Options) -> Result<Outcome, Box<dyn Error>> {
    // Recording: the mock model on loopback, for the length of the run. Replaying: the
    // cassette answers, and nothing listens at the base URL (port 9, discard).
    let (server, api_base, cassette) = match &options.replay {
        None => {
            let server = mock_llm::MockServer::start()?;
            let base = format!("{}/v1", server.url());
            (Some(server), base, None)
        }
        Some(file) => {
            let cassette = Cassette::load(file)?.strict();
            (None, "http://127.0.0.1:9/v1".to_owned(), Some(cassette))
        }
    };
    // No retries: on a 429 the agent falls back to another model itself.
    let reqwest = |middleware: ReqwestMiddleware| {
        OpenAi::with_config(examples_integrations::openai_config(api_base.clone()))
            .with_http_service(HttpService::new(middleware.client()))
    };
    let client = match (options.http, cassette) {
        (Http::Reqwest, None) => reqwest(ReqwestMiddleware::new()),
        (Http::Reqwest, Some(cassette)) => reqwest(ReqwestMiddleware::replay(cassette)),
        (Http::Ureq, None) => {
            examples_integrations::openai_client_ureq(api_base, UreqMiddleware::new())
        }
        (Http::Ureq, Some(cassette)) => {
            examples_integrations::openai_client_ureq(api_base, UreqMiddleware::replay(cassette))
        }
    };

    let obs = aiobs::Collector::current();
    obs.observe(
        ObserveOptions::new()
            .session_name("agent")
            .label("example", "agent"),
    )?;
    // The mock model's final answer, and its stream, are always "Hello from the mock.".
    let answer = run_agent(&client, QUESTION).await?;
    let summary = summarise(&client, &answer).await?;
    obs.end();
    // Replaying, the cassette goes with the client: strict, it panics here if a recorded call
    // was never asked for.
    drop(client);
    drop(server);

    let flush = match (&options.out, std::env::var_os("LLM_OBS_OUT")) {
        (Some(path), _) => FlushOptions::to_path(path),
        (None, Some(_)) => FlushOptions::new(), // LLM_OBS_OUT decides
        (None, None) if options.replay.is_some() => {
            FlushOptions::to_path("target/aiobs/agent-replayed.json")
        }
        (None, None) => FlushOptions::to_path("target/aiobs/agent.json"),
    };
    let trace = obs.flush(flush)?;
    Ok(Outcome {
        answer,
        summary,
        trace,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let outcome = run(&options).await?;
    println!("{QUESTION} => {}", outcome.answer);
    println!("summary: {}", outcome.summary);
    println!();
    examples_integrations::print_tree(&outcome.trace)
}
