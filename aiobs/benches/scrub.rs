//! The cost of deciding what is a secret, paid at flush for every map key and captured
//! string: `is_secret_name` on typical names and `scrub_text` on text with and without
//! secrets.
//!
//! ```sh
//! cargo bench -p aiobs --bench scrub
//! ```

use std::hint::black_box;

use aiobs::scrub::Scrubbing;
use criterion::{Criterion, Throughput};

/// About 2 kB of prompt text without secrets (prose, JSON-ish usage, a URL, ids).
fn prompt() -> String {
    let paragraph = "You are a helpful assistant. Summarise the following support ticket for \
        the on-call engineer: the user reports that the export job (task-1234) fails with \
        status 503 after retrying; see https://status.example.com/incidents/42 for details. \
        Usage so far: {\"prompt_tokens\": 812, \"completion_tokens\": 96, \"max_tokens\": 1024}. \
        Keep it brief, at most three sentences, and mention the request id \
        550e8400-e29b-41d4-a716-446655440000.\n";
    let mut text = String::new();
    while text.len() < 2000 {
        text.push_str(paragraph);
    }
    text
}

fn bench_names(c: &mut Criterion) {
    let rules = Scrubbing::new();
    let mut group = c.benchmark_group("is_secret_name");
    for name in [
        "name",
        "max_tokens",
        "api_key",
        "x-api-key",
        "upstream_request_completion_budget_limit", // 40 bytes, not secret
    ] {
        group.bench_function(format!("{name:.16}"), |b| {
            b.iter(|| rules.is_secret_name(black_box(name)))
        });
    }
    group.finish();
}

fn bench_text(c: &mut Criterion) {
    let rules = Scrubbing::new();
    let prompt = prompt();
    let mut with_key = prompt.clone();
    with_key.insert_str(with_key.len() / 2, " sk-proj-Q7xR2mN8vK4pL9wZ3tY6 ");
    let cases = [
        ("world", "world".to_owned()),
        (
            "sentence_80",
            "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat."
                .to_owned(),
        ),
        ("prompt_2k", prompt),
        ("prompt_2k_one_key", with_key),
        (
            "debug_login",
            r#"Login { user: "bob", password: "hunter2" }"#.to_owned(),
        ),
    ];
    let mut group = c.benchmark_group("scrub_text");
    for (label, text) in &cases {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(*label, |b| {
            b.iter(|| rules.scrub_text(black_box(text), false).len())
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_names(&mut c);
    bench_text(&mut c);
    c.final_summary();
}
