//! A real GCS emulator for the tests: the PyPI package `gcp-storage-emulator`, run by the
//! workspace's venv Python (installed there by [`crate::support::python_with_package`] when
//! missing), as a child process on a free loopback port, in memory. Include with
//! `#[path = "support/gcs_emulator.rs"] mod gcs_emulator;` beside `mod support;`.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the emulator in memory on a port the system picks, and prints that port.
const LAUNCHER: &str = "
import time
from gcp_storage_emulator.server import create_server
server = create_server('127.0.0.1', 0, in_memory=True)
server.start()
print(server._api._httpd.server_address[1], flush=True)
while True:
    time.sleep(3600)
";

/// How long the emulator may take to answer after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running emulator; killed (and reaped) when dropped.
pub struct Emulator {
    child: Child,
    port: u16,
    _logs: tempfile::TempDir,
    log: PathBuf,
}

impl Emulator {
    /// Starts an emulator and waits until it answers.
    ///
    /// # Panics
    ///
    /// If it cannot be installed or started, or does not answer within a minute (with its
    /// log).
    pub fn start() -> Emulator {
        let python =
            crate::support::python_with_package("gcp_storage_emulator", "gcp-storage-emulator");
        let logs = tempfile::tempdir().expect("tempdir");
        let log = logs.path().join("emulator.log");
        // The emulator binds port 0 and prints the port it got: a port chosen here and passed
        // to it could be taken by another test's server before it binds (it then answers for
        // the emulator that failed).
        let mut child = Command::new(&python)
            .args(["-c", LAUNCHER])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the GCS emulator with {}: {e}",
                    python.display()
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let port = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line.trim().parse::<u16>().ok(),
            Err(_) => None,
        };
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the GCS emulator did not say its port within {START_TIMEOUT:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let mut emulator = Emulator {
            child,
            port,
            _logs: logs,
            log,
        };
        emulator.wait_until_ready();
        emulator
    }

    /// `host:port`, as `STORAGE_EMULATOR_HOST` names it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    fn logs(&self) -> String {
        format!(
            "--- stderr ---\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the GCS emulator exited ({status}):\n{}", self.logs());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && agent()
                    .get(&format!("{}/storage/v1/b?project=test", self.url()))
                    .call()
                    .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "the GCS emulator did not answer on port {} within {START_TIMEOUT:?}:\n{}",
                    self.port,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Creates a bucket through the JSON API.
    pub fn create_bucket(&self, name: &str) {
        let body = serde_json::json!({ "name": name }).to_string();
        let mut response = agent()
            .post(&format!("{}/storage/v1/b?project=test", self.url()))
            .content_type("application/json")
            .send(body.as_bytes())
            .expect("create the bucket");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(response.status(), 200, "create bucket {name}: {text}");
    }

    /// An object's bytes (`alt=media`), or `None` if it does not exist.
    pub fn object_bytes(&self, bucket: &str, name: &str) -> Option<Vec<u8>> {
        let url = format!(
            "{}/storage/v1/b/{bucket}/o/{}?alt=media",
            self.url(),
            encode(name)
        );
        let mut response = agent().get(&url).call().expect("GET the object");
        if response.status() == 404 {
            return None;
        }
        assert_eq!(response.status(), 200, "GET {url}");
        Some(
            response
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .expect("read the object"),
        )
    }

    /// An object's resource (JSON: `contentType`, `size`, `metadata`, ...).
    pub fn object_resource(&self, bucket: &str, name: &str) -> serde_json::Value {
        let url = format!("{}/storage/v1/b/{bucket}/o/{}", self.url(), encode(name));
        let mut response = agent().get(&url).call().expect("GET the object resource");
        assert_eq!(response.status(), 200, "GET {url}");
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// The names of the objects in a bucket.
    pub fn object_names(&self, bucket: &str) -> Vec<String> {
        let url = format!("{}/storage/v1/b/{bucket}/o", self.url());
        let mut response = agent().get(&url).call().expect("list the objects");
        assert_eq!(response.status(), 200, "GET {url}");
        let list: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        let mut names: Vec<String> = list["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|o| o["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// A port nothing listens on now (the OS's pick).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
