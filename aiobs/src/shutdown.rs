//! Clean shutdown: a guard that ends the session and flushes what is left when it is dropped
//! (at the end of `main`, and while a panic unwinds it), and [`shutdown`] for the paths that
//! run no destructors (a SIGTERM handler, before `std::process::exit`).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::autoflush::AutoFlush;
use crate::collector::{Collector, ObserveOptions, observer};
use crate::error::Result;
use crate::flush::FlushOptions;
use crate::sync::lock;

/// Where the installed session is flushed: one file at the end ([`FlushOptions`]), or
/// numbered files as it runs ([`AutoFlush`]), the last one at the end.
///
/// ```
/// let at_end: aiobs::FlushTo = aiobs::FlushOptions::to_path("trace.json").into();
/// let as_it_runs: aiobs::FlushTo = aiobs::AutoFlush::to_dir("traces").into();
/// # let _ = (at_end, as_it_runs);
/// ```
#[derive(Debug, Clone)]
pub enum FlushTo {
    /// One flush at the end, as these options say.
    End(FlushOptions),
    /// Flushing in the background, and once more at the end.
    Auto(AutoFlush),
}

impl From<FlushOptions> for FlushTo {
    fn from(options: FlushOptions) -> FlushTo {
        FlushTo::End(options)
    }
}

impl From<AutoFlush> for FlushTo {
    fn from(auto: AutoFlush) -> FlushTo {
        FlushTo::Auto(auto)
    }
}

/// The flush the installed guard will do, taken by whoever ends first (the guard's drop or
/// [`shutdown`]), so it runs once.
static INSTALLED: Mutex<Option<(Collector, Option<FlushOptions>)>> = Mutex::new(None);

/// Starts a session on the global collector and returns a guard that, when dropped, ends it
/// and flushes everything recorded: to one file ([`FlushOptions`]), or, with an
/// [`AutoFlush`], in the background as the program runs and a last time at the end.
///
/// Keep it alive for the whole program: `let _aiobs = aiobs::install(..)?;` first thing in
/// `main`. Its drop also runs while a panic unwinds `main`, so a program that panics still
/// writes what it recorded. `std::process::exit` and signals run no destructors: call
/// [`shutdown`] (or [`Installed::finish`]) before exiting, and from your SIGTERM handler.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("aiobs-install-{}", std::process::id()));
/// # let path = dir.join("trace.json");
/// {
///     let _aiobs = aiobs::install(
///         aiobs::ObserveOptions::new().session_name("service"),
///         aiobs::FlushOptions::to_path(&path),
///     )?;
///     // ... the program ...
/// } // ended and flushed here
/// assert!(path.exists());
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs::Error>(())
/// ```
///
/// A service that runs for long flushes as it goes:
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("aiobs-install-auto-{}", std::process::id()));
/// let aiobs = aiobs::install(
///     aiobs::ObserveOptions::new().session_name("service"),
///     aiobs::AutoFlush::to_dir(&dir).every(std::time::Duration::from_secs(5)),
/// )?;
/// // ... numbered files appear in `dir` while it runs ...
/// let last = aiobs.finish()?; // stops the flusher, writes the last file
/// assert!(last.is_some());
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs::Error>(())
/// ```
pub fn install(options: ObserveOptions, flush: impl Into<FlushTo>) -> Result<Installed> {
    let collector = observer().clone();
    let session_id = collector.observe(options)?;
    let at_end = match flush.into() {
        FlushTo::End(options) => Some(options),
        FlushTo::Auto(auto) => {
            if let Err(e) = collector.set_auto_flush(auto) {
                collector.end();
                return Err(e);
            }
            None
        }
    };
    *lock(&INSTALLED) = Some((collector, at_end));
    Ok(Installed { session_id })
}

/// The guard [`install`] returns; see there.
#[derive(Debug)]
#[must_use = "the session ends and is flushed when the guard is dropped: keep it in a variable"]
pub struct Installed {
    session_id: String,
}

impl Installed {
    /// The id of the session the guard started.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("aiobs-sid-{}", std::process::id()));
    /// let guard = aiobs::install(aiobs::ObserveOptions::new(), aiobs::FlushOptions::to_path(dir.join("t.json")))?;
    /// assert_eq!(guard.session_id().len(), 36);
    /// # drop(guard);
    /// # std::fs::remove_dir_all(dir).ok();
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Ends the session and flushes now, returning where the trace was written (the drop then
    /// has nothing left to do). `None` if it was already done by [`shutdown`], or if an
    /// auto-flush to an exporter (or with nothing left to write) did the last flush.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("aiobs-finish-{}", std::process::id()));
    /// let guard = aiobs::install(aiobs::ObserveOptions::new(), aiobs::FlushOptions::to_path(dir.join("t.json")))?;
    /// let path = guard.finish()?;
    /// assert!(path.unwrap().exists());
    /// # std::fs::remove_dir_all(dir).ok();
    /// # Ok::<(), aiobs::Error>(())
    /// ```
    pub fn finish(self) -> Result<Option<PathBuf>> {
        shutdown()
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        // A failure can't be returned from a drop: it is reported on stderr rather than lost
        // silently.
        if let Err(e) = shutdown() {
            eprintln!("aiobs: could not flush the trace at exit: {e}");
        }
    }
}

/// Ends the installed session and flushes what was recorded, once; later calls (and the
/// guard's drop) do nothing and return `Ok(None)`. For what runs no destructors: call it from
/// a SIGTERM handler (with the `ctrlc` or `signal-hook` crate, or `tokio::signal`) and before
/// `std::process::exit`. Without [`install`] it does nothing.
///
/// ```
/// // In a SIGTERM handler, or before `std::process::exit(code)`:
/// let written = aiobs::shutdown()?;
/// # assert!(written.is_none(), "nothing installed in this doctest");
/// # Ok::<(), aiobs::Error>(())
/// ```
pub fn shutdown() -> Result<Option<PathBuf>> {
    let Some((collector, flush)) = lock(&INSTALLED).take() else {
        return Ok(None);
    };
    collector.end();
    match flush {
        Some(options) => collector.flush(options).map(Some),
        None => collector.stop_auto_flush(),
    }
}
