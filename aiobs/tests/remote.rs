//! The aiobs servers, on loopback: the key is validated, the trace uploaded and its usage
//! recorded after the local file is written; every fault costs an error value, never the file;
//! the key appears nowhere but in the `Authorization` header.

mod support;

use std::path::Path;
use std::time::Duration;

use aiobs::{Collector, Error, FlushOptions, ObserveOptions, Remote};
use mock_llm::{Fault, MockServer};
use serde_json::Value;

const KEY: &str = "aiobs_sk_test_Zk3p9QmW71";

#[aiobs::observe]
fn work(n: u64) -> u64 {
    n * 2
}

/// A collector pointed at `server` for both aiobs servers, with a session under `KEY`.
fn observed(server: &MockServer) -> Collector {
    let obs = Collector::new();
    obs.set_remote(
        Remote::new()
            .usage_server(server.url())
            .flush_server(server.url())
            .usage_timeout(Duration::from_secs(5))
            .flush_timeout(Duration::from_secs(5)),
    );
    obs.observe(ObserveOptions::new().session_name("remote").api_key(KEY))
        .expect("the key is valid");
    obs
}

fn server() -> MockServer {
    let server = MockServer::start().expect("mock server");
    server.set_api_key(KEY);
    server
}

/// Everything a user could see of an error.
fn shown(e: &Error) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    text
}

fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(
        !text.contains("Zk3p9QmW71"),
        "part of the key leaked: {text}"
    );
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_flush_with_a_key_uploads_the_file_it_wrote_and_records_its_usage() {
    let server = server();
    let obs = observed(&server);
    let _scope = obs.set_default();
    work(1);
    work(2);
    let dir = tempfile::tempdir().unwrap();
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("t.json")))
        .expect("flush and upload");
    support::validate_export(&[&path]);
    let file = read(&path);
    assert_eq!(server.traces(), [file], "the upload is the file");
    assert_eq!(server.usage_used(), 2, "two events");
    let requests = server.requests();
    let paths: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET", "/v1/usage"),
            ("POST", "/v1/traces"),
            ("POST", "/v1/usage")
        ]
    );
    for r in &requests {
        assert_eq!(
            r.header("authorization").map(str::to_owned),
            Some(format!("Bearer {KEY}"))
        );
    }
    assert_eq!(
        requests[2].json().unwrap(),
        serde_json::json!({"trace_count": 2})
    );
    assert_no_key(&std::fs::read_to_string(&path).unwrap());
}

#[test]
fn an_invalid_key_is_refused_before_the_session_starts() {
    let server = server();
    let obs = Collector::new();
    obs.set_remote(Remote::new().usage_server(server.url()));
    let e = obs
        .observe(ObserveOptions::new().api_key("aiobs_sk_wrong"))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidApiKey), "{e:?}");
    assert_eq!(obs.active_session(), None);
    assert!(!shown(&e).contains("aiobs_sk_wrong"));
}

#[test]
fn a_rate_limited_key_is_refused_with_its_tier_and_counts() {
    let server = server();
    server.set_usage(1000, 1000);
    let obs = Collector::new();
    obs.set_remote(Remote::new().usage_server(server.url()));
    let e = obs.observe(ObserveOptions::new().api_key(KEY)).unwrap_err();
    match &e {
        Error::RateLimited {
            tier, used, limit, ..
        } => assert_eq!((tier.as_str(), *used, *limit), ("free", 1000, 1000)),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("used: 1000/1000"), "{e}");
}

/// Flushes under a fault and checks: the error is an upload error naming the file, the file is
/// whole and valid, the events are not kept for a second upload, the key is nowhere.
fn flush_under(server: &MockServer, obs: &Collector) -> Error {
    let _scope = obs.set_default();
    work(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let e = obs.flush(FlushOptions::to_path(&path)).unwrap_err();
    assert!(e.written_locally(), "{e:?}");
    match &e {
        Error::Upload { written_to, .. } => assert_eq!(written_to, &path.display().to_string()),
        other => panic!("{other:?}"),
    }
    support::validate_export(&[&path]);
    assert_eq!(read(&path)["function_events"][0]["name"], "work");
    assert_no_key(&shown(&e));
    assert_no_key(&std::fs::read_to_string(&path).unwrap());
    // Written locally, so forgotten: the next flush holds no event.
    let again = dir.path().join("again.json");
    let _ = obs.flush(FlushOptions::to_path(&again));
    assert_eq!(read(&again)["function_events"], serde_json::json!([]));
    let _ = server;
    e
}

#[test]
fn a_trace_server_answering_500_costs_an_error_and_usage_is_still_recorded() {
    let server = server();
    let obs = observed(&server);
    server.inject(
        "/v1/traces",
        Fault::Status(500, r#"{"error":"disk full"}"#.into()),
    );
    let e = flush_under(&server, &obs);
    let Error::Upload { source, .. } = &e else {
        unreachable!()
    };
    assert!(
        matches!(&**source, Error::ServerStatus { status: 500, message, .. } if message == "disk full"),
        "{source:?}"
    );
    assert_eq!(server.usage_used(), 1);
}

#[test]
fn a_usage_server_answering_429_gives_the_rate_limit_with_the_servers_words() {
    let server = server();
    let obs = observed(&server);
    server.inject(
        "/v1/usage",
        Fault::Status(
            429,
            r#"{"success":false,"error":"Monthly trace limit reached","usage":{"tier":"free","traces_used":1000,"traces_limit":1000}}"#.into(),
        ),
    );
    let e = flush_under(&server, &obs);
    assert!(
        e.to_string()
            .contains("Monthly trace limit reached (tier: free, used: 1000/1000)"),
        "{e}"
    );
}

#[test]
fn a_key_refused_at_upload_is_an_invalid_key_error_and_no_usage_is_recorded() {
    let server = server();
    let obs = observed(&server);
    server.inject(
        "/v1/traces",
        Fault::Status(401, r#"{"error":"Invalid API key"}"#.into()),
    );
    let e = flush_under(&server, &obs);
    let Error::Upload { source, .. } = &e else {
        unreachable!()
    };
    assert!(matches!(**source, Error::InvalidApiKey), "{source:?}");
    assert_eq!(server.usage_used(), 0);
}

#[test]
fn a_server_that_cannot_be_reached_costs_an_error_naming_it() {
    let server = server();
    let obs = observed(&server);
    // A port with nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    obs.set_remote(Remote::new().usage_server(server.url()).flush_server(&url));
    let e = flush_under(&server, &obs);
    let Error::Upload { source, .. } = &e else {
        unreachable!()
    };
    match &**source {
        Error::ServerUnreachable { url: called, .. } => {
            assert_eq!(called, &format!("{url}/v1/traces"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reply_slower_than_the_timeout_costs_an_error_not_the_wait() {
    let server = server();
    let obs = observed(&server);
    obs.set_remote(
        Remote::new()
            .usage_server(server.url())
            .flush_server(server.url())
            .flush_timeout(Duration::from_millis(300)),
    );
    server.inject("/v1/traces", Fault::Delay(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let e = flush_under(&server, &obs);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up at the timeout"
    );
    assert!(e.to_string().contains("no answer within 300ms"), "{e}");
}

#[test]
fn a_connection_closed_without_an_answer_costs_an_error() {
    let server = server();
    let obs = observed(&server);
    server.inject("/v1/traces", Fault::Close);
    let e = flush_under(&server, &obs);
    let Error::Upload { source, .. } = &e else {
        unreachable!()
    };
    assert!(
        matches!(**source, Error::ServerUnreachable { .. }),
        "{source:?}"
    );
}

#[test]
fn without_a_key_nothing_is_sent() {
    let server = server();
    let obs = Collector::new();
    obs.set_remote(
        Remote::new()
            .usage_server(server.url())
            .flush_server(server.url()),
    );
    let _scope = obs.set_default();
    // AIOBS_API_KEY is not set in the test environment.
    obs.observe(ObserveOptions::new()).unwrap();
    work(1);
    let dir = tempfile::tempdir().unwrap();
    obs.flush(FlushOptions::to_path(dir.path().join("t.json")))
        .unwrap();
    assert!(server.requests().is_empty());
}

#[test]
fn an_exporter_runs_first_and_the_upload_error_names_it() {
    struct Count(std::sync::atomic::AtomicUsize);
    impl aiobs::Exporter for Count {
        fn export(
            &self,
            doc: &aiobs::ExportDocument<'_>,
        ) -> Result<aiobs::ExportResult, aiobs::BoxError> {
            self.0
                .fetch_add(doc.event_count(), std::sync::atomic::Ordering::Relaxed);
            Ok(aiobs::ExportResult::default())
        }
    }
    let server = server();
    let obs = observed(&server);
    let _scope = obs.set_default();
    work(3);
    server.inject("/v1/traces", Fault::Status(503, String::new()));
    let exporter = Count(0.into());
    let e = obs.flush_to(&exporter, true).unwrap_err();
    assert_eq!(exporter.0.load(std::sync::atomic::Ordering::Relaxed), 1);
    match &e {
        Error::Upload { written_to, .. } => assert_eq!(written_to, "the exporter"),
        other => panic!("{other:?}"),
    }
    assert_no_key(&shown(&e));
}

#[test]
fn the_key_is_never_in_a_debug_output() {
    let options = ObserveOptions::new().api_key(KEY);
    assert_no_key(&format!("{options:?}"));
    let server = server();
    let obs = observed(&server);
    assert_no_key(&format!("{obs:?}"));
    assert_no_key(&format!("{:?}", obs.remote()));
}
