//! The export model as an OTLP `ExportTraceServiceRequest`: one `ResourceSpans` per session,
//! one span per event.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use serde_json::Value;

use crate::model::{Callsite, ObservabilityExport, ObservedEvent, ObservedFunctionEvent, Session};
use crate::wire::token_counts;

use super::messages;

/// Span flags: sampled (bit 0); whether the parent is remote is known (bit 8): it is not (bit 9
/// unset).
const SPAN_FLAGS: u32 = 0x01 | 0x100;

/// What the resource of every `ResourceSpans` holds besides the session.
pub(super) struct ResourceConfig<'a> {
    pub(super) service_name: &'a str,
    pub(super) extra: &'a [(String, String)],
    /// Whether LLM calls carry the conventions' opt-in message attributes.
    pub(super) messages: bool,
}

/// What a request holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) spans: usize,
    pub(super) traces: usize,
}

/// The fields both kinds of event share.
struct Common<'a> {
    span_id: Option<&'a str>,
    parent_span_id: Option<&'a str>,
    session_id: &'a str,
    started_at: f64,
    ended_at: f64,
    error: Option<&'a str>,
    callsite: Option<&'a Callsite>,
}

/// What an event's own fields make of its span: the name, the kind and the attributes only
/// its kind of event has.
struct EventSpan {
    name: String,
    kind: span::SpanKind,
    attrs: Vec<KeyValue>,
}

/// Each span's id, its parent within the export and the root of its tree, by event index.
struct Tree {
    ids: Vec<[u8; 16]>,
    parent: Vec<Option<usize>>,
    roots: Vec<usize>,
}

/// A session's spans: the session when the export holds it, and its id.
type SessionSpans<'a> = (Option<&'a Session>, &'a str, Vec<Span>);

/// The request for `export`, and its counts.
pub(super) fn request(
    export: &ObservabilityExport,
    config: &ResourceConfig<'_>,
) -> (ExportTraceServiceRequest, Counts) {
    let commons = commons(export);
    let tree = tree(&commons);
    let session_of: HashMap<&str, &Session> =
        export.sessions.iter().map(|s| (s.id.as_str(), s)).collect();
    let own = export.function_events.iter().map(function_span).chain(
        export
            .events
            .iter()
            .map(|ev| llm_call_span(ev, config.messages)),
    );
    let spans = own.enumerate().map(|(i, own)| {
        let c = &commons[i];
        let session = session_of.get(c.session_id).copied();
        (session, c.session_id, span(i, c, session, &tree, own))
    });
    let scope = InstrumentationScope {
        name: "aiobs".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..InstrumentationScope::default()
    };
    let resource_spans = spans_by_session(export, spans)
        .into_iter()
        .filter(|(_, _, spans)| !spans.is_empty())
        .map(|(session, session_id, spans)| ResourceSpans {
            resource: Some(Resource {
                attributes: resource_attributes(config, session, session_id),
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope.clone()),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        })
        .collect();
    let traces = tree
        .roots
        .iter()
        .enumerate()
        .filter(|&(i, &r)| i == r)
        .count();
    (
        ExportTraceServiceRequest { resource_spans },
        Counts {
            spans: commons.len(),
            traces,
        },
    )
}

/// The fields every event has, function events first: the order of the spans.
fn commons(export: &ObservabilityExport) -> Vec<Common<'_>> {
    export
        .function_events
        .iter()
        .map(|f| Common {
            span_id: f.event.span_id.as_deref(),
            parent_span_id: f.event.parent_span_id.as_deref(),
            session_id: &f.session_id,
            started_at: f.event.started_at,
            ended_at: f.event.ended_at,
            error: f.event.error.as_deref(),
            callsite: f.event.callsite.as_ref(),
        })
        .chain(export.events.iter().map(|e| Common {
            span_id: e.event.span_id.as_deref(),
            parent_span_id: e.event.parent_span_id.as_deref(),
            session_id: &e.session_id,
            started_at: e.event.started_at,
            ended_at: e.event.ended_at,
            error: e.event.error.as_deref(),
            callsite: e.event.callsite.as_ref(),
        }))
        .collect()
}

/// The ids of the spans and the trees they make: a parent is looked for within the export.
fn tree(commons: &[Common<'_>]) -> Tree {
    let ids = commons
        .iter()
        .enumerate()
        .map(|(i, c)| match c.span_id {
            Some(id) => id_bytes(id),
            None => id_bytes(&format!("aiobs-unnamed-span-{i}-{}", c.started_at)),
        })
        .collect();
    let index: HashMap<&str, usize> = commons
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.span_id?, i)))
        .collect();
    let parent: Vec<Option<usize>> = commons
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.parent_span_id
                .and_then(|p| index.get(p).copied())
                .filter(|&p| p != i)
        })
        .collect();
    let roots = roots(&parent);
    Tree { ids, parent, roots }
}

/// A function event's span: `code.*` and its arguments, result and prompt-enhancement fields.
fn function_span(f: &ObservedFunctionEvent) -> EventSpan {
    let e = &f.event;
    let mut attrs = Vec::new();
    push_str(&mut attrs, "code.function.name", &e.api);
    if let Some(module) = &e.module {
        push_str(&mut attrs, "code.namespace", module);
    }
    push_str(&mut attrs, "aiobs.api", &e.api);
    if let Some(args) = &e.args {
        push_str(
            &mut attrs,
            "aiobs.args",
            &json_text(&Value::from(args.clone())),
        );
    }
    if let Some(kwargs) = e.kwargs.as_ref().filter(|k| !k.is_empty()) {
        push_str(
            &mut attrs,
            "aiobs.kwargs",
            &json_text(&Value::Object(kwargs.clone())),
        );
    }
    if let Some(names) = &f.arg_names {
        attrs.push(kv(
            "aiobs.arg_names",
            any_value::Value::ArrayValue(ArrayValue {
                values: names.iter().map(|n| string_value(n)).collect(),
            }),
        ));
    }
    if let Some(result) = &e.result {
        push_str(&mut attrs, "aiobs.result", &json_text(result));
    }
    if e.enh_prompt {
        attrs.push(kv("aiobs.enh_prompt", any_value::Value::BoolValue(true)));
    }
    if let Some(id) = &e.enh_prompt_id {
        push_str(&mut attrs, "aiobs.enh_prompt_id", id);
    }
    if let Some(after) = e.auto_enhance_after {
        push_u64(&mut attrs, "aiobs.auto_enhance_after", after);
    }
    EventSpan {
        name: e.name.clone(),
        kind: span::SpanKind::Internal,
        attrs,
    }
}

/// An LLM call's span, named `{operation} {model}`: the GenAI conventions' attributes (the
/// messages only when `capture_messages`), then the call as recorded.
fn llm_call_span(ev: &ObservedEvent, capture_messages: bool) -> EventSpan {
    let e = &ev.event;
    let operation = operation_name(&e.api);
    let request = &e.request;
    let response = e.response.as_ref().unwrap_or(&Value::Null);
    let model = request.get("model").and_then(Value::as_str);
    let mut attrs = Vec::new();
    push_str(
        &mut attrs,
        "gen_ai.provider.name",
        provider_name(&e.provider),
    );
    push_str(&mut attrs, "gen_ai.operation.name", &operation);
    if let Some(model) = model {
        push_str(&mut attrs, "gen_ai.request.model", model);
    }
    push_request_parameters(&mut attrs, request);
    push_response_attributes(&mut attrs, response);
    push_usage(&mut attrs, response);
    if capture_messages {
        let c = messages::conversation(&e.api, request, response);
        for (attr, value) in [
            ("gen_ai.system_instructions", c.system),
            ("gen_ai.input.messages", c.input),
            ("gen_ai.output.messages", c.output),
        ] {
            if let Some(value) = value {
                push_str(&mut attrs, attr, &json_text(&value));
            }
        }
    }
    push_str(&mut attrs, "aiobs.provider", &e.provider);
    push_str(&mut attrs, "aiobs.api", &e.api);
    push_str(&mut attrs, "aiobs.request", &json_text(request));
    if let Some(response) = &e.response {
        push_str(&mut attrs, "aiobs.response", &json_text(response));
    }
    let name = match model {
        Some(model) => format!("{operation} {model}"),
        None => operation,
    };
    EventSpan {
        name,
        kind: span::SpanKind::Client,
        attrs,
    }
}

/// `gen_ai.request.*` beside the model: the token limit, the temperature and `top_p`, from the
/// request or its (Gemini) `config`.
fn push_request_parameters(attrs: &mut Vec<KeyValue>, request: &Value) {
    let config = request
        .get("config")
        .or_else(|| request.get("generation_config"))
        .unwrap_or(&Value::Null);
    let max_tokens = first_of(
        &[request, config],
        &["max_tokens", "max_completion_tokens", "max_output_tokens"],
    );
    if let Some(n) = max_tokens.and_then(Value::as_i64) {
        attrs.push(kv(
            "gen_ai.request.max_tokens",
            any_value::Value::IntValue(n),
        ));
    }
    for (key, attr) in [
        ("temperature", "gen_ai.request.temperature"),
        ("top_p", "gen_ai.request.top_p"),
    ] {
        if let Some(x) = first_of(&[request, config], &[key]).and_then(Value::as_f64) {
            attrs.push(kv(attr, any_value::Value::DoubleValue(x)));
        }
    }
}

/// `gen_ai.response.*`: the model that answered, the answer's id, the finish reasons.
fn push_response_attributes(attrs: &mut Vec<KeyValue>, response: &Value) {
    let response_model = first_of(&[response], &["model", "model_version", "modelVersion"]);
    if let Some(m) = response_model.and_then(Value::as_str) {
        push_str(attrs, "gen_ai.response.model", m);
    }
    let response_id = first_of(&[response], &["id", "response_id", "responseId"]);
    if let Some(id) = response_id.and_then(Value::as_str) {
        push_str(attrs, "gen_ai.response.id", id);
    }
    let reasons = finish_reasons(response);
    if !reasons.is_empty() {
        attrs.push(kv(
            "gen_ai.response.finish_reasons",
            any_value::Value::ArrayValue(ArrayValue {
                values: reasons.iter().map(|r| string_value(r)).collect(),
            }),
        ));
    }
}

/// `gen_ai.usage.*`, counted the same way for every provider: the input with the prompt
/// cache's tokens (as the conventions ask), the output with reasoning.
fn push_usage(attrs: &mut Vec<KeyValue>, response: &Value) {
    let counts = token_counts(response).unwrap_or_default();
    for (attr, n) in [
        ("gen_ai.usage.input_tokens", counts.input),
        ("gen_ai.usage.output_tokens", counts.output),
        ("gen_ai.usage.cache_read.input_tokens", counts.cached),
        (
            "gen_ai.usage.cache_creation.input_tokens",
            counts.cache_write,
        ),
    ] {
        if let Some(n) = n {
            push_u64(attrs, attr, n);
        }
    }
}

/// Event `i`'s span: its own part, then what every span has (the session, the recorded ids,
/// the callsite, the error), its place in `tree` and its times.
fn span(i: usize, c: &Common<'_>, session: Option<&Session>, tree: &Tree, own: EventSpan) -> Span {
    let EventSpan {
        name,
        kind,
        mut attrs,
    } = own;
    match session {
        Some(s) => {
            push_str(&mut attrs, "session.id", &s.id);
            push_str(&mut attrs, "aiobs.session.id", &s.id);
            push_session_name_and_labels(&mut attrs, s);
        }
        None => {
            push_str(&mut attrs, "session.id", c.session_id);
            push_str(&mut attrs, "aiobs.session.id", c.session_id);
        }
    }
    if let Some(id) = c.span_id {
        push_str(&mut attrs, "aiobs.span_id", id);
    }
    if let Some(p) = c.parent_span_id {
        push_str(&mut attrs, "aiobs.parent_span_id", p);
    }
    if let Some(site) = c.callsite {
        if let Some(file) = &site.file {
            push_str(&mut attrs, "code.file.path", file);
        }
        if let Some(line) = site.line {
            push_u64(&mut attrs, "code.line.number", line);
        }
    }
    let status = c.error.map(|error| {
        push_str(&mut attrs, "error.type", error_type(error));
        Status {
            message: error.to_owned(),
            code: status::StatusCode::Error as i32,
        }
    });
    let start = unix_nanos(c.started_at);
    Span {
        trace_id: tree.ids[tree.roots[i]].to_vec(),
        span_id: tree.ids[i][..8].to_vec(),
        parent_span_id: tree.parent[i]
            .map(|p| tree.ids[p][..8].to_vec())
            .unwrap_or_default(),
        flags: SPAN_FLAGS,
        name,
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: unix_nanos(c.ended_at).max(start),
        attributes: attrs,
        status,
        ..Span::default()
    }
}

/// The spans grouped by session, sessions in the export's order (unknown ones last, in the
/// order they come).
fn spans_by_session<'a>(
    export: &'a ObservabilityExport,
    spans: impl Iterator<Item = (Option<&'a Session>, &'a str, Span)>,
) -> Vec<SessionSpans<'a>> {
    let mut by_session: Vec<SessionSpans<'a>> = export
        .sessions
        .iter()
        .map(|s| (Some(s), s.id.as_str(), Vec::new()))
        .collect();
    for (session, session_id, span) in spans {
        match by_session.iter_mut().find(|(_, id, _)| *id == session_id) {
            Some((_, _, spans)) => spans.push(span),
            None => by_session.push((session, session_id, vec![span])),
        }
    }
    by_session
}

/// A session's resource: the service, the SDK, the configured extras, the session.
fn resource_attributes(
    config: &ResourceConfig<'_>,
    session: Option<&Session>,
    session_id: &str,
) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    push_str(&mut attrs, "service.name", config.service_name);
    push_str(&mut attrs, "telemetry.sdk.name", "aiobs");
    push_str(&mut attrs, "telemetry.sdk.language", "rust");
    push_str(
        &mut attrs,
        "telemetry.sdk.version",
        env!("CARGO_PKG_VERSION"),
    );
    for (k, v) in config.extra {
        push_str(&mut attrs, k, v);
    }
    push_str(&mut attrs, "aiobs.session.id", session_id);
    if let Some(s) = session {
        push_session_name_and_labels(&mut attrs, s);
    }
    attrs
}

/// `aiobs.session.name` and an `aiobs.label.{key}` per label.
fn push_session_name_and_labels(attrs: &mut Vec<KeyValue>, s: &Session) {
    push_str(attrs, "aiobs.session.name", &s.name);
    for (k, v) in s.labels.iter().flatten() {
        push_str(attrs, &format!("aiobs.label.{k}"), v);
    }
}

/// The index of the root of each node's tree (following `parent`), cycles cut.
fn roots(parent: &[Option<usize>]) -> Vec<usize> {
    const UNKNOWN: usize = usize::MAX;
    let mut root = vec![UNKNOWN; parent.len()];
    let mut path = Vec::new();
    for start in 0..parent.len() {
        let mut at = start;
        // Climb to a node whose root is known, or to a root; a node met twice ends a cycle.
        let found = loop {
            if root[at] != UNKNOWN {
                break root[at];
            }
            if path.len() > parent.len() {
                break at;
            }
            path.push(at);
            match parent[at] {
                Some(p) => at = p,
                None => break at,
            }
        };
        for node in path.drain(..) {
            root[node] = found;
        }
    }
    root
}

/// The 16 bytes of a UUID text; any other text gets 16 bytes from two FNV-1a hashes (never
/// all zero).
pub(super) fn id_bytes(id: &str) -> [u8; 16] {
    if let Ok(uuid) = uuid::Uuid::try_parse(id) {
        let bytes = *uuid.as_bytes();
        if bytes[..8] != [0; 8] {
            return bytes;
        }
    }
    let fnv = |seed: u64| {
        id.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        }) | 1
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    bytes
}

/// Unix seconds as Unix nanoseconds (0 for negative or non-finite times).
fn unix_nanos(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1e9).round() as u64
    } else {
        0
    }
}

/// `gen_ai.provider.name` for our `provider` field.
pub(super) fn provider_name(provider: &str) -> &str {
    match provider {
        "gemini" | "google" | "google-genai" | "genai" => "gcp.gemini",
        "vertexai" | "vertex_ai" | "vertex" => "gcp.vertex_ai",
        "azure" | "azure_openai" | "azure-openai" => "azure.ai.openai",
        "bedrock" | "aws_bedrock" => "aws.bedrock",
        "mistral" | "mistralai" => "mistral_ai",
        "xai" | "grok" => "x_ai",
        other => other,
    }
}

/// `gen_ai.operation.name` for our `api` field: `chat`, `embeddings`, `generate_content`,
/// `text_completion`, else the api itself.
pub(super) fn operation_name(api: &str) -> String {
    let op = match api {
        a if a.starts_with("chat.completions") => "chat",
        "messages.create" | "messages.stream" | "responses.create" | "responses.stream" => "chat",
        a if a.starts_with("embeddings") || a.starts_with("models.embed_content") => "embeddings",
        a if a.starts_with("models.generate_content") => "generate_content",
        "completions.create" => "text_completion",
        other => other,
    };
    op.to_owned()
}

/// The first of `keys` found in any of `objects` (in order of objects, then keys).
fn first_of<'v>(objects: &[&'v Value], keys: &[&str]) -> Option<&'v Value> {
    objects
        .iter()
        .flat_map(|o| keys.iter().filter_map(move |k| o.get(k)))
        .find(|v| !v.is_null())
}

/// `choices[].finish_reason` (OpenAI) or the recorded chat answer's `finish_reason`,
/// `candidates[].finish_reason` (Gemini), `stop_reason` (Anthropic), a Responses API answer's
/// `status`.
fn finish_reasons(response: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (list, key) in [
        ("choices", "finish_reason"),
        ("candidates", "finish_reason"),
        ("candidates", "finishReason"),
    ] {
        for item in response
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = item.get(key).and_then(Value::as_str) {
                out.push(reason.to_owned());
            }
        }
    }
    for key in ["finish_reason", "stop_reason"] {
        if let Some(reason) = response.get(key).and_then(Value::as_str) {
            out.push(reason.to_owned());
        }
    }
    out
}

/// `error.type`: the `<ErrorType>` of `"<ErrorType>: <message>"`, `panic` for a panic, else
/// `_OTHER` (as the conventions say when the type is unknown).
pub(super) fn error_type(error: &str) -> &str {
    match error.split_once(": ") {
        Some((ty, _)) if !ty.trim().is_empty() && !ty.trim().contains(char::is_whitespace) => {
            ty.trim()
        }
        _ => "_OTHER",
    }
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn string_value(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn push_str(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    attrs.push(kv(key, any_value::Value::StringValue(value.to_owned())));
}

/// An integer attribute (OTLP's are signed: above `i64::MAX`, `i64::MAX`).
fn push_u64(attrs: &mut Vec<KeyValue>, key: &str, n: u64) {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    attrs.push(kv(key, any_value::Value::IntValue(n)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_uuids() {
        let id = id_bytes("0123abcd-4567-4def-8123-456789abcdef");
        assert_eq!(
            id,
            [
                0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab,
                0xcd, 0xef
            ]
        );
        let other = id_bytes("not a uuid");
        assert_ne!(other[..8], [0; 8]);
        assert_eq!(other, id_bytes("not a uuid"));
    }

    #[test]
    fn roots_follow_parents_and_cut_cycles() {
        let parent = [None, Some(0), Some(1), None, Some(5), Some(4)];
        let r = roots(&parent);
        assert_eq!(&r[..4], &[0, 0, 0, 3]);
        assert_eq!(r[4], r[5]);
    }

    #[test]
    fn operations_providers_errors() {
        assert_eq!(operation_name("chat.completions.create"), "chat");
        assert_eq!(operation_name("embeddings.create"), "embeddings");
        assert_eq!(
            operation_name("models.generate_content_stream"),
            "generate_content"
        );
        assert_eq!(operation_name("images.generate"), "images.generate");
        assert_eq!(provider_name("gemini"), "gcp.gemini");
        assert_eq!(provider_name("openai"), "openai");
        assert_eq!(error_type("ToolError: no such tool"), "ToolError");
        assert_eq!(error_type("io::Error: denied"), "io::Error");
        assert_eq!(error_type("panic: boom"), "panic");
        assert_eq!(error_type("something went wrong: x"), "_OTHER");
    }

    #[test]
    fn usage_of_every_provider() {
        let counts = |v: Value| {
            let c = token_counts(&v).unwrap_or_default();
            (c.input, c.output, c.cached)
        };
        let openai = serde_json::json!({"usage": {"prompt_tokens": 9, "completion_tokens": 12}});
        assert_eq!(counts(openai), (Some(9), Some(12), None));
        let gemini = serde_json::json!({
            "usage_metadata": {"prompt_token_count": 3, "candidates_token_count": 4}
        });
        assert_eq!(counts(gemini), (Some(3), Some(4), None));
        let anthropic = serde_json::json!({"usage": {"input_tokens": 24,
            "cache_read_input_tokens": 1800, "output_tokens": 62}});
        assert_eq!(counts(anthropic), (Some(1824), Some(62), Some(1800)));
        assert_eq!(counts(Value::Null), (None, None, None));
    }
}
