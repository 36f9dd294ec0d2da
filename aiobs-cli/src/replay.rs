//! `aiobs replay FILE`: the LLM calls of a trace served over loopback HTTP, so that any client
//! (Python, a shell script, a program in another language) pointed at it gets the recorded
//! answers.
//!
//! The answers are the ones the middlewares replay ([`aiobs::replay::Cassette`]), rebuilt in
//! each provider's wire format. The server is `tiny_http`, one request at a time (a cassette
//! answers in recorded order, so requests are served in the order they arrive).
//!
//! ```no_run
//! use aiobs::replay::Cassette;
//! let cassette = Cassette::load("trace.json")?;
//! let server = aiobs_cli::replay::Server::bind(cassette, 0)?;
//! println!("{}", server.base_url());
//! server.serve(&mut std::io::stdout())?; // until `Server::stopper` says stop
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::sync::Arc;

use aiobs::replay::{Answer, Cassette};

use crate::Error;

/// A replay server bound to `127.0.0.1`, not yet serving.
pub struct Server {
    http: Arc<tiny_http::Server>,
    cassette: Cassette,
    port: u16,
}

/// Stops a [`Server`] from another thread (a Ctrl-C handler): its `serve` returns.
#[derive(Clone)]
pub struct Stopper(Arc<tiny_http::Server>);

impl Stopper {
    /// Makes `serve` return once the request in hand, if any, is answered.
    pub fn stop(&self) {
        self.0.unblock();
    }
}

/// What a [`Server`] did, when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Requests answered from the cassette.
    pub answered: usize,
    /// Requests the cassette could not answer (they got an error status).
    pub refused: usize,
    /// Recorded calls never asked for.
    pub unused: usize,
}

impl Server {
    /// Binds `127.0.0.1:port` (0: a free port). A port in use is an error naming it.
    pub fn bind(cassette: Cassette, port: u16) -> Result<Server, Error> {
        let http = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|e| Error::new(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let port = http.server_addr().to_ip().map_or(port, |addr| addr.port());
        Ok(Server {
            http: Arc::new(http),
            cassette,
            port,
        })
    }

    /// The base URL clients point at, such as `http://127.0.0.1:8089` (with `/v1` for
    /// OpenAI's SDKs: `http://127.0.0.1:8089/v1`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A handle that stops [`Server::serve`].
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.http))
    }

    /// Answers requests until stopped, writing a line per request to `log`: the method and
    /// path, then the status, or the reason the cassette could not answer.
    pub fn serve(&self, log: &mut dyn Write) -> Result<Served, Error> {
        let mut served = Served {
            answered: 0,
            refused: 0,
            unused: 0,
        };
        for mut request in self.http.incoming_requests() {
            let method = request.method().as_str().to_owned();
            let url = format!("{}{}", self.base_url(), request.url());
            let mut body = Vec::new();
            let answer = match request.as_reader().read_to_end(&mut body) {
                Err(e) => Err(format!("the request body could not be read: {e}")),
                Ok(_) => match self.cassette.answer(&method, &url, &body) {
                    None => Err(format!(
                        "{method} {}: not an LLM endpoint that aiobs knows",
                        request.url()
                    )),
                    Some(Err(e)) => Err(e.to_string()),
                    Some(Ok(answer)) => Ok(answer),
                },
            };
            let line = match &answer {
                Ok(a) => format!("{method} {} -> {}", request.url(), a.status),
                Err(why) => format!("{method} {} -> 404: {why}", request.url()),
            };
            match answer {
                Ok(_) => served.answered += 1,
                Err(_) => served.refused += 1,
            }
            // The client hung up: nothing to do but go on.
            let _ = request.respond(response(answer));
            writeln!(log, "{line}")?;
            log.flush()?;
        }
        served.unused = self.cassette.remaining();
        Ok(served)
    }
}

/// The HTTP response of an answer, or of a request the cassette can't answer: a 404 whose
/// JSON body has the reason as OpenAI's error shape, which the SDKs show.
fn response(answer: Result<Answer, String>) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let (status, content_type, body) = match answer {
        Ok(a) => (a.status, a.content_type, a.body),
        Err(why) => {
            let body = serde_json::json!({"error": {
                "message": format!("aiobs replay: {why}"),
                "type": "replay_unmatched",
                "param": null,
                "code": "replay_unmatched",
            }});
            (404, "application/json", body.to_string().into_bytes())
        }
    };
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes());
    let response = tiny_http::Response::from_data(body).with_status_code(status);
    match header {
        Ok(h) => response.with_header(h),
        Err(()) => response,
    }
}
