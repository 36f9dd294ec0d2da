//! Built-in exporters: where a flush can send its document instead of (or beside) a file.
//!
//! - [`CustomExporter`]: your closure.
//! - [`CompositeExporter`]: several exporters, each reported.
//! - `GcsExporter` (cargo feature `gcs`): a Google Cloud Storage bucket.
//!
//! Any type implementing [`Exporter`](crate::Exporter) works with
//! [`Collector::flush_to`](crate::Collector::flush_to).

mod composite;
mod custom;
#[cfg(feature = "gcs")]
mod gcs;

pub use composite::{CompositeError, CompositeExporter};
pub use custom::CustomExporter;
#[cfg(feature = "gcs")]
pub use gcs::{CREDENTIALS_ENV, DEFAULT_ENDPOINT, EMULATOR_ENV, GcsError, GcsExporter};
