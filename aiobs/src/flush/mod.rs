//! The flush pipeline: take what the logs published, turn it into a document, write it, and
//! forget it only once it is written. One phase a function:
//!
//! read ([`CollectorState::take_for_flush`]) → sessions → materialise → tail-sample ([`tail`])
//! → label → write → commit ([`CollectorState::commit_flush`]) → upload.
//!
//! The destinations are a file ([`file`]), an exporter, or the numbered files of the
//! auto-flusher; each passes its `write` step to [`run`].

mod file;
mod masking;
mod tail;

use std::collections::BTreeMap;

pub use file::FlushOptions;
pub(crate) use file::{to_file, write_atomically};

use crate::clock;
use crate::document::{ExportDocument, Item};
use crate::error::{Error, Result};
use crate::exporters::{ExportResult, Exporter};
use crate::remote;
use crate::state::{Carry, CollectorState, FlushSessions, FlushSettings, Taken};
use crate::store::{Kind, RecordRef, flag};
use crate::wire::deferred;

/// Hands every session and recorded event to `exporter`.
pub(crate) fn to_exporter(
    state: &CollectorState,
    exporter: &dyn Exporter,
    include_trace_tree: bool,
) -> Result<ExportResult> {
    run(state, include_trace_tree, "the exporter", false, |doc| {
        exporter
            .export(doc)
            .map_err(|source| Error::Export { source })
    })
    .map(Option::unwrap_or_default)
}

/// Builds the document of everything published, passes it to `write`, and on success
/// forgets what it held; then, with an API key, sends it to the aiobs servers (a failure
/// there is [`Error::Upload`], naming `written_to`). With `skip_empty`, a flush with no
/// event, no session ended or never written, and nothing newly dropped does nothing and
/// returns `None`.
pub(crate) fn run<T>(
    state: &CollectorState,
    include_trace_tree: bool,
    written_to: &str,
    skip_empty: bool,
    write: impl FnOnce(&ExportDocument) -> Result<T>,
) -> Result<Option<T>> {
    let mut taken = state.take_for_flush();
    let mut sessions = state.sessions_for(&taken.records);
    let refused = taken.refused();
    if skip_empty && nothing_new(state, &taken, &sessions, &refused) {
        return Ok(None);
    }
    let dropped = state.refused_totals(refused);
    label_dropped(&mut sessions, &dropped);
    let settings = state.flush_settings();
    let events = materialise(&taken, &sessions.slots, &settings);
    let sampled = tail_sample(
        &settings,
        events.items,
        &events.ages,
        &taken,
        sessions.sessions.len(),
    );
    if !settings.sampling.keeps_everything() || events.head_dropped.iter().any(|n| *n > 0) {
        tail::label_sampling(
            &mut sessions.sessions,
            &sampled.items,
            &settings.sampling,
            &events.head_dropped,
            &sampled.tail_dropped,
        );
    }
    let doc = ExportDocument::new(
        std::mem::take(&mut sessions.sessions),
        sampled.items,
        events.made,
        include_trace_tree,
        settings.scrubbing,
    );
    let out = write(&doc)?;
    // The upload is the same document, rendered again only when there is a key.
    let upload = settings
        .api_key
        .as_ref()
        .map(|_| (doc.to_json_vec(), doc.event_count() as u64));
    drop(doc);
    state.commit_flush(
        &mut taken,
        &sessions,
        Carry {
            records: sampled.carried,
            decided: sampled.decided,
            dropped,
        },
    );
    if let (Some(key), Some((json, events))) = (settings.api_key, upload) {
        let sent = json
            .map_err(|e| Error::Export {
                source: Box::new(e),
            })
            .and_then(|json| remote::send(&key, &settings.remote, &json, events));
        if let Err(e) = sent {
            return Err(Error::Upload {
                written_to: written_to.to_owned(),
                source: Box::new(e),
            });
        }
    }
    Ok(Some(out))
}

/// Whether a flush that skips empty ones has nothing to write: no record, no refusal, no
/// session finished or never written.
fn nothing_new(
    state: &CollectorState,
    taken: &Taken<'_>,
    sessions: &FlushSessions,
    refused: &BTreeMap<u32, u64>,
) -> bool {
    taken.records.is_empty()
        && refused.is_empty()
        && sessions.finished.is_empty()
        && !state.any_unwritten(&sessions.slots)
}

/// Puts each session's total of refused events in its `aiobs_dropped_events` label.
fn label_dropped(sessions: &mut FlushSessions, dropped: &BTreeMap<u32, u64>) {
    for (session, slot) in sessions.sessions.iter_mut().zip(&sessions.slots) {
        if let Some(n) = dropped.get(slot) {
            session
                .labels
                .get_or_insert_with(Default::default)
                .insert("aiobs_dropped_events".to_owned(), n.to_string());
        }
    }
}

/// The events of a flush, before tail sampling.
struct Events {
    items: Vec<Item>,
    /// How many flushes each item has waited already.
    ages: Vec<u32>,
    /// Records made now (provider events of HTTP exchanges, masked provider events) that
    /// items point into.
    made: Vec<Box<[u8]>>,
    /// Root calls head sampling dropped, per session index.
    head_dropped: Vec<u64>,
}

/// Turns the records taken into items: the session of each (a session `reset` forgot drops
/// its events), an HTTP exchange into its provider event, a provider event through the mask.
fn materialise(taken: &Taken<'_>, slots: &[u32], settings: &FlushSettings) -> Events {
    let mask = settings.mask.as_deref();
    let mut events = Events {
        items: Vec::with_capacity(taken.records.len()),
        ages: Vec::new(),
        made: Vec::new(),
        head_dropped: vec![0; slots.len()],
    };
    for (n, &record) in taken.records.iter().enumerate() {
        let mut h = record.header();
        let Some(session) = slots.iter().position(|s| *s == h.session) else {
            continue;
        };
        if h.kind == Kind::Dropped {
            events.head_dropped[session] += 1;
            continue;
        }
        let mut record = record;
        let remade = match (h.kind, mask) {
            (Kind::Exchange, _) => {
                let bytes = deferred::materialize(&h, record.payload_of(&h), &settings.providers);
                Some(match mask {
                    Some(mask) => masking::mask_provider(&bytes, mask),
                    None => bytes,
                })
            }
            // A record carried from an earlier flush was masked then.
            (Kind::Provider, Some(mask)) if h.flags & flag::MASKED == 0 => {
                Some(masking::mask_provider(record.bytes(), mask))
            }
            _ => None,
        };
        if let Some(bytes) = remade {
            events.made.push(bytes.into_boxed_slice());
            let bytes = events.made.last().map_or(&[][..], |b| &b[..]);
            // SAFETY: the box holds a whole record, is not moved again, and lives in the
            // document as long as the items that point into it.
            record = unsafe { RecordRef::outside(bytes) };
            h = record.header();
        }
        events.items.push(Item {
            record,
            kind: h.kind,
            session: session as u32,
            started_at: clock::unix_seconds(h.start),
        });
        events.ages.push(
            n.checked_sub(taken.from_logs)
                .map_or(0, |c| taken.carried[c].1),
        );
    }
    events
}

/// The items of a flush after tail sampling.
struct Sampled {
    items: Vec<Item>,
    /// Trees dropped, per session index.
    tail_dropped: Vec<u64>,
    /// Records held back for their root, copied out of the logs this flush frees.
    carried: Vec<(Box<[u8]>, u32)>,
    decided: std::collections::HashMap<u64, bool>,
}

/// Applies the tail rules (when there are any, or records carried from earlier flushes) to
/// `items`, which have waited `ages` flushes each.
fn tail_sample(
    settings: &FlushSettings,
    items: Vec<Item>,
    ages: &[u32],
    taken: &Taken<'_>,
    session_count: usize,
) -> Sampled {
    let mut tail_dropped = vec![0; session_count];
    if !settings.sampling.has_tail() && taken.carried.is_empty() {
        return Sampled {
            items,
            tail_dropped,
            carried: Vec::new(),
            decided: Default::default(),
        };
    }
    let tail = tail::apply(&settings.sampling, items, ages, &taken.decided);
    for session in tail.dropped {
        tail_dropped[session as usize] += 1;
    }
    Sampled {
        items: tail.kept,
        tail_dropped,
        // Copied now: the bytes live in the logs, which this flush frees.
        carried: tail
            .carry
            .into_iter()
            .map(|(item, age)| (Box::<[u8]>::from(item.record.bytes()), age))
            .collect(),
        decided: tail.decided,
    }
}
