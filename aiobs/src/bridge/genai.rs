//! Spans with OpenTelemetry GenAI fields (`gen_ai.*`, as rig emits them) as LLM calls: the
//! provider event's `provider`, `api`, `request` and `response`, shaped as the OpenAI provider
//! writes them (`model`, `messages`, `temperature`, `max_tokens`, `other`; `id`, `model`,
//! `text`, `usage`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{Raw, Values};
use super::site::Site;
use crate::capture::{encode, limits};
use crate::store::flag;

/// Operations that are not a call to a model: their spans stay function events.
const NOT_A_MODEL_CALL: &[&str] = &[
    "invoke_agent",
    "create_agent",
    "execute_tool",
    "invoke_workflow",
];

/// The `gen_ai.*` values of one span, by name.
struct GenAi<'a> {
    fields: BTreeMap<&'static str, &'a Raw>,
}

impl<'a> GenAi<'a> {
    fn new(site: &Site, values: &'a Values) -> GenAi<'a> {
        let mut fields = BTreeMap::new();
        for (index, raw) in values.raw_values() {
            if let Some(name) = site.field_name(*index) {
                fields.insert(name, raw); // the latest value wins
            }
        }
        GenAi { fields }
    }

    fn get(&self, name: &str) -> Option<&'a Raw> {
        self.fields.get(name).copied()
    }

    fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name)
            .and_then(Raw::as_str)
            .filter(|s| !s.is_empty())
    }

    fn u64(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(Raw::as_u64)
    }

    /// Whether the span is a call to a model: it names a model, and its operation is not an
    /// agent's or a tool's.
    fn is_model_call(&self) -> bool {
        let model = self.str("gen_ai.request.model").is_some()
            || self.str("gen_ai.response.model").is_some();
        let operation = self.str("gen_ai.operation.name").unwrap_or("");
        model && !NOT_A_MODEL_CALL.contains(&operation)
    }

    /// `gen_ai.provider.name`, else the older `gen_ai.system`.
    fn provider(&self) -> &'a str {
        self.str("gen_ai.provider.name")
            .or_else(|| self.str("gen_ai.system"))
            .unwrap_or("gen_ai")
    }

    /// The API as the Python SDK names it for the providers it knows (OpenAI's chat and
    /// embeddings, Gemini's generate_content), else the operation, else the span's name.
    fn api(&self, span_name: &str) -> String {
        let provider = self.provider();
        let operation = self.str("gen_ai.operation.name");
        let openai = matches!(provider, "openai" | "azure.ai.openai" | "az.ai.openai");
        let gemini = provider.contains("gemini") || provider == "gcp.vertex_ai";
        match operation {
            Some("chat" | "chat_streaming" | "text_completion") if openai => {
                "chat.completions.create".to_owned()
            }
            Some("embeddings") if openai => "embeddings.create".to_owned(),
            Some("generate_content" | "chat") if gemini => "models.generate_content".to_owned(),
            Some(op) => op.to_owned(),
            None => span_name.to_owned(),
        }
    }

    fn request(&self) -> Request {
        let mut messages = Vec::new();
        if let Some(system) = self.str("gen_ai.system_instructions") {
            messages.push(message_of("system", system));
        }
        let input = self
            .str("gen_ai.input.messages")
            .or_else(|| self.str("gen_ai.prompt"));
        if let Some(input) = input {
            let before = messages.len();
            messages.extend(messages_of(input, "user"));
            // A system message given in the input too is not repeated.
            if before == 1 && messages[1..].iter().any(|m| m["role"] == "system") {
                messages.remove(0);
            }
        }
        let mut other = BTreeMap::new();
        for (name, raw) in &self.fields {
            if CONSUMED.contains(name) || is_response_field(name) {
                continue;
            }
            let key = name.strip_prefix("gen_ai.request.").unwrap_or(name);
            other.insert(key.to_owned(), raw.to_json());
        }
        Request {
            model: self.str("gen_ai.request.model").map(str::to_owned),
            messages: (!messages.is_empty()).then_some(messages),
            temperature: self.get("gen_ai.request.temperature").and_then(Raw::as_f64),
            max_tokens: self.u64("gen_ai.request.max_tokens"),
            other,
        }
    }

    fn response(&self) -> Option<Response> {
        let output = self
            .str("gen_ai.output.messages")
            .or_else(|| self.str("gen_ai.completion"));
        let messages = output.map(|o| messages_of(o, "assistant"));
        let text = messages
            .as_ref()
            .and_then(|m| m.first())
            .and_then(|m| m.get("content").and_then(Value::as_str).map(str::to_owned));
        let input = self.u64("gen_ai.usage.input_tokens");
        let output_tokens = self.u64("gen_ai.usage.output_tokens");
        let mut usage_other = BTreeMap::new();
        for (name, raw) in &self.fields {
            if let Some(key) = name.strip_prefix("gen_ai.usage.") {
                if !matches!(key, "input_tokens" | "output_tokens") {
                    usage_other.insert(key.replace('.', "_"), raw.to_json());
                }
            }
        }
        let usage =
            (input.is_some() || output_tokens.is_some() || !usage_other.is_empty()).then(|| {
                Usage {
                    completion_tokens: output_tokens,
                    prompt_tokens: input,
                    total_tokens: input.zip(output_tokens).map(|(i, o)| i.saturating_add(o)),
                    other: usage_other,
                }
            });
        let finish_reasons = self
            .str("gen_ai.response.finish_reasons")
            .map(|f| serde_json::from_str(f).unwrap_or_else(|_| Value::String(f.to_owned())));
        let response = Response {
            id: self.str("gen_ai.response.id").map(str::to_owned),
            model: self.str("gen_ai.response.model").map(str::to_owned),
            usage,
            text,
            finish_reasons,
            messages,
        };
        let any = response.id.is_some()
            || response.model.is_some()
            || response.usage.is_some()
            || response.messages.is_some();
        any.then_some(response)
    }
}

/// Fields that become the provider, the API or a named request field.
const CONSUMED: &[&str] = &[
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.request.model",
    "gen_ai.request.temperature",
    "gen_ai.request.max_tokens",
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.prompt",
];

/// Fields that belong to the response.
fn is_response_field(name: &str) -> bool {
    name.starts_with("gen_ai.response.")
        || name.starts_with("gen_ai.usage.")
        || matches!(name, "gen_ai.output.messages" | "gen_ai.completion")
}

#[derive(Serialize)]
struct Request {
    model: Option<String>,
    messages: Option<Vec<Value>>,
    temperature: Option<f64>,
    max_tokens: Option<u64>,
    other: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct Response {
    id: Option<String>,
    model: Option<String>,
    usage: Option<Usage>,
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reasons: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<Value>>,
}

/// `usage` as the OpenAI provider writes it, with the other `gen_ai.usage.*` counts after
/// (`cache_read.input_tokens` as `cache_read_input_tokens`, ...).
#[derive(Serialize)]
struct Usage {
    completion_tokens: Option<u64>,
    prompt_tokens: Option<u64>,
    total_tokens: Option<u64>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// Messages from a `gen_ai.*` messages field: a JSON array of messages (OpenTelemetry's
/// `{role, parts: [...]}` shape becomes `{role, content}`, the text of its parts when they are
/// all text), or plain text as one message of `role`.
///
/// JSON that is not messages (a model's structured answer) is text too.
fn messages_of(text: &str, role: &str) -> Vec<Value> {
    let is_message = |v: &Value| v.get("role").is_some_and(Value::is_string);
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) if !items.is_empty() && items.iter().all(is_message) => {
            items.into_iter().map(flatten_message).collect()
        }
        Ok(message) if is_message(&message) => vec![flatten_message(message)],
        _ => vec![message_of(role, text)],
    }
}

/// A message of `role` from a field that holds its text or its parts as JSON (`[{"type":
/// "text", "content": ..}]`, as rig writes `gen_ai.system_instructions`).
fn message_of(role: &str, text: &str) -> Value {
    let is_part = |p: &Value| p.get("type").is_some_and(Value::is_string);
    let content = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(parts)) if !parts.is_empty() && parts.iter().all(is_part) => {
            parts_content(parts)
        }
        _ => Value::String(text.to_owned()),
    };
    let mut m = Map::new();
    m.insert("role".into(), Value::String(role.to_owned()));
    m.insert("content".into(), content);
    Value::Object(m)
}

fn flatten_message(message: Value) -> Value {
    let Value::Object(mut o) = message else {
        return message;
    };
    if !o.contains_key("content") {
        if let Some(Value::Array(parts)) = o.remove("parts") {
            o.insert("content".into(), parts_content(parts));
        }
    }
    Value::Object(o)
}

/// The text of parts that are all text, else the parts as they are.
fn parts_content(parts: Vec<Value>) -> Value {
    let all_text = parts.iter().all(|p| {
        p.get("type").and_then(Value::as_str) == Some("text")
            && p.get("content").is_some_and(Value::is_string)
    });
    if all_text && !parts.is_empty() {
        let text: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("content").and_then(Value::as_str))
            .collect();
        Value::String(text.join(""))
    } else {
        Value::Array(parts)
    }
}

/// The provider record's payload and flags for a span that is a call to a model, or `None`
/// if it is not one (it stays a function event).
pub(super) fn provider_payload(site: &Site, values: &Values) -> Option<(Vec<u8>, u8)> {
    let genai = GenAi::new(site, values);
    if !genai.is_model_call() {
        return None;
    }
    let mut out = Vec::new();
    encode::put_str(&mut out, genai.provider(), usize::MAX);
    encode::put_str(&mut out, &genai.api(site.meta.name), usize::MAX);
    put_value(&mut out, &genai.request());
    let mut flags = 0;
    if let Some(response) = genai.response() {
        put_value(&mut out, &response);
        flags |= flag::RESPONSE;
    }
    if let Some(error) = values.error() {
        encode::put_str(&mut out, &error, usize::MAX);
        flags |= flag::ERROR;
    }
    Some((out, flags))
}

/// Writes a request or response whole, as the providers do.
fn put_value(out: &mut Vec<u8>, value: &impl Serialize) {
    if encode::encode(out, value, &limits::NONE, usize::MAX).is_err() {
        out.push(crate::capture::tag::NULL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn opentelemetry_messages_become_role_and_content() {
        let input = r#"[{"role":"user","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]},
                        {"role":"assistant","parts":[{"type":"tool_call","name":"f","arguments":{}}]}]"#;
        assert_eq!(
            messages_of(input, "user"),
            vec![
                json!({"role": "user", "content": "ab"}),
                json!({"role": "assistant", "content": [{"type": "tool_call", "name": "f", "arguments": {}}]}),
            ]
        );
    }

    #[test]
    fn plain_text_is_one_message_of_the_role() {
        assert_eq!(
            messages_of("What is 2+2?", "user"),
            vec![json!({"role": "user", "content": "What is 2+2?"})]
        );
        assert_eq!(
            messages_of(r#"{"role":"user","content":"x"}"#, "user"),
            vec![json!({"role": "user", "content": "x"})]
        );
        // A structured answer is the message's text, not messages.
        assert_eq!(
            messages_of(r#"{"city":"Paris"}"#, "assistant"),
            vec![json!({"role": "assistant", "content": r#"{"city":"Paris"}"#})]
        );
        assert_eq!(
            messages_of("[1, 2]", "assistant"),
            vec![json!({"role": "assistant", "content": "[1, 2]"})]
        );
        assert_eq!(
            message_of("system", r#"[{"type":"text","content":"Be brief."}]"#),
            json!({"role": "system", "content": "Be brief."})
        );
    }
}
