//! async-openai clients whose HTTP goes through [`ReqwestMiddleware`], so that every call they
//! make (chat completions and their streams, embeddings, responses) is recorded as a provider
//! event, a child of the observed function that awaited it.
//!
//! [`client`] is all most programs need: it stands for `async_openai::Client::with_config`,
//! retries included. [`client_with`] takes the `reqwest-middleware` client to send with (a
//! replaying middleware, a `reqwest::Client` of your own, other middlewares), and
//! [`HttpService`] is the tower service behind both, to put under tower layers of your own
//! (other retries, a timeout: each attempt is an event).
//!
//! ```
//! use async_openai::config::OpenAIConfig;
//! use async_openai::types::chat::{
//!     ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
//! };
//!
//! #[aiobs::observe(skip(client))]
//! async fn ask(
//!     client: &async_openai::Client<OpenAIConfig>,
//!     question: &str,
//! ) -> Result<String, async_openai::error::OpenAIError> {
//!     let request = CreateChatCompletionRequestArgs::default()
//!         .model("gpt-4o-mini")
//!         .messages([ChatCompletionRequestUserMessageArgs::default()
//!             .content(question)
//!             .build()?
//!             .into()])
//!         .build()?;
//!     let response = client.chat().create(request).await?;
//!     Ok(response.choices[0].message.content.clone().unwrap_or_default())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let obs = aiobs::Collector::new();
//! # let _scope = obs.set_default();
//! # let server = mock_llm::MockServer::start()?; // a mock OpenAI on loopback
//! # let config = OpenAIConfig::new().with_api_base(format!("{}/v1", server.url()));
//! obs.observe(aiobs::ObserveOptions::new())?;
//! let client = aiobs::providers::async_openai::client(config);
//! let answer = ask(&client, "Say hi").await?;
//! # assert_eq!(answer, "Hello from the mock.");
//! # obs.end();
//! # let dir = tempfile::tempdir()?;
//! # obs.flush(aiobs::FlushOptions::to_path(dir.path().join("trace.json")))?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::async_openai::config::Config;
use ::async_openai::error::OpenAIError;
use ::async_openai::middleware::HttpRequestFactory;
use ::async_openai::middleware::retry::{OpenAIRetry, OpenAIRetryLayer};
use reqwest_middleware::ClientWithMiddleware;
use tower::Layer;

use super::reqwest::ReqwestMiddleware;

/// An async-openai client for `config` (an `OpenAIConfig`, an `AzureConfig`, a config of your
/// own) that sends through a new `reqwest::Client` carrying a [`ReqwestMiddleware`]: every call
/// it makes while a session is active is recorded. It retries as
/// `async_openai::Client::with_config` does (async-openai's `OpenAIRetryLayer`: up to 3 retries
/// of a 429, a 5xx or a failed connection, with backoff), and each attempt is an event of its
/// own.
///
/// ```
/// use async_openai::config::OpenAIConfig;
///
/// // The API key from OPENAI_API_KEY, as `OpenAIConfig::new()` reads it.
/// let client = aiobs::providers::async_openai::client(OpenAIConfig::new());
/// // An OpenAI-compatible server: Azure, vLLM, Ollama (the provider matches by path).
/// let local = aiobs::providers::async_openai::client(
///     OpenAIConfig::new().with_api_base("http://localhost:11434/v1"),
/// );
/// ```
///
/// # Panics
///
/// As `reqwest::Client::new()` (and `async_openai::Client::with_config`): if the TLS backend
/// can't be initialised or the resolver can't load the system configuration. [`client_with`]
/// takes a client you built yourself, having handled that error.
pub fn client<C: Config>(config: C) -> ::async_openai::Client<C> {
    let http = reqwest::Client::new();
    // The same reqwest client builds async-openai's requests and sends them: one pool.
    ::async_openai::Client::build(http.clone(), config)
        .with_http_service(retrying(ReqwestMiddleware::new().client_with(http)))
}

/// An async-openai client for `config` that sends through `http`, a `reqwest-middleware`
/// client that should carry a [`ReqwestMiddleware`] (else nothing is recorded): say one that
/// replays a recorded trace, one with a `reqwest::Client` of your own (proxy, timeouts), or one
/// with other middlewares beside aiobs's. It retries as [`client`] does; for other retries, or
/// none, give async-openai an [`HttpService`] under layers of your choice.
///
/// ```
/// use aiobs::providers::ReqwestMiddleware;
/// use async_openai::config::OpenAIConfig;
/// use async_openai::types::chat::CreateChatCompletionRequest;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("trace.json");
/// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
///
/// // Answers from a recorded trace, offline: nothing listens on port 9.
/// let cassette = aiobs::replay::Cassette::load(&path)?;
/// let client = aiobs::providers::async_openai::client_with(
///     OpenAIConfig::new().with_api_base("http://127.0.0.1:9/v1"),
///     ReqwestMiddleware::replay(cassette).client(),
/// );
/// let request: CreateChatCompletionRequest = serde_json::from_str(
///     r#"{"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
///         "messages": [{"role": "system", "content": "You are terse."},
///                      {"role": "user", "content": "Write a short note about tracing."}]}"#,
/// )?;
/// let response = client.chat().create(request).await?;
/// assert_eq!(
///     response.choices[0].message.content.as_deref(),
///     Some("aiobs records LLM calls and traced functions.")
/// );
/// # Ok(()) }
/// ```
pub fn client_with<C: Config>(config: C, http: ClientWithMiddleware) -> ::async_openai::Client<C> {
    ::async_openai::Client::with_config(config).with_http_service(retrying(http))
}

/// [`HttpService`] under the retry layer async-openai's own client uses.
fn retrying(http: ClientWithMiddleware) -> OpenAIRetry<HttpService> {
    OpenAIRetryLayer::default().layer(HttpService::new(http))
}

/// The tower service that [`client`] and [`client_with`] give async-openai
/// (`Client::with_http_service`, under its retry layer): it builds each request and executes it with a
/// `reqwest-middleware` client. A `reqwest_middleware::Error::Reqwest` becomes
/// `OpenAIError::Reqwest`, as async-openai's own errors are; a middleware's error (an
/// unmatched request of a replay) becomes `OpenAIError::Boxed`, holding the
/// `reqwest_middleware::Error`.
///
/// It doesn't retry: put it under tower layers of your own (each attempt of a retry is an
/// event):
///
/// ```
/// use std::time::Duration;
///
/// use aiobs::providers::ReqwestMiddleware;
/// use aiobs::providers::async_openai::HttpService;
/// use async_openai::config::OpenAIConfig;
/// use async_openai::middleware::retry::OpenAIRetryLayer;
///
/// let service = tower::ServiceBuilder::new()
///     .timeout(Duration::from_secs(120))
///     .layer(OpenAIRetryLayer::new(5))
///     .service(HttpService::new(ReqwestMiddleware::new().client()));
/// let client = async_openai::Client::with_config(OpenAIConfig::new()).with_http_service(service);
/// ```
#[derive(Debug, Clone)]
pub struct HttpService {
    http: ClientWithMiddleware,
}

impl HttpService {
    /// A service that executes async-openai's requests with `http`.
    pub fn new(http: ClientWithMiddleware) -> HttpService {
        HttpService { http }
    }
}

impl tower::Service<HttpRequestFactory> for HttpService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        // reqwest's client takes any number of requests at once.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            http.execute(request).await.map_err(|e| match e {
                reqwest_middleware::Error::Reqwest(e) => OpenAIError::Reqwest(e),
                other => OpenAIError::Boxed(other.into()),
            })
        })
    }
}
