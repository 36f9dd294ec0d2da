//! The cost of recording an LLM call through `UreqMiddleware`: the same request on loopback
//! (to `mock-llm`) through the same kind of agent without and with the middleware, a session
//! active, for a 2 kB JSON completion and a 200-chunk stream read to its end.
//!
//! ```sh
//! cargo bench -p aiobs --bench middleware
//! ```
//!
//! The recorded events are dropped between batches (untimed), as in the other benchmarks.

use std::io::Read;
use std::time::{Duration, Instant};

use aiobs::providers::UreqMiddleware;
use aiobs::{Collector, ObserveOptions};
use criterion::{Criterion, Throughput};

const BATCH: u64 = 200;

fn agent(observed: bool) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder();
    if observed {
        config = config.middleware(UreqMiddleware::new());
    }
    config.build().into()
}

/// One call, its whole body read; returns the bytes read.
fn call(agent: &ureq::Agent, url: &str, stream: bool) -> usize {
    let body = if stream {
        r#"{"model":"gpt-long","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#
    } else {
        r#"{"model":"gpt-long","messages":[{"role":"user","content":"Hi"}]}"#
    };
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .expect("the mock answers");
    let mut out = Vec::new();
    response
        .body_mut()
        .as_reader()
        .read_to_end(&mut out)
        .expect("body");
    out.len()
}

fn batches(iters: u64, obs: &Collector, mut f: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        total += start.elapsed();
        obs.reset();
        obs.observe(ObserveOptions::new()).expect("observe");
        left -= n;
    }
    total
}

fn main() {
    let server = mock_llm::MockServer::start().expect("mock server");
    let url = format!("{}/v1/chat/completions", server.url());
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let plain = agent(false);
    let observed = agent(true);
    assert!(call(&plain, &url, false) > 2000, "a 2 kB completion");

    let mut c = Criterion::default().configure_from_args();
    for (name, stream) in [("json_2kB", false), ("stream_200_chunks", true)] {
        let mut g = c.benchmark_group(format!("ureq_{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("without_aiobs", |b| {
            b.iter_custom(|n| {
                batches(n, &obs, || {
                    std::hint::black_box(call(&plain, &url, stream));
                })
            })
        });
        g.bench_function("with_middleware", |b| {
            b.iter_custom(|n| {
                batches(n, &obs, || {
                    std::hint::black_box(call(&observed, &url, stream));
                })
            })
        });
        g.finish();
    }
    c.final_summary();
}
