//! Anthropic's Messages API rebuilt: a `message` object, or its event sequence
//! (`message_start`, the content blocks' start, deltas and stop, `message_delta`,
//! `message_stop`; an `error` event where the recorded stream had one).

use serde_json::{Value, json};

use super::error::{self, Shape};
use super::{Recorded, Sse, json, python, some, str_of};
use crate::replay::answer::{Answer, Form};

/// `messages.create`.
pub(super) fn messages(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::Anthropic) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let blocks = content(r);
    let calls = blocks.iter().any(|b| b["type"] == "tool_use");
    let stop_reason = str_of(r, "stop_reason");
    let usage = some(r, "usage")
        .cloned()
        .unwrap_or(json!({"input_tokens": 0, "output_tokens": 0}));
    let message = |content: Value, stop_reason: Option<&str>| {
        json!({
            "id": str_of(r, "id").unwrap_or("msg_replay"),
            "type": "message",
            "role": "assistant",
            "model": str_of(r, "model").unwrap_or(""),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": usage,
        })
    };
    match call.form {
        Form::Whole | Form::JsonArray => match call.error {
            // An error event of the recorded stream: the API's error, whole.
            Some(e) => error::answer(e, Shape::Anthropic),
            None => {
                let reason = stop_reason.unwrap_or(if calls { "tool_use" } else { "end_turn" });
                Ok(json(&message(Value::Array(blocks), Some(reason))))
            }
        },
        Form::Sse => {
            // An error event cut the recorded stream: it ends with that event, not a stop.
            let error_event = match call.error {
                Some(e) => Some(error_event(e)?),
                None => None,
            };
            let mut sse = Sse::default();
            sse.data(
                Some("message_start"),
                &json!({"type": "message_start", "message": message(json!([]), None)}),
            );
            for (index, block) in blocks.iter().enumerate() {
                block_events(&mut sse, index, block);
            }
            match error_event {
                Some(data) => sse.event(Some("error"), &data),
                None => {
                    let reason = stop_reason.unwrap_or(if calls { "tool_use" } else { "end_turn" });
                    sse.data(
                        Some("message_delta"),
                        &json!({
                            "type": "message_delta",
                            "delta": {"stop_reason": reason, "stop_sequence": null},
                            "usage": usage,
                        }),
                    );
                    sse.data(Some("message_stop"), &json!({"type": "message_stop"}));
                }
            }
            Ok(sse.answer())
        }
    }
}

/// The content blocks of a recorded response: thinking, text, then the tool uses (their order
/// among each other is not recorded).
fn content(r: &Value) -> Vec<Value> {
    let mut blocks = Vec::new();
    if let Some(thinking) = str_of(r, "thinking") {
        // The signature is not recorded.
        blocks.push(json!({"type": "thinking", "thinking": thinking, "signature": ""}));
    }
    if let Some(text) = str_of(r, "text") {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for c in super::items(r.get("tool_calls")) {
        blocks.push(json!({
            "type": "tool_use",
            "id": str_of(c, "id").unwrap_or(""),
            "name": str_of(c, "name").unwrap_or(""),
            "input": c.get("input").cloned().unwrap_or(Value::Null),
        }));
    }
    blocks
}

/// A content block's `content_block_start`, its delta and its `content_block_stop`.
fn block_events(sse: &mut Sse, index: usize, block: &Value) {
    let (start, delta) = match block["type"].as_str().unwrap_or("") {
        "thinking" => (
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            json!({"type": "thinking_delta", "thinking": block["thinking"]}),
        ),
        "text" => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": block["text"]}),
        ),
        _ => {
            let input = &block["input"];
            // The input whole as JSON text, or the pieces a cut stream left (a string).
            let (start_input, partial) = match input {
                Value::Null => (Value::Null, None),
                Value::String(s) => (json!({}), Some(s.clone())),
                v => (json!({}), Some(v.to_string())),
            };
            let mut start = block.clone();
            start["input"] = start_input;
            let delta = partial.map(|p| json!({"type": "input_json_delta", "partial_json": p}));
            (start, delta.unwrap_or(Value::Null))
        }
    };
    sse.data(
        Some("content_block_start"),
        &json!({"type": "content_block_start", "index": index, "content_block": start}),
    );
    if !delta.is_null() {
        sse.data(
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }
    sse.data(
        Some("content_block_stop"),
        &json!({"type": "content_block_stop", "index": index}),
    );
}

/// The data of the `error` event a recorded stream error quotes
/// (`OverloadedError: {'type': 'error', 'error': {...}}`), in its key order.
fn error_event(error: &str) -> Result<String, String> {
    if let Some(data) = error
        .split_once(": ")
        .and_then(|(_, body)| python::to_json(body.trim()))
    {
        return Ok(data);
    }
    // Not the quote of an event: the error as the API words one.
    let answer = error::answer(error, Shape::Anthropic)?;
    String::from_utf8(answer.body).map_err(|e| e.to_string())
}
