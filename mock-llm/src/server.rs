//! The listening socket, its accept thread and one thread per connection.

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::http::{self, Received};
use crate::routes;

/// A mock LLM API server on `127.0.0.1`, answering until it is dropped.
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
    stopping: AtomicBool,
    event_delay_nanos: AtomicU64,
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

    /// Every request received so far, in the order they were read (each is recorded before it
    /// is answered).
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
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
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
        if shared.stopping.load(Ordering::SeqCst) {
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
    while let Some((request, keep_alive)) = http::read_request(&mut reader, &mut conn)? {
        let reply = routes::route(&request);
        lock(&shared.requests).push(request);
        let delay = Duration::from_nanos(shared.event_delay_nanos.load(Ordering::Relaxed));
        if !http::write_reply(&mut conn, &reply, keep_alive, delay)? || !keep_alive {
            break;
        }
    }
    Ok(())
}

/// Locks, ignoring poisoning: a panicking connection thread leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
