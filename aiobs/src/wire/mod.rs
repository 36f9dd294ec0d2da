//! The LLM APIs on the wire: how an HTTP exchange with one becomes a provider event.
//!
//! A [`Provider`] recognises its endpoints by method and URL path and turns the whole
//! exchange (request body, status, response body or the events of a stream) into the event's
//! [`EventFields`]. The built-in ones ([`OpenAi`], [`Gemini`], [`Anthropic`]) parse their
//! bodies here, with the SSE parser and the token accounting they share. [`deferred`] turns an
//! exchange stored by a recorded call into its provider event at flush. Nothing here records:
//! the recording paths are in `providers/`, which re-exports the public items.

mod anthropic;
pub(crate) mod deferred;
mod fields;
mod gemini;
mod json;
mod openai;
mod sse;
mod usage;

pub use anthropic::Anthropic;
pub use fields::EventFields;
pub(crate) use fields::put_value;
pub use gemini::Gemini;
pub(crate) use json::parse_body;
#[cfg(test)]
pub(crate) use json::python_repr;
pub use openai::OpenAi;
pub use sse::SseEvent;
pub use usage::{ReportedUsage, TokenCounts, token_counts};

/// The parts of an HTTP request a provider recognises its endpoints by.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `"POST"`, `"GET"`, …
    pub method: &'a str,
    /// The URL path, such as `/v1/chat/completions`.
    pub path: &'a str,
    /// The query string without `?`, with secret parameters (`key=`) removed.
    pub query: Option<&'a str>,
}

/// A request or response body as a provider sees it.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON body; `keys` lists the top-level object keys in the order they were sent.
    Json {
        /// The parsed body.
        value: serde_json::Value,
        /// Top-level keys in their order on the wire (empty if the body is not an object).
        keys: Vec<String>,
    },
    /// A server-sent-events stream: the events read, and whether it ended as it should.
    Stream {
        /// The events, in order.
        events: Vec<SseEvent>,
        /// `false` if the stream was dropped or cut before its end.
        finished: bool,
    },
    /// A body that could not be read as JSON or events, and why (not JSON, over the size cap).
    Unreadable(String),
}

impl Body {
    /// The parsed JSON value, if the body is JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match self {
            Body::Json { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// One HTTP exchange with an LLM API, as a [`Provider`] records it.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The API string the provider gave for this request.
    pub api: &'a str,
    /// The request's method and URL.
    pub http: HttpRequest<'a>,
    /// The request body.
    pub request: &'a Body,
    /// The response status; `None` if no response arrived.
    pub status: Option<u16>,
    /// The response body (`Empty` if none arrived).
    pub response: &'a Body,
    /// The response body's bytes as received, when it was read whole (not for streams, nor
    /// over the size cap): for error messages that quote it.
    pub response_raw: &'a [u8],
    /// What went wrong other than an HTTP status: a transport error, a stream cut or dropped
    /// before its end (`"<ErrorType>: <message>"`).
    pub failure: Option<&'a str>,
    /// Milliseconds from the request to the first byte of a streamed body.
    pub first_chunk_ms: Option<f64>,
}

/// Something that knows an LLM API: it recognises the API's HTTP requests and turns an
/// exchange into the event's fields. What [`Collector::register_provider`] takes.
///
/// A provider for Ollama's native chat API (the examples have a complete one):
///
/// ```
/// use aiobs::providers::{Exchange, HttpRequest};
/// use aiobs::{EventFields, Provider};
///
/// struct Ollama;
///
/// impl Provider for Ollama {
///     fn name(&self) -> &str {
///         "ollama"
///     }
///     fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
///         (http.method == "POST" && http.path.ends_with("/api/chat")).then(|| "chat".to_owned())
///     }
///     fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
///         event.request(&exchange.request.json());
///         event.response(&exchange.response.json());
///         if let Some(failure) = exchange.failure {
///             event.error(failure);
///         }
///     }
/// }
///
/// aiobs::Collector::new().register_provider(Ollama);
/// ```
///
/// [`Collector::register_provider`]: crate::Collector::register_provider
pub trait Provider: Send + Sync {
    /// The `provider` string of the events it records, such as `"openai"`.
    fn name(&self) -> &str;

    /// The `api` string of the call `http` makes (such as `"chat.completions.create"`), or
    /// `None` if it is not one of this provider's endpoints. Decided before anything is sent.
    fn api(&self, http: &HttpRequest<'_>) -> Option<String>;

    /// Whether a stream whose reader stopped reading (and dropped it) had already received
    /// its last event, such as OpenAI's `data: [DONE]`: clients stop at that marker without
    /// waiting for the connection's end. The default, `false`, records such a stream as
    /// cancelled.
    fn stream_complete(&self, api: &str, events: &[SseEvent]) -> bool {
        let _ = (api, events);
        false
    }

    /// Writes the event's `request`, `response` and `error` for a finished exchange. The
    /// default records the bodies as they are and an error for a failure or an HTTP error
    /// status.
    fn record(&self, exchange: &Exchange<'_>, event: &mut EventFields) {
        event.request(&json::body_value(exchange.request));
        if exchange.status.is_some_and(|s| s < 400) {
            event.response(&json::body_value(exchange.response));
        }
        if let Some(error) = default_error(exchange) {
            event.error(error);
        }
    }
}

/// The error text of an exchange for providers that don't say otherwise: the failure, else
/// `HTTPError: <status> <body>` for an error status.
pub(crate) fn default_error(exchange: &Exchange<'_>) -> Option<String> {
    if let Some(f) = exchange.failure {
        return Some(f.to_owned());
    }
    let status = exchange.status.filter(|s| *s >= 400)?;
    Some(match exchange.response.json() {
        Some(body) => format!("HTTPError: {status} {body}"),
        None => format!("HTTPError: {status}"),
    })
}

/// How the built-in providers record an API the Python SDK doesn't know: the request with
/// `leading` parameters first; an error status as `status_error` words it (and nothing else);
/// else the answer read whole by `whole` or assembled from its events by `stream`, each with
/// the error the answer itself carries; and a transport failure or a dropped stream.
pub(crate) fn record_answer<R: serde::Serialize>(
    exchange: &Exchange<'_>,
    event: &mut EventFields,
    leading: &[&str],
    status_error: impl FnOnce(&Exchange<'_>) -> Option<String>,
    whole: impl FnOnce(&serde_json::Value) -> (R, Option<String>),
    stream: impl FnOnce(&[SseEvent], bool, Option<f64>) -> (R, Option<String>),
) {
    match exchange.request {
        Body::Json { value, keys } => event.request(&json::Leading {
            value,
            keys,
            leading,
        }),
        other => event.request(&json::body_value(other)),
    }
    if let Some(error) = status_error(exchange) {
        event.error(error);
        return;
    }
    let answer = |event: &mut EventFields, (response, error): (R, Option<String>)| {
        event.response(&response);
        if let Some(error) = error {
            event.error(error);
        }
    };
    match exchange.response {
        Body::Json { value, .. } => answer(event, whole(value)),
        Body::Stream { events, finished } => {
            answer(event, stream(events, *finished, exchange.first_chunk_ms));
        }
        Body::Unreadable(reason) => event.response(&json::unreadable(reason)),
        Body::Empty => {}
    }
    if let Some(failure) = exchange.failure {
        event.error(failure);
    }
}

/// The providers consulted for a request: the collector's registered ones first, then the
/// built-in ones.
/// The provider of a request (its index: the position among the registered ones, or one of
/// the built-in indexes), its name and the API.
pub(crate) fn find(
    registered: &[std::sync::Arc<dyn Provider>],
    http: &HttpRequest<'_>,
) -> Option<(u32, String, String)> {
    let registered = registered.iter().enumerate().map(|(i, p)| (i as u32, &**p));
    let builtin: [(u32, &dyn Provider); 3] = [
        (deferred::OPENAI, &OpenAi),
        (deferred::GEMINI, &Gemini),
        (deferred::ANTHROPIC, &Anthropic),
    ];
    // A registered provider that panics here costs its recognition, never the call.
    registered.chain(builtin).find_map(|(i, p)| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Some((i, p.name().to_owned(), p.api(http)?))
        }))
        .ok()
        .flatten()
    })
}

/// The provider of `index` (as [`find`] gives it): a built-in one, or a registered one by
/// its position; `None` if it is gone (the collector was reset).
pub(crate) fn provider_at(
    index: u32,
    registered: &[std::sync::Arc<dyn Provider>],
) -> Option<&dyn Provider> {
    match index {
        deferred::OPENAI => Some(&OpenAi),
        deferred::GEMINI => Some(&Gemini),
        deferred::ANTHROPIC => Some(&Anthropic),
        i => registered.get(i as usize).map(|p| &**p),
    }
}

/// Splits a URL into its path and query (the part after `?`, without the fragment).
pub(crate) fn split_url(url: &str) -> (&str, Option<&str>) {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let without_fragment = path_and_query.split('#').next().unwrap_or("");
    match without_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_fragment, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_path_and_query() {
        assert_eq!(split_url("http://h:1/v1/x?a=1#f"), ("/v1/x", Some("a=1")));
        assert_eq!(split_url("https://h"), ("/", None));
        assert_eq!(split_url("/p?q"), ("/p", Some("q")));
    }
}
