//! The synchronous observed call: entered before the body, finished after it in the same
//! frame, its captured values written into the thread's scratch buffer.

use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::Ordering;

#[cfg(debug_assertions)]
use super::parked::{self, Parked};
use super::thread;
use super::{ArgSink, Opened, Outcome, SelfType, capture_args, fit, lost_flag, open, push, refuse};
use crate::clock::{self, Instant};
use crate::state::RECORDING;
use crate::store::{FnMeta, flag};

/// A synchronous call being recorded.
#[doc(hidden)]
pub struct SyncCall {
    pub(super) opened: Opened,
    collector: u64,
    /// Where this call's captured values start in the thread's scratch; `usize::MAX` if the
    /// scratch was busy (a call made while capturing another).
    pub(super) scratch_start: usize,
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
    pub(super) fn complete<R>(
        &self,
        end: Instant,
        value: &R,
        outcome: impl FnOnce(&mut Outcome<'_>, &R),
    ) {
        self.complete_with(end, |o| outcome(o, value));
    }

    /// Records the call that panicked with `payload`, or (with nothing to write) ends a
    /// dropped root.
    #[inline(never)]
    pub(super) fn complete_other(
        &self,
        end: Instant,
        write_outcome: impl FnOnce(&mut Outcome<'_>),
    ) {
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
