//! The aiobs usage and trace routes, and injected faults, spoken to over a plain `TcpStream`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mock_llm::{Fault, MockServer};
use serde_json::{Value, json};

const KEY: &str = "aiobs_sk_test";

/// A response as read off the wire: the status, the headers' lines and the body.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends one request with `Connection: close` and reads until the server closes the
/// connection; `None` when it closed it without a status line.
fn request(
    server: &MockServer,
    request: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Option<Response> {
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{request} HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n");
    if let Some(key) = key {
        head += &format!("Authorization: Bearer {key}\r\n");
    }
    let body = body.unwrap_or("");
    head += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    conn.write_all(head.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    match conn.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {} // a reset counts as the end
        Err(e) => panic!("{request}: {e}"),
    }
    let text = String::from_utf8(bytes).unwrap();
    if text.is_empty() {
        return None;
    }
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .expect("a status line");
    Some(Response {
        status: status.parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

fn get_usage(server: &MockServer, key: Option<&str>) -> Response {
    request(server, "GET /v1/usage", key, None).expect("a response")
}

fn post(server: &MockServer, path: &str, body: &str) -> Response {
    request(server, &format!("POST {path}"), Some(KEY), Some(body)).expect("a response")
}

fn usage(used: u64, limit: u64, rate_limited: bool) -> Value {
    json!({
        "tier": "free",
        "traces_used": used,
        "traces_limit": limit,
        "traces_remaining": limit.saturating_sub(used),
        "is_rate_limited": rate_limited,
    })
}

#[test]
fn get_usage_accepts_the_key_and_refuses_others() {
    let server = MockServer::start().unwrap();
    let ok = get_usage(&server, Some(KEY));
    assert_eq!(ok.status, 200);
    assert!(ok.head.contains("\r\nContent-Type: application/json\r\n"));
    assert_eq!(
        ok.json(),
        json!({"success": true, "usage": usage(0, 1000, false)})
    );
    let refused = json!({"success": false, "error": "Invalid API key"});
    for key in [Some("aiobs_sk_wrong"), Some(""), None] {
        let response = get_usage(&server, key);
        assert_eq!((response.status, response.json()), (401, refused.clone()));
    }
    server.set_api_key("aiobs_sk_other");
    assert_eq!(get_usage(&server, Some(KEY)).status, 401);
    assert_eq!(get_usage(&server, Some("aiobs_sk_other")).status, 200);
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer aiobs_sk_test")
    );
    assert_eq!(requests[3].header("authorization"), None);
    assert_eq!(
        (&*requests[0].method, &*requests[0].path),
        ("GET", "/v1/usage")
    );
}

#[test]
fn post_usage_spends_the_quota_then_answers_429_with_the_usage() {
    let server = MockServer::start().unwrap();
    server.set_usage(7, 10);
    let response = post(&server, "/v1/usage", r#"{"trace_count":2}"#);
    assert_eq!(
        (response.status, response.json()),
        (200, json!({"success": true, "usage": usage(9, 10, false)}))
    );
    let too_many = post(&server, "/v1/usage", r#"{"trace_count":2}"#);
    assert_eq!(too_many.status, 429);
    assert!(
        too_many
            .head
            .starts_with("HTTP/1.1 429 Too Many Requests\r\n")
    );
    let limited =
        json!({"success": false, "error": "Rate limit exceeded", "usage": usage(9, 10, true)});
    assert_eq!(too_many.json(), limited);
    assert_eq!(server.usage_used(), 9);
    let last = post(&server, "/v1/usage", r#"{"trace_count":1}"#);
    assert_eq!(
        (last.status, last.json()),
        (200, json!({"success": true, "usage": usage(10, 10, true)}))
    );
    assert_eq!(
        get_usage(&server, Some(KEY)).json()["usage"],
        usage(10, 10, true)
    );
    let none_left = post(&server, "/v1/usage", r#"{"trace_count":1}"#);
    assert_eq!(none_left.status, 429);
    assert_eq!(
        post(&server, "/v1/usage", r#"{"trace_count":0}"#).status,
        200
    );
    assert_eq!(server.usage_used(), 10);
    assert_eq!(server.requests()[0].json(), Some(json!({"trace_count": 2})));
}

#[test]
fn post_usage_checks_the_key_before_anything_else() {
    let server = MockServer::start().unwrap();
    server.set_usage(10, 10);
    let request = |key, body| request(&server, "POST /v1/usage", key, Some(body)).unwrap();
    assert_eq!(request(None, r#"{"trace_count":1}"#).status, 401);
    assert_eq!(request(Some("nope"), "not json").status, 401);
    assert_eq!(server.usage_used(), 10);
}

#[test]
fn bad_bodies_get_a_400() {
    let server = MockServer::start().unwrap();
    for body in [
        "",
        "not json",
        "{}",
        "[]",
        "3",
        r#"{"trace_count":-1}"#,
        r#"{"trace_count":1.5}"#,
        r#"{"trace_count":"3"}"#,
        r#"{"trace_count":null}"#,
    ] {
        let response = post(&server, "/v1/usage", body);
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.json()["success"], false, "{body}");
        assert!(response.json()["error"].is_string(), "{body}");
    }
    assert_eq!(server.usage_used(), 0);
    for body in ["", "{", "not json"] {
        let response = post(&server, "/v1/traces", body);
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.json()["success"], false, "{body}");
    }
    assert!(server.traces().is_empty());
}

#[test]
fn traces_are_stored_in_order_and_counted() {
    let server = MockServer::start().unwrap();
    let first = json!({"sessions": [{"id": "s1"}], "events": [{"a": 1}, {"a": 2}], "function_events": [{"f": 1}]});
    let second = json!({"sessions": []});
    let response = post(&server, "/v1/traces", &first.to_string());
    assert_eq!(
        (response.status, response.json()),
        (
            200,
            json!({"success": true, "message": "Traces stored", "trace_count": 3})
        )
    );
    assert_eq!(
        post(&server, "/v1/traces", &second.to_string()).json()["trace_count"],
        0
    );
    let refused = request(&server, "POST /v1/traces", Some("nope"), Some("{}")).unwrap();
    assert_eq!(
        (refused.status, refused.json()),
        (401, json!({"success": false, "error": "Invalid API key"}))
    );
    assert_eq!(server.traces(), [first.clone(), second]);
    assert_eq!(server.requests()[0].json(), Some(first));
    assert_eq!(server.usage_used(), 0); // storing traces spends no quota
}

#[test]
fn routes_match_by_suffix_and_other_methods_get_a_405() {
    let server = MockServer::start().unwrap();
    let prefixed = request(&server, "GET /shepherd/v1/usage", Some(KEY), None).unwrap();
    assert_eq!(prefixed.status, 200);
    for method in ["GET /v1/traces", "DELETE /v1/usage"] {
        let response = request(&server, method, Some(KEY), None).unwrap();
        assert_eq!(response.status, 405, "{method}");
        assert!(
            response
                .head
                .starts_with("HTTP/1.1 405 Method Not Allowed\r\n")
        );
    }
    // The LLM routes are still there.
    let chat = post(&server, "/v1/chat/completions", r#"{"model":"m"}"#);
    assert_eq!(chat.body, mock_llm::fixtures::OPENAI_CHAT_COMPLETION);
}

#[test]
fn a_status_fault_answers_its_status_and_body_once() {
    let server = MockServer::start().unwrap();
    let body = r#"{"success":false,"error":"down"}"#;
    server.inject("/v1/traces", Fault::Status(503, body.into()));
    let faulted = post(&server, "/v1/traces", r#"{"events":[]}"#);
    assert_eq!((faulted.status, &*faulted.body), (503, body));
    assert!(
        faulted
            .head
            .starts_with("HTTP/1.1 503 Service Unavailable\r\n")
    );
    assert!(
        faulted
            .head
            .contains("\r\nContent-Type: application/json\r\n")
    );
    assert!(server.traces().is_empty()); // the faulted request had no effect
    assert_eq!(post(&server, "/v1/traces", r#"{"events":[]}"#).status, 200);
    assert_eq!(server.traces().len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_delay_fault_answers_normally_late_without_holding_other_connections() {
    let server = MockServer::start().unwrap();
    let delay = Duration::from_millis(400);
    server.inject("/v1/usage", Fault::Delay(delay));
    thread::scope(|scope| {
        let slow = scope.spawn(|| {
            let start = Instant::now();
            let response = post(&server, "/v1/usage", r#"{"trace_count":4}"#);
            (start.elapsed(), response)
        });
        // Meanwhile another connection is answered at once.
        while server.requests().is_empty() {
            thread::sleep(Duration::from_millis(5));
        }
        let start = Instant::now();
        assert_eq!(post(&server, "/v1/traces", "{}").status, 200);
        assert!(start.elapsed() < delay, "{:?}", start.elapsed());
        let (elapsed, response) = slow.join().unwrap();
        assert!(elapsed >= delay, "{elapsed:?}");
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["usage"]["traces_used"], 4);
    });
    assert_eq!(server.usage_used(), 4);
    // Used up: the next request is answered at once.
    let start = Instant::now();
    assert_eq!(get_usage(&server, Some(KEY)).status, 200);
    assert!(start.elapsed() < delay);
}

#[test]
fn a_close_fault_closes_the_connection_without_a_status_line() {
    let server = MockServer::start().unwrap();
    server.inject("/v1/traces", Fault::Close);
    assert!(request(&server, "POST /v1/traces", Some(KEY), Some("{}")).is_none());
    assert!(server.traces().is_empty());
    assert_eq!(server.requests().len(), 1); // recorded all the same
    assert_eq!(post(&server, "/v1/traces", "{}").status, 200);
}

#[test]
fn faults_queue_per_path_each_used_by_one_request() {
    let server = MockServer::start().unwrap();
    server.inject("/v1/traces", Fault::Status(500, "{}".into()));
    server.inject("/v1/traces", Fault::Status(502, "{}".into()));
    server.inject("/v1/usage", Fault::Status(504, "{}".into()));
    server.inject("/v1/chat/completions", Fault::Close);
    // Paths match exactly: a prefixed path has no fault waiting.
    assert_eq!(post(&server, "/x/v1/traces", "{}").status, 200);
    assert_eq!(get_usage(&server, Some(KEY)).status, 504);
    assert_eq!(get_usage(&server, Some(KEY)).status, 200);
    assert_eq!(post(&server, "/v1/traces", "{}").status, 500);
    assert_eq!(post(&server, "/v1/traces", "{}").status, 502);
    assert_eq!(post(&server, "/v1/traces", "{}").status, 200);
    let chat = || request(&server, "POST /v1/chat/completions", None, Some("{}"));
    assert!(chat().is_none());
    assert_eq!(chat().map(|r| r.status), Some(200));
}

#[test]
fn dropping_the_server_ends_a_delay_early() {
    let server = MockServer::start().unwrap();
    server.inject("/v1/traces", Fault::Delay(Duration::from_secs(60)));
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = "POST /v1/traces HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    conn.write_all(head.as_bytes()).unwrap();
    while server.requests().is_empty() {
        thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    drop(server);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest); // end of stream or a reset
    assert!(rest.is_empty());
}
