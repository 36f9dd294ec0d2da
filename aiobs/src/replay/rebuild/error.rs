//! A recorded error back into the HTTP error it was: the status and the body the SDK's
//! exception text quotes (`RateLimitError: Error code: 429 - {'error': {...}}`,
//! `ClientError: 429 RESOURCE_EXHAUSTED. {'error': {...}}`, `HTTPError: 404 {...}`).

use serde_json::{Value, json};

use super::python;
use crate::replay::answer::Answer;

/// The error body shape of a provider, for an error whose body can't be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `{"error": {"message", "type", "param", "code"}}`.
    OpenAi,
    /// `{"type": "error", "error": {"type", "message"}}`.
    Anthropic,
    /// `{"error": {"code", "message", "status"}}`.
    Gemini,
}

/// The exception classes of a failure to talk to the API at all (no HTTP answer to give):
/// aiobs's own and the Python SDKs'.
const TRANSPORT: [&str; 7] = [
    "ConnectionError",
    "TimeoutError",
    "IncompleteRead",
    "cancelled",
    "APIConnectionError",
    "APITimeoutError",
    "ReadTimeout",
];

/// Whether an error text records a transport failure (a connection refused, a timeout, a body
/// cut, a call dropped): something no HTTP response can replay.
pub(super) fn is_transport(error: &str) -> bool {
    let class = error.split_once(':').map_or(error, |(c, _)| c).trim();
    TRANSPORT.contains(&class)
}

/// The HTTP status an exception class stands for (openai-python's, anthropic-python's and
/// google-genai's classes).
fn class_status(class: &str) -> Option<u16> {
    Some(match class {
        "BadRequestError" | "ClientError" => 400,
        "AuthenticationError" => 401,
        "PermissionDeniedError" => 403,
        "NotFoundError" => 404,
        "ConflictError" => 409,
        "RequestTooLargeError" => 413,
        "UnprocessableEntityError" => 422,
        "RateLimitError" => 429,
        "InternalServerError" | "ServerError" | "APIError" => 500,
        "ServiceUnavailableError" => 503,
        "OverloadedError" => 529,
        _ => return None,
    })
}

/// The leading decimal number of `text` and what follows it.
fn leading_number(text: &str) -> Option<(u16, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}

/// A body quoted in an error: a Python literal, or JSON (the default provider's
/// `HTTPError: <status> <json>`), as JSON text in its key order.
fn body_json(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text == "None" {
        return None;
    }
    python::to_json(text).or_else(|| {
        serde_json::from_str::<Value>(text)
            .is_ok()
            .then(|| text.to_owned())
    })
}

/// What an error text says: the status, the body it quotes (JSON text), and the message to
/// put in a body of the provider's shape when there is none; for Gemini, the status name.
struct Parsed<'a> {
    status: u16,
    body: Option<String>,
    message: &'a str,
    state: Option<&'a str>,
}

fn parse(error: &str) -> Option<Parsed<'_>> {
    let (class, rest) = error.split_once(": ").unwrap_or((error, ""));
    let class = class.trim();
    // openai-python, anthropic-python: `Error code: 429 - {...}` (or no body).
    if let Some(after) = rest.strip_prefix("Error code: ") {
        let (status, tail) = leading_number(after)?;
        let body = tail.strip_prefix(" - ").and_then(body_json);
        return Some(Parsed {
            status,
            body,
            message: rest,
            state: None,
        });
    }
    // google-genai: `429 RESOURCE_EXHAUSTED. {...}`; the default provider: `404 {...}`.
    if let Some((status, tail)) = leading_number(rest) {
        if matches!(class, "ClientError" | "ServerError") {
            let tail = tail.trim_start();
            let (state, details) = tail.split_once(". ").unwrap_or((tail, ""));
            let state = (!state.is_empty() && state != "None").then_some(state);
            return Some(Parsed {
                status,
                body: body_json(details),
                message: rest,
                state,
            });
        }
        if class == "HTTPError" {
            return Some(Parsed {
                status,
                body: body_json(tail),
                message: rest,
                state: None,
            });
        }
    }
    // An error event of a stream (`OverloadedError: {'type': 'error', ...}`), or a body that
    // was not JSON (`BadRequestError: <the text>`): the status of the class.
    Some(Parsed {
        status: class_status(class)?,
        body: body_json(rest),
        message: rest,
        state: None,
    })
}

/// The HTTP error a recorded error text stands for: its status, with the body it quotes (in
/// its key order, so the SDK's exception text comes out the same), or a body of the
/// provider's `shape` carrying the message when it quotes none. `Err` for a transport failure
/// or a text that names no status.
pub(super) fn answer(error: &str, shape: Shape) -> Result<Answer, String> {
    if is_transport(error) {
        return Err(format!("a transport failure was recorded: {error}"));
    }
    let parsed = parse(error)
        .filter(|p| (400..=599).contains(&p.status))
        .ok_or_else(|| format!("the recorded error names no HTTP error status: {error}"))?;
    let body = match parsed.body {
        Some(body) => body,
        None => fallback_body(shape, &parsed).to_string(),
    };
    Ok(Answer {
        status: parsed.status,
        content_type: "application/json",
        body: body.into_bytes(),
    })
}

/// An error body of the provider's shape carrying the message.
fn fallback_body(shape: Shape, p: &Parsed<'_>) -> Value {
    match shape {
        Shape::OpenAi => json!({
            "error": {
                "message": p.message,
                "type": if p.status >= 500 { "server_error" } else { "invalid_request_error" },
                "param": null,
                "code": null,
            }
        }),
        Shape::Anthropic => json!({
            "type": "error",
            "error": {
                "type": anthropic_type(p.status),
                "message": p.message,
            }
        }),
        Shape::Gemini => json!({
            "error": {
                "code": p.status,
                "message": p.message,
                "status": p.state.unwrap_or(if p.status >= 500 { "INTERNAL" } else { "INVALID_ARGUMENT" }),
            }
        }),
    }
}

/// Anthropic's `error.type` for a status.
fn anthropic_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(a: &Answer) -> Value {
        serde_json::from_slice(&a.body).expect("JSON body")
    }

    #[test]
    fn error_texts_give_their_status_and_body() {
        let a = answer(
            "RateLimitError: Error code: 429 - {'error': {'message': 'slow', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}",
            Shape::OpenAi,
        )
        .expect("answer");
        assert_eq!(a.status, 429);
        assert_eq!(
            std::str::from_utf8(&a.body).ok(),
            Some(
                r#"{"error":{"message":"slow","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
            )
        );
        let a = answer(
            "ClientError: 429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'q', 'status': 'RESOURCE_EXHAUSTED'}}",
            Shape::Gemini,
        )
        .expect("answer");
        assert_eq!(a.status, 429);
        assert_eq!(body(&a)["error"]["status"], "RESOURCE_EXHAUSTED");
        let a = answer("HTTPError: 404 {\"detail\":\"no\"}", Shape::OpenAi).expect("answer");
        assert_eq!((a.status, body(&a)), (404, json!({"detail": "no"})));
        let a = answer(
            "OverloadedError: {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}",
            Shape::Anthropic,
        )
        .expect("answer");
        assert_eq!(a.status, 529);
        assert_eq!(body(&a)["error"]["type"], "overloaded_error");
    }

    #[test]
    fn unreadable_bodies_get_the_provider_s_shape() {
        let a = answer("BadRequestError: <html>oops</html>", Shape::OpenAi).expect("answer");
        assert_eq!(a.status, 400);
        assert_eq!(body(&a)["error"]["message"], "<html>oops</html>");
        let a = answer("InternalServerError: Error code: 502", Shape::Anthropic).expect("answer");
        assert_eq!(a.status, 502);
        assert_eq!(body(&a)["type"], "error");
        let a = answer("ServerError: 503 None. None", Shape::Gemini).expect("answer");
        assert_eq!(a.status, 503);
        assert_eq!(body(&a)["error"]["code"], 503);
        assert_eq!(body(&a)["error"]["status"], "INTERNAL");
    }

    #[test]
    fn transport_failures_and_unknown_errors_are_refused() {
        for e in [
            "ConnectionError: connection refused",
            "TimeoutError: operation timed out",
            "IncompleteRead: the stream broke: eof",
            "cancelled: the call was dropped before it was answered",
            "APIConnectionError: Connection error.",
            "SomethingElse: no status here",
            "APIStatusError: Error code: 302 - {}",
        ] {
            assert!(answer(e, Shape::OpenAi).is_err(), "{e}");
        }
    }
}
