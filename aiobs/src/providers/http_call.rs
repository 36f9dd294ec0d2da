//! [`HttpCall`]: one HTTP exchange with an LLM API being recorded, fed by an HTTP client
//! integration as the exchange happens, whatever the client.

use std::fmt;

use super::call::{EventFields, ProviderCall, recording};
use super::json::parse_body;
use super::sse::{SseEvent, SseParser};
use super::{Body, Exchange, HttpRequest, ProviderRef, find, scrub_query, scrub_text, split_url};
use crate::clock::{self, Instant};

/// Request and response bodies larger than this (1 MiB) are not read for the event; the call
/// goes through untouched and the event says what was left out.
pub const DEFAULT_BODY_CAP: usize = 1 << 20;

/// An HTTP exchange with an LLM API being recorded: started before the request is sent, fed
/// the response as it arrives, recorded as one provider event when it ends (or when it is
/// dropped: a response or stream dropped half-way is recorded as cancelled, its duration
/// ending then).
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
    provider: ProviderRef,
    api: String,
    method: String,
    path: String,
    query: Option<String>,
    request: Body,
    status: Option<u16>,
    streaming: bool,
    sse: SseParser,
    events: Vec<SseEvent>,
    raw: Vec<u8>,
    received: usize,
    cap: usize,
    started: Instant,
    first_chunk: Option<Instant>,
}

impl fmt::Debug for HttpCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCall")
            .field("provider", &self.provider.get().name())
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
        let mut call = HttpCall::begin(method, url)?;
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
        let (provider, api) = find(&collector.providers(), &http)?;
        let call = ProviderCall::begin_in(collector, session, provider.get().name(), &api, None);
        Some(HttpCall {
            started: clock::now(),
            call: Some(call),
            provider,
            api,
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            request: Body::Empty,
            status: None,
            streaming: false,
            sse: SseParser::default(),
            events: Vec::new(),
            raw: Vec::new(),
            received: 0,
            cap: DEFAULT_BODY_CAP,
            first_chunk: None,
        })
    }

    /// Sets the cap on the bytes of a body that are read for the event (default
    /// [`DEFAULT_BODY_CAP`]); call it before the bodies are given.
    pub fn body_cap(&mut self, bytes: usize) {
        self.cap = bytes;
    }

    /// The request body, as sent.
    pub fn request_body(&mut self, body: &[u8]) {
        self.request = parse_body(body, self.cap);
    }

    /// The request body can't be seen (a stream); the event says `why`.
    pub fn request_unreadable(&mut self, why: &str) {
        self.request = Body::Unreadable(why.to_owned());
    }

    /// The provider's name and the API, such as `("openai", "chat.completions.create")`.
    pub fn api(&self) -> (&str, &str) {
        (self.provider.get().name(), &self.api)
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
        self.received = self.received.saturating_add(bytes.len());
        if self.streaming {
            if self.received <= self.cap {
                self.sse.feed(bytes, &mut self.events);
            }
        } else if self.received <= self.cap {
            self.raw.extend_from_slice(bytes);
        } else {
            self.raw = Vec::new();
        }
    }

    /// The response body was read to its end: records the event.
    pub fn finish(mut self) {
        self.record(None, true);
    }

    /// The exchange failed (the connection broke, a timeout): records the event with
    /// `"<ErrorType>: <message>"`, secrets such as `key=` values removed.
    pub fn fail(mut self, error: &str) {
        let text = scrub_text(error);
        self.record(Some(&text), false);
    }

    fn record(&mut self, failure: Option<&str>, ended: bool) {
        let Some(call) = self.call.take() else {
            return;
        };
        let end = clock::now();
        let response = if self.received > self.cap {
            Body::Unreadable(format!(
                "body of {} bytes is over the {}-byte cap; not recorded",
                self.received, self.cap
            ))
        } else if self.streaming {
            if ended {
                self.sse.finish(&mut self.events);
            }
            Body::Stream {
                events: std::mem::take(&mut self.events),
                finished: ended,
            }
        } else {
            parse_body(&self.raw, self.cap)
        };
        let exchange = Exchange {
            api: &self.api,
            http: HttpRequest {
                method: &self.method,
                path: &self.path,
                query: self.query.as_deref(),
            },
            request: &self.request,
            status: self.status,
            response: &response,
            response_raw: &self.raw,
            failure,
            first_chunk_ms: self
                .first_chunk
                .filter(|_| self.streaming)
                .map(|t| clock::duration_ms(self.started, t)),
        };
        let mut fields = EventFields::default();
        // A provider that panics costs its event, never the caller's request.
        let provider = self.provider.get();
        let recorded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            provider.record(&exchange, &mut fields);
        }));
        if recorded.is_err() {
            fields = EventFields::default();
            fields.request(&serde_json::Value::Null);
            fields.error(format!(
                "aiobs: the {} provider panicked while recording this call",
                provider.name()
            ));
        }
        call.end(fields, end);
    }
}

impl Drop for HttpCall {
    fn drop(&mut self) {
        if self.call.is_some() {
            if self.streaming
                && self.received <= self.cap
                && self.provider.get().stream_complete(&self.api, &self.events)
            {
                // The reader stopped at the stream's last event: a finished stream.
                self.record(None, true);
                return;
            }
            let what = if self.streaming {
                "cancelled: the stream was dropped before it finished"
            } else if self.status.is_some() {
                "cancelled: the response was dropped before it was read to the end"
            } else {
                "cancelled: the call was dropped before it was answered"
            };
            self.record(Some(what), false);
        }
    }
}
