//! Regressions found in review of the privacy and sampling work: secrets under cut or
//! secret-looking keys, a mask applied twice, carried records lost or written in part.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aiobs::mask::{Captured, Mask, MaskPath};
use aiobs::{
    Collector, ExportDocument, ExportResult, Exporter, FlushOptions, Limits, ObserveOptions,
    Sampling,
};
use serde_json::Value;

fn flush_json(obs: &Collector) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.json");
    obs.flush(FlushOptions::to_path(&p)).unwrap();
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

#[aiobs::observe]
fn takes_map(m: BTreeMap<String, String>) -> usize {
    m.len()
}

#[test]
fn a_value_under_a_cut_key_is_redacted() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    // default limits: keys keep 100 characters
    let long = format!("{}_api_key", "a".repeat(95));
    takes_map(BTreeMap::from([(long, "SECRET-1".to_owned())]));
    obs.set_limits(Limits::new().max_key_chars(8));
    takes_map(BTreeMap::from([(
        "authorization".to_owned(),
        "SECRET-2".to_owned(),
    )]));
    let doc = flush_json(&obs);
    let text = doc["function_events"].to_string();
    assert!(!text.contains("SECRET-1"), "SECRET-1 leaked");
    assert!(!text.contains("SECRET-2"), "SECRET-2 leaked");
}

#[test]
fn secrets_in_map_keys_are_scrubbed() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    takes_map(BTreeMap::from([(
        "sk-proj-abcdefghijklmnopqrstuvwx1234".to_owned(),
        "usage".to_owned(),
    )]));
    takes_map(BTreeMap::from([(
        "Bearer abcdefghijklmnop.qrstuv".to_owned(),
        "usage".to_owned(),
    )]));
    let doc = flush_json(&obs);
    let text = doc["function_events"].to_string();
    assert!(!text.contains("sk-proj-abcdefghij"), "key leaked");
}

#[aiobs::observe]
fn child() -> u8 {
    1
}

#[test]
fn a_carried_llm_event_is_masked_once() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.0).keep_errors(true));
    obs.set_mask(|_p: &MaskPath<'_>, v: &Captured<'_>| match v {
        Captured::Str(s) if s.contains("hello") => Mask::Replace(format!("<{s}>").into()),
        _ => Mask::Keep,
    });
    obs.observe(ObserveOptions::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    #[aiobs::observe]
    fn outer(obs: &Collector, path: &std::path::Path) -> Result<(), std::fmt::Error> {
        let call = aiobs::ProviderCall::start(
            "openai",
            "chat.completions.create",
            &serde_json::json!({"content": "hello"}),
        )
        .unwrap();
        call.finish_ok(&serde_json::json!({"content": "hello"}));
        obs.flush(FlushOptions::to_path(path)).unwrap();
        Err(std::fmt::Error)
    }
    let _ = outer(&obs, &first);
    let doc = flush_json(&obs);
    let ev = doc["events"].to_string();
    assert!(!ev.contains("<<hello>>"), "masked twice: {ev}");
}

#[test]
fn carried_records_of_an_ended_session_are_written_with_their_root() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(1.0 - 1e-9).keep_errors(true)); // has tail, keeps nearly all
    obs.observe(ObserveOptions::new()).unwrap();
    let (to_root_tx, to_root_rx) = std::sync::mpsc::channel::<()>();
    let (from_root_tx, from_root_rx) = std::sync::mpsc::channel::<()>();
    let obs2 = obs.clone();
    #[aiobs::observe]
    fn long_root(
        tx: &std::sync::mpsc::Sender<()>,
        rx: &std::sync::mpsc::Receiver<()>,
    ) -> Result<(), std::fmt::Error> {
        child();
        tx.send(()).unwrap();
        rx.recv().unwrap();
        Err(std::fmt::Error) // error: always kept
    }
    let h = std::thread::spawn(move || {
        let _s = obs2.set_default();
        let _ = long_root(&from_root_tx, &to_root_rx);
    });
    from_root_rx.recv().unwrap();
    obs.end(); // session ends while its root call still runs
    let d1 = flush_json(&obs); // the child is held back; the session is retired
    let d2 = flush_json(&obs); // the root still runs
    to_root_tx.send(()).unwrap();
    h.join().unwrap();
    let d3 = flush_json(&obs);
    let names: Vec<String> = [&d1, &d2, &d3]
        .iter()
        .flat_map(|d| {
            d["function_events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        names.contains(&"child".to_owned()),
        "child record lost: {names:?}"
    );
}

struct Panics;
impl Exporter for Panics {
    fn export(&self, _doc: &ExportDocument<'_>) -> Result<ExportResult, aiobs::BoxError> {
        panic!("exporter panicked")
    }
}

#[test]
fn a_panicking_exporter_loses_no_carried_record() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.0).keep_errors(true));
    obs.observe(ObserveOptions::new()).unwrap();
    #[aiobs::observe]
    fn outer2(obs: &Collector) -> Result<(), std::fmt::Error> {
        child();
        let dir = tempfile::tempdir().unwrap();
        obs.flush(FlushOptions::to_path(dir.path().join("a.json")))
            .unwrap(); // child carried
        let r =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| obs.flush_to(&Panics, true)));
        assert!(r.is_err());
        Err(std::fmt::Error)
    }
    let _ = outer2(&obs);
    let doc = flush_json(&obs);
    let names: Vec<&str> = doc["function_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"child"),
        "child lost after a panicking exporter: {names:?}"
    );
}

struct Grab(Mutex<Vec<String>>);
impl Exporter for Grab {
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, aiobs::BoxError> {
        for s in doc.sessions() {
            self.0.lock().unwrap().push(format!("{:?}", s.labels));
        }
        Ok(ExportResult::default())
    }
}

#[test]
fn exporters_see_scrubbed_labels() {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().label("api_key", "SECRET-LABEL"))
        .unwrap();
    let g = Grab(Mutex::new(Vec::new()));
    obs.flush_to(&g, true).unwrap();
    let got = g.0.lock().unwrap().join(" ");
    assert!(
        !got.contains("SECRET-LABEL"),
        "label leaked through sessions(): {got}"
    );
}

#[test]
fn a_root_running_longer_than_the_carry_limit_keeps_its_tree_whole() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.0).keep_errors(false));
    obs.observe(ObserveOptions::new()).unwrap();
    let total = Arc::new(Mutex::new(Vec::<Value>::new()));
    #[aiobs::observe(skip(obs, total))]
    fn outer3(obs: &Collector, total: &Arc<Mutex<Vec<Value>>>) {
        child();
        for _ in 0..10 {
            let doc = flush_json(obs);
            total.lock().unwrap().push(doc);
        }
    }
    outer3(&obs, &total);
    let last = flush_json(&obs);
    total.lock().unwrap().push(last);
    let names: Vec<String> = total
        .lock()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["function_events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let child = names.iter().any(|n| n == "child");
    let root = names.iter().any(|n| n == "outer3");
    assert_eq!(child, root, "never a child without its root: {names:?}");
}

#[test]
fn late_work_of_a_dropped_tree_is_dropped_too() {
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_sampling(Sampling::new().tail_ratio(0.0).keep_errors(false));
    obs.observe(ObserveOptions::new()).unwrap();
    #[aiobs::observe]
    fn root_spawns() -> aiobs::SpanContext {
        aiobs::SpanContext::current()
    }
    let ctx = root_spawns(); // root ends; a detached task keeps its context
    let mut names = Vec::new();
    let d = flush_json(&obs); // root decided: dropped
    names.extend(
        d["function_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned()),
    );
    let d = flush_json(&obs); // nothing; `decided` replaced by an empty map
    names.extend(
        d["function_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned()),
    );
    ctx.in_scope(child); // the detached work of the dropped tree finishes
    for _ in 0..10 {
        let d = flush_json(&obs);
        names.extend(
            d["function_events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned()),
        );
    }
    assert!(
        names.is_empty(),
        "events of a dropped tree written: {names:?}"
    );
}

#[test]
fn a_plain_list_stopped_by_the_event_budget_says_how_many_are_missing() {
    #[aiobs::observe]
    fn big(v: Vec<Vec<String>>) -> usize {
        v.len()
    }
    let obs = Collector::new();
    let _s = obs.set_default();
    obs.set_limits(Limits::new().max_event_bytes(2000));
    obs.observe(ObserveOptions::new()).unwrap();
    big(vec![vec!["x".repeat(400); 5]; 5]);
    let d = flush_json(&obs);
    let args = d["function_events"][0]["args"].to_string();
    assert!(args.contains("more items]"), "{args}");
}
