//! Which canned answer a request gets: the endpoint from the path, the behaviour from the model.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::Value;

use crate::fixtures as fx;
use crate::http::{Received, Reply};

const JSON: &str = "application/json";
const SSE: &str = "text/event-stream";

/// The statuses an `error-NNN` model asks for, and each provider's bodies for them, in order.
const STATUSES: [u16; 4] = [400, 401, 429, 500];
type Errors = [&'static str; 4];
const OPENAI: Errors = [
    fx::OPENAI_ERROR_400,
    fx::OPENAI_ERROR_401,
    fx::OPENAI_ERROR_429,
    fx::OPENAI_ERROR_500,
];
const GEMINI: Errors = [
    fx::GEMINI_ERROR_400,
    fx::GEMINI_ERROR_401,
    fx::GEMINI_ERROR_429,
    fx::GEMINI_ERROR_500,
];
const ANTHROPIC: Errors = [
    fx::ANTHROPIC_ERROR_400,
    fx::ANTHROPIC_ERROR_401,
    fx::ANTHROPIC_ERROR_429,
    fx::ANTHROPIC_ERROR_500,
];

enum Endpoint<'a> {
    ChatCompletions,
    Embeddings,
    Messages,
    Responses,
    /// Ollama's native chat API.
    OllamaChat,
    /// `*/models/{model}:{action}`.
    Gemini(&'a str, &'a str),
}

pub(crate) fn route(request: &Received) -> Reply {
    let path = request.path.as_str();
    if request.method == "GET" && path.contains("/operations/") {
        return full(200, JSON, fx::GEMINI_OPERATION_DONE);
    }
    let Some(endpoint) = endpoint(request) else {
        return full(404, JSON, fx::NOT_FOUND);
    };
    let (errors, model) = match endpoint {
        Endpoint::ChatCompletions
        | Endpoint::Embeddings
        | Endpoint::Responses
        | Endpoint::OllamaChat => (OPENAI, None),
        Endpoint::Messages => (ANTHROPIC, None),
        Endpoint::Gemini(model, _) => (GEMINI, Some(model)),
    };
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return full(400, JSON, errors[0]);
    };
    let model = model.or(body["model"].as_str()).unwrap_or("");
    if let Some(i) = STATUSES
        .iter()
        .position(|s| model.contains(&format!("error-{s}")))
    {
        return full(STATUSES[i], JSON, errors[i]);
    }
    if matches!(endpoint, Endpoint::Messages) && model.contains("error-529") {
        return full(529, JSON, fx::ANTHROPIC_ERROR_529);
    }
    if model.contains("not-json") {
        return full(200, "text/plain; charset=utf-8", fx::NOT_JSON);
    }
    let cut = model.contains("cut");
    let stream = body["stream"] == true;
    match endpoint {
        Endpoint::ChatCompletions => chat_completions(&body, stream, cut),
        Endpoint::Embeddings => embeddings(&body),
        Endpoint::Messages => messages(&body, model, stream, cut),
        Endpoint::Responses => responses(&body, stream, cut),
        Endpoint::OllamaChat => full(200, JSON, fx::OLLAMA_CHAT),
        Endpoint::Gemini(_, "generateContent") if !body["tools"].is_null() => {
            full(200, JSON, fx::GEMINI_FUNCTION_CALL)
        }
        Endpoint::Gemini(_, "generateContent") => full(200, JSON, fx::GEMINI_GENERATE_CONTENT),
        Endpoint::Gemini(_, "predictLongRunning") => full(200, JSON, fx::GEMINI_OPERATION),
        Endpoint::Gemini(_, "streamGenerateContent") => {
            let query = request.query.as_deref().unwrap_or("");
            if query.split('&').any(|pair| pair == "alt=sse") {
                events(SSE, fx::GEMINI_STREAM, "\r\n\r\n", cut)
            } else {
                events(JSON, fx::GEMINI_STREAM_ARRAY, ",\r\n", cut)
            }
        }
        Endpoint::Gemini(..) => full(404, JSON, fx::NOT_FOUND),
    }
}

fn endpoint(request: &Received) -> Option<Endpoint<'_>> {
    let path = request.path.as_str();
    if request.method != "POST" {
        return None;
    }
    Some(match () {
        _ if path.ends_with("/chat/completions") => Endpoint::ChatCompletions,
        _ if path.ends_with("/embeddings") => Endpoint::Embeddings,
        _ if path.ends_with("/messages") => Endpoint::Messages,
        _ if path.ends_with("/responses") => Endpoint::Responses,
        _ if path.ends_with("/api/chat") => Endpoint::OllamaChat,
        _ => {
            let (_, last) = path.rsplit_once("/models/")?;
            let (model, action) = last.split_once(':').filter(|(m, _)| !m.contains('/'))?;
            Endpoint::Gemini(model, action)
        }
    })
}

/// A chat completion of about 2 kB (model `…long…`), for benchmarks.
static LONG_COMPLETION: LazyLock<String> = LazyLock::new(|| {
    let mut c: Value =
        serde_json::from_str(fx::OPENAI_CHAT_COMPLETION).expect("the fixture is JSON");
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(28);
    c["choices"][0]["message"]["content"] = text.trim_end().into();
    serde_json::to_string_pretty(&c).expect("a Value serialises") + "\n"
});

/// A stream of 200 content chunks, then `[DONE]` (model `…long…`), for benchmarks.
static LONG_STREAM: LazyLock<String> = LazyLock::new(|| {
    let mut out = String::new();
    for i in 0..200 {
        let chunk = serde_json::json!({
            "id": "chatcmpl-mocklong", "object": "chat.completion.chunk", "created": 1735689600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": {"content": format!("word{i} ")}, "logprobs": null,
                         "finish_reason": if i == 199 { Value::from("stop") } else { Value::Null }}],
        });
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out
});

fn chat_completions(body: &Value, stream: bool, cut: bool) -> Reply {
    if body["model"].as_str().is_some_and(|m| m.contains("long")) {
        return match stream {
            false => full(200, JSON, LONG_COMPLETION.as_str()),
            true => events(SSE, LONG_STREAM.as_str(), "\n\n", cut),
        };
    }
    // An agent loop: once the last message is a tool's result, the model answers with text.
    let tools = !body["tools"].is_null() && !last_message_is_tool(body);
    let usage = body["stream_options"]["include_usage"] == true;
    let fixture = match (stream, tools, usage) {
        (false, false, _) => return full(200, JSON, fx::OPENAI_CHAT_COMPLETION),
        (false, true, _) => return full(200, JSON, fx::OPENAI_CHAT_COMPLETION_TOOLS),
        (true, false, false) => fx::OPENAI_CHAT_STREAM,
        (true, false, true) => fx::OPENAI_CHAT_STREAM_USAGE,
        (true, true, false) => fx::OPENAI_CHAT_STREAM_TOOLS,
        (true, true, true) => fx::OPENAI_CHAT_STREAM_TOOLS_USAGE,
    };
    events(SSE, fixture, "\n\n", cut)
}

/// Anthropic's Messages API: with `tools`, a tool use until a `tool_result` comes back.
fn messages(body: &Value, model: &str, stream: bool, cut: bool) -> Reply {
    if model.contains("overloaded-mid-stream") {
        return events(SSE, fx::ANTHROPIC_STREAM_OVERLOADED, "\n\n", cut);
    }
    let last_is_result = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_array())
        .is_some_and(|blocks| blocks.iter().any(|b| b["type"] == "tool_result"));
    let tools = !body["tools"].is_null() && !last_is_result;
    match (stream, tools) {
        (false, false) => full(200, JSON, fx::ANTHROPIC_MESSAGE),
        (false, true) => full(200, JSON, fx::ANTHROPIC_MESSAGE_TOOL_USE),
        (true, false) => events(SSE, fx::ANTHROPIC_STREAM, "\n\n", cut),
        (true, true) => events(SSE, fx::ANTHROPIC_STREAM_TOOL_USE, "\n\n", cut),
    }
}

/// OpenAI's Responses API: with `tools`, a function call until a `function_call_output` comes
/// back in `input`.
fn responses(body: &Value, stream: bool, cut: bool) -> Reply {
    let has_output = body["input"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["type"] == "function_call_output"));
    let tools = !body["tools"].is_null() && !has_output;
    match (stream, tools) {
        (false, false) => full(200, JSON, fx::OPENAI_RESPONSE),
        (false, true) => full(200, JSON, fx::OPENAI_RESPONSE_TOOLS),
        (true, false) => events(SSE, fx::OPENAI_RESPONSE_STREAM, "\n\n", cut),
        (true, true) => events(SSE, fx::OPENAI_RESPONSE_STREAM_TOOLS, "\n\n", cut),
    }
}

/// Whether the conversation ends with a `tool` message (a tool's result sent back).
fn last_message_is_tool(body: &Value) -> bool {
    body["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .is_some_and(|last| last["role"] == "tool")
}

/// One embedding per input: a string is one input, an array of strings or of token arrays one
/// per element, an array of token ids one. A single input gets the fixture itself.
fn embeddings(body: &Value) -> Reply {
    let inputs = match &body["input"] {
        Value::Array(items) if !items.first().is_some_and(Value::is_number) => items.len(),
        _ => 1,
    };
    match inputs {
        0 => return full(400, JSON, fx::OPENAI_ERROR_400),
        1 => return full(200, JSON, fx::OPENAI_EMBEDDINGS),
        _ => {}
    }
    let mut list: Value = serde_json::from_str(fx::OPENAI_EMBEDDINGS).expect("the fixture is JSON");
    let one = list["data"][0].take();
    let data = (0..inputs).map(|index| {
        let mut embedding = one.clone();
        embedding["index"] = index.into();
        embedding
    });
    list["data"] = data.collect();
    let tokens = list["usage"]["prompt_tokens"].as_u64().unwrap_or(1) * inputs as u64;
    list["usage"] = serde_json::json!({ "prompt_tokens": tokens, "total_tokens": tokens });
    let text = serde_json::to_string_pretty(&list).expect("a Value serialises") + "\n";
    full(200, JSON, text)
}

fn full(status: u16, content_type: &'static str, body: impl Into<Cow<'static, str>>) -> Reply {
    Reply::Full {
        status,
        content_type,
        body: body.into(),
    }
}

/// A stream of `text`, one chunk per piece ending in `separator` (an SSE event's blank line).
fn events(content_type: &'static str, text: &'static str, separator: &str, cut: bool) -> Reply {
    let pieces = text.split_inclusive(separator).collect();
    Reply::Stream {
        content_type,
        pieces,
        cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(reply: Reply) -> &'static str {
        match reply {
            Reply::Full {
                body: Cow::Borrowed(body),
                ..
            } => body,
            other => panic!("not a borrowed full reply: {other:?}"),
        }
    }

    #[test]
    fn tools_get_a_tool_call_until_a_tool_result_comes_back() {
        let user = serde_json::json!({
            "model": "gpt-4o-mini", "tools": [{"type": "function"}],
            "messages": [{"role": "user", "content": "Weather?"}],
        });
        let reply = chat_completions(&user, false, false);
        assert_eq!(body_of(reply), fx::OPENAI_CHAT_COMPLETION_TOOLS);

        let mut after_tool = user.clone();
        after_tool["messages"] = serde_json::json!([
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [{"id": "call_mock0001"}]},
            {"role": "tool", "tool_call_id": "call_mock0001", "content": "sunny"},
        ]);
        let reply = chat_completions(&after_tool, false, false);
        assert_eq!(body_of(reply), fx::OPENAI_CHAT_COMPLETION);
        match chat_completions(&after_tool, true, false) {
            Reply::Stream { pieces, .. } => assert_eq!(pieces.concat(), fx::OPENAI_CHAT_STREAM),
            other => panic!("not a stream: {other:?}"),
        }
    }
}
