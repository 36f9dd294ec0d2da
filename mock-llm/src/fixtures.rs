//! The canned bodies the server sends, byte for byte, so tests can compare what they received.
//!
//! Each is a file under `mock-llm/fixtures/`. Streams (`*_STREAM*`) are whole SSE bodies: the
//! server sends each event (up to and including its blank line) as one HTTP chunk.
//!
//! ```
//! use mock_llm::fixtures;
//!
//! let events: Vec<&str> = fixtures::OPENAI_CHAT_STREAM.split_inclusive("\n\n").collect();
//! assert_eq!(events.last(), Some(&"data: [DONE]\n\n"));
//! assert!(fixtures::GEMINI_STREAM.ends_with("\r\n\r\n"));
//! ```

/// Declares one `&'static str` const per fixture file, each documented with a runnable example.
macro_rules! fixtures {
    ($($(#[doc = $doc:literal])+ $name:ident = $path:literal;)*) => {$(
        $(#[doc = $doc])+
        #[doc = concat!("\n\nFile `mock-llm/fixtures/", $path, "`.\n\n```\nlet body: &str = mock_llm::fixtures::",
            stringify!($name), ";\nassert!(body.len() > 20);\n```")]
        pub const $name: &str = include_str!(concat!("../fixtures/", $path));
    )*};
}

fixtures! {
    /// OpenAI `chat.completion` answering "Hello from the mock." (pretty JSON, as OpenAI sends).
    OPENAI_CHAT_COMPLETION = "openai/chat_completion.json";
    /// OpenAI `chat.completion` whose message calls the tool `get_weather` (requests with `tools`).
    OPENAI_CHAT_COMPLETION_TOOLS = "openai/chat_completion_tools.json";
    /// OpenAI stream: role chunk, five content deltas, a `finish_reason: "stop"` chunk, `[DONE]`.
    OPENAI_CHAT_STREAM = "openai/chat_stream.sse";
    /// [`OPENAI_CHAT_STREAM`] for `stream_options.include_usage`: `"usage":null` on every chunk
    /// and a last chunk with `choices: []` and the usage.
    OPENAI_CHAT_STREAM_USAGE = "openai/chat_stream_usage.sse";
    /// OpenAI stream of a `get_weather` tool call, its arguments in five deltas.
    OPENAI_CHAT_STREAM_TOOLS = "openai/chat_stream_tools.sse";
    /// [`OPENAI_CHAT_STREAM_TOOLS`] with `"usage":null` on every chunk and a usage chunk.
    OPENAI_CHAT_STREAM_TOOLS_USAGE = "openai/chat_stream_tools_usage.sse";
    /// OpenAI embedding list for one input (several inputs get this vector once each).
    OPENAI_EMBEDDINGS = "openai/embeddings.json";
    /// OpenAI 400 `invalid_request_error`.
    OPENAI_ERROR_400 = "openai/error_400.json";
    /// OpenAI 401 `invalid_api_key`.
    OPENAI_ERROR_401 = "openai/error_401.json";
    /// OpenAI 429 `rate_limit_exceeded`.
    OPENAI_ERROR_429 = "openai/error_429.json";
    /// OpenAI 500 `server_error`.
    OPENAI_ERROR_500 = "openai/error_500.json";
    /// Gemini `GenerateContentResponse` answering "Hello from the mock.".
    GEMINI_GENERATE_CONTENT = "gemini/generate_content.json";
    /// Gemini `streamGenerateContent?alt=sse`: three `data:` events ending in CRLF CRLF,
    /// cumulative `usageMetadata`, the last with `finishReason: "STOP"`.
    GEMINI_STREAM = "gemini/stream.sse";
    /// Gemini `streamGenerateContent` without `alt=sse`: the same three responses as a JSON array,
    /// sent one chunk per element (split after each `,\r\n`).
    GEMINI_STREAM_ARRAY = "gemini/stream_array.json";
    /// Gemini `predictLongRunning` (video generation): the operation's name.
    GEMINI_OPERATION = "gemini/operation.json";
    /// Gemini `GET` of an operation: done, with one generated video's URI.
    GEMINI_OPERATION_DONE = "gemini/operation_done.json";
    /// Gemini 400 `INVALID_ARGUMENT`.
    GEMINI_ERROR_400 = "gemini/error_400.json";
    /// Gemini 401 `UNAUTHENTICATED`.
    GEMINI_ERROR_401 = "gemini/error_401.json";
    /// Gemini 429 `RESOURCE_EXHAUSTED`.
    GEMINI_ERROR_429 = "gemini/error_429.json";
    /// Gemini 500 `INTERNAL`.
    GEMINI_ERROR_500 = "gemini/error_500.json";
    /// Anthropic Messages API `message` answering "Hello from the mock." (compact JSON).
    ANTHROPIC_MESSAGE = "anthropic/message.json";
    /// Anthropic stream: `message_start`, `content_block_start`, `ping`, three
    /// `content_block_delta`, `content_block_stop`, `message_delta` with usage, `message_stop`.
    ANTHROPIC_STREAM = "anthropic/stream.sse";
    /// Anthropic `message` for a request with `tools`: a thinking block, a text block and a
    /// `tool_use` of `get_weather`, stopped for `tool_use`, most of its prompt read from the cache.
    ANTHROPIC_MESSAGE_TOOL_USE = "anthropic/message_tool_use.json";
    /// [`ANTHROPIC_MESSAGE_TOOL_USE`] streamed: thinking and signature deltas, text deltas, the
    /// tool's input in `input_json_delta` pieces, `message_delta` with the usage.
    ANTHROPIC_STREAM_TOOL_USE = "anthropic/stream_tool_use.sse";
    /// Anthropic stream that an `error` event (`overloaded_error`) ends after its first word.
    ANTHROPIC_STREAM_OVERLOADED = "anthropic/stream_overloaded.sse";
    /// Anthropic 400 `invalid_request_error`.
    ANTHROPIC_ERROR_400 = "anthropic/error_400.json";
    /// Anthropic 401 `authentication_error`.
    ANTHROPIC_ERROR_401 = "anthropic/error_401.json";
    /// Anthropic 429 `rate_limit_error`.
    ANTHROPIC_ERROR_429 = "anthropic/error_429.json";
    /// Anthropic 500 `api_error`.
    ANTHROPIC_ERROR_500 = "anthropic/error_500.json";
    /// Anthropic 529 `overloaded_error`.
    ANTHROPIC_ERROR_529 = "anthropic/error_529.json";
    /// OpenAI Responses API `response` answering "Hello from the mock.", with cached input and
    /// reasoning tokens in its usage.
    OPENAI_RESPONSE = "openai/response.json";
    /// OpenAI `response` whose output is a `function_call` of `get_weather` (requests with `tools`).
    OPENAI_RESPONSE_TOOLS = "openai/response_tools.json";
    /// [`OPENAI_RESPONSE`] streamed: `response.created` … `response.output_text.delta` ×3 …
    /// `response.completed` (no `[DONE]`).
    OPENAI_RESPONSE_STREAM = "openai/response_stream.sse";
    /// [`OPENAI_RESPONSE_TOOLS`] streamed, the arguments in `function_call_arguments.delta` pieces.
    OPENAI_RESPONSE_STREAM_TOOLS = "openai/response_stream_tools.sse";
    /// Gemini `GenerateContentResponse` whose part is a `functionCall` of `get_weather`
    /// (requests with `tools`).
    GEMINI_FUNCTION_CALL = "gemini/function_call.json";
    /// Ollama's native `POST /api/chat` answer (not streamed), "Hello from the mock.".
    OLLAMA_CHAT = "ollama/chat.json";
    /// The 404 body for a method and path no route matches (OpenAI's error shape).
    NOT_FOUND = "not_found.json";
    /// The `text/plain` body for a model containing `not-json`.
    NOT_JSON = "not_json.txt";
}
