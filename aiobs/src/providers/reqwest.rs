//! [`ReqwestMiddleware`]: every LLM call made through a `reqwest_middleware` client becomes a
//! provider event, on any async runtime.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body as HttpBody, Frame, SizeHint};
use reqwest::header;
use reqwest_middleware::{Middleware, Next};

use super::http_call::{DEFAULT_BODY_CAP, HttpCall};
use super::replayed;
use crate::replay::Cassette;

/// A [`reqwest_middleware`] middleware that records each request a provider recognises
/// (OpenAI, Gemini, or one registered with [`Collector::register_provider`]) as a provider
/// event, a child of the observed function (sync or `async`) that made it. Other requests, and
/// every request while no session is active, pass through untouched.
///
/// The response reaches the caller unchanged: status, headers, extensions and body, which is
/// teed while the caller reads it (JSON or a stream alike; its size hint is kept, so
/// `content_length` is too). The event is recorded when the body has been read to its end,
/// when it breaks, or when it is dropped unread (then as cancelled). An error status's body
/// (up to the body cap) is read by the middleware before the response is handed on, so the
/// event holds the provider's message even when the caller drops it unread (a retry of a 429
/// or a 5xx, say).
///
/// [`client`](ReqwestMiddleware::client) makes a client carrying it (the same as
/// `reqwest_middleware::ClientBuilder::new(reqwest::Client::new()).with(middleware).build()`);
/// `ClientBuilder` puts it beside other middlewares.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = aiobs::providers::ReqwestMiddleware::new().client();
/// let answer = client
///     .post("https://api.openai.com/v1/chat/completions")
///     .bearer_auth("sk-...")
///     .body(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}"#)
///     .send()
///     .await?
///     .text()
///     .await?;
/// # Ok(()) }
/// ```
///
/// A request body that is a stream (not bytes) is sent as it is and recorded as unreadable.
///
/// [`Collector::register_provider`]: crate::Collector::register_provider
#[derive(Debug, Clone)]
pub struct ReqwestMiddleware {
    cap: usize,
    replay: Option<Cassette>,
}

impl Default for ReqwestMiddleware {
    fn default() -> Self {
        ReqwestMiddleware::new()
    }
}

impl ReqwestMiddleware {
    /// A middleware with the default body cap ([`DEFAULT_BODY_CAP`], 1 MiB).
    pub fn new() -> ReqwestMiddleware {
        ReqwestMiddleware {
            cap: DEFAULT_BODY_CAP,
            replay: None,
        }
    }

    /// A middleware that answers LLM requests from `cassette` instead of the network: each
    /// request a provider recognises gets its recorded answer (a JSON body, an SSE stream if
    /// the request asks for one, or the recorded error status and body), and is recorded as an
    /// event with `"replayed": true` while a session is active. A request the cassette can't
    /// answer gets [`reqwest_middleware::Error::Middleware`] holding the
    /// [`ReplayError`](crate::replay::ReplayError), which names the closest recorded request.
    /// Other requests go to the network untouched.
    ///
    /// ```
    /// use aiobs::providers::ReqwestMiddleware;
    /// use aiobs::replay::Cassette;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trace.json");
    /// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
    /// let client = ReqwestMiddleware::replay(Cassette::load(&path)?).client();
    /// let request = r#"{"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
    ///     "messages": [{"role": "system", "content": "You are terse."},
    ///                  {"role": "user", "content": "Write a short note about tracing."}]}"#;
    /// // Nothing listens there: the answer comes from the file.
    /// let text = client
    ///     .post("http://127.0.0.1:9/v1/chat/completions")
    ///     .body(request)
    ///     .send()
    ///     .await?
    ///     .text()
    ///     .await?;
    /// assert!(text.contains("aiobs records LLM calls and traced functions."));
    /// # Ok(()) }
    /// ```
    pub fn replay(cassette: Cassette) -> ReqwestMiddleware {
        ReqwestMiddleware {
            replay: Some(cassette),
            ..ReqwestMiddleware::new()
        }
    }

    /// Bodies larger than `bytes` are passed on untouched and not recorded (the event says so).
    pub fn body_cap(mut self, bytes: usize) -> ReqwestMiddleware {
        self.cap = bytes;
        self
    }

    /// A `reqwest-middleware` client carrying this middleware alone, over a new
    /// `reqwest::Client`: send LLM requests with it as with reqwest.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = mock_llm::MockServer::start()?; // a mock OpenAI on loopback
    /// # let base = server.url();
    /// let client = aiobs::providers::ReqwestMiddleware::new().client();
    /// let response = client
    ///     .post(format!("{base}/v1/embeddings"))
    ///     .body(r#"{"model": "text-embedding-3-small", "input": "hi"}"#)
    ///     .send()
    ///     .await?;
    /// assert!(response.status().is_success());
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    ///
    /// As `reqwest::Client::new()`: if the TLS backend can't be initialised or the resolver
    /// can't load the system configuration. [`client_with`](ReqwestMiddleware::client_with)
    /// takes a client you built yourself, having handled that error.
    pub fn client(self) -> reqwest_middleware::ClientWithMiddleware {
        self.client_with(reqwest::Client::new())
    }

    /// A `reqwest-middleware` client carrying this middleware alone, over `client` (with your
    /// timeouts, proxy, default headers).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// let reqwest = reqwest::Client::builder()
    ///     .timeout(Duration::from_secs(120))
    ///     .build()?;
    /// let client = aiobs::providers::ReqwestMiddleware::new().client_with(reqwest);
    /// # Ok(()) }
    /// ```
    pub fn client_with(self, client: reqwest::Client) -> reqwest_middleware::ClientWithMiddleware {
        reqwest_middleware::ClientBuilder::new(client)
            .with(self)
            .build()
    }
}

#[async_trait::async_trait]
impl Middleware for ReqwestMiddleware {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if let Some(cassette) = &self.replay {
            if replayed::is_llm_request(req.method().as_str(), req.url().as_str()) {
                return self.replay_answer(cassette, &req);
            }
            return next.run(req, extensions).await;
        }
        let Some(mut call) = HttpCall::begin(req.method().as_str(), req.url().as_str()) else {
            return next.run(req, extensions).await;
        };
        call.body_cap(self.cap);
        match req.body() {
            Some(body) => match body.as_bytes() {
                Some(bytes) => call.request_body(bytes),
                None => call.request_unreadable("the request body is a stream"),
            },
            None => call.request_body(&[]),
        }
        let response = match next.run(req, extensions).await {
            Ok(r) => r,
            Err(e) => {
                let kind = match &e {
                    reqwest_middleware::Error::Reqwest(r) if r.is_timeout() => "TimeoutError",
                    reqwest_middleware::Error::Reqwest(_) => "ConnectionError",
                    reqwest_middleware::Error::Middleware(_) => "MiddlewareError",
                };
                call.fail(&format!("{kind}: {e}"));
                return Err(e);
            }
        };
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        call.response_head(response.status().as_u16(), content_type);
        let url = response.url().clone();
        let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        // Keep the response's URL (reqwest carries it beside the `http` parts).
        if let Ok(with_url) =
            reqwest::ResponseBuilderExt::url(http::Response::builder(), url).body(())
        {
            parts.extensions.extend(with_url.into_parts().0.extensions);
        }
        let mut tee = TeeBody {
            inner: body,
            call: Some(call),
            read_ahead: None,
        };
        // An error's body holds the provider's message, and callers often drop it unread: a
        // retry layer that retries a 429 or a 5xx, a client that only looks at the status.
        // It is read here, up to the body cap, so the event has the message either way.
        if parts.status.as_u16() >= 400 {
            tee.read_ahead(self.cap).await?;
        }
        let teed = http::Response::from_parts(parts, reqwest::Body::wrap(tee));
        Ok(reqwest::Response::from(teed))
    }
}

impl ReqwestMiddleware {
    /// The recorded answer to an LLM request, as a response from the server would be.
    fn replay_answer(
        &self,
        cassette: &Cassette,
        req: &reqwest::Request,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let body = match req.body() {
            None => &[][..],
            Some(body) => body.as_bytes().ok_or_else(|| {
                reqwest_middleware::Error::middleware(StreamedRequest(req.url().to_string()))
            })?,
        };
        let answer = replayed::answer(
            cassette,
            req.method().as_str(),
            req.url().as_str(),
            body,
            self.cap,
        )
        .map_err(reqwest_middleware::Error::middleware)?;
        let builder =
            reqwest::ResponseBuilderExt::url(http::Response::builder(), req.url().clone())
                .status(answer.status)
                .header(header::CONTENT_TYPE, answer.content_type)
                .header(header::CONTENT_LENGTH, answer.body.len());
        let response = builder
            .body(reqwest::Body::from(answer.body))
            .map_err(reqwest_middleware::Error::middleware)?;
        Ok(reqwest::Response::from(response))
    }
}

/// A replay can't match a request whose body is a stream: it can't be read without sending.
#[derive(Debug)]
struct StreamedRequest(String);

impl std::fmt::Display for StreamedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "aiobs replay: the body of the request to {} is a stream, which a replay can't match",
            self.0
        )
    }
}

impl std::error::Error for StreamedRequest {}

/// A response body that tees what the caller reads into the call, recorded at its end.
struct TeeBody {
    inner: reqwest::Body,
    call: Option<HttpCall>,
    /// Bytes already read (and recorded) by [`TeeBody::read_ahead`], given to the caller first.
    read_ahead: Option<bytes::Bytes>,
}

impl TeeBody {
    /// Reads the body, recording it, until its end or until `cap` bytes are in hand; what
    /// was read is kept for the caller. A body that breaks fails the call and is the error.
    async fn read_ahead(&mut self, cap: usize) -> reqwest_middleware::Result<()> {
        let mut held = bytes::BytesMut::new();
        let mut ended = self.inner.is_end_stream();
        while held.len() <= cap && !ended {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut self.inner).poll_frame(cx)).await;
            match frame {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        if let Some(call) = &mut self.call {
                            call.response_bytes(data);
                        }
                        held.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => {
                    if let Some(call) = self.call.take() {
                        call.fail(&format!("IncompleteRead: the body broke: {e}"));
                    }
                    return Err(reqwest_middleware::Error::Reqwest(e));
                }
                None => ended = true,
            }
            ended |= self.inner.is_end_stream();
        }
        if ended {
            if let Some(call) = self.call.take() {
                call.finish();
            }
        }
        self.read_ahead = Some(held.freeze());
        Ok(())
    }
}

impl HttpBody for TeeBody {
    type Data = bytes::Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, reqwest::Error>>> {
        let this = &mut *self;
        if let Some(data) = this.read_ahead.take().filter(|d| !d.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(call), Some(data)) = (&mut this.call, frame.data_ref()) {
                    call.response_bytes(data);
                }
                // Readers that stop at `is_end_stream` never poll for the end: record now.
                if this.inner.is_end_stream() {
                    if let Some(call) = this.call.take() {
                        call.finish();
                    }
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(call) = this.call.take() {
                    call.fail(&format!("IncompleteRead: the body broke: {e}"));
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.finish();
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.read_ahead.as_ref().is_none_or(|d| d.is_empty()) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let ahead = self.read_ahead.as_ref().map_or(0, |d| d.len() as u64);
        let rest = self.inner.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + ahead);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + ahead);
        }
        hint
    }
}
