//! Replaying a recorded run: a program's LLM calls recorded against a real server on
//! loopback (`mock-llm`), the server stopped, then the same program answered from the file by
//! `UreqMiddleware::replay` and `ReqwestMiddleware::replay`: the same outputs, and a trace with
//! the same tree, names, results and LLM events, each marked `replayed`. And what goes wrong:
//! missing, truncated and empty files, unmatched requests, unused calls.

use std::path::Path;

use aiobs::providers::{ReqwestMiddleware, UreqMiddleware};
use aiobs::replay::{Cassette, MatchBy, ReplayError};
use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use mock_llm::MockServer;
use serde_json::{Value, json};

// ---- The program ---------------------------------------------------------------------------

/// Sends a request with ureq; the body text, or the error status.
fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<String, String> {
    match agent.post(url).send_json(body) {
        Ok(mut r) => r.body_mut().read_to_string().map_err(|e| e.to_string()),
        Err(ureq::Error::StatusCode(s)) => Err(format!("status {s}")),
        Err(e) => Err(e.to_string()),
    }
}

/// The JSON values of a stream's `data:` lines (not `[DONE]`).
fn events(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// The strings at `pointer` in each event, joined.
fn joined(events: &[Value], pointer: &str) -> String {
    events
        .iter()
        .filter_map(|e| e.pointer(pointer).and_then(Value::as_str))
        .collect()
}

fn at(text: &str, pointer: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.pointer(pointer).cloned())
        .map_or_else(
            || format!("nothing at {pointer} in {text}"),
            |v| v.to_string(),
        )
}

#[observe(skip(agent))]
fn chat(agent: &ureq::Agent, base: &str, question: &str) -> Result<String, String> {
    let body = json!({"model": "gpt-4o-mini", "temperature": 0.2,
        "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": question}]});
    Ok(at(
        &post(agent, &format!("{base}/v1/chat/completions"), &body)?,
        "/choices/0/message/content",
    ))
}

#[observe(skip(agent))]
fn chat_tools(agent: &ureq::Agent, base: &str) -> Result<String, String> {
    let body = json!({"model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]});
    let text = post(agent, &format!("{base}/v1/chat/completions"), &body)?;
    Ok(format!(
        "{} {} {}",
        at(&text, "/choices/0/message/tool_calls/0/function/name"),
        at(&text, "/choices/0/message/tool_calls/0/function/arguments"),
        at(&text, "/choices/0/finish_reason"),
    ))
}

#[observe(skip(agent))]
fn chat_stream(agent: &ureq::Agent, base: &str) -> Result<String, String> {
    let body = json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Stream it"}]});
    let events = events(&post(agent, &format!("{base}/v1/chat/completions"), &body)?);
    let usage = events
        .iter()
        .rev()
        .find_map(|e| e.get("usage").filter(|u| !u.is_null()).cloned());
    Ok(format!(
        "{} {}",
        joined(&events, "/choices/0/delta/content"),
        usage.unwrap_or_default()
    ))
}

#[observe(skip(agent))]
fn chat_error(agent: &ureq::Agent, base: &str) -> Result<String, String> {
    let body =
        json!({"model": "gpt-4o-mini-error-429", "messages": [{"role": "user", "content": "Hi"}]});
    post(agent, &format!("{base}/v1/chat/completions"), &body)
}

#[observe(skip(agent))]
fn embed(agent: &ureq::Agent, base: &str) -> Result<String, String> {
    let body = json!({"model": "text-embedding-3-small", "input": ["a", "b"]});
    let text = post(agent, &format!("{base}/v1/embeddings"), &body)?;
    Ok(format!(
        "{} {}",
        at(&text, "/data/1/embedding/0"),
        at(&text, "/usage/total_tokens")
    ))
}

#[observe(skip(agent))]
fn claude(agent: &ureq::Agent, base: &str, stream: bool) -> Result<String, String> {
    let body = json!({"model": "claude-sonnet-4", "max_tokens": 100, "stream": stream,
        "messages": [{"role": "user", "content": "Hi Claude"}]});
    let text = post(agent, &format!("{base}/v1/messages"), &body)?;
    if stream {
        let events = events(&text);
        Ok(format!(
            "{} {}",
            joined(&events, "/delta/text"),
            joined(&events, "/delta/stop_reason")
        ))
    } else {
        Ok(format!(
            "{} {}",
            at(&text, "/content/0/text"),
            at(&text, "/usage/output_tokens")
        ))
    }
}

#[observe(skip(agent))]
fn respond(agent: &ureq::Agent, base: &str, stream: bool) -> Result<String, String> {
    let body = json!({"model": "gpt-4.1-mini", "input": "Hi there", "stream": stream});
    let text = post(agent, &format!("{base}/v1/responses"), &body)?;
    if stream {
        let events = events(&text);
        Ok(format!(
            "{} {}",
            joined(&events, "/delta"),
            joined(&events, "/response/status")
        ))
    } else {
        Ok(format!(
            "{} {}",
            at(&text, "/output/0/content/0/text"),
            at(&text, "/usage/total_tokens")
        ))
    }
}

#[observe(skip(agent))]
fn gemini(agent: &ureq::Agent, base: &str, stream: bool) -> Result<String, String> {
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Hi Gemini"}]}]});
    if stream {
        let url = format!("{base}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
        Ok(joined(
            &events(&post(agent, &url, &body)?),
            "/candidates/0/content/parts/0/text",
        ))
    } else {
        let url = format!("{base}/v1beta/models/gemini-2.0-flash:generateContent");
        let text = post(agent, &url, &body)?;
        Ok(format!(
            "{} {}",
            at(&text, "/candidates/0/content/parts/0/text"),
            at(&text, "/usageMetadata/totalTokenCount")
        ))
    }
}

/// Every kind of call, in one observed run.
#[observe(skip(agent))]
fn program(agent: &ureq::Agent, base: &str) -> Vec<Result<String, String>> {
    vec![
        chat(agent, base, "Hi"),
        chat_tools(agent, base),
        chat_stream(agent, base),
        chat_error(agent, base),
        chat(agent, base, "Hi"), // the same request again: the second recorded answer
        embed(agent, base),
        claude(agent, base, false),
        claude(agent, base, true),
        respond(agent, base, false),
        respond(agent, base, true),
        gemini(agent, base, false),
        gemini(agent, base, true),
    ]
}

fn ureq_agent(middleware: UreqMiddleware) -> ureq::Agent {
    ureq::Agent::config_builder()
        .middleware(middleware)
        .build()
        .into()
}

/// Runs `program` in a session of its own; its outputs, and the flushed file.
fn run_recorded(
    middleware: UreqMiddleware,
    base: &str,
    out: &Path,
) -> (Vec<Result<String, String>>, Value) {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("replay-test"))
        .expect("observe");
    let outputs = program(&ureq_agent(middleware), base);
    obs.end();
    let path = obs.flush(FlushOptions::to_path(out)).expect("flush");
    let text = std::fs::read_to_string(path).expect("read trace");
    (outputs, serde_json::from_str(&text).expect("trace is JSON"))
}

/// The events of a trace as the comparison sees them: no times, ids or stream timings.
fn comparable(trace: &Value) -> (Vec<Value>, Vec<Value>) {
    let mut events: Vec<Value> = trace["events"].as_array().cloned().unwrap_or_default();
    for e in &mut events {
        let o = e.as_object_mut().expect("an event object");
        for k in [
            "started_at",
            "ended_at",
            "duration_ms",
            "span_id",
            "parent_span_id",
            "session_id",
            "replayed",
            "callsite",
        ] {
            o.remove(k);
        }
        if let Some(stream) = o.get_mut("response").and_then(|r| r.get_mut("stream")) {
            // Timed and chunked by the replay, not the server.
            stream["first_chunk_ms"] = Value::Null;
            stream["chunks"] = Value::Null;
        }
    }
    let functions = trace["function_events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|f| json!({"name": f["name"], "args": f["args"], "result": f["result"], "error": f["error"]}))
        .collect();
    (events, functions)
}

/// The tree as names: each node's name (function) or api (LLM call), nested.
fn shape(nodes: &Value) -> Vec<Value> {
    nodes
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    let name = n.get("name").filter(|v| !v.is_null()).unwrap_or(&n["api"]);
                    json!({"name": name, "children": shape(&n["children"])})
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_recorded_run_replays_through_ureq_with_the_server_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start().expect("mock");
    let base = server.url();
    let (recorded_out, recorded) = run_recorded(
        UreqMiddleware::new(),
        &base,
        &dir.path().join("recorded.json"),
    );
    drop(server);
    assert!(
        recorded_out[3].as_ref().is_err_and(|e| e == "status 429"),
        "{recorded_out:?}"
    );
    assert!(
        recorded_out.iter().filter(|o| o.is_ok()).count() >= 10,
        "{recorded_out:?}"
    );

    let cassette = Cassette::load(dir.path().join("recorded.json")).expect("load");
    assert_eq!(cassette.len(), 12);
    let (replayed_out, replayed) = run_recorded(
        UreqMiddleware::replay(cassette.clone()),
        &base, // nothing listens there any more
        &dir.path().join("replayed.json"),
    );
    assert_eq!(replayed_out, recorded_out);
    assert_eq!(comparable(&replayed), comparable(&recorded));
    assert_eq!(
        shape(&replayed["trace_tree"]),
        shape(&recorded["trace_tree"])
    );
    for e in replayed["events"].as_array().expect("events") {
        assert_eq!(e["replayed"], json!(true), "{e}");
    }
    assert!(recorded["events"][0].get("replayed").is_none());
    cassette.verify().expect("every recorded call was replayed");
}

#[test]
fn a_recorded_run_replays_through_reqwest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start().expect("mock");
    let base = server.url();
    let (recorded_out, _) = run_recorded(
        UreqMiddleware::new(),
        &base,
        &dir.path().join("recorded.json"),
    );
    drop(server);

    let cassette = Cassette::load(dir.path().join("recorded.json")).expect("load");
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ReqwestMiddleware::replay(cassette.clone()))
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The same requests as `program` makes through ureq, in the same order.
    let ask = |url: String, body: Value| {
        let client = client.clone();
        rt.block_on(async move {
            let r = client
                .post(url)
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.text().await.map_err(|e| e.to_string())?;
            if status >= 400 {
                Err(format!("status {status}"))
            } else {
                Ok(text)
            }
        })
    };
    let chat = ask(
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o-mini", "temperature": 0.2,
            "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "Hi"}]}),
    )
    .expect("answered");
    assert_eq!(Ok(at(&chat, "/choices/0/message/content")), recorded_out[0]);
    let stream = ask(
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "Stream it"}]}),
    )
    .expect("answered");
    let ev = events(&stream);
    let usage = ev
        .iter()
        .rev()
        .find_map(|e| e.get("usage").filter(|u| !u.is_null()).cloned());
    assert_eq!(
        Ok(format!(
            "{} {}",
            joined(&ev, "/choices/0/delta/content"),
            usage.unwrap_or_default()
        )),
        recorded_out[2]
    );
    let error = ask(
        format!("{base}/v1/chat/completions"),
        json!({"model": "gpt-4o-mini-error-429", "messages": [{"role": "user", "content": "Hi"}]}),
    );
    assert_eq!(error, Err("status 429".to_owned()));
    assert!(cassette.remaining() == 9, "{}", cassette.remaining());
}

// ---- Matching ------------------------------------------------------------------------------

fn python_fixture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("python.json");
    std::fs::write(&path, include_str!("fixtures/python-0.1.5.json")).expect("write");
    path
}

const PY_REQUEST: &str = r#"{"messages": [{"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Write a short note about tracing."}],
    "max_tokens": 64, "model": "gpt-4o-mini", "temperature": 0.2, "stream": false}"#;

#[test]
fn a_file_the_python_sdk_wrote_answers_through_ureq() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = Cassette::load(python_fixture(dir.path())).expect("load");
    let agent = ureq_agent(UreqMiddleware::replay(cassette.clone()));
    let text = agent
        .post("http://127.0.0.1:9/v1/chat/completions")
        .content_type("application/json")
        .send(PY_REQUEST)
        .expect("answered")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert_eq!(
        at(&text, "/choices/0/message/content"),
        r#""aiobs records LLM calls and traced functions.""#
    );
    assert_eq!(at(&text, "/usage/total_tokens"), "30");
    assert_eq!(at(&text, "/id"), r#""chatcmpl-fixture0001""#);
    cassette.verify().expect("used");
}

#[test]
fn an_unmatched_request_is_an_error_naming_the_closest_and_the_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = Cassette::load(python_fixture(dir.path())).expect("load");
    let agent = ureq_agent(UreqMiddleware::replay(cassette.clone()));
    let other = PY_REQUEST.replace("about tracing", "about logging");
    let err = agent
        .post("http://127.0.0.1:9/v1/chat/completions")
        .content_type("application/json")
        .send(other.as_str())
        .expect_err("unmatched");
    let ureq::Error::Other(inner) = &err else {
        panic!("expected Error::Other, got {err:?}")
    };
    let replay = inner.downcast_ref::<ReplayError>().expect("a ReplayError");
    let text = replay.to_string();
    assert!(text.contains("python.json: no recorded answer for openai chat.completions.create (model \"gpt-4o-mini\")"), "{text}");
    assert!(
        text.contains("closest recorded request is call 1"),
        "{text}"
    );
    assert!(
        text.contains(r#"/messages/1/content: recorded "Write a short note about tracing.", sent "Write a short note about logging.""#),
        "{text}"
    );

    // Used up: the one recorded answer was given.
    let answer = cassette.answer(
        "POST",
        "http://x/v1/chat/completions",
        PY_REQUEST.as_bytes(),
    );
    assert!(answer.expect("an LLM request").is_ok());
    let again = cassette
        .answer(
            "POST",
            "http://x/v1/chat/completions",
            PY_REQUEST.as_bytes(),
        )
        .expect("an LLM request")
        .expect_err("used up");
    assert!(
        again.to_string().contains("recorded 1 time")
            && again.to_string().contains("every answer was given already"),
        "{again}"
    );

    // Another provider: the file's calls are listed.
    let gemini = cassette
        .answer(
            "POST",
            "http://x/v1beta/models/gemini-2.0-flash:generateContent",
            b"{}",
        )
        .expect("an LLM request")
        .expect_err("not recorded");
    assert!(
        gemini
            .to_string()
            .contains("the file has no such call (it has openai chat.completions.create)"),
        "{gemini}"
    );

    // Not an LLM request: not the cassette's business.
    assert!(cassette.answer("GET", "http://x/v1/models", b"").is_none());
}

#[test]
fn match_by_order_ignores_the_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = Cassette::load(python_fixture(dir.path()))
        .expect("load")
        .match_by(MatchBy::Order);
    let other = PY_REQUEST.replace("about tracing", "at 12:03:44");
    let answer = cassette
        .answer("POST", "http://x/v1/chat/completions", other.as_bytes())
        .expect("an LLM request")
        .expect("answered by order");
    assert!(String::from_utf8_lossy(&answer.body).contains("aiobs records LLM calls"));
    let err = cassette
        .answer("POST", "http://x/v1/chat/completions", other.as_bytes())
        .expect("an LLM request")
        .expect_err("used up");
    assert!(
        err.to_string()
            .contains("all 1 recorded call of it were answered already"),
        "{err}"
    );
    let other_model = other.replace("gpt-4o-mini", "gpt-4o");
    let err = cassette
        .answer(
            "POST",
            "http://x/v1/chat/completions",
            other_model.as_bytes(),
        )
        .expect("an LLM request")
        .expect_err("another model");
    assert!(
        err.to_string()
            .contains("no recorded call of this model (the file has \"gpt-4o-mini\")"),
        "{err}"
    );
}

#[test]
fn requests_that_are_not_llm_calls_go_to_the_network() {
    let server = MockServer::start().expect("mock");
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = Cassette::load(python_fixture(dir.path())).expect("load");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .middleware(UreqMiddleware::replay(cassette).http_status_as_error(false))
        .build()
        .new_agent();
    let response = agent
        .get(format!("{}/v1/not-an-llm-endpoint", server.url()))
        .call()
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_strict_cassette_fails_the_test_that_leaves_calls_unused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = Cassette::load(python_fixture(dir.path())).expect("load");
    let err = cassette.verify().expect_err("nothing was asked");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: 1 recorded call was never replayed:\n  call 1 (openai chat.completions.create, model \"gpt-4o-mini\")",
            dir.path().join("python.json").display()
        )
    );
    let strict = cassette.strict();
    let panicked = std::thread::spawn(move || drop(strict))
        .join()
        .expect_err("panics on drop");
    let message = panicked.downcast_ref::<String>().expect("a message");
    assert!(message.starts_with("strict cassette: "), "{message}");

    // Used up, it drops quietly.
    let strict = Cassette::load(python_fixture(dir.path()))
        .expect("load")
        .strict();
    strict
        .answer(
            "POST",
            "http://x/v1/chat/completions",
            PY_REQUEST.as_bytes(),
        )
        .expect("an LLM request")
        .expect("answered");
    drop(strict);
}

#[test]
fn bad_files_are_errors_that_name_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.json");
    let err = Cassette::load(&missing).expect_err("missing");
    assert!(matches!(err, ReplayError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read it: ", missing.display())),
        "{err}"
    );

    let full = include_str!("fixtures/python-0.1.5.json");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &full[..full.len() / 2]).expect("write");
    let err = Cassette::load(&cut).expect_err("truncated");
    assert!(matches!(err, ReplayError::Parse { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: not an aiobs export: ", cut.display())),
        "{err}"
    );
    assert!(err.to_string().contains("line"), "{err}");

    let empty = dir.path().join("empty.json");
    std::fs::write(
        &empty,
        r#"{"sessions": [], "events": [], "function_events": []}"#,
    )
    .expect("write");
    let err = Cassette::load(&empty).expect_err("no calls");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no recorded LLM calls to replay (its \"events\" list is empty)",
            empty.display()
        )
    );

    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"name": "not a trace"}"#).expect("write");
    let err = Cassette::load(&other).expect_err("not an export");
    assert!(
        err.to_string()
            .ends_with("not an aiobs export: it has no \"events\" list"),
        "{err}"
    );
}
