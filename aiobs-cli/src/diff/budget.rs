//! Budgets (`--fail-on EXPR`): a limit on a figure of the diff, exceeded or not.
//!
//! An expression is `tools_changed`, or `METRIC OP VALUE`: `cost>+10%`, `tokens>+5000`,
//! `llm_calls>+1`, `errors>0`, `p95:answer>+20%`. A signed value (`+5000`, `-3`) is the
//! change from `BASE`, a value in per cent (`+10%`) the change in per cent of `BASE`, and a
//! plain value (`0`) `NEW`'s own figure.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::compare::{Amount, Count, Diff, PathDiff, Timing};
use super::summary::SEPARATOR;
use crate::Error;

/// What the valid expressions are, for error messages and `--help`.
pub const VALID: &str = "expected `tools_changed` or METRIC OP VALUE:
  METRIC  calls, llm_calls, errors, tokens, tokens_in, tokens_cached, tokens_out,
          tokens_reasoning, cost (USD), duration (ms, the roots added up);
          per call path: p50:PATH, p95:PATH (ms), calls:PATH, errors:PATH
  OP      >  >=  <  <=
  VALUE   N: NEW's figure; +N or -N: the change from BASE; +N% or -N%: the change in per cent
  e.g.    cost>+10%  tokens>+5000  llm_calls>+1  errors>0  p95:answer>+20%  tools_changed";

/// A figure of the whole diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Total {
    Calls,
    LlmCalls,
    Errors,
    Tokens,
    TokensIn,
    TokensCached,
    TokensOut,
    TokensReasoning,
    Cost,
    Duration,
}

const TOTALS: [(&str, Total); 10] = [
    ("calls", Total::Calls),
    ("llm_calls", Total::LlmCalls),
    ("errors", Total::Errors),
    ("tokens", Total::Tokens),
    ("tokens_in", Total::TokensIn),
    ("tokens_cached", Total::TokensCached),
    ("tokens_out", Total::TokensOut),
    ("tokens_reasoning", Total::TokensReasoning),
    ("cost", Total::Cost),
    ("duration", Total::Duration),
];

/// A figure of the calls of one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathStat {
    P50,
    P95,
    Calls,
    Errors,
}

const PATH_STATS: [(&str, PathStat); 4] = [
    ("p50", PathStat::P50),
    ("p95", PathStat::P95),
    ("calls", PathStat::Calls),
    ("errors", PathStat::Errors),
];

#[derive(Debug, Clone, PartialEq)]
enum Metric {
    Total(Total),
    Path(PathStat, String),
    ToolsChanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    /// `NEW`'s figure.
    Value(f64),
    /// The change from `BASE`.
    Change(f64),
    /// The change in per cent of `BASE`.
    Pct(f64),
}

/// One `--fail-on` expression, parsed.
///
/// ```
/// use aiobs_cli::diff::budget::Budget;
/// let budget: Budget = "cost>+10%".parse()?;
/// assert_eq!(budget.to_string(), "cost>+10%");
/// assert!("cost>>1".parse::<Budget>().unwrap_err().to_string().contains("tools_changed"));
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    text: String,
    metric: Metric,
    op: Op,
    limit: Limit,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn bad(text: &str, why: &str) -> Error {
    Error::new(format!("bad budget {text:?}: {why}; {VALID}"))
}

impl FromStr for Budget {
    type Err = Error;

    fn from_str(text: &str) -> Result<Budget, Error> {
        let trimmed = text.trim();
        if trimmed == "tools_changed" {
            return Ok(Budget {
                text: trimmed.to_owned(),
                metric: Metric::ToolsChanged,
                op: Op::Gt,
                limit: Limit::Value(0.0),
            });
        }
        // The last comparison: a path has `>` between its names.
        let Some(at) = trimmed.rfind(['>', '<']) else {
            return Err(bad(text, "no comparison (>, >=, <, <=)"));
        };
        let (name, rest) = trimmed.split_at(at);
        let (op, value) = match rest.as_bytes() {
            [b'>', b'=', ..] => (Op::Ge, &rest[2..]),
            [b'<', b'=', ..] => (Op::Le, &rest[2..]),
            [b'>', ..] => (Op::Gt, &rest[1..]),
            _ => (Op::Lt, &rest[1..]),
        };
        let name = name.trim();
        let metric = match name.split_once(':') {
            Some((stat, path)) => {
                let Some(&(_, stat)) = PATH_STATS.iter().find(|(n, _)| *n == stat.trim()) else {
                    return Err(bad(text, &format!("no per-path figure {:?}", stat.trim())));
                };
                if path.trim().is_empty() {
                    return Err(bad(text, "no call path after the `:`"));
                }
                Metric::Path(stat, path.trim().to_owned())
            }
            None => match TOTALS.iter().find(|(n, _)| *n == name) {
                Some(&(_, total)) => Metric::Total(total),
                None => return Err(bad(text, &format!("no figure {name:?}"))),
            },
        };
        let value = value.trim();
        let signed = value.starts_with(['+', '-']);
        let (number, per_cent) = match value.strip_suffix('%') {
            Some(n) => (n, true),
            None => (value, false),
        };
        let n: f64 = match number.parse() {
            Ok(n) if f64::is_finite(n) => n,
            _ => return Err(bad(text, &format!("{value:?} is not a number"))),
        };
        let limit = match (per_cent, signed) {
            (true, _) => Limit::Pct(n),
            (false, true) => Limit::Change(n),
            (false, false) => Limit::Value(n),
        };
        Ok(Budget {
            text: trimmed.to_owned(),
            metric,
            op,
            limit,
        })
    }
}

/// A budget checked against a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The expression, as given.
    pub budget: String,
    /// Whether the diff exceeds it.
    pub exceeded: bool,
    /// The figures it was checked against, in words: `cost: $0.0012 → $0.0018 (+50.0%)`.
    pub detail: String,
}

/// One figure in both sides, as a budget reads it.
struct Figure {
    base: Option<f64>,
    new: Option<f64>,
    /// A duration change within the noise cannot exceed a budget.
    within_noise: bool,
}

impl Figure {
    fn count(c: &Count) -> Figure {
        Figure {
            base: Some(c.base as f64),
            new: Some(c.new as f64),
            within_noise: false,
        }
    }
    fn amount(a: &Amount) -> Figure {
        Figure {
            base: a.base,
            new: a.new,
            within_noise: false,
        }
    }
    fn timing(t: &Timing) -> Figure {
        Figure {
            within_noise: !t.beyond_noise,
            ..Figure::amount(&t.ms)
        }
    }

    /// Whether `op limit` holds.
    fn exceeds(&self, op: Op, limit: Limit) -> bool {
        let Some(new) = self.new else {
            return false;
        };
        let value = match limit {
            Limit::Value(v) => return op.holds(new, v),
            Limit::Change(v) => (self.base.map(|b| new - b), v),
            Limit::Pct(v) => (self.base.map(|b| pct(b, new)), v),
        };
        match value {
            (Some(got), v) => !self.within_noise && op.holds(got, v),
            (None, _) => false,
        }
    }
}

/// The change in per cent; from 0, any rise is infinite.
fn pct(base: f64, new: f64) -> f64 {
    if base == 0.0 {
        if new == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(new)
        }
    } else {
        (new - base) / base * 100.0
    }
}

fn show(value: Option<f64>, usd: bool) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if usd => format!("${v:.6}"),
        Some(v) if v.fract() == 0.0 => format!("{v}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn describe(name: &str, f: &Figure, usd: bool) -> String {
    let mut text = format!("{name}: {} → {}", show(f.base, usd), show(f.new, usd));
    if let (Some(b), Some(n)) = (f.base, f.new) {
        let p = pct(b, n);
        if p.is_finite() && n != b {
            text.push_str(&format!(" ({p:+.1}%)"));
        }
        if f.within_noise && n != b {
            text.push_str(" within the noise");
        }
    }
    text
}

fn total(diff: &Diff, t: Total) -> Figure {
    let d = &diff.totals;
    match t {
        Total::Calls => Figure::count(&d.calls),
        Total::LlmCalls => Figure::count(&d.llm_calls),
        Total::Errors => Figure::count(&d.errors),
        Total::Tokens => Figure::count(&d.tokens),
        Total::TokensIn => Figure::count(&d.tokens_in),
        Total::TokensCached => Figure::count(&d.tokens_cached),
        Total::TokensOut => Figure::count(&d.tokens_out),
        Total::TokensReasoning => Figure::count(&d.tokens_reasoning),
        Total::Cost => Figure::amount(&d.cost_usd),
        Total::Duration => Figure::timing(&d.duration_ms),
    }
}

fn path_figure(p: &PathDiff, stat: PathStat) -> Figure {
    match stat {
        PathStat::P50 => Figure::timing(&p.p50_ms),
        PathStat::P95 => Figure::timing(&p.p95_ms),
        PathStat::Calls => Figure::count(&p.calls),
        PathStat::Errors => Figure::count(&p.errors),
    }
}

/// Whether `path` is `wanted` or ends in `> wanted`.
fn matches(path: &str, wanted: &str) -> bool {
    path == wanted
        || path
            .strip_suffix(wanted)
            .is_some_and(|head| head.ends_with(SEPARATOR))
}

impl Budget {
    /// Checks the budget against `diff`. A per-path budget whose path (the whole path from
    /// the root, or its end after a `>`) is in neither side is an error naming it.
    ///
    /// ```no_run
    /// # let diff: aiobs_cli::diff::compare::Diff = todo!();
    /// let budget: aiobs_cli::diff::budget::Budget = "llm_calls>+1".parse()?;
    /// let verdict = budget.check(&diff)?;
    /// println!("{}: {}", verdict.budget, verdict.detail);
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn check(&self, diff: &Diff) -> Result<Verdict, Error> {
        let (exceeded, detail) = match &self.metric {
            Metric::ToolsChanged => {
                let t = &diff.tools;
                let mut what = Vec::new();
                for a in &t.added {
                    what.push(format!("+{} {}", a.count, a.name));
                }
                for r in &t.removed {
                    what.push(format!("-{} {}", r.count, r.name));
                }
                if t.reordered {
                    what.push("reordered".to_owned());
                }
                let detail = if what.is_empty() {
                    "tools: the same, in the same order".to_owned()
                } else {
                    format!("tools: {}", what.join(", "))
                };
                (t.changed, detail)
            }
            Metric::Total(t) => {
                let figure = total(diff, *t);
                let name = TOTALS.iter().find(|(_, x)| x == t).map_or("", |(n, _)| n);
                (
                    figure.exceeds(self.op, self.limit),
                    describe(name, &figure, *t == Total::Cost),
                )
            }
            Metric::Path(stat, wanted) => {
                let paths: Vec<&PathDiff> = diff
                    .paths
                    .iter()
                    .filter(|p| matches(&p.path, wanted))
                    .collect();
                if paths.is_empty() {
                    return Err(Error::new(format!(
                        "budget {:?}: no call path is {wanted:?} or ends in \"> {wanted}\", in BASE or NEW",
                        self.text
                    )));
                }
                let name = PATH_STATS
                    .iter()
                    .find(|(_, x)| x == stat)
                    .map_or("", |(n, _)| n);
                let over = paths
                    .iter()
                    .find(|p| path_figure(p, *stat).exceeds(self.op, self.limit))
                    .copied();
                let shown = over.unwrap_or(paths[0]);
                let mut detail = describe(
                    &format!("{name} of {}", shown.path),
                    &path_figure(shown, *stat),
                    false,
                );
                if paths.len() > 1 {
                    detail.push_str(&format!(" (one of {} paths)", paths.len()));
                }
                (over.is_some(), detail)
            }
        };
        Ok(Verdict {
            budget: self.text.clone(),
            exceeded,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_parse_into_figure_comparison_and_limit() {
        let b: Budget = "p95:answer > call_model>=+20%".parse().unwrap();
        assert_eq!(
            b.metric,
            Metric::Path(PathStat::P95, "answer > call_model".to_owned())
        );
        assert_eq!((b.op, b.limit), (Op::Ge, Limit::Pct(20.0)));
        let b: Budget = "tokens>+5000".parse().unwrap();
        assert_eq!(b.limit, Limit::Change(5000.0));
        let b: Budget = "errors>0".parse().unwrap();
        assert_eq!(b.limit, Limit::Value(0.0));
        let b: Budget = "cost<-5%".parse().unwrap();
        assert_eq!((b.op, b.limit), (Op::Lt, Limit::Pct(-5.0)));
        for wrong in [
            "", "cost", "cost>", "cost>x", "price>1", "p99:a>1", "p95:>1", "cost>>1",
        ] {
            let err = wrong.parse::<Budget>().unwrap_err().to_string();
            assert!(err.starts_with(&format!("bad budget {wrong:?}: ")), "{err}");
            assert!(err.contains("tools_changed"), "{err}");
        }
    }

    #[test]
    fn a_rise_from_nothing_is_infinite_per_cent() {
        let f = Figure {
            base: Some(0.0),
            new: Some(1.0),
            within_noise: false,
        };
        assert!(f.exceeds(Op::Gt, Limit::Pct(1000.0)));
        assert!(!f.exceeds(Op::Gt, Limit::Change(1.0)));
        assert!(f.exceeds(Op::Ge, Limit::Change(1.0)));
    }

    #[test]
    fn paths_match_whole_or_by_their_end() {
        assert!(matches("answer > call_model", "call_model"));
        assert!(matches("answer > call_model", "answer > call_model"));
        assert!(!matches("answer > recall_model", "call_model"));
    }
}
