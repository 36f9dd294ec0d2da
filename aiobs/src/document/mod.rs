//! The document a flush hands to its destination: [`ExportDocument`], its sessions and events
//! (records still in the logs) and its trace tree. Its JSON writer is [`write`], one layer
//! above it; [`render`] turns captured values into JSON for that writer; [`parallel`] runs
//! that writer on several threads for a large document, and holds the document's public ways
//! out (`write_json`, `to_json_vec`, `to_model`).

pub(crate) mod parallel;
pub(crate) mod render;
pub(crate) mod write;

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::clock;
use crate::model::Session;
use crate::scrub::{REDACTED, Scrubbing};
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
            .map(|s| scrub_labels(&s, &scrubbing).unwrap_or(s))
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

/// The session with the values of secret-named labels replaced and secrets in the other
/// values scrubbed, or `None` if nothing changes.
pub(crate) fn scrub_labels(session: &Session, rules: &Scrubbing) -> Option<Session> {
    let labels = session.labels.as_ref()?;
    let mut changed = None;
    for (key, value) in labels {
        let new = if rules.is_secret_name(key) {
            Cow::Borrowed(REDACTED)
        } else {
            rules.scrub_text(value, false)
        };
        if new != value.as_str() {
            changed
                .get_or_insert_with(|| labels.clone())
                .insert(key.clone(), new.into_owned());
        }
    }
    let labels = changed?;
    Some(Session {
        labels: Some(labels),
        ..session.clone()
    })
}
