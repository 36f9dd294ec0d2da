//! [`ReplayError`]: what can go wrong loading a cassette or answering from it.

use std::fmt;

/// Why a cassette could not be loaded, or a request could not be answered from it. Each names
/// the file and, for a request, what was asked and what the file holds that comes closest.
///
/// ```
/// let err = aiobs::replay::Cassette::load("no/such/trace.json").unwrap_err();
/// assert!(err.to_string().starts_with("no/such/trace.json: "));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReplayError {
    /// The file could not be read (missing, a directory, no permission).
    Read {
        /// The file, as given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not an aiobs export: not JSON, truncated, or without `events`.
    Parse {
        /// The file, as given.
        file: String,
        /// What is wrong, with the line and column where serde_json knows them.
        reason: String,
    },
    /// The file has no recorded LLM calls to answer with.
    NoCalls {
        /// The file, as given.
        file: String,
    },
    /// No recorded call matches the request (or every one that does was answered already).
    Unmatched {
        /// The file the cassette was loaded from.
        file: String,
        /// The request: its provider, API and model, as `openai chat.completions.create
        /// (model "gpt-4o-mini")`.
        request: String,
        /// Why, with the closest recorded call and the first place where the two differ.
        detail: String,
    },
    /// The matching recorded call ended without an answer to give (a connection error, a
    /// timeout, a stream dropped by its reader), or its response can't be rebuilt.
    Unanswerable {
        /// The file the cassette was loaded from.
        file: String,
        /// Which call: `call 3 (openai chat.completions.create)`.
        call: String,
        /// Why.
        reason: String,
    },
    /// A strict cassette was finished with recorded calls never asked for.
    Unused {
        /// The file the cassette was loaded from.
        file: String,
        /// The calls left, one description each.
        calls: Vec<String>,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Read { file, reason } => write!(f, "{file}: cannot read it: {reason}"),
            ReplayError::Parse { file, reason } => {
                write!(f, "{file}: not an aiobs export: {reason}")
            }
            ReplayError::NoCalls { file } => write!(
                f,
                "{file}: no recorded LLM calls to replay (its \"events\" list is empty)"
            ),
            ReplayError::Unmatched {
                file,
                request,
                detail,
            } => write!(f, "{file}: no recorded answer for {request}: {detail}"),
            ReplayError::Unanswerable { file, call, reason } => {
                write!(f, "{file}: {call} can't be replayed: {reason}")
            }
            ReplayError::Unused { file, calls } => {
                write!(
                    f,
                    "{file}: {} recorded call{} never replayed:",
                    calls.len(),
                    if calls.len() == 1 { " was" } else { "s were" }
                )?;
                for call in calls {
                    write!(f, "\n  {call}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ReplayError {}
