//! Automatic flushing into numbered files or an exporter, from the background thread aiobs
//! owns: what triggers a flush, what a file holds, failures, and that recording never waits
//! for the writer.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use aiobs::model::ObservabilityExport;
use aiobs::{AutoFlush, Collector, ExportResult, ObserveOptions, observe};

#[observe]
fn leaf(i: u64) -> u64 {
    i + 1
}

#[observe]
fn parent(n: u64) -> u64 {
    (0..n).map(leaf).sum()
}

const HOUR: Duration = Duration::from_secs(3600);

/// The numbered files in `dir`, in order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> ObservabilityExport {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Waits (up to 30 s) until `dir` holds at least `n` files.
fn wait_for_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = files(dir);
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_period_writes_numbered_files_that_join_into_one_tree() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    let sid = obs
        .observe(ObserveOptions::new().session_name("svc"))
        .unwrap();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(Duration::from_millis(50)))
        .unwrap();
    parent(3);
    let first = wait_for_files(dir.path(), 1);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].file_name().unwrap().to_str().unwrap(),
        format!("{sid}-000001.json")
    );
    // Nothing new: no more files, however many periods pass.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(files(dir.path()).len(), 1);
    parent(2);
    let two = wait_for_files(dir.path(), 2);
    assert_eq!(two.len(), 2);
    obs.end();
    let last = obs
        .stop_auto_flush()
        .unwrap()
        .expect("the session's end is written");
    assert!(!obs.auto_flush_running());
    let all = files(dir.path());
    // Three files, unless a flush fell in the middle of a call (a slow machine).
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(&last, all.last().unwrap());
    support::validate_export(&all.iter().map(PathBuf::as_path).collect::<Vec<_>>());

    let docs: Vec<_> = all.iter().map(|p| read(p)).collect();
    let counts: Vec<usize> = docs.iter().map(|d| d.function_events.len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 7, "{counts:?}");
    assert!(docs.last().unwrap().sessions[0].ended_at.is_some());
    let joined = aiobs::merge_exports(docs, true);
    assert_eq!(joined.function_events.len(), 7);
    let tree = joined.trace_tree.unwrap();
    assert_eq!(tree.len(), 2);
    assert_eq!(
        tree.iter().map(|n| n.children().len()).collect::<Vec<_>>(),
        [3, 2]
    );
    let stats = obs.auto_flush_stats();
    assert_eq!(
        stats.flushes,
        all.len() as u64,
        "the last flush counted too"
    );
    assert_eq!(stats.events, 7);
    assert_eq!(stats.last_path, Some(last));
}

#[test]
fn enough_events_start_a_flush_before_the_period_ends() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(HOUR).events(1_000))
        .unwrap();
    for i in 0..5_000 {
        leaf(i);
    }
    let found = wait_for_files(dir.path(), 1);
    assert!(
        !found.is_empty(),
        "5,000 events against a threshold of 1,000"
    );
    let stats = obs.auto_flush_stats();
    assert!(stats.flushes >= 1 && stats.failures == 0, "{stats:?}");
    obs.end();
    obs.stop_auto_flush().unwrap();
    let all = files(dir.path());
    let events: usize = all.iter().map(|p| read(p).function_events.len()).sum();
    assert_eq!(events, 5_000, "every event in exactly one file");
}

#[test]
fn a_call_running_across_flushes_keeps_its_children_linked() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(Duration::from_millis(20)))
        .unwrap();

    #[observe]
    fn slow_root(dir: &Path) -> usize {
        leaf(1);
        let before = files(dir).len();
        // Wait until a file holds the child written while this call runs.
        wait_for_files(dir, before + 1);
        leaf(2);
        before
    }
    slow_root(dir.path());
    obs.end();
    obs.stop_auto_flush().unwrap();
    let all = files(dir.path());
    assert!(all.len() >= 2);
    support::validate_export(&all.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    let docs: Vec<_> = all.iter().map(|p| read(p)).collect();
    let first = docs.iter().find(|d| !d.function_events.is_empty()).unwrap();
    assert_eq!(first.function_events[0].event.name, "leaf");
    assert!(first.function_events[0].event.parent_span_id.is_some());
    let joined = aiobs::merge_exports(docs, true);
    let tree = joined.trace_tree.unwrap();
    assert_eq!(tree.len(), 1, "the children nest under the root again");
    assert_eq!(tree[0].children().len(), 2);
}

#[test]
fn an_exporter_target_gets_each_flush() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let exporter = {
        let seen = seen.clone();
        aiobs::exporters::CustomExporter::new("test", move |doc: &aiobs::ExportDocument<'_>| {
            seen.lock().unwrap().push(doc.event_count());
            Ok(ExportResult::default())
        })
    };
    obs.set_auto_flush(AutoFlush::to_exporter(exporter).every(Duration::from_millis(20)))
        .unwrap();
    parent(4);
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    obs.end();
    assert_eq!(
        obs.stop_auto_flush().unwrap(),
        None,
        "an exporter has no path"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().sum::<usize>(), 5);
}

#[test]
fn a_failing_flush_is_reported_and_keeps_the_events_for_the_next_one() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let exported = Arc::new(AtomicUsize::new(0));
    let exporter = {
        let (fail, exported) = (fail.clone(), exported.clone());
        aiobs::exporters::CustomExporter::new("test", move |doc: &aiobs::ExportDocument<'_>| {
            if fail.load(Ordering::SeqCst) {
                return Err("the collector endpoint is down".into());
            }
            exported.fetch_add(doc.event_count(), Ordering::SeqCst);
            Ok(ExportResult::default())
        })
    };
    let (tx, rx) = mpsc::channel::<String>();
    let tx = Mutex::new(tx);
    obs.set_auto_flush(
        AutoFlush::to_exporter(exporter)
            .every(Duration::from_millis(20))
            .on_error(move |e| {
                let _ = tx.lock().unwrap().send(e.to_string());
            }),
    )
    .unwrap();
    parent(2);
    let message = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        message.contains("the collector endpoint is down"),
        "{message}"
    );
    assert!(obs.auto_flush_stats().failures >= 1);
    assert_eq!(obs.backlog().events, 3, "kept for the next flush");
    fail.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while exported.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(exported.load(Ordering::SeqCst), 3);
    let stats = obs.auto_flush_stats();
    assert!(stats.last_error.unwrap().contains("endpoint is down"));
    assert!(stats.events >= 3);
    obs.stop_auto_flush().unwrap();
}

#[test]
fn recording_never_waits_for_a_flush_under_way() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    // The exporter blocks until the test lets it go: recording must go on meanwhile.
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, release_rx) = (Mutex::new(started_tx), Mutex::new(release_rx));
    let exported = Arc::new(AtomicUsize::new(0));
    let exporter = {
        let exported = exported.clone();
        aiobs::exporters::CustomExporter::new("test", move |doc: &aiobs::ExportDocument<'_>| {
            let _ = started_tx.lock().unwrap().send(());
            let _ = release_rx.lock().unwrap().recv();
            exported.fetch_add(doc.event_count(), Ordering::SeqCst);
            Ok(ExportResult::default())
        })
    };
    obs.set_auto_flush(AutoFlush::to_exporter(exporter).every(Duration::from_millis(10)))
        .unwrap();
    leaf(0);
    started_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    // The flusher is now inside the exporter, holding the flush.
    for i in 0..100_000 {
        leaf(i);
    }
    let held = obs.backlog();
    assert_eq!(exported.load(Ordering::SeqCst), 0, "still blocked");
    assert!(held.events >= 100_000, "{held:?}");
    for _ in 0..2 {
        release_tx.send(()).unwrap(); // the first flush, then the one with the 100,000
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while exported.load(Ordering::SeqCst) < 100_001 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(release_tx); // later flushes (none expected) do not block
    assert_eq!(exported.load(Ordering::SeqCst), 100_001);
    obs.stop_auto_flush().unwrap();
}

#[test]
fn a_directory_that_cannot_be_made_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let obs = Collector::new();
    let err = obs
        .set_auto_flush(AutoFlush::to_dir(file.join("traces")))
        .unwrap_err();
    assert!(err.to_string().contains("a-file"), "{err}");
    assert!(!obs.auto_flush_running());
}

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_flusher_thread_ends_with_its_collector() {
    if !Path::new("/proc/self/task").exists() {
        return; // no procfs to count threads with
    }
    let count = || {
        thread_names()
            .iter()
            .filter(|n| *n == "aiobs-flush")
            .count()
    };
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let before = count();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(HOUR))
        .unwrap();
    // Replacing the flusher stops the old one.
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(HOUR))
        .unwrap();
    drop(obs);
    let deadline = Instant::now() + Duration::from_secs(30);
    // Other tests in this binary run flushers of their own: wait for ours to be gone.
    while count() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(count() <= before, "{:?}", thread_names());
}

#[test]
fn sessions_that_change_are_written_even_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let first = obs.observe(ObserveOptions::new()).unwrap();
    obs.set_auto_flush(AutoFlush::to_dir(dir.path()).every(Duration::from_millis(20)))
        .unwrap();
    let found = wait_for_files(dir.path(), 1);
    let names: HashSet<_> = found
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&format!("{first}-000001.json")), "{names:?}");
    obs.end();
    let second = obs.observe(ObserveOptions::new()).unwrap();
    // The end of the first session and the start of the second are written, in one file or
    // two (the flusher may run between them), the file named after the session still open.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut ended, mut started) = (false, false);
    while !(ended && started) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        for path in files(dir.path()) {
            for session in read(&path).sessions {
                ended |= session.id == first && session.ended_at.is_some();
                if session.id == second {
                    started = true;
                    assert!(path.to_string_lossy().contains(&second));
                }
            }
        }
    }
    assert!(ended && started, "{:?}", files(dir.path()));
    obs.stop_auto_flush().unwrap();
}
