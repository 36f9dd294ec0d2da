//! Recording and flushing 100,000 function events of `f(1, 2)`: events per second recorded
//! (1 and 2 threads), flush time and bytes per second written, and (printed before the
//! criterion groups) resident memory per stored event and the flush's extra peak memory.
//!
//! ```sh
//! cargo bench -p aiobs --bench store
//! ```

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use criterion::{Criterion, Throughput};

const EVENTS: u64 = 100_000;

#[observe]
fn f(a: u64, b: u64) -> u64 {
    a + b
}

fn record(n: u64) {
    for i in 0..n {
        black_box(f(black_box(1), black_box(2 + (i & 1))));
    }
}

fn recording_collector() -> Collector {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().session_name("bench"))
        .expect("observe");
    obs
}

fn bench_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record_100k");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(30);
    group.bench_function("1_thread", |b| {
        let obs = recording_collector();
        let _scope = obs.set_default();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                record(EVENTS);
                total += start.elapsed();
                obs.reset(); // untimed: forget the events
                obs.observe(ObserveOptions::new()).expect("observe");
            }
            total
        });
    });
    group.bench_function("2_threads", |b| {
        let obs = recording_collector();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let barrier = Arc::new(Barrier::new(3));
                let workers: Vec<_> = (0..2)
                    .map(|_| {
                        let (obs, barrier) = (obs.clone(), barrier.clone());
                        std::thread::spawn(move || {
                            let _scope = obs.set_default();
                            barrier.wait();
                            record(EVENTS / 2);
                        })
                    })
                    .collect();
                barrier.wait();
                let start = Instant::now();
                workers.into_iter().for_each(|w| w.join().expect("worker"));
                total += start.elapsed();
                obs.reset();
                obs.observe(ObserveOptions::new()).expect("observe");
            }
            total
        });
    });
    group.finish();
}

fn bench_flush(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.json");
    let obs = recording_collector();
    let _scope = obs.set_default();
    record(EVENTS);
    obs.flush(FlushOptions::to_path(&path)).expect("flush");
    let bytes = std::fs::metadata(&path).expect("written").len();

    let mut group = c.benchmark_group("flush_100k");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);
    group.bench_function("to_new_file", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                record(EVENTS); // untimed
                let target = dir.path().join(format!("out-{i}.json"));
                let start = Instant::now();
                obs.flush(FlushOptions::to_path(&target)).expect("flush");
                total += start.elapsed();
                std::fs::remove_file(&target).expect("remove");
            }
            total
        });
    });
    group.finish();
}

/// `VmRSS` or `VmHWM` of this process, in bytes.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|k| k * 1024)
}

/// Prints resident memory per stored event and the extra peak during a flush (Linux).
fn memory_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let obs = recording_collector();
    let _scope = obs.set_default();
    record(1_000); // warm up: thread state, first segment
    obs.flush(FlushOptions::to_path(dir.path().join("warm.json")))
        .expect("flush");
    let (Some(before), true) = (proc_status_kib("VmRSS:"), cfg!(target_os = "linux")) else {
        println!("memory report: needs Linux /proc");
        return;
    };
    record(EVENTS);
    let stored = proc_status_kib("VmRSS:").unwrap_or(before);
    let per_event = (stored - before) as f64 / EVENTS as f64;
    // Reset the high-water mark, flush, and see how far above the stored state it went.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("mem.json")))
        .expect("flush");
    let took = start.elapsed();
    let peak = proc_status_kib("VmHWM:").unwrap_or(stored);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "memory: {per_event:.0} B resident per stored event; flush of {EVENTS} events took \
         {took:.1?}, wrote {:.1} MB, extra peak {:.1} MB ({:.1}% of the file)",
        size as f64 / 1e6,
        peak.saturating_sub(stored) as f64 / 1e6,
        100.0 * peak.saturating_sub(stored) as f64 / size.max(1) as f64,
    );
}

fn main() {
    memory_report();
    let mut c = Criterion::default().configure_from_args();
    bench_record(&mut c);
    bench_flush(&mut c);
    c.final_summary();
}
