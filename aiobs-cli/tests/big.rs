//! A 100,000-event file: each subcommand in well under a second and in less memory than twice
//! the file; a reader that goes away early (`| head`) ends `view` quietly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{arg, big_trace};

/// The largest resident set of the children waited for so far, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid rusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

fn timed(args: &[&str]) -> (Duration, std::process::Output) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (start.elapsed(), out)
}

// One test, so that the children's peak memory is this test's alone.
#[test]
fn a_100k_event_file_is_fast_lean_and_safe_to_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_trace(&dir.path().join("big.json"), 100_000 / 9 + 1);
    let size = std::fs::metadata(&file).unwrap().len();
    let path = arg(&file);

    // The test profile optimises (opt-level 2) but keeps debug assertions; the release figures
    // are in the guide (docs/src/cli.md). Allow a little for a busy machine.
    let limit = Duration::from_millis(if cfg!(debug_assertions) { 2000 } else { 1000 });
    for args in [
        vec!["view", path],
        vec!["stats", path],
        vec!["view", "--errors-only", path],
    ] {
        let (took, out) = timed(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(took < limit, "{args:?} took {took:?} on {size} bytes");
    }
    let (_, view) = timed(&["view", path]);
    let lines = view
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| l.ends_with(b"ms") || l.windows(3).any(|w| w == b"ms "))
        .count();
    assert!(lines >= 100_000, "{lines} call lines");
    let (_, stats) = timed(&["stats", "--json", path]);
    let json: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let leaf = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("::leaf"))
        .unwrap();
    assert_eq!(leaf["calls"], 8 * (100_000 / 9 + 1));
    let (took, check) = timed(&["validate", path]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(took < limit * 2, "validate took {took:?}");

    let peak = children_peak_rss();
    assert!(
        peak < 2 * size,
        "peak RSS {peak} bytes for a {size}-byte file"
    );

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
