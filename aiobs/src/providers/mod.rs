//! LLM providers: how an HTTP exchange with an LLM API becomes a provider event.
//!
//! A [`Provider`] recognises its endpoints by method and URL path (so any base URL works:
//! OpenAI-compatible servers, Azure, a local vLLM or Ollama) and turns the whole exchange
//! (request body, status, response body or the events of a stream) into the event's
//! `request`, `response` and `error`. [`OpenAi`] and [`Gemini`] are built in and record what
//! the Python SDK records for the same call, and more (tool calls, finish reasons);
//! [`Anthropic`] is built in too. [`Collector::register_provider`] adds more, and is consulted
//! first.
//!
//! The HTTP integrations ([`UreqMiddleware`] with the `ureq` feature, [`ReqwestMiddleware`]
//! with `reqwest`, and the async-openai clients of [`async_openai`] that send through it, with
//! `async-openai`) drive an [`HttpCall`]; other clients can drive one themselves, or record by
//! hand with [`llm_call`].
//!
//! [`Collector::register_provider`]: crate::Collector::register_provider

#[cfg(feature = "async-openai")]
pub mod async_openai;
mod call;
mod http_call;
mod manual;
#[cfg(any(feature = "ureq", feature = "reqwest"))]
mod replayed;
#[cfg(feature = "reqwest")]
mod reqwest;
#[cfg(feature = "ureq")]
mod ureq;

pub use call::ProviderCall;
pub use http_call::{DEFAULT_BODY_CAP, HttpCall};
pub use manual::{LlmCall, llm_call};
#[cfg(feature = "reqwest")]
pub use reqwest::ReqwestMiddleware;
#[cfg(feature = "ureq")]
pub use ureq::UreqMiddleware;

// The wire formats (parsing, no recording) live one layer down, in `wire/`.
pub use crate::wire::{
    Anthropic, Body, EventFields, Exchange, Gemini, HttpRequest, OpenAi, Provider, ReportedUsage,
    SseEvent, TokenCounts, token_counts,
};
