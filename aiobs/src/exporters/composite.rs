//! Several exporters as one.

use std::fmt;

use serde_json::{Value, json};

use super::{BoxError, ExportResult, Exporter};
use crate::document::ExportDocument;

/// Sends each flush to several exporters, in order, and reports each.
///
/// The flush succeeds (and forgets its events) only if every exporter succeeded; otherwise it
/// fails with a [`CompositeError`] that says which succeeded and which failed, and the events
/// stay for the next flush, which sends to every exporter again (so a destination that
/// succeeded gets the data twice). With [`CompositeExporter::stop_on_error`], the first
/// failure stops the others from running.
///
/// ```
/// use aiobs::exporters::{CompositeExporter, CustomExporter};
/// use aiobs::ExportResult;
///
/// let a = CustomExporter::new("a", |_| Ok(ExportResult::default()));
/// let b = CustomExporter::new("b", |_| Ok(ExportResult::default()));
/// let both = CompositeExporter::new(vec![Box::new(a), Box::new(b)]);
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new())?;
/// let result = obs.flush_to(&both, true)?;
/// assert_eq!(result.metadata["results"].as_array().unwrap().len(), 2);
/// # Ok::<(), aiobs::Error>(())
/// ```
pub struct CompositeExporter {
    exporters: Vec<Box<dyn Exporter + Send + Sync>>,
    stop_on_error: bool,
}

impl fmt::Debug for CompositeExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.exporters.iter().map(|e| e.name()).collect();
        f.debug_struct("CompositeExporter")
            .field("exporters", &names)
            .field("stop_on_error", &self.stop_on_error)
            .finish()
    }
}

impl CompositeExporter {
    /// The exporters, run in this order.
    pub fn new(exporters: Vec<Box<dyn Exporter + Send + Sync>>) -> Self {
        CompositeExporter {
            exporters,
            stop_on_error: false,
        }
    }

    /// Whether the first failure stops the exporters after it (default: every exporter runs).
    ///
    /// ```
    /// let composite = aiobs::exporters::CompositeExporter::new(Vec::new()).stop_on_error(true);
    /// # let _ = composite;
    /// ```
    pub fn stop_on_error(mut self, yes: bool) -> Self {
        self.stop_on_error = yes;
        self
    }
}

/// One exporter's outcome in a composite export.
fn report(name: &str, outcome: &Result<ExportResult, String>) -> Value {
    match outcome {
        Ok(r) => json!({
            "exporter": name,
            "success": true,
            "destination": r.destination,
            "bytes_written": r.bytes_written,
            "metadata": r.metadata,
        }),
        Err(e) => json!({"exporter": name, "success": false, "error": e}),
    }
}

impl Exporter for CompositeExporter {
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, BoxError> {
        let mut outcomes: Vec<(String, Result<ExportResult, String>)> = Vec::new();
        for exporter in &self.exporters {
            let name = exporter.name().to_owned();
            // An exporter that panics is one that failed; the others still run.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exporter.export(doc)))
                    .unwrap_or_else(|_| Err("the exporter panicked".into()))
                    .map_err(|e| e.to_string());
            let failed = outcome.is_err();
            outcomes.push((name, outcome));
            if failed && self.stop_on_error {
                break;
            }
        }
        let results: Vec<Value> = outcomes.iter().map(|(n, o)| report(n, o)).collect();
        if outcomes.iter().any(|(_, o)| o.is_err()) || outcomes.len() < self.exporters.len() {
            return Err(Box::new(CompositeError {
                results: outcomes,
                skipped: self.exporters.len() - results.len(),
            }));
        }
        let bytes = outcomes
            .iter()
            .filter_map(|(_, o)| o.as_ref().ok()?.bytes_written)
            .sum::<u64>();
        Ok(ExportResult {
            destination: None,
            bytes_written: Some(bytes),
            metadata: [("results".to_owned(), Value::Array(results))]
                .into_iter()
                .collect(),
        })
    }

    fn name(&self) -> &str {
        "composite"
    }
}

/// A composite export in which at least one exporter failed: every exporter's outcome.
#[derive(Debug)]
pub struct CompositeError {
    /// Each exporter that ran, by name, with its result or its error message.
    pub results: Vec<(String, Result<ExportResult, String>)>,
    /// How many exporters did not run (after a failure, with `stop_on_error`).
    pub skipped: usize,
}

impl fmt::Display for CompositeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed: Vec<String> = self
            .results
            .iter()
            .filter_map(|(name, o)| o.as_ref().err().map(|e| format!("{name}: {e}")))
            .collect();
        let ok: Vec<&str> = self
            .results
            .iter()
            .filter(|(_, o)| o.is_ok())
            .map(|(n, _)| n.as_str())
            .collect();
        write!(
            f,
            "{} of {} exporters failed ({})",
            failed.len(),
            self.results.len() + self.skipped,
            failed.join("; ")
        )?;
        if !ok.is_empty() {
            write!(f, "; succeeded: {}", ok.join(", "))?;
        }
        if self.skipped > 0 {
            write!(f, "; not run: {}", self.skipped)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompositeError {}
