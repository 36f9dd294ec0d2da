//! The soak test: 8 threads record continuously for 30 s (`AIOBS_SOAK_SECS` to change) while
//! the collector auto-flushes every 200 ms into a directory. Every event recorded is in
//! exactly one file, every file passes the validator, the files join into the tree of the
//! calls made, and the process's peak memory stays under a stated bound. Its own test binary,
//! so that the peak is this test's alone.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aiobs::model::{ObservabilityExport, TraceNode};
use aiobs::{AutoFlush, Collector, ObserveOptions, observe};

const THREADS: usize = 8;
/// The bound on the process's peak resident memory (`VmHWM`).
const PEAK_BOUND_MIB: u64 = 64;

#[observe]
fn retrieve(query: &str, k: usize) -> Vec<String> {
    (0..k).map(|i| format!("{query}#{i}")).collect()
}

#[observe]
fn tokenize(text: &str) -> usize {
    text.split('#').count()
}

#[observe]
fn generate(docs: &[String]) -> Result<String, String> {
    let n = tokenize(&docs.join(" "));
    if n % 7 == 0 {
        Err(format!("no answer from {n} pieces"))
    } else {
        Ok(format!("answer from {n} pieces"))
    }
}

/// Four events: request, retrieve, generate, tokenize.
#[observe]
fn request(id: u64) -> bool {
    let docs = retrieve(&format!("q{id}"), (id % 5) as usize);
    generate(&docs).is_ok()
}

/// A root that lives across several flushes: its requests are flushed before it is.
#[observe]
fn batch(worker: usize, stop: &AtomicBool, events: &AtomicU64) -> u64 {
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(700) && !stop.load(Ordering::Relaxed) {
        request((worker as u64) << 32 | n);
        events.fetch_add(4, Ordering::Relaxed);
        n += 1;
        std::thread::sleep(Duration::from_millis(4)); // a request every 4 ms or so
    }
    n
}

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// A function node's name, span and parent span.
fn ids(node: &TraceNode) -> (&str, Option<&str>, Option<&str>) {
    match node {
        TraceNode::Function { event, .. } => (
            &event.event.name,
            event.event.span_id.as_deref(),
            event.event.parent_span_id.as_deref(),
        ),
        TraceNode::Provider { .. } => panic!("no LLM calls in this test"),
    }
}

/// Checks that each node's children point at it, and counts the nodes.
fn walk(nodes: &[TraceNode], parent: Option<&str>, count: &mut usize) {
    for node in nodes {
        let (_, span, node_parent) = ids(node);
        assert_eq!(node_parent, parent, "a child points at its parent");
        *count += 1;
        walk(node.children(), span, count);
    }
}

#[test]
fn eight_threads_for_thirty_seconds_with_auto_flush_every_200_ms() {
    let secs: u64 = std::env::var("AIOBS_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().session_name("soak"))
        .unwrap();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(Duration::from_millis(200)))
        .unwrap();

    let stop = AtomicBool::new(false);
    let recorded = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..THREADS {
            let (obs, stop, recorded) = (obs.clone(), &stop, &recorded);
            s.spawn(move || {
                let _scope = obs.set_default();
                while !stop.load(Ordering::Relaxed) {
                    batch(worker, stop, recorded);
                    recorded.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed();
    let stats = obs.auto_flush_stats();
    obs.end();
    obs.stop_auto_flush().unwrap();
    let recorded = recorded.load(Ordering::Relaxed);
    let peak = peak_rss_mib();

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() as u64 >= secs * 2,
        "a file every 200 ms or so: {}",
        files.len()
    );
    // The validator over the two halves at once (it is the slow part of this test).
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|s| {
        for half in [first, second] {
            s.spawn(|| {
                support::validate_export(&half.iter().map(PathBuf::as_path).collect::<Vec<_>>())
            });
        }
    });

    let docs: Vec<ObservabilityExport> = files
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    // Every event in exactly one file.
    let mut spans = HashSet::new();
    let mut names: HashMap<String, u64> = HashMap::new();
    for doc in &docs {
        for e in &doc.function_events {
            assert!(
                spans.insert(e.event.span_id.clone().unwrap()),
                "an event in two files"
            );
            *names.entry(e.event.name.clone()).or_default() += 1;
        }
    }
    assert_eq!(spans.len() as u64, recorded, "{names:?}");
    assert_eq!(names["request"] * 4 + names["batch"], recorded);

    // The joined files are one tree per batch, holding every event.
    let joined = aiobs::merge_exports(docs, true);
    let tree = joined.trace_tree.unwrap();
    assert_eq!(tree.len() as u64, names["batch"]);
    assert!(tree.iter().all(|root| ids(root).0 == "batch"));
    let mut count = 0;
    walk(&tree, None, &mut count);
    assert_eq!(count as u64, recorded);

    println!(
        "soak: {recorded} events in {:.1} s ({:.0}/s), {} files, flusher busy {:.1}% of the time, \
         peak RSS {peak:?} MiB",
        elapsed.as_secs_f64(),
        recorded as f64 / elapsed.as_secs_f64(),
        files.len(),
        stats.busy.as_secs_f64() / elapsed.as_secs_f64() * 100.0,
    );
    if let Some(peak) = peak {
        assert!(
            peak < PEAK_BOUND_MIB,
            "peak RSS {peak} MiB over {PEAK_BOUND_MIB}"
        );
    }
}
