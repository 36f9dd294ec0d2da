//! Gemini's answers rebuilt: a `GenerateContentResponse` (whole, as one `data:` chunk of an
//! SSE stream, or as a JSON array of one chunk), and the long-running video operation.

use serde_json::{Map, Value, json};

use super::error::Shape;
use super::{Recorded, Sse, json, json_array, some};
use crate::replay::answer::{Answer, Form};

/// `models.generate_content` (and `_stream`): the recorded candidates back in REST's
/// camelCase (the Python SDK's nulls left out), or one made of the text and tool calls.
pub(super) fn content(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::Gemini) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if let Some(e) = call.error {
        return Err(format!("the recorded error can't be answered: {e}"));
    }
    let calls: Vec<&Value> = super::items(r.get("tool_calls")).collect();
    let mut candidates = match some(r, "candidates").and_then(Value::as_array) {
        Some(c) if !c.is_empty() => c.iter().map(camel_keys).collect(),
        _ => vec![json!({
            "content": {"parts": [], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        })],
    };
    if let Some(first) = candidates.first_mut() {
        first_candidate(first, r, &calls);
    }
    let mut body = Map::new();
    body.insert("candidates".into(), Value::Array(candidates));
    if let Some(usage) = some(r, "usage") {
        body.insert("usageMetadata".into(), camel_keys(usage));
    }
    if let Some(model) = some(r, "model") {
        body.insert("modelVersion".into(), model.clone());
    }
    let body = Value::Object(body);
    Ok(match call.form {
        Form::Whole => json(&body),
        // One chunk carries the whole answer (the recorder keeps no chunk boundaries).
        Form::JsonArray => json_array(&[body]),
        Form::Sse => {
            let mut sse = Sse::default();
            sse.data(None, &body);
            sse.answer()
        }
    })
}

/// Makes the first candidate's parts say the recorded text and tool calls: its text parts
/// (as recorded, or one of the recorded text when they disagree) and its `functionCall`
/// parts with the arguments as recorded in `tool_calls` (the candidates' copy has its keys
/// snake_cased with the rest).
fn first_candidate(candidate: &mut Value, r: &Value, calls: &[&Value]) {
    let text = r.get("text").and_then(Value::as_str);
    let Some(obj) = candidate.as_object_mut() else {
        return;
    };
    let content = obj
        .entry("content")
        .or_insert_with(|| json!({"role": "model"}));
    if !content.is_object() {
        *content = json!({"role": "model"});
    }
    let parts: Vec<Value> = content
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let recorded_text = {
        let mut t: Option<String> = None;
        for p in &parts {
            if p.get("thought").and_then(Value::as_bool) != Some(true)
                && let Some(s) = p.get("text").and_then(Value::as_str)
            {
                t.get_or_insert_with(String::new).push_str(s);
            }
        }
        t
    };
    let mut out: Vec<Value> = Vec::new();
    if recorded_text.as_deref() == text {
        out.extend(
            parts
                .iter()
                .filter(|p| p.get("functionCall").is_none())
                .cloned(),
        );
    } else {
        out.extend(
            parts
                .iter()
                .filter(|p| p.get("thought").and_then(Value::as_bool) == Some(true))
                .cloned(),
        );
        if let Some(text) = text {
            out.push(json!({"text": text}));
        }
    }
    if calls.is_empty() {
        out.extend(
            parts
                .iter()
                .filter(|p| p.get("functionCall").is_some())
                .cloned(),
        );
    } else {
        for c in calls {
            let mut call = Map::new();
            if let Some(id) = some(c, "id") {
                call.insert("id".into(), id.clone());
            }
            call.insert("name".into(), c.get("name").cloned().unwrap_or(Value::Null));
            call.insert("args".into(), c.get("args").cloned().unwrap_or(json!({})));
            out.push(json!({"functionCall": call}));
        }
    }
    content["parts"] = Value::Array(out);
}

/// `models.generate_videos`: the operation as the first call returned it.
pub(super) fn videos(call: &Recorded<'_>) -> Result<Answer, String> {
    let r = match call.response_or_error(Shape::Gemini) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if let Some(e) = call.error {
        return Err(format!("the recorded error can't be answered: {e}"));
    }
    let mut body = Map::new();
    if let Some(name) = some(r, "operation_name") {
        body.insert("name".into(), name.clone());
    }
    if let Some(done) = some(r, "done") {
        body.insert("done".into(), done.clone());
    }
    if let Some(videos) = some(r, "generated_videos") {
        body.insert(
            "response".into(),
            json!({"generateVideoResponse": {"generatedSamples": camel_keys(videos)}}),
        );
    }
    Ok(json(&Value::Object(body)))
}

/// `value` with every object key turned from snake_case back into REST's camelCase and the
/// null fields left out (the Python SDK dumps every field of its models); the `args` and
/// `response` of function calls are the caller's own data, left as they are.
fn camel_keys(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let v = if k == "args" || k == "response" {
                        v.clone()
                    } else {
                        camel_keys(v)
                    };
                    (camel_case(k), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// `prompt_token_count` → `promptTokenCount`.
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
