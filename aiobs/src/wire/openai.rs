//! OpenAI's API (and every OpenAI-compatible server): chat completions and embeddings,
//! recorded as the Python SDK's OpenAI provider records them, streams assembled.

use serde::Serialize;
use serde_json::{Map, Value};

use super::json::{Other, append, body_value, items, python_repr, unreadable};
use super::{Body, EventFields, Exchange, HttpRequest, Provider};

mod responses;

/// The built-in OpenAI provider: `POST …/chat/completions` is `chat.completions.create` and
/// `POST …/embeddings` is `embeddings.create`, on any base URL (api.openai.com, Azure OpenAI,
/// vLLM, Ollama's `/v1`, …).
///
/// ```
/// use aiobs::providers::{HttpRequest, OpenAi};
/// use aiobs::Provider;
/// let http = HttpRequest { method: "POST", path: "/v1/chat/completions", query: None };
/// assert_eq!(OpenAi.api(&http).as_deref(), Some("chat.completions.create"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAi;

const CHAT: &str = "chat.completions.create";
const EMBEDDINGS: &str = "embeddings.create";
const RESPONSES: &str = "responses.create";

impl Provider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }

    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        if http.method != "POST" {
            return None;
        }
        let path = http.path.trim_end_matches('/');
        if path.ends_with("/chat/completions") {
            Some(CHAT.to_owned())
        } else if path.ends_with("/embeddings") {
            Some(EMBEDDINGS.to_owned())
        } else if path.ends_with("/responses") {
            Some(RESPONSES.to_owned())
        } else {
            None
        }
    }

    fn stream_complete(&self, api: &str, events: &[super::SseEvent]) -> bool {
        if api == RESPONSES {
            return events.last().is_some_and(responses::is_terminal);
        }
        events.last().is_some_and(|e| e.data.trim() == "[DONE]")
    }

    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        if exchange.api == RESPONSES {
            return responses::record(exchange, event);
        }
        let embeddings = exchange.api == EMBEDDINGS;
        match exchange.request {
            Body::Json { value, keys } => {
                let deployment = azure_deployment(exchange.http.path);
                if embeddings {
                    event.request(&EmbeddingsRequest::new(value, keys, deployment));
                } else {
                    event.request(&ChatRequest::new(value, keys, deployment));
                }
            }
            other => event.request(&body_value(other)),
        }
        if let Some(error) = error_text(exchange) {
            event.error(error);
            return;
        }
        match exchange.response {
            Body::Json { value, .. } if embeddings => embeddings_response(value, event),
            Body::Json { value, .. } => event.response(&chat_response(value)),
            Body::Stream { events, finished } => {
                chat_stream(events, *finished, exchange.first_chunk_ms, event);
            }
            Body::Unreadable(reason) => event.response(&unreadable(reason)),
            Body::Empty => {}
        }
        if let Some(failure) = exchange.failure {
            event.error(failure);
        }
    }
}

/// `…/openai/deployments/{name}/…`: Azure names the model in the path, not the body.
pub(super) fn azure_deployment(path: &str) -> Option<&str> {
    let rest = &path[path.find("/deployments/")? + "/deployments/".len()..];
    rest.split('/').next().filter(|d| !d.is_empty())
}

fn model_of<'a>(body: &'a Value, deployment: Option<&'a str>) -> Option<&'a str> {
    body.get("model").and_then(Value::as_str).or(deployment)
}

/// `ChatCompletionsRequest` of the Python SDK: the first three messages as `{role, content}`,
/// every other field of the body in `other`.
#[derive(Serialize)]
struct ChatRequest<'a> {
    model: Option<&'a str>,
    messages: Option<Vec<Value>>,
    temperature: Option<f64>,
    max_tokens: Option<i64>,
    other: Other<'a>,
}

impl<'a> ChatRequest<'a> {
    fn new(body: &'a Value, keys: &'a [String], deployment: Option<&'a str>) -> Self {
        let messages = body.get("messages").and_then(Value::as_array).map(|m| {
            m.iter()
                .take(3)
                .map(|m| match m.as_object() {
                    Some(o) => {
                        let mut short = Map::new();
                        short.insert("role".into(), o.get("role").cloned().unwrap_or(Value::Null));
                        short.insert(
                            "content".into(),
                            o.get("content").cloned().unwrap_or(Value::Null),
                        );
                        Value::Object(short)
                    }
                    None => m.clone(),
                })
                .collect()
        });
        ChatRequest {
            model: model_of(body, deployment),
            messages,
            temperature: body.get("temperature").and_then(Value::as_f64),
            max_tokens: body.get("max_tokens").and_then(Value::as_i64),
            other: Other {
                value: body,
                keys,
                skip: &["model", "messages", "temperature", "max_tokens"],
            },
        }
    }
}

/// `EmbeddingsRequest` of the Python SDK: a list input cut to its first three items.
#[derive(Serialize)]
struct EmbeddingsRequest<'a> {
    model: Option<&'a str>,
    input: Option<Value>,
    encoding_format: Option<&'a Value>,
    dimensions: Option<&'a Value>,
    user: Option<&'a Value>,
    other: Other<'a>,
}

impl<'a> EmbeddingsRequest<'a> {
    fn new(body: &'a Value, keys: &'a [String], deployment: Option<&'a str>) -> Self {
        let input = body.get("input").map(|i| match i.as_array() {
            Some(items) if items.len() > 3 => Value::Array(items[..3].to_vec()),
            _ => i.clone(),
        });
        EmbeddingsRequest {
            model: model_of(body, deployment),
            input,
            encoding_format: body.get("encoding_format"),
            dimensions: body.get("dimensions"),
            user: body.get("user"),
            other: Other {
                value: body,
                keys,
                skip: &["model", "input", "encoding_format", "dimensions", "user"],
            },
        }
    }
}

/// `usage` as the Python SDK dumps openai's `CompletionUsage`: the declared fields first (null
/// when absent), then any others.
struct Usage<'a>(&'a Value);

impl Serialize for Usage<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const DECLARED: [&str; 5] = [
            "completion_tokens",
            "prompt_tokens",
            "total_tokens",
            "completion_tokens_details",
            "prompt_tokens_details",
        ];
        let Some(obj) = self.0.as_object() else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        for k in DECLARED {
            map.serialize_entry(k, obj.get(k).unwrap_or(&Value::Null))?;
        }
        for (k, v) in obj {
            if !DECLARED.contains(&k.as_str()) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// `ChatCompletionsResponse` of the Python SDK (and, for streams, how the stream went).
#[derive(Serialize)]
struct ChatResponse<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    usage: Option<Usage<'a>>,
    text: Option<String>,
    /// Why the model stopped (`stop`, `tool_calls`, `length`, …): a field the Python SDK
    /// doesn't write.
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a str>,
    /// The tools the model asked to call: a field the Python SDK doesn't write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<StreamInfo>,
}

/// A tool the model asked to call: its id, the function's name, and the arguments as the
/// model wrote them (a JSON text).
#[derive(Serialize, Default)]
pub(crate) struct ToolCall {
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) arguments: String,
}

fn tool_calls_of(message: &Value) -> Vec<ToolCall> {
    items(message.get("tool_calls"))
        .map(|call| ToolCall {
            id: call.get("id").and_then(Value::as_str).map(str::to_owned),
            name: call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            arguments: call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        })
        .collect()
}

/// How a streamed response went: a field the Python SDK doesn't write (it records no stream).
#[derive(Serialize)]
pub(crate) struct StreamInfo {
    pub(crate) chunks: usize,
    pub(crate) first_chunk_ms: Option<f64>,
    pub(crate) finished: bool,
}

fn usage_of(v: &Value) -> Option<Usage<'_>> {
    v.get("usage").filter(|u| !u.is_null()).map(Usage)
}

fn chat_response(body: &Value) -> ChatResponse<'_> {
    let text = body
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(str::to_owned);
    ChatResponse {
        id: body.get("id").and_then(Value::as_str),
        model: body.get("model").and_then(Value::as_str),
        usage: usage_of(body),
        text,
        finish_reason: body
            .pointer("/choices/0/finish_reason")
            .and_then(Value::as_str),
        tool_calls: body
            .pointer("/choices/0/message")
            .map(tool_calls_of)
            .unwrap_or_default(),
        stream: None,
    }
}

/// Assembles `chat.completion.chunk` events into what the call answered.
fn chat_stream(
    events: &[super::SseEvent],
    transport_finished: bool,
    first_chunk_ms: Option<f64>,
    event: &mut EventFields,
) {
    let mut chunks = Vec::new();
    let mut done = false;
    for e in events {
        if e.data.trim() == "[DONE]" {
            done = true;
        } else if let Ok(v) = serde_json::from_str::<Value>(&e.data) {
            chunks.push(v);
        }
    }
    let mut text: Option<String> = None;
    let mut finish_reason = None;
    // Tool calls by their index in the deltas.
    let mut tools: Vec<(u64, ToolCall)> = Vec::new();
    for c in &chunks {
        for choice in items(c.get("choices")) {
            if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
                continue;
            }
            append(&mut text, choice.pointer("/delta/content"));
            for delta in items(choice.pointer("/delta/tool_calls")) {
                let index = delta.get("index").and_then(Value::as_u64).unwrap_or(0);
                let at = match tools.iter().position(|(i, _)| *i == index) {
                    Some(at) => at,
                    None => {
                        tools.push((index, ToolCall::default()));
                        tools.len() - 1
                    }
                };
                let call = &mut tools[at].1;
                if let Some(id) = delta.get("id").and_then(Value::as_str) {
                    call.id = Some(id.to_owned());
                }
                append(&mut call.name, delta.pointer("/function/name"));
                if let Some(args) = delta.pointer("/function/arguments").and_then(Value::as_str) {
                    call.arguments.push_str(args);
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                finish_reason = Some(reason);
            }
        }
    }
    let first = chunks.first();
    let usage = chunks.iter().rev().find_map(usage_of);
    let response = ChatResponse {
        id: first.and_then(|c| c.get("id")).and_then(Value::as_str),
        model: first.and_then(|c| c.get("model")).and_then(Value::as_str),
        usage,
        text,
        finish_reason,
        tool_calls: tools.into_iter().map(|(_, call)| call).collect(),
        stream: Some(StreamInfo {
            chunks: chunks.len(),
            first_chunk_ms,
            finished: transport_finished && (done || finish_reason.is_some()),
        }),
    };
    event.response(&response);
}

/// `EmbeddingsResponse` of the Python SDK: every embedding whole, and its dimension.
fn embeddings_response(body: &Value, event: &mut EventFields) {
    let mut dims: Option<usize> = None;
    let data = body.get("data").and_then(Value::as_array).map(|items| {
        let mut out = Vec::new();
        for item in items {
            let emb = item.get("embedding");
            match emb {
                Some(Value::Array(v)) => {
                    if dims.is_none() && !v.is_empty() {
                        dims = Some(v.len());
                    }
                    let mut d = Map::new();
                    d.insert(
                        "index".into(),
                        item.get("index").cloned().unwrap_or(0.into()),
                    );
                    d.insert("embedding".into(), Value::Array(v.clone()));
                    d.insert(
                        "object".into(),
                        item.get("object").cloned().unwrap_or("embedding".into()),
                    );
                    out.push(Value::Object(d));
                }
                // base64: float32s, 4 bytes each (the Python SDK leaves `data` empty here).
                Some(Value::String(b64)) if dims.is_none() => {
                    let padding = b64.bytes().rev().take_while(|b| *b == b'=').count();
                    dims = Some((b64.len() / 4 * 3).saturating_sub(padding) / 4);
                }
                _ => {}
            }
        }
        out
    });
    #[derive(Serialize)]
    struct EmbeddingsResponse<'a> {
        id: Option<&'a Value>,
        model: Option<&'a Value>,
        usage: Option<&'a Value>,
        object: Option<&'a Value>,
        data: Option<Vec<Value>>,
        embedding_dimensions: Option<usize>,
    }
    event.response(&EmbeddingsResponse {
        id: body.get("id"),
        model: body.get("model"),
        usage: body.get("usage"),
        object: body.get("object"),
        data,
        embedding_dimensions: dims,
    });
}

/// The exception text openai-python raises for an error status:
/// `RateLimitError: Error code: 429 - {'error': {...}}`.
pub(super) fn error_text(exchange: &Exchange<'_>) -> Option<String> {
    status_error(exchange, status_class)
}

/// The exception the Stainless-generated Python SDKs (openai-python, anthropic-python) raise
/// for an error status.
pub(super) fn status_class(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        s if s >= 500 => "InternalServerError",
        _ => "APIStatusError",
    }
}

/// The text of the exception those SDKs raise for an error status, its class named by
/// `class`: `<Class>: Error code: <status> - <the body as Python prints a dict>`.
pub(super) fn status_error(
    exchange: &Exchange<'_>,
    class: fn(u16) -> &'static str,
) -> Option<String> {
    let status = exchange.status.filter(|s| *s >= 400)?;
    let text = String::from_utf8_lossy(exchange.response_raw);
    let message = match python_repr(text.trim().as_bytes()) {
        Some(body) => format!("Error code: {status} - {body}"),
        None if !text.trim().is_empty() => text.trim().to_owned(),
        None => format!("Error code: {status}"),
    };
    Some(format!("{}: {message}", class(status)))
}
