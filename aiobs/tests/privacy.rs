//! What leaves the process: secrets scrubbed by default (names and values, in every place a
//! value is written), the mask hook, size caps with markers.

mod support;

use std::collections::BTreeMap;

use aiobs::mask::{Captured, Mask, MaskPath};
use aiobs::scrub::{REDACTED, Scrubbing};
use aiobs::{Collector, Limits, ObserveOptions};
use serde::Serialize;
use serde_json::{Value, json};

/// The secret value planted under each built-in name pattern: unique, and sharing no three
/// characters with the marker.
fn secret_for(name: &str) -> String {
    format!("v4lue-of-{name}-q8z1x")
}

/// Asserts that `secret` appears nowhere in the file, and that the marker holds no part of it.
fn assert_gone(text: &str, secret: &str) {
    assert!(!text.contains(secret), "{secret:?} leaked");
    let chars: Vec<char> = secret.chars().collect();
    for w in chars.windows(3) {
        let part: String = w.iter().collect();
        assert!(!REDACTED.contains(&part), "the marker holds {part:?}");
    }
}

macro_rules! patterns {
    ($($field:ident),* $(,)?) => {
        const PATTERNS: &[&str] = &[$(stringify!($field)),*];

        #[derive(Serialize, Debug)]
        struct Creds { $($field: String,)* }

        fn creds() -> Creds {
            Creds { $($field: secret_for(stringify!($field)),)* }
        }

        #[aiobs::observe]
        #[allow(clippy::too_many_arguments)]
        fn with_secret_args($($field: &str,)*) -> usize {
            0 $(+ $field.len())*
        }

        fn call_with_secret_args() -> usize {
            with_secret_args($(&secret_for(stringify!($field)),)*)
        }
    };
}

patterns!(
    password,
    passwd,
    secret,
    token,
    api_key,
    apikey,
    auth,
    authorization,
    credential,
    private_key,
    cookie,
    session_key,
    jwt,
    credit_card,
    ssn,
    access_token,
    client_secret,
);

/// Only `Debug`: captured as its Debug text.
#[derive(Debug)]
struct DebugOnly(#[allow(dead_code)] Creds);

#[aiobs::observe]
fn nested_map(config: BTreeMap<String, BTreeMap<String, String>>) -> usize {
    config.len()
}

#[aiobs::observe]
fn as_struct(account: &Creds) -> bool {
    !account.password.is_empty()
}

#[aiobs::observe]
fn as_debug(account: &DebugOnly) -> bool {
    !account.0.password.is_empty()
}

fn map_with_every_pattern() -> BTreeMap<String, BTreeMap<String, String>> {
    let inner = PATTERNS
        .iter()
        .map(|p| (p.to_string(), secret_for(p)))
        .collect();
    BTreeMap::from([("outer".to_owned(), inner)])
}

fn record_every_pattern(obs: &Collector) {
    call_with_secret_args();
    nested_map(map_with_every_pattern());
    as_struct(&creds());
    as_debug(&DebugOnly(creds()));
    obs.end();
}

#[test]
fn every_built_in_pattern_is_scrubbed_from_args_map_keys_struct_fields_and_debug() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    record_every_pattern(&obs);
    let (doc, text, _dir) = support::flush_validated(&obs, "patterns.json");
    for p in PATTERNS {
        assert_gone(&text, &secret_for(p));
    }
    let events = doc["function_events"].as_array().unwrap();
    let by_name = |name: &str| {
        events
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(
        by_name("with_secret_args")["args"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a == REDACTED)
    );
    assert_eq!(
        by_name("nested_map")["args"][0]["outer"]["password"],
        REDACTED
    );
    assert_eq!(by_name("as_struct")["args"][0]["api_key"], REDACTED);
    let debug = by_name("as_debug")["args"][0].as_str().unwrap();
    assert!(
        debug.starts_with("DebugOnly(Creds { password: \"[REDACTED]\""),
        "{debug}"
    );
}

#[test]
fn with_scrubbing_off_everything_is_written() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_scrubbing(Scrubbing::off());
    obs.observe(ObserveOptions::new()).unwrap();
    call_with_secret_args();
    let (_, text, _dir) = support::flush_validated(&obs, "off.json");
    for p in PATTERNS {
        assert!(text.contains(&secret_for(p)), "{p}");
    }
}

#[derive(Serialize)]
#[allow(clippy::struct_field_names)]
struct Usage {
    max_tokens: u32,
    prompt_tokens: u32,
    input_tokens: u32,
    token_count: u32,
    tokenizer: &'static str,
    author: &'static str,
    cache_key: &'static str,
}

#[aiobs::observe]
fn llm_words(usage: Usage, tokens: Vec<String>) -> usize {
    tokens.len() + usage.max_tokens as usize
}

#[test]
fn the_vocabulary_of_llm_work_is_never_taken_for_a_secret() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let usage = Usage {
        max_tokens: 256,
        prompt_tokens: 12,
        input_tokens: 7,
        token_count: 19,
        tokenizer: "cl100k_base",
        author: "ada",
        cache_key: "q:42",
    };
    llm_words(usage, vec!["hello".into(), "world".into()]);
    let (doc, _, _dir) = support::flush_validated(&obs, "vocabulary.json");
    let args = &doc["function_events"][0]["args"];
    assert_eq!(
        args[0],
        json!({"max_tokens": 256, "prompt_tokens": 12, "input_tokens": 7, "token_count": 19,
               "tokenizer": "cl100k_base", "author": "ada", "cache_key": "q:42"})
    );
    assert_eq!(args[1], json!(["hello", "world"]));
}

#[derive(Debug)]
struct LoginFailed(String);
impl std::fmt::Display for LoginFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "login failed with {}", self.0)
    }
}
impl std::error::Error for LoginFailed {}

#[aiobs::observe]
fn call_api(prompt: &str, url: &str) -> Result<String, LoginFailed> {
    if prompt.is_empty() {
        return Err(LoginFailed(url.to_owned()));
    }
    Ok(format!("echo {prompt}"))
}

const SK: &str = "sk-proj-Zq81mXv0pLr5Tn2Ws7Yk4Hb9";
const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

#[test]
fn secret_values_are_scrubbed_from_arguments_results_and_errors() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let prompt = format!("use {SK} and Bearer {JWT} then {AWS}");
    let _ = call_api(&prompt, "https://bob:hunter2pass@example.com/v1");
    let _ = call_api("", "https://api.example.com/v1?api_key=k3yk3yk3y&model=x");
    let (doc, text, _dir) = support::flush_validated(&obs, "values.json");
    for secret in [SK, JWT, AWS, "hunter2pass", "k3yk3yk3y"] {
        assert_gone(&text, secret);
    }
    let events = doc["function_events"].as_array().unwrap();
    assert_eq!(
        events[0]["args"][0],
        "use [REDACTED] and [REDACTED] then [REDACTED]"
    );
    assert_eq!(
        events[0]["result"],
        "echo use [REDACTED] and [REDACTED] then [REDACTED]"
    );
    assert_eq!(
        events[1]["error"],
        "LoginFailed: login failed with https://api.example.com/v1?api_key=[REDACTED]&model=x"
    );
}

#[aiobs::observe(safe(token))]
fn rotate(token: &str, session_id: &str, customer_pin: &str) -> usize {
    token.len() + session_id.len() + customer_pin.len()
}

#[test]
fn safe_names_are_kept_and_user_patterns_added() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_scrubbing(
        Scrubbing::new()
            .safe_name("sessionId")
            .secret_name("customer pin"),
    );
    obs.observe(ObserveOptions::new()).unwrap();
    rotate("public-token-name", "sess-77", "9911");
    let (doc, _, _dir) = support::flush_validated(&obs, "safe.json");
    assert_eq!(
        doc["function_events"][0]["args"],
        json!(["public-token-name", "sess-77", REDACTED])
    );
}

/// Counts its serialisations: a `secret(..)` argument is never captured at all.
struct Watched(std::sync::atomic::AtomicUsize);
impl Serialize for Watched {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        s.serialize_str("visible")
    }
}

#[aiobs::observe(secret(otp))]
fn verify(user: &str, otp: &Watched) -> bool {
    !user.is_empty() && otp.0.load(std::sync::atomic::Ordering::Relaxed) == 0
}

#[test]
fn a_secret_argument_is_never_captured_even_with_scrubbing_off() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_scrubbing(Scrubbing::off());
    obs.observe(ObserveOptions::new()).unwrap();
    let otp = Watched(0.into());
    assert!(verify("ada", &otp));
    assert_eq!(otp.0.load(std::sync::atomic::Ordering::Relaxed), 0);
    let (doc, _, _dir) = support::flush_validated(&obs, "secret.json");
    assert_eq!(doc["function_events"][0]["args"], json!(["ada", REDACTED]));
}

#[test]
fn llm_requests_and_responses_and_labels_are_scrubbed() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().label("deploy_token", "lbl-s3cr3t-77"))
        .unwrap();
    obs.add_label("notes", &format!("rotated {SK}")).unwrap();
    let call = aiobs::ProviderCall::start(
        "openai",
        "chat.completions.create",
        &json!({"model": "gpt-4o", "api_key": "req-s3cr3t-88",
                "messages": [{"role": "user", "content": format!("my key is {SK}")}]}),
    )
    .unwrap();
    call.finish_ok(
        &json!({"choices": [{"message": {"content": format!("noted: {AWS}")}}],
                          "usage": {"prompt_tokens": 9}}),
    );
    let (doc, text, _dir) = support::flush_validated(&obs, "provider.json");
    for secret in ["lbl-s3cr3t-77", "req-s3cr3t-88", SK, AWS] {
        assert_gone(&text, secret);
    }
    let event = &doc["events"][0];
    assert_eq!(event["request"]["api_key"], REDACTED);
    assert_eq!(event["request"]["model"], "gpt-4o");
    assert_eq!(event["response"]["usage"]["prompt_tokens"], 9);
    assert_eq!(doc["sessions"][0]["labels"]["deploy_token"], REDACTED);
}

#[derive(Serialize)]
struct Profile {
    email: String,
    internal_notes: String,
    tags: Vec<String>,
}

#[aiobs::observe]
fn save(user: &Profile, note: &str) -> String {
    format!("{}: {note}", user.email)
}

#[aiobs::observe]
async fn save_async(user: &Profile) -> usize {
    user.tags.len()
}

#[test]
fn the_mask_hook_sees_each_value_with_its_path_and_its_changes_land() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    obs.set_mask(move |path: &MaskPath<'_>, value: &Captured<'_>| {
        log.lock().unwrap().push(path.to_string());
        match value {
            Captured::Str(s) if s.contains('@') => Mask::Replace("<email>".into()),
            _ if path.last_key() == Some("internal_notes") => Mask::Remove,
            Captured::Str("drop me") => Mask::Remove,
            _ => Mask::Keep,
        }
    });
    obs.observe(ObserveOptions::new()).unwrap();
    let user = Profile {
        email: "ada@example.com".into(),
        internal_notes: "vip".into(),
        tags: vec!["a".into(), "drop me".into()],
    };
    let out = save(&user, "hi");
    assert_eq!(out, "ada@example.com: hi", "the call itself is untouched");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(save_async(&user));
    let (doc, text, _dir) = support::flush_validated(&obs, "mask.json");
    assert!(!text.contains("ada@example.com") && !text.contains("vip"));
    let events = doc["function_events"].as_array().unwrap();
    assert_eq!(
        events[0]["args"],
        json!([{"email": "<email>", "tags": ["a"]}, "hi"])
    );
    assert_eq!(events[0]["result"], "<email>");
    assert_eq!(events[1]["args"][0]["email"], "<email>");
    let seen = seen.lock().unwrap();
    for path in [
        "save.user.email",
        "save.user.internal_notes",
        "save.user.tags[1]",
        "save.note",
        "save.<result>",
        "save_async.user.email",
    ] {
        assert!(seen.iter().any(|p| p == path), "{path} in {seen:?}");
    }
}

#[test]
fn a_panicking_mask_hook_records_a_placeholder_and_the_call_returns() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_mask(|path: &MaskPath<'_>, _: &Captured<'_>| {
        if path.arg() == Some("note") {
            panic!("mask panicked on purpose");
        }
        Mask::Keep
    });
    obs.observe(ObserveOptions::new()).unwrap();
    let user = Profile {
        email: "x".into(),
        internal_notes: String::new(),
        tags: vec![],
    };
    assert_eq!(save(&user, "hi"), "x: hi");
    let (doc, _, _dir) = support::flush_validated(&obs, "mask-panics.json");
    assert_eq!(doc["function_events"][0]["args"][1], "[mask failed]");
}

#[aiobs::observe]
fn huge(text: String, items: Vec<u64>, nested: Value) -> usize {
    text.len() + items.len() + nested.is_array() as usize
}

fn nested(depth: u32) -> Value {
    if depth == 0 {
        json!("leaf")
    } else {
        Value::Array((0..12).map(|_| nested(depth - 1)).collect())
    }
}

#[test]
fn huge_values_are_captured_bounded_with_markers() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let text = "x".repeat(10 << 20);
    let items: Vec<u64> = (0..1_000_000).collect();
    huge(text, items, nested(6)); // 12^6 ≈ 3 million leaves
    let (doc, _, _dir) = support::flush_validated(&obs, "huge.json");
    let args = &doc["function_events"][0]["args"];
    let size = args.to_string().len();
    assert!(size < 66 * 1024, "the event cap holds: {size} bytes");
    let s = args[0].as_str().unwrap();
    assert_eq!(s.len(), 503);
    assert!(s.ends_with("..."));
    assert_eq!(args[1].as_array().unwrap().len(), 11);
    assert_eq!(args[1][10], "[+999990 more items]");
    // The nested value keeps what fits, with markers where items were left out and where
    // its largest parts were cut for the event cap.
    let nested = args[2].to_string();
    assert!(nested.contains(r#""leaf","[+2 more items]"]"#), "{nested}");
    assert!(nested.contains(r#""[cut: "#), "{nested}");
}

#[aiobs::observe]
fn three_blobs(a: &str, b: &str, c: &str) -> usize {
    a.len() + b.len() + c.len()
}

#[test]
fn an_event_over_its_cap_loses_its_largest_values_first_with_a_marker() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.set_limits(
        Limits::new()
            .max_str_chars(usize::MAX)
            .max_event_bytes(10_000),
    );
    obs.observe(ObserveOptions::new()).unwrap();
    three_blobs(&"a".repeat(3_000), &"b".repeat(9_000), &"c".repeat(4_000));
    let (doc, _, _dir) = support::flush_validated(&obs, "cap.json");
    let args = &doc["function_events"][0]["args"];
    assert_eq!(args[0].as_str().unwrap().len(), 3_000);
    assert_eq!(args[1], "[cut: 9005 bytes]");
    assert_eq!(args[2].as_str().unwrap().len(), 4_000);
}

#[test]
fn the_mask_hook_sees_llm_requests_and_responses() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    obs.set_mask(move |path: &MaskPath<'_>, value: &Captured<'_>| {
        log.lock().unwrap().push(path.to_string());
        match value {
            Captured::Str(s) if s.contains("Ada Lovelace") => Mask::Replace("<name>".into()),
            _ => Mask::Keep,
        }
    });
    obs.observe(ObserveOptions::new()).unwrap();
    let call = aiobs::ProviderCall::start(
        "openai",
        "chat.completions.create",
        &json!({"messages": [{"role": "user", "content": "I am Ada Lovelace"}]}),
    )
    .unwrap();
    call.finish_ok(&json!({"text": "Hello, Ada Lovelace"}));
    let (doc, text, _dir) = support::flush_validated(&obs, "mask-llm.json");
    assert!(!text.contains("Lovelace"));
    assert_eq!(
        doc["events"][0]["request"]["messages"][0]["content"],
        "<name>"
    );
    assert_eq!(doc["events"][0]["response"]["text"], "<name>");
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .any(|p| p == "chat.completions.create.request.messages[0].content"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|p| p == "chat.completions.create.response.text")
    );
}
