//! Recording throughput with auto-flush on (a file every 200 ms, written by the background
//! thread while the calls run) against off (the same calls, flushed after the measured time),
//! on 1 and 2 recording threads; and, printed at the end, the flusher's share of a core. Also
//! what a call refused by the capacity costs against one stored.
//!
//! ```sh
//! cargo bench -p aiobs --bench autoflush
//! ```

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use aiobs::{AutoFlush, Collector, ObserveOptions, observe};
use criterion::{Criterion, Throughput};

/// Calls per measured batch when recording back to back (split between the threads).
const CALLS: u64 = 200_000;
/// Paced: calls per burst (per thread), and the pause after each (untimed).
const BURST: u64 = 1_000;
const PAUSE: Duration = Duration::from_millis(5);

#[observe]
fn greet(name: &str, times: u32) -> String {
    format!("hello {name} x{times}")
}

fn record(n: u64) {
    for i in 0..n {
        black_box(greet(black_box("ada"), black_box(i as u32 & 7)));
    }
}

/// Runs `calls` calls on each of `threads` threads, `bursts` times with a pause after each
/// burst; returns the time spent in the bursts (the longest thread's).
fn run(obs: &Collector, threads: usize, calls: u64, bursts: u64, pause: Duration) -> Duration {
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (obs, barrier) = (obs.clone(), barrier.clone());
            std::thread::spawn(move || {
                let _scope = obs.set_default();
                barrier.wait();
                let mut busy = Duration::ZERO;
                for _ in 0..bursts {
                    let start = Instant::now();
                    record(calls);
                    busy += start.elapsed();
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
                busy
            })
        })
        .collect();
    workers
        .into_iter()
        .map(|w| w.join().expect("worker"))
        .max()
        .unwrap_or_default()
}

/// One scenario: `threads` threads recording `calls` per burst, with auto-flush off (flushed
/// between measurements, untimed) and on (every 200 ms, in the background).
fn scenario(c: &mut Criterion, name: &str, threads: usize, calls: u64, pause: Duration) {
    let dir = std::env::temp_dir().join(format!("aiobs-bench-autoflush-{}", std::process::id()));
    let mut group = c.benchmark_group(format!("record_with_auto_flush/{name}"));
    group.throughput(Throughput::Elements(calls * threads as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function(format!("off/{threads}_threads"), |b| {
        let obs = Collector::new();
        obs.observe(ObserveOptions::new()).expect("observe");
        b.iter_custom(|iters| {
            let busy = run(&obs, threads, calls, iters, pause);
            // Untimed: the same file the flusher would write.
            obs.flush(aiobs::FlushOptions::to_path(dir.join("off.json")))
                .expect("flush");
            busy
        });
    });
    let mut share = String::new();
    group.bench_function(format!("on/{threads}_threads"), |b| {
        let obs = Collector::new();
        obs.observe(ObserveOptions::new()).expect("observe");
        obs.set_auto_flush(AutoFlush::to_dir(dir.join("on")).every(Duration::from_millis(200)))
            .expect("auto-flush");
        let started = Instant::now();
        b.iter_custom(|iters| run(&obs, threads, calls, iters, pause));
        obs.end();
        obs.stop_auto_flush().expect("stop");
        let stats = obs.auto_flush_stats();
        share = format!(
            "{name}, {threads} thread(s): the flusher was busy {:.1}% of the run \
             ({} files, {} events, {:.0} ns per event written)",
            stats.busy.as_secs_f64() / started.elapsed().as_secs_f64() * 100.0,
            stats.flushes,
            stats.events,
            stats.busy.as_secs_f64() * 1e9 / stats.events.max(1) as f64,
        );
        let _ = std::fs::remove_dir_all(dir.join("on"));
    });
    group.finish();
    println!("auto-flush, {share}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A call refused by the capacity (counted, not stored) against one stored, on one thread.
fn over_capacity(c: &mut Criterion) {
    let mut group = c.benchmark_group("capacity");
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(20);
    for (name, cap) in [
        ("stored", aiobs::Capacity::new()),
        ("refused", aiobs::Capacity::new().max_events(0)),
    ] {
        group.bench_function(name, |b| {
            let obs = Collector::new();
            obs.set_capacity(cap);
            obs.observe(ObserveOptions::new()).expect("observe");
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run(&obs, 1, CALLS, 1, Duration::ZERO);
                    obs.reset(); // untimed: forget the events
                    obs.observe(ObserveOptions::new()).expect("observe");
                }
                total
            });
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    over_capacity(&mut c);
    for threads in [1, 2] {
        // Back to back: recording outpaces what any writer could write (~1 KB of JSON per
        // event), so this is the worst case.
        scenario(
            &mut c,
            "saturated",
            threads,
            CALLS / threads as u64,
            Duration::ZERO,
        );
        // Paced as a busy service: bursts of 1,000 calls per thread every 5 ms.
        scenario(&mut c, "paced", threads, BURST, PAUSE);
    }
    c.final_summary();
}
