//! [`OtlpExporter`]: the trace as OpenTelemetry spans, sent over OTLP/HTTP with protobuf.

mod convert;
mod messages;

use std::fmt;
use std::time::Duration;

use prost::Message;
use serde_json::json;

use crate::document::ExportDocument;
use crate::exporters::{BoxError, ExportResult, Exporter};
use crate::scrub::REDACTED;

/// The endpoint when neither the builder nor the environment names one.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// How long one export may take when neither the builder nor the environment says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of an error answer that are read and quoted in the error.
const ANSWER_LIMIT: u64 = 64 * 1024;

/// Characters of an error answer quoted in the error.
const QUOTED_ANSWER: usize = 300;

/// Sends each flush to an OpenTelemetry backend (Jaeger, Grafana Tempo, Arize Phoenix, Langfuse,
/// an OpenTelemetry Collector, …) as spans over OTLP/HTTP with protobuf: one `POST` of an
/// `ExportTraceServiceRequest` to `{endpoint}/v1/traces` per flush, blocking, over ureq (no
/// async runtime).
///
/// Every event becomes a span. Function events keep their name; provider events (LLM calls)
/// follow the OpenTelemetry GenAI semantic conventions (`chat gpt-4o`, `gen_ai.usage.*`, …).
/// Each tree of calls is one trace whose id is the UUID of its root span, and a span's id is
/// the first 8 bytes of its UUID. The attributes are listed in the book's chapter "Sending
/// traces elsewhere".
///
/// Configuration, each builder method winning over its variable:
///
/// | | builder | environment | default |
/// |---|---|---|---|
/// | where | [`traces_endpoint`](Self::traces_endpoint) (full URL), [`endpoint`](Self::endpoint) (base URL, `/v1/traces` appended) | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (full URL), `OTEL_EXPORTER_OTLP_ENDPOINT` (base URL) | `http://localhost:4318/v1/traces` |
/// | headers | [`header`](Self::header) | `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k2=v2`, values percent-decoded) | none |
/// | timeout | [`timeout`](Self::timeout) | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds) | 10 s |
/// | `service.name` | [`service_name`](Self::service_name) | `OTEL_SERVICE_NAME` | `aiobs` |
/// | other resource attributes | | `OTEL_RESOURCE_ATTRIBUTES` (`k=v,…`) | |
/// | the conversation of LLM calls in `gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions` | [`capture_messages`](Self::capture_messages) | `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` | off, as the conventions ask |
///
/// A non-2xx answer, or no answer, is an error naming the URL (never a header value, which may
/// hold an API key); the flush then keeps every event for the next one.
///
/// ```no_run
/// use aiobs::exporters::OtlpExporter;
///
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new().session_name("agent"))?;
/// // ... observed calls ...
/// let otlp = OtlpExporter::new() // OTEL_EXPORTER_OTLP_* or http://localhost:4318
///     .service_name("my-agent");
/// let result = obs.flush_to(&otlp, false)?;
/// println!("{} spans to {}", result.metadata["spans"], result.destination.unwrap());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OtlpExporter {
    url: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    service_name: String,
    resource: Vec<(String, String)>,
    capture_messages: bool,
}

impl OtlpExporter {
    /// Configured from the process environment (the `OTEL_*` variables in the table above),
    /// else the defaults.
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new();
    /// println!("sending to {}", otlp.traces_url());
    /// ```
    pub fn new() -> OtlpExporter {
        OtlpExporter::from_env_with(|name| std::env::var(name).ok())
    }

    /// Configured from the variables that `lookup` returns (by name, such as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`), else the defaults: [`new`](Self::new) with
    /// `std::env::var`. Empty values count as unset.
    ///
    /// ```
    /// use aiobs::exporters::OtlpExporter;
    ///
    /// let otlp = OtlpExporter::from_env_with(|name| match name {
    ///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318/".into()),
    ///     _ => None,
    /// });
    /// assert_eq!(otlp.traces_url(), "http://collector:4318/v1/traces");
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> OtlpExporter {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let url = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(full), _) => full.trim().to_owned(),
            (None, Some(base)) => traces_url_of(base.trim()),
            (None, None) => traces_url_of(DEFAULT_ENDPOINT),
        };
        let mut headers = Vec::new();
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            for (key, value) in var(name).as_deref().map(parse_pairs).unwrap_or_default() {
                set_header(&mut headers, key, value);
            }
        }
        let timeout = var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_TIMEOUT"))
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        let resource: Vec<_> = var("OTEL_RESOURCE_ATTRIBUTES")
            .as_deref()
            .map(parse_pairs)
            .unwrap_or_default();
        let service_name = var("OTEL_SERVICE_NAME")
            .map(|s| s.trim().to_owned())
            .or_else(|| {
                resource
                    .iter()
                    .find(|(k, _)| k == "service.name")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| "aiobs".to_owned());
        let capture_messages = var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        OtlpExporter {
            capture_messages,
            url,
            headers,
            timeout,
            service_name,
            resource: resource
                .into_iter()
                .filter(|(k, _)| k != "service.name")
                .collect(),
        }
    }

    /// Whether LLM calls carry their conversation in the GenAI conventions' opt-in attributes:
    /// `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` (JSON
    /// text: messages of `{role, parts}`, text, tool calls and tool results, the answer's
    /// `finish_reason`). Off unless set here or by
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`: the conventions leave message
    /// content out by default. (`aiobs.request` and `aiobs.response` carry the recorded bodies
    /// either way, scrubbed as the JSON file is.)
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new().capture_messages(true);
    /// # let _ = otlp;
    /// ```
    pub fn capture_messages(mut self, on: bool) -> OtlpExporter {
        self.capture_messages = on;
        self
    }

    /// Sends to `base` with `/v1/traces` appended (as `OTEL_EXPORTER_OTLP_ENDPOINT` is read).
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new().endpoint("http://localhost:6006");
    /// assert_eq!(otlp.traces_url(), "http://localhost:6006/v1/traces");
    /// ```
    pub fn endpoint(mut self, base: impl AsRef<str>) -> OtlpExporter {
        self.url = traces_url_of(base.as_ref().trim());
        self
    }

    /// Sends to `url` as it is (as `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is read).
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new()
    ///     .traces_endpoint("https://otlp.example.com/api/traces");
    /// assert_eq!(otlp.traces_url(), "https://otlp.example.com/api/traces");
    /// ```
    pub fn traces_endpoint(mut self, url: impl Into<String>) -> OtlpExporter {
        self.url = url.into().trim().to_owned();
        self
    }

    /// Sends the header `name: value` with every request, replacing one of the same name
    /// (case-insensitively) from the environment. Its value appears in no error or `Debug` text.
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new()
    ///     .header("Authorization", "Basic cGs6c2s=");
    /// assert!(!format!("{otlp:?}").contains("cGs6c2s="));
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> OtlpExporter {
        set_header(&mut self.headers, name.into(), value.into());
        self
    }

    /// Bounds each export (connecting, sending, reading the answer); 10 s by default.
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new()
    ///     .timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> OtlpExporter {
        self.timeout = timeout;
        self
    }

    /// The resource's `service.name`: how the backend lists the spans' origin.
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::new().service_name("support-bot");
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> OtlpExporter {
        self.service_name = name.into();
        self
    }

    /// The URL the spans are posted to.
    ///
    /// ```
    /// let otlp = aiobs::exporters::OtlpExporter::from_env_with(|_| None);
    /// assert_eq!(otlp.traces_url(), "http://localhost:4318/v1/traces");
    /// ```
    pub fn traces_url(&self) -> &str {
        &self.url
    }

    /// The export of `doc` as an OTLP `ExportTraceServiceRequest`, protobuf-encoded: what
    /// [`export`](Exporter::export) posts. Also the span count.
    fn encode(&self, doc: &ExportDocument<'_>) -> Result<(Vec<u8>, convert::Counts), BoxError> {
        let model = doc.to_flat_model()?;
        let (request, counts) = convert::request(
            &model,
            &convert::ResourceConfig {
                service_name: &self.service_name,
                extra: &self.resource,
                messages: self.capture_messages,
            },
        );
        Ok((request.encode_to_vec(), counts))
    }

    fn post(&self, body: &[u8]) -> Result<u16, BoxError> {
        let url = &self.url;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent
            .post(url)
            .header("Content-Type", "application/x-protobuf")
            .header(
                "User-Agent",
                concat!("aiobs-rust/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &self.headers {
            if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || ureq::http::HeaderValue::from_str(value).is_err()
            {
                return Err(format!(
                    "OTLP export to {url}: the header {name:?} is not a valid HTTP header"
                )
                .into());
            }
            request = request.header(name, value);
        }
        let timeout = self.timeout;
        let failed = |e: ureq::Error| -> BoxError {
            let reason = match e {
                ureq::Error::Timeout(_) => format!("no answer within {timeout:?}"),
                other => self.redact(&other.to_string()),
            };
            format!("OTLP export to {url} failed: {reason}").into()
        };
        let mut response = request.send(body).map_err(failed)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(status);
        }
        let answer = response
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_string()
            .unwrap_or_default();
        let answer: String = self
            .redact(answer.trim())
            .chars()
            .take(QUOTED_ANSWER)
            .collect();
        let answer = if answer.is_empty() {
            String::new()
        } else {
            format!(": {answer}")
        };
        Err(format!("OTLP export to {url} failed: HTTP {status}{answer}").into())
    }

    /// `text` with every header value (and its Basic-auth payload) replaced.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (_, value) in &self.headers {
            let value = value.trim();
            let mut secrets = vec![value];
            if let Some((_, token)) = value.split_once(' ') {
                secrets.push(token.trim());
            }
            for secret in secrets {
                if secret.len() >= 4 {
                    text = text.replace(secret, REDACTED);
                }
            }
        }
        text
    }
}

impl Default for OtlpExporter {
    /// [`OtlpExporter::new`].
    fn default() -> OtlpExporter {
        OtlpExporter::new()
    }
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(k, _)| format!("{k}: {REDACTED}"))
            .collect();
        f.debug_struct("OtlpExporter")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("service_name", &self.service_name)
            .field("resource", &self.resource)
            .field("capture_messages", &self.capture_messages)
            .finish()
    }
}

impl Exporter for OtlpExporter {
    /// Posts the document's events as spans. The [`ExportResult`] names the URL, the bytes
    /// sent, and in `metadata` the `spans`, `traces` and the answer's `http_status`. A flush
    /// with no event sends nothing (`spans` 0, no `http_status`).
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, BoxError> {
        let (body, counts) = self.encode(doc)?;
        let mut result = ExportResult {
            destination: Some(self.url.clone()),
            bytes_written: Some(0),
            ..ExportResult::default()
        };
        result.metadata.insert("spans".into(), json!(counts.spans));
        result
            .metadata
            .insert("traces".into(), json!(counts.traces));
        if counts.spans == 0 {
            return Ok(result);
        }
        let status = self.post(&body)?;
        result.bytes_written = Some(body.len() as u64);
        result.metadata.insert("http_status".into(), json!(status));
        Ok(result)
    }

    fn name(&self) -> &str {
        "otlp"
    }
}

/// `{base}/v1/traces`, with one slash between.
fn traces_url_of(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// Replaces the header of the same name (ASCII case-insensitively), else appends.
fn set_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
    headers.push((name, value));
}

/// `k=v,k2=v2` (as the `OTEL_*_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` variables are
/// written): keys and values trimmed and percent-decoded; entries without `=` or key skipped.
fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let key = percent_decode(key.trim());
            (!key.is_empty()).then(|| (key, percent_decode(value.trim())))
        })
        .collect()
}

/// `%XX` escapes decoded (as UTF-8, lossily); anything else kept, `+` included.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_without_environment() {
        let otlp = OtlpExporter::from_env_with(|_| None);
        assert_eq!(otlp.url, "http://localhost:4318/v1/traces");
        assert!(otlp.headers.is_empty());
        assert_eq!(otlp.timeout, DEFAULT_TIMEOUT);
        assert_eq!(otlp.service_name, "aiobs");
    }

    #[test]
    fn endpoints_from_environment() {
        let base = OtlpExporter::from_env_with(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://cloud.langfuse.com/api/public/otel",
        )]));
        assert_eq!(
            base.url,
            "https://cloud.langfuse.com/api/public/otel/v1/traces"
        );
        let full = OtlpExporter::from_env_with(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:9999/traces"),
        ]));
        assert_eq!(full.url, "http://b:9999/traces");
        let empty = OtlpExporter::from_env_with(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]));
        assert_eq!(empty.url, "http://localhost:4318/v1/traces");
        // The builder wins.
        assert_eq!(
            full.endpoint("http://c:1/").url,
            "http://c:1/v1/traces".to_owned()
        );
    }

    #[test]
    fn headers_timeout_service_from_environment() {
        let otlp = OtlpExporter::from_env_with(env(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Basic%20cGs6c2s=, x-team = a%2Cb ,broken,=nokey",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X-Team=traces"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_SERVICE_NAME", "bot"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.name=ignored",
            ),
        ]));
        assert_eq!(
            otlp.headers,
            vec![
                ("Authorization".to_owned(), "Basic cGs6c2s=".to_owned()),
                ("X-Team".to_owned(), "traces".to_owned()),
            ]
        );
        assert_eq!(otlp.timeout, Duration::from_millis(2500));
        assert_eq!(otlp.service_name, "bot");
        assert_eq!(
            otlp.resource,
            vec![("deployment.environment".to_owned(), "prod".to_owned())]
        );
        let otlp = otlp
            .header("authorization", "Bearer k-123")
            .service_name("x");
        assert_eq!(otlp.headers.len(), 2);
        assert_eq!(
            otlp.headers[1],
            ("authorization".into(), "Bearer k-123".into())
        );
        assert_eq!(otlp.service_name, "x");
        let debug = format!("{otlp:?}");
        assert!(!debug.contains("k-123"), "{debug}");
        assert_eq!(
            otlp.redact("refused Bearer k-123 and k-123"),
            "refused [REDACTED] and [REDACTED]"
        );
    }

    #[test]
    fn service_name_from_resource_attributes() {
        let otlp = OtlpExporter::from_env_with(env(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attrs",
        )]));
        assert_eq!(otlp.service_name, "from-attrs");
        assert!(otlp.resource.is_empty());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%3d%zz%2"), "a b=%zz%2");
        assert_eq!(percent_decode("caf%C3%A9+x"), "café+x");
    }
}
