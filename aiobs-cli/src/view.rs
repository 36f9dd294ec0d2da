//! `aiobs view`: the trace tree, one line per call.

use std::io::Write;

use crate::Error;
use crate::calls::{Call, CallTree};
use crate::load::{Export, FunctionEvent, ProviderEvent};
use crate::out::{Style, compact_json, duration, shorten};

/// What to show and how.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// Show calls up to this depth (1: roots only); none for all.
    pub depth: Option<usize>,
    /// Only calls that failed and their ancestors.
    pub errors_only: bool,
    /// Only calls whose name, api, arguments, result or error contain this text (ignoring
    /// case), and their ancestors.
    pub grep: Option<String>,
    /// The width to fit lines into.
    pub width: usize,
    /// Colours.
    pub style: Style,
}

/// Writes the sessions and the trace tree of `export` to `out`.
///
/// Each line is one call: its name (a provider call: provider, api, model and tokens), its
/// duration, then its arguments and result, or its error, shortened to fit `width`.
pub fn write(export: &Export<'_>, options: &ViewOptions, out: &mut dyn Write) -> Result<(), Error> {
    let tree = CallTree::new(export);
    let keep = kept(&tree, options);
    let st = options.style;

    let several = export.sessions.len() > 1;
    if several {
        writeln!(out, "{} sessions:", export.sessions.len())?;
    }
    for s in &export.sessions {
        let calls = tree.calls.iter().filter(|c| c.session_id() == s.id).count();
        let indent = if several { "  " } else { "" };
        let plural = if calls == 1 { "" } else { "s" };
        let mut line = format!(
            "{indent}session {} {}  {calls} call{plural}",
            st.name(&s.name),
            st.dim(&s.id)
        );
        let used = format!("{indent}session {} {}  {calls} call{plural}", s.name, s.id)
            .chars()
            .count();
        if let Some(labels) = s.labels.as_ref().filter(|l| !l.is_empty()) {
            let text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let room = options.width.saturating_sub(used + 2);
            if room > 0 {
                line.push_str("  ");
                line.push_str(&st.dim(&shorten(&text.join(" "), room)));
            }
        }
        writeln!(out, "{line}")?;
    }

    // Roots grouped by session, in the order of `sessions`; roots of unknown sessions last.
    let mut groups: Vec<(Option<&str>, Vec<u32>)> = export
        .sessions
        .iter()
        .map(|s| (Some(&*s.id), Vec::new()))
        .collect();
    let mut orphans = Vec::new();
    for &r in &tree.tree.roots {
        if !keep[r as usize] {
            continue;
        }
        let sid = tree.calls[r as usize].session_id();
        match groups.iter_mut().find(|(id, _)| *id == Some(sid)) {
            Some((_, roots)) => roots.push(r),
            None => orphans.push(r),
        }
    }
    groups.push((None, orphans));
    let mut shown = 0usize;
    for (sid, roots) in &groups {
        if roots.is_empty() {
            continue;
        }
        if several || sid.is_none() {
            let name = match sid {
                Some(id) => export
                    .sessions
                    .iter()
                    .find(|s| s.id == *id)
                    .map_or("", |s| &s.name),
                None => "(no session)",
            };
            writeln!(out, "\n{}", st.dim(&format!("── {name} ──")))?;
        } else if shown == 0 {
            writeln!(out)?;
        }
        shown += write_roots(&tree, roots, &keep, options, out)?;
    }
    if shown == 0 {
        let what = if options.errors_only || options.grep.is_some() {
            "no call matches"
        } else {
            "no calls"
        };
        writeln!(out, "\n{what}")?;
    }
    Ok(())
}

/// Which calls to show: those that match the filters and every ancestor of one.
fn kept(tree: &CallTree<'_, '_>, options: &ViewOptions) -> Vec<bool> {
    let n = tree.calls.len();
    let filtered = options.errors_only || options.grep.is_some();
    if !filtered {
        return vec![true; n];
    }
    let needle = options.grep.as_ref().map(|g| g.to_lowercase());
    let mut keep: Vec<bool> = tree
        .calls
        .iter()
        .map(|c| {
            (!options.errors_only || c.error().is_some())
                && needle.as_ref().is_none_or(|g| matches(c, g))
        })
        .collect();
    // Children before parents: a parent is kept when one of its children is.
    for &i in tree.tree.preorder().iter().rev() {
        if !keep[i as usize] && tree.tree.children_of(i).iter().any(|&c| keep[c as usize]) {
            keep[i as usize] = true;
        }
    }
    keep
}

fn contains(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

fn matches(call: &Call<'_, '_>, needle: &str) -> bool {
    let raw =
        |r: Option<&serde_json::value::RawValue>| r.is_some_and(|r| contains(r.get(), needle));
    match call {
        Call::Function(f) => {
            contains(&f.name, needle)
                || contains(&f.api, needle)
                || raw(f.args)
                || raw(f.kwargs)
                || raw(f.result)
                || f.error.as_deref().is_some_and(|e| contains(e, needle))
        }
        Call::Provider(p) => {
            contains(&p.provider, needle)
                || contains(&p.api, needle)
                || raw(Some(p.request))
                || raw(p.response)
                || p.error.as_deref().is_some_and(|e| contains(e, needle))
        }
    }
}

/// Writes the kept subtrees under `roots` (iteratively: trees can be deep); returns how many
/// lines were written.
fn write_roots(
    tree: &CallTree<'_, '_>,
    roots: &[u32],
    keep: &[bool],
    options: &ViewOptions,
    out: &mut dyn Write,
) -> Result<usize, Error> {
    // (call, depth, prefix for its line, prefix for its children)
    let mut stack: Vec<(u32, usize, String, String)> = roots
        .iter()
        .rev()
        .map(|&r| (r, 0, String::new(), String::new()))
        .collect();
    let mut lines = 0;
    while let Some((i, depth, prefix, child_prefix)) = stack.pop() {
        let call = &tree.calls[i as usize];
        writeln!(out, "{}", line(call, &prefix, options))?;
        lines += 1;
        if options.depth.is_some_and(|max| depth + 1 >= max) {
            continue;
        }
        let children: Vec<u32> = tree
            .tree
            .children_of(i)
            .iter()
            .copied()
            .filter(|&c| keep[c as usize])
            .collect();
        for (k, &c) in children.iter().enumerate().rev() {
            let last = k + 1 == children.len();
            let branch = if last { "└─ " } else { "├─ " };
            let carry = if last { "   " } else { "│  " };
            stack.push((
                c,
                depth + 1,
                format!("{child_prefix}{branch}"),
                format!("{child_prefix}{carry}"),
            ));
        }
    }
    Ok(lines)
}

/// One call's line, fitted into `options.width` characters.
fn line(call: &Call<'_, '_>, prefix: &str, options: &ViewOptions) -> String {
    let st = options.style;
    let failed = call.error().is_some();
    let mark = if failed { "✗ " } else { "" };
    let (plain, is_llm) = match call {
        Call::Function(f) => (f.name.to_string(), false),
        Call::Provider(p) => (provider_head(p), true),
    };
    let dur = duration(call.duration_ms());
    // The name gives way too on a narrow terminal (the tree's indentation cannot).
    let fixed = prefix.chars().count() + mark.chars().count() + 2 + dur.chars().count();
    let plain = shorten(&plain, options.width.saturating_sub(fixed).max(8));
    let head = if is_llm {
        st.llm(&plain)
    } else {
        st.name(&plain)
    };
    let used = fixed + plain.chars().count();
    let room = options.width.saturating_sub(used + 2);
    let detail = match call {
        Call::Function(f) => function_detail(f, room),
        Call::Provider(p) => match &p.error {
            Some(e) => format!("error: {}", shorten(e, room.saturating_sub(7))),
            None => String::new(),
        },
    };
    let detail = shorten(&detail, room);
    let mut text = format!("{prefix}{}{head}  {}", st.error(mark), st.dim(&dur));
    if !detail.is_empty() {
        text.push_str("  ");
        text.push_str(&if failed { st.error(&detail) } else { detail });
    }
    text
}

/// `openai chat.completions.create gpt-4o-mini 21→9 tok`, and ` (replayed)` for an answer
/// from a recording.
fn provider_head(p: &ProviderEvent<'_>) -> String {
    let usage = p.usage();
    let mut plain = format!("{} {}", p.provider, p.api);
    if let Some(model) = &usage.model {
        plain.push(' ');
        plain.push_str(model);
    }
    if usage.tokens_in.is_some() || usage.tokens_out.is_some() {
        let n = |t: Option<u64>| t.map_or("?".to_owned(), |t| t.to_string());
        plain.push_str(&format!(
            " {}→{} tok",
            n(usage.tokens_in),
            n(usage.tokens_out)
        ));
    }
    if p.replayed {
        plain.push_str(" (replayed)");
    }
    plain
}

/// `(a=1, b="x") → 3` or `(a=1) error: Boom: bad`, fitted into `room` characters.
fn function_detail(f: &FunctionEvent<'_>, room: usize) -> String {
    let tail = match (&f.error, f.result) {
        (Some(e), _) => format!("error: {e}"),
        (None, Some(r)) if r.get() != "null" => format!("→ {}", compact_json(r.get(), room)),
        (None, _) => String::new(),
    };
    // Arguments get what the result leaves, and at least half the room.
    let arg_room = room.saturating_sub(tail.chars().count() + 1).max(room / 2);
    let args = arguments(f, arg_room);
    match (args.is_empty(), tail.is_empty()) {
        (true, _) => tail,
        (false, true) => args,
        (false, false) => format!("{args} {tail}"),
    }
}

/// `(a=1, b="x")` from `args` with `arg_names` (Rust) or `args` and `kwargs` (Python).
fn arguments(f: &FunctionEvent<'_>, room: usize) -> String {
    let Some(args) = f.args else {
        return String::new();
    };
    let values: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(args.get()).unwrap_or_default();
    let mut parts: Vec<String> = Vec::with_capacity(values.len());
    for (k, v) in values.iter().enumerate() {
        let value = compact_json(v.get(), room);
        match f.arg_names.as_ref().and_then(|n| n.get(k)) {
            Some(name) => parts.push(format!("{name}={value}")),
            None => parts.push(value),
        }
    }
    if let Some(kwargs) = f.kwargs {
        let map: Vec<(String, &serde_json::value::RawValue)> = serde_json::from_str::<
            std::collections::BTreeMap<String, &serde_json::value::RawValue>,
        >(kwargs.get())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
        for (k, v) in map {
            parts.push(format!("{k}={}", compact_json(v.get(), room)));
        }
    }
    format!("({})", parts.join(", "))
}
