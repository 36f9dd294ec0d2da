//! Automatic flushing: a background thread that aiobs owns flushes the collector every few
//! seconds, or as soon as enough events are held, into numbered files of a directory or to an
//! exporter. Recording never waits for it: it writes what the threads already handed over.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::exporters::Exporter;
use crate::flush;
use crate::state::{Background, CollectorState};

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

/// Starts flushing `state` in the background as `auto` says, replacing a flusher already
/// running (which stops first, without a last flush); see
/// [`Collector::set_auto_flush`](crate::Collector::set_auto_flush).
pub(crate) fn start(state: &Arc<CollectorState>, auto: AutoFlush) -> Result<()> {
    if let Target::Dir(dir) = &auto.target {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
    }
    state.with_background(|slot| {
        if let Some(old) = slot.take() {
            state.budget().set_flusher(None);
            stop_and_wait(old);
        }
        let auto = Arc::new(auto);
        let stop = Arc::new(AtomicBool::new(false));
        let weak = Arc::downgrade(state);
        let handle = std::thread::Builder::new()
            .name("aiobs-flush".to_owned())
            .spawn({
                let (auto, stop) = (auto.clone(), stop.clone());
                move || run(&weak, &auto, &stop)
            })
            .map_err(|source| Error::Write {
                path: PathBuf::from("<the aiobs-flush thread>"),
                source,
            })?;
        state
            .budget()
            .set_flusher(Some((handle.thread().clone(), auto.events)));
        *slot = Some(Background {
            stop,
            handle,
            task: auto,
        });
        Ok(())
    })
}

/// Stops the background flusher of `state` and flushes once more to its target; see
/// [`Collector::stop_auto_flush`](crate::Collector::stop_auto_flush).
pub(crate) fn stop(state: &CollectorState) -> Result<Option<PathBuf>> {
    let Some(background) = state.replace_background(None) else {
        return Ok(None);
    };
    state.budget().set_flusher(None);
    let Some(auto) = stop_and_wait(background) else {
        return Ok(None);
    };
    let started = Instant::now();
    let result = flush_numbered(state, &auto.target, auto.include_trace_tree);
    count(state, started.elapsed(), &result);
    Ok(result?.and_then(|f| f.path))
}

/// Tells the flusher's thread to stop and waits for it (it finishes a flush under way);
/// returns its settings.
fn stop_and_wait(background: Background) -> Option<Arc<AutoFlush>> {
    background.stop_without_waiting();
    let _ = background.handle.join();
    background.task.downcast::<AutoFlush>().ok()
}

/// Like [`Collector::flush`](crate::Collector::flush) to `<dir>/<session-id>-<seq>.json`
/// (or like [`Collector::flush_to`](crate::Collector::flush_to)), but with nothing new to
/// write it writes nothing (`Ok(None)`).
fn flush_numbered(
    state: &CollectorState,
    target: &Target,
    include_trace_tree: bool,
) -> Result<Option<Flushed>> {
    match target {
        Target::Dir(dir) => {
            let seq = state.file_number() + 1;
            let written_to = dir.display().to_string();
            let flushed = flush::run(state, include_trace_tree, &written_to, true, |doc| {
                let session = doc
                    .sessions()
                    .iter()
                    .find(|s| s.ended_at.is_none())
                    .or_else(|| doc.sessions().first())
                    .map_or("no-session", |s| s.id.as_str());
                let path = dir.join(format!("{session}-{seq:06}.json"));
                flush::write_atomically(&path, false, doc).map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
                Ok(Flushed {
                    path: Some(path),
                    events: doc.event_count() as u64,
                })
            })?;
            if flushed.is_some() {
                state.set_file_number(seq);
            }
            Ok(flushed)
        }
        Target::Exporter(exporter) => {
            flush::run(state, include_trace_tree, "the exporter", true, |doc| {
                exporter
                    .export(doc)
                    .map_err(|source| Error::Export { source })?;
                Ok(Flushed {
                    path: None,
                    events: doc.event_count() as u64,
                })
            })
        }
    }
}

/// The flusher's loop: sleep until the period ends or the budget wakes it, flush, repeat;
/// until told to stop or the collector is gone.
fn run(state: &Weak<CollectorState>, auto: &AutoFlush, stop: &AtomicBool) {
    let every = auto.every;
    let mut last_report: Option<Instant> = None;
    let mut due = Instant::now() + every;
    loop {
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let Some(state) = state.upgrade() else {
                return;
            };
            if state.budget().take_woken() {
                break;
            }
            drop(state);
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::park_timeout(due - now);
        }
        let Some(state) = state.upgrade() else {
            return;
        };
        let started = Instant::now();
        let result = flush_numbered(&state, &auto.target, auto.include_trace_tree);
        count(&state, started.elapsed(), &result);
        due = Instant::now() + every;
        if let Err(e) = &result {
            report(auto, e, &mut last_report);
        }
    }
}

/// Adds a flush to the collector's [`AutoFlushStats`](crate::AutoFlushStats).
fn count(state: &CollectorState, took: Duration, result: &Result<Option<Flushed>>) {
    state.update_flush_stats(|stats| {
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
    });
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
