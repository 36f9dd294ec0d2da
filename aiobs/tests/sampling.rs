//! Sampling: head ratio and tail rules keep or drop whole trees, never parts of one, and the
//! export says how many were kept and dropped.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aiobs::{Collector, ObserveOptions, Sampling};
use serde_json::Value;

#[aiobs::observe]
fn leaf(i: u64) -> u64 {
    i + 1
}

#[aiobs::observe]
fn middle(i: u64, fail: bool) -> Result<u64, std::fmt::Error> {
    leaf(i);
    if fail { Err(std::fmt::Error) } else { Ok(i) }
}

#[aiobs::observe]
fn root(i: u64, fail: bool) -> u64 {
    let _ = middle(i, fail);
    leaf(i)
}

/// Checks that no tree in the file is partial: every root has its 3 calls, every child's
/// parent is in the file. Returns the `i` argument of each kept root.
fn whole_trees(doc: &Value) -> Vec<u64> {
    let events = doc["function_events"].as_array().unwrap();
    let spans: HashSet<&str> = events
        .iter()
        .map(|e| e["span_id"].as_str().unwrap())
        .collect();
    let mut children: HashMap<&str, usize> = HashMap::new();
    let mut roots = Vec::new();
    for e in events {
        match e["parent_span_id"].as_str() {
            Some(parent) => {
                assert!(spans.contains(parent), "a child without its parent: {e}");
                *children.entry(parent).or_default() += 1;
            }
            None => {
                assert_eq!(e["name"], "root");
                roots.push(e);
            }
        }
    }
    for r in &roots {
        assert_eq!(
            children[r["span_id"].as_str().unwrap()],
            2,
            "root has both children"
        );
    }
    assert_eq!(
        events.len(),
        roots.len() * 4,
        "root, middle, and two leaves a tree"
    );
    roots
        .iter()
        .map(|r| r["args"][0].as_u64().unwrap())
        .collect()
}

fn label(doc: &Value, key: &str) -> String {
    doc["sessions"][0]["labels"][key]
        .as_str()
        .unwrap_or_else(|| panic!("label {key}"))
        .to_owned()
}

#[test]
fn head_sampling_keeps_its_share_of_whole_trees_and_counts_them() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().head_ratio(0.1));
    obs.observe(ObserveOptions::new().session_name("head"))
        .unwrap();
    for i in 0..10_000 {
        root(i, false);
    }
    obs.end();
    let (doc, _, _dir) = support::flush_validated(&obs, "head.json");
    let kept = whole_trees(&doc).len();
    // Binomial(10000, 0.1): sd 30; five of them either side.
    assert!((850..=1150).contains(&kept), "kept {kept}");
    assert_eq!(label(&doc, "aiobs_sampled_kept"), kept.to_string());
    assert_eq!(
        label(&doc, "aiobs_sampled_dropped"),
        (10_000 - kept).to_string()
    );
    assert_eq!(label(&doc, "aiobs_sampling"), "head=0.1");
}

#[test]
fn tail_rules_keep_every_tree_with_an_error_and_a_share_of_the_rest() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.1).keep_errors(true));
    obs.observe(ObserveOptions::new().session_name("tail"))
        .unwrap();
    for i in 0..10_000 {
        root(i, i % 7 == 0); // the error is in a child, not the root
    }
    obs.end();
    let (doc, _, _dir) = support::flush_validated(&obs, "tail.json");
    let kept: HashSet<u64> = whole_trees(&doc).into_iter().collect();
    let failing = (0..10_000).filter(|i| i % 7 == 0);
    for i in failing.clone() {
        assert!(kept.contains(&i), "tree {i} had an error");
    }
    let others = kept.len() - failing.count();
    // 8571 trees without an error at 0.1: sd 28.
    assert!(
        (715..=1000).contains(&others),
        "kept {others} without an error"
    );
    assert_eq!(
        label(&doc, "aiobs_sampled_dropped"),
        (10_000 - kept.len()).to_string()
    );
}

#[test]
fn tail_rules_keep_slow_roots() {
    #[aiobs::observe]
    fn sleepy(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(
        Sampling::new()
            .tail_ratio(0.0)
            .keep_slower_than(Duration::from_millis(30)),
    );
    obs.observe(ObserveOptions::new()).unwrap();
    for ms in [0, 40, 1, 35] {
        sleepy(ms);
    }
    let (doc, _, _dir) = support::flush_validated(&obs, "slow.json");
    let kept: Vec<u64> = doc["function_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["args"][0].as_u64().unwrap())
        .collect();
    assert_eq!(kept, [40, 35]);
}

#[test]
fn a_tree_whose_root_is_still_running_waits_for_it_under_tail_rules() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.0).keep_errors(true));
    obs.observe(ObserveOptions::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");

    #[aiobs::observe]
    fn outer(obs: &Collector, path: &std::path::Path) -> Result<(), std::fmt::Error> {
        leaf(1);
        // Flushed while this call runs: its child must not be written without it.
        obs.flush(aiobs::FlushOptions::to_path(path)).unwrap();
        Err(std::fmt::Error)
    }
    let _ = outer(&obs, &first);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 0);
    support::validate_export(&[&first]);
    let (doc, _, _dir) = support::flush_validated(&obs, "second.json");
    let names: Vec<&str> = doc["function_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"outer") && names.contains(&"leaf"));
}

#[test]
fn a_dropped_tree_records_nothing_across_awaits_threads_and_llm_calls() {
    #[aiobs::observe]
    async fn child() -> u8 {
        std::future::ready(1).await
    }
    #[aiobs::observe]
    async fn dropped_root() -> u8 {
        let ctx = aiobs::SpanContext::current();
        assert_eq!(ctx.span_id(), None, "a dropped span has no id");
        std::thread::spawn(move || ctx.in_scope(|| leaf(1)))
            .join()
            .unwrap();
        let call = aiobs::ProviderCall::start("openai", "chat.completions.create", &1);
        assert!(
            call.is_none(),
            "an LLM call in a dropped tree is not recorded"
        );
        child().await + child().await
    }
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().head_ratio(0.0));
    obs.observe(ObserveOptions::new()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(dropped_root()), 2);
    assert_eq!(
        leaf(5),
        6,
        "a root after it is sampled again (and dropped at 0.0)"
    );
    let (doc, _, _dir) = support::flush_validated(&obs, "dropped.json");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 0);
    assert_eq!(label(&doc, "aiobs_sampled_dropped"), "2");
    assert_eq!(label(&doc, "aiobs_sampled_kept"), "0");
}

#[test]
fn without_sampling_there_are_no_sampling_labels() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    root(1, false);
    let (doc, _, _dir) = support::flush_validated(&obs, "all.json");
    assert_eq!(whole_trees(&doc), [1]);
    assert!(doc["sessions"][0]["labels"]["aiobs_sampling"].is_null());
}

#[test]
fn a_dropped_root_that_panics_leaves_no_dropped_span_behind() {
    #[aiobs::observe]
    fn boom() {
        panic!("a dropped root panicked on purpose");
    }
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_sampling(Sampling::new().head_ratio(0.0));
    obs.observe(ObserveOptions::new()).unwrap();
    assert!(std::panic::catch_unwind(boom).is_err());
    obs.set_sampling(Sampling::new());
    leaf(1); // a root again, recorded: the panic did not leave the dropped span current
    let (doc, _, _dir) = support::flush_validated(&obs, "panicked.json");
    assert_eq!(doc["function_events"][0]["name"], "leaf");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 1);
    assert_eq!(
        label(&doc, "aiobs_sampled_dropped"),
        "1",
        "the root that panicked"
    );
}
