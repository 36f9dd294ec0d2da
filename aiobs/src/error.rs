//! The one error type of the crate.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in aiobs, with a message that names the bad input.
///
/// ```
/// let obs = aiobs::Collector::new();
/// let err = obs.observe(aiobs::ObserveOptions::new().label("Team", "core")).unwrap_err();
/// assert!(err.to_string().contains("'Team'"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A label key that does not match `^[a-z][a-z0-9_]{0,62}$`.
    InvalidLabelKey {
        /// The key as given.
        key: String,
    },
    /// A label key that starts with the reserved `aiobs_` prefix.
    ReservedLabelKey {
        /// The key as given.
        key: String,
    },
    /// A label value longer than 256 characters.
    LabelValueTooLong {
        /// The label's key.
        key: String,
        /// The value's length in characters.
        chars: usize,
    },
    /// More than 64 labels on a session.
    TooManyLabels {
        /// How many there would be.
        count: usize,
    },
    /// A label could not be added: the session already has 64.
    LabelLimitReached {
        /// The key that was being added.
        key: String,
    },
    /// An attempt to remove a system (`aiobs_`) label.
    SystemLabel {
        /// The key.
        key: String,
    },
    /// A session operation with no active session.
    NoActiveSession,
    /// The export could not be written to a file.
    Write {
        /// The file that was being written.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// An exporter failed.
    Export {
        /// What the exporter said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidLabelKey { key } => write!(
                f,
                "label key '{key}' is invalid: keys must match ^[a-z][a-z0-9_]{{0,62}}$"
            ),
            Error::ReservedLabelKey { key } => {
                write!(f, "label key '{key}' uses the reserved prefix 'aiobs_'")
            }
            Error::LabelValueTooLong { key, chars } => write!(
                f,
                "label value for '{key}' is {chars} characters long; the maximum is 256"
            ),
            Error::TooManyLabels { count } => {
                write!(f, "too many labels ({count}); the maximum is 64")
            }
            Error::LabelLimitReached { key } => write!(
                f,
                "cannot add label '{key}': the session already has the maximum of 64 labels"
            ),
            Error::SystemLabel { key } => write!(f, "cannot remove system label '{key}'"),
            Error::NoActiveSession => f.write_str("no active session: call observe() first"),
            Error::Write { path, source } => {
                write!(f, "cannot write the trace to {}: {source}", path.display())
            }
            Error::Export { source } => write!(f, "the exporter failed: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Write { source, .. } => Some(source),
            Error::Export { source } => Some(&**source),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
