//! A real OTLP/HTTP receiver for the tests: the PyPI package `oteltap` (a native OTLP/HTTP
//! protobuf receiver with a Python API), run by `otlp_receiver.py` beside this file.
//!
//! [`Receiver::start`] makes sure the workspace venv can `import oteltap` (installing the
//! package with pip if not, see [`super::python_with_package`]), starts the script as a child
//! process on a free port of 127.0.0.1 and waits for its `READY` line; every span it then
//! receives comes back as one `SPAN <json>` line on its stdout, read by a thread into a
//! channel. Dropping the [`Receiver`] kills the child.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver as Channel, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The pip requirement installed when `oteltap` is missing.
pub const OTELTAP_REQUIREMENT: &str = "oteltap>=1.0,<2";

/// How long the receiver may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running oteltap receiver; killed on drop.
pub struct Receiver {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
    lines: Channel<String>,
}

/// What the child printed.
enum Line {
    Ready,
    Span(Value),
}

impl Receiver {
    /// Starts a receiver on a free port (retrying with another port if it is taken meanwhile).
    ///
    /// # Panics
    ///
    /// If oteltap cannot be installed or the receiver does not start, with its output.
    pub fn start() -> Receiver {
        let python = super::python_with_package("oteltap", OTELTAP_REQUIREMENT);
        let mut last = String::new();
        for _ in 0..5 {
            match Receiver::try_start(&python) {
                Ok(receiver) => return receiver,
                Err(output) => last = output,
            }
        }
        panic!("the OTLP receiver (oteltap) did not start:\n{last}");
    }

    fn try_start(python: &PathBuf) -> Result<Receiver, String> {
        let port = free_port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("support")
            .join("otlp_receiver.py");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {} {}: {e}", python.display(), script.display()))?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut receiver = Receiver {
            child,
            _stdin: stdin,
            port,
            lines,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match receiver.next_line(deadline) {
                Some(Line::Ready) => return Ok(receiver),
                Some(Line::Span(_)) => continue,
                None => {
                    let _ = receiver.child.kill();
                    let output = receiver.child.wait_with_output_lossy();
                    return Err(format!("port {port}: {output}"));
                }
            }
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}`, the base URL to give an exporter.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The spans received, waiting until there are `count` (then 300 ms more, so that extra
    /// ones show) or `timeout` has passed; as JSON (protobuf field names, ids in hex).
    pub fn spans(&self, count: usize, timeout: Duration) -> Vec<Value> {
        let mut spans = Vec::new();
        let deadline = Instant::now() + timeout;
        while spans.len() < count {
            match self.next_line(deadline) {
                Some(Line::Span(span)) => spans.push(span),
                Some(Line::Ready) => {}
                None => break,
            }
        }
        let grace = Instant::now() + Duration::from_millis(300);
        while let Some(line) = self.next_line(grace) {
            if let Line::Span(span) = line {
                spans.push(span);
            }
        }
        spans
    }

    /// The next `READY` or `SPAN` line before `deadline` (other lines skipped).
    fn next_line(&self, deadline: Instant) -> Option<Line> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if line.starts_with("READY") {
                        return Some(Line::Ready);
                    }
                    if let Some(json) = line.strip_prefix("SPAN ") {
                        return Some(Line::Span(
                            serde_json::from_str(json).expect("the receiver prints JSON"),
                        ));
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait WaitLossy {
    fn wait_with_output_lossy(&mut self) -> String;
}

impl WaitLossy for Child {
    /// Stderr of an exited child (stdout is read by the thread).
    fn wait_with_output_lossy(&mut self) -> String {
        let _ = self.wait();
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        }
        err
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}
