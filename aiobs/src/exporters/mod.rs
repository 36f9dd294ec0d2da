//! Built-in exporters: where a flush can send its document instead of (or beside) a file.
//!
//! - [`CustomExporter`]: your closure.
//! - [`CompositeExporter`]: several exporters, each reported.
//! - `GcsExporter` (cargo feature `gcs`): a Google Cloud Storage bucket.
//! - `OtlpExporter` (cargo feature `otlp`): OpenTelemetry spans over OTLP/HTTP, for Jaeger,
//!   Grafana Tempo, Arize Phoenix, Langfuse or a collector.
//!
//! Any type implementing [`Exporter`] works with
//! [`Collector::flush_to`](crate::Collector::flush_to).

mod composite;
mod custom;
#[cfg(feature = "gcs")]
mod gcs;
#[cfg(feature = "otlp")]
mod otlp;

pub use composite::{CompositeError, CompositeExporter};
pub use custom::CustomExporter;
#[cfg(feature = "gcs")]
pub use gcs::{CREDENTIALS_ENV, DEFAULT_ENDPOINT, EMULATOR_ENV, GcsError, GcsExporter};
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;

use std::collections::BTreeMap;

use crate::document::ExportDocument;

/// What an exporter reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportResult {
    /// Where the data went (URL, path, …).
    pub destination: Option<String>,
    /// Bytes written, if known.
    pub bytes_written: Option<u64>,
    /// Anything else worth reporting.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// A destination for flushed data other than a local file.
///
/// ```
/// use aiobs::{ExportDocument, ExportResult, Exporter};
///
/// /// Keeps the JSON in memory.
/// #[derive(Default)]
/// struct InMemory(std::sync::Mutex<Vec<u8>>);
///
/// impl Exporter for InMemory {
///     fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, aiobs::BoxError> {
///         let bytes = doc.to_json_vec()?;
///         let n = bytes.len() as u64;
///         *self.0.lock().unwrap() = bytes;
///         Ok(ExportResult { bytes_written: Some(n), ..Default::default() })
///     }
/// }
///
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new())?;
/// let sink = InMemory::default();
/// let result = obs.flush_to(&sink, true)?;
/// assert!(result.bytes_written.unwrap() > 0);
/// # Ok::<(), aiobs::Error>(())
/// ```
pub trait Exporter {
    /// Sends `doc` to the destination. An error keeps every event for the next flush.
    ///
    /// It runs inside the flush: it must not call `flush` or `reset` on the collector being
    /// flushed (they would wait for this flush to end).
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, BoxError>;

    /// A short name for reports (a [`CompositeExporter`]
    /// names each exporter's outcome with it).
    fn name(&self) -> &str {
        "exporter"
    }
}

/// A boxed error, as exporters return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
