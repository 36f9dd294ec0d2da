//! `llm_call`: an LLM call recorded by hand, with the caller's callsite, as a child of the
//! observed function; dropped unfinished, it is recorded as cancelled.

mod support;

use aiobs::{Collector, ObserveOptions, llm_call, observe};
use serde_json::{Value, json};

#[observe]
fn answer(question: &str) -> String {
    let request =
        json!({"model": "claude-sonnet-4", "messages": [{"role": "user", "content": question}]});
    let call = llm_call("anthropic", "messages.create").request(&request);
    let line = line!() - 1;
    call.response(&json!({"id": "msg_1", "content": [{"type": "text", "text": "4"}]}));
    format!("4 (recorded from line {line})")
}

#[test]
fn a_manual_call_is_recorded_with_its_callsite_and_parent() {
    let obs = Collector::new();
    let _g = obs.set_default();
    // Without a session nothing is recorded, and nothing fails.
    let idle = llm_call("openai", "chat.completions.create").request(&json!({}));
    assert!(!idle.is_recording());
    idle.error("ignored");
    obs.observe(ObserveOptions::new()).expect("observe");
    let said = answer("2+2?");
    let line: u64 = said
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    {
        let _unfinished =
            llm_call("openai", "chat.completions.create").request(&json!({"model": "m"}));
    }
    llm_call("gemini", "models.generate_content")
        .request(&json!({"model": "gemini-2.0-flash"}))
        .error("ClientError: 429 RESOURCE_EXHAUSTED. {}");

    let (export, _, _dir) = support::flush_validated(&obs, "manual.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    let e = &events[0];
    assert_eq!(e["provider"], "anthropic");
    assert_eq!(e["api"], "messages.create");
    assert_eq!(e["request"]["messages"][0]["content"], "2+2?");
    assert_eq!(e["response"]["content"][0]["text"], "4");
    assert_eq!(e["callsite"]["file"], "aiobs/tests/providers_manual.rs");
    assert_eq!(e["callsite"]["line"], line);
    assert_eq!(e["parent_span_id"], export["function_events"][0]["span_id"]);
    assert_eq!(
        events[1]["error"],
        "cancelled: the call was dropped before it finished"
    );
    assert_eq!(events[1]["parent_span_id"], Value::Null);
    assert_eq!(
        events[2]["error"],
        "ClientError: 429 RESOURCE_EXHAUSTED. {}"
    );
    assert_eq!(events[2]["response"], Value::Null);
}
