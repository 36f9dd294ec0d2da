//! The price table: USD per million input and output tokens, per model. One table ships with
//! the crate (`prices.json`, dated); `--prices FILE` adds models or overrides entries.
//!
//! A model is priced by its entry, else by the longest entry it starts with followed by `-`
//! (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`, not `gpt-4o`), ignoring case and anything up
//! to a `/` (`models/gemini-2.5-flash`, `openai/gpt-4o`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::load::{LlmUsage, read_error};

/// The table that ships with the crate.
pub const BUILTIN: &str = include_str!("prices.json");

/// What a price file holds: `{"date": "...", "note": "...", "models": {"name": {"input": USD,
/// "output": USD, "cached_input": USD, "cache_write": USD}}}`, prices per million tokens;
/// `date`, `note`, `cached_input` and `cache_write` are optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    note: Option<String>,
    models: BTreeMap<String, Price>,
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million input (prompt) tokens.
    pub input: f64,
    /// Per million output (completion) tokens; reasoning tokens are billed as output.
    pub output: f64,
    /// Per million input tokens read from the prompt cache; `input` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Per million input tokens written to the prompt cache (Anthropic); `input` when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// The prices in use: the built-in table, extended by the user's.
#[derive(Debug, Clone)]
pub struct Prices {
    /// The date of the built-in prices (or of the user's file, when it gives one).
    pub date: Option<String>,
    /// What the prices are (from the file that set `date`).
    pub note: Option<String>,
    /// Keys in lower case.
    models: BTreeMap<String, Price>,
}

impl Prices {
    /// The table that ships with the crate.
    pub fn builtin() -> Result<Prices, Error> {
        let file: PriceFile = serde_json::from_str(BUILTIN)
            .map_err(|e| Error::json(Path::new("<built-in prices.json>"), &e))?;
        Prices::checked(Path::new("<built-in prices.json>"), file)
    }

    /// The built-in table with the entries of `path` added (a model already there is
    /// replaced). A file that cannot be read, is not a price file, or holds a negative price
    /// is an error naming it and the place.
    pub fn builtin_extended_by(path: &Path) -> Result<Prices, Error> {
        let mut prices = Prices::builtin()?;
        let bytes = std::fs::read(path).map_err(|e| Error::in_file(path, read_error(&e)))?;
        let file: PriceFile = serde_json::from_slice(&bytes).map_err(|e| Error::json(path, &e))?;
        let user = Prices::checked(path, file)?;
        if user.date.is_some() {
            prices.date = user.date;
            prices.note = user.note;
        }
        prices.models.extend(user.models);
        Ok(prices)
    }

    fn checked(path: &Path, file: PriceFile) -> Result<Prices, Error> {
        let mut models = BTreeMap::new();
        for (name, price) in file.models {
            let optional = [
                ("cached_input", price.cached_input),
                ("cache_write", price.cache_write),
            ];
            let given = optional
                .iter()
                .filter_map(|(what, usd)| usd.map(|usd| (*what, usd)));
            for (what, usd) in [("input", price.input), ("output", price.output)]
                .into_iter()
                .chain(given)
            {
                if !(usd.is_finite() && usd >= 0.0) {
                    return Err(Error::in_file(
                        path,
                        format!(
                            "models.{name:?}.{what}: {usd} is not a price (USD per million tokens, 0 or more)"
                        ),
                    ));
                }
            }
            models.insert(name.to_lowercase(), price);
        }
        Ok(Prices {
            date: file.date,
            note: file.note,
            models,
        })
    }

    /// The entry that prices `model`, with its name.
    ///
    /// ```
    /// let prices = aiobs_cli::html::prices::Prices::builtin()?;
    /// let (name, _) = prices.lookup("gpt-4o-mini-2024-07-18").unwrap();
    /// assert_eq!(name, "gpt-4o-mini");
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn lookup(&self, model: &str) -> Option<(&str, Price)> {
        let lower = model.to_lowercase();
        let bare = lower.rsplit('/').next().unwrap_or(&lower);
        if let Some((name, price)) = self.models.get_key_value(bare) {
            return Some((name, *price));
        }
        self.models
            .iter()
            .filter(|(name, _)| {
                bare.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(name, price)| (name.as_str(), *price))
    }

    /// The cost in USD of `tokens_in` and `tokens_out` with `model`, if it has a price (no
    /// token from the prompt cache).
    pub fn cost(&self, model: &str, tokens_in: u64, tokens_out: u64) -> Option<f64> {
        self.cost_of(&LlmUsage {
            model: Some(model.to_owned()),
            tokens_in: Some(tokens_in),
            tokens_out: Some(tokens_out),
            ..LlmUsage::default()
        })
    }

    /// The cost in USD of an LLM call, if its model has a price: input tokens read from the
    /// prompt cache at the cached price, those written to it at the cache-write price, the
    /// others at the input price, and output (reasoning included) at the output price.
    ///
    /// ```
    /// use aiobs_cli::load::LlmUsage;
    /// let prices = aiobs_cli::html::prices::Prices::builtin()?;
    /// let usage = LlmUsage {
    ///     model: Some("gpt-4o-mini".into()),
    ///     tokens_in: Some(1_000_000),
    ///     tokens_cached: Some(800_000),
    ///     tokens_out: Some(0),
    ///     ..LlmUsage::default()
    /// };
    /// // 200,000 at $0.15 and 800,000 at $0.075 per million.
    /// assert!((prices.cost_of(&usage).unwrap() - 0.09).abs() < 1e-9);
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn cost_of(&self, usage: &LlmUsage) -> Option<f64> {
        let (_, price) = self.lookup(usage.model.as_deref()?)?;
        let input = usage.tokens_in.unwrap_or(0);
        let cached = usage.tokens_cached.unwrap_or(0).min(input);
        let written = usage.tokens_cache_write.unwrap_or(0).min(input - cached);
        let plain = input - cached - written;
        let usd = plain as f64 * price.input
            + cached as f64 * price.cached_input.unwrap_or(price.input)
            + written as f64 * price.cache_write.unwrap_or(price.input)
            + usage.tokens_out.unwrap_or(0) as f64 * price.output;
        Some(usd / 1e6)
    }

    /// How many models have a price.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether no model has a price.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_parses_and_is_dated() {
        let prices = Prices::builtin().expect("built-in prices");
        assert!(prices.date.is_some());
        assert!(prices.len() >= 20);
    }

    #[test]
    fn a_dated_model_is_priced_by_its_longest_family() {
        let prices = Prices::builtin().expect("built-in prices");
        let name = |m: &str| prices.lookup(m).map(|(n, _)| n.to_owned());
        assert_eq!(name("gpt-4o-2024-08-06").as_deref(), Some("gpt-4o"));
        assert_eq!(
            name("gpt-4o-mini-2024-07-18").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            name("models/gemini-2.5-flash").as_deref(),
            Some("gemini-2.5-flash")
        );
        assert_eq!(
            name("Gemini-2.5-Flash-Lite").as_deref(),
            Some("gemini-2.5-flash-lite")
        );
        assert_eq!(name("o3-mini-2025-01-31").as_deref(), Some("o3-mini"));
        assert_eq!(name("gpt-4oo"), None);
        assert_eq!(name("llama-3"), None);
    }

    #[test]
    fn cached_tokens_are_billed_once_at_their_price() {
        let prices = Prices::builtin().expect("built-in prices");
        // Anthropic: 24 plain, 1,800 read from the cache, 100 written to it, 62 out.
        let usage = LlmUsage {
            model: Some("claude-sonnet-4-5-20250929".into()),
            tokens_in: Some(1924),
            tokens_cached: Some(1800),
            tokens_cache_write: Some(100),
            tokens_out: Some(62),
            tokens_reasoning: None,
        };
        let expected = (24.0 * 3.0 + 1800.0 * 0.3 + 100.0 * 3.75 + 62.0 * 15.0) / 1e6;
        let cost = prices.cost_of(&usage).expect("priced");
        assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");
        // A model without a cached price bills cached tokens as input.
        let usage = LlmUsage {
            model: Some("gpt-4".into()),
            tokens_in: Some(1_000_000),
            tokens_cached: Some(500_000),
            ..LlmUsage::default()
        };
        assert!((prices.cost_of(&usage).unwrap() - 30.0).abs() < 1e-9);
    }

    #[test]
    fn cost_is_per_million_tokens() {
        let prices = Prices::builtin().expect("built-in prices");
        let cost = prices.cost("gpt-4o", 1_000_000, 100_000).expect("priced");
        assert!((cost - 3.5).abs() < 1e-9, "{cost}");
    }
}
