//! The hot path that `#[observe]` expands to: is anything recording? open a call, capture its
//! arguments, run the body, capture the outcome, push one record.
//!
//! With no active session anywhere, [`enter`] is one relaxed atomic load and a branch, and
//! [`finish`] calls the body: no clock read, no allocation, no capture.

use std::any::Any;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use crate::capture::mask::{self, MaskFn, PathSegment};
use crate::capture::settings::CaptureSettings;
use crate::capture::{Limits, Sink, encode, fit, tag};
use crate::clock::{self, Instant};
use crate::id;
use crate::state::{CollectorState, RECORDING};
use crate::store::{FnMeta, Header, Kind, flag};
use crate::thread::{self, ThreadState};

#[cfg(debug_assertions)]
mod parked;
#[cfg(debug_assertions)]
pub(crate) use parked::ParkedCalls;
#[cfg(debug_assertions)]
pub use parked::{Parked, finish_parked};

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
            pad: [0; 6],
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

/// A synchronous call being recorded.
#[doc(hidden)]
pub struct SyncCall {
    opened: Opened,
    collector: u64,
    /// Where this call's captured values start in the thread's scratch; `usize::MAX` if the
    /// scratch was busy (a call made while capturing another).
    scratch_start: usize,
    args_lost: bool,
    start: Instant,
}

/// Starts recording a synchronous call, or returns `None` when nothing is recording.
#[doc(hidden)]
// Inlined where optimised. In a debug build (unoptimised, as users run their tests) out of line,
// and the call is parked in the thread's state (see [`Parked`]).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline(never))]
#[track_caller]
pub fn enter(meta: &'static FnMeta, self_ty: SelfType) -> Option<OpenCall> {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    entered(enter_recording_with(
        meta,
        self_ty,
        Location::caller(),
        |_| {},
    ))
}

/// [`enter`], and captures the arguments with `args` when recording. Everything but the
/// check stays out of line, so an unrecorded call costs the caller no stack frame.
#[doc(hidden)]
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline(never))]
#[track_caller]
pub fn enter_with(
    meta: &'static FnMeta,
    self_ty: SelfType,
    args: impl FnOnce(&mut ArgSink<'_>),
) -> Option<OpenCall> {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    entered(enter_recording_with(
        meta,
        self_ty,
        Location::caller(),
        args,
    ))
}

/// What [`enter`] hands the observed function, and `__observe_finish!` takes back: the call
/// itself where optimised (it lives in registers and the function's frame), its place among the
/// thread's parked calls in a debug build.
#[doc(hidden)]
#[cfg(not(debug_assertions))]
pub type OpenCall = SyncCall;

/// What [`enter`] hands the observed function: see the other definition.
#[doc(hidden)]
#[cfg(debug_assertions)]
pub type OpenCall = Parked;

#[cfg(not(debug_assertions))]
#[inline(always)]
fn entered(call: Option<SyncCall>) -> Option<OpenCall> {
    call
}

#[cfg(debug_assertions)]
#[inline(always)]
fn entered(call: Option<SyncCall>) -> Option<OpenCall> {
    call.and_then(parked::park)
}

#[inline(never)]
fn enter_recording_with(
    meta: &'static FnMeta,
    self_ty: SelfType,
    location: &'static Location<'static>,
    args: impl FnOnce(&mut ArgSink<'_>),
) -> Option<SyncCall> {
    thread::with(|t| {
        #[cfg(debug_assertions)]
        parked::settle_caught(t);
        let (opened, collector) = open(meta, self_ty, location, t, true)?;
        if opened.skipped() {
            return Some(SyncCall {
                opened,
                collector,
                scratch_start: usize::MAX,
                args_lost: false,
                start: clock::epoch(), // no clock is read for a dropped root
            });
        }
        // Read before the arguments are captured: the time stamp counter waits for the work
        // before it, and reading it here lets that wait overlap the capture (about 2 ns less
        // per call); the duration includes the capture, as it does in the Python SDK.
        let start = clock::now();
        let (scratch_start, args_lost) = match t.scratch.try_borrow_mut() {
            Ok(mut s) => {
                let at = s.len();
                if meta.capture_args {
                    capture_args(&mut s, &opened.settings.limits, args);
                }
                (at, false)
            }
            // A call made while another call's values are being captured.
            Err(_) => (usize::MAX, true),
        };
        Some(SyncCall {
            opened,
            collector,
            scratch_start,
            args_lost,
            start,
        })
    })
    .flatten()
}

impl SyncCall {
    /// Records the call that returned `value`. The outcome closure is called from here
    /// directly (not through a closure made by the caller), so that the value's capture is
    /// inlined into this function.
    #[inline(never)]
    fn complete<R>(&self, end: Instant, value: &R, outcome: impl FnOnce(&mut Outcome<'_>, &R)) {
        self.complete_with(end, |o| outcome(o, value));
    }

    /// Records the call that panicked with `payload`, or (with nothing to write) ends a
    /// dropped root.
    #[inline(never)]
    fn complete_other(&self, end: Instant, write_outcome: impl FnOnce(&mut Outcome<'_>)) {
        self.complete_with(end, write_outcome);
    }

    #[inline(always)]
    fn complete_with(&self, end: Instant, write_outcome: impl FnOnce(&mut Outcome<'_>)) {
        let _ = thread::with(|t| {
            t.span.set(self.opened.parent);
            if self.opened.dropped() {
                push(t, self.collector, self.opened.dropped_header(end), &[]);
                return;
            }
            if self.opened.refused {
                refuse(t, self.collector, self.opened.session);
                return;
            }
            let meta = self.opened.meta;
            let mut scratch = match t.scratch.try_borrow_mut() {
                Ok(s) if self.scratch_start != usize::MAX => s,
                _ => {
                    // The scratch is in use by an outer capture (this call ran inside another
                    // call's argument capture): no arguments, the outcome in a buffer of its own.
                    let mut own = Vec::new();
                    let limits = &self.opened.settings.limits;
                    let budget = limits.capture_budget();
                    let mut outcome = Outcome::new(&mut own, &self.opened, budget, lost_flag(meta));
                    write_outcome(&mut outcome);
                    let flags = outcome.flags;
                    self.opened.mask_payload(&mut own, 0, flags);
                    fit::fit_event(&mut own, 0, false, limits.event_bytes);
                    let (payload, flags) = fit(&own, flags, meta);
                    let header = self.opened.header(self.start, end, payload.len(), flags);
                    push(t, self.collector, header, &[payload]);
                    return;
                }
            };
            let mut flags = 0;
            if meta.capture_args {
                if self.args_lost {
                    scratch.truncate(self.scratch_start);
                    flags |= flag::ARGS_LOST;
                } else {
                    flags |= flag::ARGS;
                }
            }
            let budget_end = self
                .scratch_start
                .saturating_add(self.opened.settings.limits.capture_budget());
            let outcome_at = scratch.len();
            let mut outcome = Outcome::new(&mut scratch, &self.opened, budget_end, flags);
            write_outcome(&mut outcome);
            let flags = outcome.flags;
            let masked = self.opened.settings.mask.is_some();
            self.opened
                .mask_payload(&mut scratch, self.scratch_start, flags);
            let cut = fit::fit_event(
                &mut scratch,
                self.scratch_start,
                flags & flag::ARGS != 0,
                self.opened.settings.limits.event_bytes,
            );
            let (payload, flags) = fit(&scratch[self.scratch_start..], flags, meta);
            let header = self.opened.header(self.start, end, payload.len(), flags);
            // Copied as two pieces: the arguments, written before the body ran, and the
            // outcome, written just now. A copy of the whole reads both with one wide load,
            // which can't take bytes still in flight from the outcome's stores and waits for
            // them: measured 10 ns more per call on `greet` in some builds. A payload the mask
            // or the cap rewrote (or `fit` dropped) has no such boundary: one piece.
            let args_len = outcome_at - self.scratch_start;
            match payload.split_at_checked(args_len) {
                Some((args, outcome))
                    if !masked && !cut && !args.is_empty() && !outcome.is_empty() =>
                {
                    push(t, self.collector, header, &[args, outcome]);
                }
                _ => push(t, self.collector, header, &[payload]),
            }
            scratch.truncate(self.scratch_start);
        });
    }
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

/// Runs the body of a synchronous observed function and records the call (optimised builds,
/// see `__observe_finish!`; and the body of an `impl Future` function, with no call).
#[doc(hidden)]
#[inline(always)]
pub fn finish<R>(
    call: Option<SyncCall>,
    body: impl FnOnce() -> R,
    outcome: impl FnOnce(&mut Outcome<'_>, &R),
) -> R {
    // Matched by reference: moving the call out of the `Option` would copy it to another
    // stack slot right after `enter` wrote it, and read it back before those stores retired.
    match &call {
        None => body(),
        Some(recorded) if recorded.opened.skipped() => run_dropped(recorded, body),
        Some(recorded) => run_recorded(recorded, body, outcome),
    }
}

/// Runs the body in the observed function's own frame (its arguments stay in registers rather
/// than being moved into a call), and records the call out of line.
#[inline(always)]
fn run_recorded<R>(
    call: &SyncCall,
    body: impl FnOnce() -> R,
    outcome: impl FnOnce(&mut Outcome<'_>, &R),
) -> R {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => {
            let end = clock::now();
            call.complete(end, &value, outcome);
            value
        }
        Err(payload) => {
            let end = clock::now();
            call.complete_other(end, |o| o.panicked(&*payload));
            panic::resume_unwind(payload)
        }
    }
}

/// A root that head sampling dropped, or a call over the capacity: no clock, no capture, no
/// panic guard; its span is restored (and the call counted) when the body returns or unwinds.
/// Out of line, so that the recorded path stays as it was.
#[inline(never)]
#[cold]
fn run_dropped<R>(call: &SyncCall, body: impl FnOnce() -> R) -> R {
    let _dropped = DroppedRoot(call);
    body()
}

/// Ends a dropped root when dropped: restores the span and counts the tree.
struct DroppedRoot<'a>(&'a SyncCall);

impl Drop for DroppedRoot<'_> {
    fn drop(&mut self) {
        self.0.complete_other(clock::epoch(), |_| {});
    }
}

/// An asynchronous call being recorded: opened when the future is created, timed from its
/// first poll to its completion.
#[doc(hidden)]
pub struct AsyncCall {
    opened: Opened,
    /// The collector current when the call was made (`None`: the global one); current for
    /// this call's polls.
    collector: Option<Arc<CollectorState>>,
    bytes: Vec<u8>,
    start: Option<Instant>,
}

/// Starts recording an asynchronous call (when its future is created), or returns `None`.
#[doc(hidden)]
#[inline(always)]
#[track_caller]
pub fn enter_async(meta: &'static FnMeta, self_ty: SelfType) -> Option<Box<AsyncCall>> {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    enter_async_recording(meta, self_ty, Location::caller(), |_| {})
}

/// [`enter_async`], and captures the arguments with `args` when recording.
#[doc(hidden)]
#[inline(always)]
#[track_caller]
pub fn enter_async_with(
    meta: &'static FnMeta,
    self_ty: SelfType,
    args: impl FnOnce(&mut ArgSink<'_>),
) -> Option<Box<AsyncCall>> {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    enter_async_recording(meta, self_ty, Location::caller(), args)
}

#[inline(never)]
fn enter_async_recording(
    meta: &'static FnMeta,
    self_ty: SelfType,
    location: &'static Location<'static>,
    args: impl FnOnce(&mut ArgSink<'_>),
) -> Option<Box<AsyncCall>> {
    let (opened, collector) = thread::with(|t| {
        let (opened, _) = open(meta, self_ty, location, t, false)?;
        let collector = t.collector.try_borrow().ok().and_then(|c| c.clone());
        Some((opened, collector))
    })
    .flatten()?;
    let mut bytes = Vec::new();
    if meta.capture_args && !opened.skipped() {
        capture_args(&mut bytes, &opened.settings.limits, args);
    }
    Some(Box::new(AsyncCall {
        opened,
        collector,
        bytes,
        start: None,
    }))
}

impl AsyncCall {
    fn complete(mut self, end: Instant, write_outcome: impl FnOnce(&mut Outcome<'_>)) {
        let collector = self
            .collector
            .as_ref()
            .unwrap_or_else(|| crate::state::global());
        if self.opened.dropped() {
            let header = self.opened.dropped_header(end);
            let _ = thread::with(|t| t.push(collector, header, &[]));
            return;
        }
        if self.opened.refused {
            let _ = thread::with(|t| t.refuse(collector, self.opened.session));
            return;
        }
        let meta = self.opened.meta;
        let mut flags = 0;
        if meta.capture_args {
            flags |= flag::ARGS;
        }
        let limits = &self.opened.settings.limits;
        let mut outcome = Outcome::new(
            &mut self.bytes,
            &self.opened,
            limits.capture_budget(),
            flags,
        );
        write_outcome(&mut outcome);
        let flags = outcome.flags;
        self.opened.mask_payload(&mut self.bytes, 0, flags);
        fit::fit_event(
            &mut self.bytes,
            0,
            flags & flag::ARGS != 0,
            limits.event_bytes,
        );
        let start = self.start.unwrap_or(end);
        let (payload, flags) = fit(&self.bytes, flags, meta);
        let header = self.opened.header(start, end, payload.len(), flags);
        let _ = thread::with(|t| t.push(collector, header, &[payload]));
    }
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

pin_project_lite::pin_project! {
    /// The future of an observed `async fn`: makes its span current on every poll and records
    /// the call when it completes (or as cancelled when dropped after it started).
    #[doc(hidden)]
    pub struct Observed<F, C> {
        // Boxed: an unrecorded call's future stays one word larger than the body's.
        // `ManuallyDrop`: the call is dropped by `PinnedDrop` (or taken when it completes), so
        // an unrecorded future has no drop glue for it, not even a call that finds `None`.
        call: ManuallyDrop<Option<Box<AsyncCall>>>,
        // `Fn`, not `FnOnce`: the outcome closure captures nothing, and a plain field (no
        // `Option` flag) keeps the unrecorded future as small as the body's plus one word.
        outcome: C,
        #[pin]
        future: F,
    }

    impl<F, C> PinnedDrop for Observed<F, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.call.is_some() {
                drop_unfinished(this.call);
            }
        }
    }
}

/// A recorded call whose future is dropped before it completed: recorded as cancelled if it
/// had started.
#[inline(never)]
fn drop_unfinished(slot: &mut Option<Box<AsyncCall>>) {
    if let Some(call) = slot.take() {
        if call.start.is_some() {
            call.complete(clock::now(), |o| o.cancelled());
        }
    }
}

/// The future of a function declared `-> impl Future<Output = O>`, its output type fixed from
/// the signature before the outcome's capture is chosen (generated code only).
#[doc(hidden)]
#[inline(always)]
pub fn with_output<O, F: Future<Output = O>>(future: F) -> F {
    future
}

/// Wraps the body future of an observed `async fn`.
#[doc(hidden)]
#[inline]
pub fn observed<F, C>(call: Option<Box<AsyncCall>>, future: F, outcome: C) -> Observed<F, C>
where
    F: Future,
    C: Fn(&mut Outcome<'_>, &F::Output),
{
    Observed {
        call: ManuallyDrop::new(call),
        outcome,
        future,
    }
}

impl<F, C> Future for Observed<F, C>
where
    F: Future,
    C: Fn(&mut Outcome<'_>, &F::Output),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let call: &mut Option<Box<AsyncCall>> = this.call;
        match call {
            None => this.future.poll(cx),
            Some(_) => poll_recorded(call, this.outcome, this.future, cx),
        }
    }
}

/// Polls the body of a recorded call with its span current, and records the call when it
/// completes or panics.
#[inline(never)]
fn poll_recorded<F, C>(
    slot: &mut Option<Box<AsyncCall>>,
    outcome: &C,
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output>
where
    F: Future,
    C: Fn(&mut Outcome<'_>, &F::Output),
{
    let Some(call) = slot.as_mut() else {
        return future.poll(cx);
    };
    if call.start.is_none() {
        call.start = Some(clock::now());
    }
    let polled = {
        let _entered = Entered::new(call.opened.span, &mut call.collector);
        panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
    };
    match polled {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(value)) => {
            let end = clock::now();
            if let Some(call) = slot.take() {
                call.complete(end, |o| outcome(o, &value));
            }
            Poll::Ready(value)
        }
        Err(payload) => {
            let end = clock::now();
            if let Some(call) = slot.take() {
                call.complete(end, |o| o.panicked(&*payload));
            }
            panic::resume_unwind(payload)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
