//! The rows of the timeline: every call in tree pre-order with its depth, parent and subtree
//! end, and what the page would otherwise compute on each redraw: tokens and cost summed over
//! the subtree, errors marked on every ancestor, the critical path of each root.
//!
//! Keys are short and empty values left out, so 100,000 calls embed in a few megabytes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Error;
use crate::calls::{Call, CallTree};
use crate::html::prices::Prices;
use crate::load::{Export, ExportFile, LlmUsage};

/// A call that failed.
pub const OWN_ERROR: u8 = 1;
/// A call with a failed call below it.
pub const ERROR_BELOW: u8 = 2;
/// A call on the critical path of its root (the root included).
pub const CRITICAL: u8 = 4;

/// One call as the page reads it.
#[derive(Debug, Serialize)]
pub struct Row<'e> {
    /// Name: the function's, or `provider api` for an LLM call.
    #[serde(rename = "n")]
    pub name: Cow<'e, str>,
    /// 0 for a function, 1 for an LLM (provider) call.
    #[serde(rename = "k")]
    pub kind: u8,
    /// Depth (0 for a root).
    #[serde(rename = "d")]
    pub depth: u32,
    /// The parent's row, -1 for a root.
    #[serde(rename = "p")]
    pub parent: i64,
    /// One past the last row of this call's subtree (its descendants are `self + 1..z`).
    #[serde(rename = "z")]
    pub subtree_end: u32,
    /// Start, milliseconds after the earliest call started.
    #[serde(rename = "s")]
    pub start: f64,
    /// End, milliseconds after the earliest call started.
    #[serde(rename = "e")]
    pub stop: f64,
    /// [`OWN_ERROR`], [`ERROR_BELOW`] and [`CRITICAL`], or'ed.
    #[serde(skip_serializing_if = "is_zero")]
    #[serde(rename = "f")]
    pub flags: u8,
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "x")]
    pub error: Option<&'e str>,
    /// The API: the function's path, or the provider's API.
    #[serde(rename = "a")]
    pub api: &'e str,
    /// The session's index in the page's sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "S")]
    pub session: Option<u32>,
    /// Where it was called from, `file:line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "l")]
    pub callsite: Option<String>,
    /// The span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "i")]
    pub span: Option<&'e str>,
    /// Arguments (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "A")]
    pub args: Option<&'e RawValue>,
    /// The arguments' names (Rust).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "N")]
    pub arg_names: Option<&'e [Cow<'e, str>]>,
    /// Keyword arguments (Python), when there are some.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "K")]
    pub kwargs: Option<&'e RawValue>,
    /// The result (JSON), when not null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "R")]
    pub result: Option<&'e RawValue>,
    /// Provider: `openai`, `gemini`, ….
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "v")]
    pub provider: Option<&'e str>,
    /// The request (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "Q")]
    pub request: Option<&'e RawValue>,
    /// The response (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "P")]
    pub response: Option<&'e RawValue>,
    /// The model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "m")]
    pub model: Option<String>,
    /// Input tokens of this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "ti")]
    pub tokens_in: Option<u64>,
    /// Output tokens of this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "to")]
    pub tokens_out: Option<u64>,
    /// Cost of this call in USD (when its model has a price).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "c")]
    pub cost: Option<f64>,
    /// Input tokens of the subtree (this call included), when some.
    #[serde(skip_serializing_if = "is_zero_u64")]
    #[serde(rename = "Ti")]
    pub sum_in: u64,
    /// Output tokens of the subtree, when some.
    #[serde(skip_serializing_if = "is_zero_u64")]
    #[serde(rename = "To")]
    pub sum_out: u64,
    /// Cost of the subtree in USD, when some.
    #[serde(skip_serializing_if = "is_zero_f64")]
    #[serde(rename = "C")]
    pub sum_cost: f64,
    /// LLM calls in the subtree whose model has no price.
    #[serde(skip_serializing_if = "is_zero_u64")]
    #[serde(rename = "U")]
    pub unpriced: u64,
}

impl<'e> Row<'e> {
    /// A row with nothing set yet: `build` fills in what the call has.
    fn empty() -> Row<'e> {
        Row {
            name: Cow::Borrowed(""),
            kind: 0,
            depth: 0,
            parent: -1,
            subtree_end: 0,
            start: 0.0,
            stop: 0.0,
            flags: 0,
            error: None,
            api: "",
            session: None,
            callsite: None,
            span: None,
            args: None,
            arg_names: None,
            kwargs: None,
            result: None,
            provider: None,
            request: None,
            response: None,
            model: None,
            tokens_in: None,
            tokens_out: None,
            cost: None,
            sum_in: 0,
            sum_out: 0,
            sum_cost: 0.0,
            unpriced: 0,
        }
    }
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}
fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}
fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// Use of one model over the file.
#[derive(Debug, Serialize, Default)]
pub struct ModelUse {
    /// The model, as the calls name it.
    pub model: String,
    /// The price entry that priced it, if any.
    pub priced_as: Option<String>,
    /// USD per million input tokens.
    pub input: Option<f64>,
    /// USD per million output tokens.
    pub output: Option<f64>,
    /// USD per million input tokens read from the prompt cache, when the entry gives one.
    pub cached_input: Option<f64>,
    /// LLM calls.
    pub calls: u64,
    /// Input tokens, the prompt cache's included.
    pub tokens_in: u64,
    /// Of the input tokens, read from the prompt cache.
    pub tokens_cached: u64,
    /// Output tokens, reasoning included.
    pub tokens_out: u64,
    /// Of the output tokens, reasoning tokens.
    pub tokens_reasoning: u64,
    /// USD, when priced.
    pub cost: Option<f64>,
}

/// The rows, and the figures over all of them.
#[derive(Debug)]
pub struct Rows<'e> {
    /// In tree pre-order.
    pub rows: Vec<Row<'e>>,
    /// The earliest start (Unix seconds); row times count from it.
    pub t0: f64,
    /// Models used, by name.
    pub models: Vec<ModelUse>,
}

/// Milliseconds to microsecond precision (shorter JSON).
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Where each call was made: a second, lean read of the file for what the loader skips.
#[derive(Deserialize)]
struct Sites<'a> {
    #[serde(borrow, default)]
    events: Vec<Site<'a>>,
    #[serde(borrow, default)]
    function_events: Vec<Site<'a>>,
}

#[derive(Deserialize)]
struct Site<'a> {
    #[serde(borrow, default)]
    callsite: Option<Callsite<'a>>,
}

#[derive(Deserialize)]
struct Callsite<'a> {
    #[serde(borrow, default)]
    file: Option<Cow<'a, str>>,
    #[serde(default)]
    line: Option<u64>,
}

/// `file:line` of every call, in [`CallTree`] order (provider events, then function events):
/// a second, lean read of the file (the loader skips callsites), which can run beside the
/// loader's.
pub fn callsites(file: &ExportFile) -> Result<Vec<Option<String>>, Error> {
    let sites: Sites<'_> =
        serde_json::from_slice(file.bytes()).map_err(|e| Error::json(file.path(), &e))?;
    Ok(sites
        .events
        .iter()
        .chain(&sites.function_events)
        .map(|s| {
            let c = s.callsite.as_ref()?;
            let f = c.file.as_deref()?;
            Some(match c.line {
                Some(line) => format!("{f}:{line}"),
                None => f.to_owned(),
            })
        })
        .collect())
}

/// Builds the rows of `export`, with the `sites` that [`callsites`] read from its file,
/// pricing LLM calls with `prices`: the tree laid out in pre-order, a row a call, then the
/// sums and errors rolled up and the critical paths marked.
pub fn build<'e>(
    export: &'e Export<'e>,
    mut sites: Vec<Option<String>>,
    prices: &Prices,
) -> Rows<'e> {
    let tree = CallTree::new(export);
    let layout = Layout::of(&tree);
    let session_index: HashMap<&str, u32> = export
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (&*s.id, i as u32))
        .collect();
    let t0 = tree
        .calls
        .iter()
        .map(Call::started_at)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0);
    let at = |unix: f64| ms((unix - t0) * 1000.0);

    let mut models: BTreeMap<String, ModelUse> = BTreeMap::new();
    let mut rows: Vec<Row<'e>> = Vec::with_capacity(layout.order.len());
    for (r, &c) in layout.order.iter().enumerate() {
        let call = tree.calls[c as usize];
        let error = call.error();
        let mut row = Row {
            depth: layout.depth[r],
            parent: layout.parent_row[r],
            start: at(call.started_at()),
            flags: if error.is_some() { OWN_ERROR } else { 0 },
            error,
            session: session_index.get(call.session_id()).copied(),
            callsite: sites.get_mut(c as usize).and_then(Option::take),
            span: call.span(),
            ..Row::empty()
        };
        match call {
            Call::Function(f) => {
                row.name = Cow::Borrowed(&f.name);
                row.api = &f.api;
                row.stop = at(f.ended_at);
                row.args = f.args;
                row.arg_names = f.arg_names.as_deref();
                row.kwargs = f.kwargs.filter(|k| !is_empty_json(k));
                row.result = f.result.filter(|v| v.get() != "null");
            }
            Call::Provider(p) => {
                row.kind = 1;
                row.name = Cow::Owned(format!("{} {}", p.provider, p.api));
                row.api = &p.api;
                row.provider = Some(&p.provider);
                row.stop = at(p.ended_at);
                row.request = Some(p.request);
                row.response = p.response.filter(|v| v.get() != "null");
                price_llm_call(&mut row, p.usage(), prices, &mut models);
            }
        }
        rows.push(row);
    }
    roll_up(&mut rows);
    mark_critical_paths(&tree, &layout.row_of, &mut rows);

    Rows {
        rows,
        t0,
        models: models.into_values().collect(),
    }
}

/// The call tree in pre-order: each call's row, and each row's parent row and depth.
struct Layout {
    /// The calls in row order.
    order: Vec<u32>,
    /// The row of each call.
    row_of: Vec<u32>,
    /// The parent row of each row; -1 for a root.
    parent_row: Vec<i64>,
    depth: Vec<u32>,
}

impl Layout {
    fn of(tree: &CallTree<'_, '_>) -> Layout {
        let n = tree.calls.len();
        let order = tree.tree.preorder();
        let mut row_of = vec![0u32; n];
        for (r, &c) in order.iter().enumerate() {
            row_of[c as usize] = r as u32;
        }
        let mut parent_row = vec![-1i64; n];
        let mut depth = vec![0u32; n];
        for (r, &c) in order.iter().enumerate() {
            for &child in tree.tree.children_of(c) {
                let cr = row_of[child as usize] as usize;
                parent_row[cr] = r as i64;
                depth[cr] = depth[r] + 1;
            }
        }
        Layout {
            order,
            row_of,
            parent_row,
            depth,
        }
    }
}

/// Puts an LLM call's tokens and cost in its row, and adds them to its model's use.
fn price_llm_call(
    row: &mut Row<'_>,
    usage: LlmUsage,
    prices: &Prices,
    models: &mut BTreeMap<String, ModelUse>,
) {
    row.tokens_in = usage.tokens_in;
    row.tokens_out = usage.tokens_out;
    row.sum_in = usage.tokens_in.unwrap_or(0);
    row.sum_out = usage.tokens_out.unwrap_or(0);
    if let Some(model) = &usage.model {
        let cost = prices.cost_of(&usage);
        let used = models.entry(model.clone()).or_insert_with(|| {
            let priced = prices.lookup(model);
            ModelUse {
                model: model.clone(),
                priced_as: priced.map(|(name, _)| name.to_owned()),
                input: priced.map(|(_, p)| p.input),
                output: priced.map(|(_, p)| p.output),
                cached_input: priced.and_then(|(_, p)| p.cached_input),
                ..ModelUse::default()
            }
        });
        used.calls += 1;
        used.tokens_in += row.sum_in;
        used.tokens_cached += usage.tokens_cached.unwrap_or(0);
        used.tokens_out += row.sum_out;
        used.tokens_reasoning += usage.tokens_reasoning.unwrap_or(0);
        if let Some(cost) = cost {
            *used.cost.get_or_insert(0.0) += cost;
        }
        row.cost = cost;
    }
    if row.cost.is_none() {
        row.unpriced = 1;
    }
    row.sum_cost = row.cost.unwrap_or(0.0);
    row.model = usage.model;
}

/// Children before parents: each row's subtree end, and its tokens, cost, unpriced calls and
/// errors added to its parent's; then costs rounded to a billionth.
fn roll_up(rows: &mut [Row<'_>]) {
    let n = rows.len();
    let mut end = vec![0u32; n];
    for r in (0..n).rev() {
        if end[r] == 0 {
            end[r] = r as u32 + 1; // a leaf
        }
        let p = rows[r].parent;
        if p >= 0 {
            let p = p as usize;
            end[p] = end[p].max(end[r]);
            let (ti, to, cost, unpriced) = (
                rows[r].sum_in,
                rows[r].sum_out,
                rows[r].sum_cost,
                rows[r].unpriced,
            );
            let failed = rows[r].flags & (OWN_ERROR | ERROR_BELOW) != 0;
            let parent = &mut rows[p];
            parent.sum_in += ti;
            parent.sum_out += to;
            parent.sum_cost += cost;
            parent.unpriced += unpriced;
            if failed {
                parent.flags |= ERROR_BELOW;
            }
        }
    }
    for (row, end) in rows.iter_mut().zip(end) {
        row.subtree_end = end;
        row.sum_cost = (row.sum_cost * 1e9).round() / 1e9;
        row.cost = row.cost.map(|c| (c * 1e9).round() / 1e9);
    }
}

/// From each root down, the child that ended last: the chain that decided when the root
/// ended (ties go to the child that started later).
fn mark_critical_paths(tree: &CallTree<'_, '_>, row_of: &[u32], rows: &mut [Row<'_>]) {
    for &root in &tree.tree.roots {
        let mut call = root;
        loop {
            rows[row_of[call as usize] as usize].flags |= CRITICAL;
            let last = tree
                .tree
                .children_of(call)
                .iter()
                .copied()
                .max_by(|&a, &b| {
                    let (ra, rb) = (
                        &rows[row_of[a as usize] as usize],
                        &rows[row_of[b as usize] as usize],
                    );
                    ra.stop
                        .total_cmp(&rb.stop)
                        .then(ra.start.total_cmp(&rb.start))
                });
            match last {
                Some(child) => call = child,
                None => break,
            }
        }
    }
}

fn is_empty_json(raw: &RawValue) -> bool {
    matches!(raw.get().trim(), "null" | "{}" | "[]")
}
