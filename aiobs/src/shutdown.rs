//! Clean shutdown: a guard that ends the session and flushes what is left when it is dropped
//! (at the end of `main`, and while a panic unwinds it), and [`shutdown`] for the paths that
//! run no destructors (a SIGTERM handler, before `std::process::exit`).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::collector::{Collector, ObserveOptions, global};
use crate::error::Result;
use crate::flush::FlushOptions;
use crate::store::lock;

/// The flush the installed guard will do, taken by whoever ends first (the guard's drop or
/// [`shutdown`]), so it runs once.
static INSTALLED: Mutex<Option<(Collector, FlushOptions)>> = Mutex::new(None);

/// Starts a session on the global collector and returns a guard that, when dropped, ends it
/// and flushes everything recorded with `flush`.
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
pub fn install(options: ObserveOptions, flush: FlushOptions) -> Result<Installed> {
    let collector = global().clone();
    let session_id = collector.observe(options)?;
    *lock(&INSTALLED) = Some((collector, flush));
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
    /// has nothing left to do). `None` if it was already done by [`shutdown`].
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
    collector.flush(flush).map(Some)
}
