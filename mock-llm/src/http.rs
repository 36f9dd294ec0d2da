//! HTTP/1.1 on the wire: requests read from a connection (`httparse` parses the heads, chunk
//! sizes and trailers), replies written to it (a few formatted lines, so that a fault can stop
//! a stream anywhere).

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use httparse::Status;

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

/// The longest request head (request line and headers), chunk-size line or trailer section
/// read; a longer one gets a 400.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a request head, or a chunked body's trailer section, may have.
const MAX_HEADERS: usize = 128;

/// Reads one request; `None` when the client closed the connection before starting one.
/// The flag says whether the client wants the connection kept open afterwards.
///
/// The request line and headers are parsed by `httparse`, as are a chunked body's chunk-size
/// lines and trailers. A malformed request is an [`io::ErrorKind::InvalidData`] error (the
/// caller answers 400); one that ends early, [`io::ErrorKind::UnexpectedEof`].
pub(crate) fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
) -> io::Result<Option<(Received, bool)>> {
    let head = read_block(reader, |bytes| {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let Status::Complete(length) = request.parse(bytes).map_err(invalid)? else {
            return Ok(Status::Partial);
        };
        let target = request.path.unwrap_or_default();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let received = Received {
            method: request.method.unwrap_or_default().to_owned(),
            path: path.to_owned(),
            query,
            headers: (request.headers.iter())
                .map(|h| (h.name.to_owned(), text(h.value)))
                .collect(),
            body: Vec::new(),
        };
        Ok(Status::Complete((length, (received, request.version))))
    })?;
    let Some((mut received, version)) = head else {
        return Ok(None);
    };
    let has = |name: &str, value: &str| {
        let header = received.header(name).unwrap_or("");
        header
            .split(',')
            .any(|v| v.trim().eq_ignore_ascii_case(value))
    };
    let keep_alive = match version {
        _ if has("connection", "close") => false,
        Some(0) => has("connection", "keep-alive"), // HTTP/1.0
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

/// Decodes a chunked body: `httparse` reads each chunk-size line (extensions ignored) and the
/// trailer section (discarded); the chunks are read by their size. (`chunked_transfer`'s
/// `Decoder` refuses trailers, and takes a body cut mid-chunk for a complete one.)
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let size = read_block(reader, |bytes| {
            httparse::parse_chunk_size(bytes).map_err(|_| invalid("bad chunk size"))
        })?
        .ok_or_else(eof)?;
        if size == 0 {
            return read_block(reader, |bytes| {
                let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                Ok(
                    match httparse::parse_headers(bytes, &mut trailers).map_err(invalid)? {
                        Status::Complete((length, _)) => Status::Complete((length, ())),
                        Status::Partial => Status::Partial,
                    },
                )
            })?
            .ok_or_else(eof)
            .map(|()| body);
        }
        body.extend(read_exactly(reader, size)?);
        if read_exactly(reader, 2)? != b"\r\n" {
            return Err(invalid("chunk data longer than its size"));
        }
    }
}

/// Reads from `reader` until `parse` finds a complete block (a request head, a chunk-size line,
/// a trailer section) at the start of what was read, and consumes only that block. `None` when
/// the stream ends before the first byte.
fn read_block<T>(
    reader: &mut impl BufRead,
    mut parse: impl FnMut(&[u8]) -> io::Result<Status<(usize, T)>>,
) -> io::Result<Option<T>> {
    let mut block = Vec::new();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return if block.is_empty() {
                Ok(None)
            } else {
                Err(eof())
            };
        }
        let (before, read) = (block.len(), available.len());
        block.extend_from_slice(available);
        match parse(&block)? {
            Status::Complete((length, _)) if length > MAX_HEAD => break,
            Status::Complete((length, value)) => {
                reader.consume(length.saturating_sub(before));
                return Ok(Some(value));
            }
            Status::Partial if block.len() > MAX_HEAD => break,
            Status::Partial => reader.consume(read),
        }
    }
    Err(invalid("too large"))
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

/// A header value as text, trimmed (bytes that are not UTF-8 replaced).
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).trim().to_owned()
}

fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
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
