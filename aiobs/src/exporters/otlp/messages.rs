//! The conversation of an LLM call in the GenAI conventions' opt-in message attributes:
//! `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages`, JSON
//! arrays of `{role, parts: [{type: "text", content} | {type: "tool_call", id, name,
//! arguments} | {type: "tool_call_response", id, response}], finish_reason}`, read from what
//! each built-in provider records.

use serde_json::{Map, Value, json};

/// The three attributes' values for one recorded call (`None` where there is nothing).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Conversation {
    pub(super) system: Option<Value>,
    pub(super) input: Option<Value>,
    pub(super) output: Option<Value>,
}

/// The conversation of a call of `api`, from its recorded `request` and `response`.
pub(super) fn conversation(api: &str, request: &Value, response: &Value) -> Conversation {
    let mut system = Vec::new();
    let mut input = Vec::new();
    match api {
        "messages.create" | "messages.stream" => {
            system.extend(parts(request.get("system")));
            for m in array(request.get("messages")) {
                input.push(message(m.get("role"), parts(m.get("content"))));
            }
        }
        "responses.create" | "responses.stream" => {
            system.extend(parts(request.get("instructions")));
            match request.get("input") {
                Some(Value::String(text)) => {
                    input.push(message(Some(&json!("user")), vec![text_part(text)]))
                }
                other => input.extend(array(other).iter().map(responses_item)),
            }
        }
        a if a.starts_with("models.generate_content") => {
            let instruction = request.get("system_instruction");
            system.extend(parts(
                instruction.and_then(|i| i.get("parts")).or(instruction),
            ));
            for c in array(request.get("contents")) {
                let role = match c.get("role").and_then(Value::as_str) {
                    Some("model") => json!("assistant"),
                    Some(role) => json!(role),
                    None => json!("user"),
                };
                input.push(message(Some(&role), parts(c.get("parts"))));
            }
        }
        _ => {
            for m in array(request.get("messages")) {
                if m.get("role").and_then(Value::as_str) == Some("system") {
                    system.extend(parts(m.get("content")));
                } else {
                    input.push(message(m.get("role"), parts(m.get("content"))));
                }
            }
        }
    }
    Conversation {
        system: (!system.is_empty()).then_some(Value::Array(system)),
        input: (!input.is_empty()).then_some(Value::Array(input)),
        output: output(response),
    }
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "content": text})
}

fn message(role: Option<&Value>, parts: Vec<Value>) -> Value {
    json!({"role": role.cloned().unwrap_or_else(|| json!("user")), "parts": parts})
}

/// Arguments as JSON when they are JSON text, else as given.
fn arguments(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| json!(s)),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// The parts of a message's content: a string, or blocks of OpenAI, Anthropic or Gemini.
fn parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::String(text)) => vec![text_part(text)],
        Some(Value::Array(blocks)) => blocks.iter().filter_map(part).collect(),
        _ => Vec::new(),
    }
}

fn part(block: &Value) -> Option<Value> {
    if let Some(text) = block.as_str() {
        return Some(text_part(text));
    }
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "tool_use" => Some(json!({"type": "tool_call", "id": block.get("id"),
                                  "name": block.get("name"), "arguments": block.get("input")})),
        "tool_result" => Some(json!({"type": "tool_call_response",
                                     "id": block.get("tool_use_id"),
                                     "response": block.get("content")})),
        _ => {
            if let Some(text) = block.get("text").and_then(Value::as_str) {
                return Some(text_part(text));
            }
            // Gemini's parts.
            if let Some(call) = block.get("function_call").or(block.get("functionCall")) {
                return Some(json!({"type": "tool_call", "id": call.get("id"),
                                   "name": call.get("name"), "arguments": call.get("args")}));
            }
            let response = block
                .get("function_response")
                .or(block.get("functionResponse"));
            response.map(|r| {
                json!({"type": "tool_call_response", "id": r.get("id"),
                       "response": r.get("response")})
            })
        }
    }
}

/// An item of the Responses API's `input`.
fn responses_item(item: &Value) -> Value {
    match item.get("type").and_then(Value::as_str) {
        Some("function_call") => message(
            Some(&json!("assistant")),
            vec![json!({"type": "tool_call", "id": item.get("call_id"),
                        "name": item.get("name"),
                        "arguments": arguments(item.get("arguments"))})],
        ),
        Some("function_call_output") => message(
            Some(&json!("tool")),
            vec![
                json!({"type": "tool_call_response", "id": item.get("call_id"),
                        "response": item.get("output")}),
            ],
        ),
        _ => message(item.get("role"), parts(item.get("content"))),
    }
}

/// The answer: the recorded `text`, the `tool_calls`, and why the model stopped.
fn output(response: &Value) -> Option<Value> {
    let mut parts = Vec::new();
    if let Some(text) = response.get("text").and_then(Value::as_str) {
        parts.push(text_part(text));
    }
    for call in array(response.get("tool_calls")) {
        let args = call
            .get("input")
            .or(call.get("args"))
            .cloned()
            .unwrap_or_else(|| arguments(call.get("arguments")));
        parts.push(
            json!({"type": "tool_call", "id": call.get("call_id").or(call.get("id")),
                          "name": call.get("name"), "arguments": args}),
        );
    }
    if parts.is_empty() {
        return None;
    }
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    message.insert("parts".into(), Value::Array(parts));
    let reason = ["finish_reason", "stop_reason", "status"]
        .iter()
        .find_map(|k| response.get(*k).filter(|v| v.is_string()))
        .or_else(|| response.pointer("/candidates/0/finish_reason"));
    if let Some(reason) = reason {
        message.insert("finish_reason".into(), reason.clone());
    }
    Some(Value::Array(vec![Value::Object(message)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anthropic_tool_round_trip() {
        let request = json!({"system": "Be terse.", "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1",
                "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                "content": "18°C"}]},
        ]});
        let response = json!({"text": "It is 18°C.", "stop_reason": "end_turn"});
        let c = conversation("messages.create", &request, &response);
        assert_eq!(
            c.system,
            Some(json!([{"type": "text", "content": "Be terse."}]))
        );
        let input = c.input.unwrap();
        assert_eq!(input[1]["parts"][0]["type"], "tool_call");
        assert_eq!(input[1]["parts"][0]["arguments"], json!({"city": "Paris"}));
        assert_eq!(input[2]["parts"][0]["type"], "tool_call_response");
        assert_eq!(input[2]["parts"][0]["id"], "t1");
        assert_eq!(
            c.output,
            Some(json!([{"role": "assistant", "finish_reason": "end_turn",
                         "parts": [{"type": "text", "content": "It is 18°C."}]}]))
        );
    }

    #[test]
    fn a_chat_answer_that_calls_a_tool() {
        let request = json!({"messages": [{"role": "system", "content": "terse"},
                                          {"role": "user", "content": "Weather?"}]});
        let response = json!({"text": null, "finish_reason": "tool_calls", "tool_calls": [
            {"id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]});
        let c = conversation("chat.completions.create", &request, &response);
        assert_eq!(
            c.system,
            Some(json!([{"type": "text", "content": "terse"}]))
        );
        assert_eq!(c.input.unwrap().as_array().unwrap().len(), 1);
        let out = c.output.unwrap();
        assert_eq!(out[0]["finish_reason"], "tool_calls");
        assert_eq!(
            out[0]["parts"],
            json!([{"type": "tool_call", "id": "c1", "name": "get_weather",
                    "arguments": {"city": "Paris"}}])
        );
    }
}
