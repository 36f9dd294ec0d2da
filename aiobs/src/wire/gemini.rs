//! Google's Gemini API (Google AI and Vertex AI): `generateContent`, `streamGenerateContent`
//! and the video long-running call, recorded as the Python SDK's Gemini provider records them
//! (snake_case field names, as the google-genai models dump them), streams assembled.

use serde::Serialize;
use serde_json::{Map, Value};

use super::json::{append, body_value, items, python_repr, snake_keys, unreadable};
use super::openai::StreamInfo;
use super::{Body, EventFields, Exchange, HttpRequest, Provider};

/// The built-in Gemini provider: `POST …/models/{model}:generateContent` is
/// `models.generate_content`, `:streamGenerateContent` is `models.generate_content_stream`,
/// and `:predictLongRunning` (Veo) is `models.generate_videos`, on any base URL
/// (generativelanguage.googleapis.com, Vertex AI's `…/publishers/google/models/…`, a proxy).
///
/// ```
/// use aiobs::providers::{Gemini, HttpRequest};
/// use aiobs::Provider;
/// let http = HttpRequest {
///     method: "POST",
///     path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
///     query: Some("alt=sse"),
/// };
/// assert_eq!(Gemini.api(&http).as_deref(), Some("models.generate_content_stream"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

const CONTENT: &str = "models.generate_content";
const STREAM: &str = "models.generate_content_stream";
const VIDEOS: &str = "models.generate_videos";

impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        if http.method != "POST" {
            return None;
        }
        let (_, method) = model_and_method(http.path)?;
        match method {
            "generateContent" => Some(CONTENT.to_owned()),
            "streamGenerateContent" => Some(STREAM.to_owned()),
            "predictLongRunning" => Some(VIDEOS.to_owned()),
            _ => None,
        }
    }

    fn stream_complete(&self, _api: &str, events: &[super::SseEvent]) -> bool {
        events.last().is_some_and(|e| {
            serde_json::from_str::<Value>(&e.data).is_ok_and(|c| {
                c.pointer("/candidates/0/finishReason")
                    .is_some_and(|f| !f.is_null())
            })
        })
    }

    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        let model = model_and_method(exchange.http.path).map(|(m, _)| m);
        let videos = exchange.api == VIDEOS;
        match (exchange.request, videos) {
            (Body::Json { value, .. }, false) => event.request(&content_request(model, value)),
            (Body::Json { value, .. }, true) => event.request(&videos_request(model, value)),
            (other, _) => event.request(&body_value(other)),
        }
        if let Some(error) = error_text(exchange) {
            event.error(error);
            return;
        }
        match exchange.response {
            Body::Json { value, .. } if videos => event.response(&videos_response(value)),
            // `streamGenerateContent` without `alt=sse` answers a JSON array of chunks.
            Body::Json {
                value: Value::Array(chunks),
                ..
            } => content_stream(chunks, true, None, event),
            Body::Json { value, .. } => event.response(&content_response(value, None)),
            Body::Stream { events, finished } => {
                let chunks: Vec<Value> = events
                    .iter()
                    .filter_map(|e| serde_json::from_str(&e.data).ok())
                    .collect();
                content_stream(&chunks, *finished, exchange.first_chunk_ms, event);
            }
            Body::Unreadable(reason) => event.response(&unreadable(reason)),
            Body::Empty => {}
        }
        if let Some(failure) = exchange.failure {
            event.error(failure);
        }
    }
}

/// `…/models/{model}:{method}` → (model, method).
fn model_and_method(path: &str) -> Option<(&str, &str)> {
    let rest = &path[path.rfind("/models/")? + "/models/".len()..];
    let (model, method) = rest.split_once(':')?;
    (!model.is_empty() && !model.contains('/')).then_some((model, method.trim_end_matches('/')))
}

/// `GenerateContentRequest` of the Python SDK: the first three contents, and the SDK's
/// `config` (the body's `generationConfig` fields beside its other settings).
#[derive(Serialize)]
struct ContentRequest<'a> {
    model: Option<&'a str>,
    contents: Option<Value>,
    system_instruction: Option<Value>,
    config: Option<Value>,
    other: Map<String, Value>,
}

fn content_request<'a>(model: Option<&'a str>, body: &Value) -> ContentRequest<'a> {
    let contents = body.get("contents").map(|c| match c.as_array() {
        Some(items) => Value::Array(items.iter().take(3).map(snake_keys).collect()),
        None => snake_keys(c),
    });
    ContentRequest {
        model,
        contents,
        system_instruction: None,
        config: config_of(body, &["contents"], "generationConfig"),
        other: Map::new(),
    }
}

/// The SDK's config object: the fields of `nested` (such as `generationConfig`) and every
/// other body field but `skip`, in snake_case; `None` if there are none.
fn config_of(body: &Value, skip: &[&str], nested: &str) -> Option<Value> {
    let obj = body.as_object()?;
    let mut config = Map::new();
    for (k, v) in obj {
        if skip.contains(&k.as_str()) {
            continue;
        }
        if k == nested {
            if let Some(inner) = v.as_object() {
                for (ik, iv) in inner {
                    config.insert(super::json::snake_case(ik), snake_keys(iv));
                }
                continue;
            }
        }
        config.insert(super::json::snake_case(k), snake_keys(v));
    }
    (!config.is_empty()).then_some(Value::Object(config))
}

/// `GenerateContentResponse` of the Python SDK (and, for streams, how the stream went).
#[derive(Serialize)]
struct ContentResponse {
    model: Option<Value>,
    usage: Option<Value>,
    text: Option<String>,
    candidates: Option<Value>,
    /// The `functionCall` parts of the first candidate: the tools the model asked to call (a
    /// field the Python SDK doesn't write).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<FunctionCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<StreamInfo>,
}

/// A `functionCall` part: `id` (when the API gives one), `name`, `args`.
#[derive(Serialize)]
struct FunctionCall {
    id: Option<Value>,
    name: Option<Value>,
    args: Value,
}

/// The `functionCall` parts of a candidate.
fn function_calls(candidate: &Value) -> impl Iterator<Item = FunctionCall> + '_ {
    items(candidate.pointer("/content/parts"))
        .filter_map(|p| p.get("functionCall"))
        .map(|call| FunctionCall {
            id: call.get("id").cloned(),
            name: call.get("name").cloned(),
            args: call.get("args").cloned().unwrap_or(Value::Null),
        })
}

/// The text of a candidate: its text parts joined, thoughts left out (as the SDK's `.text`).
fn candidate_text(candidate: &Value) -> Option<String> {
    let parts = candidate.pointer("/content/parts")?.as_array()?;
    let mut text: Option<String> = None;
    for p in parts {
        if p.get("thought").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        append(&mut text, p.get("text"));
    }
    text
}

fn content_response(body: &Value, stream: Option<StreamInfo>) -> ContentResponse {
    ContentResponse {
        // The Python SDK reads a `model` attribute the response doesn't have (always null);
        // the REST response names the model that answered in `modelVersion`.
        model: body.get("modelVersion").cloned(),
        usage: body.get("usageMetadata").map(snake_keys),
        text: body.pointer("/candidates/0").and_then(candidate_text),
        candidates: body
            .get("candidates")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
            .map(snake_keys),
        tool_calls: body
            .pointer("/candidates/0")
            .map(|c| function_calls(c).collect())
            .unwrap_or_default(),
        stream,
    }
}

/// Assembles the chunks of a stream: the text of the first candidate across all chunks, the
/// last usage (Gemini's is cumulative), the last chunk's candidates holding the whole text.
fn content_stream(
    chunks: &[Value],
    transport_finished: bool,
    first_chunk_ms: Option<f64>,
    event: &mut EventFields,
) {
    let mut text: Option<String> = None;
    let mut finish_reason = false;
    let mut tool_calls = Vec::new();
    for c in chunks {
        if let Some(t) = c.pointer("/candidates/0").and_then(candidate_text) {
            text.get_or_insert_with(String::new).push_str(&t);
        }
        if let Some(candidate) = c.pointer("/candidates/0") {
            tool_calls.extend(function_calls(candidate));
        }
        finish_reason |= c
            .pointer("/candidates/0/finishReason")
            .is_some_and(|f| !f.is_null());
    }
    let last_with = |key: &str| chunks.iter().rev().find_map(|c| c.get(key));
    let mut candidates = chunks
        .iter()
        .rev()
        .find_map(|c| c.get("candidates").filter(|v| v.is_array()))
        .map(snake_keys);
    if let (Some(Value::Array(cands)), Some(t)) = (&mut candidates, &text) {
        if let Some(parts) = cands
            .first_mut()
            .and_then(|c| c.pointer_mut("/content/parts"))
        {
            *parts = serde_json::json!([{ "text": t }]);
        }
    }
    event.response(&ContentResponse {
        model: last_with("modelVersion").cloned(),
        usage: last_with("usageMetadata").map(snake_keys),
        text,
        candidates,
        tool_calls,
        stream: Some(StreamInfo {
            chunks: chunks.len(),
            first_chunk_ms,
            finished: transport_finished && finish_reason,
        }),
    });
}

/// `GenerateVideosRequest` of the Python SDK, from the REST body (`instances[0]` holds the
/// prompt, image and video; `parameters` the config). Image and video bytes are left out.
#[derive(Serialize)]
struct VideosRequest<'a> {
    model: Option<&'a str>,
    prompt: Option<Value>,
    image: Option<Value>,
    video: Option<Value>,
    config: Option<Value>,
    other: Map<String, Value>,
}

fn without_bytes(v: &Value) -> Value {
    let mut v = snake_keys(v);
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.contains("bytes"));
    }
    v
}

fn videos_request<'a>(model: Option<&'a str>, body: &Value) -> VideosRequest<'a> {
    let instance = body.pointer("/instances/0");
    let field = |k: &str| instance.and_then(|i| i.get(k));
    VideosRequest {
        model,
        prompt: field("prompt").cloned(),
        image: field("image").map(without_bytes),
        video: field("video").map(without_bytes),
        config: body.get("parameters").map(snake_keys),
        other: Map::new(),
    }
}

/// `GenerateVideosResponse` of the Python SDK: the operation as the first call returned it.
#[derive(Serialize)]
struct VideosResponse {
    model: Option<Value>,
    usage: Option<Value>,
    operation_name: Option<Value>,
    done: Option<Value>,
    generated_videos: Option<Vec<Value>>,
}

fn videos_response(body: &Value) -> VideosResponse {
    let samples = body
        .pointer("/response/generateVideoResponse/generatedSamples")
        .or_else(|| body.pointer("/response/generatedVideos"))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    let generated_videos = samples.map(|s| {
        s.iter()
            .map(|sample| {
                let mut v = snake_keys(sample);
                if let Some(video) = v.get_mut("video") {
                    *video = without_bytes(video);
                }
                v
            })
            .collect()
    });
    VideosResponse {
        model: None,
        usage: None,
        operation_name: body.get("name").cloned(),
        done: body.get("done").cloned(),
        generated_videos,
    }
}

/// The exception text google-genai raises for an error status:
/// `ClientError: 429 RESOURCE_EXHAUSTED. {'error': {...}}`.
fn error_text(exchange: &Exchange<'_>) -> Option<String> {
    let status = exchange.status.filter(|s| *s >= 400)?;
    let class = if status >= 500 {
        "ServerError"
    } else {
        "ClientError"
    };
    let body = exchange.response.json();
    let code = body
        .and_then(|b| b.pointer("/error/code"))
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(status));
    let state = body
        .and_then(|b| b.pointer("/error/status"))
        .and_then(Value::as_str)
        .unwrap_or("None");
    let details = python_repr(exchange.response_raw).unwrap_or_else(|| "None".to_owned());
    Some(format!("{class}: {code} {state}. {details}"))
}
