//! The mock server spoken to over a plain `TcpStream`, as a real client would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use mock_llm::{MockServer, fixtures};

/// A response as read off the wire.
#[derive(Debug, Default)]
struct Response {
    status: u16,
    /// Header lines, names lowercased: `content-type: text/event-stream`.
    headers: Vec<String>,
    body: String,
    /// The HTTP chunks of a chunked body, in order.
    chunks: Vec<String>,
    /// A chunked body ended with its zero-size chunk.
    terminated: bool,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find_map(|h| h.strip_prefix(name)?.strip_prefix(": "))
    }
}

fn connect(server: &MockServer) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(server.addr()).unwrap())
}

/// Sends `request` ("METHOD /path") with `body` and reads the response.
fn send(conn: &mut BufReader<TcpStream>, request: &str, body: &str) -> Response {
    let head = format!(
        "{request} HTTP/1.1\r\nHost: mock\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.get_mut().write_all((head + body).as_bytes()).unwrap();
    read_response(conn)
}

fn send_once(server: &MockServer, request: &str, body: &str) -> Response {
    send(&mut connect(server), request, body)
}

fn line(conn: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    let read = conn.read_line(&mut line).unwrap_or(0); // a reset counts as the end
    (read > 0).then(|| line.trim_end().to_owned())
}

fn read_response(conn: &mut BufReader<TcpStream>) -> Response {
    let status = line(conn).expect("a status line")[9..12].parse().unwrap();
    let mut response = Response {
        status,
        ..Response::default()
    };
    while let Some(header) = line(conn).filter(|l| !l.is_empty()) {
        let (name, value) = header.split_once(": ").unwrap();
        response
            .headers
            .push(format!("{}: {value}", name.to_lowercase()));
    }
    if let Some(length) = response.header("content-length") {
        let mut body = vec![0; length.parse().unwrap()];
        conn.read_exact(&mut body).unwrap();
        response.body = String::from_utf8(body).unwrap();
        return response;
    }
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    while let Some(size) = line(conn) {
        let size = usize::from_str_radix(&size, 16).unwrap();
        let mut chunk = vec![0; size + 2]; // the data and its CRLF
        conn.read_exact(&mut chunk).unwrap();
        chunk.truncate(size);
        response.terminated = size == 0;
        if response.terminated {
            break;
        }
        response.chunks.push(String::from_utf8(chunk).unwrap());
    }
    response.body = response.chunks.concat();
    response
}

const CHAT: &str = "POST /v1/chat/completions";

#[test]
fn json_response_keeps_the_connection_alive() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    for _ in 0..2 {
        let response = send(&mut conn, CHAT, r#"{"model":"gpt-4o-mini","messages":[]}"#);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("connection"), Some("keep-alive"));
        assert_eq!(response.body, fixtures::OPENAI_CHAT_COMPLETION);
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn connection_close_ends_the_connection_after_the_response() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    let request = "POST /v1/messages HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    conn.get_mut().write_all(request.as_bytes()).unwrap();
    let response = read_response(&mut conn);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(response.body, fixtures::ANTHROPIC_MESSAGE);
    assert_eq!(line(&mut conn), None);
}

#[test]
fn chunked_request_body_is_decoded() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    let request = "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
        b\r\n{\"input\":[\"\r\n14;ext=1\r\na\",\"b\"],\"model\":\"m\"}\r\n0\r\nX-Trailer: 1\r\n\r\n";
    conn.get_mut().write_all(request.as_bytes()).unwrap();
    let response = read_response(&mut conn);
    assert_eq!(
        server.requests()[0].body,
        br#"{"input":["a","b"],"model":"m"}"#
    );
    let list: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        (&list["data"][1]["index"], &list["usage"]["total_tokens"]),
        (&1.into(), &10.into())
    );
}

#[test]
fn sse_stream_sends_one_chunk_per_event_then_the_zero_chunk() {
    let server = MockServer::start().unwrap();
    let body = r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}"#;
    let response = send_once(&server, CHAT, body);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert!(response.terminated);
    let events: Vec<&str> = fixtures::OPENAI_CHAT_STREAM_USAGE
        .split_inclusive("\n\n")
        .collect();
    assert_eq!(response.chunks, events);
}

#[test]
fn cut_stream_ends_without_the_terminating_chunk() {
    let server = MockServer::start().unwrap();
    let response = send_once(&server, CHAT, r#"{"model":"gpt-cut","stream":true}"#);
    assert!(!response.terminated);
    let events = fixtures::OPENAI_CHAT_STREAM.split_inclusive("\n\n").count();
    assert_eq!(response.chunks.len(), events / 2);
    assert!(fixtures::OPENAI_CHAT_STREAM.starts_with(&response.body));
}

#[test]
fn each_route_sends_its_fixture() {
    let server = MockServer::start().unwrap();
    let gemini = "POST /v1beta/models/gemini-2.0-flash";
    #[rustfmt::skip]
    let cases = [
        (CHAT, r#"{"model":"m","stream":true}"#, fixtures::OPENAI_CHAT_STREAM),
        (CHAT, r#"{"model":"m","tools":[]}"#, fixtures::OPENAI_CHAT_COMPLETION_TOOLS),
        (CHAT, r#"{"model":"m","stream":true,"tools":[]}"#, fixtures::OPENAI_CHAT_STREAM_TOOLS),
        ("POST /openai/embeddings", r#"{"input":"hi"}"#, fixtures::OPENAI_EMBEDDINGS),
        ("POST /v1/messages", r#"{"model":"c","stream":true}"#, fixtures::ANTHROPIC_STREAM),
        (&format!("{gemini}:generateContent"), "{}", fixtures::GEMINI_GENERATE_CONTENT),
        (&format!("{gemini}:streamGenerateContent?alt=sse"), "{}", fixtures::GEMINI_STREAM),
        (&format!("{gemini}:streamGenerateContent"), "{}", fixtures::GEMINI_STREAM_ARRAY),
        ("POST /v1beta/models/veo-2.0:predictLongRunning", "{}", fixtures::GEMINI_OPERATION),
        ("GET /v1beta/models/veo-2.0/operations/op1", "", fixtures::GEMINI_OPERATION_DONE),
    ];
    for (request, body, fixture) in cases {
        let response = send_once(&server, request, body);
        assert_eq!(
            (response.status, &*response.body),
            (200, fixture),
            "{request}"
        );
        assert!(
            response.terminated || response.chunks.is_empty(),
            "{request}"
        );
    }
}

#[test]
fn special_models_get_errors_or_a_body_that_is_not_json() {
    let server = MockServer::start().unwrap();
    #[rustfmt::skip]
    let cases = [
        (CHAT, r#"{"model":"gpt-error-429"}"#, 429, fixtures::OPENAI_ERROR_429),
        (CHAT, r#"{"model":"gpt-error-401","stream":true}"#, 401, fixtures::OPENAI_ERROR_401),
        ("POST /v1beta/models/gemini-error-500:generateContent", "{}", 500, fixtures::GEMINI_ERROR_500),
        ("POST /v1/messages", r#"{"model":"claude-error-400"}"#, 400, fixtures::ANTHROPIC_ERROR_400),
        ("POST /v1/messages", "not json", 400, fixtures::ANTHROPIC_ERROR_400),
        ("POST /v1/unknown", "{}", 404, fixtures::NOT_FOUND),
        (CHAT, r#"{"model":"gpt-not-json"}"#, 200, fixtures::NOT_JSON),
    ];
    for (request, body, status, fixture) in cases {
        let response = send_once(&server, request, body);
        assert_eq!(
            (response.status, &*response.body),
            (status, fixture),
            "{body}"
        );
    }
    let plain = send_once(&server, CHAT, r#"{"model":"not-json"}"#);
    assert_eq!(
        plain.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn requests_records_method_path_query_headers_and_body() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    let request = "POST /v1beta/models/gemini-2.0-flash:generateContent?alt=json&key=k HTTP/1.1\r\n\
        X-Goog-Api-Key: secret\r\nContent-Length: 15\r\n\r\n{\"contents\":[]}";
    conn.get_mut().write_all(request.as_bytes()).unwrap();
    read_response(&mut conn);
    let [received] = server.requests().try_into().unwrap();
    assert_eq!(received.method, "POST");
    assert_eq!(
        received.path,
        "/v1beta/models/gemini-2.0-flash:generateContent"
    );
    assert_eq!(received.query.as_deref(), Some("alt=json&key=k"));
    assert_eq!(
        received.headers[0],
        ("X-Goog-Api-Key".to_owned(), "secret".to_owned())
    );
    assert_eq!(received.header("content-length"), Some("15"));
    assert_eq!(received.body, br#"{"contents":[]}"#);
}

#[test]
fn dropping_the_server_closes_open_connections_and_the_port() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    send(&mut conn, CHAT, r#"{"model":"m"}"#);
    let addr = server.addr();
    drop(server);
    assert_eq!(line(&mut conn), None);
    assert!(TcpStream::connect(addr).is_err());
}

/// Writes `bytes` as they are on a new connection, ends the writing side if `end` says so,
/// and reads whatever comes back until the server closes the connection (a timeout fails the
/// test: the server must never leave a malformed request hanging).
fn raw(server: &MockServer, bytes: &[u8], end: bool) -> String {
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(bytes).unwrap();
    if end {
        conn.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut response = Vec::new();
    match conn.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("no answer and no close: {e}"),
    }
    String::from_utf8(response).unwrap()
}

#[test]
fn malformed_requests_get_a_400_and_a_closed_connection() {
    let server = MockServer::start().unwrap();
    let huge_value = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: 1\r\n".repeat(200));
    let endless_head = format!("GET / HTTP/1.1\r\nX-Big: {}", "a".repeat(70_000));
    let chunked = "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    let body_after_bad_head = format!(
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n{}",
        "a".repeat(200_000)
    );
    #[rustfmt::skip]
    let cases: [(&str, String); 13] = [
        ("request line without a target", "GARBAGE\r\n\r\n".into()),
        ("unknown HTTP version", "GET / HTTP/9.9\r\n\r\n".into()),
        ("control byte in the target", "GET /a\x01b HTTP/1.1\r\n\r\n".into()),
        ("header without a colon", "GET / HTTP/1.1\r\nno colon here\r\n\r\n".into()),
        ("space in a header name", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".into()),
        ("header too large", huge_value),
        ("a body after a bad head", body_after_bad_head),
        ("too many headers", many_headers),
        ("a head that never ends", endless_head),
        ("Content-Length not a number", "POST /v1/x HTTP/1.1\r\nContent-Length: ten\r\n\r\n".into()),
        ("chunk size not hex", format!("{chunked}zz\r\nhello\r\n0\r\n\r\n")),
        ("chunk longer than its size", format!("{chunked}3\r\nhello\r\n0\r\n\r\n")),
        ("bad trailer", format!("{chunked}2\r\n{{}}\r\n0\r\nno colon\r\n\r\n")),
    ];
    for (what, request) in cases {
        let response = raw(&server, request.as_bytes(), false);
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{what}: {response:?}"
        );
        assert!(response.contains("\r\nConnection: close\r\n"), "{what}");
        assert!(response.contains(r#"{"error":"bad request: "#), "{what}");
    }
    assert!(server.requests().is_empty());
    // The server goes on answering.
    let response = send_once(&server, CHAT, r#"{"model":"m"}"#);
    assert_eq!(response.body, fixtures::OPENAI_CHAT_COMPLETION);
}

#[test]
fn requests_cut_short_get_a_closed_connection() {
    let server = MockServer::start().unwrap();
    let chunked = "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    let cases = [
        "POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n".to_owned(),
        "POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}".to_owned(),
        format!("{chunked}a\r\n{{}}"),
        format!("{chunked}2\r\n{{}}\r\n"),
        format!("{chunked}2\r\n{{}}\r\n0\r\n"),
        "\r\n\r\n".to_owned(),
    ];
    for request in cases {
        assert_eq!(raw(&server, request.as_bytes(), true), "", "{request:?}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn dropping_the_server_ends_a_request_waiting_for_its_body() {
    let server = MockServer::start().unwrap();
    let mut conn = connect(&server);
    let request = "POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}";
    conn.get_mut().write_all(request.as_bytes()).unwrap();
    conn.get_mut()
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    drop(server);
    assert_eq!(line(&mut conn), None);
}
