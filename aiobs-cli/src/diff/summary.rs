//! What one side of a diff is made of: its calls grouped by their path of names from the root,
//! its LLM calls per model, the tools its models asked for, and its totals.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::calls::{Call, CallTree};
use crate::html::prices::Prices;
use crate::load::{Export, ProviderEvent};

/// Between the names of a path: `answer > call_model > [openai] chat.completions.create`.
pub const SEPARATOR: &str = " > ";

/// The calls of one path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathCalls {
    /// Every call's duration, ms, sorted.
    pub durations: Vec<f64>,
    /// Calls that failed.
    pub errors: u64,
    /// The distinct error messages.
    pub messages: BTreeSet<String>,
}

/// The LLM calls of one provider and model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelCalls {
    /// LLM calls.
    pub llm_calls: u64,
    /// Input tokens, cached ones included (see [`LlmUsage`](crate::load::LlmUsage)).
    pub tokens_in: u64,
    /// Of `tokens_in`, read from the prompt cache.
    pub tokens_cached: u64,
    /// Output tokens, reasoning included.
    pub tokens_out: u64,
    /// Of `tokens_out`, reasoning tokens.
    pub tokens_reasoning: u64,
    /// USD, of the calls whose model has a price.
    pub cost_usd: f64,
    /// Calls whose model has no price (not in `cost_usd`).
    pub unpriced: u64,
}

impl ModelCalls {
    fn add(&mut self, other: &ModelCalls) {
        self.llm_calls += other.llm_calls;
        self.tokens_in += other.tokens_in;
        self.tokens_cached += other.tokens_cached;
        self.tokens_out += other.tokens_out;
        self.tokens_reasoning += other.tokens_reasoning;
        self.cost_usd += other.cost_usd;
        self.unpriced += other.unpriced;
    }
}

/// The whole side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Calls: observed functions and LLM calls.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// The LLM calls, all models added up.
    pub llm: ModelCalls,
    /// The root calls' durations added up, ms.
    pub duration_ms: f64,
}

/// One side of a diff, summed up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Calls by their path of names from the root ([`SEPARATOR`] between names).
    pub paths: BTreeMap<String, PathCalls>,
    /// LLM calls by `provider/model` (`provider/-` without a model), as `aiobs stats` names
    /// them.
    pub models: BTreeMap<String, ModelCalls>,
    /// The tools the models asked for (`response.tool_calls[].name`), in the order of the
    /// LLM calls.
    pub tools: Vec<String>,
    /// Everything added up.
    pub totals: Totals,
}

/// A call's own name in a path: a function's name, `[provider] api` for an LLM call.
fn name_of(call: &Call<'_, '_>) -> String {
    match call {
        Call::Function(f) => f.name.to_string(),
        Call::Provider(p) => format!("[{}] {}", p.provider, p.api),
    }
}

#[derive(Deserialize)]
struct ToolCalls {
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Deserialize)]
struct ToolCall {
    #[serde(default)]
    name: Option<serde_json::Value>,
}

/// The names of the tools an LLM call's response asked for (none when it records none, as the
/// Python SDK's do).
fn tools_of(event: &ProviderEvent<'_>) -> Vec<String> {
    let Some(raw) = event.response else {
        return Vec::new();
    };
    let Ok(calls) = serde_json::from_str::<ToolCalls>(raw.get()) else {
        return Vec::new();
    };
    calls
        .tool_calls
        .into_iter()
        .map(|c| match c.name {
            Some(serde_json::Value::String(s)) => s,
            _ => "(unnamed)".to_owned(),
        })
        .collect()
}

impl Summary {
    /// Sums up `export`, pricing LLM calls with `prices`.
    ///
    /// ```no_run
    /// use aiobs_cli::diff::summary::Summary;
    /// let file = aiobs_cli::load::ExportFile::read("trace.json".as_ref())?;
    /// let prices = aiobs_cli::html::prices::Prices::builtin()?;
    /// let summary = Summary::of(&file.parse()?, &prices);
    /// for (path, calls) in &summary.paths {
    ///     println!("{path}: {} call(s)", calls.durations.len());
    /// }
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn of(export: &Export<'_>, prices: &Prices) -> Summary {
        let tree = CallTree::new(export);
        let mut summary = Summary::default();
        // Paths are interned: (parent path, name) → path number; each path's text is built
        // once.
        let mut numbers: HashMap<(u32, String), u32> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut by_number: Vec<PathCalls> = Vec::new();
        const ROOT: u32 = u32::MAX;
        let mut stack: Vec<(u32, u32)> = tree.tree.roots.iter().rev().map(|&r| (r, ROOT)).collect();
        for &r in &tree.tree.roots {
            summary.totals.duration_ms += tree.calls[r as usize].duration_ms();
        }
        while let Some((i, parent_path)) = stack.pop() {
            let call = &tree.calls[i as usize];
            let next = texts.len() as u32;
            let path = *numbers
                .entry((parent_path, name_of(call)))
                .or_insert_with_key(|(parent, name)| {
                    let text = match texts.get(*parent as usize) {
                        Some(up) => format!("{up}{SEPARATOR}{name}"),
                        None => name.clone(),
                    };
                    texts.push(text);
                    by_number.push(PathCalls::default());
                    next
                });
            let calls = &mut by_number[path as usize];
            calls.durations.push(call.duration_ms());
            if let Some(error) = call.error() {
                calls.errors += 1;
                if !calls.messages.contains(error) {
                    calls.messages.insert(error.to_owned());
                }
            }
            stack.extend(tree.tree.children_of(i).iter().rev().map(|&c| (c, path)));
        }
        for (text, mut calls) in texts.into_iter().zip(by_number) {
            calls.durations.sort_by(f64::total_cmp);
            summary.totals.calls += calls.durations.len() as u64;
            summary.totals.errors += calls.errors;
            summary.paths.insert(text, calls);
        }

        let mut llm: Vec<&ProviderEvent<'_>> = export.events.iter().collect();
        llm.sort_by(|a, b| a.started_at.total_cmp(&b.started_at));
        for event in llm {
            let usage = event.usage();
            let model = usage.model.as_deref().unwrap_or("-");
            let cost = prices.cost_of(&usage);
            let one = ModelCalls {
                llm_calls: 1,
                tokens_in: usage.tokens_in.unwrap_or(0),
                tokens_cached: usage.tokens_cached.unwrap_or(0),
                tokens_out: usage.tokens_out.unwrap_or(0),
                tokens_reasoning: usage.tokens_reasoning.unwrap_or(0),
                cost_usd: cost.unwrap_or(0.0),
                unpriced: u64::from(cost.is_none()),
            };
            summary
                .models
                .entry(format!("{}/{model}", event.provider))
                .or_default()
                .add(&one);
            summary.totals.llm.add(&one);
            summary.tools.extend(tools_of(event));
        }
        summary
    }
}
