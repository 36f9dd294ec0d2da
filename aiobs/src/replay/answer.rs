//! [`Answer`]: a recorded response rebuilt in its provider's wire format.

/// The HTTP response a replay gives for a request: the recorded answer rebuilt in the
/// provider's wire format (a JSON body, an SSE stream in the provider's own chunk format, or
/// the recorded error status with the provider's error body).
///
/// ```
/// let answer = aiobs::replay::Answer {
///     status: 200,
///     content_type: "application/json",
///     body: br#"{"id":"chatcmpl-1"}"#.to_vec(),
/// };
/// assert!(!answer.is_stream());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status: the recorded one for an error, else 200.
    pub status: u16,
    /// `application/json` or `text/event-stream`.
    pub content_type: &'static str,
    /// The whole body: JSON, or every event of the stream.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the body is a server-sent-events stream.
    pub fn is_stream(&self) -> bool {
        self.content_type == "text/event-stream"
    }
}

/// How the live request wants its answer: whole, or streamed (and in which form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// One JSON body.
    Whole,
    /// Server-sent events in the provider's own chunk format.
    Sse,
    /// Gemini's `streamGenerateContent` without `alt=sse`: a JSON array of chunks.
    JsonArray,
}
