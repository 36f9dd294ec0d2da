//! The built-in providers record what the Python SDK records for the same HTTP exchange: each
//! case of `fixtures/python-providers-0.1.5.json` (written by the real aiobs 0.1.5 and openai
//! clients, see `make_provider_fixture.py`) is fed to an [`HttpCall`] and the flushed event is
//! compared field by field with Python's.

mod support;

use aiobs::providers::HttpCall;
use aiobs::{Collector, ObserveOptions};
use serde_json::Value;

#[test]
fn openai_events_match_the_python_sdk() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/python-providers-0.1.5.json"))
        .expect("fixture");
    let cases = fixture["cases"].as_array().expect("cases");
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    for case in cases {
        let body = case["request_body"].as_str().expect("request body");
        let mut call = HttpCall::start(
            case["method"].as_str().expect("method"),
            case["url"].as_str().expect("url"),
            body.as_bytes(),
        )
        .expect("an OpenAI endpoint");
        assert_eq!(
            call.api(),
            (
                case["provider"].as_str().unwrap(),
                case["api"].as_str().unwrap()
            )
        );
        call.response_head(
            case["status"].as_u64().unwrap() as u16,
            Some("application/json"),
        );
        call.response_bytes(case["response_body"].as_str().unwrap().as_bytes());
        call.finish();
    }
    let (export, _, _dir) = support::flush_validated(&obs, "providers.json");
    let events = export["events"].as_array().expect("events");
    assert_eq!(events.len(), cases.len());
    for (event, case) in events.iter().zip(cases) {
        let mut python = case["python"].clone();
        // The one known difference: openai-python asks for base64 embeddings on the wire when
        // the caller names no `encoding_format` (and decodes them itself); Python records the
        // caller's argument (null), aiobs records the request as sent.
        let sent: Value = serde_json::from_str(case["request_body"].as_str().unwrap()).unwrap();
        if case["api"] == "embeddings.create" && python["request"]["encoding_format"].is_null() {
            assert_eq!(sent["encoding_format"], "base64");
            python["request"]["encoding_format"] = "base64".into();
        }
        // What aiobs writes beyond the Python SDK (the JSON-format chapter lists them): the
        // rest is the same, field for field.
        let mut response = event["response"].clone();
        let added: Vec<(String, Value)> = match response.as_object_mut() {
            Some(o) => ["finish_reason", "tool_calls", "stream"]
                .iter()
                .filter_map(|k| o.remove(*k).map(|v| ((*k).to_owned(), v)))
                .collect(),
            None => Vec::new(),
        };
        for (field, ours) in [
            ("request", &event["request"]),
            ("response", &response),
            ("error", &event["error"]),
        ] {
            assert_eq!(
                *ours, python[field],
                "{field} of the {} call answered {}",
                case["api"], case["status"]
            );
        }
        if case["api"] == "chat.completions.create" && case["status"] == 200 {
            let body: Value =
                serde_json::from_str(case["response_body"].as_str().unwrap()).unwrap();
            assert_eq!(
                added,
                [(
                    "finish_reason".to_owned(),
                    body["choices"][0]["finish_reason"].clone()
                )],
                "a chat answer adds its finish reason"
            );
        }
        assert_eq!(event["provider"], case["provider"]);
        assert_eq!(event["api"], case["api"]);
        assert_eq!(
            event["callsite"],
            Value::Null,
            "an HTTP call has no Rust callsite"
        );
    }
}
