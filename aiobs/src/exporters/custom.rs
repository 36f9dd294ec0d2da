//! An exporter made of a closure.

use super::{BoxError, ExportResult, Exporter};
use crate::document::ExportDocument;

/// Exports with a closure: send the document to your API, database or queue.
///
/// ```
/// use aiobs::exporters::CustomExporter;
/// use aiobs::ExportResult;
///
/// let exporter = CustomExporter::new("stdout-size", |doc| {
///     let json = doc.to_json_vec()?;
///     Ok(ExportResult {
///         destination: Some("stdout".into()),
///         bytes_written: Some(json.len() as u64),
///         ..ExportResult::default()
///     })
/// });
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new())?;
/// let result = obs.flush_to(&exporter, true)?;
/// assert!(result.bytes_written.unwrap() > 0);
/// # Ok::<(), aiobs::Error>(())
/// ```
pub struct CustomExporter<F> {
    name: String,
    handler: F,
}

impl<F> CustomExporter<F>
where
    F: Fn(&ExportDocument<'_>) -> Result<ExportResult, BoxError>,
{
    /// An exporter called `name` (as a [`CompositeExporter`](super::CompositeExporter)
    /// reports it) that runs `handler`.
    pub fn new(name: impl Into<String>, handler: F) -> Self {
        CustomExporter {
            name: name.into(),
            handler,
        }
    }
}

impl<F> std::fmt::Debug for CustomExporter<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomExporter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<F> Exporter for CustomExporter<F>
where
    F: Fn(&ExportDocument<'_>) -> Result<ExportResult, BoxError>,
{
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, BoxError> {
        (self.handler)(doc)
    }

    fn name(&self) -> &str {
        &self.name
    }
}
