//! The listening socket, its accept thread and one thread per connection; the state the
//! routes share.

use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;

use crate::aiobs_server;
use crate::faults::{Fault, Faults};
use crate::http::{self, Received, Reply};
use crate::routes;

/// A mock LLM API server, and aiobs usage and trace server, on `127.0.0.1`, answering until it
/// is dropped.
///
/// Dropping it stops the accept thread, shuts every open connection down and joins their
/// threads, so nothing outlives it.
///
/// ```
/// let server = mock_llm::MockServer::start()?;
/// let base_url = format!("{}/v1", server.url()); // e.g. for OPENAI_BASE_URL
/// assert!(base_url.starts_with("http://127.0.0.1:"));
/// drop(server); // the port is closed
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<Received>>,
    /// A handle on every open connection, to shut them down when the server stops.
    open: Mutex<HashMap<u64, TcpStream>>,
    /// Set once, when the server is dropped; `stopped` wakes the connections sleeping a
    /// [`Fault::Delay`] then.
    stopping: Mutex<bool>,
    stopped: Condvar,
    event_delay_nanos: AtomicU64,
    faults: Mutex<Faults>,
    aiobs: Mutex<aiobs_server::State>,
}

impl Shared {
    /// Sleeps `delay`, or less if the server stops meanwhile; `false` if it did.
    fn pause(&self, delay: Duration) -> bool {
        let stopping = lock(&self.stopping);
        let (stopping, _) = self
            .stopped
            .wait_timeout_while(stopping, delay, |stopping| !*stopping)
            .unwrap_or_else(PoisonError::into_inner);
        !*stopping
    }
}

impl MockServer {
    /// Binds `127.0.0.1:0` and starts serving on a background thread.
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<MockServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept = thread::Builder::new()
            .name(format!("mock-llm {addr}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&listener, &shared)
            })?;
        Ok(MockServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.addr().port()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on, for clients that connect by address.
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// let conn = std::net::TcpStream::connect(server.addr())?;
    /// # drop(conn);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in the order they were read (each is recorded as soon as
    /// it is read, before it is answered; those an injected [`Fault`] answered too).
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// assert!(server.requests().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn requests(&self) -> Vec<Received> {
        lock(&self.shared.requests).clone()
    }

    /// Sleeps `delay` before each chunk of a stream, to look like a model generating tokens
    /// (default: no delay). Applies to streams started afterwards.
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// server.set_event_delay(std::time::Duration::from_millis(5));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_event_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.shared
            .event_delay_nanos
            .store(nanos, Ordering::Relaxed);
    }

    /// Sets the API key the aiobs routes (`*/v1/usage`, `*/v1/traces`) accept as
    /// `Authorization: Bearer <key>` (default: `"aiobs_sk_test"`); any other key, or none,
    /// gets a 401 `{"success": false, "error": "Invalid API key"}`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let server = mock_llm::MockServer::start()?;
    /// server.set_api_key("aiobs_sk_other");
    /// let mut conn = std::net::TcpStream::connect(server.addr())?;
    /// write!(conn, "GET /v1/usage HTTP/1.1\r\nAuthorization: Bearer aiobs_sk_test\r\nConnection: close\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_api_key(&self, key: &str) {
        lock(&self.shared.aiobs).api_key = key.to_owned();
    }

    /// Sets the usage server's quota: `used` traces of `limit` (default: 0 of 1000).
    /// `POST */v1/usage` adds to `used` while it stays within `limit`, and answers 429 otherwise.
    ///
    /// ```
    /// let server = mock_llm::MockServer::start()?;
    /// server.set_usage(999, 1000);
    /// assert_eq!(server.usage_used(), 999);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_usage(&self, used: u64, limit: u64) {
        let mut state = lock(&self.shared.aiobs);
        (state.used, state.limit) = (used, limit);
    }

    /// The traces used so far: what [`set_usage`](Self::set_usage) set plus every
    /// `trace_count` a `POST */v1/usage` was granted.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let server = mock_llm::MockServer::start()?;
    /// let mut conn = std::net::TcpStream::connect(server.addr())?;
    /// let body = r#"{"trace_count":3}"#;
    /// write!(
    ///     conn,
    ///     "POST /v1/usage HTTP/1.1\r\nAuthorization: Bearer aiobs_sk_test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
    ///     body.len()
    /// )?;
    /// conn.read_to_end(&mut Vec::new())?;
    /// assert_eq!(server.usage_used(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn usage_used(&self) -> u64 {
        lock(&self.shared.aiobs).used
    }

    /// Every body `POST */v1/traces` stored (each an aiobs export document), in order.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let server = mock_llm::MockServer::start()?;
    /// let mut conn = std::net::TcpStream::connect(server.addr())?;
    /// let body = r#"{"events":[{},{}],"function_events":[{}]}"#;
    /// write!(
    ///     conn,
    ///     "POST /v1/traces HTTP/1.1\r\nAuthorization: Bearer aiobs_sk_test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
    ///     body.len()
    /// )?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.ends_with(r#""trace_count":3}"#));
    /// assert_eq!(server.traces(), [serde_json::from_str::<serde_json::Value>(body)?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn traces(&self) -> Vec<Value> {
        lock(&self.shared.aiobs).traces.clone()
    }

    /// Queues `fault` for the next request whose path (without the query) is exactly `path`,
    /// on any route, LLM ones included. Faults queue per path, first in first out, each used
    /// up by one request; the request is still recorded in [`requests`](Self::requests).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use mock_llm::{Fault, MockServer};
    ///
    /// let server = MockServer::start()?;
    /// server.inject("/v1/traces", Fault::Status(503, r#"{"error":"down"}"#.into()));
    /// let mut conn = std::net::TcpStream::connect(server.addr())?;
    /// write!(conn, "POST /v1/traces HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    /// assert!(response.ends_with(r#"{"error":"down"}"#));
    /// assert!(server.traces().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inject(&self, path: &str, fault: Fault) {
        lock(&self.shared.faults).push(path, fault);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        *lock(&self.shared.stopping) = true;
        self.shared.stopped.notify_all();
        // The accept thread is blocked in `accept`: a connection wakes it to see the flag.
        // Should that fail, the thread is left behind rather than joined forever.
        if TcpStream::connect(self.addr).is_ok() {
            let _ = self.accept.take().map(JoinHandle::join);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for (id, conn) in (0u64..).zip(listener.incoming()) {
        if *lock(&shared.stopping) {
            break;
        }
        let Ok(conn) = conn else { continue };
        let Ok(handle) = conn.try_clone() else {
            continue;
        };
        workers.retain(|worker| !worker.is_finished());
        lock(&shared.open).insert(id, handle);
        let worker = thread::Builder::new()
            .name(format!("mock-llm connection {id}"))
            .spawn({
                let shared = Arc::clone(shared);
                move || {
                    let _ = serve(conn, &shared); // a broken connection only ends itself
                    lock(&shared.open).remove(&id);
                }
            });
        match worker {
            Ok(worker) => workers.push(worker),
            Err(_) => drop(lock(&shared.open).remove(&id)),
        }
    }
    for (_, conn) in lock(&shared.open).drain() {
        let _ = conn.shutdown(Shutdown::Both);
    }
    for worker in workers {
        let _ = worker.join();
    }
}

/// Answers requests on one connection until the client closes it or asks to.
fn serve(mut conn: TcpStream, shared: &Shared) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    loop {
        let (request, keep_alive) = match http::read_request(&mut reader, &mut conn) {
            Ok(Some(read)) => read,
            Ok(None) => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return bad_request(&mut conn, &mut reader, &error);
            }
            Err(error) => return Err(error), // it ended mid-request: closed without an answer
        };
        lock(&shared.requests).push(request.clone());
        let fault = lock(&shared.faults).take(&request.path);
        let reply = match fault {
            None => answer(&request, shared),
            Some(Fault::Status(status, body)) => Reply::Full {
                status,
                content_type: "application/json",
                body: body.into(),
            },
            Some(Fault::Delay(delay)) if shared.pause(delay) => answer(&request, shared),
            Some(Fault::Delay(_)) => return Ok(()), // the server is stopping
            Some(Fault::Close) => return conn.shutdown(Shutdown::Both),
        };
        let delay = Duration::from_nanos(shared.event_delay_nanos.load(Ordering::Relaxed));
        if !http::write_reply(&mut conn, &reply, keep_alive, delay)? || !keep_alive {
            return Ok(());
        }
    }
}

/// Answers a malformed request with a 400 and ends the connection. What the client sent
/// after it is read and dropped first (for up to a second): closing with unread bytes resets
/// the connection, and some TCP stacks (Windows', not Linux's) then drop the 400 unread.
fn bad_request(conn: &mut TcpStream, reader: &mut impl Read, error: &io::Error) -> io::Result<()> {
    let body = serde_json::json!({ "error": format!("bad request: {error}") }).to_string();
    let reply = Reply::Full {
        status: 400,
        content_type: "application/json",
        body: body.into(),
    };
    http::write_reply(conn, &reply, false, Duration::ZERO)?;
    conn.shutdown(Shutdown::Write)?;
    conn.set_read_timeout(Some(Duration::from_secs(1)))?;
    io::copy(&mut reader.take(1 << 20), &mut io::sink()).map(drop)
}

/// The normal answer to `request`: an aiobs route's, else an LLM route's.
fn answer(request: &Received, shared: &Shared) -> Reply {
    match aiobs_server::endpoint(request) {
        Some(endpoint) => aiobs_server::answer(endpoint, request, &mut lock(&shared.aiobs)),
        None => routes::route(request),
    }
}

/// Locks, ignoring poisoning: a panicking connection thread leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
