//! One error type for the command: a message that names the file and, for JSON errors, the
//! place in it.

use std::fmt;
use std::path::Path;

/// What went wrong, as one line: `FILE:LINE:COLUMN: message` or `FILE: message`.
#[derive(Debug)]
pub struct Error {
    message: String,
    broken_pipe: bool,
}

impl Error {
    /// An error about `file`.
    pub fn in_file(file: &Path, message: impl fmt::Display) -> Error {
        Error {
            message: format!("{}: {message}", file.display()),
            broken_pipe: false,
        }
    }

    /// An error not tied to one file.
    pub fn new(message: impl fmt::Display) -> Error {
        Error {
            message: message.to_string(),
            broken_pipe: false,
        }
    }

    /// A serde_json error while reading `file`, with its line and column.
    pub fn json(file: &Path, err: &serde_json::Error) -> Error {
        let message = json_message(err);
        if err.line() == 0 {
            return Error::in_file(file, message);
        }
        Error {
            message: format!(
                "{}:{}:{}: {message}",
                file.display(),
                err.line(),
                err.column()
            ),
            broken_pipe: false,
        }
    }

    /// Whether this error is a closed output pipe (the reader went away: not a failure).
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl From<std::io::Error> for Error {
    /// Errors writing the output (a file is named by the caller where one is involved).
    fn from(err: std::io::Error) -> Error {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return Error {
                message: "the output was closed".to_owned(),
                broken_pipe: true,
            };
        }
        Error::new(format!("cannot write the output: {err}"))
    }
}

/// serde_json's message without its trailing " at line L column C" (said in front instead),
/// and with the end of input called what it is here: a truncated file.
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let text = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    if err.classify() == serde_json::error::Category::Eof {
        format!("truncated file: {text}")
    } else {
        text
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
