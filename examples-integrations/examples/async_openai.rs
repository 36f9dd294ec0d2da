//! async-openai calls recorded: `aiobs::providers::async_openai::client(config)` (feature
//! `async-openai`) is async-openai's client sending through aiobs's `ReqwestMiddleware`. A
//! completion and a stream, inside observed `async fn`s, against a mock OpenAI server on
//! loopback that the example starts itself.
//!
//! ```sh
//! cargo run -p examples-integrations --example async_openai
//! ```

use aiobs::{FlushOptions, ObserveOptions, observe};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

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
async fn complete(
    client: &examples_integrations::OpenAi,
    question: &str,
) -> Result<String, OpenAIError> {
    let response = client.chat().create(request(question)?).await?;
    Ok(response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default())
}

#[observe(skip(client))]
async fn stream(
    client: &examples_integrations::OpenAi,
    question: &str,
) -> Result<String, OpenAIError> {
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
async fn both(client: &examples_integrations::OpenAi, question: &str) -> (String, String) {
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
    let config = examples_integrations::openai_config(format!("{}/v1", server.url()));
    let client = aiobs::providers::async_openai::client(config);
    let (completed, streamed) = both(&client, "Say hello").await;
    println!("completion: {completed}\nstream:     {streamed}");
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(),
        None => FlushOptions::to_path("target/aiobs/async_openai.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples_integrations::print_tree(&path)
}
