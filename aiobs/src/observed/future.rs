//! The asynchronous observed call: opened when the future is created, timed from its first
//! poll to its completion, its values carried in the call (the future may move threads).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::{ArgSink, Entered, Opened, Outcome, SelfType, capture_args, fit, open, thread};
use crate::clock::{self, Instant};
use crate::state::{CollectorState, RECORDING};
use crate::store::{FnMeta, flag};

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
