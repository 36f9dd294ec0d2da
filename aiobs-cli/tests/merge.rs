//! `aiobs merge`: the numbered files of one session's successive flushes, with a call running
//! across the flushes, joined into one valid export with one tree.

mod common;

use std::path::{Path, PathBuf};

use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use common::{aiobs, arg, python_accepts};

#[observe]
fn step(i: u32) -> u32 {
    i * 2
}

/// A root that flushes while it runs: its first steps land in files written before its own.
#[observe(skip(obs, dir, files))]
fn long_root(obs: &Collector, sid: &str, dir: &Path, files: &mut Vec<PathBuf>) -> u32 {
    for n in 1..=2 {
        step(n);
        let path = dir.join(format!("{sid}-{n}.json"));
        files.push(obs.flush(FlushOptions::to_path(&path)).unwrap());
    }
    step(3)
}

fn flushes(dir: &Path) -> Vec<PathBuf> {
    let obs = Collector::new();
    let _scope = obs.set_default();
    let sid = obs
        .observe(ObserveOptions::new().session_name("long"))
        .unwrap();
    let mut files = Vec::new();
    long_root(&obs, &sid, dir, &mut files);
    obs.end();
    files.push(
        obs.flush(FlushOptions::to_path(dir.join(format!("{sid}-3.json"))))
            .unwrap(),
    );
    files
}

#[test]
fn numbered_flushes_join_into_one_valid_tree() {
    let dir = tempfile::tempdir().unwrap();
    let files = flushes(dir.path());
    // Alone, the first file has the step as a root: its parent was still running.
    let first = aiobs(&["view", arg(&files[0])]);
    assert!(
        first.stdout.lines().any(|l| l.starts_with("step  ")),
        "{}",
        first.stdout
    );

    // Each flush alone is a valid export, for `aiobs validate` and the Python SDK's models.
    for file in &files {
        let check = aiobs(&["validate", arg(file)]);
        assert_eq!(check.code, Some(0), "{}", check.stdout);
        assert!(
            python_accepts(file),
            "the Python SDK's models reject {}",
            file.display()
        );
    }

    let out = dir.path().join("joined.json");
    // Given out of order: merge sorts them by sequence number.
    let run = aiobs(&[
        "merge",
        arg(&files[2]),
        arg(&files[0]),
        arg(&files[1]),
        "-o",
        arg(&out),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{}: 3 file(s) joined: 1 session(s), 4 event(s)\n",
            out.display()
        )
    );
    let view = aiobs(&["view", arg(&out)]);
    let calls: Vec<&str> = view.stdout.lines().filter(|l| l.contains(" ms")).collect();
    assert_eq!(calls.len(), 4, "{}", view.stdout);
    assert!(
        calls[0].starts_with("long_root  ") && calls[0].contains("(sid=\""),
        "{}",
        calls[0]
    );
    assert!(
        calls[1].starts_with("├─ step  ") && calls[1].ends_with("(i=1) → 2"),
        "{}",
        calls[1]
    );
    assert!(calls[2].starts_with("├─ step  ") && calls[2].ends_with("(i=2) → 4"));
    assert!(calls[3].starts_with("└─ step  ") && calls[3].ends_with("(i=3) → 6"));

    let check = aiobs(&["validate", arg(&out)]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert!(
        python_accepts(&out),
        "the Python SDK's models reject the joined file"
    );
    // Written atomically: no temporary file is left beside it.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_bad_input_leaves_the_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let files = flushes(dir.path());
    let out = dir.path().join("joined.json");
    std::fs::write(&out, "old").unwrap();
    let bad = dir.path().join("x-4.json");
    std::fs::write(&bad, "{\"sessions\": [").unwrap();
    let run = aiobs(&["merge", arg(&files[0]), arg(&bad), "-o", arg(&out)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with(&format!("aiobs: {}:1:", bad.display())),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
}
