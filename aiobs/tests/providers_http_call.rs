//! `HttpCall` fed by hand: what nothing may break (unknown endpoints, malformed streams,
//! bodies that aren't JSON, a provider that panics), and registered providers going first.

mod support;

use aiobs::providers::{Exchange, HttpCall, HttpRequest};
use aiobs::{Collector, EventFields, ObserveOptions, Provider};
use serde_json::Value;

fn flushed(obs: &Collector) -> Value {
    support::flush_validated(obs, "calls.json").0
}

#[test]
fn odd_exchanges_are_recorded_without_breaking_anything() {
    let obs = Collector::new();
    let _g = obs.set_default();
    assert!(
        HttpCall::start("POST", "https://api.openai.com/v1/chat/completions", b"{}").is_none(),
        "no session, no recording"
    );
    obs.observe(ObserveOptions::new()).unwrap();
    assert!(HttpCall::start("POST", "https://example.com/v1/unknown", b"{}").is_none());
    assert!(HttpCall::start("GET", "https://api.openai.com/v1/chat/completions", b"").is_none());

    // A stream whose events are not JSON, and one that ends without a blank line.
    let mut call = HttpCall::start(
        "POST",
        "https://api.openai.com/v1/chat/completions?api-version=1&key=SECRET",
        br#"{"model":"m","stream":true}"#,
    )
    .unwrap();
    call.response_head(200, Some("text/event-stream; charset=utf-8"));
    call.response_bytes(b"data: {not json\n\n: comment\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DO");
    call.finish();

    // A request body that isn't JSON, and a response that isn't either.
    let mut call =
        HttpCall::start("POST", "http://localhost:11434/v1/embeddings", b"\xff\xfe").unwrap();
    call.response_head(200, Some("text/html"));
    call.response_bytes(b"<html>busy</html>");
    call.finish();

    // A transport failure quoting a URL with a key.
    let call = HttpCall::start(
        "POST",
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSECRET",
        br#"{"contents":[]}"#,
    )
    .unwrap();
    call.fail("ConnectionError: https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSECRET: connection refused");

    let export = flushed(&obs);
    let text = export.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0]["response"]["text"], "ok",
        "bad events are skipped"
    );
    assert_eq!(events[0]["response"]["stream"]["chunks"], 1);
    assert_eq!(events[0]["error"], Value::Null);
    let request_note = events[1]["request"]["aiobs_unreadable"].as_str().unwrap();
    assert!(
        request_note.starts_with("body is not JSON"),
        "{request_note}"
    );
    let response_note = events[1]["response"]["aiobs_unreadable"].as_str().unwrap();
    assert!(
        response_note.starts_with("body is not JSON"),
        "{response_note}"
    );
    assert_eq!(events[2]["provider"], "gemini");
    assert!(
        events[2]["error"]
            .as_str()
            .unwrap()
            .contains("connection refused")
    );
}

/// A provider for OpenAI's paths that panics while recording, registered before the built-in.
struct Broken;

impl Provider for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn api(&self, http: &HttpRequest<'_>) -> Option<String> {
        http.path
            .ends_with("/chat/completions")
            .then(|| "chat".to_owned())
    }
    fn record(&self, _: &Exchange<'_>, _: &mut EventFields) {
        panic!("a bug in a provider");
    }
}

#[test]
fn registered_providers_go_first_and_one_that_panics_costs_only_its_event() {
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.register_provider(Broken);
    obs.observe(ObserveOptions::new()).unwrap();
    let mut call = HttpCall::start("POST", "https://api.openai.com/v1/chat/completions", b"{}")
        .expect("the registered provider knows it");
    assert_eq!(call.api(), ("broken", "chat"));
    call.response_head(200, Some("application/json"));
    call.response_bytes(b"{}");
    call.finish();
    let embeddings = HttpCall::start("POST", "https://api.openai.com/v1/embeddings", b"{}")
        .expect("the built-in provider still knows this one");
    assert_eq!(embeddings.api(), ("openai", "embeddings.create"));
    drop(embeddings);
    let export = flushed(&obs);
    let events = export["events"].as_array().unwrap();
    assert_eq!(
        events[0]["error"],
        "aiobs: the broken provider panicked while recording this call"
    );
    assert_eq!(
        events[1]["error"],
        "cancelled: the call was dropped before it was answered"
    );
}

/// A provider whose endpoint check panics.
struct PanicsOnApi;

impl Provider for PanicsOnApi {
    fn name(&self) -> &str {
        "panics"
    }
    fn api(&self, _: &HttpRequest<'_>) -> Option<String> {
        panic!("a bug in api()");
    }
}

#[test]
fn a_provider_that_panics_recognising_a_request_is_skipped() {
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.register_provider(PanicsOnApi);
    obs.observe(ObserveOptions::new()).unwrap();
    let call = HttpCall::start("POST", "https://api.openai.com/v1/chat/completions", b"{}")
        .expect("the built-in provider still recognises it");
    assert_eq!(call.api(), ("openai", "chat.completions.create"));
}
