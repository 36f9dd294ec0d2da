//! [`UreqMiddleware`]: every LLM call made through a ureq 3 `Agent` becomes a provider event.

use std::io::{self, Cursor, Read};

use ureq::http::{self, HeaderValue, header};
use ureq::middleware::{Middleware, MiddlewareNext};
use ureq::{Body, Error, RequestExt, SendBody};

use super::http_call::{DEFAULT_BODY_CAP, HttpCall};
use super::replayed;
use crate::replay::Cassette;

/// A ureq 3 middleware that records each request a provider recognises (OpenAI, Gemini, or one
/// registered with [`Collector::register_provider`]) as a provider event, a child of the
/// observed function that made it. Other requests, and every request while no session is
/// active, pass through untouched.
///
/// The caller gets the same bytes as without aiobs: a response of known length is read whole
/// (up to the body cap) and handed back as a body of those bytes, its length kept; a stream
/// (`text/event-stream`, or any body of unknown length) is teed while the caller reads it and
/// recorded when it ends, breaks or is dropped. An error status
/// is recorded with the provider's error message and returned as the agent would return it.
///
/// ```no_run
/// let agent: ureq::Agent = ureq::Agent::config_builder()
///     .middleware(aiobs::providers::UreqMiddleware::new())
///     .build()
///     .into();
/// let answer = agent
///     .post("https://api.openai.com/v1/chat/completions")
///     .header("Authorization", "Bearer sk-...")
///     .send_json(serde_json::json!({
///         "model": "gpt-4o-mini",
///         "messages": [{"role": "user", "content": "Say hi"}],
///     }))?
///     .body_mut()
///     .read_to_string()?;
/// # Ok::<(), ureq::Error>(())
/// ```
///
/// ureq turns an error status into [`Error::StatusCode`] after the middleware chain, so the
/// middleware asks for the response itself, reads the error body, and returns that error when
/// the agent would have: by default it assumes the agent's `http_status_as_error(true)` (ureq's
/// default); for an agent built with `http_status_as_error(false)`, say so with
/// [`UreqMiddleware::http_status_as_error`]. A middleware can't read the agent's settings, nor
/// one request's own `http_status_as_error` set with its `config()`: the middleware's setting
/// applies to every request it records.
///
/// That request-level setting has one cost with TLS: ureq reuses its agent's TLS
/// configuration for a request with its own settings only once a plain request has set it up,
/// so on an HTTPS agent whose every request is recorded each new connection builds its TLS
/// configuration again (pooled connections are reused as usual). An agent built with
/// `http_status_as_error(false)`, and the middleware told so, has no such cost.
///
/// A request body given as a reader (sent chunked without aiobs) is read first and sent with a
/// `Content-Length`; bodies given as bytes, text or JSON are sent exactly as before.
///
/// [`Collector::register_provider`]: crate::Collector::register_provider
#[derive(Debug, Clone)]
pub struct UreqMiddleware {
    cap: usize,
    status_as_error: bool,
    replay: Option<Cassette>,
}

impl Default for UreqMiddleware {
    fn default() -> Self {
        UreqMiddleware::new()
    }
}

impl UreqMiddleware {
    /// A middleware with the default body cap ([`DEFAULT_BODY_CAP`], 1 MiB), for an agent that
    /// turns error statuses into errors (ureq's default).
    pub fn new() -> UreqMiddleware {
        UreqMiddleware {
            cap: DEFAULT_BODY_CAP,
            status_as_error: true,
            replay: None,
        }
    }

    /// A middleware that answers LLM requests from `cassette` instead of the network: each
    /// request a provider recognises gets its recorded answer (a JSON body, an SSE stream if
    /// the request asks for one, or the recorded error status, returned as
    /// [`Error::StatusCode`] as the agent would), and is recorded as an event with
    /// `"replayed": true` while a session is active. A request the cassette can't answer gets
    /// [`Error::Other`] holding the [`ReplayError`](crate::replay::ReplayError), which names
    /// the closest recorded request. Other requests go to the network untouched.
    ///
    /// ```
    /// use aiobs::providers::UreqMiddleware;
    /// use aiobs::replay::Cassette;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trace.json");
    /// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
    /// let agent: ureq::Agent = ureq::Agent::config_builder()
    ///     .middleware(UreqMiddleware::replay(Cassette::load(&path)?))
    ///     .build()
    ///     .into();
    /// // Nothing listens there: the answer comes from the file.
    /// let text = agent
    ///     .post("http://127.0.0.1:9/v1/chat/completions")
    ///     .send_json(serde_json::json!({
    ///         "model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
    ///         "messages": [{"role": "system", "content": "You are terse."},
    ///                      {"role": "user", "content": "Write a short note about tracing."}],
    ///     }))?
    ///     .body_mut()
    ///     .read_to_string()?;
    /// assert!(text.contains("aiobs records LLM calls and traced functions."));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(cassette: Cassette) -> UreqMiddleware {
        UreqMiddleware {
            replay: Some(cassette),
            ..UreqMiddleware::new()
        }
    }

    /// Bodies larger than `bytes` are passed on untouched and not recorded (the event says so).
    pub fn body_cap(mut self, bytes: usize) -> UreqMiddleware {
        self.cap = bytes;
        self
    }

    /// What the agent's `http_status_as_error` is set to (the middleware can't read it).
    pub fn http_status_as_error(mut self, yes: bool) -> UreqMiddleware {
        self.status_as_error = yes;
        self
    }
}

impl Middleware for UreqMiddleware {
    fn handle(
        &self,
        request: http::Request<SendBody>,
        next: MiddlewareNext,
    ) -> Result<http::Response<Body>, Error> {
        let uri = request.uri().to_string();
        if let Some(cassette) = &self.replay {
            if replayed::is_llm_request(request.method().as_str(), &uri) {
                return self.replay_answer(cassette, request, &uri);
            }
            return next.handle(request);
        }
        let Some(mut call) = HttpCall::begin(request.method().as_str(), &uri) else {
            return next.handle(request);
        };
        call.body_cap(self.cap);

        let (mut parts, body) = request.into_parts();
        let mut sent = Vec::new();
        if let Err(e) = body.into_reader().read_to_end(&mut sent) {
            call.fail(&format!(
                "ConnectionError: reading the request body failed: {e}"
            ));
            return Err(Error::Io(e));
        }
        call.request_body(&sent);
        let framed = parts.headers.contains_key(header::CONTENT_LENGTH)
            || parts.headers.contains_key(header::TRANSFER_ENCODING);
        if !framed && !sent.is_empty() {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(sent.len()));
        }
        let body = if sent.is_empty() {
            SendBody::none()
        } else {
            SendBody::from_owned_reader(Cursor::new(sent))
        };
        let request = http::Request::from_parts(parts, body);
        // For an agent that turns error statuses into errors, ask for the response of this
        // request ourselves (to read the error body) and return the error below. An agent
        // that hands error statuses back needs no request-level config.
        let request = if self.status_as_error {
            // The config is there whenever ureq runs a middleware.
            let Some(config) = request.middleware_config() else {
                call.fail("aiobs: the request reached the middleware without its agent");
                return Err(Error::Other(
                    "aiobs::providers::UreqMiddleware was called outside a ureq agent".into(),
                ));
            };
            config.http_status_as_error(false).build()
        } else {
            request
        };

        let response = match next.handle(request) {
            Ok(r) => r,
            Err(e) => {
                call.fail(&transport_error(&e));
                return Err(e);
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        call.response_head(status, content_type);
        let is_error = status >= 400;
        let (parts, body) = response.into_parts();
        let known_length = body.content_length();
        // The reader below already decoded the text (ureq's `charset` feature), so the body
        // handed on says nothing of a charset: it is read as is.
        let mime = body.mime_type().map(str::to_owned);
        let builder = || match &mime {
            Some(m) => Body::builder().mime_type(m.as_str()),
            None => Body::builder(),
        };
        let mut reader = body.into_reader();

        // A stream, or a body of unknown length that may be one (Gemini's JSON-array stream),
        // is teed as the caller reads it; an error the agent returns is read here first.
        let error_returned = is_error && self.status_as_error;
        if !error_returned && (call.is_stream() || known_length.is_none()) {
            let tee = Tee {
                inner: Box::new(reader),
                call: Some(call),
                expected: known_length,
                seen: 0,
            };
            return Ok(http::Response::from_parts(parts, builder().reader(tee)));
        }

        // Read the body whole, up to the cap (one byte more tells whether it is over).
        let mut head = Vec::new();
        let limit = u64::try_from(self.cap)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        if let Err(e) = (&mut reader).take(limit).read_to_end(&mut head) {
            call.response_bytes(&head);
            call.fail(&format!("IncompleteRead: {e}"));
            return Err(Error::from(e));
        }
        call.response_bytes(&head);
        if error_returned {
            call.finish();
            return Err(Error::StatusCode(status));
        }
        if head.len() <= self.cap {
            call.finish();
            return Ok(http::Response::from_parts(parts, builder().data(head)));
        }
        // Over the cap: the caller reads what was read, then the rest through the tee, which
        // counts it and records the call at its end.
        let seen = head.len() as u64;
        let tee = Tee {
            inner: Box::new(reader),
            call: Some(call),
            expected: known_length,
            seen,
        };
        let body = builder().reader(Cursor::new(head).chain(tee));
        Ok(http::Response::from_parts(parts, body))
    }
}

impl UreqMiddleware {
    /// The recorded answer to an LLM request, as the agent would return the real one.
    fn replay_answer(
        &self,
        cassette: &Cassette,
        request: http::Request<SendBody>,
        uri: &str,
    ) -> Result<http::Response<Body>, Error> {
        let method = request.method().as_str().to_owned();
        let mut sent = Vec::new();
        request.into_body().into_reader().read_to_end(&mut sent)?;
        let answer = replayed::answer(cassette, &method, uri, &sent, self.cap)
            .map_err(|e| Error::Other(Box::new(e)))?;
        if answer.status >= 400 && self.status_as_error {
            return Err(Error::StatusCode(answer.status));
        }
        let body = Body::builder()
            .mime_type(answer.content_type)
            .data(answer.body);
        http::Response::builder()
            .status(answer.status)
            .header(header::CONTENT_TYPE, answer.content_type)
            .body(body)
            .map_err(Error::from)
    }
}

fn transport_error(e: &Error) -> String {
    match e {
        Error::Timeout(_) => format!("TimeoutError: {e}"),
        _ => format!("ConnectionError: {e}"),
    }
}

/// Reads a response body for the caller and tees it into the call, which is recorded when the
/// body ends (its last byte of a known length, or the end of the stream), fails, or is dropped.
struct Tee {
    inner: Box<dyn Read + Send + Sync>,
    call: Option<HttpCall>,
    /// The body's length, when known: reaching it ends the body even if the caller never
    /// reads again.
    expected: Option<u64>,
    /// Bytes of the body read so far (including any read before the tee).
    seen: u64,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                if let Some(call) = self.call.take() {
                    call.finish();
                }
                Ok(0)
            }
            Ok(n) => {
                self.seen += n as u64;
                if let Some(call) = &mut self.call {
                    call.response_bytes(&buf[..n]);
                }
                if self.expected.is_some_and(|len| self.seen >= len) {
                    if let Some(call) = self.call.take() {
                        call.finish();
                    }
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    if let Some(call) = self.call.take() {
                        call.fail(&format!("IncompleteRead: the stream broke: {e}"));
                    }
                }
                Err(e)
            }
        }
    }
}
