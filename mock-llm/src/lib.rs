//! A real HTTP/1.1 mock of LLM provider APIs, and of the aiobs usage and trace servers, on
//! loopback, for tests, examples and benchmarks.
//!
//! [`MockServer::start`] binds `127.0.0.1:0` and answers with the canned bodies of
//! [`fixtures`], byte for byte. Paths match by suffix, so any base URL prefix works
//! (`/v1/chat/completions`, `/openai/deployments/x/chat/completions`, ...).
//!
//! | request | answer |
//! |---|---|
//! | `POST */chat/completions` | OpenAI `chat.completion`; with `"stream": true` SSE chunks and `data: [DONE]` (a usage chunk when `stream_options.include_usage`); `tool_calls` when the request has `tools`, unless its last message is a `tool` result (then the text answer, as an agent's final turn) |
//! | `POST */embeddings` | OpenAI embedding list, one 8-float vector per input |
//! | `POST */responses` | OpenAI Responses API `response`; with `"stream": true` its SSE event sequence (`response.created` … `response.completed`); a `function_call` when the request has `tools`, unless its `input` has a `function_call_output` |
//! | `POST */api/chat` | Ollama's native chat answer (not streamed) |
//! | `POST */models/{model}:generateContent` | Gemini `GenerateContentResponse`; a `functionCall` part when the request has `tools` |
//! | `POST */models/{model}:streamGenerateContent` | with `?alt=sse` SSE events, else the chunked JSON array |
//! | `POST */models/{model}:predictLongRunning` | a Gemini operation (video generation) |
//! | `GET */operations/*` | the operation, done, with a video URI |
//! | `POST */messages` | Anthropic `message`; with `"stream": true` its SSE event sequence; with `tools`, thinking, text and a `tool_use` (from a cached prompt), unless the last message holds a `tool_result` |
//! | `GET */v1/usage` | aiobs usage server: the key's usage, `{"success": true, "usage": {...}}` |
//! | `POST */v1/usage` | `{"trace_count": n}` spends `n` traces of the quota, or 429 past the limit |
//! | `POST */v1/traces` | aiobs trace server: stores the export document, counts its events |
//! | anything else | 404 with a JSON error body |
//!
//! The model (the request's `model` field; for Gemini the model in the path) picks the behaviour:
//! containing `error-400`, `error-401`, `error-429` or `error-500`, that status with the
//! provider's error body (`error-529`, Anthropic's overloaded); `overloaded-mid-stream`
//! (Anthropic), a stream that an `error` event ends; `not-json`, a 200 `text/plain` body; `cut`, a stream that stops after
//! about half its events, without the terminating chunk; `long` (chat completions), a 2 kB
//! completion or a stream of 200 chunks, for benchmarks. A body that is not JSON gets a 400.
//!
//! The aiobs routes want `Authorization: Bearer <key>` with the key of
//! [`MockServer::set_api_key`] (else 401), keep the quota of [`MockServer::set_usage`] and the
//! documents of [`MockServer::traces`], and answer `{"success": false, "error": "..."}` when
//! they refuse. [`MockServer::inject`] makes the next request to a path, on any route, get a
//! [`Fault`] instead: a status, a delay, or a connection closed without an answer.
//!
//! On the wire, [`httparse`](https://docs.rs/httparse) parses each request's line and
//! headers, and a chunked body's chunk sizes and trailers; a `Content-Length` body is read by
//! length. A malformed request (or a head over 64 KiB) gets a 400 and the connection is closed;
//! one that ends early, a closed connection. The sockets are mock-llm's own: an accept thread,
//! a thread per connection (kept alive unless the client asks otherwise), replies written
//! directly. It does not use `tiny_http` as `aiobs replay` does: a tiny_http handler never owns
//! its connection, so it could not close one without answering ([`Fault::Close`]), cut a
//! stream, send each stream event when it is due (its chunked encoder buffers 8 KiB), or shut
//! open keep-alive connections down when the server is dropped.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//!
//! let server = mock_llm::MockServer::start()?;
//! let mut conn = TcpStream::connect(server.addr())?;
//! let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#;
//! write!(
//!     conn,
//!     "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     body.len()
//! )?;
//! let mut response = String::new();
//! conn.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with(mock_llm::fixtures::OPENAI_CHAT_COMPLETION));
//! assert_eq!(server.requests()[0].path, "/v1/chat/completions");
//! # Ok::<(), std::io::Error>(())
//! ```

mod aiobs_server;
mod faults;
pub mod fixtures;
mod http;
mod routes;
mod server;

pub use faults::Fault;
pub use http::Received;
pub use server::MockServer;
