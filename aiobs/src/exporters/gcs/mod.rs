//! Google Cloud Storage: each flush becomes one object, uploaded through the GCS JSON API.

mod auth;
mod http;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::document::ExportDocument;
use crate::exporters::{BoxError, ExportResult, Exporter};
use crate::store::Kind;

use auth::{ServiceAccount, Token};
use http::percent_encode;

/// The GCS JSON API's address, when no emulator or endpoint is set.
///
/// ```
/// let exporter = aiobs::exporters::GcsExporter::new("b").endpoint(aiobs::exporters::DEFAULT_ENDPOINT);
/// assert_eq!(exporter.endpoint_url(), "https://storage.googleapis.com");
/// ```
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// The environment variable naming a GCS emulator (`host:port` or a URL), as Google's client
/// libraries honour it: uploads go there, with no credentials.
///
/// ```
/// assert_eq!(aiobs::exporters::EMULATOR_ENV, "STORAGE_EMULATOR_HOST");
/// ```
pub const EMULATOR_ENV: &str = "STORAGE_EMULATOR_HOST";

/// The environment variable naming a service-account key file, as Google's libraries read it.
///
/// ```
/// assert_eq!(aiobs::exporters::CREDENTIALS_ENV, "GOOGLE_APPLICATION_CREDENTIALS");
/// ```
pub const CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// Sends each flush to a Google Cloud Storage bucket, as one JSON object, like the Python
/// SDK's `GCSExporter`.
///
/// The object is `{prefix}{filename}`, the file name made from
/// [`filename_template`](Self::filename_template) (default `{session_id}.json`). It is
/// uploaded with the GCS JSON API (a `multipart` upload: the object's resource, then its bytes)
/// over ureq, blocking, with no async runtime.
///
/// Where it goes, in order: [`emulator`](Self::emulator) or [`endpoint`](Self::endpoint) if
/// set; else the emulator named by `STORAGE_EMULATOR_HOST` (read at each export); else
/// `https://storage.googleapis.com`. An emulator gets no credentials. Otherwise the upload
/// carries an OAuth token obtained with a service-account key file:
/// [`credentials_path`](Self::credentials_path), else `GOOGLE_APPLICATION_CREDENTIALS` (read at
/// each export). The token is kept, and reused until a minute before it expires.
///
/// The export reports `gs://{bucket}/{object}` as its destination, the bytes uploaded, and as
/// metadata `bucket`, `blob_path`, `content_type`, `sessions_count`, `events_count` (provider
/// events) and `function_events_count`. A failure is a [`GcsError`]; the flush then keeps its
/// events for the next one.
///
/// ```no_run
/// use aiobs::exporters::GcsExporter;
///
/// let exporter = GcsExporter::new("my-observability-bucket")
///     .prefix("traces")
///     .credentials_path("/secrets/service-account.json")
///     .filename_template("{date}/{session_id}-{timestamp}.json");
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new())?;
/// // ... observed work ...
/// let result = obs.flush_to(&exporter, true)?;
/// println!("uploaded to {}", result.destination.unwrap());
/// # Ok::<(), aiobs::Error>(())
/// ```
pub struct GcsExporter {
    bucket: String,
    prefix: String,
    project: Option<String>,
    credentials_path: Option<PathBuf>,
    filename_template: String,
    content_type: String,
    object_metadata: BTreeMap<String, String>,
    endpoint: Option<Endpoint>,
    timeout: Duration,
    /// The access token, kept between exports.
    token: Mutex<Option<Token>>,
}

/// An address set on the exporter.
#[derive(Debug, Clone)]
enum Endpoint {
    /// A JSON API base URL; credentials as usual.
    Api(String),
    /// An emulator: no credentials.
    Emulator(String),
}

impl fmt::Debug for GcsExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcsExporter")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("project", &self.project)
            .field("credentials_path", &self.credentials_path)
            .field("filename_template", &self.filename_template)
            .field("content_type", &self.content_type)
            .field("object_metadata", &self.object_metadata)
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl GcsExporter {
    /// An exporter to `bucket`, with no prefix, the file name `{session_id}.json`, the content
    /// type `application/json`, a 30 s timeout, and credentials and address from the
    /// environment (see the type's docs).
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("my-bucket");
    /// assert_eq!(exporter.bucket(), "my-bucket");
    /// ```
    pub fn new(bucket: impl Into<String>) -> Self {
        GcsExporter {
            bucket: bucket.into(),
            prefix: String::new(),
            project: None,
            credentials_path: None,
            filename_template: "{session_id}.json".to_owned(),
            content_type: "application/json".to_owned(),
            object_metadata: BTreeMap::new(),
            endpoint: None,
            timeout: Duration::from_secs(30),
            token: Mutex::new(None),
        }
    }

    /// An exporter configured by the environment, as the Python SDK's `GCSExporter.from_env`:
    /// `AIOBS_GCS_BUCKET` (required), `AIOBS_GCS_PREFIX`, `AIOBS_GCS_PROJECT` and
    /// `GOOGLE_APPLICATION_CREDENTIALS` (empty counts as unset).
    ///
    /// # Errors
    ///
    /// [`GcsError::MissingEnv`] naming `AIOBS_GCS_BUCKET` when it is unset or empty.
    ///
    /// ```no_run
    /// let exporter = aiobs::exporters::GcsExporter::from_env()?;
    /// # Ok::<(), aiobs::exporters::GcsError>(())
    /// ```
    pub fn from_env() -> Result<Self, GcsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let bucket = var("AIOBS_GCS_BUCKET").ok_or_else(|| GcsError::MissingEnv {
            var: "AIOBS_GCS_BUCKET".to_owned(),
        })?;
        let mut exporter = GcsExporter::new(bucket);
        if let Some(prefix) = var("AIOBS_GCS_PREFIX") {
            exporter = exporter.prefix(prefix);
        }
        exporter.project = var("AIOBS_GCS_PROJECT");
        exporter.credentials_path = var(CREDENTIALS_ENV).map(PathBuf::from);
        Ok(exporter)
    }

    /// A path prefix inside the bucket, such as `traces/`; a `/` is added if it has none
    /// (default: none).
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").prefix("traces");
    /// assert_eq!(exporter.get_prefix(), "traces/");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let mut prefix = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        self.prefix = prefix;
        self
    }

    /// The Google Cloud project, kept for reference (reported as `project` in the result's
    /// metadata). Uploading to an existing bucket does not need it.
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").project("my-project");
    /// # let _ = exporter;
    /// ```
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The service-account key file (JSON, as the Cloud console downloads it) to authenticate
    /// with; without it, `GOOGLE_APPLICATION_CREDENTIALS` names it.
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").credentials_path("/secrets/sa.json");
    /// # let _ = exporter;
    /// ```
    pub fn credentials_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_path = Some(path.into());
        self
    }

    /// The object's file name, after the prefix (default `{session_id}.json`). Placeholders:
    /// `{session_id}` (the first session's id, else `unknown`), `{timestamp}` (the flush's
    /// Unix seconds, an integer) and `{date}` (the flush's date, `YYYY-MM-DD`, in UTC); `{{`
    /// and `}}` are literal braces. Another placeholder fails the export.
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b")
    ///     .filename_template("{date}/{session_id}-{timestamp}.json");
    /// # let _ = exporter;
    /// ```
    pub fn filename_template(mut self, template: impl Into<String>) -> Self {
        self.filename_template = template.into();
        self
    }

    /// The object's content type (default `application/json`).
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").content_type("application/octet-stream");
    /// # let _ = exporter;
    /// ```
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Adds a custom metadata entry to each uploaded object (GCS's object `metadata`).
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b")
    ///     .metadata("service", "checkout")
    ///     .metadata("env", "prod");
    /// # let _ = exporter;
    /// ```
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.object_metadata.insert(key.into(), value.into());
        self
    }

    /// Another address for the GCS JSON API (a proxy, a private endpoint), such as
    /// `https://storage.example.com`; credentials are used as usual.
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").endpoint("https://storage.example.com/");
    /// assert_eq!(exporter.endpoint_url(), "https://storage.example.com");
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(Endpoint::Api(normalize_url(&url.into())));
        self
    }

    /// A GCS emulator, as `STORAGE_EMULATOR_HOST` names one: `host:port` or a URL (`http://`
    /// is assumed). Uploads go there with no credentials.
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").emulator("localhost:9023");
    /// assert_eq!(exporter.endpoint_url(), "http://localhost:9023");
    /// ```
    pub fn emulator(mut self, host: impl Into<String>) -> Self {
        self.endpoint = Some(Endpoint::Emulator(normalize_url(&host.into())));
        self
    }

    /// How long each request (token, upload) may take in all (default 30 s).
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b")
    ///     .timeout(std::time::Duration::from_secs(60));
    /// # let _ = exporter;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bucket.
    ///
    /// ```
    /// assert_eq!(aiobs::exporters::GcsExporter::new("b").bucket(), "b");
    /// ```
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The prefix in effect (empty, or ending in `/`).
    ///
    /// ```
    /// assert_eq!(aiobs::exporters::GcsExporter::new("b").prefix("a/").get_prefix(), "a/");
    /// ```
    pub fn get_prefix(&self) -> &str {
        &self.prefix
    }

    /// The JSON API base URL in effect: the one set, else `STORAGE_EMULATOR_HOST`'s, else
    /// [`DEFAULT_ENDPOINT`].
    ///
    /// ```
    /// let exporter = aiobs::exporters::GcsExporter::new("b").endpoint("http://127.0.0.1:9023");
    /// assert_eq!(exporter.endpoint_url(), "http://127.0.0.1:9023");
    /// ```
    pub fn endpoint_url(&self) -> String {
        self.resolve_endpoint().0
    }

    /// The object name a document gets: the prefix, then the file name template filled in.
    fn object_name(&self, doc: &ExportDocument<'_>) -> Result<String, GcsError> {
        let session_id = doc.sessions().first().map_or("unknown", |s| s.id.as_str());
        let seconds = doc.generated_at().max(0.0) as u64;
        let filename = fill_template(&self.filename_template, session_id, seconds)?;
        Ok(format!("{}{filename}", self.prefix))
    }

    /// The base URL, and whether it is an emulator (no credentials).
    fn resolve_endpoint(&self) -> (String, bool) {
        match &self.endpoint {
            Some(Endpoint::Api(url)) => (url.clone(), false),
            Some(Endpoint::Emulator(url)) => (url.clone(), true),
            None => match std::env::var(EMULATOR_ENV).ok().filter(|v| !v.is_empty()) {
                Some(host) => (normalize_url(&host), true),
                None => (DEFAULT_ENDPOINT.to_owned(), false),
            },
        }
    }

    /// The `Authorization` header's value: the kept token, or a new one.
    fn bearer(&self) -> Result<String, GcsError> {
        let mut kept = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = kept.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.bearer());
        }
        let path = match &self.credentials_path {
            Some(path) => path.clone(),
            None => std::env::var_os(CREDENTIALS_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .ok_or(GcsError::NoCredentials)?,
        };
        let account = ServiceAccount::from_file(Path::new(&path))?;
        let token = account.fetch_token(self.timeout)?;
        let bearer = token.bearer();
        *kept = Some(token);
        Ok(bearer)
    }

    fn upload(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, GcsError> {
        if self.bucket.is_empty() {
            return Err(GcsError::Config("the bucket name is empty".to_owned()));
        }
        let name = self.object_name(doc)?;
        let data = doc.to_json_vec().map_err(GcsError::Serialize)?;
        let (base, emulator) = self.resolve_endpoint();
        let bearer = if emulator { None } else { Some(self.bearer()?) };

        let mut resource = json!({"name": name, "contentType": self.content_type});
        if !self.object_metadata.is_empty() {
            resource["metadata"] = json!(self.object_metadata);
        }
        let (content_type, body) = multipart(&resource, &self.content_type, &data);
        let url = format!(
            "{base}/upload/storage/v1/b/{}/o?uploadType=multipart&name={}",
            percent_encode(&self.bucket),
            percent_encode(&name)
        );
        let answer = http::exchange(&url, self.timeout, |agent| {
            let mut request = agent.post(&url).content_type(&content_type);
            if let Some(bearer) = &bearer {
                request = request.header("Authorization", bearer);
            }
            request.send(&body[..])
        })?;
        if !(200..300).contains(&answer.status) {
            if answer.status == 401 {
                // A token revoked or expired early: the next export asks for a new one.
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            return Err(GcsError::Status {
                url,
                status: answer.status,
                message: http::gcs_message(&answer.body),
            });
        }

        let function_events = doc
            .items
            .iter()
            .filter(|it| it.kind == Kind::Function)
            .count();
        let mut metadata: BTreeMap<String, Value> = [
            ("bucket", json!(self.bucket)),
            ("blob_path", json!(name)),
            ("content_type", json!(self.content_type)),
            ("sessions_count", json!(doc.sessions().len())),
            ("events_count", json!(doc.event_count() - function_events)),
            ("function_events_count", json!(function_events)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(project) = &self.project {
            metadata.insert("project".to_owned(), json!(project));
        }
        Ok(ExportResult {
            destination: Some(format!("gs://{}/{name}", self.bucket)),
            bytes_written: Some(data.len() as u64),
            metadata,
        })
    }
}

impl Exporter for GcsExporter {
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, BoxError> {
        Ok(self.upload(doc)?)
    }

    fn name(&self) -> &str {
        "gcs"
    }
}

/// A `multipart/related` body: the object's resource (JSON), then its bytes.
fn multipart(resource: &Value, content_type: &str, data: &[u8]) -> (String, Vec<u8>) {
    let mut boundary = format!("aiobs-{}", uuid::Uuid::new_v4().simple());
    while contains(data, boundary.as_bytes()) {
        boundary = format!("aiobs-{}", uuid::Uuid::new_v4().simple());
    }
    let mut body = Vec::with_capacity(data.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{resource}\r\n\
             --{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/related; boundary={boundary}"), body)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A base URL without a trailing `/`, `http://` added when it names no scheme.
fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// Fills `{session_id}`, `{timestamp}` and `{date}` in; `{{` and `}}` are braces.
fn fill_template(template: &str, session_id: &str, seconds: u64) -> Result<String, GcsError> {
    let bad = |why: &str| GcsError::Config(format!("filename template `{template}`: {why}"));
    let mut out = String::with_capacity(template.len() + 40);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(bad("a `}` that closes nothing (write `}}` for a brace)"));
        }
        let end = tail
            .find('}')
            .ok_or_else(|| bad("a `{` that is not closed (write `{{` for a brace)"))?;
        match &tail[1..end] {
            "session_id" => out.push_str(session_id),
            "timestamp" => out.push_str(&seconds.to_string()),
            "date" => out.push_str(&utc_date(seconds)),
            other => {
                return Err(bad(&format!(
                    "unknown placeholder `{{{other}}}` (known: {{session_id}}, {{timestamp}}, {{date}})"
                )));
            }
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(bad("it makes an empty file name"));
    }
    Ok(out)
}

/// `YYYY-MM-DD` of Unix seconds, in UTC (Howard Hinnant's `civil_from_days`).
fn utc_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Why a [`GcsExporter`] could not upload. No message holds a private key or a token.
///
/// ```
/// use aiobs::exporters::GcsError;
///
/// let err = GcsError::Status { url: "https://…".into(), status: 403, message: "denied".into() };
/// assert!(err.to_string().contains("403"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum GcsError {
    /// A required environment variable is unset or empty ([`GcsExporter::from_env`]).
    MissingEnv {
        /// Its name.
        var: String,
    },
    /// No credentials, and no emulator.
    NoCredentials,
    /// The service-account key file cannot be read or used.
    Credentials {
        /// The file's path.
        path: String,
        /// What is wrong with it (never its contents).
        reason: String,
    },
    /// The token endpoint refused the key or could not be understood.
    Token {
        /// The token endpoint.
        url: String,
        /// Its HTTP status, if it answered.
        status: Option<u16>,
        /// Its words (the OAuth `error` and `error_description`).
        message: String,
    },
    /// GCS (or the emulator) answered with an error status.
    Status {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// GCS's message, if it gave one.
        message: String,
    },
    /// No answer: the address cannot be reached, or it timed out.
    Unreachable {
        /// The request's URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The exporter's configuration cannot make an upload (empty bucket, bad file name
    /// template).
    Config(String),
    /// The document could not be rendered as JSON.
    Serialize(std::io::Error),
}

impl fmt::Display for GcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GcsError::MissingEnv { var } => {
                write!(f, "environment variable {var} is required (the GCS bucket)")
            }
            GcsError::NoCredentials => write!(
                f,
                "no Google Cloud credentials: set {CREDENTIALS_ENV} to a service-account key \
                 file, or call GcsExporter::credentials_path (for an emulator, set \
                 {EMULATOR_ENV} or call GcsExporter::emulator)"
            ),
            GcsError::Credentials { path, reason } => {
                write!(
                    f,
                    "the service-account key file {path} cannot be used: {reason}"
                )
            }
            GcsError::Token {
                url,
                status,
                message,
            } => {
                write!(f, "no access token from {url}")?;
                if let Some(status) = status {
                    write!(f, " (HTTP {status})")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            GcsError::Status {
                url,
                status,
                message,
            } => {
                write!(f, "GCS upload to {url} failed with HTTP {status}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            GcsError::Unreachable { url, reason } => {
                write!(f, "cannot reach {url}: {reason}")
            }
            GcsError::Config(why) => write!(f, "GCS exporter: {why}"),
            GcsError::Serialize(e) => write!(f, "cannot render the export as JSON: {e}"),
        }
    }
}

impl std::error::Error for GcsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GcsError::Serialize(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
        assert_eq!(utc_date(1_709_251_199), "2024-02-29");
        assert_eq!(utc_date(1_709_251_200), "2024-03-01");
        assert_eq!(utc_date(4_102_444_800), "2100-01-01");
    }

    #[test]
    fn templates() {
        let fill = |t: &str| fill_template(t, "abc", 1_700_000_000);
        assert_eq!(fill("{session_id}.json").unwrap(), "abc.json");
        assert_eq!(
            fill("{date}/{session_id}-{timestamp}.json").unwrap(),
            "2023-11-14/abc-1700000000.json"
        );
        assert_eq!(fill("{{x}}-{timestamp}").unwrap(), "{x}-1700000000");
        assert_eq!(fill("plain").unwrap(), "plain");
        for bad in ["{nope}.json", "{session_id", "a}b", ""] {
            let err = fill(bad).unwrap_err().to_string();
            assert!(err.contains("filename template"), "{bad}: {err}");
        }
        assert!(fill("{nope}").unwrap_err().to_string().contains("`{nope}`"));
    }

    #[test]
    fn prefixes_and_urls() {
        assert_eq!(GcsExporter::new("b").get_prefix(), "");
        assert_eq!(GcsExporter::new("b").prefix("a/b").get_prefix(), "a/b/");
        assert_eq!(GcsExporter::new("b").prefix("a/").get_prefix(), "a/");
        assert_eq!(normalize_url("localhost:9023"), "http://localhost:9023");
        assert_eq!(normalize_url("https://h:1/"), "https://h:1");
        assert_eq!(
            normalize_url(" http://0.0.0.0:4443 "),
            "http://0.0.0.0:4443"
        );
    }

    #[test]
    fn multipart_body() {
        let (ct, body) = multipart(&json!({"name": "n"}), "application/json", b"{\"a\":1}");
        let boundary = ct.strip_prefix("multipart/related; boundary=").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n\
                 {{\"name\":\"n\"}}\r\n--{boundary}\r\nContent-Type: application/json\r\n\r\n\
                 {{\"a\":1}}\r\n--{boundary}--\r\n"
            )
        );
    }

    #[test]
    fn error_messages() {
        let msg = GcsError::NoCredentials.to_string();
        assert!(
            msg.contains(CREDENTIALS_ENV) && msg.contains("credentials_path"),
            "{msg}"
        );
        let msg = GcsError::MissingEnv {
            var: "AIOBS_GCS_BUCKET".into(),
        }
        .to_string();
        assert!(msg.contains("AIOBS_GCS_BUCKET"), "{msg}");
    }
}
