//! Rebuilding a provider's HTTP response from a recorded event: the one implementation the
//! middlewares and `aiobs replay` share.

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
    let _ = (provider, api, http, body);
    Form::Whole
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
    let _ = (provider, api, request, response, error, form);
    Err("not yet".to_owned())
}
