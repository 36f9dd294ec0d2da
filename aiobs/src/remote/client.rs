//! The calls to the aiobs servers, over ureq (blocking; no async runtime).

use std::time::Duration;

use serde_json::Value;

use super::{ApiKey, Remote, Usage};
use crate::error::{Error, Result};

/// Bytes of a server's answer that are read (the JSON of these servers is small).
const ANSWER_LIMIT: u64 = 1 << 20;

/// A server's answer: status and body.
struct Answer {
    status: u16,
    body: Value,
}

/// Sends a request built by `send` with a whole-call `timeout` and reads the answer, whatever
/// its status: `(status, body)`, or why the server could not be reached (never a header, so
/// never a key or token). Shared with the other HTTP users of the crate (the GCS exporter).
pub(crate) fn call(
    timeout: Duration,
    send: impl FnOnce(
        &ureq::Agent,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> std::result::Result<(u16, Vec<u8>), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let reason = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => format!("no answer within {timeout:?}"),
        other => other.to_string(),
    };
    let mut response = send(&agent).map_err(reason)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_vec()
        .map_err(reason)?;
    Ok((status, body))
}

/// [`call`], the body read as JSON (or kept as text); an error names the URL.
fn exchange(
    url: &str,
    timeout: Duration,
    send: impl FnOnce(
        &ureq::Agent,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Answer> {
    let (status, bytes) = call(timeout, send).map_err(|reason| Error::ServerUnreachable {
        url: url.to_owned(),
        reason,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned())),
    })
}

fn usage_of(body: &Value) -> Usage {
    let usage = &body["usage"];
    Usage {
        tier: usage["tier"].as_str().unwrap_or("unknown").to_owned(),
        traces_used: usage["traces_used"].as_u64().unwrap_or(0),
        traces_limit: usage["traces_limit"].as_u64().unwrap_or(0),
    }
}

/// The server's own words about an error (`{"error": "..."}`), if it gave any.
fn message(body: &Value) -> String {
    match body {
        Value::String(text) => text.chars().take(200).collect(),
        _ => body["error"]
            .as_str()
            .or_else(|| body["message"].as_str())
            .unwrap_or("")
            .to_owned(),
    }
}

fn rate_limited(body: &Value) -> Error {
    let usage = usage_of(body);
    Error::RateLimited {
        message: message(body),
        tier: usage.tier,
        used: usage.traces_used,
        limit: usage.traces_limit,
    }
}

fn status_error(url: &str, answer: &Answer) -> Error {
    Error::ServerStatus {
        url: url.to_owned(),
        status: answer.status,
        message: message(&answer.body),
    }
}

pub(super) fn validate(key: &ApiKey, remote: &Remote) -> Result<Usage> {
    let url = format!("{}/v1/usage", remote.usage_server_url());
    let answer = exchange(&url, remote.usage_timeout_or_default(), |agent| {
        agent.get(&url).header("Authorization", key.bearer()).call()
    })?;
    match answer.status {
        200..=299 => {
            let usage = usage_of(&answer.body);
            if answer.body["usage"]["is_rate_limited"].as_bool() == Some(true) {
                return Err(rate_limited(&answer.body));
            }
            Ok(usage)
        }
        401 => Err(Error::InvalidApiKey),
        429 => Err(rate_limited(&answer.body)),
        _ => Err(status_error(&url, &answer)),
    }
}

/// Uploads the trace, then records its usage (the Python SDK's order). An upload that fails
/// for another reason than the key still lets the usage be recorded; the first failure is
/// returned.
pub(super) fn send(key: &ApiKey, remote: &Remote, export: &[u8], trace_count: u64) -> Result<()> {
    let uploaded = upload(key, remote, export);
    if let Err(Error::InvalidApiKey) = uploaded {
        return uploaded;
    }
    let recorded = if trace_count > 0 {
        record_usage(key, remote, trace_count)
    } else {
        Ok(())
    };
    uploaded.and(recorded)
}

fn upload(key: &ApiKey, remote: &Remote, export: &[u8]) -> Result<()> {
    let url = format!("{}/v1/traces", remote.flush_server_url());
    let answer = exchange(&url, remote.flush_timeout_or_default(), |agent| {
        agent
            .post(&url)
            .header("Authorization", key.bearer())
            .content_type("application/json")
            .send(export)
    })?;
    match answer.status {
        200..=299 => Ok(()),
        401 => Err(Error::InvalidApiKey),
        _ => Err(status_error(&url, &answer)),
    }
}

fn record_usage(key: &ApiKey, remote: &Remote, trace_count: u64) -> Result<()> {
    let url = format!("{}/v1/usage", remote.usage_server_url());
    let body = serde_json::json!({ "trace_count": trace_count }).to_string();
    let answer = exchange(&url, remote.usage_timeout_or_default(), |agent| {
        agent
            .post(&url)
            .header("Authorization", key.bearer())
            .content_type("application/json")
            .send(body.as_bytes())
    })?;
    match answer.status {
        200..=299 => Ok(()),
        401 => Err(Error::InvalidApiKey),
        429 => Err(rate_limited(&answer.body)),
        _ => Err(status_error(&url, &answer)),
    }
}
