//! `view`, `stats` and `validate` on a 100,000-event file written by the runtime: in process
//! (criterion) and as the `aiobs` binary (wall time, and peak resident memory from `wait4`).
//!
//! ```sh
//! cargo bench -p aiobs-cli --bench cli
//! ```
//!
//! The file is `target/aiobs-cli-bench/big-100k.json`; the peak-memory lines are printed
//! before criterion's output.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::sink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiobs_cli::load::ExportFile;
use aiobs_cli::out::Style;
use aiobs_cli::view::ViewOptions;
use criterion::{Criterion, criterion_group, criterion_main};

fn big_file() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/aiobs-cli-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let path = dir.join("big-100k.json");
    if !path.exists() {
        common::big_trace(&path, 100_000 / 9 + 1);
    }
    path
}

/// Runs the binary once; returns its wall time and peak resident set (bytes).
// The child is reaped by `wait4`, which also gives its own peak memory.
#[allow(clippy::zombie_processes)]
fn run_once(args: &[&str]) -> (Duration, u64) {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run aiobs");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 fills it for the child we started.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers; the child is ours and not yet reaped.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let took = start.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed"
    );
    (took, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}

fn report_processes(path: &Path) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let p = path.to_str().expect("utf-8 path");
    eprintln!(
        "file: {} ({:.1} MB, 100,008 events)",
        path.display(),
        size as f64 / 1e6
    );
    for args in [["view", p], ["stats", p], ["validate", p]] {
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..7 {
            let (t, rss) = run_once(&args);
            times.push(t);
            peak = peak.max(rss);
        }
        times.sort();
        eprintln!(
            "aiobs {:<8} median {:>6.0} ms (min {:.0}, max {:.0})  peak RSS {:>6.1} MB = {:.2}x the file",
            args[0],
            times[3].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[6].as_secs_f64() * 1e3,
            peak as f64 / 1e6,
            peak as f64 / size as f64
        );
    }
}

fn benches(c: &mut Criterion) {
    let path = big_file();
    report_processes(&path);
    let mut g = c.benchmark_group("100k events");
    g.sample_size(10);
    g.bench_function("read + parse", |b| {
        b.iter(|| {
            let file = ExportFile::read(&path).expect("read");
            file.parse().expect("parse").function_events.len()
        })
    });
    g.bench_function("view (in process)", |b| {
        let options = ViewOptions {
            depth: None,
            errors_only: false,
            grep: None,
            width: 100,
            style: Style::new(false),
        };
        b.iter(|| {
            let file = ExportFile::read(&path).expect("read");
            let export = file.parse().expect("parse");
            aiobs_cli::view::write(&export, &options, &mut sink()).expect("view");
        })
    });
    g.bench_function("stats (in process)", |b| {
        b.iter(|| {
            let file = ExportFile::read(&path).expect("read");
            aiobs_cli::stats::rows(&file.parse().expect("parse")).len()
        })
    });
    g.bench_function("validate (in process)", |b| {
        b.iter(|| aiobs_cli::validate::validate_file(&path).is_valid())
    });
    let p = path.to_str().expect("utf-8 path");
    for sub in ["view", "stats"] {
        g.bench_function(format!("aiobs {sub} (process)"), |b| {
            b.iter(|| run_once(&[sub, p]).0)
        });
    }
    g.finish();
}

criterion_group!(cli, benches);
criterion_main!(cli);
