//! `ReqwestMiddleware` against a real HTTP server on loopback (`mock-llm`), on tokio's
//! current-thread and multi-thread runtimes: events, parents across `.await`, identical bytes,
//! streams teed, dropped and cut.

mod support;

use aiobs::providers::ReqwestMiddleware;
use aiobs::{Collector, ObserveOptions, observe};
use mock_llm::{MockServer, fixtures};
use reqwest_middleware::ClientWithMiddleware;
use serde_json::{Value, json};

fn client() -> ClientWithMiddleware {
    ReqwestMiddleware::new().client()
}

#[observe(skip(client))]
async fn ask(
    client: &ClientWithMiddleware,
    base: &str,
    model: &str,
    stream: bool,
) -> Result<String, reqwest_middleware::Error> {
    let body =
        json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Hi"}]});
    let response = client
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth("sk-test-SECRET-0002")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    Ok(response.text().await?)
}

#[tokio::test(flavor = "current_thread")]
async fn a_completion_and_a_stream_are_children_of_the_async_fn_and_the_bytes_are_unchanged() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let plain = ClientWithMiddleware::from(reqwest::Client::new());
    let c = client();
    let base = server.url();
    // Two observed calls interleaved on one thread: each provider event under its own caller.
    let (json_answer, streamed) = tokio::join!(
        ask(&c, &base, "gpt-4o-mini", false),
        ask(&c, &base, "gpt-4o-mini", true)
    );
    assert_eq!(json_answer.expect("call"), fixtures::OPENAI_CHAT_COMPLETION);
    assert_eq!(streamed.expect("call"), fixtures::OPENAI_CHAT_STREAM);
    let without = ask(&plain, &base, "gpt-4o-mini", false)
        .await
        .expect("call");
    assert_eq!(without, fixtures::OPENAI_CHAT_COMPLETION);

    let (export, text, _dir) = support::flush_validated(&obs, "reqwest.json");
    assert!(!text.contains("SECRET"));
    let events = export["events"].as_array().unwrap();
    let functions = export["function_events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        2,
        "only the client with the middleware records"
    );
    for e in events {
        let stream = e["request"]["other"]["stream"].as_bool().unwrap();
        let parent = functions
            .iter()
            .find(|f| f["span_id"] == e["parent_span_id"])
            .expect("a parent");
        assert_eq!(parent["args"][1], "gpt-4o-mini");
        assert_eq!(
            parent["args"][2], stream,
            "each event under the call that made it"
        );
        assert_eq!(e["response"]["text"], "Hello from the mock.");
        assert_eq!(e["error"], Value::Null);
        assert_eq!(
            e["response"]["stream"]["finished"].as_bool(),
            stream.then_some(true)
        );
    }
}

#[test]
fn on_a_multi_thread_runtime_errors_and_cut_streams_are_recorded() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = server.url();
    let c = client();
    // Observed futures spawned on the runtime keep their collector and caller.
    let task = rt.spawn(aiobs::FutureExt::in_current_span(async move {
        let limited = ask(&c, &base, "gpt-error-429", false).await;
        let cut = ask(&c, &base, "gpt-cut", true).await;
        (limited, cut)
    }));
    let (limited, cut) = rt.block_on(task).expect("task");
    assert_eq!(
        limited.expect("a 429 is a response"),
        fixtures::OPENAI_ERROR_429
    );
    assert!(cut.is_err(), "the caller sees the broken stream");
    let (export, _, _dir) = support::flush_validated(&obs, "reqwest-errors.json");
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let error = events.iter().find_map(|e| {
        e["error"]
            .as_str()
            .filter(|t| t.starts_with("RateLimitError"))
    });
    assert!(error.is_some(), "{events:?}");
    let cut = events
        .iter()
        .find(|e| e["request"]["other"]["stream"] == true)
        .unwrap();
    assert!(
        cut["error"].as_str().unwrap().starts_with("IncompleteRead"),
        "{cut}"
    );
    assert_eq!(cut["response"]["stream"]["finished"], false);
}

#[tokio::test(flavor = "current_thread")]
async fn a_response_dropped_unread_is_recorded_as_cancelled() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let response = client()
        .post(format!("{}/v1/chat/completions", server.url()))
        .body(r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#)
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 200);
    assert!(
        response.url().as_str().ends_with("/v1/chat/completions"),
        "the URL is kept"
    );
    drop(response);
    let (export, _, _dir) = support::flush_validated(&obs, "reqwest-dropped.json");
    assert_eq!(
        export["events"][0]["error"],
        "cancelled: the stream was dropped before it finished"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_reader_that_stops_at_done_has_read_a_finished_stream() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let mut response = client()
        .post(format!("{}/v1/chat/completions", server.url()))
        .body(r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#)
        .send()
        .await
        .expect("call");
    let mut seen = String::new();
    while !seen.contains("data: [DONE]\n\n") {
        let chunk = response.chunk().await.expect("chunk").expect("more");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(response); // as SSE clients do: [DONE] ends the stream for them
    let (export, _, _dir) = support::flush_validated(&obs, "reqwest-done.json");
    let e = &export["events"][0];
    assert_eq!(e["error"], Value::Null, "{e}");
    assert_eq!(e["response"]["stream"]["finished"], true);
    assert_eq!(e["response"]["text"], "Hello from the mock.");
}

#[observe(skip(client))]
async fn post(
    client: &ClientWithMiddleware,
    url: &str,
    body: Value,
) -> Result<String, reqwest_middleware::Error> {
    let response = client
        .post(url)
        .header("x-api-key", "sk-ant-api03-SECRET-0003")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    Ok(response.text().await?)
}

/// Anthropic's Messages API and OpenAI's Responses API, streamed with tools, through reqwest:
/// the same events the ureq middleware records (`tests/llm_apis.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_and_responses_streams_with_tools() {
    let server = MockServer::start().expect("server");
    let obs = Collector::new();
    let _g = obs.set_default();
    obs.observe(ObserveOptions::new()).expect("observe");
    let c = client();
    let messages = format!("{}/v1/messages", server.url());
    let responses = format!("{}/v1/responses", server.url());
    let claude = json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
                        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
                        "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    let gpt = json!({"model": "gpt-4.1-mini", "input": "Weather in Paris?", "stream": true,
                     "tools": [{"type": "function", "name": "get_weather"}]});
    let (a, r) = tokio::join!(post(&c, &messages, claude), post(&c, &responses, gpt));
    assert_eq!(a.expect("call"), fixtures::ANTHROPIC_STREAM_TOOL_USE);
    assert_eq!(r.expect("call"), fixtures::OPENAI_RESPONSE_STREAM_TOOLS);

    let (export, text, _dir) = support::flush_validated(&obs, "reqwest_apis.json");
    assert!(!text.contains("SECRET"));
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let by_api = |api: &str| {
        events
            .iter()
            .find(|e| e["api"] == api)
            .unwrap_or_else(|| panic!("an event of {api}"))
    };
    let anthropic = by_api("messages.create");
    assert_eq!(anthropic["provider"], "anthropic");
    assert_eq!(
        anthropic["response"]["tool_calls"],
        json!([{"id": "toolu_01MockWeather0002", "name": "get_weather", "input": {"city": "Paris"}}])
    );
    assert_eq!(
        anthropic["response"]["usage"]["cache_read_input_tokens"],
        1800
    );
    assert_eq!(anthropic["response"]["stream"]["finished"], true);
    let openai = by_api("responses.create");
    assert_eq!(openai["provider"], "openai");
    assert_eq!(
        openai["response"]["tool_calls"][0]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    assert_eq!(openai["response"]["stream"]["finished"], true);
    let functions = export["function_events"].as_array().unwrap();
    for e in events {
        let parent = functions
            .iter()
            .find(|f| f["span_id"] == e["parent_span_id"])
            .expect("a parent");
        assert_eq!(parent["name"], "post");
    }
}
