//! OpenAI's answers rebuilt: chat completions (whole, or `chat.completion.chunk` events
//! ending `data: [DONE]`), embeddings, and the Responses API (a `response` object, or its
//! event sequence).

use serde_json::{Map, Value, json};

use super::error::{self, Shape};
use super::{Recorded, Sse, json, some, str_of};
use crate::replay::answer::{Answer, Form};

/// The `created` of a rebuilt answer: the recorder doesn't keep it.
const CREATED: u64 = 0;

/// `chat.completions.create`.
pub(super) fn chat(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::OpenAi) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if let Some(e) = call.error {
        // The recorder writes an error beside a response only for a transport failure.
        return Err(format!("the recorded error can't be answered: {e}"));
    }
    let id = str_of(r, "id").unwrap_or("chatcmpl-replay");
    let model = str_of(r, "model").unwrap_or("");
    let text = str_of(r, "text");
    let calls: Vec<&Value> = super::items(r.get("tool_calls")).collect();
    // The Python SDK records no finish reason: a call that answered stopped, or asked for tools.
    let finish_reason = str_of(r, "finish_reason").unwrap_or(if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    });
    let usage = some(r, "usage");
    let tool_call = |c: &Value| {
        json!({
            "id": str_of(c, "id").unwrap_or(""),
            "type": "function",
            "function": {
                "name": str_of(c, "name").unwrap_or(""),
                "arguments": str_of(c, "arguments").unwrap_or(""),
            },
        })
    };
    match call.form {
        Form::Whole | Form::JsonArray => {
            // As OpenAI writes a message today: `annotations` (URL citations) always there.
            let mut message = json!({
                "role": "assistant",
                "content": text,
                "refusal": null,
                "annotations": [],
            });
            if !calls.is_empty() {
                message["tool_calls"] = calls.iter().map(|c| tool_call(c)).collect();
            }
            let mut body = json!({
                "id": id,
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": message,
                    "logprobs": null,
                    "finish_reason": finish_reason,
                }],
            });
            if let Some(usage) = usage {
                body["usage"] = usage.clone();
            }
            Ok(json(&body))
        }
        Form::Sse => {
            let chunk = |choices: Value| {
                json!({
                    "id": id,
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": model,
                    "choices": choices,
                })
            };
            let delta = |delta: Value, finish: Option<&str>| {
                chunk(
                    json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]),
                )
            };
            let mut sse = Sse::default();
            sse.data(
                None,
                &delta(json!({"role": "assistant", "content": text}), None),
            );
            for (index, c) in calls.iter().enumerate() {
                let mut d = tool_call(c);
                d["index"] = index.into();
                if c.get("name").is_none_or(Value::is_null) {
                    d["function"].as_object_mut().map(|f| f.remove("name"));
                }
                if c.get("id").is_none_or(Value::is_null) {
                    d.as_object_mut().map(|f| f.remove("id"));
                }
                sse.data(None, &delta(json!({"tool_calls": [d]}), None));
            }
            sse.data(None, &delta(json!({}), Some(finish_reason)));
            if let Some(usage) = usage {
                let mut last = chunk(json!([]));
                last["usage"] = usage.clone();
                sse.data(None, &last);
            }
            sse.event(None, "[DONE]");
            Ok(sse.answer())
        }
    }
}

/// `embeddings.create`: the embeddings as recorded; those sent in base64 (which the recorder
/// keeps only the dimension of) as zeros of that dimension, one per input.
pub(super) fn embeddings(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::OpenAi) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if let Some(e) = call.error {
        return Err(format!("the recorded error can't be answered: {e}"));
    }
    let mut data: Vec<Value> = super::items(r.get("data")).cloned().collect();
    let dims = r.get("embedding_dimensions").and_then(Value::as_u64);
    if data.is_empty()
        && let Some(dims) = dims
    {
        let inputs = match call.request.get("input") {
            Some(Value::Array(items)) if !items.is_empty() => items.len(),
            _ => 1,
        };
        let zeros = usize::try_from(dims)
            .ok()
            .and_then(|d| d.checked_mul(4))
            .filter(|n| *n <= 1 << 26)
            .ok_or("the recorded embedding dimension is too large")?;
        let encoded = zeros_base64(zeros);
        data = (0..inputs)
            .map(|i| json!({"object": "embedding", "index": i, "embedding": encoded}))
            .collect();
    }
    let mut body = Map::new();
    if let Some(id) = some(r, "id") {
        body.insert("id".into(), id.clone());
    }
    body.insert(
        "object".into(),
        some(r, "object").cloned().unwrap_or("list".into()),
    );
    body.insert("data".into(), Value::Array(data));
    body.insert(
        "model".into(),
        some(r, "model").cloned().unwrap_or("".into()),
    );
    body.insert(
        "usage".into(),
        some(r, "usage")
            .cloned()
            .unwrap_or(json!({"prompt_tokens": 0, "total_tokens": 0})),
    );
    Ok(json(&Value::Object(body)))
}

/// The base64 of `n` zero bytes.
fn zeros_base64(n: usize) -> String {
    let mut out = "AAAA".repeat(n / 3);
    out.push_str(match n % 3 {
        1 => "AA==",
        2 => "AAA=",
        _ => "",
    });
    out
}

/// `responses.create`: a `response` object, or the events of its stream.
pub(super) fn responses(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::OpenAi) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    // What the recorder writes beside a response: a failed response's error, or an `error`
    // event of the stream.
    let failed = call.error.and_then(|e| e.strip_prefix("ResponseFailed: "));
    let event_error = call.error.and_then(|e| e.strip_prefix("APIError: "));
    if let Some(e) = call.error
        && failed.is_none()
        && event_error.is_none()
    {
        return Err(format!("the recorded error can't be answered: {e}"));
    }
    let items = output_items(r);
    let mut done = response_object(r, items.clone());
    if let Some(failed) = failed {
        done["status"] = "failed".into();
        done["error"] = failed_error(failed);
    }
    match call.form {
        Form::Whole | Form::JsonArray => match event_error {
            // An error event cut the stream: the API's error (no response to give).
            Some(_) => error::answer(call.error.unwrap_or_default(), Shape::OpenAi),
            None => Ok(json(&done)),
        },
        Form::Sse => Ok(responses_stream(r, &items, done, event_error)),
    }
}

/// The output items of a recorded response: a message with its text, then the function calls.
fn output_items(r: &Value) -> Vec<Value> {
    let mut items = Vec::new();
    if let Some(text) = str_of(r, "text") {
        items.push(json!({
            "id": "msg_replay",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }));
    }
    for c in super::items(r.get("tool_calls")) {
        items.push(json!({
            "id": c.get("id").cloned().unwrap_or(Value::Null),
            "type": "function_call",
            "status": "completed",
            "arguments": str_of(c, "arguments").unwrap_or(""),
            "call_id": c.get("call_id").cloned().unwrap_or(Value::Null),
            "name": c.get("name").cloned().unwrap_or(Value::Null),
        }));
    }
    items
}

/// A `response` object of the recorded fields (and constants for the rest the clients read).
fn response_object(r: &Value, output: Vec<Value>) -> Value {
    json!({
        "id": str_of(r, "id").unwrap_or("resp_replay"),
        "object": "response",
        "created_at": CREATED,
        "status": str_of(r, "status").unwrap_or("completed"),
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "model": str_of(r, "model").unwrap_or(""),
        "output": output,
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "usage": some(r, "usage").cloned(),
        "metadata": {},
    })
}

/// The `error` of a failed response from `<code>: <message>` (or `<message>`, or the
/// recorder's words for a failure that said nothing).
fn failed_error(text: &str) -> Value {
    if text == "the response failed" {
        return Value::Null;
    }
    let code_like = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    match text.split_once(": ") {
        Some((code, message)) if code_like(code) => json!({"code": code, "message": message}),
        _ => json!({"code": null, "message": text}),
    }
}

/// The events of a Responses stream: `response.created`, `response.in_progress`, each output
/// item added, its deltas and done, then `response.completed` (`.failed`, `.incomplete` by
/// the status) — or, when an `error` event cut the recorded stream, that event instead.
fn responses_stream(r: &Value, items: &[Value], done: Value, event_error: Option<&str>) -> Answer {
    let mut sse = Sse::default();
    let mut seq = 0u64;
    let mut emit = |sse: &mut Sse, mut data: Value| {
        let kind = data["type"].as_str().unwrap_or("").to_owned();
        data["sequence_number"] = seq.into();
        seq += 1;
        sse.data(Some(&kind), &data);
    };
    let mut started = response_object(r, Vec::new());
    started["status"] = match event_error {
        // A cut stream records the status its last `response.created` said.
        Some(_) => str_of(r, "status").unwrap_or("in_progress").into(),
        None => "in_progress".into(),
    };
    started["usage"] = Value::Null;
    emit(
        &mut sse,
        json!({"type": "response.created", "response": started.clone()}),
    );
    emit(
        &mut sse,
        json!({"type": "response.in_progress", "response": started}),
    );
    for (index, item) in items.iter().enumerate() {
        let item_id = item["id"].clone();
        let mut added = item.clone();
        added["status"] = "in_progress".into();
        if item["type"] == "message" {
            added["content"] = json!([]);
        } else {
            added["arguments"] = "".into();
        }
        emit(
            &mut sse,
            json!({"type": "response.output_item.added", "output_index": index, "item": added}),
        );
        if item["type"] == "message" {
            let text = item["content"][0]["text"].as_str().unwrap_or("");
            let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
            let at = json!({"item_id": item_id, "output_index": index, "content_index": 0});
            let with = |kind: &str, extra: Value| {
                let mut v = at.clone();
                v["type"] = kind.into();
                if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
                    v.extend(extra.clone());
                }
                v
            };
            emit(
                &mut sse,
                with("response.content_part.added", json!({"part": part("")})),
            );
            emit(
                &mut sse,
                with("response.output_text.delta", json!({"delta": text})),
            );
            emit(
                &mut sse,
                with("response.output_text.done", json!({"text": text})),
            );
            emit(
                &mut sse,
                with("response.content_part.done", json!({"part": part(text)})),
            );
        } else {
            let arguments = item["arguments"].clone();
            emit(
                &mut sse,
                json!({"type": "response.function_call_arguments.delta", "item_id": item_id, "output_index": index, "delta": arguments}),
            );
            emit(
                &mut sse,
                json!({"type": "response.function_call_arguments.done", "item_id": item_id, "output_index": index, "arguments": arguments}),
            );
        }
        emit(
            &mut sse,
            json!({"type": "response.output_item.done", "output_index": index, "item": item}),
        );
    }
    match event_error {
        Some(text) => {
            let (code, message) = match text.split_once(": ") {
                Some((code, message)) if !code.contains(' ') => (Value::from(code), message),
                _ => (Value::Null, text),
            };
            emit(
                &mut sse,
                json!({"type": "error", "code": code, "message": message, "param": null}),
            );
        }
        None => {
            let kind = match done["status"].as_str() {
                Some("failed") => "response.failed",
                Some("incomplete") => "response.incomplete",
                _ => "response.completed",
            };
            emit(&mut sse, json!({"type": kind, "response": done}));
        }
    }
    sse.answer()
}
