//! Flushing: take what the logs published, write it, and forget it only once it is written.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::capture::limits;
use crate::capture::mask::{self, MaskFn, PathSegment};
use crate::capture::walk::value_end;
use crate::collector::Collector;
use crate::document::{ExportDocument, Item};
use crate::error::{Error, Result};
use crate::exporters::{ExportResult, Exporter};
use crate::model::Session;
use crate::providers::deferred;
use crate::remote;
use crate::sampling::{self, Sampling};
use crate::store::{self, Kind, RecordRef, flag};
use crate::sync::lock;
use crate::{clock, id};

/// Bytes buffered between the JSON writer and the file.
const WRITE_BUFFER: usize = 1 << 20;

/// Where and how [`Collector::flush`] writes.
///
/// ```
/// let opts = aiobs::FlushOptions::to_path("out/trace.json").include_trace_tree(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct FlushOptions {
    path: Option<PathBuf>,
    include_trace_tree: bool,
    fsync: bool,
}

impl Default for FlushOptions {
    /// The default path (`LLM_OBS_OUT`, else `<session-id>.json`, else
    /// `llm_observability.json`), with the trace tree, without fsync.
    fn default() -> Self {
        FlushOptions {
            path: None,
            include_trace_tree: true,
            fsync: false,
        }
    }
}

impl FlushOptions {
    /// The defaults; see [`FlushOptions::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Write to `path` (parent directories are created).
    pub fn to_path(path: impl Into<PathBuf>) -> Self {
        FlushOptions {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// Whether to write `trace_tree` (and `enh_prompt_traces`); on by default.
    pub fn include_trace_tree(mut self, yes: bool) -> Self {
        self.include_trace_tree = yes;
        self
    }

    /// Whether to `fsync` the file before it replaces the target (durable across power loss;
    /// the rename is atomic either way). Off by default.
    pub fn fsync(mut self, yes: bool) -> Self {
        self.fsync = yes;
        self
    }
}

/// The path a flush writes to when none is given: `LLM_OBS_OUT`, else `<session-id>.json`
/// (the active session, else the first one), else `llm_observability.json`.
pub(crate) fn default_path(active_or_first_session: Option<&str>) -> PathBuf {
    default_path_from(std::env::var_os("LLM_OBS_OUT"), active_or_first_session)
}

fn default_path_from(llm_obs_out: Option<std::ffi::OsString>, session: Option<&str>) -> PathBuf {
    if let Some(p) = llm_obs_out.filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match session {
        Some(id) => PathBuf::from(format!("{id}.json")),
        None => PathBuf::from("llm_observability.json"),
    }
}

/// Writes through a temporary file in the target's directory, renamed over the target.
fn write_atomically(path: &Path, fsync: bool, doc: &ExportDocument) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), id::next()));
    let result = (|| {
        let file = File::create_new(&tmp)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        doc.write_json(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if fsync {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl Collector {
    /// Writes every session and every recorded event to a JSON file and returns its path.
    ///
    /// The file is replaced atomically (a temporary file renamed over it). On failure the error
    /// names the path and everything stays stored for the next flush. After success the events
    /// and the finished sessions are forgotten; unlike the Python SDK, the active session stays
    /// open, so calls recorded after a flush go into the next one, under the same session.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("aiobs-doc-{}", std::process::id()));
    /// let obs = aiobs::Collector::new();
    /// obs.observe(aiobs::ObserveOptions::new().session_name("doc"))?;
    /// obs.end();
    /// let path = obs.flush(aiobs::FlushOptions::to_path(dir.join("trace.json")))?;
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("\"name\":\"doc\""));
    /// # std::fs::remove_dir_all(dir).ok();
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn flush(&self, options: FlushOptions) -> Result<PathBuf> {
        let path = match options.path {
            Some(p) => p,
            None => {
                let state = lock(&self.inner.state);
                let active = self.inner.active.load(Ordering::Relaxed);
                let id = state
                    .sessions
                    .get(&active)
                    .or_else(|| state.sessions.values().next())
                    .map(|s| s.id.clone());
                default_path(id.as_deref())
            }
        };
        let written_to = path.display().to_string();
        self.flush_with(options.include_trace_tree, &written_to, false, |doc| {
            write_atomically(&path, options.fsync, doc).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })
        })?;
        Ok(path)
    }

    /// What the auto-flusher does: like [`Collector::flush`] to `<dir>/<session-id>-<seq>.json`
    /// (or like [`Collector::flush_to`]), but with nothing new to write it writes nothing
    /// (`Ok(None)`).
    pub(crate) fn flush_numbered(
        &self,
        target: &crate::autoflush::Target,
        include_trace_tree: bool,
    ) -> Result<Option<crate::autoflush::Flushed>> {
        use crate::autoflush::{Flushed, Target};
        match target {
            Target::Dir(dir) => {
                let seq = self.inner.auto_seq.load(Ordering::Relaxed) + 1;
                let written_to = dir.display().to_string();
                let flushed = self.flush_with(include_trace_tree, &written_to, true, |doc| {
                    let session = doc
                        .sessions()
                        .iter()
                        .find(|s| s.ended_at.is_none())
                        .or_else(|| doc.sessions().first())
                        .map_or("no-session", |s| s.id.as_str());
                    let path = dir.join(format!("{session}-{seq:06}.json"));
                    write_atomically(&path, false, doc).map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                    Ok(Flushed {
                        path: Some(path),
                        events: doc.event_count() as u64,
                    })
                })?;
                if flushed.is_some() {
                    self.inner.auto_seq.store(seq, Ordering::Relaxed);
                }
                Ok(flushed)
            }
            Target::Exporter(exporter) => {
                self.flush_with(include_trace_tree, "the exporter", true, |doc| {
                    exporter
                        .export(doc)
                        .map_err(|source| Error::Export { source })?;
                    Ok(Flushed {
                        path: None,
                        events: doc.event_count() as u64,
                    })
                })
            }
        }
    }

    /// Hands every session and recorded event to `exporter` instead of a file. On an error
    /// everything stays stored for the next flush.
    pub fn flush_to(
        &self,
        exporter: &dyn Exporter,
        include_trace_tree: bool,
    ) -> Result<ExportResult> {
        self.flush_with(include_trace_tree, "the exporter", false, |doc| {
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
    fn flush_with<T>(
        &self,
        include_trace_tree: bool,
        written_to: &str,
        skip_empty: bool,
        write: impl FnOnce(&ExportDocument) -> Result<T>,
    ) -> Result<Option<T>> {
        let inner = &*self.inner;
        let _one_at_a_time = lock(&inner.flush_lock);
        let logs = lock(&inner.logs).clone();
        let mut records: Vec<RecordRef> = Vec::new();
        let marks: Vec<_> = logs.iter().map(|log| log.read(&mut records)).collect();
        // Records an earlier flush held back for their root, and its tail decisions: given
        // back to the collector unless this flush succeeds (also if the writer panics).
        let mut pending = {
            let mut state = lock(&inner.state);
            Pending {
                state: &inner.state,
                carried: std::mem::take(&mut state.carried),
                decided: std::mem::take(&mut state.decided),
                committed: false,
            }
        };
        let log_records = records.len();
        for (bytes, _) in &pending.carried {
            // SAFETY: each box holds a whole record and is kept (in `pending`, then in the
            // collector) until after the document is dropped.
            records.push(unsafe { RecordRef::outside(bytes) });
        }

        // The sessions to write: every stored one, then retired ones that late events name.
        let (mut sessions, mut slots): (Vec<Session>, Vec<u32>) = (Vec::new(), Vec::new());
        // Sessions not active when they were read are final as written: forgotten after success.
        let finished: Vec<u32>;
        {
            let state = lock(&inner.state);
            let active = inner.active.load(Ordering::Relaxed);
            for (slot, s) in &state.sessions {
                slots.push(*slot);
                sessions.push(s.clone());
            }
            finished = slots.iter().copied().filter(|s| *s != active).collect();
            let mut late: Vec<u32> = records
                .iter()
                .map(|r| r.header().session)
                .filter(|s| !state.sessions.contains_key(s) && state.retired.contains_key(s))
                .collect();
            late.sort_unstable();
            late.dedup();
            for slot in late {
                slots.push(slot);
                sessions.push(state.retired[&slot].clone());
            }
        }
        // Events the capacity refused since the last flush, by session slot; the label
        // carries each session's total since it started.
        let mut dropped = std::collections::BTreeMap::<u32, u64>::new();
        for mark in &marks {
            if mark.dropped > 0 {
                *dropped.entry(mark.dropped_session).or_default() += mark.dropped;
            }
        }
        if skip_empty && records.is_empty() && dropped.is_empty() {
            let state = lock(&inner.state);
            let news = !finished.is_empty() || slots.iter().any(|s| state.unwritten.contains(s));
            if !news {
                return Ok(None);
            }
        }
        {
            let state = lock(&inner.state);
            for (slot, n) in &mut dropped {
                *n += state.dropped.get(slot).copied().unwrap_or(0);
            }
            for (slot, n) in &state.dropped {
                dropped.entry(*slot).or_insert(*n);
            }
        }
        for (session, slot) in sessions.iter_mut().zip(&slots) {
            if let Some(n) = dropped.get(slot) {
                session
                    .labels
                    .get_or_insert_with(Default::default)
                    .insert("aiobs_dropped_events".to_owned(), n.to_string());
            }
        }
        let (providers, sampling, scrubbing, api_key, remote) = {
            let state = lock(&inner.state);
            (
                state.providers.clone(),
                state.sampling.clone(),
                state.scrubbing.clone(),
                state.api_key.clone(),
                state.remote.clone(),
            )
        };
        let mask = inner.capture.get().mask.as_deref();
        let mut made: Vec<Box<[u8]>> = Vec::new();
        let mut head_dropped = vec![0u64; sessions.len()];
        let mut items: Vec<Item> = Vec::with_capacity(records.len());
        let mut ages: Vec<u32> = Vec::new();
        for (n, &record) in records.iter().enumerate() {
            let mut h = record.header();
            // Events of a session that `reset` forgot are dropped.
            let Some(session) = slots.iter().position(|s| *s == h.session) else {
                continue;
            };
            if h.kind == Kind::Dropped {
                head_dropped[session] += 1;
                continue;
            }
            let mut record = record;
            // An HTTP exchange becomes its provider event now, off the caller's path; a
            // provider event goes through the mask hook (function events went when recorded).
            let remade = match (h.kind, mask) {
                (Kind::Exchange, _) => {
                    let bytes = deferred::materialize(&h, record.payload_of(&h), &providers);
                    Some(match mask {
                        Some(mask) => mask_provider(&bytes, mask),
                        None => bytes,
                    })
                }
                // A record carried from an earlier flush was masked then.
                (Kind::Provider, Some(mask)) if h.flags & flag::MASKED == 0 => {
                    Some(mask_provider(record.bytes(), mask))
                }
                _ => None,
            };
            if let Some(bytes) = remade {
                made.push(bytes.into_boxed_slice());
                let bytes = made.last().map_or(&[][..], |b| &b[..]);
                // SAFETY: the box holds a whole record, is not moved again, and lives in
                // the document as long as the items that point into it.
                record = unsafe { RecordRef::outside(bytes) };
                h = record.header();
            }
            items.push(Item {
                record,
                kind: h.kind,
                session: session as u32,
                started_at: clock::unix_seconds(h.start),
            });
            ages.push(
                n.checked_sub(log_records)
                    .map_or(0, |c| pending.carried[c].1),
            );
        }
        let mut carried_out = Vec::new();
        let mut decided = std::collections::HashMap::new();
        let mut tail_dropped = vec![0u64; sessions.len()];
        if sampling.has_tail() || !pending.carried.is_empty() {
            let tail = sampling::apply_tail(&sampling, items, &ages, &pending.decided);
            items = tail.kept;
            decided = tail.decided;
            for session in tail.dropped {
                tail_dropped[session as usize] += 1;
            }
            // Copied now: the bytes live in the logs, which this flush frees.
            carried_out = tail
                .carry
                .into_iter()
                .map(|(item, age)| (Box::<[u8]>::from(item.record.bytes()), age))
                .collect();
        }
        if !sampling.keeps_everything() || head_dropped.iter().any(|n| *n > 0) {
            label_sampling(
                &mut sessions,
                &items,
                &sampling,
                &head_dropped,
                &tail_dropped,
            );
        }
        let doc = ExportDocument::new(sessions, items, made, include_trace_tree, scrubbing);
        let out = write(&doc)?;
        // The upload is the same document, rendered again only when there is a key.
        let upload = api_key
            .as_ref()
            .map(|_| (doc.to_json_vec(), doc.event_count() as u64));
        drop(doc);

        for (log, mark) in logs.iter().zip(marks) {
            log.commit(mark, &inner.budget);
        }
        pending.committed = true;
        let mut decisions = std::mem::take(&mut pending.decided);
        decisions.push(decided);
        drop(pending);
        let mut state = lock(&inner.state);
        state.carried = carried_out;
        state.decided = decisions;
        state.dropped.extend(dropped);
        for slot in &slots {
            state.unwritten.remove(slot);
        }
        for slot in finished {
            if let Some(s) = state.sessions.remove(&slot) {
                state.retire(slot, s);
            }
            state.dropped.remove(&slot);
        }
        drop(state);
        inner.forget_finished(&mut lock(&inner.logs));
        if let (Some(key), Some((json, trace_count))) = (api_key, upload) {
            let sent = json
                .map_err(|e| Error::Export {
                    source: Box::new(e),
                })
                .and_then(|json| remote::send(&key, &remote, &json, trace_count));
            if let Err(e) = sent {
                return Err(Error::Upload {
                    written_to: written_to.to_owned(),
                    source: Box::new(e),
                });
            }
        }
        Ok(Some(out))
    }
}

/// What a flush took from the collector to give back if it does not succeed.
struct Pending<'a> {
    state: &'a std::sync::Mutex<crate::collector::State>,
    carried: Vec<(Box<[u8]>, u32)>,
    decided: sampling::Decisions,
    committed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let mut state = lock(self.state);
            state.carried = std::mem::take(&mut self.carried);
            state.decided = std::mem::take(&mut self.decided);
        }
    }
}

/// A provider record (`bytes`: header and payload) with its request, response and error
/// passed through the mask hook, and marked as masked. A record that can't be read keeps
/// its provider and API, with no values: never unmasked ones.
fn mask_provider(bytes: &[u8], mask: &MaskFn) -> Vec<u8> {
    // SAFETY: `bytes` holds a whole record and outlives `record`.
    let record = unsafe { RecordRef::outside(bytes) };
    let h = record.header();
    match masked_payload(record.payload_of(&h), h.flags, mask) {
        Some(payload) => store::record_bytes(
            &store::Header {
                flags: h.flags | flag::MASKED,
                ..h
            },
            &payload,
        ),
        None => {
            let payload = record.payload_of(&h);
            let names = value_end(payload, 0)
                .and_then(|api| value_end(payload, api))
                .unwrap_or(0);
            let mut out = payload[..names].to_vec();
            out.push(crate::capture::tag::NULL);
            let flags = (h.flags & !(flag::RESPONSE | flag::ERROR)) | flag::MASKED;
            store::record_bytes(&store::Header { flags, ..h }, &out)
        }
    }
}

/// The payload of a provider record through the mask hook; `None` if it can't be read.
fn masked_payload(payload: &[u8], flags: u8, mask: &MaskFn) -> Option<Vec<u8>> {
    // The provider's name and the API, then the values.
    let api_start = value_end(payload, 0)?;
    let values = value_end(payload, api_start)?;
    let api = std::str::from_utf8(payload.get(api_start + 5..values)?).ok()?;
    let mut tail = vec![PathSegment::Key("request")];
    if flags & flag::RESPONSE != 0 {
        tail.push(PathSegment::Key("response"));
    }
    if flags & flag::ERROR != 0 {
        tail.push(PathSegment::Error);
    }
    let mut out = payload[..values].to_vec();
    mask::apply(
        &payload[values..],
        api,
        None,
        &tail,
        mask,
        &limits::NONE,
        &mut out,
    )?;
    Some(out)
}

/// The system labels of sampling, on every session written: the configuration
/// (`aiobs_sampling`), and the trees of this file kept and dropped (`aiobs_sampled_kept`,
/// `aiobs_sampled_dropped`).
fn label_sampling(
    sessions: &mut [Session],
    items: &[Item],
    sampling: &Sampling,
    head_dropped: &[u64],
    tail_dropped: &[u64],
) {
    let mut kept = vec![0u64; sessions.len()];
    for item in items {
        if item.record.header().parent == 0 {
            kept[item.session as usize] += 1;
        }
    }
    for (i, session) in sessions.iter_mut().enumerate() {
        let labels = session.labels.get_or_insert_with(Default::default);
        labels.insert("aiobs_sampling".to_owned(), sampling.describe());
        labels.insert("aiobs_sampled_kept".to_owned(), kept[i].to_string());
        labels.insert(
            "aiobs_sampled_dropped".to_owned(),
            (head_dropped[i] + tail_dropped[i]).to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_is_llm_obs_out_then_the_session_then_a_fixed_name() {
        let sid = Some("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b");
        assert_eq!(
            default_path_from(Some("out/x.json".into()), sid),
            PathBuf::from("out/x.json")
        );
        assert_eq!(
            default_path_from(None, sid),
            PathBuf::from("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b.json")
        );
        assert_eq!(
            default_path_from(None, None),
            PathBuf::from("llm_observability.json")
        );
        assert_eq!(
            default_path_from(Some("".into()), None),
            PathBuf::from("llm_observability.json")
        );
    }
}
