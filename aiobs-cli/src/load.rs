//! Reading an export: the file's bytes once, then lean structs that borrow from them.
//!
//! Only what the subcommands show is decoded: times, names, ids, errors, and the raw JSON text
//! of arguments, results, requests and responses. `trace_tree` and `enh_prompt_traces` are
//! skipped (without building anything): the tree is rebuilt from `parent_span_id`, as the
//! format defines it, so a file written without a tree reads the same.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aiobs::providers::ReportedUsage;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;

/// The bytes of one export file, read whole; [`ExportFile::parse`] borrows from them.
#[derive(Debug)]
pub struct ExportFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl ExportFile {
    /// Reads `path` whole. A missing, unreadable or empty file is an error naming it.
    pub fn read(path: &Path) -> Result<ExportFile, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::in_file(path, read_error(&e)))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::in_file(
                path,
                "empty file (expected an aiobs JSON export)",
            ));
        }
        Ok(ExportFile {
            path: path.to_owned(),
            bytes,
        })
    }

    /// An export already in memory (several files joined, say), named `path` in errors.
    ///
    /// ```
    /// use aiobs_cli::load::ExportFile;
    /// let text = r#"{"sessions": [], "events": [], "generated_at": 0.0, "version": 1}"#;
    /// let file = ExportFile::from_bytes("joined".into(), text.as_bytes().to_vec());
    /// assert_eq!(file.parse()?.events.len(), 0);
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> ExportFile {
        ExportFile { path, bytes }
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Parses the export. Not JSON, a wrong shape (a field of the wrong type, a missing
    /// required field), a truncated file or a version other than 1 is an error that names the
    /// file and, where serde_json knows it, the line and column.
    pub fn parse(&self) -> Result<Export<'_>, Error> {
        let export: Export<'_> =
            serde_json::from_slice(&self.bytes).map_err(|e| Error::json(&self.path, &e))?;
        if export.version != 1 {
            return Err(Error::in_file(
                &self.path,
                format!(
                    "version {} is not supported (this aiobs reads version 1)",
                    export.version
                ),
            ));
        }
        Ok(export)
    }
}

/// The reason a file could not be read, in words.
pub(crate) fn read_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot read: {err}"),
    }
}

fn version_one() -> u64 {
    1
}

/// A parsed export, borrowing from its [`ExportFile`].
#[derive(Debug, Deserialize)]
pub struct Export<'a> {
    /// Every session in the file.
    #[serde(borrow)]
    pub sessions: Vec<Session<'a>>,
    /// Provider (LLM) events.
    #[serde(borrow)]
    pub events: Vec<ProviderEvent<'a>>,
    /// Observed function calls.
    #[serde(borrow, default)]
    pub function_events: Vec<FunctionEvent<'a>>,
    /// Unix seconds.
    pub generated_at: f64,
    /// Format version (1).
    #[serde(default = "version_one")]
    pub version: u64,
}

/// One session.
#[derive(Debug, Deserialize)]
pub struct Session<'a> {
    /// UUID text.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The session's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds; none while the session was still open.
    #[serde(default)]
    pub ended_at: Option<f64>,
    /// Labels, sorted by key.
    #[serde(borrow, default)]
    pub labels: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
}

/// One observed function call.
#[derive(Debug, Deserialize)]
pub struct FunctionEvent<'a> {
    /// The function's path.
    #[serde(borrow)]
    pub api: Cow<'a, str>,
    /// Display name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Captured arguments as JSON text (a list), or none.
    #[serde(borrow, default)]
    pub args: Option<&'a RawValue>,
    /// Keyword arguments (Python) as JSON text, or none.
    #[serde(borrow, default)]
    pub kwargs: Option<&'a RawValue>,
    /// Rust only: the arguments' names.
    #[serde(borrow, default)]
    pub arg_names: Option<Vec<Cow<'a, str>>>,
    /// The result as JSON text, or none.
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
    /// The error, if the call failed.
    #[serde(borrow, default)]
    pub error: Option<Cow<'a, str>>,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds.
    pub ended_at: f64,
    /// Milliseconds.
    pub duration_ms: f64,
    /// UUID text.
    #[serde(borrow, default)]
    pub span_id: Option<Cow<'a, str>>,
    /// The span this call ran inside.
    #[serde(borrow, default)]
    pub parent_span_id: Option<Cow<'a, str>>,
    /// The session's id.
    #[serde(borrow)]
    pub session_id: Cow<'a, str>,
}

/// One provider (LLM) call.
#[derive(Debug, Deserialize)]
pub struct ProviderEvent<'a> {
    /// `openai`, `gemini`, ….
    #[serde(borrow)]
    pub provider: Cow<'a, str>,
    /// The API called.
    #[serde(borrow)]
    pub api: Cow<'a, str>,
    /// The request as JSON text.
    #[serde(borrow)]
    pub request: &'a RawValue,
    /// The response as JSON text, or none.
    #[serde(borrow, default)]
    pub response: Option<&'a RawValue>,
    /// The error, if the call failed.
    #[serde(borrow, default)]
    pub error: Option<Cow<'a, str>>,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds.
    pub ended_at: f64,
    /// Milliseconds.
    pub duration_ms: f64,
    /// UUID text.
    #[serde(borrow, default)]
    pub span_id: Option<Cow<'a, str>>,
    /// The span this call ran inside.
    #[serde(borrow, default)]
    pub parent_span_id: Option<Cow<'a, str>>,
    /// The session's id.
    #[serde(borrow)]
    pub session_id: Cow<'a, str>,
    /// The answer was replayed from a recording (`aiobs::replay`), not sent over the network.
    #[serde(default)]
    pub replayed: bool,
}

/// What an LLM call used: the model and the tokens, as far as the request and response say,
/// counted the same way for every provider.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LlmUsage {
    /// The model (the response's, else the request's).
    pub model: Option<String>,
    /// Input (prompt) tokens, those read from or written to the provider's prompt cache
    /// included: OpenAI's and Gemini's counts include them, Anthropic's three counts are added.
    pub tokens_in: Option<u64>,
    /// Of `tokens_in`, those read from the prompt cache (billed at the cached price).
    pub tokens_cached: Option<u64>,
    /// Of `tokens_in`, those written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`, billed at the cache-write price).
    pub tokens_cache_write: Option<u64>,
    /// Output (completion) tokens, reasoning included: OpenAI's and Anthropic's counts include
    /// it, Gemini's thoughts are added.
    pub tokens_out: Option<u64>,
    /// Of `tokens_out`, reasoning (thinking) tokens, where the provider counts them apart.
    pub tokens_reasoning: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ModelOnly {
    #[serde(default)]
    model: Option<serde_json::Value>,
    #[serde(default)]
    usage: Option<ReportedUsage>,
    #[serde(default, rename = "usageMetadata")]
    usage_metadata: Option<ReportedUsage>,
}

fn decode(raw: Option<&RawValue>) -> ModelOnly {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or_default()
}

fn model_name(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

impl ProviderEvent<'_> {
    /// The model and token counts, read from the response (`model`, `usage` or
    /// `usageMetadata`), the model else from the request.
    pub fn usage(&self) -> LlmUsage {
        let response = decode(self.response);
        let request = decode(Some(self.request));
        let usage = response
            .usage
            .or(response.usage_metadata)
            .unwrap_or_default();
        let counts = usage.normalised();
        LlmUsage {
            model: model_name(response.model).or_else(|| model_name(request.model)),
            tokens_in: counts.input,
            tokens_cached: counts.cached,
            tokens_cache_write: counts.cache_write,
            tokens_out: counts.output,
            tokens_reasoning: counts.reasoning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The usage of a provider event whose response is `response`.
    fn usage_of(provider: &str, response: serde_json::Value) -> LlmUsage {
        let text = serde_json::json!({
            "provider": provider, "api": "x", "request": {"model": "asked"}, "response": response,
            "started_at": 0.0, "ended_at": 0.0, "duration_ms": 0.0, "session_id": "s",
        })
        .to_string();
        let event: ProviderEvent<'_> = serde_json::from_str(&text).unwrap();
        event.usage()
    }

    fn counts(u: &LlmUsage) -> [Option<u64>; 5] {
        [
            u.tokens_in,
            u.tokens_cached,
            u.tokens_cache_write,
            u.tokens_out,
            u.tokens_reasoning,
        ]
    }

    #[test]
    fn every_provider_s_counts_mean_the_same() {
        let chat = usage_of(
            "openai",
            serde_json::json!({"model": "gpt-4o", "usage": {"prompt_tokens": 1000,
                "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 800},
                "completion_tokens_details": {"reasoning_tokens": 200}}}),
        );
        assert_eq!(chat.model.as_deref(), Some("gpt-4o"));
        assert_eq!(
            counts(&chat),
            [Some(1000), Some(800), None, Some(300), Some(200)]
        );

        let responses = usage_of(
            "openai",
            serde_json::json!({"usage": {"input_tokens": 1312,
                "input_tokens_details": {"cached_tokens": 1280}, "output_tokens": 86,
                "output_tokens_details": {"reasoning_tokens": 64}, "total_tokens": 1398}}),
        );
        assert_eq!(
            responses.model.as_deref(),
            Some("asked"),
            "the request's model"
        );
        assert_eq!(
            counts(&responses),
            [Some(1312), Some(1280), None, Some(86), Some(64)]
        );

        // Anthropic's `input_tokens` leaves out what the cache read and wrote.
        let anthropic = usage_of(
            "anthropic",
            serde_json::json!({"usage": {"input_tokens": 24, "cache_read_input_tokens": 1800,
                "cache_creation_input_tokens": 100, "output_tokens": 62}}),
        );
        assert_eq!(
            counts(&anthropic),
            [Some(1924), Some(1800), Some(100), Some(62), None]
        );
        let uncached = usage_of(
            "anthropic",
            serde_json::json!({"usage": {"input_tokens": 12, "output_tokens": 8}}),
        );
        assert_eq!(counts(&uncached), [Some(12), None, None, Some(8), None]);

        // Gemini's thoughts are billed as output, apart from the candidates.
        for usage in [
            serde_json::json!({"usageMetadata": {"promptTokenCount": 500,
                "cachedContentTokenCount": 400, "candidatesTokenCount": 50,
                "thoughtsTokenCount": 150}}),
            serde_json::json!({"usage": {"prompt_token_count": 500,
                "cached_content_token_count": 400, "candidates_token_count": 50,
                "thoughts_token_count": 150}}),
        ] {
            let gemini = usage_of("gemini", usage);
            assert_eq!(
                counts(&gemini),
                [Some(500), Some(400), None, Some(200), Some(150)]
            );
        }
    }
}
