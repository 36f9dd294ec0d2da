//! Replaying recorded LLM calls: an aiobs export (this crate's or the Python SDK's) as the
//! fixture of a test that runs offline and answers the same way every time.
//!
//! A [`Cassette`] holds the LLM calls of a file. Given to `UreqMiddleware::replay` or
//! `ReqwestMiddleware::replay`, it answers each LLM request that matches a recorded one with
//! the recorded answer, rebuilt in the provider's wire format (the JSON body, or an SSE stream
//! in the provider's own chunk format when the request asks for a stream; the recorded status
//! and error body for an error), without touching the network. The replayed call is still
//! recorded, with `"replayed": true`, so a replayed run writes a trace too. `aiobs replay FILE`
//! serves the same answers over loopback HTTP to any client.
//!
//! What matches ([`MatchBy`]): by default the same provider, API and model, and the same
//! request as the recorder writes it (the Python SDK's shape: for OpenAI chat, the first three
//! messages' role and content and the other parameters), normalised. A request recorded
//! several times gets its answers in recorded order.
//!
//! ```
//! use aiobs::replay::{Cassette, ReplayError};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("trace.json");
//! # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
//! let cassette = Cassette::load(&path)?;
//! let other = br#"{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}"#;
//! let err = cassette
//!     .answer("POST", "http://localhost/v1/chat/completions", other)
//!     .expect("an OpenAI request")
//!     .unwrap_err();
//! assert!(matches!(err, ReplayError::Unmatched { .. }));
//! assert!(err.to_string().contains("differs at"), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod answer;
mod canon;
mod cassette;
mod error;
mod live;
mod rebuild;

pub use answer::Answer;
pub use cassette::{Cassette, MatchBy};
pub use error::ReplayError;
#[cfg(any(feature = "ureq", feature = "reqwest"))]
pub(crate) use live::recognises;
