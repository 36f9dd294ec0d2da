//! async-openai calls recorded: its client sends through a `reqwest-middleware` client that
//! carries aiobs's `ReqwestMiddleware` (wired in with `Client::with_http_service`). A completion
//! and a stream, inside observed `async fn`s, against a mock OpenAI server on loopback that the
//! example starts itself.
//!
//! ```sh
//! cargo run -p examples --example async_openai
//! ```

use aiobs::providers::ReqwestMiddleware;
use aiobs::{FlushOptions, ObserveOptions, observe};
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

type OpenAi = async_openai::Client<OpenAIConfig>;

/// An async-openai client whose HTTP goes through aiobs's middleware.
fn openai_client(api_base: String) -> OpenAi {
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

fn request(question: &str) -> Result<CreateChatCompletionRequest, OpenAIError> {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content(question)
            .build()?
            .into()])
        .build()
}

#[observe(skip(client))]
async fn complete(client: &OpenAi, question: &str) -> Result<String, OpenAIError> {
    let response = client.chat().create(request(question)?).await?;
    Ok(response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default())
}

#[observe(skip(client))]
async fn stream(client: &OpenAi, question: &str) -> Result<String, OpenAIError> {
    let mut chunks = client.chat().create_stream(request(question)?).await?;
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        for choice in chunk?.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    Ok(text)
}

#[observe(skip(client))]
async fn both(client: &OpenAi, question: &str) -> (String, String) {
    let (a, b) = tokio::join!(complete(client, question), stream(client, question));
    (
        a.unwrap_or_else(|e| e.to_string()),
        b.unwrap_or_else(|e| e.to_string()),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_llm::MockServer::start()?;
    let obs = aiobs::observer();
    obs.observe(ObserveOptions::new().session_name("async-openai"))?;
    let client = openai_client(format!("{}/v1", server.url()));
    let (completed, streamed) = both(&client, "Say hello").await;
    println!("completion: {completed}\nstream:     {streamed}");
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(),
        None => FlushOptions::to_path("target/aiobs/async_openai.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples::print_tree(&path)
}
