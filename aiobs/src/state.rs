//! The state of a collector: its sessions, settings and per-thread logs, owned here and
//! reached only through the methods below. Recording reads the few fields the hot path needs
//! (id, active session, capture settings, budget); the flush takes and commits through
//! [`CollectorState::take_for_flush`] and [`CollectorState::commit_flush`]; the facade (`collector.rs`) does the rest.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::capture::mask::MaskFn;
use crate::capture::settings::{CaptureSettings, SettingsCell};
use crate::clock;
use crate::error::{Error, Result};
use crate::labels::{self, Labels};
use crate::model::Session;
use crate::remote::{ApiKey, Remote};
use crate::sampling::{Decisions, Sampling};
use crate::scrub::Scrubbing;
use crate::store::budget::{Backlog, Budget};
use crate::store::{Log, Mark, RecordRef};
use crate::sync::lock;
use crate::wire::Provider;

/// How many collectors have an active session. Zero is the common case in production, and the
/// one the hot path checks with a single relaxed load.
pub(crate) static RECORDING: AtomicUsize = AtomicUsize::new(0);

static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

static GLOBAL: LazyLock<Arc<CollectorState>> = LazyLock::new(CollectorState::new);

/// The global collector's state: the one calls record into unless a scope made another current.
pub(crate) fn global() -> &'static Arc<CollectorState> {
    &GLOBAL
}

/// How many flushed sessions are kept for late events.
const RETIRED_KEPT: usize = 64;

/// One collector's state; see the module docs. `Collector` is a handle to one.
pub(crate) struct CollectorState {
    id: u64,
    /// Slot of the active session; 0 for none.
    active: AtomicU32,
    state: Mutex<Locked>,
    /// Every thread's log in this collector.
    logs: Mutex<Vec<Arc<Log>>>,
    /// One flush (or reset) at a time.
    flush_lock: Mutex<()>,
    /// The capture limits, mask and head sampling, read by every recorded call.
    capture: SettingsCell,
    /// What the logs may hold unflushed, and what they hold.
    budget: Budget,
    /// The background flusher, if one runs.
    background: Mutex<Option<Background>>,
    /// The number of the last file the auto-flusher wrote.
    file_number: AtomicU64,
    /// What the auto-flushers did.
    flush_stats: Mutex<AutoFlushStats>,
}

struct Locked {
    /// Sessions to write at the next flush, by slot.
    sessions: BTreeMap<u32, Session>,
    /// Sessions already flushed and closed, kept so that a call that was still running when
    /// they were flushed can be written with its session later.
    retired: BTreeMap<u32, Session>,
    next_slot: u32,
    providers: Vec<Arc<dyn Provider>>,
    api_key: Option<ApiKey>,
    /// Where the aiobs servers are.
    remote: Remote,
    sampling: Sampling,
    scrubbing: Scrubbing,
    /// Records of trees whose root had not ended at a flush that applied tail rules: written
    /// (or dropped) with their root, by a later flush. Each with the flushes it has waited.
    carried: Vec<(Box<[u8]>, u32)>,
    /// The tail decisions of the last flushes, by span id, for descendants flushed later.
    decided: Decisions,
    /// Events the capacity refused, by session slot, since the session started.
    dropped: BTreeMap<u32, u64>,
    /// Sessions not written by any flush yet (an auto-flush with no events still writes them).
    unwritten: BTreeSet<u32>,
}

impl Locked {
    /// Keeps `session` for late events, dropping the oldest beyond the limit.
    fn retire(&mut self, slot: u32, session: Session) {
        self.retired.insert(slot, session);
        while self.retired.len() > RETIRED_KEPT {
            self.retired.pop_first();
        }
    }
}

/// A thread working for a collector in the background (the auto-flusher): told to stop and
/// woken when the collector is dropped. What it runs is its owner's business (`task`).
pub(crate) struct Background {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) handle: JoinHandle<()>,
    pub(crate) task: Arc<dyn Any + Send + Sync>,
}

impl Background {
    /// Tells the thread to stop and wakes it, without waiting.
    pub(crate) fn stop_without_waiting(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
    }
}

/// What the auto-flusher did so far; see [`Collector::auto_flush_stats`](crate::Collector::auto_flush_stats).
///
/// ```
/// let stats = aiobs::Collector::new().auto_flush_stats();
/// assert_eq!(stats.flushes, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutoFlushStats {
    /// Flushes that wrote something.
    pub flushes: u64,
    /// Flushes that failed (their events were kept for the next one).
    pub failures: u64,
    /// Events written.
    pub events: u64,
    /// Time the flusher spent flushing: its share of a core is `busy` over the time it ran.
    pub busy: Duration,
    /// The last file written.
    pub last_path: Option<PathBuf>,
    /// The message of the last failure.
    pub last_error: Option<String>,
}

impl std::fmt::Debug for CollectorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorState")
            .field("id", &self.id)
            .field("active_slot", &self.active_slot())
            .finish_non_exhaustive()
    }
}

impl Drop for CollectorState {
    fn drop(&mut self) {
        if *self.active.get_mut() != 0 {
            RECORDING.fetch_sub(1, Ordering::Relaxed);
        }
        let background = self
            .background
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(background) = background {
            background.stop_without_waiting();
        }
    }
}

/// Everything a flush took from a collector: the records of every log up to what was
/// published, and the records and tail decisions earlier flushes carried over. Held under the
/// collector's one-flush-at-a-time lock. Dropped without [`CollectorState::commit_flush`], it gives the
/// carried records and decisions back and leaves the logs unread.
pub(crate) struct Taken<'a> {
    owner: &'a CollectorState,
    _one_at_a_time: MutexGuard<'a, ()>,
    logs: Vec<Arc<Log>>,
    marks: Vec<Mark>,
    /// The logs' records, then the carried ones.
    pub(crate) records: Vec<RecordRef>,
    /// How many of `records` came from the logs.
    pub(crate) from_logs: usize,
    pub(crate) carried: Vec<(Box<[u8]>, u32)>,
    pub(crate) decided: Decisions,
    committed: bool,
}

impl Taken<'_> {
    /// Events the capacity refused since the last flush, by session slot.
    pub(crate) fn refused(&self) -> BTreeMap<u32, u64> {
        let mut dropped = BTreeMap::<u32, u64>::new();
        for mark in &self.marks {
            if mark.dropped > 0 {
                *dropped.entry(mark.dropped_session).or_default() += mark.dropped;
            }
        }
        dropped
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let mut state = lock(&self.owner.state);
            state.carried = std::mem::take(&mut self.carried);
            state.decided = std::mem::take(&mut self.decided);
        }
    }
}

/// The sessions a flush writes: every stored one, then the retired ones its late records name.
pub(crate) struct FlushSessions {
    pub(crate) sessions: Vec<Session>,
    /// The slot of each of `sessions`.
    pub(crate) slots: Vec<u32>,
    /// The slots not active when read: final as written, forgotten after success.
    pub(crate) finished: Vec<u32>,
}

/// The settings a flush applies, copied once.
pub(crate) struct FlushSettings {
    pub(crate) providers: Vec<Arc<dyn Provider>>,
    pub(crate) sampling: Sampling,
    pub(crate) scrubbing: Scrubbing,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) remote: Remote,
    pub(crate) mask: Option<Arc<MaskFn>>,
}

/// What a successful flush leaves for the next one.
pub(crate) struct Carry {
    /// Records held back for their root, each with the flushes it has waited.
    pub(crate) records: Vec<(Box<[u8]>, u32)>,
    /// This flush's tail decisions, by span id.
    pub(crate) decided: HashMap<u64, bool>,
    /// The events refused per slot, totals since each session started.
    pub(crate) dropped: BTreeMap<u32, u64>,
}

impl CollectorState {
    /// A new collector state with no session.
    pub(crate) fn new() -> Arc<CollectorState> {
        clock::init();
        Arc::new(CollectorState {
            id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
            active: AtomicU32::new(0),
            state: Mutex::new(Locked {
                sessions: BTreeMap::new(),
                retired: BTreeMap::new(),
                next_slot: 1,
                providers: Vec::new(),
                api_key: None,
                remote: Remote::new(),
                sampling: Sampling::new(),
                scrubbing: Scrubbing::new(),
                carried: Vec::new(),
                decided: Decisions::default(),
                dropped: BTreeMap::new(),
                unwritten: BTreeSet::new(),
            }),
            logs: Mutex::new(Vec::new()),
            flush_lock: Mutex::new(()),
            capture: SettingsCell::new(),
            budget: Budget::new(),
            background: Mutex::new(None),
            file_number: AtomicU64::new(0),
            flush_stats: Mutex::new(AutoFlushStats::default()),
        })
    }

    // --- What recording reads -------------------------------------------------------------

    /// The collector's id, unique in the process.
    #[inline(always)]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The active session's slot; 0 for none.
    #[inline(always)]
    pub(crate) fn active_slot(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }

    /// The capture settings of calls starting now.
    #[inline(always)]
    pub(crate) fn capture(&self) -> &'static CaptureSettings {
        self.capture.get()
    }

    /// What the logs may hold, and hold.
    #[inline(always)]
    pub(crate) fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Adds a thread's new log.
    pub(crate) fn register_log(&self, log: Arc<Log>) {
        let mut logs = lock(&self.logs);
        self.forget_finished(&mut logs);
        logs.push(log);
    }

    /// Removes the logs whose thread exited and whose records were all flushed.
    fn forget_finished(&self, logs: &mut Vec<Arc<Log>>) {
        logs.retain(|log| {
            let finished = log.is_finished();
            if finished {
                log.release(&self.budget);
            }
            !finished
        });
    }

    /// What the logs hold unflushed, and what the capacity dropped since the last flush.
    pub(crate) fn backlog(&self) -> Backlog {
        let logs = lock(&self.logs);
        let (unspent, dropped) = logs
            .iter()
            .fold((0, 0), |(u, d), log| (u + log.unspent(), d + log.dropped()));
        Backlog {
            events: self.budget.reserved_events().saturating_sub(unspent),
            bytes: self.budget.bytes(),
            dropped,
        }
    }

    // --- Settings -----------------------------------------------------------------------------

    /// Changes the capture settings (under the state lock, so that no change is lost).
    pub(crate) fn update_capture(&self, change: impl FnOnce(&mut CaptureSettings)) {
        let _state = lock(&self.state);
        self.capture.update(change);
    }

    /// Sets the sampling: its head threshold for calls starting now, its tail rules for flushes.
    pub(crate) fn set_sampling(&self, sampling: Sampling) {
        let mut state = lock(&self.state);
        let head = crate::sampling::head_threshold(sampling.head());
        self.capture.update(|s| s.head = head);
        state.sampling = sampling;
    }

    pub(crate) fn sampling(&self) -> Sampling {
        lock(&self.state).sampling.clone()
    }

    pub(crate) fn set_remote(&self, remote: Remote) {
        lock(&self.state).remote = remote;
    }

    pub(crate) fn remote(&self) -> Remote {
        lock(&self.state).remote.clone()
    }

    pub(crate) fn set_scrubbing(&self, scrubbing: Scrubbing) {
        lock(&self.state).scrubbing = scrubbing;
    }

    pub(crate) fn scrubbing(&self) -> Scrubbing {
        lock(&self.state).scrubbing.clone()
    }

    pub(crate) fn add_provider(&self, provider: Arc<dyn Provider>) {
        lock(&self.state).providers.push(provider);
    }

    pub(crate) fn providers(&self) -> Vec<Arc<dyn Provider>> {
        lock(&self.state).providers.clone()
    }

    pub(crate) fn has_api_key(&self) -> bool {
        lock(&self.state).api_key.is_some()
    }

    // --- Sessions and labels --------------------------------------------------------------------

    /// Stores `session` and makes it the active one, with `api_key` for the flushes.
    pub(crate) fn start_session(&self, session: Session, api_key: Option<ApiKey>) {
        let mut state = lock(&self.state);
        state.api_key = api_key;
        let slot = state.next_slot;
        state.next_slot += 1;
        state.sessions.insert(slot, session);
        state.unwritten.insert(slot);
        self.set_active(slot);
    }

    /// Ends the active session (sets its `ended_at`); does nothing without one.
    pub(crate) fn end_session(&self) {
        let mut state = lock(&self.state);
        let slot = self.active_slot();
        if slot == 0 {
            return;
        }
        if let Some(session) = state.sessions.get_mut(&slot) {
            session.ended_at = Some(clock::wall_seconds());
        }
        self.set_active(0);
    }

    /// The active session's id.
    pub(crate) fn active_session_id(&self) -> Option<String> {
        let state = lock(&self.state);
        state
            .sessions
            .get(&self.active_slot())
            .map(|s| s.id.clone())
    }

    /// The active session's id, else the first stored one's: what names a default flush file.
    pub(crate) fn active_or_first_session_id(&self) -> Option<String> {
        let state = lock(&self.state);
        state
            .sessions
            .get(&self.active_slot())
            .or_else(|| state.sessions.values().next())
            .map(|s| s.id.clone())
    }

    /// Runs `f` on the active session's labels, then checks the count.
    pub(crate) fn edit_labels(&self, f: impl FnOnce(&mut Labels) -> Result<()>) -> Result<()> {
        let mut state = lock(&self.state);
        let slot = self.active_slot();
        let session = state
            .sessions
            .get_mut(&slot)
            .ok_or(Error::NoActiveSession)?;
        let mut labels = session.labels.clone().unwrap_or_default();
        f(&mut labels)?;
        if labels.len() > labels::MAX_LABELS {
            return Err(Error::TooManyLabels {
                count: labels.len(),
            });
        }
        session.labels = if labels.is_empty() {
            None
        } else {
            Some(labels)
        };
        Ok(())
    }

    /// The active session's labels.
    pub(crate) fn labels(&self) -> Result<Labels> {
        let state = lock(&self.state);
        let session = state
            .sessions
            .get(&self.active_slot())
            .ok_or(Error::NoActiveSession)?;
        Ok(session.labels.clone().unwrap_or_default())
    }

    /// Sets the active session slot, keeping [`RECORDING`] in step.
    fn set_active(&self, slot: u32) {
        let old = self.active.swap(slot, Ordering::Relaxed);
        match (old == 0, slot == 0) {
            (true, false) => {
                RECORDING.fetch_add(1, Ordering::Relaxed);
            }
            (false, true) => {
                RECORDING.fetch_sub(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Forgets everything: sessions, unflushed records, providers and the API key.
    pub(crate) fn reset(&self) {
        let _flush = lock(&self.flush_lock);
        {
            let mut state = lock(&self.state);
            self.set_active(0);
            state.sessions.clear();
            state.retired.clear();
            state.providers.clear();
            state.api_key = None;
            state.carried.clear();
            state.decided = Decisions::default();
            state.dropped.clear();
            state.unwritten.clear();
        }
        let logs = lock(&self.logs);
        let mut scratch = Vec::new();
        for log in logs.iter() {
            scratch.clear();
            let mark = log.read(&mut scratch);
            log.commit(mark, &self.budget);
        }
    }

    // --- Flushing -------------------------------------------------------------------------------

    /// Waits for any other flush, then takes what every log published and what earlier flushes
    /// carried over.
    pub(crate) fn take_for_flush(&self) -> Taken<'_> {
        let one_at_a_time = lock(&self.flush_lock);
        let logs = lock(&self.logs).clone();
        let mut records = Vec::new();
        let marks = logs.iter().map(|log| log.read(&mut records)).collect();
        let from_logs = records.len();
        let (carried, decided) = {
            let mut state = lock(&self.state);
            (
                std::mem::take(&mut state.carried),
                std::mem::take(&mut state.decided),
            )
        };
        for (bytes, _) in &carried {
            // SAFETY: each box holds a whole record and is kept (in `Taken`, then in the
            // collector) until after the flush's document is dropped.
            records.push(unsafe { RecordRef::outside(bytes) });
        }
        Taken {
            owner: self,
            _one_at_a_time: one_at_a_time,
            logs,
            marks,
            records,
            from_logs,
            carried,
            decided,
            committed: false,
        }
    }

    /// The sessions to write with `records`.
    pub(crate) fn sessions_for(&self, records: &[RecordRef]) -> FlushSessions {
        let state = lock(&self.state);
        let active = self.active_slot();
        let mut sessions = Vec::new();
        let mut slots = Vec::new();
        for (slot, s) in &state.sessions {
            slots.push(*slot);
            sessions.push(s.clone());
        }
        let finished = slots.iter().copied().filter(|s| *s != active).collect();
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
        FlushSessions {
            sessions,
            slots,
            finished,
        }
    }

    /// Whether any of `slots` was never written by a flush.
    pub(crate) fn any_unwritten(&self, slots: &[u32]) -> bool {
        let state = lock(&self.state);
        slots.iter().any(|s| state.unwritten.contains(s))
    }

    /// Adds to `refused` (this flush's counts) the totals of earlier flushes, per session.
    pub(crate) fn refused_totals(&self, mut refused: BTreeMap<u32, u64>) -> BTreeMap<u32, u64> {
        let state = lock(&self.state);
        for (slot, n) in &mut refused {
            *n += state.dropped.get(slot).copied().unwrap_or(0);
        }
        for (slot, n) in &state.dropped {
            refused.entry(*slot).or_insert(*n);
        }
        refused
    }

    /// The settings a flush applies.
    pub(crate) fn flush_settings(&self) -> FlushSettings {
        let state = lock(&self.state);
        FlushSettings {
            providers: state.providers.clone(),
            sampling: state.sampling.clone(),
            scrubbing: state.scrubbing.clone(),
            api_key: state.api_key.clone(),
            remote: state.remote.clone(),
            mask: self.capture.get().mask.clone(),
        }
    }

    /// Forgets what the flush of `taken` wrote: frees the records read, keeps `carry` for the
    /// next flush, and retires the `sessions` that were finished. The flush lock stays held
    /// until `taken` is dropped (after the upload, so uploads stay in flush order).
    pub(crate) fn commit_flush(
        &self,
        taken: &mut Taken<'_>,
        sessions: &FlushSessions,
        carry: Carry,
    ) {
        for (log, mark) in taken.logs.iter().zip(std::mem::take(&mut taken.marks)) {
            log.commit(mark, &self.budget);
        }
        taken.committed = true;
        let mut decided = std::mem::take(&mut taken.decided);
        decided.push(carry.decided);
        let mut state = lock(&self.state);
        state.carried = carry.records;
        state.decided = decided;
        state.dropped.extend(carry.dropped);
        for slot in &sessions.slots {
            state.unwritten.remove(slot);
        }
        for &slot in &sessions.finished {
            if let Some(s) = state.sessions.remove(&slot) {
                state.retire(slot, s);
            }
            state.dropped.remove(&slot);
        }
        drop(state);
        self.forget_finished(&mut lock(&self.logs));
    }

    // --- The background flusher ---------------------------------------------------------------

    /// Puts `background` in the slot, returning the one it replaces.
    pub(crate) fn replace_background(&self, background: Option<Background>) -> Option<Background> {
        std::mem::replace(&mut *lock(&self.background), background)
    }

    /// Runs `f` with the background slot locked.
    pub(crate) fn with_background<R>(&self, f: impl FnOnce(&mut Option<Background>) -> R) -> R {
        f(&mut lock(&self.background))
    }

    pub(crate) fn has_background(&self) -> bool {
        lock(&self.background).is_some()
    }

    /// The number of the last numbered file written.
    pub(crate) fn file_number(&self) -> u64 {
        self.file_number.load(Ordering::Relaxed)
    }

    pub(crate) fn set_file_number(&self, n: u64) {
        self.file_number.store(n, Ordering::Relaxed);
    }

    /// Runs `f` on the flushers' statistics.
    pub(crate) fn update_flush_stats(&self, f: impl FnOnce(&mut AutoFlushStats)) {
        f(&mut lock(&self.flush_stats));
    }

    pub(crate) fn flush_stats(&self) -> AutoFlushStats {
        lock(&self.flush_stats).clone()
    }
}
