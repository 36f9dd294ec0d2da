//! Clean shutdown, in real child processes (this test binary run again in a child mode): the
//! guard's drop, a panic in `main`, and `std::process::exit` with and without `shutdown()`.

mod support;

use std::path::Path;
use std::process::Command;

const MODE: &str = "AIOBS_SHUTDOWN_CHILD_MODE";
const OUT: &str = "AIOBS_SHUTDOWN_CHILD_OUT";
const CALLS: u64 = 200;

#[aiobs::observe]
fn work(i: u64) -> u64 {
    i * 3
}

/// Records `CALLS` calls on this thread and as many on another.
fn record() {
    let other = std::thread::spawn(|| {
        for i in 0..CALLS {
            work(i);
        }
    });
    for i in 0..CALLS {
        work(i);
    }
    other.join().unwrap();
}

/// The child: does nothing unless the parent set `MODE`.
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let out = std::env::var(OUT).unwrap();
    let options = aiobs::ObserveOptions::new().session_name(mode.as_str());
    let guard = match mode.strip_prefix("auto_") {
        // Auto-flushed: numbered files in the directory `out`, every 5 ms.
        Some(_) => aiobs::install(
            options,
            aiobs::AutoFlush::to_dir(out).every(std::time::Duration::from_millis(5)),
        ),
        None => aiobs::install(options, aiobs::FlushOptions::to_path(out)),
    }
    .unwrap();
    record();
    match mode.as_str() {
        "drop" | "auto_drop" => drop(guard),
        "panic" | "auto_panic" => panic!("the child panics on purpose"),
        "exit" => std::process::exit(3),
        "shutdown_then_exit" => {
            aiobs::shutdown().unwrap();
            std::process::exit(3)
        }
        other => panic!("unknown mode {other}"),
    }
}

/// Runs the child in `mode` (its output kept, so that the panicking child's report doesn't
/// read as this run's); returns its exit code and the trace path.
fn run_child(mode: &str, dir: &Path) -> (Option<i32>, std::path::PathBuf) {
    let out = dir.join(format!("{mode}.json"));
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--test-threads=1"])
        .env(MODE, mode)
        .env(
            OUT,
            if mode.starts_with("auto_") {
                dir.join(mode)
            } else {
                out.clone()
            },
        )
        .env_remove("AIOBS_API_KEY")
        .output()
        .unwrap();
    let out = if mode.starts_with("auto_") {
        dir.join(mode)
    } else {
        out
    };
    if !out.exists() && !mode.starts_with("exit") {
        panic!(
            "the child wrote no trace; its output:\n{}{}",
            String::from_utf8_lossy(&child.stdout),
            String::from_utf8_lossy(&child.stderr)
        );
    }
    (child.status.code(), out)
}

fn events_in(path: &Path) -> usize {
    support::validate_export(&[path]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["function_events"].as_array().unwrap().len()
}

#[test]
fn a_process_that_ends_through_the_guard_writes_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_child("drop", dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(events_in(&out), 2 * CALLS as usize);
}

#[test]
fn a_process_that_panics_in_main_still_writes_what_it_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_child("panic", dir.path());
    assert_eq!(code, Some(101), "the child's test failed by panicking");
    assert_eq!(events_in(&out), 2 * CALLS as usize);
}

#[test]
fn process_exit_runs_no_destructor_so_nothing_is_written_without_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_child("exit", dir.path());
    assert_eq!(code, Some(3));
    assert!(!out.exists(), "documented: exit skips the guard");
    let (code, out) = run_child("shutdown_then_exit", dir.path());
    assert_eq!(code, Some(3));
    assert_eq!(events_in(&out), 2 * CALLS as usize);
}

/// The events in the numbered files of `dir`, each file validated; and the last file's
/// session end.
fn events_in_files(dir: &Path) -> (usize, bool) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    support::validate_export(&files.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    let docs: Vec<serde_json::Value> = files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    let events = docs
        .iter()
        .map(|d| d["function_events"].as_array().unwrap().len())
        .sum();
    let ended = docs.last().unwrap()["sessions"][0]["ended_at"].is_number();
    (events, ended)
}

#[test]
fn an_auto_flushed_process_that_ends_through_the_guard_writes_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_child("auto_drop", dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(events_in_files(&out), (2 * CALLS as usize, true));
}

#[test]
fn an_auto_flushed_process_that_panics_still_writes_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_child("auto_panic", dir.path());
    assert_eq!(code, Some(101));
    assert_eq!(events_in_files(&out), (2 * CALLS as usize, true));
}
