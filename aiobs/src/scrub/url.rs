//! Secrets in what an HTTP client integration stores before any [`Scrubbing`] rules apply,
//! whatever those rules are: the query of a request's URL, and an HTTP client's error text,
//! which may quote the URL or a header.
//!
//! [`Scrubbing`]: super::Scrubbing

use std::borrow::Cow;

use super::{REDACTED, names};

/// Removes secret parameters (`key`, `api_key`, `api-key`, `access_token`, …; see
/// [`names::is_secret_param`]) from a query string; `None` if nothing is left.
pub(crate) fn scrub_query(query: &str) -> Option<Cow<'_, str>> {
    let secret =
        |pair: &str| names::is_secret_param(pair.split('=').next().unwrap_or("").as_bytes());
    if !query.split('&').any(secret) {
        return (!query.is_empty()).then_some(Cow::Borrowed(query));
    }
    let kept: Vec<&str> = query.split('&').filter(|p| !secret(p)).collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join("&")))
}

/// Removes secrets from text that may quote a URL or a header (an error message of an HTTP
/// client): the values of secret-looking `name=value` parameters and of bearer tokens.
pub(crate) fn scrub_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // Everything in `text[copied..]` is still to be copied.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let value_start = if bytes[i] == b'=' {
            let name_start = text[..i]
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
                .map_or(0, |(p, c)| p + c.len_utf8());
            names::is_secret_param(&bytes[name_start..i]).then_some(i + 1)
        } else if bytes.len() - i >= 7 && bytes[i..i + 7].eq_ignore_ascii_case(b"bearer ") {
            Some(i + 7)
        } else {
            None
        };
        match value_start {
            Some(start) => {
                let end = text[start..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ')' | ','))
                    .map_or(text.len(), |p| start + p);
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}
