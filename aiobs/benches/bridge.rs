//! The cost of a `tracing` span under `aiobs::bridge::AiobsLayer`, beside the same function
//! under tracing's registry alone, under the registry with a layer that does nothing (what
//! layering itself costs), and under `#[observe]`: a two-argument `#[instrument]`
//! function (its span created with two fields, entered, exited and closed).
//!
//! ```sh
//! cargo bench -p aiobs --features tracing --bench bridge
//! ```
//!
//! Batches of 10,000 calls are timed; between batches (untimed) the recorded events are
//! dropped so memory stays flat. Before criterion's runs, the best of 50 batches of each is
//! printed: on a shared machine the fastest batch is the one least disturbed by other work.

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

/// A layer that does nothing: what layering itself costs over the registry alone.
struct Noop;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

/// The fastest of 50 timed batches, in nanoseconds a call.
fn best_batch(mut batch: impl FnMut() -> Duration) -> f64 {
    (0..50)
        .map(|_| batch().as_nanos() as f64 / BATCH as f64)
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    let noop = tracing::Dispatch::new(tracing_subscriber::registry().with(Noop));
    let layered = tracing::Dispatch::new(tracing_subscriber::registry().with(AiobsLayer::new()));
    let obs = Collector::new();
    let span = |i: u64| {
        black_box(traced(black_box(1), black_box(i)));
    };
    let observe = |i: u64| {
        black_box(observed(black_box(1), black_box(i)));
    };

    for (name, best) in [
        (
            "registry_alone",
            best_batch(|| {
                tracing::dispatcher::with_default(&registry, || batches(BATCH, span, || ()))
            }),
        ),
        (
            "noop_layer",
            best_batch(|| tracing::dispatcher::with_default(&noop, || batches(BATCH, span, || ()))),
        ),
        (
            "layer_no_session",
            best_batch(|| {
                tracing::dispatcher::with_default(&layered, || batches(BATCH, span, || ()))
            }),
        ),
        (
            "layer_session",
            best_batch(|| {
                tracing::dispatcher::with_default(&layered, || with_session(BATCH, &obs, span))
            }),
        ),
        (
            "layer_no_session_after_one",
            best_batch(|| {
                tracing::dispatcher::with_default(&layered, || batches(BATCH, span, || ()))
            }),
        ),
        (
            "observe_no_session",
            best_batch(|| batches(BATCH, observe, || ())),
        ),
        (
            "observe_session",
            best_batch(|| with_session(BATCH, &obs, observe)),
        ),
    ] {
        println!("span/{name}: best batch {best:.1} ns a call");
    }

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("span");
    g.throughput(Throughput::Elements(1));
    g.bench_function("registry_alone", |b| {
        b.iter_custom(|n| tracing::dispatcher::with_default(&registry, || batches(n, span, || ())))
    });
    g.bench_function("noop_layer", |b| {
        b.iter_custom(|n| tracing::dispatcher::with_default(&noop, || batches(n, span, || ())))
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
