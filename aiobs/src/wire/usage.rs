//! Token counts as the providers report them, and the same counts meaning the same thing for
//! every provider: what `aiobs stats`, the HTML page and the OTLP exporter read.
//!
//! The providers disagree on what their counts include. OpenAI's input count includes the
//! tokens read from the prompt cache, Anthropic's leaves out those read from it and written to
//! it; OpenAI's output count includes reasoning, Gemini's leaves its thoughts out. Added up as
//! reported, a cached prompt counts twice for one provider and not at all for another.

use serde::Deserialize;

/// The token counts of a response's `usage` (or Gemini's `usageMetadata`), under the names
/// OpenAI (chat completions and the Responses API), Anthropic and Gemini (REST and Python) use.
///
/// ```
/// use aiobs::providers::ReportedUsage;
/// let anthropic: ReportedUsage = serde_json::from_value(serde_json::json!({
///     "input_tokens": 24, "cache_read_input_tokens": 1800, "output_tokens": 62,
/// }))?;
/// let tokens = anthropic.normalised();
/// assert_eq!((tokens.input, tokens.cached, tokens.output), (Some(1824), Some(1800), Some(62)));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReportedUsage {
    // OpenAI chat completions.
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
    // OpenAI's Responses API and Anthropic.
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    input_tokens_details: Option<Details>,
    #[serde(default)]
    output_tokens_details: Option<Details>,
    // Anthropic only: not part of `input_tokens`.
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    // Gemini.
    #[serde(default, alias = "promptTokenCount")]
    prompt_token_count: Option<u64>,
    #[serde(default, alias = "candidatesTokenCount")]
    candidates_token_count: Option<u64>,
    #[serde(default, alias = "cachedContentTokenCount")]
    cached_content_token_count: Option<u64>,
    #[serde(default, alias = "thoughtsTokenCount")]
    thoughts_token_count: Option<u64>,
}

/// `cached_tokens` and `reasoning_tokens` of OpenAI's usage details.
#[derive(Debug, Default, Clone, Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

/// Token counts that mean the same for every provider. `None` where the response doesn't say.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TokenCounts {
    /// Every input (prompt) token, those read from or written to the prompt cache included.
    pub input: Option<u64>,
    /// Of `input`, read from the prompt cache (billed at the cached price).
    pub cached: Option<u64>,
    /// Of `input`, written to the prompt cache (Anthropic; billed at the cache-write price).
    pub cache_write: Option<u64>,
    /// Every output token, reasoning included (reasoning is billed as output).
    pub output: Option<u64>,
    /// Of `output`, reasoning (thinking) tokens, where the provider counts them apart.
    pub reasoning: Option<u64>,
}

/// Adds the counts that are there; `None` when none is.
fn sum(counts: &[Option<u64>]) -> Option<u64> {
    counts.iter().flatten().copied().reduce(u64::saturating_add)
}

impl ReportedUsage {
    /// The counts, normalised: see [`TokenCounts`]. A usage with Anthropic's cache counts is
    /// read as Anthropic's; one with `prompt_tokens` as a chat completion's; one with
    /// `input_tokens` as the Responses API's (or Anthropic's without a cache); else as Gemini's.
    pub fn normalised(&self) -> TokenCounts {
        let anthropic =
            self.cache_read_input_tokens.is_some() || self.cache_creation_input_tokens.is_some();
        if anthropic {
            return TokenCounts {
                input: sum(&[
                    self.input_tokens,
                    self.cache_read_input_tokens,
                    self.cache_creation_input_tokens,
                ]),
                cached: self.cache_read_input_tokens,
                cache_write: self.cache_creation_input_tokens,
                output: self.output_tokens,
                reasoning: None,
            };
        }
        // OpenAI's two shapes: the cache inside the input, reasoning inside the output.
        let openai =
            |input, output, inputs: &Option<Details>, outputs: &Option<Details>| TokenCounts {
                input,
                cached: inputs.as_ref().and_then(|d| d.cached_tokens),
                cache_write: None,
                output,
                reasoning: outputs.as_ref().and_then(|d| d.reasoning_tokens),
            };
        if self.prompt_tokens.is_some() || self.completion_tokens.is_some() {
            return openai(
                self.prompt_tokens,
                self.completion_tokens,
                &self.prompt_tokens_details,
                &self.completion_tokens_details,
            );
        }
        if self.input_tokens.is_some() || self.output_tokens.is_some() {
            return openai(
                self.input_tokens,
                self.output_tokens,
                &self.input_tokens_details,
                &self.output_tokens_details,
            );
        }
        // Gemini: thoughts are billed as output but not counted in the candidates.
        TokenCounts {
            input: self.prompt_token_count,
            cached: self.cached_content_token_count,
            cache_write: None,
            output: sum(&[self.candidates_token_count, self.thoughts_token_count]),
            reasoning: self.thoughts_token_count,
        }
    }
}

/// The normalised counts of a recorded `response`: its `usage`, else its `usage_metadata` or
/// `usageMetadata` (Gemini). `None` when it has none that reads as counts.
pub fn token_counts(response: &serde_json::Value) -> Option<TokenCounts> {
    let usage = ["usage", "usage_metadata", "usageMetadata"]
        .iter()
        .find_map(|k| response.get(*k).filter(|u| u.is_object()))?;
    ReportedUsage::deserialize(usage)
        .ok()
        .map(|u| u.normalised())
}
