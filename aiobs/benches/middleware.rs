//! The cost of recording an LLM call through `UreqMiddleware`: the same request on loopback
//! (to `mock-llm`) through the same kind of agent without and with the middleware, a session
//! active, for a 2 kB JSON completion and a 200-chunk stream read to its end.
//!
//! ```sh
//! cargo bench -p aiobs --bench middleware
//! ```
//!
//! A third group times the recording alone (an `HttpCall` fed the same request and response
//! bytes, no network): what the middleware adds on the caller's thread. The provider turns
//! the bytes into the event at flush, not here.
//!
//! The recorded events are dropped between batches (untimed), as in the other benchmarks.

use std::io::Read;
use std::time::{Duration, Instant};

use aiobs::providers::{HttpCall, UreqMiddleware};
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
    {
        let fetch = |body: &str| {
            plain
                .post(&url)
                .send(body)
                .expect("the mock answers")
                .body_mut()
                .read_to_string()
                .expect("body")
        };
        let json_request = r#"{"model":"gpt-long","messages":[{"role":"user","content":"Hi"}]}"#;
        let stream_request =
            r#"{"model":"gpt-long","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#;
        let json_answer = fetch(json_request);
        let stream_answer = fetch(stream_request);
        let mut g = c.benchmark_group("http_call_record");
        g.throughput(Throughput::Elements(1));
        for (name, request, answer, content_type, piece) in [
            (
                "json_2kB",
                json_request,
                &json_answer,
                "application/json",
                4096,
            ),
            (
                "stream_200_chunks",
                stream_request,
                &stream_answer,
                "text/event-stream",
                212,
            ),
        ] {
            g.bench_function(name, |b| {
                b.iter_custom(|n| {
                    batches(n, &obs, || {
                        let mut call = HttpCall::start("POST", &url, request.as_bytes())
                            .expect("an OpenAI endpoint");
                        call.response_head(200, Some(content_type));
                        for bytes in answer.as_bytes().chunks(piece) {
                            call.response_bytes(bytes);
                        }
                        call.finish();
                    })
                })
            });
        }
        g.finish();
    }
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
