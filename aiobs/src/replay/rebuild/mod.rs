//! Rebuilding a provider's HTTP response from a recorded event: the one implementation the
//! middlewares and `aiobs replay` share.
//!
//! A provider event keeps what `wire/` parsed of the answer (`id`, `model`, `text`, tool
//! calls, the finish reason, usage; for an error, the SDK's exception text). Rebuilding writes
//! that back in the provider's wire format, whole or as the stream the live request asks for,
//! so that the recording parser reads the same event from it again: that round trip is what
//! the tests check. What the recorder doesn't keep is a constant (`created: 0`, a `signature`
//! of `""`), and a stream is rebuilt in few chunks (the recorded chunk count is not kept).

// The replaying middlewares and `aiobs replay` are being written on another branch: until
// they call in, only the tests do.
#![cfg_attr(not(test), allow(dead_code))]

mod anthropic;
mod error;
mod gemini;
mod openai;
mod python;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::answer::{Answer, Form};
use crate::wire::HttpRequest;

/// How the live request wants its answer: OpenAI and Anthropic by `"stream": true` in the
/// body, Gemini by the path (`:streamGenerateContent`, with `alt=sse` for events).
pub(crate) fn form(
    provider: &str,
    api: &str,
    http: &HttpRequest<'_>,
    body: Option<&Value>,
) -> Form {
    let streams = || body.and_then(|b| b.get("stream")).and_then(Value::as_bool) == Some(true);
    match (provider, api) {
        ("openai", "chat.completions.create" | "responses.create")
        | ("anthropic", "messages.create")
            if streams() =>
        {
            Form::Sse
        }
        ("gemini", "models.generate_content" | "models.generate_content_stream")
            if http.path.contains(":streamGenerateContent") =>
        {
            let sse = http
                .query
                .is_some_and(|q| q.split('&').any(|p| p == "alt=sse"));
            if sse { Form::Sse } else { Form::JsonArray }
        }
        _ => Form::Whole,
    }
}

/// The recorded event's answer (its `response`, or its `error` for a failed call) rebuilt in
/// the provider's wire format, in `form`. `Err` says why it can't be (a transport failure
/// was recorded, the response is missing or not of the provider's shape).
pub(crate) fn rebuild(
    provider: &str,
    api: &str,
    request: &Value,
    response: Option<&Value>,
    error: Option<&str>,
    form: Form,
) -> Result<Answer, String> {
    if let Some(e) = error.filter(|e| error::is_transport(e)) {
        return Err(format!("a transport failure was recorded: {e}"));
    }
    let response = response.filter(|r| !r.is_null());
    if let Some(reason) = response
        .and_then(|r| r.get("aiobs_unreadable"))
        .and_then(Value::as_str)
    {
        return Err(format!("the response was not recorded: {reason}"));
    }
    let call = Recorded {
        request,
        response,
        error,
        form,
    };
    match (provider, api) {
        ("openai", "chat.completions.create") => openai::chat(&call),
        ("openai", "embeddings.create") => openai::embeddings(&call),
        ("openai", "responses.create") => openai::responses(&call),
        ("anthropic", "messages.create") => anthropic::messages(&call),
        ("gemini", "models.generate_content" | "models.generate_content_stream") => {
            gemini::content(&call)
        }
        ("gemini", "models.generate_videos") => gemini::videos(&call),
        _ => unknown(&call),
    }
}

/// A recorded call, as `rebuild` was given it (a null response is none).
pub(super) struct Recorded<'a> {
    pub(super) request: &'a Value,
    pub(super) response: Option<&'a Value>,
    pub(super) error: Option<&'a str>,
    pub(super) form: Form,
}

impl<'a> Recorded<'a> {
    /// The recorded response, or the recorded error as its HTTP error (in `shape`), or why
    /// neither can be answered.
    fn response_or_error(&self, shape: error::Shape) -> Result<&'a Value, Result<Answer, String>> {
        match (self.response, self.error) {
            (Some(r), _) => Ok(r),
            (None, Some(e)) => Err(error::answer(e, shape)),
            (None, None) => Err(Err("the event recorded no response and no error".to_owned())),
        }
    }
}

/// A provider or API this module doesn't know: the default [`Provider::record`] keeps the
/// body as it was, so a whole answer is that body; an `HTTPError: <status> <body>` is that
/// error.
///
/// [`Provider::record`]: crate::Provider::record
fn unknown(call: &Recorded<'_>) -> Result<Answer, String> {
    match (call.response, call.error, call.form) {
        (Some(r), None, Form::Whole) => Ok(json(r)),
        (None, Some(e), _) if e.starts_with("HTTPError: ") => {
            error::answer(e, error::Shape::OpenAi)
        }
        (Some(_), _, Form::Sse | Form::JsonArray) => {
            Err("a stream of an unknown API can't be rebuilt".to_owned())
        }
        (_, Some(e), _) => Err(format!("the recorded error can't be answered: {e}")),
        (None, None, _) => Err("the event recorded no response".to_owned()),
    }
}

/// A whole JSON answer, status 200.
fn json(value: &Value) -> Answer {
    Answer {
        status: 200,
        content_type: "application/json",
        body: value.to_string().into_bytes(),
    }
}

/// A JSON array of chunks (Gemini's stream without `alt=sse`), status 200.
fn json_array(chunks: &[Value]) -> Answer {
    json(&Value::Array(chunks.to_vec()))
}

/// A server-sent-events body being written.
#[derive(Default)]
struct Sse(String);

impl Sse {
    /// An event: its `event:` line when named, its data on one `data:` line.
    fn event(&mut self, name: Option<&str>, data: &str) {
        if let Some(name) = name {
            self.0.push_str("event: ");
            self.0.push_str(name);
            self.0.push('\n');
        }
        // JSON text written by serde_json has no raw newlines; a line each keeps any other.
        for line in data.split('\n') {
            self.0.push_str("data: ");
            self.0.push_str(line);
            self.0.push('\n');
        }
        self.0.push('\n');
    }

    /// A JSON event.
    fn data(&mut self, name: Option<&str>, value: &Value) {
        self.event(name, &value.to_string());
    }

    fn answer(self) -> Answer {
        Answer {
            status: 200,
            content_type: "text/event-stream",
            body: self.0.into_bytes(),
        }
    }
}

/// A string field of a recorded value.
fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A field of a recorded value that is present and not null.
fn some<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// The items of a recorded array; none when it is missing or not an array.
fn items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}
