//! What a flush hands to its destination: the [`ExportDocument`], and the [`Exporter`] trait
//! through which destinations other than a local file plug in.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::marker::PhantomData;

use crate::clock;
use crate::json;
use crate::model::{ObservabilityExport, Session};
use crate::scrub::Scrubbing;
use crate::store::{Kind, RecordRef};
use crate::tree::Tree;

/// One event of a flush.
pub(crate) struct Item {
    pub(crate) record: RecordRef,
    pub(crate) kind: Kind,
    /// Index into the document's sessions.
    pub(crate) session: u32,
    pub(crate) started_at: f64,
}

/// The export of one flush, ready to be written: sessions, events and (optionally) the trace
/// tree, rendered to JSON only as it is written.
///
/// It borrows the collector's stored events, which stay stored until the flush succeeds.
pub struct ExportDocument<'a> {
    pub(crate) sessions: Vec<Session>,
    pub(crate) items: Vec<Item>,
    pub(crate) tree: Option<Tree>,
    pub(crate) generated_at: f64,
    /// Records made at flush (provider events of HTTP exchanges) that items point into.
    pub(crate) _made: Vec<Box<[u8]>>,
    /// What is scrubbed as the document is written.
    pub(crate) scrubbing: Scrubbing,
    pub(crate) _stored: PhantomData<&'a ()>,
}

impl ExportDocument<'_> {
    /// Streams the document as JSON (the aiobs 0.1.5 format) into `out`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        json::write_document(self, out)
    }

    /// The document as JSON bytes.
    pub fn to_json_vec(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        json::write_document(self, &mut out)?;
        Ok(out)
    }

    /// The document as the typed model (built through JSON; for exporters that want types).
    /// Trees deeper than serde_json's nesting limit (128) fail here; stream with
    /// [`write_json`](Self::write_json) instead.
    pub fn to_model(&self) -> io::Result<ObservabilityExport> {
        let bytes = self.to_json_vec()?;
        serde_json::from_slice(&bytes).map_err(io::Error::other)
    }

    /// The typed model without `trace_tree` (and `enh_prompt_traces`): the flat events, which
    /// parse at any tree depth.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn to_flat_model(&self) -> io::Result<ObservabilityExport> {
        let mut bytes = Vec::new();
        json::write_document_with(self, &mut bytes, false)?;
        serde_json::from_slice(&bytes).map_err(io::Error::other)
    }

    /// The sessions in the document.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// How many events (provider and function) the document holds.
    pub fn event_count(&self) -> usize {
        self.items.len()
    }

    /// Unix seconds at which the flush began.
    pub fn generated_at(&self) -> f64 {
        self.generated_at
    }

    /// The `enh_prompt_id`s (as span-id numbers) of the `enh_prompt` calls, in tree pre-order;
    /// empty without a tree.
    pub(crate) fn enh_prompt_order(&self) -> Vec<u64> {
        let Some(tree) = &self.tree else {
            return Vec::new();
        };
        tree.preorder()
            .into_iter()
            .map(|i| self.items[i as usize].record.header())
            .filter(|h| h.kind == Kind::Function && h.enh_id != 0)
            .map(|h| h.enh_id)
            .collect()
    }

    pub(crate) fn new(
        sessions: Vec<Session>,
        mut items: Vec<Item>,
        made: Vec<Box<[u8]>>,
        with_tree: bool,
        scrubbing: Scrubbing,
    ) -> Self {
        // Exporters that read `sessions()` see the labels as the file has them.
        let sessions = sessions
            .into_iter()
            .map(|s| json::scrub_labels(&s, &scrubbing).unwrap_or(s))
            .collect();
        // Completion order, as the Python SDK appends events when calls end.
        items.sort_by_key(|it| it.record.header().end);
        let tree = with_tree.then(|| {
            let inputs: Vec<_> = items
                .iter()
                .map(|it| {
                    let h = it.record.header();
                    crate::tree::TreeInput {
                        span: h.span,
                        parent: h.parent,
                        started_at: it.started_at,
                    }
                })
                .collect();
            Tree::build(&inputs)
        });
        ExportDocument {
            sessions,
            items,
            tree,
            generated_at: clock::wall_seconds(),
            _made: made,
            scrubbing,
            _stored: PhantomData,
        }
    }
}

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

    /// A short name for reports (a [`CompositeExporter`](crate::exporters::CompositeExporter)
    /// names each exporter's outcome with it).
    fn name(&self) -> &str {
        "exporter"
    }
}

/// A boxed error, as exporters return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
