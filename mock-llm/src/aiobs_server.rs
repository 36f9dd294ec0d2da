//! The aiobs usage ("shepherd") and trace ("flush") servers: the API key, the trace quota and
//! the stored export documents.

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::http::{Received, Reply};

const JSON: &str = "application/json";

/// The key the aiobs routes accept until [`MockServer::set_api_key`](crate::MockServer::set_api_key).
pub(crate) const DEFAULT_API_KEY: &str = "aiobs_sk_test";
/// The trace quota until [`MockServer::set_usage`](crate::MockServer::set_usage).
pub(crate) const DEFAULT_LIMIT: u64 = 1000;

/// What the aiobs servers remember between requests.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) api_key: String,
    pub(crate) used: u64,
    pub(crate) limit: u64,
    /// Every body `POST */v1/traces` accepted, in order.
    pub(crate) traces: Vec<Value>,
}

impl Default for State {
    fn default() -> State {
        State {
            api_key: DEFAULT_API_KEY.to_owned(),
            used: 0,
            limit: DEFAULT_LIMIT,
            traces: Vec::new(),
        }
    }
}

/// An aiobs route, by path suffix (any base URL prefix works, as for the LLM routes).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    /// `*/v1/usage`: `GET` checks the key, `POST` spends quota.
    Usage,
    /// `*/v1/traces`: `POST` stores an export document.
    Traces,
}

/// The aiobs route `request` is for, or `None` when it is for another route.
pub(crate) fn endpoint(request: &Received) -> Option<Endpoint> {
    let path = request.path.as_str();
    match () {
        _ if path.ends_with("/v1/usage") => Some(Endpoint::Usage),
        _ if path.ends_with("/v1/traces") => Some(Endpoint::Traces),
        _ => None,
    }
}

/// Answers a request to `endpoint`, updating `state`. The key is checked first, then the
/// body, then the quota.
pub(crate) fn answer(endpoint: Endpoint, request: &Received, state: &mut State) -> Reply {
    let method = request.method.as_str();
    match (endpoint, method) {
        (Endpoint::Usage, "GET" | "POST") | (Endpoint::Traces, "POST") => {}
        _ => return failure(405, "Method not allowed"),
    }
    if !authorized(request, &state.api_key) {
        return failure(401, "Invalid API key");
    }
    match (endpoint, method) {
        (Endpoint::Usage, "GET") => usage_reply(200, state),
        (Endpoint::Usage, _) => spend(request, state),
        (Endpoint::Traces, _) => store(request, state),
    }
}

/// `Authorization: Bearer <key>` with the expected key (the scheme's case ignored).
fn authorized(request: &Received, key: &str) -> bool {
    let Some((scheme, token)) = request
        .header("authorization")
        .and_then(|v| v.split_once(' '))
    else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && token.trim() == key
}

/// `POST */v1/usage` with `{"trace_count": n}`: adds `n` to the traces used, unless that would
/// pass the limit (429, nothing added).
fn spend(request: &Received, state: &mut State) -> Reply {
    let count = serde_json::from_slice::<Value>(&request.body)
        .ok()
        .and_then(|body| body.get("trace_count")?.as_u64());
    let Some(count) = count else {
        return failure(
            400,
            "Body must be a JSON object with trace_count, a non-negative integer",
        );
    };
    match state.used.checked_add(count) {
        Some(used) if used <= state.limit => {
            state.used = used;
            usage_reply(200, state)
        }
        _ => usage_reply(429, state),
    }
}

/// `POST */v1/traces`: keeps the document and counts its events and function events.
fn store(request: &Received, state: &mut State) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return failure(400, "Body must be JSON");
    };
    let len = |key: &str| body.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    let trace_count = len("events") + len("function_events");
    state.traces.push(body);
    reply(
        200,
        &json!({"success": true, "message": "Traces stored", "trace_count": trace_count}),
    )
}

/// The usage document as the usage server sends it: with `success: true`, or for a 429 with
/// `success: false` and the error.
fn usage_reply(status: u16, state: &State) -> Reply {
    let (used, limit) = (state.used, state.limit);
    let usage = json!({
        "tier": "free",
        "traces_used": used,
        "traces_limit": limit,
        "traces_remaining": limit.saturating_sub(used),
        "is_rate_limited": status == 429 || used >= limit,
    });
    let body = match status {
        200 => json!({"success": true, "usage": usage}),
        _ => json!({"success": false, "error": "Rate limit exceeded", "usage": usage}),
    };
    reply(status, &body)
}

fn failure(status: u16, error: &str) -> Reply {
    reply(status, &json!({"success": false, "error": error}))
}

fn reply(status: u16, body: &Value) -> Reply {
    Reply::Full {
        status,
        content_type: JSON,
        body: Cow::Owned(body.to_string()),
    }
}
