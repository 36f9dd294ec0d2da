//! OpenAI's Responses API (`POST …/responses`, `responses.create`), streamed or not. The
//! Python SDK 0.1.5 doesn't record it; the event follows its chat events' shape (`request`
//! with the call's parameters, `response` with `id`, `model`, `usage` and `text`), with the
//! Responses API's own names where they differ.

use serde::Serialize;
use serde_json::Value;

use super::super::json::{append, items, string};
use super::super::{EventFields, Exchange, SseEvent, record_answer};
use super::{StreamInfo, error_text};

/// The parameters that lead the recorded request, in this order; the others follow.
const LEADING: [&str; 7] = [
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "temperature",
    "max_output_tokens",
];

/// The events that end a stream.
const TERMINAL: [&str; 3] = [
    "response.completed",
    "response.failed",
    "response.incomplete",
];

pub(super) fn record(exchange: &Exchange<'_>, event: &mut EventFields) {
    record_answer(
        exchange,
        event,
        &LEADING,
        error_text,
        |value| (Response::of(value), failed(value)),
        stream,
    );
}

/// Whether an event ends a stream: `response.completed`, `.failed` or `.incomplete`.
pub(super) fn is_terminal(e: &SseEvent) -> bool {
    TERMINAL.contains(&e.kind())
}

/// The response as recorded.
#[derive(Serialize, Default)]
struct Response {
    id: Option<String>,
    model: Option<String>,
    /// As sent: `input_tokens` (with `input_tokens_details.cached_tokens`), `output_tokens`
    /// (with `output_tokens_details.reasoning_tokens`), `total_tokens`.
    usage: Option<Value>,
    /// The `output_text` parts of the message items, joined.
    text: Option<String>,
    /// `completed`, `incomplete`, `failed`, …
    status: Option<String>,
    /// Every `function_call` output item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<FunctionCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<StreamInfo>,
}

/// A `function_call` output item: the model asks for a tool.
#[derive(Serialize, Default)]
struct FunctionCall {
    id: Option<String>,
    call_id: Option<String>,
    name: Option<String>,
    /// The arguments as the model wrote them (a JSON text).
    arguments: String,
}

impl FunctionCall {
    fn of(item: &Value) -> FunctionCall {
        FunctionCall {
            id: string(item.get("id")),
            call_id: string(item.get("call_id")),
            name: string(item.get("name")),
            arguments: item
                .get("arguments")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }
    }
}

impl Response {
    /// A `response` object, whole.
    fn of(body: &Value) -> Response {
        let mut response = Response {
            id: string(body.get("id")),
            model: string(body.get("model")),
            usage: body.get("usage").filter(|u| !u.is_null()).cloned(),
            status: string(body.get("status")),
            ..Response::default()
        };
        for item in items(body.get("output")) {
            match item.get("type").and_then(Value::as_str) {
                Some("message") => {
                    for part in items(item.get("content"))
                        .filter(|p| p.get("type").and_then(Value::as_str) == Some("output_text"))
                    {
                        append(&mut response.text, part.get("text"));
                    }
                }
                Some("function_call") => response.tool_calls.push(FunctionCall::of(item)),
                _ => {}
            }
        }
        response
    }
}

/// The error of a response that failed: `ResponseFailed: <code>: <message>`.
fn failed(response: &Value) -> Option<String> {
    if response.get("status").and_then(Value::as_str) != Some("failed") {
        return None;
    }
    let error = response.get("error").filter(|e| !e.is_null());
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    Some(match (code, message) {
        (Some(code), Some(message)) => format!("ResponseFailed: {code}: {message}"),
        (_, Some(message)) => format!("ResponseFailed: {message}"),
        _ => "ResponseFailed: the response failed".to_owned(),
    })
}

/// Assembles a stream: the final `response` when the stream delivered it, else what its
/// deltas said (a stream cut half-way); and the error of an `error` event or a failed response.
fn stream(
    events: &[SseEvent],
    transport_finished: bool,
    first_chunk_ms: Option<f64>,
) -> (Response, Option<String>) {
    let mut from_deltas = Response::default();
    // Function calls by output index, as they arrive.
    let mut calls: Vec<(u64, FunctionCall)> = Vec::new();
    let mut last: Option<Value> = None;
    let mut error = None;
    let mut chunks = 0;
    for e in events {
        let Ok(data) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        chunks += 1;
        match data.get("type").and_then(Value::as_str).unwrap_or("") {
            "response.created" | "response.in_progress" => {
                let r = &data["response"];
                from_deltas.id = string(r.get("id")).or(from_deltas.id);
                from_deltas.model = string(r.get("model")).or(from_deltas.model);
                from_deltas.status = string(r.get("status")).or(from_deltas.status);
            }
            "response.output_text.delta" => {
                append(&mut from_deltas.text, data.get("delta"));
            }
            "response.output_item.added" => {
                let item = &data["item"];
                if item.get("type").and_then(Value::as_str) == Some("function_call") {
                    let index = data["output_index"].as_u64().unwrap_or(0);
                    calls.push((index, FunctionCall::of(item)));
                }
            }
            "response.function_call_arguments.delta" => {
                let index = data["output_index"].as_u64().unwrap_or(0);
                if let Some((_, call)) = calls.iter_mut().find(|(i, _)| *i == index)
                    && let Some(delta) = data.get("delta").and_then(Value::as_str)
                {
                    call.arguments.push_str(delta);
                }
            }
            "response.function_call_arguments.done" => {
                let index = data["output_index"].as_u64().unwrap_or(0);
                if let Some((_, call)) = calls.iter_mut().find(|(i, _)| *i == index)
                    && let Some(arguments) = data.get("arguments").and_then(Value::as_str)
                {
                    arguments.clone_into(&mut call.arguments);
                }
            }
            t if TERMINAL.contains(&t) => {
                if let Some(message) = failed(&data["response"]) {
                    error = Some(message);
                }
                last = Some(data["response"].clone());
            }
            "error" => {
                let message = data.get("message").and_then(Value::as_str).unwrap_or("");
                error = Some(match data.get("code").and_then(Value::as_str) {
                    Some(code) => format!("APIError: {code}: {message}"),
                    None => format!("APIError: {message}"),
                });
            }
            _ => {}
        }
    }
    let ended = last.is_some();
    let mut response = match last {
        Some(r) if r.is_object() => Response::of(&r),
        _ => {
            from_deltas.tool_calls = calls.into_iter().map(|(_, call)| call).collect();
            from_deltas
        }
    };
    response.stream = Some(StreamInfo {
        chunks,
        first_chunk_ms,
        finished: transport_finished && ended,
    });
    (response, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: Value) -> SseEvent {
        SseEvent {
            event: Some(name.to_owned()),
            data: data.to_string(),
        }
    }

    #[test]
    fn a_cut_stream_keeps_its_text_and_calls() {
        let events = [
            event(
                "response.created",
                serde_json::json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-4.1", "status": "in_progress"}}),
            ),
            event(
                "response.output_text.delta",
                serde_json::json!({"type": "response.output_text.delta", "output_index": 0, "delta": "Checking"}),
            ),
            event(
                "response.output_item.added",
                serde_json::json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": ""}}),
            ),
            event(
                "response.function_call_arguments.delta",
                serde_json::json!({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{\"city\":"}),
            ),
        ];
        let (r, error) = stream(&events, false, None);
        assert_eq!(error, None);
        let r = serde_json::to_value(r).unwrap();
        assert_eq!(r["id"], "resp_1");
        assert_eq!(r["text"], "Checking");
        assert_eq!(r["tool_calls"][0]["name"], "get_weather");
        assert_eq!(r["tool_calls"][0]["arguments"], "{\"city\":");
        assert_eq!(r["stream"]["finished"], false);
    }
}
