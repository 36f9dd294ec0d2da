//! Built-in exporters: where a flush can send its document instead of (or beside) a file.
//!
//! - [`CustomExporter`]: your closure.
//! - [`CompositeExporter`]: several exporters, each reported.
//!
//! Any type implementing [`Exporter`](crate::Exporter) works with
//! [`Collector::flush_to`](crate::Collector::flush_to).

mod composite;
mod custom;

pub use composite::{CompositeError, CompositeExporter};
pub use custom::CustomExporter;
