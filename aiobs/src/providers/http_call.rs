//! [`HttpCall`]: one HTTP exchange with an LLM API being recorded, fed by an HTTP client
//! integration as the exchange happens, whatever the client.

use std::fmt;

use super::call::{ProviderCall, recording};
use crate::clock::{self, Instant};
use crate::scrub::url::{scrub_query, scrub_text};
use crate::store::Kind;
use crate::wire::deferred::{Stored, xflag};
use crate::wire::{HttpRequest, find, split_url};

/// Request and response bodies larger than this (1 MiB) are not kept for the event; the call
/// goes through untouched and the event says what was left out.
pub const DEFAULT_BODY_CAP: usize = 1 << 20;

/// An HTTP exchange with an LLM API being recorded: started before the request is sent, fed
/// the response as it arrives, recorded as one provider event when it ends (or when it is
/// dropped: a response or stream dropped half-way is recorded as cancelled, its duration
/// ending then).
///
/// On the caller's thread it only copies bytes (up to the body cap); the bodies are parsed and
/// the provider turns them into the event's fields when the collector flushes.
///
/// ```
/// use aiobs::providers::HttpCall;
/// use aiobs::{Collector, ObserveOptions};
/// let obs = Collector::new();
/// let _scope = obs.set_default();
/// obs.observe(ObserveOptions::new())?;
/// let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
/// let mut call = HttpCall::start("POST", "https://api.openai.com/v1/chat/completions", body)
///     .expect("an OpenAI endpoint, and a session is active");
/// call.response_head(200, Some("application/json"));
/// call.response_bytes(br#"{"id":"chatcmpl-1","choices":[{"message":{"content":"hello"}}]}"#);
/// call.finish();
/// # Ok::<(), aiobs::Error>(())
/// ```
pub struct HttpCall {
    call: Option<ProviderCall>,
    provider: u32,
    name: String,
    api: String,
    method: String,
    path: String,
    query: Option<String>,
    request: Vec<u8>,
    request_total: u64,
    request_note: String,
    status: Option<u16>,
    streaming: bool,
    response: Vec<u8>,
    response_total: u64,
    cap: usize,
    first_chunk: Option<Instant>,
    replayed: bool,
}

impl fmt::Debug for HttpCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCall")
            .field("provider", &self.name)
            .field("api", &self.api)
            .field("path", &self.path)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl HttpCall {
    /// Starts recording `method url` with the request `body`, if a session is active in the
    /// current collector and a provider (registered, else built-in) knows the endpoint.
    pub fn start(method: &str, url: &str, body: &[u8]) -> Option<HttpCall> {
        HttpCall::start_with_cap(method, url, body, DEFAULT_BODY_CAP)
    }

    /// [`HttpCall::start`] with another body size cap.
    pub fn start_with_cap(method: &str, url: &str, body: &[u8], cap: usize) -> Option<HttpCall> {
        let mut call = HttpCall::begin(method, url)?;
        call.body_cap(cap);
        call.request_body(body);
        Some(call)
    }

    /// Starts recording `method url` if a session is active and a provider knows the endpoint,
    /// before the request body is known: a client that must read the body to see it calls
    /// this first, so unrelated requests are left alone. Set the body with
    /// [`HttpCall::request_body`].
    pub fn begin(method: &str, url: &str) -> Option<HttpCall> {
        let (collector, session) = recording()?;
        let (path, query) = split_url(url);
        let query = query.and_then(scrub_query).map(|q| q.into_owned());
        let http = HttpRequest {
            method,
            path,
            query: query.as_deref(),
        };
        let (provider, name, api) = find(&collector.providers(), &http)?;
        let call = ProviderCall::begin_in(collector, session, "", "", None);
        Some(HttpCall {
            call: Some(call),
            provider,
            name,
            api,
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            request: Vec::new(),
            request_total: 0,
            request_note: String::new(),
            status: None,
            streaming: false,
            response: Vec::new(),
            response_total: 0,
            cap: DEFAULT_BODY_CAP,
            first_chunk: None,
            replayed: false,
        })
    }

    /// Sets the cap on the bytes of a body that are kept for the event (default
    /// [`DEFAULT_BODY_CAP`]); call it before the bodies are given (or use
    /// [`HttpCall::start_with_cap`]).
    pub fn body_cap(&mut self, bytes: usize) {
        self.cap = bytes;
    }

    /// The request body, as sent.
    pub fn request_body(&mut self, body: &[u8]) {
        self.request_total = body.len() as u64;
        self.request.clear();
        if body.len() <= self.cap {
            self.request.extend_from_slice(body);
        }
    }

    /// The request body can't be seen (a stream); the event says `why`.
    pub fn request_unreadable(&mut self, why: &str) {
        self.request_note = why.to_owned();
    }

    /// The provider's name and the API, such as `("openai", "chat.completions.create")`.
    pub fn api(&self) -> (&str, &str) {
        (&self.name, &self.api)
    }

    /// The response's status and content type arrived. A `text/event-stream` response is
    /// read as a stream of events.
    pub fn response_head(&mut self, status: u16, content_type: Option<&str>) {
        self.status = Some(status);
        self.streaming =
            content_type.is_some_and(|t| t.to_ascii_lowercase().contains("text/event-stream"));
    }

    /// Whether the response is a stream of server-sent events.
    pub fn is_stream(&self) -> bool {
        self.streaming
    }

    /// The next bytes of the response body, as the caller receives them.
    pub fn response_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.first_chunk.is_none() {
            self.first_chunk = Some(clock::now());
        }
        self.response_total = self.response_total.saturating_add(bytes.len() as u64);
        if self.response_total <= self.cap as u64 {
            self.response.extend_from_slice(bytes);
        } else if !self.response.is_empty() {
            self.response = Vec::new(); // over the cap: the total alone is kept
        }
    }

    /// The answer comes from a recording (`aiobs::replay`), not the network: the event says
    /// `"replayed": true`.
    #[cfg(any(feature = "ureq", feature = "reqwest"))]
    pub(crate) fn replayed(&mut self) {
        self.replayed = true;
    }

    /// The response body was read to its end: records the event.
    pub fn finish(mut self) {
        self.record("", xflag::ENDED);
    }

    /// The exchange failed (the connection broke, a timeout): records the event with
    /// `"<ErrorType>: <message>"`, secrets such as `key=` values removed.
    pub fn fail(mut self, error: &str) {
        let text = scrub_text(error);
        self.record(&text, 0);
    }

    fn record(&mut self, failure: &str, flags: u8) {
        let Some(call) = self.call.take() else {
            return;
        };
        let end = clock::now();
        let stored = Stored {
            provider: self.provider,
            name: &self.name,
            api: &self.api,
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref().unwrap_or(""),
            request: &self.request,
            request_total: self.request_total,
            request_note: &self.request_note,
            status: self.status.unwrap_or(0),
            flags: flags
                | if self.streaming { xflag::STREAM } else { 0 }
                | if self.replayed { xflag::REPLAYED } else { 0 },
            response: &self.response,
            response_total: self.response_total,
            failure,
            first_chunk_ms: self
                .first_chunk
                .filter(|_| self.streaming)
                .map(|t| clock::duration_ms(call.start_time(), t)),
            cap: self.cap as u64,
        };
        let (mut head, mut mid, mut tail) = (Vec::new(), Vec::new(), Vec::new());
        call.push(
            Kind::Exchange,
            0,
            &stored.pieces(&mut head, &mut mid, &mut tail),
            end,
        );
    }
}

impl Drop for HttpCall {
    fn drop(&mut self) {
        if self.call.is_some() {
            let what = if self.streaming {
                "cancelled: the stream was dropped before it finished"
            } else if self.status.is_some() {
                "cancelled: the response was dropped before it was read to the end"
            } else {
                "cancelled: the call was dropped before it was answered"
            };
            self.record(what, xflag::DROPPED);
        }
    }
}
