//! The ways out of a document (its JSON streamed or in memory, the typed model), written by
//! several threads when it is large: its JSON cut into pieces of about
//! [`PIECE_BYTES`] (runs of flat events, runs of trace-tree nodes in pre-order, and the
//! literal text between them), rendered by whichever thread is free, and written in order by
//! the calling thread, which renders too while the next piece to write is not ready.
//!
//! The flat lists and the tree are independent text, and so is any run of tree nodes once
//! each node's depth is known: the closing brackets before a node are those of the subtrees
//! that ended since the node before it (`depth(before) + 1 - depth(node)` of them). At most
//! [`AHEAD`] pieces wait to be written, so memory stays a few pieces whatever the document's
//! size.

use std::io::{self, Write};
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::ExportDocument;
use super::write::{Cache, node_fields, write_document_with, write_head, write_tail};
use crate::model::ObservabilityExport;
use crate::store::Kind;
use crate::sync::lock;

/// Bytes of JSON a piece aims at (estimated from the records' sizes).
const PIECE_BYTES: usize = 512 * 1024;

/// Pieces rendered and waiting to be written, at most.
const AHEAD: usize = 4;

/// Events below which one thread writes the document: starting threads would cost more.
const MIN_EVENTS: usize = 8192;

/// The most threads that render (the caller included).
const MAX_THREADS: usize = 4;

/// Estimated JSON bytes of an event beside its payload's (ids, times, callsite, names).
const EVENT_OVERHEAD: usize = 480;

/// One piece of the document's text.
enum Piece {
    /// Text made while planning: the head, the separators, the tree's last brackets.
    Literal(Vec<u8>),
    /// The events of `kind` among `items[range]`; `comma` if one was written before.
    Flat {
        kind: Kind,
        range: Range<usize>,
        comma: bool,
    },
    /// The tree nodes at pre-order positions `range`.
    Tree(Range<usize>),
}

/// The document cut into pieces.
struct Plan {
    pieces: Vec<Piece>,
    /// Every tree node in pre-order, with its depth (roots at 0).
    preorder: Vec<(u32, u32)>,
}

/// Whether `doc` is written by several threads, and by how many.
fn threads_for(doc: &ExportDocument) -> usize {
    if doc.items.len() < MIN_EVENTS {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
}

/// Whether [`write_document`] would use more than one thread for `doc`: then the writer
/// needs no buffer of its own, the pieces are written whole.
pub(crate) fn is_parallel(doc: &ExportDocument) -> bool {
    threads_for(doc) > 1
}

/// Writes the whole document into `w`, on several threads when it is large enough to gain
/// from them; the same bytes as the one-thread writer.
pub(crate) fn write_document<W: Write + ?Sized>(
    doc: &ExportDocument,
    w: &mut W,
    with_tree: bool,
) -> io::Result<()> {
    let threads = threads_for(doc);
    if threads < 2 {
        return write_document_with(doc, w, with_tree);
    }
    let plan = Plan::new(doc, with_tree)?;
    let run = Run {
        doc,
        plan: &plan,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        state: Mutex::new(State {
            written: 0,
            done: (0..plan.pieces.len()).map(|_| None).collect(),
            free: Vec::new(),
        }),
        changed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| run.help());
        }
        let result = run.write(w);
        // On an error, the helpers stop at their next piece.
        run.stop.store(true, Ordering::Release);
        run.changed.notify_all();
        result
    })
}

/// The ways out of a document: its JSON, streamed or in memory, and the typed model.
impl ExportDocument<'_> {
    /// Streams the document as JSON (the aiobs 0.1.5 format) into `out`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        write_document(self, out, true)
    }

    /// The document as JSON bytes.
    pub fn to_json_vec(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        write_document(self, &mut out, true)?;
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
        write_document(self, &mut bytes, false)?;
        serde_json::from_slice(&bytes).map_err(io::Error::other)
    }
}

impl Plan {
    fn new(doc: &ExportDocument, with_tree: bool) -> io::Result<Plan> {
        let mut pieces = Vec::new();
        let mut head = Vec::new();
        write_head(doc, &mut head)?;
        head.extend_from_slice(br#"],"events":["#);
        pieces.push(Piece::Literal(head));
        let estimate = |i: usize| {
            let h = doc.items[i].record.header();
            EVENT_OVERHEAD + 2 * h.payload_len as usize
        };
        for kind in [Kind::Provider, Kind::Function] {
            if kind == Kind::Function {
                pieces.push(Piece::Literal(br#"],"function_events":["#.to_vec()));
            }
            let (mut start, mut bytes, mut comma) = (0, 0, false);
            for i in 0..doc.items.len() {
                if doc.items[i].kind != kind {
                    continue;
                }
                bytes += estimate(i);
                if bytes >= PIECE_BYTES {
                    pieces.push(Piece::Flat {
                        kind,
                        range: start..i + 1,
                        comma,
                    });
                    (start, bytes, comma) = (i + 1, 0, true);
                }
            }
            if bytes > 0 {
                pieces.push(Piece::Flat {
                    kind,
                    range: start..doc.items.len(),
                    comma,
                });
            }
        }
        let mut preorder = Vec::new();
        match doc.tree.as_ref().filter(|_| with_tree) {
            None => pieces.push(Piece::Literal(br#"],"trace_tree":null"#.to_vec())),
            Some(tree) => {
                pieces.push(Piece::Literal(br#"],"trace_tree":["#.to_vec()));
                preorder.reserve(doc.items.len());
                let mut stack: Vec<(u32, u32)> = tree.roots.iter().rev().map(|&r| (r, 0)).collect();
                while let Some((i, depth)) = stack.pop() {
                    preorder.push((i, depth));
                    stack.extend(tree.children_of(i).iter().rev().map(|&c| (c, depth + 1)));
                }
                let (mut start, mut bytes) = (0, 0);
                for (p, &(i, _)) in preorder.iter().enumerate() {
                    bytes += estimate(i as usize);
                    if bytes >= PIECE_BYTES {
                        pieces.push(Piece::Tree(start..p + 1));
                        (start, bytes) = (p + 1, 0);
                    }
                }
                if start < preorder.len() {
                    pieces.push(Piece::Tree(start..preorder.len()));
                }
                // The last node's open lists, then the roots' list.
                let open = preorder.last().map_or(0, |&(_, depth)| depth as usize + 1);
                let mut end = b"]}".repeat(open);
                end.push(b']');
                pieces.push(Piece::Literal(end));
            }
        }
        let mut tail = Vec::new();
        write_tail(doc, &mut tail, with_tree)?;
        pieces.push(Piece::Literal(tail));
        Ok(Plan { pieces, preorder })
    }

    /// Renders piece `n` into `out`.
    fn render(
        &self,
        doc: &ExportDocument,
        n: usize,
        cache: &mut Cache,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        match &self.pieces[n] {
            Piece::Literal(text) => out.extend_from_slice(text),
            Piece::Flat { kind, range, comma } => {
                let mut comma = *comma;
                for item in doc.items[range.clone()]
                    .iter()
                    .filter(|it| it.kind == *kind)
                {
                    if comma {
                        out.push(b',');
                    }
                    comma = true;
                    cache.write_event_open(doc, item, out)?;
                    out.push(b'}');
                }
            }
            Piece::Tree(range) => {
                for p in range.clone() {
                    let (i, depth) = self.preorder[p];
                    if p > 0 {
                        // The lists of the subtrees that ended since the node before.
                        let closed = (self.preorder[p - 1].1 + 1 - depth) as usize;
                        for _ in 0..closed {
                            out.extend_from_slice(b"]}");
                        }
                        if closed > 0 {
                            out.push(b',');
                        }
                    }
                    let item = &doc.items[i as usize];
                    cache.write_event_open(doc, item, out)?;
                    out.extend_from_slice(node_fields(item.kind));
                }
            }
        }
        Ok(())
    }
}

/// What the threads share while writing one document.
struct Run<'d, 'a> {
    doc: &'d ExportDocument<'a>,
    plan: &'d Plan,
    /// The next piece no thread has taken.
    next: AtomicUsize,
    /// Set when the writer is done or failed: helpers take no more pieces.
    stop: AtomicBool,
    state: Mutex<State>,
    /// A piece was rendered, or one was written.
    changed: Condvar,
}

// SAFETY: `Run` is shared by the threads of one `write_document` call only. Its one part that
// is not `Sync` is the document's records (`RecordRef`, a pointer to bytes in the collector's
// logs or in the document's own boxes), and those bytes are only read: they stay in place and
// unchanged while the document lives, which outlives the scope of the threads.
unsafe impl Sync for Run<'_, '_> {}

struct State {
    /// Pieces written so far.
    written: usize,
    /// Rendered pieces not yet written, by number.
    done: Vec<Option<io::Result<Vec<u8>>>>,
    /// Buffers of written pieces, for the next ones.
    free: Vec<Vec<u8>>,
}

impl Run<'_, '_> {
    /// Renders piece `n`. A panic while rendering (a bug, never the data's fault) becomes an
    /// error, so that the writer stops and the other threads with it, rather than wait for a
    /// piece that will never come.
    fn render(&self, n: usize, cache: &mut Cache, buf: &mut Vec<u8>) -> io::Result<()> {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            self.plan.render(self.doc, n, cache, buf)
        }))
        .unwrap_or_else(|_| {
            Err(io::Error::other(
                "aiobs: writing the document failed: rendering a piece panicked",
            ))
        })
    }

    /// A helper thread: renders pieces in turn, at most [`AHEAD`] ahead of the writer.
    fn help(&self) {
        let mut cache = Cache::new(self.doc.scrubbing.clone());
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            if n >= self.plan.pieces.len() {
                return;
            }
            let mut buf = {
                let mut state = lock(&self.state);
                while n >= state.written + AHEAD && !self.stop.load(Ordering::Acquire) {
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                if self.stop.load(Ordering::Acquire) {
                    return;
                }
                state.free.pop().unwrap_or_default()
            };
            buf.clear();
            let rendered = self.render(n, &mut cache, &mut buf);
            lock(&self.state).done[n] = Some(rendered.map(|()| buf));
            self.changed.notify_all();
        }
    }

    /// The calling thread: writes the pieces in order, rendering the next untaken one itself
    /// while the piece to write is not ready.
    fn write<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        let total = self.plan.pieces.len();
        let mut cache = Cache::new(self.doc.scrubbing.clone());
        let mut state = lock(&self.state);
        while state.written < total {
            let at = state.written;
            if let Some(rendered) = state.done[at].take() {
                drop(state);
                let buf = rendered?;
                w.write_all(&buf)?;
                state = lock(&self.state);
                state.written += 1;
                state.free.push(buf);
                self.changed.notify_all();
                continue;
            }
            // Take the next piece if it is within the window, else wait for a helper.
            let n = self.next.load(Ordering::Relaxed);
            if n < total
                && n < at + AHEAD
                && self
                    .next
                    .compare_exchange(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                let mut buf = state.free.pop().unwrap_or_default();
                drop(state);
                buf.clear();
                let rendered = self.render(n, &mut cache, &mut buf);
                state = lock(&self.state);
                state.done[n] = Some(rendered.map(|()| buf));
                continue;
            }
            if n <= at || state.done[at].is_some() {
                continue; // taken meanwhile, or just rendered: look again
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporters::{CustomExporter, ExportResult};
    use crate::{Collector, ObserveOptions, llm_call, observe};

    /// Calls nested `depth` deep, each level failing or not, with an LLM call at the bottom
    /// every so often: trees of every shape, and pieces that end at every depth.
    #[observe(name = "nest")]
    fn nest(depth: u32, n: u32) -> Result<u32, String> {
        if depth == 0 {
            if n % 7 == 0 {
                llm_call("openai", "chat.completions.create")
                    .request(&serde_json::json!({"model": "m", "n": n, "text": "x".repeat((n % 50) as usize)}))
                    .response(&serde_json::json!({"choices": [{"message": {"content": "ok"}}]}));
            }
            return if n % 3 == 0 {
                Err(format!("bad {n}"))
            } else {
                Ok(n)
            };
        }
        let mut sum = 0;
        for k in 0..(n % 3 + 1) {
            sum = nest(depth - 1, n.wrapping_mul(31).wrapping_add(k)).unwrap_or(1) % 1000
                + sum % 1000;
        }
        Ok(sum)
    }

    /// Both writers' bytes for the same document.
    fn both(obs: &Collector, with_tree: bool) -> (Vec<u8>, Vec<u8>, usize) {
        let out = std::sync::Mutex::new(None);
        let exporter = CustomExporter::new("compare", |doc: &ExportDocument<'_>| {
            let mut one = Vec::new();
            write_document_with(doc, &mut one, with_tree)?;
            let mut many = Vec::new();
            write_document(doc, &mut many, with_tree)?;
            *out.lock().unwrap() = Some((one, many, doc.items.len()));
            Ok(ExportResult::default())
        });
        obs.flush_to(&exporter, true).expect("flush");
        out.into_inner().unwrap().expect("exported")
    }

    #[test]
    fn many_threads_write_the_bytes_one_thread_writes() {
        let obs = Collector::new();
        let _scope = obs.set_default();
        for with_tree in [true, false] {
            obs.observe(ObserveOptions::new().session_name("parallel"))
                .expect("observe");
            for n in 0..2500 {
                let _ = nest(n % 9, n);
            }
            let (one, many, events) = both(&obs, with_tree);
            assert!(
                events > MIN_EVENTS,
                "{events} events: written by one thread"
            );
            assert!(
                one.len() > 8 * PIECE_BYTES,
                "{} bytes: a few pieces only",
                one.len()
            );
            assert!(one == many, "the writers differ (with_tree: {with_tree})");
            let json: serde_json::Value = serde_json::from_slice(&many).expect("valid JSON");
            assert_eq!(
                json["trace_tree"].is_array(),
                with_tree,
                "trace_tree as asked"
            );
        }
    }

    #[test]
    fn a_small_document_is_written_by_one_thread() {
        let obs = Collector::new();
        let _scope = obs.set_default();
        obs.observe(ObserveOptions::new()).expect("observe");
        let _ = nest(3, 5);
        let (one, many, events) = both(&obs, true);
        assert!(events < MIN_EVENTS);
        assert_eq!(one, many);
    }
}
