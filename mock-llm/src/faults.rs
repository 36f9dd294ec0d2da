//! Faults injected in place of an answer: a status, a delay, a closed connection; queued per path.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// What the next request to a path gets instead of its normal answer, queued with
/// [`MockServer::inject`](crate::MockServer::inject).
///
/// ```
/// use std::time::Duration;
/// use mock_llm::{Fault, MockServer};
///
/// let server = MockServer::start()?;
/// server.inject("/v1/traces", Fault::Status(503, r#"{"success":false}"#.into()));
/// server.inject("/v1/traces", Fault::Delay(Duration::from_millis(50)));
/// server.inject("/v1/usage", Fault::Close);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with this body (`Content-Type: application/json`), whatever the
    /// request was; the request has no other effect (nothing is stored or counted).
    Status(u16, String),
    /// Sleep this long, then answer normally (for client timeouts). The request takes effect
    /// after the sleep, even if the client gave up meanwhile, as on a slow real server. Other
    /// connections are served meanwhile; dropping the server ends the sleep, and the connection
    /// is closed without an answer.
    Delay(Duration),
    /// Close the connection without answering (the client reads end of stream where it
    /// expected a status line). The request has no other effect.
    Close,
}

/// The faults waiting for their request, first in first out, by request path.
#[derive(Debug, Default)]
pub(crate) struct Faults(HashMap<String, VecDeque<Fault>>);

impl Faults {
    pub(crate) fn push(&mut self, path: &str, fault: Fault) {
        self.0.entry(path.to_owned()).or_default().push_back(fault);
    }

    /// The fault for a request to `path`, if one is waiting; it is used up.
    pub(crate) fn take(&mut self, path: &str) -> Option<Fault> {
        let queue = self.0.get_mut(path)?;
        let fault = queue.pop_front();
        if queue.is_empty() {
            self.0.remove(path);
        }
        fault
    }
}
