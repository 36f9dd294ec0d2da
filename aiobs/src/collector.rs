//! The facade: [`Collector`], a handle to one collector's state, with every public method;
//! [`observer()`] is the global one; [`Collector::new`] makes independent ones. The methods
//! check their input and hand the work to the layers below (the state, the flush pipeline,
//! the auto-flusher).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use crate::autoflush::{self, AutoFlush};
use crate::capture::Limits;
use crate::capture::mask::{Captured, Mask, MaskPath};
use crate::clock;
use crate::error::{Error, Result};
use crate::exporters::{ExportResult, Exporter};
use crate::flush::{self, FlushOptions};
use crate::id;
use crate::labels::{self, Labels};
use crate::model::{Session, SessionMeta};
use crate::observed::thread;
use crate::remote::{self, ApiKey, Remote};
use crate::sampling::Sampling;
use crate::scrub::Scrubbing;
use crate::state::{self, AutoFlushStats, CollectorState};
use crate::store::budget::{Backlog, Capacity};
use crate::wire::Provider;

static GLOBAL: LazyLock<Collector> = LazyLock::new(|| Collector {
    state: state::global().clone(),
});

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
    state: Arc<CollectorState>,
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
            .field("id", &self.state.id())
            .field("active_session", &self.active_session())
            .finish()
    }
}

impl Collector {
    /// A new, empty collector with no session.
    pub fn new() -> Collector {
        clock::init();
        Collector {
            state: CollectorState::new(),
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
        self.state.update_capture(|s| s.limits = limits);
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
        self.state.budget().set_capacity(capacity);
    }

    /// The capacity in effect.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().capacity(), aiobs::Capacity::default());
    /// ```
    pub fn capacity(&self) -> Capacity {
        self.state.budget().capacity()
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
        self.state.backlog()
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
        self.state.update_capture(|s| s.mask = Some(Arc::new(mask)));
    }

    /// Removes the mask hook.
    ///
    /// ```
    /// aiobs::Collector::new().clear_mask();
    /// ```
    pub fn clear_mask(&self) {
        self.state.update_capture(|s| s.mask = None);
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
        self.state.set_sampling(sampling);
    }

    /// Sets where the aiobs servers are and how long to wait for them; see [`Remote`]. Used
    /// only with an API key.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// obs.set_remote(aiobs::Remote::new().usage_server("http://127.0.0.1:9"));
    /// ```
    pub fn set_remote(&self, remote: Remote) {
        self.state.set_remote(remote);
    }

    /// The aiobs servers' settings.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().remote(), aiobs::Remote::new());
    /// ```
    pub fn remote(&self) -> Remote {
        self.state.remote()
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
        self.state.set_scrubbing(scrubbing);
    }

    /// The scrubbing rules in effect.
    ///
    /// ```
    /// assert!(aiobs::Collector::new().scrubbing().is_on());
    /// ```
    pub fn scrubbing(&self) -> Scrubbing {
        self.state.scrubbing()
    }

    /// The sampling in effect.
    ///
    /// ```
    /// assert!(aiobs::Collector::new().sampling().keeps_everything());
    /// ```
    pub fn sampling(&self) -> Sampling {
        self.state.sampling()
    }

    /// The size limits that captures use.
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().limits(), aiobs::Limits::default());
    /// ```
    pub fn limits(&self) -> Limits {
        self.state.capture().limits
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
            let remote = self.state.remote();
            remote::validate(key, &remote)?;
        }
        self.state.start_session(session, api_key);
        Ok(session_id)
    }

    /// Ends the active session (sets its `ended_at`); does nothing without one.
    pub fn end(&self) {
        self.state.end_session();
    }

    /// The id of the active session.
    pub fn active_session(&self) -> Option<String> {
        self.state.active_session_id()
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
        self.state.edit_labels(|current| {
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
        self.state.edit_labels(|current| {
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
        self.state.edit_labels(|current| {
            current.remove(key);
            Ok(())
        })
    }

    /// The active session's labels.
    pub fn get_labels(&self) -> Result<Labels> {
        self.state.labels()
    }

    /// Registers a provider: it turns HTTP exchanges with an LLM API into events.
    pub fn register_provider(&self, provider: impl Provider + 'static) {
        self.state.add_provider(Arc::new(provider));
    }

    /// The providers registered, in order.
    pub fn providers(&self) -> Vec<Arc<dyn Provider>> {
        self.state.providers()
    }

    /// Forgets everything: sessions, events not yet flushed, providers and the API key.
    pub fn reset(&self) {
        self.state.reset();
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
                .map(|mut c| c.replace(self.state.clone()))
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
        Collector {
            state: thread::current_state(),
        }
    }

    // --- Flushing ---------------------------------------------------------------------------

    /// Writes every session and every recorded event to a JSON file and returns its path.
    ///
    /// The file is replaced atomically (a temporary file renamed over it). On failure the error
    /// names the path and everything stays stored for the next flush. After success the events
    /// and the finished sessions are forgotten; unlike the Python SDK, the active session stays
    /// open, so calls recorded after a flush go into the next one, under the same session.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("aiobs-doc-{}", std::process::id()));
    /// let obs = aiobs::Collector::new();
    /// obs.observe(aiobs::ObserveOptions::new().session_name("doc"))?;
    /// obs.end();
    /// let path = obs.flush(aiobs::FlushOptions::to_path(dir.join("trace.json")))?;
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("\"name\":\"doc\""));
    /// # std::fs::remove_dir_all(dir).ok();
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn flush(&self, options: FlushOptions) -> Result<PathBuf> {
        flush::to_file(&self.state, options)
    }

    /// Hands every session and recorded event to `exporter` instead of a file. On an error
    /// everything stays stored for the next flush.
    pub fn flush_to(
        &self,
        exporter: &dyn Exporter,
        include_trace_tree: bool,
    ) -> Result<ExportResult> {
        flush::to_exporter(&self.state, exporter, include_trace_tree)
    }

    /// Starts flushing in the background as `auto` says, replacing a flusher already
    /// running (which stops first, without a last flush). Fails if the directory can't be
    /// created or the thread can't be started.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("aiobs-set-auto-{}", std::process::id()));
    /// let obs = aiobs::Collector::new();
    /// obs.set_auto_flush(aiobs::AutoFlush::to_dir(&dir))?;
    /// assert!(obs.auto_flush_running());
    /// obs.stop_auto_flush()?;
    /// # std::fs::remove_dir_all(dir).ok();
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn set_auto_flush(&self, auto: AutoFlush) -> Result<()> {
        autoflush::start(&self.state, auto)
    }

    /// Stops the background flusher and flushes once more to its target (what was recorded
    /// since its last flush, and the session's end if it ended), returning the last file
    /// written (`None` for an exporter, or when nothing was left). Does nothing without a
    /// flusher.
    ///
    /// ```
    /// let obs = aiobs::Collector::new();
    /// assert_eq!(obs.stop_auto_flush()?, None);
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn stop_auto_flush(&self) -> Result<Option<PathBuf>> {
        autoflush::stop(&self.state)
    }

    /// Whether a background flusher runs.
    ///
    /// ```
    /// assert!(!aiobs::Collector::new().auto_flush_running());
    /// ```
    pub fn auto_flush_running(&self) -> bool {
        self.state.has_background()
    }

    /// What the collector's background flushers did so far, the last flush of
    /// [`Collector::stop_auto_flush`] included (zeros if none ran).
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().auto_flush_stats().failures, 0);
    /// ```
    pub fn auto_flush_stats(&self) -> AutoFlushStats {
        self.state.flush_stats()
    }

    /// The state this is a handle to.
    #[cfg(test)]
    pub(crate) fn state(&self) -> &Arc<CollectorState> {
        &self.state
    }

    /// Whether this and `other` are handles to the same collector.
    pub fn same_as(&self, other: &Collector) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// Whether the API key is set (the key itself is never handed out).
    pub fn has_api_key(&self) -> bool {
        self.state.has_api_key()
    }
}

/// Restores the previous current collector of the thread when dropped; see
/// [`Collector::set_default`].
#[must_use = "the collector is current only while the guard lives"]
pub struct DefaultGuard {
    previous: Option<Option<Arc<CollectorState>>>,
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
