//! Debug builds keep the synchronous calls being recorded in the thread's state, not in the
//! observed function's frame, and catch panics only in the outer levels of nesting.
//!
//! Unoptimised, as users build their tests, every local of a function and of all it inlines
//! gets a stack slot of its own, and so does every frame `catch_unwind` goes through. Measured
//! in a crate built so (`stack-tests`), a recorded level of a recursion took 656 bytes with the
//! call in the observed function's frame and a `catch_unwind` around each body; 176 bytes
//! here, past the outer levels, against 48 bare. Optimised builds keep the call in the frame,
//! where it stays in registers, and catch at every level: nothing here is compiled there.
//!
//! - **Parked calls.** Synchronous calls on a thread end in the reverse order they began, so
//!   the calls being recorded are a stack: a call is pushed when it is opened, and popped when
//!   its body has returned or unwound. The observed function's frame holds only its place.
//! - **Caught levels.** The first [`CAUGHT_LEVELS`] recorded calls nested on a thread run their
//!   body under `catch_unwind`, as optimised builds do at every level, and record the panic's
//!   message. Deeper calls run it bare, with a guard: a body that unwinds leaves its call
//!   waiting, and the nearest caught level records it with the message of the panic it
//!   catches. A panic that the program itself catches below the caught levels never reaches
//!   one: its calls are recorded as panicked, with [`MESSAGE_NOT_SEEN`], the next time a call
//!   on the thread opens or returns.

use std::any::Any;
use std::mem;
use std::panic::{self, AssertUnwindSafe};

use super::{Outcome, SyncCall};
use crate::clock::{self, Instant};
use crate::observed::thread::{self, ThreadState};

/// How many recorded calls nested on a thread catch panics in a debug build (every one does
/// in an optimised build). Deeper calls, which only recursion reaches, run their body without
/// `catch_unwind`'s frames: a third of the stack a level.
pub const CAUGHT_LEVELS: u32 = 256;

/// The error of a call that panicked below the caught levels, when the program caught the
/// panic before it reached one.
pub const MESSAGE_NOT_SEEN: &str =
    "panic: (its message was caught by the program below the 256th nested call)";

/// The recorded calls of a thread (debug builds).
pub(crate) struct ParkedCalls {
    /// The calls whose body runs, outermost first.
    open: Vec<SyncCall>,
    /// Calls below the caught levels whose body unwound, innermost first, with the time it
    /// did: they wait for the panic's message.
    unwound: Vec<(SyncCall, Instant)>,
}

impl ParkedCalls {
    pub(crate) const fn new() -> Self {
        Self {
            open: Vec::new(),
            unwound: Vec::new(),
        }
    }
}

/// A synchronous call parked in the thread's state: its place among the parked calls.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Parked {
    at: u32,
    /// A dropped root or a call over the capacity: its body runs unguarded (see
    /// [`super::run_dropped`]).
    skipped: bool,
}

/// Parks `call` on this thread. `None` when the parked calls are busy (a call opened while
/// another is being parked: from an observed allocator, say): that call is not recorded.
pub(super) fn park(call: SyncCall) -> Option<Parked> {
    thread::with(|t| {
        let Ok(mut parked) = t.parked.try_borrow_mut() else {
            abandon(t, &call);
            return None;
        };
        let Ok(at) = u32::try_from(parked.open.len()) else {
            abandon(t, &call);
            return None;
        };
        let skipped = call.opened.skipped();
        parked.open.push(call);
        Some(Parked { at, skipped })
    })
    .flatten()
}

/// A call that won't be recorded after all: its span stops being current and its arguments
/// leave the scratch.
fn abandon(t: &ThreadState, call: &SyncCall) {
    t.span.set(call.opened.parent);
    if call.scratch_start != usize::MAX
        && let Ok(mut scratch) = t.scratch.try_borrow_mut()
    {
        scratch.truncate(call.scratch_start);
    }
}

/// Takes the call parked at `place` back. Calls parked above it (none are: each call takes
/// itself back when its body ends) are forgotten.
fn unpark(parked: &mut ParkedCalls, place: Parked) -> Option<SyncCall> {
    let at = place.at as usize;
    parked.open.truncate(at + 1);
    if parked.open.len() == at + 1 {
        parked.open.pop()
    } else {
        None
    }
}

/// [`super::finish`] for a parked call: runs the body and records the call. Inlined into the
/// observed function, with everything that holds the call out of line.
#[doc(hidden)]
#[inline(always)]
pub fn finish_parked<R>(
    call: Option<Parked>,
    body: impl FnOnce() -> R,
    outcome: impl FnOnce(&mut Outcome<'_>, &R),
) -> R {
    let Some(place) = call else {
        return body();
    };
    if place.skipped {
        return run_dropped(place, body);
    }
    if place.at < CAUGHT_LEVELS {
        return run_caught(place, body, outcome);
    }
    let unwinding = Unwinding(place);
    let value = body();
    mem::forget(unwinding);
    complete(place, clock::now(), &value, outcome);
    value
}

/// A call in the caught levels: its body runs under `catch_unwind`, and a panic is recorded
/// with its message, for this call and for the deeper ones it unwound.
#[inline(never)]
fn run_caught<R>(
    place: Parked,
    body: impl FnOnce() -> R,
    outcome: impl FnOnce(&mut Outcome<'_>, &R),
) -> R {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => {
            complete(place, clock::now(), &value, outcome);
            value
        }
        Err(payload) => {
            complete_panicked(place, clock::now(), &*payload);
            panic::resume_unwind(payload)
        }
    }
}

/// Records a call whose body returned.
#[inline(never)]
fn complete<R>(place: Parked, end: Instant, value: &R, outcome: impl FnOnce(&mut Outcome<'_>, &R)) {
    let call = thread::with(|t| {
        settle_caught(t);
        unpark(&mut *t.parked.try_borrow_mut().ok()?, place)
    });
    if let Some(call) = call.flatten() {
        call.complete(end, value, outcome);
    }
}

/// Records a call in the caught levels whose body panicked with `payload`, and the deeper
/// calls the panic unwound on its way.
#[inline(never)]
fn complete_panicked(place: Parked, end: Instant, payload: &(dyn Any + Send)) {
    let calls = thread::with(|t| {
        let mut parked = t.parked.try_borrow_mut().ok()?;
        let unwound = mem::take(&mut parked.unwound);
        Some((unwound, unpark(&mut parked, place)))
    });
    let Some(Some((unwound, call))) = calls else {
        return;
    };
    for (deeper, end) in unwound {
        deeper.complete_other(end, |o| o.panicked(payload));
    }
    if let Some(call) = call {
        call.complete_other(end, |o| o.panicked(payload));
    }
}

/// Records the calls left waiting by a panic that the program caught below the caught levels
/// (none wait while a panic unwinds). The current span is kept.
pub(super) fn settle_caught(t: &ThreadState) {
    let unwound = match t.parked.try_borrow_mut() {
        Ok(mut parked) if !parked.unwound.is_empty() && !std::thread::panicking() => {
            mem::take(&mut parked.unwound)
        }
        _ => return,
    };
    let current = t.span.get();
    for (call, end) in unwound {
        call.complete_other(end, |o| o.put_error(MESSAGE_NOT_SEEN));
    }
    t.span.set(current);
}

/// A call below the caught levels whose body is running: dropped only if the body unwinds
/// (the call is forgotten when it returns), when the call waits for the panic's message.
struct Unwinding(Parked);

impl Drop for Unwinding {
    fn drop(&mut self) {
        let end = clock::now();
        let _ = thread::with(|t| {
            let Ok(mut parked) = t.parked.try_borrow_mut() else {
                return;
            };
            if let Some(call) = unpark(&mut parked, self.0) {
                // Its caller's span is current again for what runs while the panic unwinds.
                t.span.set(call.opened.parent);
                parked.unwound.push((call, end));
            }
        });
    }
}

/// [`super::run_dropped`] for a parked call.
#[inline(never)]
#[cold]
fn run_dropped<R>(place: Parked, body: impl FnOnce() -> R) -> R {
    let _dropped = DroppedRoot(place);
    body()
}

/// Ends a parked dropped root when dropped: restores the span and counts the tree.
struct DroppedRoot(Parked);

impl Drop for DroppedRoot {
    fn drop(&mut self) {
        let call = thread::with(|t| unpark(&mut *t.parked.try_borrow_mut().ok()?, self.0));
        if let Some(call) = call.flatten() {
            call.complete_other(clock::epoch(), |_| {});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_caught_levels() {
        assert!(MESSAGE_NOT_SEEN.contains(&format!("{CAUGHT_LEVELS}th")));
    }
}
