//! Anthropic's Messages API: `POST …/v1/messages`, streamed or not, with tool use, thinking
//! and the cache's token counts. The Python SDK 0.1.5 records no Anthropic call; the event
//! follows the shape of its OpenAI events (`request` with the call's parameters, `response`
//! with `id`, `model`, `text` and `usage`), with Anthropic's own names where they differ.

use serde::Serialize;
use serde_json::{Map, Value};

use super::json::{append, items, python_repr, string};
use super::openai::{self, StreamInfo};
use super::{EventFields, Exchange, HttpRequest, Provider, SseEvent, record_answer};

/// The built-in Anthropic provider: `POST …/v1/messages` is `messages.create`, on any base URL
/// (api.anthropic.com, a proxy or gateway that keeps the path).
///
/// ```
/// use aiobs::providers::{Anthropic, HttpRequest};
/// use aiobs::Provider;
/// let http = HttpRequest { method: "POST", path: "/v1/messages", query: None };
/// assert_eq!(Anthropic.api(&http).as_deref(), Some("messages.create"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

const MESSAGES: &str = "messages.create";

impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        (http.method == "POST" && http.path.trim_end_matches('/').ends_with("/v1/messages"))
            .then(|| MESSAGES.to_owned())
    }

    fn stream_complete(&self, _api: &str, events: &[SseEvent]) -> bool {
        events.last().is_some_and(|e| e.kind() == "message_stop")
    }

    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        record_answer(
            exchange,
            event,
            &LEADING,
            status_error,
            |value| (message(value), None),
            stream,
        );
    }
}

/// The parameters that lead the recorded request, in this order; the others follow in their
/// order on the wire, under their own names.
const LEADING: [&str; 7] = [
    "model",
    "messages",
    "system",
    "max_tokens",
    "temperature",
    "tools",
    "tool_choice",
];

/// The response as recorded: the Python SDK's fields for an OpenAI chat (`id`, `model`,
/// `usage`, `text`), Anthropic's `stop_reason`, and what the model asked of tools and thought.
#[derive(Serialize, Default)]
struct Response {
    id: Option<String>,
    model: Option<String>,
    /// Anthropic's `usage` as sent: `input_tokens` (without the cache's), `output_tokens`,
    /// `cache_creation_input_tokens`, `cache_read_input_tokens`, …
    usage: Option<Value>,
    /// The text blocks, joined.
    text: Option<String>,
    stop_reason: Option<String>,
    /// Every `tool_use` block: `id`, `name`, `input`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolUse>,
    /// The thinking blocks, joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<StreamInfo>,
}

#[derive(Serialize)]
struct ToolUse {
    id: Option<String>,
    name: Option<String>,
    input: Value,
}

/// A `message` object, whole.
fn message(body: &Value) -> Response {
    let mut response = Response {
        id: string(body.get("id")),
        model: string(body.get("model")),
        usage: body.get("usage").filter(|u| !u.is_null()).cloned(),
        stop_reason: string(body.get("stop_reason")),
        ..Response::default()
    };
    for block in items(body.get("content")) {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => append(&mut response.text, block.get("text")),
            Some("thinking") => append(&mut response.thinking, block.get("thinking")),
            Some("tool_use") => response.tool_calls.push(ToolUse {
                id: string(block.get("id")),
                name: string(block.get("name")),
                input: block.get("input").cloned().unwrap_or(Value::Null),
            }),
            _ => {}
        }
    }
    response
}

/// A content block being streamed.
enum Block {
    Text,
    Thinking,
    /// A `tool_use` block: its id, name, and the input's JSON as it arrives in pieces.
    ToolUse {
        id: Option<String>,
        name: Option<String>,
        json: String,
        start: Value,
    },
    Other,
}

/// Assembles a stream into the response a non-streamed call would have had (and the stream's
/// course), and the error of an `error` event in it.
fn stream(
    events: &[SseEvent],
    transport_finished: bool,
    first_chunk_ms: Option<f64>,
) -> (Response, Option<String>) {
    let mut response = Response::default();
    let mut blocks: Vec<(u64, Block)> = Vec::new();
    let mut usage = Map::new();
    let mut stopped = false;
    let mut error = None;
    let mut chunks = 0;
    for e in events {
        if e.kind() == "ping" {
            continue;
        }
        chunks += 1;
        let Ok(data) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        match data.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                let m = &data["message"];
                response.id = string(m.get("id"));
                response.model = string(m.get("model"));
                if let Some(u) = m.get("usage").and_then(Value::as_object) {
                    usage.extend(u.clone());
                }
            }
            "content_block_start" => {
                let index = data["index"].as_u64().unwrap_or(0);
                let b = &data["content_block"];
                let block = match b["type"].as_str().unwrap_or("") {
                    "text" => {
                        append(&mut response.text, b.get("text"));
                        Block::Text
                    }
                    "thinking" => {
                        append(&mut response.thinking, b.get("thinking"));
                        Block::Thinking
                    }
                    "tool_use" => Block::ToolUse {
                        id: string(b.get("id")),
                        name: string(b.get("name")),
                        json: String::new(),
                        start: b.get("input").cloned().unwrap_or(Value::Null),
                    },
                    _ => Block::Other,
                };
                blocks.push((index, block));
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().unwrap_or(0);
                let delta = &data["delta"];
                let block = blocks.iter_mut().rev().find(|(i, _)| *i == index);
                match (block.map(|(_, b)| b), delta["type"].as_str().unwrap_or("")) {
                    (Some(Block::Text), "text_delta") => {
                        append(&mut response.text, delta.get("text"))
                    }
                    (Some(Block::Thinking), "thinking_delta") => {
                        append(&mut response.thinking, delta.get("thinking"));
                    }
                    (Some(Block::ToolUse { json, .. }), "input_json_delta") => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or(""));
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = data["delta"]["stop_reason"].as_str() {
                    response.stop_reason = Some(reason.to_owned());
                }
                if let Some(u) = data.get("usage").and_then(Value::as_object) {
                    // The counts so far: later ones replace the start's.
                    for (k, v) in u {
                        if !v.is_null() {
                            usage.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            "message_stop" => stopped = true,
            "error" => error = Some(stream_error(&e.data, &data)),
            _ => {}
        }
    }
    for (_, block) in blocks {
        if let Block::ToolUse {
            id,
            name,
            json,
            start,
        } = block
        {
            // The input whole once its pieces parse; a stream cut half-way keeps what came.
            let input = match serde_json::from_str::<Value>(&json) {
                Ok(v) => v,
                Err(_) if json.is_empty() => start,
                Err(_) => Value::String(json),
            };
            response.tool_calls.push(ToolUse { id, name, input });
        }
    }
    response.usage = (!usage.is_empty()).then_some(Value::Object(usage));
    response.stream = Some(StreamInfo {
        chunks,
        first_chunk_ms,
        finished: transport_finished && stopped,
    });
    (response, error)
}

/// The exception anthropic-python raises for an error status:
/// `OverloadedError: Error code: 529 - {'type': 'error', 'error': {...}}`.
fn status_error(exchange: &Exchange<'_>) -> Option<String> {
    openai::status_error(exchange, |status| match status {
        413 => "RequestTooLargeError",
        529 => "OverloadedError",
        other => openai::status_class(other),
    })
}

/// An `error` event in a stream (the API overloaded half-way, say): the class its
/// `error.type` maps to, and the event's data.
fn stream_error(raw: &str, data: &Value) -> String {
    let class = match data["error"]["type"].as_str().unwrap_or("") {
        "invalid_request_error" => "BadRequestError",
        "authentication_error" => "AuthenticationError",
        "permission_error" => "PermissionDeniedError",
        "not_found_error" => "NotFoundError",
        "request_too_large" => "RequestTooLargeError",
        "rate_limit_error" => "RateLimitError",
        "overloaded_error" => "OverloadedError",
        "api_error" => "InternalServerError",
        _ => "APIError",
    };
    let body = python_repr(raw.trim().as_bytes()).unwrap_or_else(|| raw.trim().to_owned());
    format!("{class}: {body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(text: &str) -> Vec<SseEvent> {
        text.split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| {
                let mut event = None;
                let mut data = String::new();
                for line in e.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = Some(name.to_owned());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                SseEvent { event, data }
            })
            .collect()
    }

    #[test]
    fn routes_only_the_messages_endpoint() {
        let api = |method, path| {
            Anthropic.api(&HttpRequest {
                method,
                path,
                query: None,
            })
        };
        assert_eq!(api("POST", "/v1/messages").as_deref(), Some(MESSAGES));
        assert_eq!(
            api("POST", "/gateway/anthropic/v1/messages/").as_deref(),
            Some(MESSAGES)
        );
        assert_eq!(api("GET", "/v1/messages"), None);
        assert_eq!(api("POST", "/v1/threads/t1/messages"), None);
        assert_eq!(api("POST", "/v1/messages/count_tokens"), None);
    }

    #[test]
    fn a_tool_use_stream_is_assembled() {
        let events = sse(concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Let me look.\"}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"tu1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":30}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ));
        let (r, error) = stream(&events, true, Some(1.0));
        assert_eq!(error, None);
        let r = serde_json::to_value(r).unwrap();
        assert_eq!(r["text"], "Let me look.");
        assert_eq!(r["stop_reason"], "tool_use");
        assert_eq!(
            r["tool_calls"],
            serde_json::json!([{"id": "tu1", "name": "get_weather", "input": {"city": "Paris"}}])
        );
        assert_eq!(
            r["usage"],
            serde_json::json!({"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 30})
        );
        assert_eq!(r["stream"]["finished"], true);
        assert_eq!(r["stream"]["chunks"], 8);
    }

    #[test]
    fn an_error_event_is_the_call_s_error() {
        let events = sse(concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":5}}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        ));
        let (r, error) = stream(&events, true, None);
        assert_eq!(
            error.as_deref(),
            Some(
                "OverloadedError: {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}"
            )
        );
        assert_eq!(r.stream.map(|s| s.finished), Some(false));
    }
}
