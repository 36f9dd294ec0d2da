//! Flushing: nothing lost, nothing written twice, atomic files, errors that keep the events.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aiobs::model::ObservabilityExport;
use aiobs::{Collector, FlushOptions, ObserveOptions, ProviderCall};

fn read(path: &Path) -> ObservabilityExport {
    serde_json::from_slice(&std::fs::read(path).expect("read export")).expect("parse export")
}

/// Records one provider event whose request names `(thread, i)`.
fn record(thread: u64, i: u64) {
    let call = ProviderCall::start("test", "record", &(thread, i)).expect("a session is active");
    call.finish_ok(&i);
}

fn request_of(ev: &aiobs::model::ObservedEvent) -> (u64, u64) {
    serde_json::from_value(ev.event.request.clone()).expect("(thread, i)")
}

#[test]
fn every_event_lands_in_exactly_one_file_while_threads_record_and_flush_repeats() {
    const PER_THREAD: u64 = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().session_name("concurrent"))
        .unwrap();
    let recording_done = Arc::new(AtomicBool::new(false));
    let flushes = Arc::new(AtomicUsize::new(0));

    let writers: Vec<_> = (0..2u64)
        .map(|t| {
            let (obs, flushes) = (obs.clone(), flushes.clone());
            std::thread::spawn(move || {
                let _scope = obs.set_default();
                for i in 0..PER_THREAD {
                    if i == PER_THREAD / 2 {
                        // Halfway, make sure flushes happen while this thread records.
                        let seen = flushes.load(Ordering::Acquire);
                        while flushes.load(Ordering::Acquire) < seen + 3 {
                            std::thread::yield_now();
                        }
                    }
                    record(t, i);
                }
            })
        })
        .collect();
    let flusher = {
        let (obs, done, dir) = (obs.clone(), recording_done.clone(), dir.path().to_owned());
        let flushes = flushes.clone();
        std::thread::spawn(move || {
            let mut files = Vec::new();
            loop {
                let last = done.load(Ordering::Acquire);
                let path = dir.join(format!("flush-{:04}.json", files.len()));
                files.push(obs.flush(FlushOptions::to_path(&path)).expect("flush"));
                flushes.fetch_add(1, Ordering::Release);
                if last {
                    return files;
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    recording_done.store(true, Ordering::Release);
    let files: Vec<PathBuf> = flusher.join().unwrap();
    assert!(
        files.len() > 2,
        "the flusher ran while the threads recorded"
    );

    let mut seen = HashSet::new();
    for file in &files {
        let export = read(file);
        assert_eq!(
            export.sessions.len(),
            1,
            "the active session is written with every flush"
        );
        for ev in &export.events {
            assert!(
                seen.insert(request_of(ev)),
                "{:?} written twice",
                request_of(ev)
            );
        }
        assert_eq!(
            export.trace_tree.map(|t| t.len()),
            Some(export.events.len())
        );
    }
    assert_eq!(
        seen.len() as u64,
        2 * PER_THREAD,
        "every event written once"
    );
}

#[test]
fn a_failed_flush_returns_the_path_and_the_next_flush_writes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    for i in 0..10 {
        record(0, i);
    }
    let bad = blocker.join("trace.json");
    let err = obs.flush(FlushOptions::to_path(&bad)).unwrap_err();
    assert!(matches!(err, aiobs::Error::Write { ref path, .. } if *path == bad));
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );

    record(0, 10);
    let good = obs
        .flush(FlushOptions::to_path(dir.path().join("trace.json")))
        .unwrap();
    let export = read(&good);
    let mut got: Vec<u64> = export.events.iter().map(|e| request_of(e).1).collect();
    got.sort();
    assert_eq!(got, (0..=10).collect::<Vec<_>>());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files are removed: {leftovers:?}"
    );
}

#[test]
fn flushing_over_a_directory_fails_and_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let err = obs.flush(FlushOptions::to_path(dir.path())).unwrap_err();
    assert!(matches!(err, aiobs::Error::Write { .. }), "{err}");
    assert!(dir.path().is_dir());
}

#[test]
fn a_flush_replaces_the_file_whole_and_then_forgets_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    std::fs::write(&path, "old content that is longer than nothing").unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    record(0, 1);
    obs.flush(FlushOptions::to_path(&path)).unwrap();
    assert_eq!(read(&path).events.len(), 1);
    obs.flush(FlushOptions::to_path(&path)).unwrap();
    let again = read(&path);
    assert_eq!(
        again.events.len(),
        0,
        "flushed events are not written again"
    );
    assert_eq!(
        again.sessions.len(),
        1,
        "the active session stays open and is written again"
    );
}

#[test]
fn ended_sessions_are_forgotten_after_a_flush_the_active_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let first = obs
        .observe(ObserveOptions::new().session_name("first"))
        .unwrap();
    obs.end();
    let second = obs
        .observe(ObserveOptions::new().session_name("second"))
        .unwrap();
    let one = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("1.json")))
            .unwrap(),
    );
    let ids: Vec<_> = one.sessions.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, [first.clone(), second.clone()]);
    assert!(one.sessions[0].ended_at.is_some() && one.sessions[1].ended_at.is_none());
    let two = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("2.json")))
            .unwrap(),
    );
    let ids: Vec<_> = two.sessions.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, [second]);
    assert_eq!(obs.active_session(), Some(ids[0].clone()));
}

#[test]
fn without_a_tree_trace_tree_and_enh_prompt_traces_are_null() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    record(0, 0);
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("t.json")).include_trace_tree(false))
        .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(r#""trace_tree":null,"enh_prompt_traces":null"#),
        "{text}"
    );
}

#[test]
fn reset_forgets_sessions_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    record(0, 0);
    obs.reset();
    assert_eq!(obs.active_session(), None);
    assert!(
        ProviderCall::start("test", "x", &1).is_none(),
        "nothing records after reset"
    );
    let export = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("t.json")))
            .unwrap(),
    );
    assert!(export.sessions.is_empty() && export.events.is_empty());
}

#[test]
fn without_a_session_nothing_is_recorded() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    assert!(ProviderCall::start("test", "x", &1).is_none());
    obs.observe(ObserveOptions::new()).unwrap();
    obs.end();
    assert!(
        ProviderCall::start("test", "x", &1).is_none(),
        "an ended session records nothing"
    );
}

#[test]
fn collectors_do_not_see_each_others_events() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Collector::new(), Collector::new());
    a.observe(ObserveOptions::new()).unwrap();
    b.observe(ObserveOptions::new()).unwrap();
    {
        let _a = a.set_default();
        record(1, 1);
        {
            let _b = b.set_default();
            record(2, 2);
        }
        record(1, 3);
    }
    let ea = read(
        &a.flush(FlushOptions::to_path(dir.path().join("a.json")))
            .unwrap(),
    );
    let eb = read(
        &b.flush(FlushOptions::to_path(dir.path().join("b.json")))
            .unwrap(),
    );
    let reqs = |e: &ObservabilityExport| e.events.iter().map(request_of).collect::<Vec<_>>();
    assert_eq!(reqs(&ea), [(1, 1), (1, 3)]);
    assert_eq!(reqs(&eb), [(2, 2)]);
}

#[test]
fn events_of_exited_threads_are_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    obs.observe(ObserveOptions::new()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let obs = obs.clone();
            std::thread::spawn(move || {
                let _scope = obs.set_default();
                record(t, 0);
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    let export = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("t.json")))
            .unwrap(),
    );
    assert_eq!(export.events.len(), 8);
}

#[test]
fn a_session_ended_during_a_flush_is_written_ended_by_the_next() {
    // The session is active when the flush reads it; ending it before the next flush must not
    // lose its end time.
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let sid = obs.observe(ObserveOptions::new()).unwrap();
    let first = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("1.json")))
            .unwrap(),
    );
    assert_eq!(first.sessions[0].ended_at, None);
    obs.end();
    let second = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("2.json")))
            .unwrap(),
    );
    assert_eq!(second.sessions.len(), 1);
    assert_eq!(second.sessions[0].id, sid);
    assert!(second.sessions[0].ended_at.is_some());
    let third = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("3.json")))
            .unwrap(),
    );
    assert!(
        third.sessions.is_empty(),
        "an ended session written once is forgotten"
    );
}

#[test]
fn a_call_still_running_at_a_flush_is_written_later_with_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    let _scope = obs.set_default();
    let sid = obs.observe(ObserveOptions::new()).unwrap();
    let running = ProviderCall::start("test", "slow", &1).unwrap();
    obs.end();
    let first = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("1.json")))
            .unwrap(),
    );
    assert!(first.events.is_empty());
    running.finish_ok(&2);
    let later = read(
        &obs.flush(FlushOptions::to_path(dir.path().join("2.json")))
            .unwrap(),
    );
    assert_eq!(later.events.len(), 1, "the late event is not lost");
    assert_eq!(later.sessions.len(), 1);
    assert_eq!(later.sessions[0].id, sid, "its session is written again");
    assert_eq!(later.events[0].session_id, sid);
}
