//! Runnable examples of aiobs with other crates: `cargo run -p examples-integrations --example
//! agent` (also `providers`, `async_openai`, `tracing_bridge`).
//!
//! Also what they share: [`openai_config`] points async-openai at the examples' mock server
//! (the clients come from `aiobs::providers::async_openai`), [`openai_client_ureq`] sends
//! async-openai's requests through a ureq agent instead of reqwest, and [`print_tree`] (from
//! the `examples` crate) prints a flushed trace as a tree.

use std::io::Read;

use aiobs::providers::UreqMiddleware;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use ureq::http;

pub use examples::print_tree;

/// The async-openai client of the `async_openai` and `agent` examples.
pub type OpenAi = async_openai::Client<OpenAIConfig>;

/// async-openai's configuration for the server at `api_base` (the examples' mock, or where
/// nothing listens when replaying), with a placeholder key.
pub fn openai_config(api_base: impl Into<String>) -> OpenAIConfig {
    OpenAIConfig::new()
        .with_api_base(api_base)
        .with_api_key("sk-example-not-a-key")
}

/// An async-openai client whose HTTP goes through a ureq agent carrying `middleware` (aiobs's
/// [`UreqMiddleware`], recording or replaying): each request async-openai builds is sent by
/// ureq on tokio's blocking pool, in the span of the observed call that made it, and ureq's
/// response is handed back to async-openai as a `reqwest::Response` (its body read whole, a
/// stream included, so async-openai parses the same bytes).
///
/// Error statuses come back as responses, as async-openai expects them (it reads the error
/// body): the agent is built with `http_status_as_error(false)`, and the middleware told so.
pub fn openai_client_ureq(api_base: String, middleware: UreqMiddleware) -> OpenAi {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .middleware(middleware.http_status_as_error(false))
        .build()
        .into();
    let service = tower::service_fn(move |factory: HttpRequestFactory| {
        let agent = agent.clone();
        async move {
            let request = factory.build().await?;
            // The observed call awaiting this request, current on the blocking thread too, so
            // that the middleware records the call under it.
            let context = aiobs::SpanContext::current();
            tokio::task::spawn_blocking(move || context.in_scope(|| send(&agent, request)))
                .await
                .map_err(|e| OpenAIError::Boxed(e.into()))?
        }
    });
    async_openai::Client::with_config(openai_config(api_base)).with_http_service(service)
}

/// Sends a request async-openai built through `agent`; the response as reqwest's.
fn send(agent: &ureq::Agent, request: reqwest::Request) -> Result<reqwest::Response, OpenAIError> {
    let body = match request.body() {
        None => Vec::new(),
        Some(body) => match body.as_bytes() {
            Some(bytes) => bytes.to_vec(),
            None => {
                return Err(OpenAIError::InvalidArgument(
                    "a request body that is a stream can't be sent through ureq here".into(),
                ));
            }
        },
    };
    let mut builder = http::Request::builder()
        .method(request.method().clone())
        .uri(request.url().as_str());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let outgoing = builder
        .body(body)
        .map_err(|e| OpenAIError::Boxed(e.into()))?;
    let response = agent
        .run(outgoing)
        .map_err(|e| OpenAIError::Boxed(e.into()))?;
    let (mut parts, body) = response.into_parts();
    let mut bytes = Vec::new();
    body.into_reader()
        .read_to_end(&mut bytes)
        .map_err(|e| OpenAIError::Boxed(e.into()))?;
    // The response's URL, as reqwest would have it (reqwest keeps it in the extensions).
    if let Ok(with_url) =
        reqwest::ResponseBuilderExt::url(http::Response::builder(), request.url().clone()).body(())
    {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    Ok(reqwest::Response::from(http::Response::from_parts(
        parts, bytes,
    )))
}
