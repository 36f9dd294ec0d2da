//! The export format, as serde types: field for field the pydantic models of the Python SDK
//! aiobs 0.1.5 (`aiobs/models/observability.py`), plus the Rust-only `arg_names`.
//!
//! Every field is always written, `null` included, as the Python SDK writes them; a field the
//! Python models give a default is filled with that default when a file leaves it out.
//!
//! These types are for reading exports and for writing them outside the hot path; the collector
//! itself streams its export without building them (see [`crate::Collector::flush`]).
//!
//! ```
//! let text = r#"{"sessions": [], "events": [], "generated_at": 1.5}"#;
//! let export: aiobs::model::ObservabilityExport = serde_json::from_str(text)?;
//! assert_eq!(export.version, 1);
//! assert!(export.function_events.is_empty());
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a session ran: the process id and working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// Process id.
    pub pid: u64,
    /// Current working directory when the session started.
    pub cwd: String,
}

/// One observation session (`observe` … `end`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// UUID v4 text.
    pub id: String,
    /// The name given to `observe`, else the id.
    pub name: String,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds; null while the session is open.
    #[serde(default)]
    pub ended_at: Option<f64>,
    /// Process id and working directory.
    pub meta: SessionMeta,
    /// System, environment and user labels; null when there are none.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Where a call was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callsite {
    /// Source file, relative to the crate root as rustc reports it.
    #[serde(default)]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default)]
    pub line: Option<u64>,
    /// The calling function, where it can be known (never, in Rust).
    #[serde(default)]
    pub function: Option<String>,
}

/// A provider call (an LLM API request), as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `"openai"`, `"gemini"`, …
    pub provider: String,
    /// The API called, such as `"chat.completions.create"`.
    pub api: String,
    /// The request as the provider records it.
    pub request: Value,
    /// The response, or null.
    #[serde(default)]
    pub response: Option<Value>,
    /// `"<ErrorType>: <message>"` when the call failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds.
    pub ended_at: f64,
    /// Milliseconds, rounded to 3 decimals.
    pub duration_ms: f64,
    /// Where the call was made from.
    #[serde(default)]
    pub callsite: Option<Callsite>,
    /// UUID v4 text.
    #[serde(default)]
    pub span_id: Option<String>,
    /// The span this call ran inside.
    #[serde(default)]
    pub parent_span_id: Option<String>,
}

fn function_provider() -> String {
    "function".to_owned()
}

/// An observed function call (`#[observe]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionEvent {
    /// Always `"function"`.
    #[serde(default = "function_provider")]
    pub provider: String,
    /// The function's path, such as `my_crate::agent::Agent::run`.
    pub api: String,
    /// Display name: the `name` option, else the function's identifier.
    pub name: String,
    /// `module_path!()` of the function.
    #[serde(default)]
    pub module: Option<String>,
    /// Captured arguments in declaration order; null with `capture_args = false`.
    #[serde(default)]
    pub args: Option<Vec<Value>>,
    /// Always `{}` when arguments are captured (Rust has no keyword arguments).
    #[serde(default)]
    pub kwargs: Option<Map<String, Value>>,
    /// The captured return value (the `Ok` value of a `Result`); null on error.
    #[serde(default)]
    pub result: Option<Value>,
    /// `"<ErrorType>: <message>"` or `"panic: <message>"`.
    #[serde(default)]
    pub error: Option<String>,
    /// Unix seconds.
    pub started_at: f64,
    /// Unix seconds.
    pub ended_at: f64,
    /// Milliseconds, rounded to 3 decimals.
    pub duration_ms: f64,
    /// Where the function was called from.
    #[serde(default)]
    pub callsite: Option<Callsite>,
    /// UUID v4 text.
    #[serde(default)]
    pub span_id: Option<String>,
    /// The span this call ran inside.
    #[serde(default)]
    pub parent_span_id: Option<String>,
    /// Whether the call is listed in `enh_prompt_traces`.
    #[serde(default)]
    pub enh_prompt: bool,
    /// UUID v4 text, set exactly when `enh_prompt` is true.
    #[serde(default)]
    pub enh_prompt_id: Option<String>,
    /// The `auto_enhance_after` option.
    #[serde(default)]
    pub auto_enhance_after: Option<u64>,
}

/// A provider event with the session it belongs to, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedEvent {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// The `id` of an entry of `sessions`.
    pub session_id: String,
    /// Rust-only: the answer was replayed from a recording ([`crate::replay`]), not sent over
    /// the network. Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

/// A function event with the session it belongs to, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedFunctionEvent {
    /// The event.
    #[serde(flatten)]
    pub event: FunctionEvent,
    /// The `id` of an entry of `sessions`.
    pub session_id: String,
    /// Rust-only: the names of the captured arguments, as long as `args`; null when `args` is.
    #[serde(default)]
    pub arg_names: Option<Vec<String>>,
}

/// A node of `trace_tree`: a flat event plus its `event_type` and its `children`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", rename_all = "lowercase")]
pub enum TraceNode {
    /// An observed function call.
    Function {
        /// The flat event.
        #[serde(flatten)]
        event: ObservedFunctionEvent,
        /// Calls made inside it, by `started_at`.
        #[serde(default)]
        children: Vec<TraceNode>,
    },
    /// A provider call.
    Provider {
        /// The flat event.
        #[serde(flatten)]
        event: ObservedEvent,
        /// Calls made inside it, by `started_at`.
        #[serde(default)]
        children: Vec<TraceNode>,
    },
}

impl TraceNode {
    /// The calls made inside this one.
    pub fn children(&self) -> &[TraceNode] {
        match self {
            TraceNode::Function { children, .. } | TraceNode::Provider { children, .. } => children,
        }
    }
}

fn version_one() -> u32 {
    1
}

/// The whole flushed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservabilityExport {
    /// Every session flushed.
    pub sessions: Vec<Session>,
    /// Provider events.
    pub events: Vec<ObservedEvent>,
    /// Function events.
    #[serde(default)]
    pub function_events: Vec<ObservedFunctionEvent>,
    /// Every event once, nested by parent span; null when the tree was not asked for.
    #[serde(default)]
    pub trace_tree: Option<Vec<TraceNode>>,
    /// `enh_prompt_id` of every `enh_prompt` node in tree pre-order; null when there is none.
    #[serde(default)]
    pub enh_prompt_traces: Option<Vec<String>>,
    /// Unix seconds.
    pub generated_at: f64,
    /// Format version: 1.
    #[serde(default = "version_one")]
    pub version: u32,
}
