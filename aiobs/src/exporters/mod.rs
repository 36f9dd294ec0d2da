//! Built-in exporters: where a flush can send its document instead of (or beside) a file.
//!
//! - [`CustomExporter`]: your closure.
//! - [`CompositeExporter`]: several exporters, each reported.
//! - `GcsExporter` (cargo feature `gcs`): a Google Cloud Storage bucket.
//! - `OtlpExporter` (cargo feature `otlp`): OpenTelemetry spans over OTLP/HTTP, for Jaeger,
//!   Grafana Tempo, Arize Phoenix, Langfuse or a collector.
//!
//! Any type implementing [`Exporter`](crate::Exporter) works with
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
