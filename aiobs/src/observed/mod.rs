//! The hot path that `#[observe]` expands to: is anything recording? open a call, capture its
//! arguments, run the body, capture the outcome, push one record.
//!
//! With no active session anywhere, [`enter`] is one relaxed atomic load and a branch, and
//! [`finish`] calls the body: no clock read, no allocation, no capture.

use std::any::Any;
use std::mem;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;

use crate::capture::mask::{self, MaskFn, PathSegment};
use crate::capture::settings::CaptureSettings;
use crate::capture::{Limits, Sink, encode, fit, tag};
use crate::clock::Instant;
use crate::id;
use crate::state::CollectorState;
use crate::store::{FnMeta, Header, Kind, flag};
use thread::ThreadState;

mod future;
#[cfg(debug_assertions)]
mod parked;
mod sync;
pub(crate) mod thread;

pub use future::{AsyncCall, Observed, enter_async, enter_async_with, observed, with_output};
#[cfg(debug_assertions)]
pub(crate) use parked::ParkedCalls;
#[cfg(debug_assertions)]
pub use parked::{Parked, finish_parked};
pub use sync::{OpenCall, SyncCall, enter, enter_with, finish};

/// `Some(type_name::<Self>)` for functions inside an `impl`, else `None`.
#[doc(hidden)]
pub type SelfType = Option<fn() -> &'static str>;

/// What a call records no matter whether it is sync or async.
struct Opened {
    meta: &'static FnMeta,
    self_ty: SelfType,
    location: &'static Location<'static>,
    span: u64,
    parent: u64,
    session: u32,
    /// The collector's limits and mask when the call was opened.
    settings: &'static CaptureSettings,
    /// The collector was at its capacity: the call is counted as dropped, not captured. Its
    /// span stays current for its children, which are counted (or recorded) on their own.
    refused: bool,
}

impl Opened {
    /// Runs the mask hook, if there is one, over the payload in `buf[start..]`.
    #[inline]
    fn mask_payload(&self, buf: &mut Vec<u8>, start: usize, flags: u8) {
        if let Some(mask) = &self.settings.mask {
            self.mask_with(&**mask, buf, start, flags);
        }
    }

    #[cold]
    #[inline(never)]
    fn mask_with(&self, mask: &MaskFn, buf: &mut Vec<u8>, start: usize, flags: u8) {
        let mut tail = Vec::with_capacity(2);
        if flags & flag::RESULT != 0 {
            tail.push(PathSegment::Result);
        }
        if flags & flag::ERROR != 0 {
            tail.push(PathSegment::Error);
        }
        let names = (flags & flag::ARGS != 0).then_some(self.meta.arg_names);
        let mut out = Vec::with_capacity(buf.len() - start);
        let done = mask::apply(
            &buf[start..],
            self.meta.name,
            names,
            &tail,
            mask,
            &self.settings.limits,
            &mut out,
        );
        // Nothing unmasked stays behind in the thread's scratch either.
        buf[start..].fill(0);
        buf.truncate(start);
        match done {
            Some(()) => buf.extend_from_slice(&out),
            None => {
                // Corrupt bytes can't happen; if they did, record no values rather than
                // unmasked ones.
                if names.is_some() {
                    buf.extend_from_slice(&[tag::SEQ, tag::END]);
                }
                for _ in &tail {
                    buf.push(tag::NULL);
                }
            }
        }
    }

    /// A root call that head sampling dropped: nothing is captured, and the calls under it
    /// are not recorded.
    fn dropped(&self) -> bool {
        self.span & id::DROPPED != 0
    }

    /// Whether nothing of the call is captured: a dropped root, or a call over the capacity.
    fn skipped(&self) -> bool {
        self.dropped() || self.refused
    }

    /// The record that counts a dropped tree.
    fn dropped_header(&self, at: Instant) -> Header {
        Header {
            kind: Kind::Dropped,
            ..self.header(at, at, 0, 0)
        }
    }

    #[inline(always)]
    fn header(&self, start: Instant, end: Instant, payload_len: usize, flags: u8) -> Header {
        Header {
            span: self.span,
            parent: self.parent,
            enh_id: if self.meta.enh_prompt { id::next() } else { 0 },
            start,
            end,
            meta: Some(self.meta),
            self_ty: self.self_ty,
            location: Some(self.location),
            session: self.session,
            payload_len: payload_len as u32,
            kind: Kind::Function,
            flags,
        }
    }
}

/// Where the arguments of a call are captured; the generated code calls [`ArgSink::arg`] once
/// per argument.
#[doc(hidden)]
pub struct ArgSink<'a> {
    sink: Sink<'a>,
}

impl ArgSink<'_> {
    /// Captures one argument.
    #[inline(always)]
    pub fn arg(&mut self, capture: impl FnOnce(&mut Sink<'_>)) {
        capture(&mut self.sink);
    }

    /// Records an argument marked `secret(..)`: the marker, never the value.
    #[inline]
    pub fn redacted(&mut self) {
        self.sink
            .spill(|out, _, _| encode::put_str(out, crate::scrub::REDACTED, usize::MAX));
    }
}

/// Captures a call's arguments at the end of `out` as a whole list (`SEQ`, the arguments,
/// `END`). The list is closed here, when the call starts, rather than when it completes: the
/// completion then copies the arguments into the log without reading a byte it has just
/// written (such a read waits for the store).
#[inline(always)]
fn capture_args(out: &mut Vec<u8>, limits: &Limits, args: impl FnOnce(&mut ArgSink<'_>)) {
    // The event's budget counts from after the list's opening tag.
    let budget_end = out
        .len()
        .saturating_add(1)
        .saturating_add(limits.capture_budget());
    let mut sink = ArgSink {
        sink: Sink::with_budget(out, limits, budget_end),
    };
    sink.sink.put_tag(tag::SEQ);
    args(&mut sink);
    sink.sink.put_tag(tag::END);
}

/// Where the outcome of a call is written; the generated code calls [`Outcome::ok`] or
/// [`Outcome::err`]. The sink is made only when a value is captured, so a call recorded with
/// `capture_result = false` builds none.
#[doc(hidden)]
pub struct Outcome<'a> {
    out: &'a mut Vec<u8>,
    limits: &'a Limits,
    budget_end: usize,
    capture_result: bool,
    flags: u8,
}

impl<'a> Outcome<'a> {
    #[inline(always)]
    fn new(out: &'a mut Vec<u8>, opened: &Opened, budget_end: usize, flags: u8) -> Outcome<'a> {
        Outcome {
            out,
            limits: &opened.settings.limits,
            budget_end,
            capture_result: opened.meta.capture_result,
            flags,
        }
    }

    /// The call returned a value (or `Ok`): capture it unless `capture_result = false`.
    #[inline(always)]
    pub fn ok(&mut self, capture: impl FnOnce(&mut Sink<'_>)) {
        if self.capture_result {
            capture(&mut Sink::with_budget(
                self.out,
                self.limits,
                self.budget_end,
            ));
            self.flags |= flag::RESULT;
        }
    }

    /// The call returned an `Err`: record its text.
    pub fn err(&mut self, text: impl FnOnce() -> String) {
        let text = panic::catch_unwind(AssertUnwindSafe(text))
            .unwrap_or_else(|_| "<error: its Display panicked>".to_owned());
        self.put_error(&text);
    }

    fn panicked(&mut self, payload: &(dyn Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        self.put_error(&format!("panic: {message}"));
    }

    fn cancelled(&mut self) {
        self.put_error("cancelled: the future was dropped before it completed");
    }

    /// Writes the error text whole (no limit applies to it here; the event cap does).
    fn put_error(&mut self, text: &str) {
        encode::put_str(self.out, text, usize::MAX);
        self.flags |= flag::ERROR;
    }
}

/// Opens a call: `None` (no session anywhere, or none in the current collector) means "just
/// run the body".
#[inline(always)]
fn open(
    meta: &'static FnMeta,
    self_ty: SelfType,
    location: &'static Location<'static>,
    t: &ThreadState,
    make_current: bool,
) -> Option<(Opened, u64)> {
    let parent = t.span.get();
    if parent & id::DROPPED != 0 {
        return None; // inside a tree that head sampling dropped
    }
    let (collector_id, session, settings, full) =
        t.with_collector(|c| (c.id(), c.active_slot(), c.capture(), c.budget().is_full()));
    if session == 0 {
        return None;
    }
    let mut span = id::next();
    // Only a root is sampled; its span id is the random draw.
    let kept = parent != 0 || settings.keeps_root(span << 1);
    if !kept {
        span |= id::DROPPED;
    }
    if make_current {
        t.span.set(span);
    }
    Some((
        Opened {
            meta,
            self_ty,
            location,
            span,
            parent,
            session,
            settings,
            refused: full && kept,
        },
        collector_id,
    ))
}

/// The payload as recorded: one over the 4 GiB a record can hold (a pathological value) is
/// dropped, and the call recorded without its values.
fn fit<'p>(payload: &'p [u8], flags: u8, meta: &FnMeta) -> (&'p [u8], u8) {
    if payload.len() <= u32::MAX as usize {
        (payload, flags)
    } else {
        (&[], lost_flag(meta))
    }
}

fn lost_flag(meta: &FnMeta) -> u8 {
    if meta.capture_args {
        flag::ARGS_LOST
    } else {
        0
    }
}

/// Pushes a record into the thread's log of the collector `collector_id`, if that collector is
/// still the current one (a scope that ended mid-call loses the call rather than mixing
/// collectors).
#[inline(always)]
fn push(t: &ThreadState, collector_id: u64, header: Header, payload: &[&[u8]]) {
    // No closure here: everything from building the header to writing it into the log is
    // inlined into one function, so the header goes from registers into the log.
    let c = t.current();
    if c.id() == collector_id {
        t.push(&c, header, payload);
    }
}

/// Counts a call the capacity refused in the thread's log of the collector `collector_id`.
#[cold]
fn refuse(t: &ThreadState, collector_id: u64, session: u32) {
    t.with_collector(|c| {
        if c.id() == collector_id {
            t.refuse(c, session);
        }
    });
}

/// Makes `span` and `collector` current on this thread until dropped; restores what was there.
pub(crate) struct Entered<'a> {
    prev_span: u64,
    collector: &'a mut Option<Arc<CollectorState>>,
}

impl<'a> Entered<'a> {
    pub(crate) fn new(span: u64, collector: &'a mut Option<Arc<CollectorState>>) -> Entered<'a> {
        let prev_span = thread::with(|t| {
            if let Ok(mut c) = t.collector.try_borrow_mut() {
                mem::swap(&mut *c, collector);
            }
            t.span.replace(span)
        })
        .unwrap_or(0);
        Entered {
            prev_span,
            collector,
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let _ = thread::with(|t| {
            if let Ok(mut c) = t.collector.try_borrow_mut() {
                mem::swap(&mut *c, self.collector);
            }
            t.span.set(self.prev_span);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use crate::{Collector, ObserveOptions};

    static META: FnMeta = FnMeta {
        name: "job",
        ident: "job",
        module: module_path!(),
        arg_names: &[],
        safe_args: &[],
        capture_args: true,
        capture_result: true,
        enh_prompt: false,
        auto_enhance_after: None,
        defined_at: None,
    };

    fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    /// A recorded call holds the collector it records into; however its future ends (never
    /// polled, dropped while pending, completed), the call is dropped with it: the collector
    /// is held exactly as often as before.
    #[test]
    fn a_recorded_future_releases_its_call_however_it_ends() {
        type Body = Pin<Box<dyn Future<Output = u32>>>;
        let c = Collector::new();
        let _scope = c.set_default();
        c.observe(ObserveOptions::new()).expect("observe");
        let held = || Arc::strong_count(c.state());
        let before = held();
        let recorded = |body: Body| observed(enter_async(&META, None), body, |_, _: &u32| {});

        let never_polled = recorded(Box::pin(async { 1 }));
        assert_eq!(held(), before + 1, "the call holds the collector");
        drop(never_polled);
        assert_eq!(held(), before);

        let mut pending = Box::pin(recorded(Box::pin(std::future::pending())));
        assert!(poll_once(pending.as_mut()).is_pending());
        drop(pending);
        assert_eq!(held(), before);

        let mut done = Box::pin(recorded(Box::pin(async { 2 })));
        assert_eq!(poll_once(done.as_mut()), Poll::Ready(2));
        assert_eq!(held(), before, "released when it completed");
        drop(done);
        assert_eq!(held(), before);

        // The one dropped while pending is recorded as cancelled, the completed one with its
        // result; the one never polled is not recorded.
        let errors = std::cell::RefCell::new(Vec::new());
        let exporter = crate::exporters::CustomExporter::new("errors", |doc| {
            let events = doc.to_model()?.function_events;
            errors
                .borrow_mut()
                .extend(events.into_iter().map(|e| e.event.error));
            Ok(crate::ExportResult::default())
        });
        c.flush_to(&exporter, false).expect("flush");
        let mut errors = errors.into_inner();
        errors.sort();
        assert_eq!(
            errors,
            [
                None,
                Some("cancelled: the future was dropped before it completed".to_owned())
            ]
        );
    }
}
