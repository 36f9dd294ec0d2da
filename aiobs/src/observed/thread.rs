//! What each thread keeps: the current span, the collector set as current for it (if not the
//! global one), its logs (one per collector it recorded into), and a scratch buffer where
//! synchronous calls capture their values before the record is pushed.

use std::cell::{BorrowError, Cell, Ref, RefCell, RefMut};
use std::ops::Deref;
use std::sync::{Arc, Weak};

use crate::state::{CollectorState, global};
use crate::store::{Header, Log};

pub(crate) struct ThreadState {
    /// The current span id; 0 for none.
    pub(crate) span: Cell<u64>,
    /// The collector calls on this thread record into; `None` means the global one.
    pub(crate) collector: RefCell<Option<Arc<CollectorState>>>,
    /// This thread's log in each collector it recorded into.
    logs: RefCell<Vec<ThreadLog>>,
    /// Captured values of the synchronous calls in progress, innermost last.
    pub(crate) scratch: RefCell<Vec<u8>>,
    /// Debug builds: the synchronous calls being recorded, innermost last (see
    /// `observed::parked`).
    #[cfg(debug_assertions)]
    pub(crate) parked: RefCell<crate::observed::ParkedCalls>,
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        for (_, collector, log) in self.logs.get_mut().iter() {
            let collector = collector.upgrade();
            log.owner_exited(collector.as_deref().map(CollectorState::budget));
        }
    }
}

/// The collector current on a thread (see [`ThreadState::current`]): the one set for it, else
/// the global one.
pub(crate) struct Current<'a>(Result<Ref<'a, Option<Arc<CollectorState>>>, BorrowError>);

impl Deref for Current<'_> {
    type Target = Arc<CollectorState>;

    #[inline(always)]
    fn deref(&self) -> &Arc<CollectorState> {
        match self.0.as_deref() {
            Ok(Some(c)) => c,
            _ => global(),
        }
    }
}

/// This thread's log in one collector: the collector's id, the collector (to notice it is
/// gone), and the log.
type ThreadLog = (u64, Weak<CollectorState>, Arc<Log>);

thread_local! {
    static THREAD: ThreadState = const {
        ThreadState {
            span: Cell::new(0),
            collector: RefCell::new(None),
            logs: RefCell::new(Vec::new()),
            scratch: RefCell::new(Vec::new()),
            #[cfg(debug_assertions)]
            parked: RefCell::new(crate::observed::ParkedCalls::new()),
        }
    };
}

/// Runs `f` with this thread's state; `None` while the thread is being torn down.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&ThreadState) -> R) -> Option<R> {
    THREAD.try_with(f).ok()
}

impl ThreadState {
    /// The collector current on this thread, borrowed for as long as the guard lives. Used
    /// without a closure on the recorded path, so that a call's header goes from registers
    /// into the log.
    #[inline(always)]
    pub(crate) fn current(&self) -> Current<'_> {
        Current(self.collector.try_borrow())
    }

    /// Runs `f` with the collector current on this thread.
    #[inline]
    pub(crate) fn with_collector<R>(&self, f: impl FnOnce(&Arc<CollectorState>) -> R) -> R {
        f(&self.current())
    }

    /// Appends a record to this thread's log in `collector`, registering the log on first use.
    #[inline(always)]
    pub(crate) fn push(&self, collector: &Arc<CollectorState>, header: Header, payload: &[&[u8]]) {
        if let Some(log) = self.log(collector) {
            // SAFETY: this log is reachable for writing only from this thread's state, and
            // the borrow of `logs` keeps a recording made inside this push out of it.
            unsafe { log.push(collector.budget(), header, payload) }
        }
    }

    /// Counts a call of `session` that the capacity refused, in this thread's log in `collector`.
    pub(crate) fn refuse(&self, collector: &Arc<CollectorState>, session: u32) {
        if let Some(log) = self.log(collector) {
            log.count_refused(session);
        }
    }

    /// This thread's log in `collector`, registered on first use; borrowed, so that a recording
    /// made while it is written (from an allocator, say) finds it busy and records nothing.
    #[inline(always)]
    fn log(&self, collector: &Arc<CollectorState>) -> Option<RefMut<'_, Arc<Log>>> {
        let mut logs = self.logs.try_borrow_mut().ok()?;
        let i = match logs.iter().position(|(id, _, _)| *id == collector.id()) {
            Some(i) => i,
            None => register(&mut logs, collector),
        };
        Some(RefMut::map(logs, |logs| &mut logs[i].2))
    }
}

/// Makes this thread's log in `collector`, the first time the thread records into it.
#[cold]
#[inline(never)]
fn register(logs: &mut Vec<ThreadLog>, collector: &Arc<CollectorState>) -> usize {
    // Forget the logs of collectors that are gone.
    logs.retain(|(_, owner, _)| owner.strong_count() > 0);
    let log = Arc::new(Log::new(collector.budget()));
    collector.register_log(log.clone());
    logs.push((collector.id(), Arc::downgrade(collector), log));
    logs.len() - 1
}

/// The collector state current on this thread (the global one unless a scope set another, or
/// while the thread is torn down).
pub(crate) fn current_state() -> Arc<CollectorState> {
    with(|t| t.with_collector(Arc::clone)).unwrap_or_else(|| global().clone())
}
