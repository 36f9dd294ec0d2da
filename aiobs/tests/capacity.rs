//! The capacity: past the cap on events or bytes, new events are dropped and counted (never
//! waited for), the count is in the next export, and recording resumes after a flush.

mod support;

use aiobs::{Capacity, Collector, ObserveOptions, observe};

#[observe]
fn leaf(i: u64) -> u64 {
    i ^ 0x5a
}

#[observe]
fn pair(i: u64) -> u64 {
    leaf(i) + leaf(i + 1)
}

#[observe]
fn big(text: &str) -> usize {
    text.len()
}

fn dropped_label(doc: &serde_json::Value) -> Option<u64> {
    doc["sessions"][0]["labels"]["aiobs_dropped_events"]
        .as_str()
        .map(|n| n.parse().unwrap())
}

#[test]
fn a_burst_far_over_the_event_cap_drops_and_counts_on_every_thread() {
    const CAP: u64 = 10_000;
    const THREADS: u64 = 4;
    const TREES: u64 = 100_000; // 3 events each: 1,200,000 in all
    let obs = Collector::new();
    obs.set_capacity(Capacity::new().max_events(CAP));
    obs.observe(ObserveOptions::new().session_name("burst"))
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let obs = obs.clone();
            s.spawn(move || {
                let _scope = obs.set_default();
                for i in 0..TREES {
                    pair(t * TREES + i);
                }
            });
        }
    });
    let total = THREADS * TREES * 3;
    let backlog = obs.backlog();
    assert!(backlog.events <= CAP, "{backlog:?}");
    assert!(
        backlog.events >= CAP - THREADS * 128,
        "only unspent batches are missing: {backlog:?}"
    );
    assert_eq!(backlog.events + backlog.dropped, total, "{backlog:?}");

    obs.end();
    let (doc, _, _dir) = support::flush_validated(&obs, "burst.json");
    let written = doc["function_events"].as_array().unwrap().len() as u64;
    assert_eq!(written, backlog.events);
    assert_eq!(dropped_label(&doc), Some(total - written));
    assert_eq!(obs.backlog(), aiobs::Backlog::default());
}

#[test]
fn after_a_flush_recording_resumes_and_the_label_keeps_the_session_total() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_capacity(Capacity::new().max_events(100));
    obs.observe(ObserveOptions::new()).unwrap();
    for i in 0..250 {
        leaf(i);
    }
    assert_eq!(obs.backlog().dropped, 150);
    let (doc, _, _dir) = support::flush_validated(&obs, "1.json");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 100);
    assert_eq!(dropped_label(&doc), Some(150));

    for i in 0..120 {
        leaf(i);
    }
    let (doc, _, _dir) = support::flush_validated(&obs, "2.json");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 100);
    assert_eq!(dropped_label(&doc), Some(170), "150 before, 20 now");

    // Under the cap nothing more is dropped, and the label still says what the session lost.
    leaf(1);
    let (doc, _, _dir) = support::flush_validated(&obs, "3.json");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 1);
    assert_eq!(dropped_label(&doc), Some(170));
}

#[test]
fn a_session_that_lost_nothing_has_no_dropped_label() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    leaf(1);
    let (doc, _, _dir) = support::flush_validated(&obs, "t.json");
    assert_eq!(dropped_label(&doc), None);
}

#[test]
fn the_byte_cap_bounds_the_memory_held() {
    const MAX: u64 = 2 << 20;
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_capacity(Capacity::new().max_bytes(MAX));
    obs.set_limits(aiobs::Limits::new().max_str_chars(10_000));
    obs.observe(ObserveOptions::new()).unwrap();
    let text = "x".repeat(8_000);
    let mut peak = 0;
    for _ in 0..10_000 {
        big(&text); // 80 MB of arguments in all
        peak = peak.max(obs.backlog().bytes);
    }
    let backlog = obs.backlog();
    // A thread's first 256 KiB buffer is taken whatever the cap: the bound is the cap, or
    // that buffer if the cap is smaller.
    assert!(peak <= MAX, "peak {peak} over the cap {MAX}");
    assert!(backlog.events < 300, "{backlog:?}");
    assert_eq!(backlog.events + backlog.dropped, 10_000);
    let (doc, _, _dir) = support::flush_validated(&obs, "big.json");
    assert_eq!(
        doc["function_events"].as_array().unwrap().len() as u64,
        backlog.events
    );
    assert_eq!(dropped_label(&doc), Some(backlog.dropped));
    assert!(
        obs.backlog().bytes <= 256 << 10,
        "the flush gave the bytes back"
    );
}

#[test]
fn children_of_a_dropped_call_still_make_a_valid_file() {
    // The cap can fall between a call and its children: the children kept point at a parent
    // that is not in the file, which readers take as a root (as with auto-flushed files).
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_capacity(Capacity::new().max_events(201));
    obs.observe(ObserveOptions::new()).unwrap();
    for i in 0..100 {
        pair(i);
    }
    let (doc, _, _dir) = support::flush_validated(&obs, "cut.json");
    let events = doc["function_events"].as_array().unwrap();
    assert_eq!(events.len(), 201);
    assert_eq!(dropped_label(&doc), Some(99));
}

#[test]
fn unbounded_keeps_everything() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_capacity(Capacity::unbounded());
    obs.observe(ObserveOptions::new()).unwrap();
    for i in 0..50_000 {
        leaf(i);
    }
    assert_eq!(obs.backlog().events, 50_000);
    assert_eq!(obs.backlog().dropped, 0);
}

/// Counts how often it is captured (its `Debug` runs only when a call is captured).
struct Watched;

static CAPTURED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        CAPTURED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        f.write_str("Watched")
    }
}

#[observe]
fn watched(w: &Watched) -> usize {
    let _ = w;
    1
}

#[test]
fn over_the_cap_a_call_is_counted_without_capturing_anything() {
    use std::sync::atomic::Ordering::SeqCst;
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_capacity(Capacity::new().max_events(10));
    obs.observe(ObserveOptions::new()).unwrap();
    for _ in 0..1_000 {
        watched(&Watched);
    }
    // Ten calls stored, one refused when it was pushed; from then on calls are refused
    // before their arguments are captured.
    assert_eq!(CAPTURED.load(SeqCst), 11);
    assert_eq!(obs.backlog().dropped, 990);
    let (doc, _, _dir) = support::flush_validated(&obs, "watched.json");
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 10);
    // After the flush the collector takes calls again.
    watched(&Watched);
    assert_eq!(CAPTURED.load(SeqCst), 12);
    assert_eq!(obs.backlog().events, 1);
}
