//! `view`, `stats` and `validate` on a 100,000-event file written by the runtime, and `diff`
//! of two such files beside `stats` of each: in process (criterion) and as the `aiobs` binary
//! (wall time, and peak resident memory from `wait4`).
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
use std::time::Duration;

use aiobs_cli::load::ExportFile;
use aiobs_cli::out::Style;
use aiobs_cli::view::ViewOptions;
use criterion::{Criterion, criterion_group, criterion_main};

fn big_file() -> PathBuf {
    big_file_named("big-100k.json")
}

/// A 100,000-event file written once by the runtime, under `target/aiobs-cli-bench`.
fn big_file_named(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/aiobs-cli-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let path = dir.join(name);
    if !path.exists() {
        common::big_trace(&path, 100_000 / 9 + 1);
    }
    path
}

fn report_processes(path: &Path, other: &Path) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let p = path.to_str().expect("utf-8 path");
    let o = other.to_str().expect("utf-8 path");
    eprintln!(
        "file: {} ({:.1} MB, 100,008 events)",
        path.display(),
        size as f64 / 1e6
    );
    let runs: [&[&str]; 5] = [
        &["view", p],
        &["stats", p],
        &["validate", p],
        &["stats", o],
        &["diff", p, o],
    ];
    for args in runs {
        let mut times = Vec::new();
        let mut cpus = Vec::new();
        let mut peak = 0;
        for _ in 0..7 {
            let (t, cpu, rss) = common::run_measured(args);
            times.push(t);
            cpus.push(cpu);
            peak = peak.max(rss);
        }
        times.sort();
        cpus.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        eprintln!(
            "aiobs {:<8} wall median {:>5.0} ms (min {:.0})  CPU median {:>5.0} ms (min {:.0})  peak RSS {:>5.1} MB = {:.2}x the file",
            args[0],
            ms(times[3]),
            ms(times[0]),
            ms(cpus[3]),
            ms(cpus[0]),
            peak as f64 / 1e6,
            peak as f64 / size as f64
        );
    }
    // SAFETY: getloadavg fills at most 3 doubles.
    let mut load = [0f64; 3];
    if unsafe { libc::getloadavg(load.as_mut_ptr(), 3) } > 0 {
        eprintln!("load average during the runs: {:.1}", load[0]);
    }
}

fn benches(c: &mut Criterion) {
    let path = big_file();
    let other = big_file_named("big-100k-b.json");
    report_processes(&path, &other);
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
        b.iter(|| aiobs_cli::validate::validate_file(&path, Default::default()).is_valid())
    });
    let p = path.to_str().expect("utf-8 path");
    for sub in ["view", "stats"] {
        g.bench_function(format!("aiobs {sub} (process)"), |b| {
            b.iter(|| common::run_measured(&[sub, p]).0)
        });
    }
    g.finish();

    // `diff` of two runs of one program, beside `stats` of each of the same two files.
    let mut g = c.benchmark_group("100k events, two files");
    g.sample_size(10);
    g.bench_function("stats of both (in process)", |b| {
        b.iter(|| {
            [&path, &other].map(|p| {
                let file = ExportFile::read(p).expect("read");
                aiobs_cli::stats::rows(&file.parse().expect("parse")).len()
            })
        })
    });
    let options = aiobs_cli::diff::DiffOptions::new().expect("prices");
    g.bench_function("diff (in process)", |b| {
        b.iter(|| {
            let base = aiobs_cli::diff::side::Side::read(&path).expect("base");
            let new = aiobs_cli::diff::side::Side::read(&other).expect("new");
            let report = aiobs_cli::diff::compare_sides(&base, &new, &options).expect("diff");
            aiobs_cli::diff::report::write_text(&report, Style::new(false), &mut sink())
                .expect("report");
        })
    });
    let o = other.to_str().expect("utf-8 path");
    g.bench_function("aiobs diff (process)", |b| {
        b.iter(|| common::run_measured(&["diff", p, o]).0)
    });
    g.finish();
}

criterion_group!(cli, benches);
criterion_main!(cli);
