//! HTTP/1.1 on the wire: requests read from a connection, replies written to it.

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

/// One request the server received, as it came (header names keep the client's case).
///
/// ```
/// use mock_llm::Received;
///
/// let request = Received {
///     method: "POST".into(),
///     path: "/v1/embeddings".into(),
///     query: None,
///     headers: vec![("Content-Type".into(), "application/json".into())],
///     body: br#"{"input":"hi"}"#.to_vec(),
/// };
/// assert_eq!(request.header("content-type"), Some("application/json"));
/// assert_eq!(request.json().unwrap()["input"], "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path of the request target, without the query.
    pub path: String,
    /// What followed `?` in the request target, if anything did.
    pub query: Option<String>,
    /// Every header in order, names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, chunked transfer coding already removed.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of the first header called `name` (ignoring ASCII case).
    ///
    /// ```
    /// # let request = mock_llm::Received { method: "GET".into(), path: "/".into(), query: None,
    /// #     headers: vec![("Authorization".into(), "Bearer sk-test".into())], body: vec![] };
    /// assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    /// assert_eq!(request.header("x-missing"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut matching = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        matching.next().map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, or `None` if it is not JSON.
    ///
    /// ```
    /// # let request = mock_llm::Received { method: "POST".into(), path: "/v1/messages".into(),
    /// #     query: None, headers: vec![], body: br#"{"model":"claude"}"#.to_vec() };
    /// assert_eq!(request.json().unwrap()["model"], "claude");
    /// ```
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Reads one request; `None` when the client closed the connection before starting one.
/// The flag says whether the client wants the connection kept open afterwards.
pub(crate) fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
) -> io::Result<Option<(Received, bool)>> {
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue, // RFC 9112 allows CRLFs before a request
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("malformed request line"));
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(eof)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("malformed header"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (target, None),
    };
    let mut received = Received {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        headers,
        body: Vec::new(),
    };
    let has = |name: &str, value: &str| {
        let header = received.header(name).unwrap_or("");
        header
            .split(',')
            .any(|v| v.trim().eq_ignore_ascii_case(value))
    };
    let keep_alive = match version {
        _ if has("connection", "close") => false,
        Some("HTTP/1.0") => has("connection", "keep-alive"),
        _ => true,
    };
    if has("expect", "100-continue") {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    if has("transfer-encoding", "chunked") {
        received.body = read_chunked(reader)?;
    } else if let Some(length) = received.header("content-length") {
        let length = length.parse().map_err(|_| invalid("bad Content-Length"))?;
        received.body = read_exactly(reader, length)?;
    }
    Ok(Some((received, keep_alive)))
}

/// Decodes a chunked body, trailers skipped.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(eof)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            while !read_line(reader)?.ok_or_else(eof)?.is_empty() {}
            return Ok(body);
        }
        body.extend(read_exactly(reader, size)?);
        if !read_line(reader)?.ok_or_else(eof)?.is_empty() {
            return Err(invalid("chunk data longer than its size"));
        }
    }
}

/// Reads `length` bytes, growing the buffer only as bytes arrive (a bogus length costs nothing).
fn read_exactly(reader: &mut impl BufRead, length: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(length).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != length {
        return Err(eof());
    }
    Ok(bytes)
}

/// One line without its line end; `None` at end of stream.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&line);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn eof() -> io::Error {
    io::ErrorKind::UnexpectedEof.into()
}

/// What the server answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A complete body, framed by `Content-Length`.
    Full {
        status: u16,
        content_type: &'static str,
        body: Cow<'static, str>,
    },
    /// A 200 with `Transfer-Encoding: chunked`, one HTTP chunk a piece.
    Stream {
        content_type: &'static str,
        pieces: Vec<&'static str>,
        /// Send about half the pieces, then shut the socket down with no terminating chunk.
        cut: bool,
    },
}

/// Writes the reply; `false` when the connection must not be used again (a cut stream).
pub(crate) fn write_reply(
    conn: &mut TcpStream,
    reply: &Reply,
    keep_alive: bool,
    delay: Duration,
) -> io::Result<bool> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = |status: u16, content_type: &str, framing: &str| {
        let reason = reason(status);
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{framing}Connection: {connection}\r\n\r\n"
        )
    };
    match reply {
        Reply::Full {
            status,
            content_type,
            body,
        } => {
            let length = format!("Content-Length: {}\r\n", body.len());
            let mut bytes = head(*status, content_type, &length).into_bytes();
            bytes.extend_from_slice(body.as_bytes());
            conn.write_all(&bytes)?;
        }
        Reply::Stream {
            content_type,
            pieces,
            cut,
        } => {
            let framing = "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n";
            conn.write_all(head(200, content_type, framing).as_bytes())?;
            let sent = if *cut {
                (pieces.len() / 2).max(1)
            } else {
                pieces.len()
            };
            for piece in &pieces[..sent] {
                if !delay.is_zero() {
                    thread::sleep(delay);
                }
                // One write a chunk, and Nagle off, so each event leaves in its own segment.
                conn.write_all(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes())?;
                conn.flush()?;
            }
            if *cut {
                conn.shutdown(Shutdown::Both)?;
                return Ok(false);
            }
            conn.write_all(b"0\r\n\r\n")?;
        }
    }
    conn.flush()?;
    Ok(true)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}
