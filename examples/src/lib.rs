//! Runnable examples of aiobs: `cargo run -p examples --example quickstart`.
//!
//! Also what the examples share: [`print_tree`] prints a flushed trace as an indented tree with
//! durations. The examples with LLM clients, async runtimes and tracing are in the
//! `examples-integrations` crate.

use aiobs::model::{ObservabilityExport, TraceNode};

/// Reads the export at `path` and prints its trace tree, one call a line, indented by depth.
pub fn print_tree(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let export: ObservabilityExport = serde_json::from_slice(&std::fs::read(path)?)?;
    println!(
        "{}: {} session(s), {} function call(s), {} provider call(s)",
        path.display(),
        export.sessions.len(),
        export.function_events.len(),
        export.events.len()
    );
    let roots = export.trace_tree.unwrap_or_default();
    // Depth-first without recursion: (node, depth), last root first on the stack.
    let mut stack: Vec<(&TraceNode, usize)> = roots.iter().rev().map(|n| (n, 0)).collect();
    while let Some((node, depth)) = stack.pop() {
        println!("{}{}", "  ".repeat(depth), describe(node));
        stack.extend(node.children().iter().rev().map(|c| (c, depth + 1)));
    }
    Ok(())
}

fn describe(node: &TraceNode) -> String {
    match node {
        TraceNode::Function { event, .. } => {
            let e = &event.event;
            let outcome = match (&e.error, &e.result) {
                (Some(err), _) => format!("  ERROR {err}"),
                (None, Some(v)) => format!(" -> {}", short(&v.to_string())),
                (None, None) => String::new(),
            };
            format!("{} ({:.3} ms){outcome}", e.name, e.duration_ms)
        }
        TraceNode::Provider { event, .. } => {
            let e = &event.event;
            let err = e
                .error
                .as_deref()
                .map(|x| format!("  ERROR {x}"))
                .unwrap_or_default();
            let replayed = if event.replayed { " replayed" } else { "" };
            format!(
                "[{}] {} ({:.3} ms{replayed}){err}",
                e.provider, e.api, e.duration_ms
            )
        }
    }
}

fn short(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}
