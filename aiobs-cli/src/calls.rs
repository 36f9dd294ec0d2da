//! Function and provider events as one list of calls, and the trace tree over them (rebuilt
//! from `parent_span_id` with the runtime's own [`aiobs::tree::Tree`], so it is the tree the
//! format defines whether or not the file holds one).

use std::collections::HashMap;

use aiobs::tree::{Tree, TreeInput};

use crate::load::{Export, FunctionEvent, ProviderEvent};

/// One call: an observed function or an LLM (provider) call.
#[derive(Debug, Clone, Copy)]
pub enum Call<'e, 'a> {
    /// An observed function call.
    Function(&'e FunctionEvent<'a>),
    /// A provider call.
    Provider(&'e ProviderEvent<'a>),
}

impl<'e, 'a> Call<'e, 'a> {
    /// The span id, if any.
    pub fn span(&self) -> Option<&'e str> {
        match self {
            Call::Function(f) => f.span_id.as_deref(),
            Call::Provider(p) => p.span_id.as_deref(),
        }
    }

    /// The parent span id, if any.
    pub fn parent(&self) -> Option<&'e str> {
        match self {
            Call::Function(f) => f.parent_span_id.as_deref(),
            Call::Provider(p) => p.parent_span_id.as_deref(),
        }
    }

    /// Unix seconds.
    pub fn started_at(&self) -> f64 {
        match self {
            Call::Function(f) => f.started_at,
            Call::Provider(p) => p.started_at,
        }
    }

    /// Milliseconds.
    pub fn duration_ms(&self) -> f64 {
        match self {
            Call::Function(f) => f.duration_ms,
            Call::Provider(p) => p.duration_ms,
        }
    }

    /// The error, if the call failed.
    pub fn error(&self) -> Option<&'e str> {
        match self {
            Call::Function(f) => f.error.as_deref(),
            Call::Provider(p) => p.error.as_deref(),
        }
    }

    /// The session's id.
    pub fn session_id(&self) -> &'e str {
        match self {
            Call::Function(f) => &f.session_id,
            Call::Provider(p) => &p.session_id,
        }
    }
}

/// Every call of an export and the tree over them.
#[derive(Debug)]
pub struct CallTree<'e, 'a> {
    /// Provider events first, then function events, in file order.
    pub calls: Vec<Call<'e, 'a>>,
    /// The forest over `calls`, by index.
    pub tree: Tree,
}

impl<'e, 'a> CallTree<'e, 'a> {
    /// Collects the calls of `export` and builds their tree.
    pub fn new(export: &'e Export<'a>) -> CallTree<'e, 'a> {
        let calls: Vec<Call<'e, 'a>> = export
            .events
            .iter()
            .map(Call::Provider)
            .chain(export.function_events.iter().map(Call::Function))
            .collect();
        // Span ids as small numbers for `Tree` (0 is "none").
        let mut ids: HashMap<&str, u64> = HashMap::with_capacity(calls.len());
        let mut number = |span: Option<&'e str>| match span {
            None => 0,
            Some(s) => {
                let next = ids.len() as u64 + 1;
                *ids.entry(s).or_insert(next)
            }
        };
        let inputs: Vec<TreeInput> = calls
            .iter()
            .map(|c| TreeInput {
                span: number(c.span()),
                parent: number(c.parent()),
                started_at: c.started_at(),
            })
            .collect();
        let tree = Tree::build(&inputs);
        CallTree { calls, tree }
    }
}
