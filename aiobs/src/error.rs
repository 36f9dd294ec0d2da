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
    /// The aiobs usage server refused the API key (HTTP 401).
    InvalidApiKey,
    /// The API key's plan has no traces left.
    RateLimited {
        /// The server's message.
        message: String,
        /// The plan, such as `"free"`.
        tier: String,
        /// Traces counted so far.
        used: u64,
        /// Traces the plan allows.
        limit: u64,
    },
    /// An aiobs server could not be reached, or did not answer in time.
    ServerUnreachable {
        /// The URL called.
        url: String,
        /// Why: the connection error, or the timeout.
        reason: String,
    },
    /// An aiobs server answered with an error status.
    ServerStatus {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, if it gave one.
        message: String,
    },
    /// An API key was given but aiobs was built without its `remote` feature.
    RemoteDisabled,
    /// The trace was written (to a file or by the exporter) and the recorded events were
    /// forgotten, but sending it to the aiobs servers failed. Nothing is lost locally.
    Upload {
        /// Where the trace was written: the file's path, or `"the exporter"`.
        written_to: String,
        /// What failed: [`Error::InvalidApiKey`], [`Error::RateLimited`],
        /// [`Error::ServerUnreachable`] or [`Error::ServerStatus`].
        source: Box<Error>,
    },
}

impl Error {
    /// Whether the trace was nonetheless written locally: the error came from sending it to
    /// the aiobs servers afterwards ([`Error::Upload`]).
    ///
    /// ```
    /// let e = aiobs::Error::Upload {
    ///     written_to: "trace.json".into(),
    ///     source: Box::new(aiobs::Error::InvalidApiKey),
    /// };
    /// assert!(e.written_locally());
    /// assert!(!aiobs::Error::InvalidApiKey.written_locally());
    /// ```
    pub fn written_locally(&self) -> bool {
        matches!(self, Error::Upload { .. })
    }
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
            Error::InvalidApiKey => f.write_str("the aiobs API key is invalid (the usage server answered 401)"),
            Error::RateLimited {
                message,
                tier,
                used,
                limit,
            } => {
                let message = if message.is_empty() { "rate limit exceeded" } else { message };
                write!(f, "{message} (tier: {tier}, used: {used}/{limit})")
            }
            Error::ServerUnreachable { url, reason } => {
                write!(f, "cannot reach the aiobs server at {url}: {reason}")
            }
            Error::ServerStatus {
                url,
                status,
                message,
            } => {
                write!(f, "the aiobs server at {url} answered HTTP {status}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::RemoteDisabled => f.write_str(
                "an aiobs API key was given (option or AIOBS_API_KEY) but aiobs was built without its `remote` feature",
            ),
            Error::Upload { written_to, source } => write!(
                f,
                "the trace was written to {written_to}, but sending it to the aiobs servers failed: {source}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Write { source, .. } => Some(source),
            Error::Export { source } => Some(&**source),
            Error::Upload { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
