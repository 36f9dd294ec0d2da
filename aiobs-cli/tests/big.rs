//! A 100,000-event file: `view` and `stats` in under a second of CPU and in less memory than
//! twice the file; a reader that goes away early (`| head`) ends `view` quietly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{arg, big_trace, run_measured};

fn output(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_100k_event_file_is_fast_lean_and_safe_to_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let roots = 100_000 / 9 + 1;
    let file = big_trace(&dir.path().join("big.json"), roots);
    let size = std::fs::metadata(&file).unwrap().len();
    let path = arg(&file);

    // CPU time (user + system) rather than wall time, which a busy machine stretches. The
    // test profile optimises (opt-level 2) but keeps debug assertions; the release figures are
    // in the guide (docs/src/cli.md).
    let second = Duration::from_secs(1);
    for args in [
        vec!["view", path],
        vec!["stats", path],
        vec!["view", "--errors-only", path],
    ] {
        let (took, cpu, peak) = run_measured(&args);
        assert!(cpu < second, "{args:?}: {cpu:?} of CPU on {size} bytes");
        assert!(took < 10 * second, "{args:?} took {took:?}");
        assert!(
            peak < 2 * size,
            "{args:?}: peak RSS {peak} bytes for a {size}-byte file"
        );
    }
    let (_, cpu, peak) = run_measured(&["validate", path]);
    assert!(cpu < 4 * second, "validate: {cpu:?} of CPU");
    assert!(
        peak < 2 * size,
        "validate: peak RSS {peak} bytes for a {size}-byte file"
    );

    // The outputs hold every call.
    let view = output(&["view", path]);
    let lines = String::from_utf8(view.stdout).unwrap();
    let calls = lines.lines().filter(|l| l.contains(" ms")).count();
    assert_eq!(calls as u64, roots * 9 + roots / 1000);
    let stats = output(&["stats", "--json", path]);
    let json: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let leaf = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("::leaf"))
        .unwrap();
    assert_eq!(leaf["calls"], 8 * roots);
    let branch = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("::branch"))
        .unwrap();
    assert_eq!(branch["errors"], roots.div_ceil(500));
    assert_eq!(branch["tokens_in"], 3 * (roots / 1000));

    // `aiobs view big.json | head -1`: the pipe closes early; no panic, no message.
    let mut child = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(["view", path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("session big "), "{first}");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}
