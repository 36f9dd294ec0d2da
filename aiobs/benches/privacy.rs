//! What privacy and volume control cost, side by side in one run.
//!
//! - `scrub_per_event`: scrubbing runs when a trace is written, so its cost per call is the
//!   flush time per event with scrubbing on against off: `add(a: u64, b: u64)` (numbers),
//!   `greet(name: &str, tags: Vec<String>)` (short strings), `login(user: &str, password:
//!   &str)` (a secret argument name). Calls are recorded untimed, then their flush to a sink
//!   is timed and divided by the events.
//! - `record`: the recorded call itself, with no mask hook, with one that keeps everything,
//!   and, for head sampling, a root call in a dropped tree against a kept one.
//!
//! ```sh
//! cargo bench -p aiobs --bench privacy
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use aiobs::mask::{Captured, Mask, MaskPath};
use aiobs::scrub::Scrubbing;
use aiobs::{Collector, ExportDocument, ExportResult, Exporter, ObserveOptions, Sampling};
use criterion::Criterion;

/// Events recorded before each timed flush.
const BATCH: u64 = 10_000;

#[aiobs::observe]
#[inline(never)]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[aiobs::observe]
#[inline(never)]
fn greet(name: &str, tags: Vec<String>) -> String {
    format!("hello {name} ({})", tags.len())
}

#[aiobs::observe]
#[inline(never)]
fn login(user: &str, password: &str) -> bool {
    user.len() > password.len()
}

fn tags() -> Vec<String> {
    vec!["a".to_owned(), "bb".to_owned(), "ccc".to_owned()]
}

/// Writes the document's JSON nowhere.
struct Sink;

impl Exporter for Sink {
    fn export(&self, doc: &ExportDocument<'_>) -> Result<ExportResult, aiobs::BoxError> {
        doc.write_json(&mut std::io::sink())?;
        Ok(ExportResult::default())
    }
}

fn collector(scrubbing: Scrubbing) -> Collector {
    let obs = Collector::new();
    obs.set_scrubbing(scrubbing);
    obs.observe(ObserveOptions::new().session_name("bench"))
        .expect("session");
    obs
}

/// Records `iters` calls (untimed) and returns the time their flushes took.
fn flush_time(obs: &Collector, iters: u64, mut call: impl FnMut(u64)) -> Duration {
    let _scope = obs.set_default();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        for i in 0..n {
            call(i);
        }
        let start = Instant::now();
        obs.flush_to(&Sink, false).expect("flush");
        total += start.elapsed();
        left -= n;
    }
    total
}

fn scrub_per_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("scrub_per_event");
    for (label, rules) in [("on", Scrubbing::new()), ("off", Scrubbing::off())] {
        let obs = collector(rules);
        g.bench_function(format!("add/{label}"), |b| {
            b.iter_custom(|iters| {
                flush_time(&obs, iters, |i| {
                    black_box(add(black_box(i), 1));
                })
            });
        });
        g.bench_function(format!("greet/{label}"), |b| {
            b.iter_custom(|iters| {
                flush_time(&obs, iters, |_| {
                    black_box(greet(black_box("world"), tags()));
                })
            });
        });
        g.bench_function(format!("login/{label}"), |b| {
            b.iter_custom(|iters| {
                flush_time(&obs, iters, |_| {
                    black_box(login(black_box("ada"), black_box("hunter2")));
                })
            });
        });
    }
    g.finish();
}

/// Times `iters` calls, resetting the collector's events between batches (untimed).
fn call_time(obs: &Collector, iters: u64, mut call: impl FnMut(u64)) -> Duration {
    let _scope = obs.set_default();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let start = Instant::now();
        for i in 0..n {
            call(i);
        }
        total += start.elapsed();
        obs.flush_to(&Sink, false).expect("flush");
        left -= n;
    }
    total
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("record");
    let plain = collector(Scrubbing::new());
    let masked = collector(Scrubbing::new());
    masked.set_mask(|_: &MaskPath<'_>, _: &Captured<'_>| Mask::Keep);
    g.bench_function("greet/no_mask", |b| {
        b.iter_custom(|iters| {
            call_time(&plain, iters, |_| {
                black_box(greet(black_box("world"), tags()));
            })
        });
    });
    g.bench_function("greet/mask_keeps_all", |b| {
        b.iter_custom(|iters| {
            call_time(&masked, iters, |_| {
                black_box(greet(black_box("world"), tags()));
            })
        });
    });
    let dropped = collector(Scrubbing::new());
    dropped.set_sampling(Sampling::new().head_ratio(0.0));
    g.bench_function("add/kept", |b| {
        b.iter_custom(|iters| {
            call_time(&plain, iters, |i| {
                black_box(add(black_box(i), 1));
            })
        });
    });
    g.bench_function("add/head_dropped", |b| {
        b.iter_custom(|iters| {
            call_time(&dropped, iters, |i| {
                black_box(add(black_box(i), 1));
            })
        });
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    scrub_per_event(&mut c);
    record(&mut c);
    c.final_summary();
}
