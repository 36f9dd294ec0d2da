//! Two summaries compared: every figure of `BASE` beside `NEW`, with the change in absolute
//! terms and per cent. These structs are what `aiobs diff --json` writes.

use serde::Serialize;

use super::summary::{ModelCalls, PathCalls, Summary};
use crate::stats::nearest_rank;

/// How big a duration change must be to count (`--min-change`, `--min-change-ms`): run-to-run
/// noise is smaller.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Noise {
    /// Per cent of the base value.
    pub pct: f64,
    /// Milliseconds.
    pub ms: f64,
}

impl Default for Noise {
    /// 30% and 5 ms: above the run-to-run changes the guide measured on one program.
    fn default() -> Noise {
        Noise { pct: 30.0, ms: 5.0 }
    }
}

/// A count in both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Count {
    /// In `BASE`.
    pub base: u64,
    /// In `NEW`.
    pub new: u64,
    /// `new - base`.
    pub change: i64,
    /// The change in per cent of `base`; none when `base` is 0.
    pub change_pct: Option<f64>,
}

impl Count {
    /// `base` beside `new`.
    ///
    /// ```
    /// let c = aiobs_cli::diff::compare::Count::of(4, 5);
    /// assert_eq!((c.change, c.change_pct), (1, Some(25.0)));
    /// ```
    pub fn of(base: u64, new: u64) -> Count {
        let change = new as i64 - base as i64;
        Count {
            base,
            new,
            change,
            change_pct: pct(base as f64, change as f64),
        }
    }
}

fn pct(base: f64, change: f64) -> Option<f64> {
    (base != 0.0).then(|| tidy(change / base * 100.0))
}

/// `v` to 12 significant digits: `0.42`, not `0.42000000000000004`, once subtracted or
/// divided, so that the report and `--json` show the figures the files hold.
///
/// ```
/// assert_eq!(aiobs_cli::diff::compare::tidy(0.1 + 0.2), 0.3);
/// assert_eq!(aiobs_cli::diff::compare::tidy(8.609999999999998e-05), 8.61e-05);
/// ```
pub fn tidy(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// An amount (USD, milliseconds) in both sides; none where a side has none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Amount {
    /// In `BASE`.
    pub base: Option<f64>,
    /// In `NEW`.
    pub new: Option<f64>,
    /// `new - base`, when both are there.
    pub change: Option<f64>,
    /// The change in per cent of `base`; none when `base` is 0 or missing.
    pub change_pct: Option<f64>,
}

impl Amount {
    /// `base` beside `new`.
    ///
    /// ```
    /// let a = aiobs_cli::diff::compare::Amount::of(Some(2.0), Some(3.0));
    /// assert_eq!((a.change, a.change_pct), (Some(1.0), Some(50.0)));
    /// ```
    pub fn of(base: Option<f64>, new: Option<f64>) -> Amount {
        let (base, new) = (base.map(tidy), new.map(tidy));
        let change = base.zip(new).map(|(b, n)| tidy(n - b));
        Amount {
            base,
            new,
            change,
            change_pct: base.zip(change).and_then(|(b, c)| pct(b, c)),
        }
    }
}

/// A duration in both sides, and whether its change is beyond the noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    /// The durations, ms.
    #[serde(flatten)]
    pub ms: Amount,
    /// The change is at least [`Noise::pct`] per cent and [`Noise::ms`] ms, either way.
    pub beyond_noise: bool,
}

impl Timing {
    /// `base` beside `new`, against `noise`.
    ///
    /// ```
    /// use aiobs_cli::diff::compare::{Noise, Timing};
    /// let noise = Noise { pct: 25.0, ms: 1.0 };
    /// assert!(!Timing::of(Some(10.0), Some(12.0), noise).beyond_noise); // +20%
    /// assert!(Timing::of(Some(10.0), Some(13.0), noise).beyond_noise); // +30%, +3 ms
    /// assert!(!Timing::of(Some(0.1), Some(0.5), noise).beyond_noise); // +0.4 ms
    /// ```
    pub fn of(base: Option<f64>, new: Option<f64>, noise: Noise) -> Timing {
        let ms = Amount::of(base, new);
        let beyond_noise = match ms.change {
            Some(change) => {
                change.abs() >= noise.ms && ms.change_pct.is_none_or(|p| p.abs() >= noise.pct)
            }
            None => false,
        };
        Timing { ms, beyond_noise }
    }
}

/// The whole of both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TotalsDiff {
    /// Calls: observed functions and LLM calls.
    pub calls: Count,
    /// LLM calls.
    pub llm_calls: Count,
    /// Calls that failed.
    pub errors: Count,
    /// `tokens_in + tokens_out`.
    pub tokens: Count,
    /// Input tokens, cached ones included.
    pub tokens_in: Count,
    /// Of `tokens_in`, read from the prompt cache.
    pub tokens_cached: Count,
    /// Output tokens, reasoning included.
    pub tokens_out: Count,
    /// Of `tokens_out`, reasoning tokens.
    pub tokens_reasoning: Count,
    /// USD, of the LLM calls whose model has a price.
    pub cost_usd: Amount,
    /// LLM calls whose model has no price.
    pub unpriced_llm_calls: Count,
    /// The root calls' durations added up, ms.
    pub duration_ms: Timing,
}

/// Whether a path or model is in one side, the other, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Only in `NEW`.
    Added,
    /// Only in `BASE`.
    Removed,
    /// In both, with a figure changed (a duration: beyond the noise).
    Changed,
    /// In both, the same (durations within the noise).
    Unchanged,
}

/// The calls of one path in both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathDiff {
    /// The names from the root, `" > "` between them.
    pub path: String,
    /// Added, removed, changed or unchanged.
    pub status: Status,
    /// Calls.
    pub calls: Count,
    /// Calls that failed.
    pub errors: Count,
    /// Median duration (nearest rank), ms; none in a side without calls.
    pub p50_ms: Timing,
    /// 95th percentile duration (nearest rank), ms.
    pub p95_ms: Timing,
    /// Error messages of `NEW` that `BASE` does not have.
    pub errors_new: Vec<String>,
    /// Error messages of `BASE` that `NEW` does not have.
    pub errors_gone: Vec<String>,
}

/// The LLM calls of one provider and model in both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelDiff {
    /// `provider/model`, as `aiobs stats` names it.
    pub model: String,
    /// Added, removed, changed or unchanged.
    pub status: Status,
    /// LLM calls.
    pub llm_calls: Count,
    /// Input tokens, cached ones included.
    pub tokens_in: Count,
    /// Of `tokens_in`, read from the prompt cache.
    pub tokens_cached: Count,
    /// Output tokens, reasoning included.
    pub tokens_out: Count,
    /// Of `tokens_out`, reasoning tokens.
    pub tokens_reasoning: Count,
    /// USD; none in a side where the model has no price or no calls.
    pub cost_usd: Amount,
}

/// A tool and how many more (or fewer) times the models asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCount {
    /// The tool's name.
    pub name: String,
    /// How many more times (in `added`) or fewer times (in `removed`).
    pub count: u64,
}

/// The tools the models asked for, in order, in both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolsDiff {
    /// `BASE`'s, in the order of its LLM calls.
    pub base: Vec<String>,
    /// `NEW`'s.
    pub new: Vec<String>,
    /// Asked for more often in `NEW`.
    pub added: Vec<ToolCount>,
    /// Asked for less often in `NEW`.
    pub removed: Vec<ToolCount>,
    /// The tools both sides asked for come in another order.
    pub reordered: bool,
    /// Added, removed or reordered.
    pub changed: bool,
}

/// Both sides compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The noise thresholds durations were judged by.
    pub min_change: Noise,
    /// Everything added up.
    pub totals: TotalsDiff,
    /// Every path of either side, sorted by path.
    pub paths: Vec<PathDiff>,
    /// Every `provider/model` of either side, sorted.
    pub models: Vec<ModelDiff>,
    /// The tools the models asked for.
    pub tools: ToolsDiff,
}

fn timing(calls: Option<&PathCalls>, q: f64) -> Option<f64> {
    calls
        .filter(|c| !c.durations.is_empty())
        .map(|c| nearest_rank(&c.durations, q))
}

fn status(base: bool, new: bool, changed: bool) -> Status {
    match (base, new) {
        (false, _) => Status::Added,
        (_, false) => Status::Removed,
        _ if changed => Status::Changed,
        _ => Status::Unchanged,
    }
}

fn count_changed(counts: &[Count]) -> bool {
    counts.iter().any(|c| c.change != 0)
}

fn path_diff(path: &str, b: Option<&PathCalls>, n: Option<&PathCalls>, noise: Noise) -> PathDiff {
    let len = |c: Option<&PathCalls>| c.map_or(0, |c| c.durations.len() as u64);
    let errors = |c: Option<&PathCalls>| c.map_or(0, |c| c.errors);
    let only = |one: Option<&PathCalls>, other: Option<&PathCalls>| -> Vec<String> {
        one.map(|o| {
            o.messages
                .iter()
                .filter(|m| other.is_none_or(|x| !x.messages.contains(*m)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
    };
    let calls = Count::of(len(b), len(n));
    let errors = Count::of(errors(b), errors(n));
    let p50_ms = Timing::of(timing(b, 0.5), timing(n, 0.5), noise);
    let p95_ms = Timing::of(timing(b, 0.95), timing(n, 0.95), noise);
    let errors_new = only(n, b);
    let errors_gone = only(b, n);
    let changed = count_changed(&[calls, errors])
        || p50_ms.beyond_noise
        || p95_ms.beyond_noise
        || !errors_new.is_empty()
        || !errors_gone.is_empty();
    PathDiff {
        path: path.to_owned(),
        status: status(b.is_some(), n.is_some(), changed),
        calls,
        errors,
        p50_ms,
        p95_ms,
        errors_new,
        errors_gone,
    }
}

fn cost(m: Option<&ModelCalls>) -> Option<f64> {
    m.filter(|m| m.llm_calls > m.unpriced).map(|m| m.cost_usd)
}

fn model_diff(model: &str, b: Option<&ModelCalls>, n: Option<&ModelCalls>) -> ModelDiff {
    let field = |f: fn(&ModelCalls) -> u64| Count::of(b.map_or(0, f), n.map_or(0, f));
    let llm_calls = field(|m| m.llm_calls);
    let tokens_in = field(|m| m.tokens_in);
    let tokens_cached = field(|m| m.tokens_cached);
    let tokens_out = field(|m| m.tokens_out);
    let tokens_reasoning = field(|m| m.tokens_reasoning);
    let cost_usd = Amount::of(cost(b), cost(n));
    let changed = count_changed(&[
        llm_calls,
        tokens_in,
        tokens_cached,
        tokens_out,
        tokens_reasoning,
    ]) || cost_usd.change.is_some_and(|c| c != 0.0);
    ModelDiff {
        model: model.to_owned(),
        status: status(b.is_some(), n.is_some(), changed),
        llm_calls,
        tokens_in,
        tokens_cached,
        tokens_out,
        tokens_reasoning,
        cost_usd,
    }
}

/// The tools of both sides: added and removed by count, and whether those both asked for
/// come in another order.
///
/// ```
/// use aiobs_cli::diff::compare::tools_diff;
/// let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
/// let d = tools_diff(&s(&["search", "fetch", "fetch"]), &s(&["fetch", "search"]));
/// assert_eq!((d.removed[0].name.as_str(), d.removed[0].count), ("fetch", 1));
/// assert!(d.added.is_empty() && d.reordered && d.changed);
/// ```
pub fn tools_diff(base: &[String], new: &[String]) -> ToolsDiff {
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for t in base {
        counts.entry(t).or_default().0 += 1;
    }
    for t in new {
        counts.entry(t).or_default().1 += 1;
    }
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for (&name, &(b, n)) in &counts {
        if n > b {
            added.push(ToolCount {
                name: name.to_owned(),
                count: n - b,
            });
        } else if b > n {
            removed.push(ToolCount {
                name: name.to_owned(),
                count: b - n,
            });
        }
    }
    // Each side's sequence kept to the calls both have (the first ones of each tool).
    let common = |seq: &[String]| -> Vec<String> {
        let mut left: BTreeMap<&str, u64> =
            counts.iter().map(|(&k, &(b, n))| (k, b.min(n))).collect();
        seq.iter()
            .filter(|t| match left.get_mut(t.as_str()) {
                Some(k) if *k > 0 => {
                    *k -= 1;
                    true
                }
                _ => false,
            })
            .cloned()
            .collect()
    };
    let reordered = common(base) != common(new);
    let changed = reordered || !added.is_empty() || !removed.is_empty();
    ToolsDiff {
        base: base.to_vec(),
        new: new.to_vec(),
        added,
        removed,
        reordered,
        changed,
    }
}

impl Diff {
    /// `base` and `new` compared, durations judged against `noise`.
    ///
    /// ```no_run
    /// use aiobs_cli::diff::{compare::{Diff, Noise}, summary::Summary};
    /// let prices = aiobs_cli::html::prices::Prices::builtin()?;
    /// let read = |p: &str| aiobs_cli::load::ExportFile::read(p.as_ref());
    /// let (b, n) = (read("base.json")?, read("new.json")?);
    /// let diff = Diff::of(&Summary::of(&b.parse()?, &prices), &Summary::of(&n.parse()?, &prices), Noise::default());
    /// println!("{:+} LLM call(s)", diff.totals.llm_calls.change);
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn of(base: &Summary, new: &Summary, noise: Noise) -> Diff {
        let mut paths: Vec<&String> = base.paths.keys().chain(new.paths.keys()).collect();
        paths.sort();
        paths.dedup();
        let mut models: Vec<&String> = base.models.keys().chain(new.models.keys()).collect();
        models.sort();
        models.dedup();
        let (b, n) = (&base.totals, &new.totals);
        let llm = |f: fn(&ModelCalls) -> u64| Count::of(f(&b.llm), f(&n.llm));
        let priced =
            |m: &ModelCalls| (m.llm_calls > m.unpriced || m.llm_calls == 0).then_some(m.cost_usd);
        Diff {
            min_change: noise,
            totals: TotalsDiff {
                calls: Count::of(b.calls, n.calls),
                llm_calls: llm(|m| m.llm_calls),
                errors: Count::of(b.errors, n.errors),
                tokens: llm(|m| m.tokens_in + m.tokens_out),
                tokens_in: llm(|m| m.tokens_in),
                tokens_cached: llm(|m| m.tokens_cached),
                tokens_out: llm(|m| m.tokens_out),
                tokens_reasoning: llm(|m| m.tokens_reasoning),
                cost_usd: Amount::of(priced(&b.llm), priced(&n.llm)),
                unpriced_llm_calls: llm(|m| m.unpriced),
                duration_ms: Timing::of(Some(b.duration_ms), Some(n.duration_ms), noise),
            },
            paths: paths
                .into_iter()
                .map(|p| path_diff(p, base.paths.get(p), new.paths.get(p), noise))
                .collect(),
            models: models
                .into_iter()
                .map(|m| model_diff(m, base.models.get(m), new.models.get(m)))
                .collect(),
            tools: tools_diff(&base.tools, &new.tools),
        }
    }
}
