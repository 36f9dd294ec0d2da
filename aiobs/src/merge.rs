//! Joining exports: the files that successive flushes of one program wrote, back into one
//! document with one tree.

use std::collections::HashMap;

use crate::model::{ObservabilityExport, ObservedEvent, ObservedFunctionEvent, TraceNode};
use crate::tree::{Tree, TreeInput};

/// One event of either kind, while merging.
enum Any {
    Provider(ObservedEvent),
    Function(ObservedFunctionEvent),
}

impl Any {
    fn span(&self) -> Option<&str> {
        match self {
            Any::Provider(e) => e.event.span_id.as_deref(),
            Any::Function(e) => e.event.span_id.as_deref(),
        }
    }
    fn parent(&self) -> Option<&str> {
        match self {
            Any::Provider(e) => e.event.parent_span_id.as_deref(),
            Any::Function(e) => e.event.parent_span_id.as_deref(),
        }
    }
    fn started_at(&self) -> f64 {
        match self {
            Any::Provider(e) => e.event.started_at,
            Any::Function(e) => e.event.started_at,
        }
    }
    fn ended_at(&self) -> f64 {
        match self {
            Any::Provider(e) => e.event.ended_at,
            Any::Function(e) => e.event.ended_at,
        }
    }
}

/// Joins exports into one: sessions by id (a later export's copy of a session replaces an
/// earlier one: it has the later `ended_at` and labels), every event once (by span id, the
/// first copy kept), in completion order, and, when `with_tree`, `trace_tree` and
/// `enh_prompt_traces` built over all of them, so a call whose parent was flushed in an
/// earlier file is nested under it again.
///
/// ```
/// use aiobs::model::ObservabilityExport;
///
/// # fn read(path: &str) -> ObservabilityExport {
/// #     serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
/// # }
/// # let dir = std::env::temp_dir().join(format!("aiobs-merge-{}", std::process::id()));
/// let obs = aiobs::Collector::new();
/// obs.observe(aiobs::ObserveOptions::new())?;
/// let first = obs.flush(aiobs::FlushOptions::to_path(dir.join("1.json")))?;
/// let second = obs.flush(aiobs::FlushOptions::to_path(dir.join("2.json")))?;
/// let files = [first, second].map(|p| read(p.to_str().unwrap()));
/// let joined = aiobs::merge_exports(files, true);
/// assert_eq!(joined.sessions.len(), 1);
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs::Error>(())
/// ```
pub fn merge_exports(
    exports: impl IntoIterator<Item = ObservabilityExport>,
    with_tree: bool,
) -> ObservabilityExport {
    let mut sessions: Vec<crate::model::Session> = Vec::new();
    let mut events: Vec<Any> = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut generated_at = 0f64;
    for export in exports {
        generated_at = generated_at.max(export.generated_at);
        for s in export.sessions {
            match sessions.iter_mut().find(|old| old.id == s.id) {
                Some(old) => *old = s,
                None => sessions.push(s),
            }
        }
        let all = export
            .events
            .into_iter()
            .map(Any::Provider)
            .chain(export.function_events.into_iter().map(Any::Function));
        for e in all {
            if let Some(span) = e.span() {
                if seen.insert(span.to_owned(), ()).is_some() {
                    continue;
                }
            }
            events.push(e);
        }
    }
    // Completion order, as a flush writes them.
    events.sort_by(|a, b| a.ended_at().total_cmp(&b.ended_at()));
    let (trace_tree, enh_prompt_traces) = if with_tree {
        let (tree, enh) = build_tree(&events);
        (Some(tree), (!enh.is_empty()).then_some(enh))
    } else {
        (None, None)
    };
    let mut out = ObservabilityExport {
        sessions,
        events: Vec::new(),
        function_events: Vec::new(),
        trace_tree,
        enh_prompt_traces,
        generated_at,
        version: 1,
    };
    for e in events {
        match e {
            Any::Provider(e) => out.events.push(e),
            Any::Function(e) => out.function_events.push(e),
        }
    }
    out
}

/// A span id as a small number (the same for the same id; 0 for none).
fn number<'a>(ids: &mut HashMap<&'a str, u64>, span: Option<&'a str>) -> u64 {
    match span {
        None => 0,
        Some(s) => {
            let next = ids.len() as u64 + 1;
            *ids.entry(s).or_insert(next)
        }
    }
}

/// The tree over `events` as nodes, and the `enh_prompt_id`s in pre-order.
fn build_tree(events: &[Any]) -> (Vec<TraceNode>, Vec<String>) {
    // Span ids as small numbers for `Tree` (0 is "none").
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let inputs: Vec<TreeInput> = events
        .iter()
        .map(|e| TreeInput {
            span: number(&mut ids, e.span()),
            parent: number(&mut ids, e.parent()),
            started_at: e.started_at(),
        })
        .collect();
    let tree = Tree::build(&inputs);
    let order = tree.preorder();
    let enh = order
        .iter()
        .filter_map(|&i| match &events[i as usize] {
            Any::Function(f) if f.event.enh_prompt => f.event.enh_prompt_id.clone(),
            _ => None,
        })
        .collect();
    // Children before parents (reverse pre-order), so each node is made with its children.
    let mut made: Vec<Option<TraceNode>> = (0..events.len()).map(|_| None).collect();
    for &i in order.iter().rev() {
        let children: Vec<TraceNode> = tree
            .children_of(i)
            .iter()
            .filter_map(|&c| made[c as usize].take())
            .collect();
        made[i as usize] = Some(match &events[i as usize] {
            Any::Provider(e) => TraceNode::Provider {
                event: e.clone(),
                children,
            },
            Any::Function(e) => TraceNode::Function {
                event: e.clone(),
                children,
            },
        });
    }
    let roots = tree
        .roots
        .iter()
        .filter_map(|&r| made[r as usize].take())
        .collect();
    (roots, enh)
}
