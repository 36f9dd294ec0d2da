//! How much a collector may hold unflushed ([`Capacity`]), and how much it holds.
//!
//! The recording path never counts on a shared counter per call: a thread takes event
//! permits in batches of [`BATCH`] (one compare-and-swap per batch) and spends them with a
//! plain decrement, and takes bytes a segment at a time (256 KiB). A flush gives back what it
//! wrote. Past either cap a record is dropped and counted in its thread's log, never waited
//! for. The caps are exact: reserved permits count as stored, so a thread may be refused
//! while another still holds up to a batch it has not used.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::Thread;

use crate::sync::lock;

/// Event permits a thread takes at a time.
pub(crate) const BATCH: u64 = 128;

/// The most a collector holds unflushed: events and bytes. Past either, new events are
/// dropped and counted (the `aiobs_dropped_events` label of the next export), never waited for.
///
/// The defaults are 10,000,000 events and 1 GiB, far above what a flush every few seconds
/// holds; a service that flushes rarely, or whose exporter may be down for a while, sets its
/// own.
///
/// ```
/// let obs = aiobs::Collector::new();
/// obs.set_capacity(aiobs::Capacity::new().max_events(100_000).max_bytes(64 << 20));
/// assert_eq!(obs.capacity().get_max_events(), 100_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    max_events: u64,
    max_bytes: u64,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            max_events: 10_000_000,
            max_bytes: 1 << 30,
        }
    }
}

impl Capacity {
    /// The defaults: 10,000,000 events, 1 GiB.
    ///
    /// ```
    /// assert_eq!(aiobs::Capacity::new().get_max_bytes(), 1 << 30);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// No cap (as the Python SDK): memory grows until a flush.
    ///
    /// ```
    /// assert_eq!(aiobs::Capacity::unbounded().get_max_events(), u64::MAX);
    /// ```
    pub fn unbounded() -> Self {
        Capacity {
            max_events: u64::MAX,
            max_bytes: u64::MAX,
        }
    }

    /// The most events held unflushed (function events, LLM calls, and calls that head
    /// sampling dropped, which are counted for the sampling labels).
    ///
    /// ```
    /// let cap = aiobs::Capacity::new().max_events(50_000);
    /// assert_eq!(cap.get_max_events(), 50_000);
    /// ```
    pub fn max_events(mut self, n: u64) -> Self {
        self.max_events = n;
        self
    }

    /// The most bytes held unflushed: the buffers that hold recorded events (each thread
    /// takes 256 KiB at a time; an event larger than that takes its own). Besides this, each
    /// recording thread keeps up to 4 MiB of flushed buffers for reuse.
    ///
    /// ```
    /// let cap = aiobs::Capacity::new().max_bytes(16 << 20);
    /// assert_eq!(cap.get_max_bytes(), 16 << 20);
    /// ```
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = n;
        self
    }

    /// The event cap.
    ///
    /// ```
    /// assert_eq!(aiobs::Capacity::new().get_max_events(), 10_000_000);
    /// ```
    pub fn get_max_events(&self) -> u64 {
        self.max_events
    }

    /// The byte cap.
    ///
    /// ```
    /// assert_eq!(aiobs::Capacity::new().get_max_bytes(), 1 << 30);
    /// ```
    pub fn get_max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// What a collector holds unflushed now; see [`Collector::backlog`](crate::Collector::backlog).
///
/// ```
/// let obs = aiobs::Collector::new();
/// let backlog = obs.backlog();
/// assert_eq!((backlog.events, backlog.dropped), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backlog {
    /// Events recorded and not yet flushed.
    pub events: u64,
    /// Bytes of the buffers that hold them.
    pub bytes: u64,
    /// Events dropped by the cap since the last successful flush.
    pub dropped: u64,
}

/// A collector's counters; shared with each of its logs.
pub(crate) struct Budget {
    max_events: AtomicU64,
    max_bytes: AtomicU64,
    /// Events stored, plus permits threads hold and have not spent.
    events: AtomicU64,
    /// Bytes of the segments in the logs' chains.
    bytes: AtomicU64,
    /// Set when a thread was refused events or bytes, cleared when a flush gives some back:
    /// while it is set, calls are counted as dropped before they capture anything.
    full: AtomicBool,
    /// Wake the auto-flusher once `events` reaches this (`u64::MAX`: never).
    flush_at: AtomicU64,
    /// Set when the flusher was woken, cleared by it when it flushes.
    woken: AtomicBool,
    /// The auto-flusher's thread, to wake.
    flusher: Mutex<Option<Thread>>,
}

impl Budget {
    pub(crate) fn new() -> Budget {
        let cap = Capacity::default();
        Budget {
            max_events: AtomicU64::new(cap.max_events),
            max_bytes: AtomicU64::new(cap.max_bytes),
            events: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            full: AtomicBool::new(false),
            flush_at: AtomicU64::new(u64::MAX),
            woken: AtomicBool::new(false),
            flusher: Mutex::new(None),
        }
    }

    pub(crate) fn set_capacity(&self, cap: Capacity) {
        self.max_events.store(cap.max_events, Ordering::Relaxed);
        self.max_bytes.store(cap.max_bytes, Ordering::Relaxed);
        self.full.store(false, Ordering::Relaxed); // the next refusal sets it again
    }

    /// Whether the cap was reached since the last flush gave anything back.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    #[cold]
    fn refused(&self) {
        if !self.full.load(Ordering::Relaxed) {
            self.full.store(true, Ordering::Relaxed);
        }
        self.wake_flusher(); // a full store is what a flush empties
    }

    pub(crate) fn capacity(&self) -> Capacity {
        Capacity {
            max_events: self.max_events.load(Ordering::Relaxed),
            max_bytes: self.max_bytes.load(Ordering::Relaxed),
        }
    }

    /// Takes up to a batch of event permits; 0 when the cap is reached.
    #[cold]
    pub(crate) fn take_events(&self) -> u64 {
        let max = self.max_events.load(Ordering::Relaxed);
        let mut current = self.events.load(Ordering::Relaxed);
        loop {
            if current >= max {
                self.refused();
                return 0;
            }
            let take = BATCH.min(max - current);
            match self.events.compare_exchange_weak(
                current,
                current + take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if current + take >= self.flush_at.load(Ordering::Relaxed) {
                        self.wake_flusher();
                    }
                    return take;
                }
                Err(now) => current = now,
            }
        }
    }

    /// Gives back permits (spent by records a flush wrote, or unspent by a thread that exits).
    pub(crate) fn give_events(&self, n: u64) {
        if n > 0 {
            self.events.fetch_sub(n, Ordering::Relaxed);
            self.full.store(false, Ordering::Relaxed);
        }
    }

    /// Takes `n` bytes for a segment; `false` past the cap. `force` takes them anyway (a
    /// log's first segment, so that every segment in a chain is counted).
    #[cold]
    pub(crate) fn take_bytes(&self, n: u64, force: bool) -> bool {
        let max = self.max_bytes.load(Ordering::Relaxed);
        let before = self.bytes.fetch_add(n, Ordering::Relaxed);
        if force || before.saturating_add(n) <= max {
            return true;
        }
        self.bytes.fetch_sub(n, Ordering::Relaxed);
        self.refused();
        false
    }

    pub(crate) fn give_bytes(&self, n: u64) {
        self.bytes.fetch_sub(n, Ordering::Relaxed);
        self.full.store(false, Ordering::Relaxed);
    }

    /// Events counted as held, including permits not yet spent.
    pub(crate) fn reserved_events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Makes `flusher` the thread to wake when `flush_at` events are held (or the store is
    /// full); `None` stops the waking.
    pub(crate) fn set_flusher(&self, flusher: Option<(Thread, u64)>) {
        let mut slot = lock(&self.flusher);
        match flusher {
            Some((thread, at)) => {
                self.flush_at.store(at, Ordering::Relaxed);
                *slot = Some(thread);
            }
            None => {
                self.flush_at.store(u64::MAX, Ordering::Relaxed);
                *slot = None;
            }
        }
        self.woken.store(false, Ordering::Relaxed);
    }

    /// Whether the flusher was woken since it last asked; clears it.
    pub(crate) fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::Relaxed)
    }

    #[cold]
    fn wake_flusher(&self) {
        // A load first: while the store is full every refused call comes here, and a plain
        // read of a shared line costs nothing, where a swap would bounce it between cores.
        if self.woken.load(Ordering::Relaxed) || self.woken.swap(true, Ordering::Relaxed) {
            return; // already woken: it will flush
        }
        if let Some(thread) = lock(&self.flusher).as_ref() {
            thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_come_in_batches_and_stop_at_the_cap_exactly() {
        let budget = Budget::new();
        budget.set_capacity(Capacity::new().max_events(300));
        assert_eq!(budget.take_events(), BATCH);
        assert_eq!(budget.take_events(), BATCH);
        assert_eq!(budget.take_events(), 300 - 2 * BATCH);
        assert_eq!(budget.take_events(), 0);
        budget.give_events(10);
        assert_eq!(budget.take_events(), 10);
    }

    #[test]
    fn bytes_past_the_cap_are_refused_unless_forced() {
        let budget = Budget::new();
        budget.set_capacity(Capacity::new().max_bytes(1000));
        assert!(budget.take_bytes(600, false));
        assert!(!budget.take_bytes(600, false));
        assert_eq!(budget.bytes(), 600);
        assert!(budget.take_bytes(600, true));
        budget.give_bytes(1200);
        assert_eq!(budget.bytes(), 0);
    }

    #[test]
    fn reaching_flush_at_wakes_the_flusher_once() {
        let budget = Budget::new();
        budget.set_flusher(Some((std::thread::current(), 200)));
        budget.take_events();
        assert!(!budget.take_woken());
        budget.take_events();
        assert!(budget.take_woken());
        assert!(!budget.take_woken());
    }
}
