//! A live request seen as the recorder would have written it: the provider and API that
//! recognise it, and its `request` as that provider records it (the Python SDK's shape for
//! OpenAI and Gemini), so that it compares with what a file holds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;

use super::answer::Form;
use super::rebuild;
use crate::scrub::url::scrub_query;
use crate::wire::{
    Body, EventFields, Exchange, HttpRequest, Provider, find, parse_body, provider_at, split_url,
};

/// A live LLM request, recognised.
pub(crate) struct Live {
    /// The provider's name, such as `openai`.
    pub(crate) provider: String,
    /// The API, such as `chat.completions.create`.
    pub(crate) api: String,
    /// The request as the provider records it (not yet scrubbed).
    pub(crate) request: Value,
    /// How the client wants its answer.
    pub(crate) form: Form,
}

impl Live {
    /// `method url body` as a provider (registered first, then built in) records it; `None` if
    /// no provider knows the endpoint.
    pub(crate) fn of(
        method: &str,
        url: &str,
        body: &[u8],
        registered: &[Arc<dyn Provider>],
    ) -> Option<Live> {
        let (path, query) = split_url(url);
        let query = query.and_then(scrub_query);
        let http = HttpRequest {
            method,
            path,
            query: query.as_deref(),
        };
        let (index, name, api) = find(registered, &http)?;
        let provider = provider_at(index, registered)?;
        let request = if body.is_empty() {
            Body::Empty
        } else {
            parse_body(body)
        };
        let form = rebuild::form(&name, &api, &http, request.json());
        let exchange = Exchange {
            api: &api,
            http,
            request: &request,
            status: None,
            response: &Body::Empty,
            response_raw: &[],
            failure: None,
            first_chunk_ms: None,
        };
        let mut fields = EventFields::for_request_value();
        // A provider that panics records no request: it then matches only a recorded null.
        let _ = catch_unwind(AssertUnwindSafe(|| provider.record(&exchange, &mut fields)));
        Some(Live {
            provider: name,
            api,
            request: fields.take_request_value().unwrap_or(Value::Null),
            form,
        })
    }
}

/// The model a recorded or live request names (its `model` field), if any.
pub(crate) fn model_of(request: &Value) -> Option<&str> {
    request.get("model").and_then(Value::as_str)
}

/// Whether a provider (registered, else built in) knows the endpoint of `method url`: an
/// LLM request, which a replay answers, not the network.
#[cfg(any(feature = "ureq", feature = "reqwest"))]
pub(crate) fn recognises(method: &str, url: &str, registered: &[Arc<dyn Provider>]) -> bool {
    let (path, query) = split_url(url);
    let http = HttpRequest {
        method,
        path,
        query,
    };
    find(registered, &http).is_some()
}
