//! Automatic flushing: a background thread that aiobs owns flushes the collector every few
//! seconds, or as soon as enough events are held, into numbered files of a directory or to an
//! exporter. Recording never waits for it: it writes what the threads already handed over.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::collector::{Collector, Inner};
use crate::error::{Error, Result};
use crate::exporters::Exporter;
use crate::sync::lock;

/// Where an auto-flush writes.
#[derive(Clone)]
pub(crate) enum Target {
    Dir(PathBuf),
    Exporter(Arc<dyn Exporter + Send + Sync>),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Dir(dir) => f.debug_tuple("Dir").field(dir).finish(),
            Target::Exporter(e) => f.debug_tuple("Exporter").field(&e.name()).finish(),
        }
    }
}

/// What one auto-flush wrote.
pub(crate) struct Flushed {
    pub(crate) path: Option<PathBuf>,
    pub(crate) events: u64,
}

type OnError = Arc<dyn Fn(&Error) + Send + Sync>;

/// Flushing in the background: every `every` (5 s by default) and as soon as `events` events
/// (100,000 by default) are held, whichever comes first, into numbered files in a directory
/// (`<session-id>-<seq>.json`, each a complete export; join them with
/// [`merge_exports`](crate::merge_exports) or `aiobs merge`) or to an exporter. A flush with
/// nothing new writes nothing. A failed flush keeps every event for the next one and is
/// reported to `on_error` (by default, a line on stderr at most once a minute).
///
/// ```
/// use std::time::Duration;
///
/// # let dir = std::env::temp_dir().join(format!("aiobs-autoflush-doc-{}", std::process::id()));
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new().session_name("service"))?;
/// obs.set_auto_flush(
///     aiobs::AutoFlush::to_dir(&dir).every(Duration::from_secs(10)).events(50_000),
/// )?;
/// // ... the service runs; files appear in `dir` ...
/// obs.end();
/// let last = obs.stop_auto_flush()?; // the last file, with the session's end
/// assert!(last.unwrap().starts_with(&dir));
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs::Error>(())
/// ```
#[derive(Clone)]
pub struct AutoFlush {
    pub(crate) target: Target,
    every: Duration,
    events: u64,
    include_trace_tree: bool,
    on_error: Option<OnError>,
}

impl fmt::Debug for AutoFlush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoFlush")
            .field("target", &self.target)
            .field("every", &self.every)
            .field("events", &self.events)
            .field("include_trace_tree", &self.include_trace_tree)
            .finish_non_exhaustive()
    }
}

impl AutoFlush {
    fn new(target: Target) -> AutoFlush {
        AutoFlush {
            target,
            every: Duration::from_secs(5),
            events: 100_000,
            include_trace_tree: true,
            on_error: None,
        }
    }

    /// Numbered files in `dir` (created if missing): `<session-id>-<seq>.json`, `seq` counting
    /// from `000001` for the collector.
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_dir("traces");
    /// # let _ = auto;
    /// ```
    pub fn to_dir(dir: impl Into<PathBuf>) -> AutoFlush {
        AutoFlush::new(Target::Dir(dir.into()))
    }

    /// Each flush goes to `exporter` instead of a file.
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_exporter(aiobs::exporters::CustomExporter::new("mine", |_doc: &aiobs::ExportDocument<'_>| {
    ///     Ok(aiobs::ExportResult::default())
    /// }));
    /// # let _ = auto;
    /// ```
    pub fn to_exporter(exporter: impl Exporter + Send + Sync + 'static) -> AutoFlush {
        AutoFlush::new(Target::Exporter(Arc::new(exporter)))
    }

    /// The longest time between flushes (at least 1 ms).
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_dir("traces").every(std::time::Duration::from_millis(200));
    /// # let _ = auto;
    /// ```
    pub fn every(mut self, period: Duration) -> AutoFlush {
        self.every = period.max(Duration::from_millis(1));
        self
    }

    /// Flush as soon as about `n` events are held (threads hand over events in batches of
    /// 128, so a flush may start up to that many per thread early). `u64::MAX`: time only.
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_dir("traces").events(10_000);
    /// # let _ = auto;
    /// ```
    pub fn events(mut self, n: u64) -> AutoFlush {
        self.events = n.max(1);
        self
    }

    /// Whether each file has `trace_tree` and `enh_prompt_traces` (on by default).
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_dir("traces").include_trace_tree(false);
    /// # let _ = auto;
    /// ```
    pub fn include_trace_tree(mut self, yes: bool) -> AutoFlush {
        self.include_trace_tree = yes;
        self
    }

    /// Called with the error of each failed flush, on the flusher's thread.
    ///
    /// ```
    /// let auto = aiobs::AutoFlush::to_dir("traces").on_error(|e| eprintln!("trace lost for now: {e}"));
    /// # let _ = auto;
    /// ```
    pub fn on_error(mut self, f: impl Fn(&Error) + Send + Sync + 'static) -> AutoFlush {
        self.on_error = Some(Arc::new(f));
        self
    }
}

/// What the auto-flusher did so far; see [`Collector::auto_flush_stats`].
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

/// A running flusher, owned by its collector.
pub(crate) struct Running {
    shared: Arc<Shared>,
    handle: JoinHandle<()>,
}

struct Shared {
    stop: AtomicBool,
    settings: AutoFlush,
}

impl Running {
    /// Tells the thread to stop and waits for it (it finishes a flush under way).
    fn stop(self) -> Arc<Shared> {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
        let _ = self.handle.join();
        self.shared
    }

    /// Tells the thread to stop, without waiting (the collector is being dropped).
    pub(crate) fn stop_without_waiting(self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
    }
}

impl Collector {
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
        if let Target::Dir(dir) = &auto.target {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.clone(),
                source,
            })?;
        }
        let mut slot = lock(&self.inner.auto_flush);
        if let Some(old) = slot.take() {
            self.inner.budget.set_flusher(None);
            old.stop();
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            settings: auto,
        });
        let weak = Arc::downgrade(&self.inner);
        let handle = std::thread::Builder::new()
            .name("aiobs-flush".to_owned())
            .spawn({
                let shared = shared.clone();
                move || run(&weak, &shared)
            })
            .map_err(|source| Error::Write {
                path: PathBuf::from("<the aiobs-flush thread>"),
                source,
            })?;
        self.inner
            .budget
            .set_flusher(Some((handle.thread().clone(), shared.settings.events)));
        *slot = Some(Running { shared, handle });
        Ok(())
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
        let Some(running) = lock(&self.inner.auto_flush).take() else {
            return Ok(None);
        };
        self.inner.budget.set_flusher(None);
        let shared = running.stop();
        let settings = &shared.settings;
        let started = Instant::now();
        let result = self.flush_numbered(&settings.target, settings.include_trace_tree);
        count(&self.inner, started.elapsed(), &result);
        Ok(result?.and_then(|f| f.path))
    }

    /// Whether a background flusher runs.
    ///
    /// ```
    /// assert!(!aiobs::Collector::new().auto_flush_running());
    /// ```
    pub fn auto_flush_running(&self) -> bool {
        lock(&self.inner.auto_flush).is_some()
    }

    /// What the collector's background flushers did so far, the last flush of
    /// [`Collector::stop_auto_flush`] included (zeros if none ran).
    ///
    /// ```
    /// assert_eq!(aiobs::Collector::new().auto_flush_stats().failures, 0);
    /// ```
    pub fn auto_flush_stats(&self) -> AutoFlushStats {
        lock(&self.inner.auto_stats).clone()
    }
}

/// The flusher's loop: sleep until the period ends or the budget wakes it, flush, repeat;
/// until told to stop or the collector is gone.
fn run(collector: &Weak<Inner>, shared: &Shared) {
    let every = shared.settings.every;
    let mut last_report: Option<Instant> = None;
    let mut due = Instant::now() + every;
    loop {
        loop {
            if shared.stop.load(Ordering::Relaxed) {
                return;
            }
            let Some(inner) = collector.upgrade() else {
                return;
            };
            if inner.budget.take_woken() {
                break;
            }
            drop(inner);
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::park_timeout(due - now);
        }
        let Some(inner) = collector.upgrade() else {
            return;
        };
        let collector = Collector { inner };
        let started = Instant::now();
        let result =
            collector.flush_numbered(&shared.settings.target, shared.settings.include_trace_tree);
        count(&collector.inner, started.elapsed(), &result);
        due = Instant::now() + every;
        if let Err(e) = &result {
            report(&shared.settings, e, &mut last_report);
        }
    }
}

/// Adds a flush to the collector's [`AutoFlushStats`].
fn count(inner: &Inner, took: Duration, result: &Result<Option<Flushed>>) {
    let mut stats = lock(&inner.auto_stats);
    stats.busy += took;
    match result {
        Ok(Some(flushed)) => {
            stats.flushes += 1;
            stats.events += flushed.events;
            if flushed.path.is_some() {
                stats.last_path.clone_from(&flushed.path);
            }
        }
        Ok(None) => {}
        Err(e) => {
            stats.failures += 1;
            stats.last_error = Some(e.to_string());
        }
    }
}

/// Hands a failure to the `on_error` hook, or writes it on stderr at most once a minute.
fn report(settings: &AutoFlush, error: &Error, last: &mut Option<Instant>) {
    if let Some(hook) = &settings.on_error {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(error)));
        return;
    }
    if last.is_some_and(|t| t.elapsed() < Duration::from_secs(60)) {
        return;
    }
    *last = Some(Instant::now());
    let target = match &settings.target {
        Target::Dir(dir) => dir.display().to_string(),
        Target::Exporter(e) => e.name().to_owned(),
    };
    eprintln!("aiobs: auto-flush to {target} failed (events kept for the next one): {error}");
}
