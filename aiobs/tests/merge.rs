//! Joining the files of successive flushes back into one document with one tree.

mod support;

use std::path::{Path, PathBuf};

use aiobs::model::{ObservabilityExport, TraceNode};
use aiobs::{Collector, FlushOptions, ObserveOptions, merge_exports};

fn read(path: &Path) -> ObservabilityExport {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[aiobs::observe]
fn child(i: u32) -> u32 {
    i
}

#[aiobs::observe(enh_prompt = true)]
fn prompt() -> &'static str {
    "p"
}

/// A root that flushes twice while it runs: its children land in earlier files than itself.
#[aiobs::observe(skip(obs, dir, files))]
fn long_root(obs: &Collector, dir: &Path, files: &mut Vec<PathBuf>) -> u32 {
    for n in 0..2 {
        child(n);
        let path = dir.join(format!("part-{n}.json"));
        files.push(obs.flush(FlushOptions::to_path(&path)).unwrap());
    }
    prompt();
    7
}

#[test]
fn the_files_of_successive_flushes_join_into_one_tree() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    let dir = tempfile::tempdir().unwrap();
    obs.observe(ObserveOptions::new().session_name("long"))
        .unwrap();
    let mut files = Vec::new();
    long_root(&obs, dir.path(), &mut files);
    obs.end();
    files.push(
        obs.flush(FlushOptions::to_path(dir.path().join("last.json")))
            .unwrap(),
    );
    // Each file alone: the children are roots there, their parent not yet written.
    assert_eq!(read(&files[0]).trace_tree.unwrap().len(), 1);

    let parts: Vec<ObservabilityExport> = files.iter().map(|p| read(p)).collect();
    let merged = merge_exports(parts.clone(), true);
    assert_eq!(merged.sessions.len(), 1);
    assert!(
        merged.sessions[0].ended_at.is_some(),
        "the last copy of the session wins"
    );
    assert_eq!(merged.function_events.len(), 4);
    let tree = merged.trace_tree.as_ref().unwrap();
    assert_eq!(tree.len(), 1, "one root");
    let TraceNode::Function { event, children } = &tree[0] else {
        panic!("a function root")
    };
    assert_eq!(event.event.name, "long_root");
    let names: Vec<String> = children
        .iter()
        .map(|c| match c {
            TraceNode::Function { event, .. } => event.event.name.clone(),
            TraceNode::Provider { event, .. } => event.event.api.clone(),
        })
        .collect();
    assert_eq!(names, ["child", "child", "prompt"]);
    assert_eq!(merged.enh_prompt_traces.as_ref().map(Vec::len), Some(1));

    // The joined document is a valid export too.
    let joined = dir.path().join("joined.json");
    std::fs::write(&joined, serde_json::to_vec(&merged).unwrap()).unwrap();
    support::validate_export(&[&joined]);

    // Joining a file twice keeps each event once.
    let twice = merge_exports(parts.iter().cloned().chain(parts.clone()), false);
    assert_eq!(twice.function_events.len(), 4);
    assert!(twice.trace_tree.is_none() && twice.enh_prompt_traces.is_none());
}
