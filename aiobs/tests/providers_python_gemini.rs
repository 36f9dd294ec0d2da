//! The built-in Gemini provider against what the Python SDK records for the same HTTP
//! exchanges (`fixtures/python-gemini-0.1.5.json`, written by the real aiobs 0.1.5 with
//! google-genai 3.6.1, see `make_gemini_fixture.py`), field by field.
//!
//! google-genai's models dump every declared field, null or not; aiobs writes the fields the
//! REST JSON carries. So nulls are dropped on both sides before comparing, and three
//! documented differences are applied to Python's side: it records `contents` as the caller
//! passed them (a string here, where the wire has a list of contents), a `system_instruction`
//! string inside `config` (the wire has a content), and a null `response.model` (it reads an
//! attribute the response doesn't have; aiobs writes the response's `modelVersion`).

mod support;

use aiobs::providers::HttpCall;
use aiobs::{Collector, ObserveOptions};
use serde_json::{Value, json};

/// `v` without null object fields, recursively.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn gemini_events_match_the_python_sdk() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/python-gemini-0.1.5.json")).expect("fixture");
    let cases = fixture["cases"].as_array().expect("cases");
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    for case in cases {
        let mut call = HttpCall::start(
            case["method"].as_str().unwrap(),
            case["url"].as_str().unwrap(),
            case["request_body"].as_str().unwrap().as_bytes(),
        )
        .expect("a Gemini endpoint");
        assert_eq!(call.api(), ("gemini", case["api"].as_str().unwrap()));
        call.response_head(
            case["status"].as_u64().unwrap() as u16,
            Some("application/json"),
        );
        call.response_bytes(case["response_body"].as_str().unwrap().as_bytes());
        call.finish();
    }
    let (export, _, _dir) = support::flush_validated(&obs, "gemini.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), cases.len());
    for (event, case) in events.iter().zip(cases) {
        let sent: Value = serde_json::from_str(case["request_body"].as_str().unwrap()).unwrap();
        let answered: Value =
            serde_json::from_str(case["response_body"].as_str().unwrap()).unwrap();
        let mut python = case["python"].clone();
        let request = &mut python["request"];
        if request["contents"].is_string() {
            request["contents"] = sent["contents"].clone();
        }
        if let Some(text) = request["config"]["system_instruction"].as_str() {
            assert_eq!(sent["systemInstruction"]["parts"][0]["text"], text);
            request["config"]["system_instruction"] = sent["systemInstruction"].clone();
        }
        if python["response"].is_object() && case["api"] == "models.generate_content" {
            assert_eq!(python["response"]["model"], Value::Null);
            python["response"]["model"] = answered["modelVersion"].clone();
        }
        for field in ["request", "response", "error"] {
            assert_eq!(
                without_nulls(&event[field]),
                without_nulls(&python[field]),
                "{field} of {} answered {}",
                case["api"],
                case["status"]
            );
        }
    }
    // The exact wording of an error, as google-genai raises it.
    assert_eq!(
        events[4]["error"],
        json!(
            "ClientError: 429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'Resource has been exhausted (e.g. check quota).', 'status': 'RESOURCE_EXHAUSTED'}}"
        )
    );
}
