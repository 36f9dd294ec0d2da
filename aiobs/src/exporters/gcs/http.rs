//! The HTTP side: one request over ureq (blocking), its answer read whole, errors naming the
//! URL (never a header, so never a token).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::GcsError;

/// An answer: status and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Sends a request built by `send` and reads the answer, whatever its status.
pub(crate) fn exchange(
    url: &str,
    timeout: Duration,
    send: impl FnOnce(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Answer, GcsError> {
    let (status, body) =
        crate::remote::client::call(timeout, send).map_err(|reason| GcsError::Unreachable {
            url: url.to_owned(),
            reason,
        })?;
    Ok(Answer { status, body })
}

/// What [`percent_encode`] keeps: the unreserved characters of RFC 3986.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but the unreserved characters (RFC 3986), for a query value or
/// a path segment.
pub(crate) fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The start of a non-JSON answer, as text.
pub(crate) fn short_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(300)
        .collect()
}

/// GCS's own words about an error: `{"error": {"message": …}}`, else the text of the answer.
pub(crate) fn gcs_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let error = &value["error"];
        if let Some(message) = error["message"].as_str().or_else(|| error.as_str()) {
            return message.to_owned();
        }
    }
    short_text(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            percent_encode("traces/2024-01-02/a b+c&d=é.json"),
            "traces%2F2024-01-02%2Fa%20b%2Bc%26d%3D%C3%A9.json"
        );
    }

    #[test]
    fn gcs_messages() {
        let body = br#"{"error": {"code": 403, "message": "denied.", "errors": []}}"#;
        assert_eq!(gcs_message(body), "denied.");
        assert_eq!(gcs_message(b"  Not Found \n"), "Not Found");
        assert_eq!(gcs_message(b""), "");
    }
}
