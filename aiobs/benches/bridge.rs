//! The cost of a `tracing` span under `aiobs::bridge::AiobsLayer`, beside the same function
//! under tracing's registry alone and under `#[observe]`: a two-argument `#[instrument]`
//! function (its span created with two fields, entered, exited and closed).
//!
//! ```sh
//! cargo bench -p aiobs --features tracing --bench bridge
//! ```
//!
//! Batches of 10,000 calls are timed; between batches (untimed) the recorded events are
//! dropped so memory stays flat.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aiobs::bridge::AiobsLayer;
use aiobs::{Collector, ObserveOptions};
use criterion::{Criterion, Throughput};
use tracing_subscriber::layer::SubscriberExt as _;

const BATCH: u64 = 10_000;

#[tracing::instrument]
#[inline(never)]
fn traced(a: u64, b: u64) -> u64 {
    a + b
}

#[aiobs::observe]
#[inline(never)]
fn observed(a: u64, b: u64) -> u64 {
    a + b
}

/// Times `call` in batches, running `reset` (untimed) after each.
fn batches(iters: u64, mut call: impl FnMut(u64), mut reset: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let start = Instant::now();
        for i in 0..n {
            call(i);
        }
        total += start.elapsed();
        reset();
        left -= n;
    }
    total
}

/// Times `call` with a session active in `obs`; the events are dropped untimed.
fn with_session(iters: u64, obs: &Collector, call: impl FnMut(u64)) -> Duration {
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let total = batches(iters, call, || {
        obs.reset();
        obs.observe(ObserveOptions::new()).expect("observe");
    });
    obs.reset();
    total
}

fn main() {
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    let layered = tracing::Dispatch::new(tracing_subscriber::registry().with(AiobsLayer::new()));
    let obs = Collector::new();
    let span = |i: u64| {
        black_box(traced(black_box(1), black_box(i)));
    };
    let observe = |i: u64| {
        black_box(observed(black_box(1), black_box(i)));
    };

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("span");
    g.throughput(Throughput::Elements(1));
    g.bench_function("registry_alone", |b| {
        b.iter_custom(|n| tracing::dispatcher::with_default(&registry, || batches(n, span, || ())))
    });
    g.bench_function("layer_no_session", |b| {
        b.iter_custom(|n| tracing::dispatcher::with_default(&layered, || batches(n, span, || ())))
    });
    g.bench_function("layer_session", |b| {
        b.iter_custom(|n| {
            tracing::dispatcher::with_default(&layered, || with_session(n, &obs, span))
        })
    });
    // Once a span was recorded, closing one costs a span lookup even without a session.
    g.bench_function("layer_no_session_after_one", |b| {
        b.iter_custom(|n| tracing::dispatcher::with_default(&layered, || batches(n, span, || ())))
    });
    g.bench_function("observe_no_session", |b| {
        b.iter_custom(|n| batches(n, observe, || ()))
    });
    g.bench_function("observe_session", |b| {
        b.iter_custom(|n| with_session(n, &obs, observe))
    });
    g.finish();
    c.final_summary();
}
