//! The collector: sessions, labels, providers, the per-thread logs, and which collector is
//! current. [`observer()`] is the global one; [`Collector::new`] makes independent ones.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use crate::capture::Limits;
use crate::capture::mask::{Captured, Mask, MaskPath};
use crate::capture::settings::SettingsCell;
use crate::clock;
use crate::error::{Error, Result};
use crate::id;
use crate::labels::{self, Labels};
use crate::model::{Session, SessionMeta};
use crate::providers::Provider;
use crate::remote::{self, ApiKey, Remote};
use crate::sampling::{self, Sampling};
use crate::scrub::Scrubbing;
use crate::store::Log;
use crate::store::budget::{Backlog, Budget, Capacity};
use crate::sync::lock;
use crate::thread;

/// How many collectors have an active session. Zero is the common case in production, and the
/// one the hot path checks with a single relaxed load.
pub(crate) static RECORDING: AtomicUsize = AtomicUsize::new(0);

static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

static GLOBAL: LazyLock<Collector> = LazyLock::new(Collector::new);

/// The global collector, the one observed functions record into unless a scope
/// ([`Collector::set_default`]) makes another current.
///
/// ```
/// let obs = aiobs::observer();
/// let sid = obs.observe(aiobs::ObserveOptions::new().session_name("docs"))?;
/// assert_eq!(obs.active_session().as_deref(), Some(sid.as_str()));
/// obs.end();
/// obs.reset();
/// # Ok::<(), aiobs::Error>(())
/// ```
pub fn observer() -> &'static Collector {
    &GLOBAL
}

pub(crate) fn global() -> &'static Collector {
    &GLOBAL
}

/// Owns sessions, labels and recorded events, and flushes them as one JSON document.
///
/// Cloning gives another handle to the same collector. Separate collectors don't see each
/// other's events, so tests running in parallel can each use their own:
///
/// ```
/// use aiobs::{Collector, ObserveOptions};
///
/// let obs = Collector::new();
/// let _scope = obs.set_default(); // calls on this thread record into `obs`
/// obs.observe(ObserveOptions::new().session_name("test").label("team", "core"))?;
/// assert_eq!(obs.get_labels()?["team"], "core");
/// # Ok::<(), aiobs::Error>(())
/// ```
#[derive(Clone)]
pub struct Collector {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) id: u64,
    /// Slot of the active session; 0 for none.
    pub(crate) active: AtomicU32,
    pub(crate) state: Mutex<State>,
    /// Every thread's log in this collector.
    pub(crate) logs: Mutex<Vec<Arc<Log>>>,
    /// One flush (or reset) at a time.
    pub(crate) flush_lock: Mutex<()>,
    /// The capture limits, mask and head sampling, read by every recorded call.
    pub(crate) capture: SettingsCell,
    /// What the logs may hold unflushed, and what they hold.
    pub(crate) budget: Budget,
    /// The background flusher, if one runs.
    pub(crate) auto_flush: Mutex<Option<crate::autoflush::Running>>,
    /// The number of the last file the auto-flusher wrote.
    pub(crate) auto_seq: AtomicU64,
    /// What the auto-flushers did.
    pub(crate) auto_stats: Mutex<crate::autoflush::AutoFlushStats>,
}

pub(crate) struct State {
    /// Sessions to write at the next flush, by slot.
    pub(crate) sessions: BTreeMap<u32, Session>,
    /// Sessions already flushed and closed, kept so that a call that was still running when
    /// they were flushed can be written with its session later.
    pub(crate) retired: BTreeMap<u32, Session>,
    next_slot: u32,
    pub(crate) providers: Vec<Arc<dyn Provider>>,
    pub(crate) api_key: Option<ApiKey>,
    /// Where the aiobs servers are.
    pub(crate) remote: Remote,
    pub(crate) sampling: Sampling,
    pub(crate) scrubbing: Scrubbing,
    /// Records of trees whose root had not ended at a flush that applied tail rules: written
    /// (or dropped) with their root, by a later flush. Each with the flushes it has waited.
    pub(crate) carried: Vec<(Box<[u8]>, u32)>,
    /// The tail decisions of the last flushes, by span id, for descendants flushed later.
    pub(crate) decided: crate::sampling::Decisions,
    /// Events the capacity refused, by session slot, since the session started.
    pub(crate) dropped: BTreeMap<u32, u64>,
    /// Sessions not written by any flush yet (an auto-flush with no events still writes them).
    pub(crate) unwritten: std::collections::BTreeSet<u32>,
}

/// How many flushed sessions are kept for late events.
const RETIRED_KEPT: usize = 64;

impl State {
    /// Keeps `session` for late events, dropping the oldest beyond the limit.
    pub(crate) fn retire(&mut self, slot: u32, session: Session) {
        self.retired.insert(slot, session);
        while self.retired.len() > RETIRED_KEPT {
            self.retired.pop_first();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if *self.active.get_mut() != 0 {
            RECORDING.fetch_sub(1, Ordering::Relaxed);
        }
        let running = self
            .auto_flush
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(running) = running {
            running.stop_without_waiting();
        }
    }
}

impl Inner {
    pub(crate) fn register_log(&self, log: Arc<Log>) {
        let mut logs = lock(&self.logs);
        self.forget_finished(&mut logs);
        logs.push(log);
    }

    /// Removes the logs whose thread exited and whose records were all flushed.
    pub(crate) fn forget_finished(&self, logs: &mut Vec<Arc<Log>>) {
        logs.retain(|log| {
            let finished = log.is_finished();
            if finished {
                log.release(&self.budget);
            }
            !finished
        });
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
}

/// What [`Collector::observe`] starts: session name, labels, API key.
///
/// ```
/// let opts = aiobs::ObserveOptions::new()
///     .session_name("nightly-eval")
///     .label("environment", "staging")
///     .label("team", "search");
/// # let _ = opts;
/// ```
#[derive(Clone, Default)]
pub struct ObserveOptions {
    session_name: Option<String>,
    labels: Labels,
    api_key: Option<String>,
}

impl fmt::Debug for ObserveOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObserveOptions")
            .field("session_name", &self.session_name)
            .field("labels", &self.labels)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ObserveOptions {
    /// No name (the session id is used), no labels, no API key.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session's name.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// Adds a label (checked by `observe`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds labels (checked by `observe`).
    pub fn labels<K: Into<String>, V: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.labels
            .extend(labels.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The aiobs API key (else `AIOBS_API_KEY`). With a key, `observe` validates it with the
    /// usage server and `flush` uploads the trace and records usage after writing it; see
    /// [`Remote`]. It never appears in an output, a message or a `Debug` output.
    ///
    /// ```
    /// let opts = aiobs::ObserveOptions::new().api_key("aiobs_sk_...");
    /// assert!(!format!("{opts:?}").contains("aiobs_sk_"));
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collector")
            .field("id", &self.inner.id)
            .field("active_session", &self.active_session())
            .finish()
    }
}

impl Collector {
    /// A new, empty collector with no session.
    pub fn new() -> Collector {
        clock::init();
        Collector {
            inner: Arc::new(Inner {
                id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
                active: AtomicU32::new(0),
                state: Mutex::new(State {
                    sessions: BTreeMap::new(),
                    retired: BTreeMap::new(),
                    next_slot: 1,
                    providers: Vec::new(),
                    api_key: None,
                    remote: Remote::new(),
                    sampling: Sampling::new(),
                    scrubbing: Scrubbing::new(),
                    carried: Vec::new(),
                    decided: crate::sampling::Decisions::default(),
                    dropped: BTreeMap::new(),
                    unwritten: Default::default(),
                }),
                logs: Mutex::new(Vec::new()),
                flush_lock: Mutex::new(()),
                capture: SettingsCell::new(),
                budget: Budget::new(),
                auto_flush: Mutex::new(None),
                auto_seq: AtomicU64::new(0),
                auto_stats: Mutex::new(Default::default()),
            }),
        }
    }

    /// Sets the size limits of the values captured from now on (calls already captured
    /// keep theirs).
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.set_limits(aiobs::Limits::new().max_str_chars(2_000));
    /// assert_eq!(obs.limits().get_max_str_chars(), 2_000);
    /// ```
    pub fn set_limits(&self, limits: Limits) {
        let _state = lock(&self.inner.state);
        self.inner.capture.update(|s| s.limits = limits);
    }

    /// Sets the most this collector holds unflushed; see [`Capacity`]. Past it, new events
    /// are dropped and counted, never waited for.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.set_capacity(aiobs::Capacity::new().max_events(1_000));
    /// assert_eq!(obs.capacity().get_max_events(), 1_000);
    /// ```
    pub fn set_capacity(&self, capacity: Capacity) {
        self.inner.budget.set_capacity(capacity);
    }

    /// The capacity in effect.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().capacity(), aiobs::Capacity::default());
    /// ```
    pub fn capacity(&self) -> Capacity {
        self.inner.budget.capacity()
    }

    /// What the collector holds unflushed now, and what the capacity dropped since the last
    /// flush: for a service's own metrics. Exact when no thread is recording.
    ///
    /// ```
    /// #[aiobs::observe]
    /// fn step(n: u32) -> u32 { n + 1 }
    ///
    /// let obs = aiobs::Collector::new();
    /// let _scope = obs.set_default();
    /// obs.observe(aiobs::ObserveOptions::new())?;
    /// step(1);
    /// step(2);
    /// assert_eq!(obs.backlog().events, 2);
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn backlog(&self) -> Backlog {
        let logs = lock(&self.inner.logs);
        let (unspent, dropped) = logs
            .iter()
            .fold((0, 0), |(u, d), log| (u + log.unspent(), d + log.dropped()));
        Backlog {
            events: self.inner.budget.reserved_events().saturating_sub(unspent),
            bytes: self.inner.budget.bytes(),
            dropped,
        }
    }

    /// Sets the mask hook: a function that sees every value captured from now on (each
    /// string, number and boolean, with its path: function, argument, fields, items) and
    /// keeps, replaces or removes it. For observed functions it runs when the call is
    /// recorded, so an unmasked value is never stored; for LLM calls (whose bodies are parsed
    /// at flush), when the call becomes an event, before anything is written, with paths such
    /// as `chat.completions.create.request.messages[0].content`. A mask that panics leaves
    /// `"[mask failed]"` in place of the value; the observed call is not affected. Set it
    /// once, at startup: each change keeps the old function alive.
    ///
    /// ```
    /// use aiobs::mask::{Captured, Mask, MaskPath};
    ///
    /// let obs = aiobs::Collector::new();
    /// obs.set_mask(|path: &MaskPath<'_>, value: &Captured<'_>| match value {
    ///     Captured::Str(s) if s.contains('@') => Mask::Replace("<email>".into()),
    ///     _ if path.last_key() == Some("internal_notes") => Mask::Remove,
    ///     _ => Mask::Keep,
    /// });
    /// ```
    pub fn set_mask(
        &self,
        mask: impl Fn(&MaskPath<'_>, &Captured<'_>) -> Mask + Send + Sync + 'static,
    ) {
        let _state = lock(&self.inner.state);
        self.inner.capture.update(|s| s.mask = Some(Arc::new(mask)));
    }

    /// Removes the mask hook.
    ///
    /// ```
    /// aiobs::Collector::new().clear_mask();
    /// ```
    pub fn clear_mask(&self) {
        let _state = lock(&self.inner.state);
        self.inner.capture.update(|s| s.mask = None);
    }

    /// Sets which trees of calls are kept; see [`Sampling`]. Takes effect for root calls that
    /// start from now on, and for tail rules at the next flush.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.set_sampling(aiobs::Sampling::new().head_ratio(0.5));
    /// assert!(!obs.sampling().keeps_everything());
    /// ```
    pub fn set_sampling(&self, sampling: Sampling) {
        let mut state = lock(&self.inner.state);
        let head = sampling::head_threshold(sampling.head());
        self.inner.capture.update(|s| s.head = head);
        state.sampling = sampling;
    }

    /// Sets where the aiobs servers are and how long to wait for them; see [`Remote`]. Used
    /// only with an API key.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.set_remote(aiobs::Remote::new().usage_server("http://127.0.0.1:9"));
    /// ```
    pub fn set_remote(&self, remote: Remote) {
        lock(&self.inner.state).remote = remote;
    }

    /// The aiobs servers' settings.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().remote(), aiobs::Remote::new());
    /// ```
    pub fn remote(&self) -> Remote {
        lock(&self.inner.state).remote.clone()
    }

    /// Sets what is scrubbed from what this collector writes (on, with the built-in patterns,
    /// by default). Applied when a trace is flushed, to everything in it: arguments, results,
    /// errors, LLM requests and responses, labels.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let obs = aiobs::Collector::new();
    /// obs.set_scrubbing(Scrubbing::new().secret_name("customer_pin").safe_name("session_id"));
    /// assert!(obs.scrubbing().is_secret_name("customerPin"));
    /// obs.set_scrubbing(Scrubbing::off());
    /// assert!(!obs.scrubbing().is_on());
    /// ```
    pub fn set_scrubbing(&self, scrubbing: Scrubbing) {
        lock(&self.inner.state).scrubbing = scrubbing;
    }

    /// The scrubbing rules in effect.
    ///
    /// ```
    /// assert!(aiobs::Collector::new().scrubbing().is_on());
    /// ```
    pub fn scrubbing(&self) -> Scrubbing {
        lock(&self.inner.state).scrubbing.clone()
    }

    /// The sampling in effect.
    ///
    /// ```
    /// assert!(aiobs::Collector::new().sampling().keeps_everything());
    /// ```
    pub fn sampling(&self) -> Sampling {
        lock(&self.inner.state).sampling.clone()
    }

    /// The size limits that captures use.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().limits(), aiobs::Limits::default());
    /// ```
    pub fn limits(&self) -> Limits {
        self.inner.capture.get().limits
    }

    /// Starts a session and makes it the active one; returns its id (a UUID).
    ///
    /// With an API key (the option, else `AIOBS_API_KEY`), the key is first validated with the
    /// usage server; a refused key, a used-up plan or an unreachable server is an error and no
    /// session starts. Without one, nothing is sent anywhere.
    ///
    /// Labels are merged: system labels, then `AIOBS_LABEL_*` environment variables, then
    /// `options`' labels, which are checked first. A session that was active stays in the
    /// collector, without an end time, as in the Python SDK.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// let sid = obs.observe(aiobs::ObserveOptions::new().session_name("run"))?;
    /// assert_eq!(sid.len(), 36);
    /// assert!(obs.get_labels()?.contains_key("aiobs_sdk_version"));
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn observe(&self, options: ObserveOptions) -> Result<String> {
        let labels = labels::merged(&options.labels)?;
        let session_id = id::random_uuid();
        let session = Session {
            id: session_id.clone(),
            name: options.session_name.unwrap_or_else(|| session_id.clone()),
            started_at: clock::wall_seconds(),
            ended_at: None,
            meta: SessionMeta {
                pid: u64::from(std::process::id()),
                cwd: std::env::current_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            },
            labels: if labels.is_empty() {
                None
            } else {
                Some(labels)
            },
        };
        // A key (the option, else AIOBS_API_KEY) is validated before the session starts.
        let api_key = options
            .api_key
            .or_else(|| std::env::var("AIOBS_API_KEY").ok())
            .filter(|k| !k.is_empty())
            .map(ApiKey::new);
        if let Some(key) = &api_key {
            let remote = lock(&self.inner.state).remote.clone();
            remote::validate(key, &remote)?;
        }
        let mut state = lock(&self.inner.state);
        state.api_key = api_key;
        let slot = state.next_slot;
        state.next_slot += 1;
        state.sessions.insert(slot, session);
        state.unwritten.insert(slot);
        self.inner.set_active(slot);
        Ok(session_id)
    }

    /// Ends the active session (sets its `ended_at`); does nothing without one.
    pub fn end(&self) {
        let mut state = lock(&self.inner.state);
        let slot = self.inner.active.load(Ordering::Relaxed);
        if slot == 0 {
            return;
        }
        if let Some(session) = state.sessions.get_mut(&slot) {
            session.ended_at = Some(clock::wall_seconds());
        }
        self.inner.set_active(0);
    }

    /// The id of the active session.
    pub fn active_session(&self) -> Option<String> {
        let state = lock(&self.inner.state);
        let slot = self.inner.active.load(Ordering::Relaxed);
        state.sessions.get(&slot).map(|s| s.id.clone())
    }

    /// Runs `f` on the active session's labels, then checks the count.
    fn edit_labels(&self, f: impl FnOnce(&mut Labels) -> Result<()>) -> Result<()> {
        let mut state = lock(&self.inner.state);
        let slot = self.inner.active.load(Ordering::Relaxed);
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

    /// Sets labels on the active session: merged into the current ones (`merge = true`), or
    /// replacing every user label (`merge = false`; system labels stay).
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.observe(aiobs::ObserveOptions::new().label("a", "1"))?;
    /// obs.set_labels([("b", "2")], false)?;
    /// let labels = obs.get_labels()?;
    /// assert!(!labels.contains_key("a") && labels["b"] == "2");
    /// assert!(labels.contains_key("aiobs_os"));
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn set_labels<K: Into<String>, V: Into<String>>(
        &self,
        labels: impl IntoIterator<Item = (K, V)>,
        merge: bool,
    ) -> Result<()> {
        let new: Labels = labels
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        labels::validate(&new)?;
        self.edit_labels(|current| {
            if !merge {
                current.retain(|k, _| k.starts_with(labels::RESERVED_PREFIX));
            }
            current.extend(new);
            Ok(())
        })
    }

    /// Adds (or replaces) one label on the active session.
    pub fn add_label(&self, key: &str, value: &str) -> Result<()> {
        labels::validate_key(key)?;
        labels::validate_value(key, value)?;
        self.edit_labels(|current| {
            if !current.contains_key(key) && current.len() >= labels::MAX_LABELS {
                return Err(Error::LabelLimitReached {
                    key: key.to_owned(),
                });
            }
            current.insert(key.to_owned(), value.to_owned());
            Ok(())
        })
    }

    /// Removes a label from the active session; system labels can't be removed.
    pub fn remove_label(&self, key: &str) -> Result<()> {
        if key.starts_with(labels::RESERVED_PREFIX) {
            return Err(Error::SystemLabel {
                key: key.to_owned(),
            });
        }
        self.edit_labels(|current| {
            current.remove(key);
            Ok(())
        })
    }

    /// The active session's labels.
    pub fn get_labels(&self) -> Result<Labels> {
        let state = lock(&self.inner.state);
        let slot = self.inner.active.load(Ordering::Relaxed);
        let session = state.sessions.get(&slot).ok_or(Error::NoActiveSession)?;
        Ok(session.labels.clone().unwrap_or_default())
    }

    /// Registers a provider: it turns HTTP exchanges with an LLM API into events.
    pub fn register_provider(&self, provider: impl Provider + 'static) {
        lock(&self.inner.state).providers.push(Arc::new(provider));
    }

    /// The providers registered, in order.
    pub fn providers(&self) -> Vec<Arc<dyn Provider>> {
        lock(&self.inner.state).providers.clone()
    }

    /// Forgets everything: sessions, events not yet flushed, providers and the API key.
    pub fn reset(&self) {
        let _flush = lock(&self.inner.flush_lock);
        {
            let mut state = lock(&self.inner.state);
            self.inner.set_active(0);
            state.sessions.clear();
            state.retired.clear();
            state.providers.clear();
            state.api_key = None;
            state.carried.clear();
            state.decided = crate::sampling::Decisions::default();
            state.dropped.clear();
            state.unwritten.clear();
        }
        let logs = lock(&self.inner.logs);
        let mut scratch = Vec::new();
        for log in logs.iter() {
            scratch.clear();
            let mark = log.read(&mut scratch);
            log.commit(mark, &self.inner.budget);
        }
    }

    /// Makes this collector the current one for this thread until the guard is dropped:
    /// observed calls on the thread (and futures and closures created there and carried with
    /// [`crate::FutureExt::in_current_span`] or [`crate::SpanContext::in_scope`]) record into
    /// it. Scopes nest.
    pub fn set_default(&self) -> DefaultGuard {
        let previous = thread::with(|t| {
            t.collector
                .try_borrow_mut()
                .ok()
                .map(|mut c| c.replace(self.clone()))
        })
        .flatten()
        .flatten();
        DefaultGuard {
            previous: Some(previous),
            _not_send: std::marker::PhantomData,
        }
    }

    /// The collector current on this thread (the global one unless a scope set another).
    pub fn current() -> Collector {
        thread::with(|t| t.with_collector(Collector::clone)).unwrap_or_else(|| global().clone())
    }

    /// Whether this and `other` are handles to the same collector.
    pub fn same_as(&self, other: &Collector) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Whether the API key is set (the key itself is never handed out).
    pub fn has_api_key(&self) -> bool {
        lock(&self.inner.state).api_key.is_some()
    }
}

/// Restores the previous current collector of the thread when dropped; see
/// [`Collector::set_default`].
#[must_use = "the collector is current only while the guard lives"]
pub struct DefaultGuard {
    previous: Option<Option<Collector>>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl fmt::Debug for DefaultGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DefaultGuard")
    }
}

impl Drop for DefaultGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = thread::with(|t| {
                if let Ok(mut c) = t.collector.try_borrow_mut() {
                    *c = previous;
                }
            });
        }
    }
}
