//! The built-in exporters: a closure, and several at once; events are forgotten only when the
//! export succeeded.

mod support;

use std::sync::{Arc, Mutex};

use aiobs::exporters::{CompositeError, CompositeExporter, CustomExporter};
use aiobs::{BoxError, Collector, Error, ExportDocument, ExportResult, Exporter, ObserveOptions};

#[aiobs::observe]
fn step(n: u32) -> u32 {
    n + 1
}

/// An exporter that keeps the JSON of every document it is given.
fn keeping(
    name: &str,
) -> (
    impl Exporter + Send + Sync + 'static,
    Arc<Mutex<Vec<Vec<u8>>>>,
) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = kept.clone();
    let exporter = CustomExporter::new(name, move |doc: &ExportDocument<'_>| {
        let json = doc.to_json_vec()?;
        let n = json.len() as u64;
        sink.lock().unwrap().push(json);
        Ok(ExportResult {
            destination: Some("memory".into()),
            bytes_written: Some(n),
            ..ExportResult::default()
        })
    });
    (exporter, kept)
}

fn failing(name: &str) -> impl Exporter + Send + Sync + 'static {
    CustomExporter::new(
        name,
        |_: &ExportDocument<'_>| -> Result<ExportResult, BoxError> {
            Err("the bucket is full".into())
        },
    )
}

fn recorded() -> Collector {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().session_name("export"))
        .unwrap();
    let _scope = obs.set_default();
    step(1);
    step(2);
    obs
}

fn events_in(json: &[u8]) -> usize {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["function_events"].as_array().unwrap().len()
}

#[test]
fn a_custom_exporter_gets_the_document_and_its_result_is_returned() {
    let obs = recorded();
    let (exporter, kept) = keeping("memory");
    let result = obs.flush_to(&exporter, true).unwrap();
    assert_eq!(result.destination.as_deref(), Some("memory"));
    let kept = kept.lock().unwrap();
    assert_eq!(events_in(&kept[0]), 2);
    assert_eq!(result.bytes_written, Some(kept[0].len() as u64));
    // The document is the file a flush would write: it passes the validator.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exported.json");
    std::fs::write(&path, &kept[0]).unwrap();
    support::validate_export(&[&path]);
}

#[test]
fn a_failed_export_keeps_the_events_for_the_next_flush() {
    let obs = recorded();
    let e = obs.flush_to(&failing("broken"), true).unwrap_err();
    assert!(matches!(e, Error::Export { .. }), "{e:?}");
    assert!(e.to_string().contains("the bucket is full"), "{e}");
    let (exporter, kept) = keeping("memory");
    obs.flush_to(&exporter, true).unwrap();
    assert_eq!(events_in(&kept.lock().unwrap()[0]), 2);
}

#[test]
fn a_composite_sends_to_each_and_reports_each() {
    let obs = recorded();
    let (a, kept_a) = keeping("a");
    let (b, kept_b) = keeping("b");
    let both = CompositeExporter::new(vec![Box::new(a), Box::new(b)]);
    let result = obs.flush_to(&both, true).unwrap();
    let (a, b) = (kept_a.lock().unwrap(), kept_b.lock().unwrap());
    assert_eq!(a[0], b[0], "the same document");
    let results = result.metadata["results"].as_array().unwrap();
    assert_eq!(results[0]["exporter"], "a");
    assert_eq!(results[1]["exporter"], "b");
    assert!(results.iter().all(|r| r["success"] == true));
    assert_eq!(result.bytes_written, Some(2 * a[0].len() as u64));
}

#[test]
fn a_composite_with_a_failure_says_which_and_keeps_the_events() {
    let obs = recorded();
    let (a, kept_a) = keeping("a");
    let panics = CustomExporter::new(
        "panics",
        |_: &ExportDocument<'_>| -> Result<ExportResult, BoxError> {
            panic!("exporter panicked on purpose")
        },
    );
    let (c, kept_c) = keeping("c");
    let all = CompositeExporter::new(vec![
        Box::new(a),
        Box::new(failing("gcs")),
        Box::new(panics),
        Box::new(c),
    ]);
    let e = obs.flush_to(&all, true).unwrap_err();
    let Error::Export { source } = &e else {
        panic!("{e:?}")
    };
    let composite = source
        .downcast_ref::<CompositeError>()
        .expect("a CompositeError");
    let outcomes: Vec<(&str, bool)> = composite
        .results
        .iter()
        .map(|(n, o)| (n.as_str(), o.is_ok()))
        .collect();
    assert_eq!(
        outcomes,
        [("a", true), ("gcs", false), ("panics", false), ("c", true)]
    );
    assert_eq!(
        e.to_string(),
        "the exporter failed: 2 of 4 exporters failed (gcs: the bucket is full; panics: the exporter panicked); succeeded: a, c"
    );
    assert_eq!(kept_a.lock().unwrap().len(), 1);
    assert_eq!(kept_c.lock().unwrap().len(), 1);
    // Not every destination has the events: they are kept, and sent again.
    let (again, kept) = keeping("again");
    obs.flush_to(&again, true).unwrap();
    assert_eq!(events_in(&kept.lock().unwrap()[0]), 2);
}

#[test]
fn stop_on_error_runs_no_exporter_after_a_failure() {
    let obs = recorded();
    let (after, kept) = keeping("after");
    let all = CompositeExporter::new(vec![Box::new(failing("first")), Box::new(after)])
        .stop_on_error(true);
    let e = obs.flush_to(&all, true).unwrap_err();
    assert!(kept.lock().unwrap().is_empty());
    assert!(e.to_string().ends_with("not run: 1"), "{e}");
}
