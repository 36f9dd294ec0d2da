//! Reading an export: the file's bytes once, then lean structs that borrow from them.
//!
//! Only what the subcommands show is decoded: times, names, ids, errors, and the raw JSON text
//! of arguments, results, requests and responses. `trace_tree` and `enh_prompt_traces` are
//! skipped (without building anything): the tree is rebuilt from `parent_span_id`, as the
//! format defines it, so a file written without a tree reads the same.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
}

/// What an LLM call used: the model and the tokens, as far as the request and response say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LlmUsage {
    /// The model (the response's, else the request's).
    pub model: Option<String>,
    /// Prompt (input) tokens.
    pub tokens_in: Option<u64>,
    /// Completion (output) tokens.
    pub tokens_out: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ModelOnly {
    #[serde(default)]
    model: Option<serde_json::Value>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default, rename = "usageMetadata")]
    usage_metadata: Option<Usage>,
}

/// Token counts under the names OpenAI, Anthropic and Gemini (REST and Python) use.
#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default, alias = "input_tokens", alias = "prompt_token_count")]
    #[serde(alias = "promptTokenCount")]
    prompt_tokens: Option<u64>,
    #[serde(default, alias = "output_tokens", alias = "candidates_token_count")]
    #[serde(alias = "candidatesTokenCount")]
    completion_tokens: Option<u64>,
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
        LlmUsage {
            model: model_name(response.model).or_else(|| model_name(request.model)),
            tokens_in: usage.prompt_tokens,
            tokens_out: usage.completion_tokens,
        }
    }
}
