//! The diff written out: a report for people (aligned columns, colour on a terminal) or JSON.

use std::io::Write;

use super::Report;
use super::compare::{Amount, Count, Status, Timing};
use crate::Error;
use crate::out::Style;

/// Cells padded into columns: the first `left` columns to the left, the others to the right,
/// two spaces between.
fn aligned(rows: &[Vec<String>], left: usize) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (k, (cell, w)) in row.iter().zip(&widths).enumerate() {
                if k > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(w - cell.chars().count());
                if k < left {
                    line.push_str(cell);
                    line.push_str(&pad);
                } else {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

fn signed_pct(p: Option<f64>) -> String {
    p.map_or(String::new(), |p| format!("{p:+.1}%"))
}

/// `base`, `new`, change, per cent.
fn count_cells(c: &Count) -> [String; 4] {
    [
        c.base.to_string(),
        c.new.to_string(),
        if c.change == 0 {
            "0".to_owned()
        } else {
            format!("{:+}", c.change)
        },
        signed_pct(c.change_pct.filter(|_| c.change != 0)),
    ]
}

fn usd(v: f64) -> String {
    format!("${v:.6}")
}

fn amount_cells(a: &Amount, show: fn(f64) -> String) -> [String; 4] {
    let one = |v: Option<f64>| v.map_or("-".to_owned(), show);
    let change = match a.change {
        Some(0.0) => "0".to_owned(),
        Some(c) => format!("{}{}", if c > 0.0 { "+" } else { "-" }, show(c.abs())),
        None => String::new(),
    };
    [
        one(a.base),
        one(a.new),
        change,
        signed_pct(a.change_pct.filter(|&p| p != 0.0)),
    ]
}

fn ms(v: f64) -> String {
    crate::out::duration(v)
}

/// `b → n`, or `n` when the same.
fn arrow(base: String, new: String) -> String {
    if base == new {
        new
    } else {
        format!("{base} → {new}")
    }
}

fn count_arrow(c: &Count) -> String {
    arrow(c.base.to_string(), c.new.to_string())
}

/// A duration's cell: `b → n`, and the change in per cent when beyond the noise.
fn timing_arrow(t: &Timing) -> String {
    let one = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let text = arrow(one(t.ms.base), one(t.ms.new));
    match t.ms.change_pct {
        Some(p) if t.beyond_noise => format!("{text} {p:+.0}%"),
        _ => text,
    }
}

fn marker(status: Status, st: Style) -> String {
    match status {
        Status::Added => st.good("+"),
        Status::Removed => st.error("-"),
        Status::Changed => st.changed("~"),
        Status::Unchanged => " ".to_owned(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes `report` for people: the totals, then the paths and models that changed, the tools
/// the models asked for, and the budgets, each exceeded one marked `✗`.
///
/// ```no_run
/// # let report: aiobs_cli::diff::Report = todo!();
/// let style = aiobs_cli::out::Style::new(false);
/// aiobs_cli::diff::report::write_text(&report, style, &mut std::io::stdout())?;
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn write_text(report: &Report, st: Style, out: &mut dyn Write) -> Result<(), Error> {
    let d = &report.diff;
    writeln!(
        out,
        "{} {} → {}",
        st.name("aiobs diff"),
        report.base.files.join(" "),
        report.new.files.join(" ")
    )?;
    writeln!(out)?;
    let t = &d.totals;
    let mut rows = vec![vec![
        "totals".to_owned(),
        "base".to_owned(),
        "new".to_owned(),
        "change".to_owned(),
        String::new(),
    ]];
    for (name, c) in [
        ("calls", &t.calls),
        ("llm calls", &t.llm_calls),
        ("errors", &t.errors),
        ("tokens", &t.tokens),
        ("  in", &t.tokens_in),
        ("  cached", &t.tokens_cached),
        ("  out", &t.tokens_out),
        ("  reasoning", &t.tokens_reasoning),
    ] {
        let mut row = vec![name.to_owned()];
        row.extend(count_cells(c));
        rows.push(row);
    }
    let mut cost = vec!["cost".to_owned()];
    cost.extend(amount_cells(&t.cost_usd, usd));
    rows.push(cost);
    let mut duration = vec!["duration".to_owned()];
    duration.extend(amount_cells(&t.duration_ms.ms, ms));
    if !t.duration_ms.beyond_noise && t.duration_ms.ms.change.is_some_and(|c| c != 0.0) {
        duration.push("(within the noise)".to_owned());
    }
    rows.push(duration);
    for (k, line) in aligned(&rows, 1).iter().enumerate() {
        if k == 0 {
            writeln!(out, "{}", st.dim(line))?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    if t.unpriced_llm_calls.new > 0 || t.unpriced_llm_calls.base > 0 {
        writeln!(
            out,
            "{}",
            st.dim(&format!(
                "(cost leaves out {} of BASE's and {} of NEW's LLM calls: their models have no price)",
                t.unpriced_llm_calls.base, t.unpriced_llm_calls.new
            ))
        )?;
    }

    // Paths.
    let count = |s: Status| d.paths.iter().filter(|p| p.status == s).count();
    writeln!(out)?;
    writeln!(
        out,
        "{}: {} added, {} removed, {} changed, {} unchanged  {}",
        st.name("call paths"),
        count(Status::Added),
        count(Status::Removed),
        count(Status::Changed),
        count(Status::Unchanged),
        st.dim(&format!(
            "(durations: changes under {}% or {} ms are noise)",
            d.min_change.pct, d.min_change.ms
        ))
    )?;
    let shown: Vec<_> = d
        .paths
        .iter()
        .filter(|p| p.status != Status::Unchanged)
        .collect();
    if !shown.is_empty() {
        let mut rows = vec![vec![
            "path".to_owned(),
            "calls".to_owned(),
            "errors".to_owned(),
            "p50 ms".to_owned(),
            "p95 ms".to_owned(),
        ]];
        for p in &shown {
            rows.push(vec![
                p.path.clone(),
                count_arrow(&p.calls),
                count_arrow(&p.errors),
                timing_arrow(&p.p50_ms),
                timing_arrow(&p.p95_ms),
            ]);
        }
        let lines = aligned(&rows, 1);
        writeln!(out, "   {}", st.dim(&lines[0]))?;
        for (p, line) in shown.iter().zip(&lines[1..]) {
            writeln!(out, "{}  {line}", marker(p.status, st))?;
            for e in &p.errors_new {
                writeln!(out, "     {} {}", st.error("new error:"), e)?;
            }
            for e in &p.errors_gone {
                writeln!(out, "     {} {}", st.good("error gone:"), e)?;
            }
        }
    }

    // Models.
    if !d.models.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", st.name("models"))?;
        let mut rows = vec![vec![
            "model".to_owned(),
            "llm calls".to_owned(),
            "tok in".to_owned(),
            "cached".to_owned(),
            "tok out".to_owned(),
            "reasoning".to_owned(),
            "cost".to_owned(),
        ]];
        let cell = |c: &Count| {
            let [_, _, change, p] = count_cells(c);
            if c.change == 0 {
                c.new.to_string()
            } else {
                format!("{} {change} {p}", count_arrow(c))
                    .trim_end()
                    .to_owned()
            }
        };
        for m in &d.models {
            let [b, n, change, p] = amount_cells(&m.cost_usd, usd);
            let cost = if m.cost_usd.change.is_some_and(|c| c != 0.0) {
                format!("{b} → {n} {change} {p}").trim_end().to_owned()
            } else {
                arrow(b, n)
            };
            rows.push(vec![
                m.model.clone(),
                cell(&m.llm_calls),
                cell(&m.tokens_in),
                cell(&m.tokens_cached),
                cell(&m.tokens_out),
                cell(&m.tokens_reasoning),
                cost,
            ]);
        }
        let lines = aligned(&rows, 1);
        writeln!(out, "   {}", st.dim(&lines[0]))?;
        for (m, line) in d.models.iter().zip(&lines[1..]) {
            writeln!(out, "{}  {line}", marker(m.status, st))?;
        }
    }

    // Tools.
    let tools = &d.tools;
    if !tools.base.is_empty() || !tools.new.is_empty() {
        writeln!(out)?;
        let verdict = if tools.changed {
            st.changed("changed")
        } else {
            "the same".to_owned()
        };
        writeln!(out, "{}: {verdict}", st.name("tools the models asked for"))?;
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_owned()
            } else {
                crate::out::shorten(&v.join(", "), 200)
            }
        };
        writeln!(out, "   base: {}", list(&tools.base))?;
        writeln!(out, "   new:  {}", list(&tools.new))?;
        for a in &tools.added {
            writeln!(out, "{}  {} ×{}", st.good("+"), a.name, a.count)?;
        }
        for r in &tools.removed {
            writeln!(out, "{}  {} ×{}", st.error("-"), r.name, r.count)?;
        }
        if tools.reordered {
            writeln!(out, "{}  reordered", st.changed("~"))?;
        }
    }

    // Budgets.
    if !report.budgets.is_empty() {
        writeln!(out)?;
        let over = report.exceeded().count();
        writeln!(
            out,
            "{}: {} exceeded",
            st.name("budgets"),
            plural(over, "budget", "budgets")
        )?;
        let rows: Vec<Vec<String>> = report
            .budgets
            .iter()
            .map(|v| vec![v.budget.clone(), v.detail.clone()])
            .collect();
        for (v, line) in report.budgets.iter().zip(aligned(&rows, 2)) {
            let mark = if v.exceeded {
                st.error("✗")
            } else {
                st.good("✓")
            };
            writeln!(out, "{mark}  {line}")?;
        }
    }
    Ok(())
}

/// Writes `report` as JSON (documented in the guide's `aiobs diff` section).
///
/// ```no_run
/// # let report: aiobs_cli::diff::Report = todo!();
/// aiobs_cli::diff::report::write_json(&report, &mut std::io::stdout())?;
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn write_json(report: &Report, out: &mut dyn Write) -> Result<(), Error> {
    crate::out::write_json_pretty(out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_left_then_right() {
        let rows = vec![
            vec!["a".to_owned(), "1".to_owned()],
            vec!["bbb".to_owned(), "100".to_owned()],
        ];
        assert_eq!(aligned(&rows, 1), ["a      1", "bbb  100"]);
    }
}
