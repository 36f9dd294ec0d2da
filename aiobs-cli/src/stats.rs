//! `aiobs stats`: calls, errors, durations and tokens per function and per provider/model.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use serde::Serialize;

use crate::Error;
use crate::calls::{Call, CallTree};
use crate::load::Export;

/// One row: a function (by its `api` path) or a provider and model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `"function"` or `"provider"`.
    pub kind: &'static str,
    /// A function's `api`; a provider call's `provider/model` (`provider/-` with no model).
    pub name: String,
    /// Number of calls.
    pub calls: u64,
    /// Calls with an error.
    pub errors: u64,
    /// Median duration, ms (nearest rank).
    pub p50_ms: f64,
    /// 95th percentile duration, ms (nearest rank).
    pub p95_ms: f64,
    /// Longest call, ms.
    pub max_ms: f64,
    /// Input (prompt) tokens, the prompt cache's included: of the provider's calls, or of the
    /// LLM calls made inside the function (each LLM call counted once per function, also when
    /// the function recurses). See [`LlmUsage`](crate::load::LlmUsage) for how each provider's
    /// counts are read.
    pub tokens_in: u64,
    /// Of `tokens_in`, read from the prompt cache.
    pub tokens_cached: u64,
    /// Of `tokens_in`, written to the prompt cache (Anthropic).
    pub tokens_cache_write: u64,
    /// Output (completion) tokens, reasoning included, counted the same way.
    pub tokens_out: u64,
    /// Of `tokens_out`, reasoning (thinking) tokens where the provider counts them apart.
    pub tokens_reasoning: u64,
}

/// Token counts added up.
#[derive(Debug, Default, Clone, Copy)]
struct Tokens {
    input: u64,
    cached: u64,
    cache_write: u64,
    output: u64,
    reasoning: u64,
}

impl Tokens {
    fn of(usage: &crate::load::LlmUsage) -> Tokens {
        Tokens {
            input: usage.tokens_in.unwrap_or(0),
            cached: usage.tokens_cached.unwrap_or(0),
            cache_write: usage.tokens_cache_write.unwrap_or(0),
            output: usage.tokens_out.unwrap_or(0),
            reasoning: usage.tokens_reasoning.unwrap_or(0),
        }
    }

    fn add(&mut self, other: Tokens) {
        self.input += other.input;
        self.cached += other.cached;
        self.cache_write += other.cache_write;
        self.output += other.output;
        self.reasoning += other.reasoning;
    }
}

/// The rows for `export`: functions by name, then providers by name.
pub fn rows(export: &Export<'_>) -> Vec<Row> {
    let tree = CallTree::new(export);
    let n = tree.calls.len();
    // Parent index of every call, to walk up from an LLM call.
    let mut parent = vec![u32::MAX; n];
    for i in 0..n as u32 {
        for &c in tree.tree.children_of(i) {
            parent[c as usize] = i;
        }
    }
    #[derive(Default)]
    struct Acc {
        durations: Vec<f64>,
        errors: u64,
        tokens: Tokens,
    }
    let mut groups: BTreeMap<(&'static str, String), Acc> = BTreeMap::new();
    let mut above: HashSet<&str> = HashSet::new();
    for (i, call) in tree.calls.iter().enumerate() {
        let key = match call {
            Call::Function(f) => ("function", f.api.to_string()),
            Call::Provider(p) => {
                let usage = p.usage();
                let model = usage.model.clone().unwrap_or_else(|| "-".to_owned());
                let tokens = Tokens::of(&usage);
                // The tokens also count for every function this call ran inside, once each.
                above.clear();
                let mut up = parent[i];
                while up != u32::MAX {
                    if let Call::Function(f) = &tree.calls[up as usize] {
                        if above.insert(&f.api) {
                            let acc = groups.entry(("function", f.api.to_string())).or_default();
                            acc.tokens.add(tokens);
                        }
                    }
                    up = parent[up as usize];
                }
                let acc = groups
                    .entry(("provider", format!("{}/{model}", p.provider)))
                    .or_default();
                acc.tokens.add(tokens);
                ("provider", format!("{}/{model}", p.provider))
            }
        };
        let acc = groups.entry(key).or_default();
        acc.durations.push(call.duration_ms());
        acc.errors += u64::from(call.error().is_some());
    }
    groups
        .into_iter()
        .map(|((kind, name), mut acc)| {
            acc.durations.sort_by(f64::total_cmp);
            Row {
                kind,
                name,
                calls: acc.durations.len() as u64,
                errors: acc.errors,
                p50_ms: nearest_rank(&acc.durations, 0.50),
                p95_ms: nearest_rank(&acc.durations, 0.95),
                max_ms: acc.durations.last().copied().unwrap_or(0.0),
                tokens_in: acc.tokens.input,
                tokens_cached: acc.tokens.cached,
                tokens_cache_write: acc.tokens.cache_write,
                tokens_out: acc.tokens.output,
                tokens_reasoning: acc.tokens.reasoning,
            }
        })
        .collect()
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `q` of the
/// values at or below it.
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Writes `rows` as an aligned table.
pub fn write_table(rows: &[Row], out: &mut dyn Write) -> Result<(), Error> {
    let header = [
        "kind",
        "name",
        "calls",
        "errors",
        "p50 ms",
        "p95 ms",
        "max ms",
        "tok in",
        "cached",
        "tok out",
        "reasoning",
    ];
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            [
                r.kind.to_owned(),
                r.name.clone(),
                r.calls.to_string(),
                r.errors.to_string(),
                format!("{:.3}", r.p50_ms),
                format!("{:.3}", r.p95_ms),
                format!("{:.3}", r.max_ms),
                r.tokens_in.to_string(),
                r.tokens_cached.to_string(),
                r.tokens_out.to_string(),
                r.tokens_reasoning.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |row: &[&str]| -> String {
        let mut line = String::new();
        for (k, (cell, w)) in row.iter().zip(widths).enumerate() {
            if k > 0 {
                line.push_str("  ");
            }
            let pad = w - cell.chars().count();
            if k < 2 {
                line.push_str(cell);
                if k + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        line
    };
    writeln!(out, "{}", fmt_row(&header))?;
    for row in &cells {
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", fmt_row(&refs))?;
    }
    if rows.is_empty() {
        writeln!(out, "(no calls)")?;
    }
    Ok(())
}

/// Writes `rows` as JSON: `{"functions": [..], "providers": [..]}`, each row an object with
/// the fields of [`Row`] but `kind`.
pub fn write_json(rows: &[Row], out: &mut dyn Write) -> Result<(), Error> {
    #[derive(Serialize)]
    struct Json<'r> {
        functions: Vec<Entry<'r>>,
        providers: Vec<Entry<'r>>,
    }
    #[derive(Serialize)]
    struct Entry<'r> {
        name: &'r str,
        calls: u64,
        errors: u64,
        p50_ms: f64,
        p95_ms: f64,
        max_ms: f64,
        tokens_in: u64,
        tokens_cached: u64,
        tokens_cache_write: u64,
        tokens_out: u64,
        tokens_reasoning: u64,
    }
    fn entry(r: &Row) -> Entry<'_> {
        Entry {
            name: &r.name,
            calls: r.calls,
            errors: r.errors,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            max_ms: r.max_ms,
            tokens_in: r.tokens_in,
            tokens_cached: r.tokens_cached,
            tokens_cache_write: r.tokens_cache_write,
            tokens_out: r.tokens_out,
            tokens_reasoning: r.tokens_reasoning,
        }
    }
    let json = Json {
        functions: rows
            .iter()
            .filter(|r| r.kind == "function")
            .map(entry)
            .collect(),
        providers: rows
            .iter()
            .filter(|r| r.kind == "provider")
            .map(entry)
            .collect(),
    };
    crate::out::write_json_pretty(out, &json)
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 0.5), 50.0);
        assert_eq!(nearest_rank(&v, 0.95), 95.0);
        assert_eq!(nearest_rank(&[7.0], 0.95), 7.0);
        assert_eq!(nearest_rank(&[1.0, 2.0], 0.5), 1.0);
    }
}
