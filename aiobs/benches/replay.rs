//! The cost of a replayed LLM call, against the request's own parsing and against the same
//! call answered by a server on loopback.
//!
//! ```sh
//! cargo bench -p aiobs --bench replay
//! ```
//!
//! `replay/`:
//! - `parse_request`: `serde_json::from_slice` of the request body: the floor any matching
//!   pays (the request's own parsing).
//! - `answer_chat` / `answer_stream`: `Cassette::answer` for an OpenAI chat request, matched
//!   by its body among 50 recorded calls, its answer rebuilt (a JSON body; an SSE stream).
//! - `ureq_replayed` / `ureq_loopback`: the whole call through a ureq agent: replayed by
//!   `UreqMiddleware::replay` (a session active, so the call is recorded too), and sent to
//!   `mock-llm` on loopback through `UreqMiddleware::new()`: what a replay saves.
//!
//! A cassette answers each recorded call once, so each timed call gets a fresh one (loaded
//! from memory, untimed, by `iter_batched`).

use aiobs::providers::UreqMiddleware;
use aiobs::replay::Cassette;
use aiobs::{Collector, FlushOptions, ObserveOptions};
use criterion::{BatchSize, Criterion};
use serde_json::json;

/// The request of call `i` (0-based).
fn request(i: usize, stream: bool) -> Vec<u8> {
    json!({
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You answer in one short paragraph, citing the docs."},
            {"role": "user", "content": format!("Question {i}: how do I record an LLM call in Rust?")},
        ],
    })
    .to_string()
    .into_bytes()
}

/// A trace of 50 chat calls (one streamed) recorded against the mock: its bytes.
fn recorded() -> Vec<u8> {
    let server = mock_llm::MockServer::start().expect("mock");
    let dir = tempfile::tempdir().expect("tempdir");
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new())
        .build()
        .into();
    let url = format!("{}/v1/chat/completions", server.url());
    for i in 0..50 {
        let stream = i == 25;
        agent
            .post(&url)
            .content_type("application/json")
            .send(&request(i, stream)[..])
            .expect("the mock answers")
            .body_mut()
            .read_to_vec()
            .expect("body");
    }
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("trace.json")))
        .expect("flush");
    std::fs::read(path).expect("read")
}

fn bench(c: &mut Criterion) {
    let trace = recorded();
    let fresh = || Cassette::from_slice(&trace, "trace.json").expect("cassette");
    let url = "https://api.openai.com/v1/chat/completions";
    let chat = request(10, false);
    let stream = request(25, true);

    let mut group = c.benchmark_group("replay");
    group.bench_function("parse_request", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&chat).expect("json"))
    });
    for (name, body) in [("answer_chat", &chat), ("answer_stream", &stream)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                fresh,
                |cassette| {
                    let answer = cassette.answer("POST", url, body);
                    (answer.expect("LLM").expect("answered"), cassette)
                },
                BatchSize::SmallInput,
            )
        });
    }

    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let replaying = || -> ureq::Agent {
        ureq::Agent::config_builder()
            .middleware(UreqMiddleware::replay(fresh()))
            .build()
            .into()
    };
    group.bench_function("ureq_replayed", |b| {
        b.iter_batched(
            replaying,
            |agent| {
                let body = agent
                    .post(url)
                    .content_type("application/json")
                    .send(&chat[..])
                    .expect("replayed")
                    .body_mut()
                    .read_to_vec()
                    .expect("body");
                (body, agent)
            },
            BatchSize::SmallInput,
        )
    });
    let server = mock_llm::MockServer::start().expect("mock");
    let live_url = format!("{}/v1/chat/completions", server.url());
    let recording: ureq::Agent = ureq::Agent::config_builder()
        .middleware(UreqMiddleware::new())
        .build()
        .into();
    group.bench_function("ureq_loopback", |b| {
        b.iter(|| {
            recording
                .post(&live_url)
                .content_type("application/json")
                .send(&chat[..])
                .expect("the mock answers")
                .body_mut()
                .read_to_vec()
                .expect("body")
        })
    });
    group.finish();
    obs.reset();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
