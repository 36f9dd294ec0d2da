//! Runnable examples of aiobs with other crates: `cargo run -p examples-integrations --example
//! agent` (also `providers`, `async_openai`, `tracing_bridge`).
//!
//! Also what they share: [`openai_client`] wires aiobs's middleware into async-openai, and
//! [`print_tree`] (from the `examples` crate) prints a flushed trace as a tree.

use aiobs::providers::ReqwestMiddleware;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;

pub use examples::print_tree;

/// The async-openai client of the `async_openai` and `agent` examples.
pub type OpenAi = async_openai::Client<OpenAIConfig>;

/// An async-openai client whose HTTP goes through aiobs's middleware: a `reqwest-middleware`
/// client carrying [`ReqwestMiddleware`], handed to async-openai with
/// `Client::with_http_service`, so that every call is recorded as an OpenAI provider event.
pub fn openai_client(api_base: String) -> OpenAi {
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ReqwestMiddleware::new())
        .build();
    let service = tower::service_fn(move |factory: HttpRequestFactory| {
        let http = http.clone();
        async move {
            let request = factory.build().await?;
            http.execute(request).await.map_err(|e| match e {
                reqwest_middleware::Error::Reqwest(e) => OpenAIError::Reqwest(e),
                other => OpenAIError::Boxed(other.into()),
            })
        }
    });
    let config = OpenAIConfig::new()
        .with_api_base(api_base)
        .with_api_key("sk-example-not-a-key");
    async_openai::Client::with_config(config).with_http_service(service)
}
