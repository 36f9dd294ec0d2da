//! `GcsExporter` against a real GCS emulator (`gcp-storage-emulator`, installed into the
//! workspace venv when missing) and a loopback OAuth token endpoint that checks the signed JWT.
//! The environment (`from_env`, `STORAGE_EMULATOR_HOST`, `GOOGLE_APPLICATION_CREDENTIALS`) is
//! tested in `gcs_env.rs`, a binary of its own.

#[path = "support/gcs_emulator.rs"]
mod gcs_emulator;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use aiobs::exporters::{CompositeExporter, CustomExporter, GcsError, GcsExporter};
use aiobs::{Collector, ExportResult, Exporter, ObserveOptions, ProviderCall};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gcs_emulator::Emulator;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

const TEST_KEY: &str = include_str!("fixtures/gcs_test_only_service_account_key.pem");
const TEST_PUBLIC_KEY: &[u8] =
    include_bytes!("fixtures/gcs_test_only_service_account_pub_pkcs1.der");

/// A collector with one session holding a function event and two provider events.
fn collector_with_events(name: &str) -> Collector {
    let obs = Collector::new();
    let _default = obs.set_default();
    obs.observe(ObserveOptions::new().session_name(name))
        .unwrap();
    #[aiobs::observe]
    fn work(n: u32) -> u32 {
        for i in 0..2 {
            let call = ProviderCall::start("openai", "chat.completions.create", &json!({"i": i}))
                .expect("a session is active");
            call.finish_ok(&json!({"text": "héllo \u{1F600}"}));
        }
        n + 1
    }
    assert_eq!(work(1), 2);
    obs
}

/// Flushes `obs` through `exporter`, keeping the bytes of the same document.
fn flush_capturing(
    obs: &Collector,
    exporter: GcsExporter,
) -> (Result<ExportResult, aiobs::Error>, Vec<u8>) {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let keep = {
        let bytes = bytes.clone();
        CustomExporter::new("capture", move |doc| {
            *bytes.lock().unwrap() = doc.to_json_vec()?;
            Ok(ExportResult::default())
        })
    };
    let both = CompositeExporter::new(vec![Box::new(keep), Box::new(exporter)]);
    let result = obs.flush_to(&both, true).map(|r| {
        let gcs = &r.metadata["results"][1];
        assert_eq!(gcs["exporter"], "gcs");
        assert_eq!(gcs["success"], true);
        serde_json::from_value::<ExportResultJson>(gcs.clone())
            .unwrap()
            .into()
    });
    let bytes = bytes.lock().unwrap().clone();
    (result, bytes)
}

/// An exporter's report inside a composite result.
#[derive(serde::Deserialize)]
struct ExportResultJson {
    destination: Option<String>,
    bytes_written: Option<u64>,
    metadata: std::collections::BTreeMap<String, Value>,
}

impl From<ExportResultJson> for ExportResult {
    fn from(r: ExportResultJson) -> Self {
        ExportResult {
            destination: r.destination,
            bytes_written: r.bytes_written,
            metadata: r.metadata,
        }
    }
}

#[test]
fn a_flush_becomes_one_object_byte_for_byte() {
    let emulator = Emulator::start();
    emulator.create_bucket("traces-bucket");
    let obs = collector_with_events("gcs-upload");
    let exporter = GcsExporter::new("traces-bucket")
        .emulator(emulator.host())
        .prefix("traces")
        .metadata("service", "checkout")
        .metadata("env", "test");
    let (result, sent) = flush_capturing(&obs, exporter);
    let result = result.expect("the upload succeeds");

    let doc: Value = serde_json::from_slice(&sent).unwrap();
    let session_id = doc["sessions"][0]["id"].as_str().unwrap().to_owned();
    let blob = format!("traces/{session_id}.json");
    assert_eq!(
        result.destination.as_deref(),
        Some(format!("gs://traces-bucket/{blob}").as_str())
    );
    assert_eq!(result.bytes_written, Some(sent.len() as u64));
    assert_eq!(result.metadata["bucket"], "traces-bucket");
    assert_eq!(result.metadata["blob_path"], blob.as_str());
    assert_eq!(result.metadata["content_type"], "application/json");
    assert_eq!(result.metadata["sessions_count"], 1);
    assert_eq!(result.metadata["events_count"], 2);
    assert_eq!(result.metadata["function_events_count"], 1);
    assert_eq!(doc["events"].as_array().unwrap().len(), 2);
    assert_eq!(doc["function_events"].as_array().unwrap().len(), 1);

    let stored = emulator
        .object_bytes("traces-bucket", &blob)
        .expect("the object exists");
    assert!(stored == sent, "the stored object differs from the export");
    let resource = emulator.object_resource("traces-bucket", &blob);
    assert_eq!(resource["contentType"], "application/json");
    assert_eq!(resource["size"], sent.len().to_string());
    assert_eq!(
        resource["metadata"],
        json!({"service": "checkout", "env": "test"})
    );

    // The flush forgot its events: the next one uploads an empty document.
    let again = obs
        .flush_to(
            &GcsExporter::new("traces-bucket").emulator(emulator.url()),
            true,
        )
        .unwrap();
    let stored = emulator
        .object_bytes("traces-bucket", &format!("{session_id}.json"))
        .unwrap();
    let doc: Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(doc["events"], json!([]));
    assert_eq!(again.metadata["events_count"], 0);
}

#[test]
fn prefix_template_placeholders_and_content_type() {
    let emulator = Emulator::start();
    emulator.create_bucket("b1");
    let obs = collector_with_events("gcs-template");
    let before = now_seconds();
    let exporter = GcsExporter::new("b1")
        .emulator(format!("http://{}/", emulator.host()))
        .prefix("daily/")
        .filename_template("{date}/{session_id}-{timestamp}{{x}}.json")
        .content_type("text/plain; charset=utf-8")
        .project("my-project");
    let (result, sent) = flush_capturing(&obs, exporter);
    let result = result.unwrap();
    let after = now_seconds();

    let doc: Value = serde_json::from_slice(&sent).unwrap();
    let session_id = doc["sessions"][0]["id"].as_str().unwrap();
    let blob = result.metadata["blob_path"].as_str().unwrap().to_owned();
    let rest = blob.strip_prefix("daily/").expect("the prefix");
    let (date, file) = rest.split_once('/').expect("{date}/");
    let stamp = file
        .strip_prefix(&format!("{session_id}-"))
        .and_then(|f| f.strip_suffix("{x}.json"))
        .unwrap_or_else(|| panic!("unexpected name {blob}"));
    let stamp: u64 = stamp.parse().expect("{timestamp} is integer seconds");
    assert!(
        (before..=after).contains(&stamp),
        "{stamp} not in {before}..={after}"
    );
    assert_eq!(date, python_utc_date(stamp), "{{date}} is the UTC date");
    assert_eq!(result.destination.unwrap(), format!("gs://b1/{blob}"));
    assert_eq!(result.metadata["project"], "my-project");
    assert_eq!(result.metadata["content_type"], "text/plain; charset=utf-8");

    assert_eq!(emulator.object_names("b1"), vec![blob.clone()]);
    assert!(emulator.object_bytes("b1", &blob).unwrap() == sent);
    let resource = emulator.object_resource("b1", &blob);
    assert_eq!(resource["contentType"], "text/plain; charset=utf-8");
}

#[test]
fn without_a_session_the_name_is_unknown() {
    let emulator = Emulator::start();
    emulator.create_bucket("b2");
    let obs = Collector::new();
    let exporter = GcsExporter::new("b2").emulator(emulator.host());
    match obs.flush_to(&exporter, true) {
        Ok(result) => {
            assert_eq!(result.destination.as_deref(), Some("gs://b2/unknown.json"));
            assert_eq!(result.metadata["sessions_count"], 0);
            assert!(emulator.object_bytes("b2", "unknown.json").is_some());
        }
        Err(e) => panic!("flush without a session: {e}"),
    }
}

#[test]
fn failed_uploads_keep_the_events_for_the_next_flush() {
    let emulator = Emulator::start();
    emulator.create_bucket("exists");
    let obs = collector_with_events("gcs-failures");

    // A bucket that does not exist: GCS's 404.
    let missing = GcsExporter::new("no-such-bucket").emulator(emulator.host());
    let err = obs.flush_to(&missing, true).unwrap_err();
    let gcs = gcs_error(&err);
    match gcs {
        GcsError::Status { status, url, .. } => {
            assert_eq!(*status, 404);
            assert!(url.contains("/b/no-such-bucket/o"), "{url}");
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("404") && text.contains("no-such-bucket"),
        "{text}"
    );

    // Nothing listening.
    let port = gcs_emulator::free_port();
    let down = GcsExporter::new("exists")
        .emulator(format!("127.0.0.1:{port}"))
        .timeout(std::time::Duration::from_secs(5));
    let err = obs.flush_to(&down, true).unwrap_err();
    match gcs_error(&err) {
        GcsError::Unreachable { url, .. } => {
            assert!(
                url.starts_with(&format!("http://127.0.0.1:{port}/upload/")),
                "{url}"
            )
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );

    // A bad template fails before any request.
    let bad = GcsExporter::new("exists")
        .emulator(emulator.host())
        .filename_template("{nope}.json");
    let err = obs.flush_to(&bad, true).unwrap_err();
    assert!(matches!(gcs_error(&err), GcsError::Config(_)), "{err}");

    // Everything is still there for a working exporter.
    let (result, sent) =
        flush_capturing(&obs, GcsExporter::new("exists").emulator(emulator.host()));
    let result = result.unwrap();
    assert_eq!(result.metadata["events_count"], 2);
    assert_eq!(result.metadata["function_events_count"], 1);
    let blob = result.metadata["blob_path"].as_str().unwrap();
    assert!(emulator.object_bytes("exists", blob).unwrap() == sent);
    assert_eq!(emulator.object_names("exists").len(), 1);
}

fn gcs_error(err: &aiobs::Error) -> &GcsError {
    let aiobs::Error::Export { source } = err else {
        panic!("expected an export error, got {err:?}");
    };
    source
        .downcast_ref::<GcsError>()
        .unwrap_or_else(|| panic!("expected a GcsError, got {source:?}"))
}

// ---------------------------------------------------------------------------
// Service-account auth: a loopback token endpoint that checks the JWT
// ---------------------------------------------------------------------------

/// What the loopback server saw.
#[derive(Default)]
struct Seen {
    token_requests: usize,
    /// Claims of each valid assertion.
    claims: Vec<Value>,
    /// Why requests were refused.
    refusals: Vec<String>,
    /// `Authorization` headers of uploads (when the server stands in for GCS too).
    upload_auth: Vec<Option<String>>,
}

/// A loopback HTTP server: `POST /token` checks the grant and the JWT (signature with the test
/// public key, claims) and answers a token; `POST /upload/...` records the `Authorization`
/// header and answers `upload_status` (200 with an object resource, or an error).
struct TokenServer {
    url: String,
    seen: Arc<Mutex<Seen>>,
    upload_status: Arc<Mutex<u16>>,
}

impl TokenServer {
    fn start(client_email: &'static str) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let upload_status = Arc::new(Mutex::new(200u16));
        let token_uri = format!("{url}/token");
        {
            let (seen, upload_status) = (seen.clone(), upload_status.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let (seen, upload_status) = (seen.clone(), upload_status.clone());
                    let token_uri = token_uri.clone();
                    std::thread::spawn(move || {
                        serve(stream, &token_uri, client_email, &seen, &upload_status)
                    });
                }
            });
        }
        TokenServer {
            url,
            seen,
            upload_status,
        }
    }

    fn token_uri(&self) -> String {
        format!("{}/token", self.url)
    }
}

fn serve(
    stream: std::net::TcpStream,
    token_uri: &str,
    client_email: &str,
    seen: &Mutex<Seen>,
    upload_status: &Mutex<u16>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let length: usize = header("content-length").map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();

    let (status, answer) = if path == "/token" {
        let mut seen = seen.lock().unwrap();
        seen.token_requests += 1;
        match check_token_request(&header("content-type"), &body, token_uri, client_email) {
            Ok(claims) => {
                seen.claims.push(claims);
                let token = format!("test-token-{}", seen.token_requests);
                (
                    200,
                    json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}),
                )
            }
            Err(why) => {
                seen.refusals.push(why.clone());
                (
                    400,
                    json!({"error": "invalid_grant", "error_description": why}),
                )
            }
        }
    } else if path.starts_with("/upload/storage/v1/b/") {
        seen.lock()
            .unwrap()
            .upload_auth
            .push(header("authorization"));
        let status = *upload_status.lock().unwrap();
        if status == 200 {
            (200, json!({"kind": "storage#object"}))
        } else {
            (
                status,
                json!({"error": {"code": status, "message": "Invalid Credentials"}}),
            )
        }
    } else {
        (404, json!({"error": "not found"}))
    };
    let answer = answer.to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{answer}",
        answer.len()
    );
}

/// Checks a token request; returns the JWT's claims.
fn check_token_request(
    content_type: &Option<String>,
    body: &[u8],
    token_uri: &str,
    client_email: &str,
) -> Result<Value, String> {
    if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(format!("content type {content_type:?}"));
    }
    let form: Vec<(String, String)> = std::str::from_utf8(body)
        .map_err(|e| e.to_string())?
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return Err(format!("grant_type {:?}", field("grant_type")));
    }
    let jwt = field("assertion").ok_or("no assertion")?;
    let (input, signature) = jwt.rsplit_once('.').ok_or("not a JWT")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, TEST_PUBLIC_KEY)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| "bad signature".to_owned())?;
    let (header, claims) = input.split_once('.').ok_or("not a JWT")?;
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    let header = decode(header)?;
    if header["alg"] != "RS256" || header["typ"] != "JWT" {
        return Err(format!("header {header}"));
    }
    let claims = decode(claims)?;
    let now = now_seconds();
    let iat = claims["iat"].as_u64().ok_or("no iat")?;
    let checks = [
        (claims["iss"] == client_email, "iss"),
        (
            claims["scope"] == "https://www.googleapis.com/auth/devstorage.read_write",
            "scope",
        ),
        (claims["aud"] == token_uri, "aud"),
        (iat.abs_diff(now) <= 60, "iat"),
        (claims["exp"].as_u64() == Some(iat + 3600), "exp"),
    ];
    for (ok, claim) in checks {
        if !ok {
            return Err(format!("claim {claim} wrong in {claims}"));
        }
    }
    Ok(claims)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// Writes a service-account key file for the test key, naming `token_uri`.
fn key_file(dir: &std::path::Path, client_email: &str, token_uri: &str) -> std::path::PathBuf {
    let path = dir.join("service-account.json");
    let key = json!({
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "test-key-id",
        "private_key": TEST_KEY,
        "client_email": client_email,
        "token_uri": token_uri,
    });
    std::fs::write(&path, key.to_string()).unwrap();
    path
}

#[test]
fn a_service_account_token_is_signed_exchanged_cached_and_sent() {
    const EMAIL: &str = "uploader@test-project.iam.gserviceaccount.com";
    let server = TokenServer::start(EMAIL);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), EMAIL, &server.token_uri());

    // The server stands in for GCS: it sees the Authorization header.
    let exporter = GcsExporter::new("bucket")
        .endpoint(&server.url)
        .credentials_path(&key);
    let obs = collector_with_events("gcs-auth");
    let first = obs.flush_to(&exporter, true).unwrap();
    assert!(first.destination.unwrap().starts_with("gs://bucket/"));
    obs.flush_to(&exporter, true).unwrap();
    {
        let seen = server.seen.lock().unwrap();
        assert_eq!(seen.refusals, Vec::<String>::new());
        assert_eq!(seen.token_requests, 1, "the token is reused");
        assert_eq!(seen.claims[0]["iss"], EMAIL);
        assert_eq!(
            seen.upload_auth,
            vec![Some("Bearer test-token-1".to_owned()); 2]
        );
    }

    // A 401 drops the token: the export fails (the events stay), the next one gets a new token.
    *server.upload_status.lock().unwrap() = 401;
    let obs = collector_with_events("gcs-auth-401");
    let err = obs.flush_to(&exporter, true).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("401") && text.contains("Invalid Credentials"),
        "{text}"
    );
    assert!(!text.contains("test-token"), "the token leaked: {text}");
    *server.upload_status.lock().unwrap() = 200;
    let result = obs.flush_to(&exporter, true).unwrap();
    assert_eq!(result.metadata["events_count"], 2);
    {
        let seen = server.seen.lock().unwrap();
        assert_eq!(seen.token_requests, 2);
        assert_eq!(
            seen.upload_auth.last().unwrap().as_deref(),
            Some("Bearer test-token-2")
        );
    }
    let shown = format!("{exporter:?}");
    assert!(
        !shown.contains("test-token") && !shown.contains("PRIVATE"),
        "{shown}"
    );
}

#[test]
fn a_token_then_an_upload_to_the_emulator() {
    const EMAIL: &str = "emulated@test-project.iam.gserviceaccount.com";
    let emulator = Emulator::start();
    emulator.create_bucket("authed");
    let server = TokenServer::start(EMAIL);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), EMAIL, &server.token_uri());
    // `endpoint` (not `emulator`): credentials are used; the emulator ignores them.
    let exporter = GcsExporter::new("authed")
        .endpoint(emulator.url())
        .credentials_path(&key);
    let obs = collector_with_events("gcs-auth-emulator");
    let (result, sent) = flush_capturing(&obs, exporter);
    let result = result.unwrap();
    assert_eq!(server.seen.lock().unwrap().token_requests, 1);
    assert_eq!(server.seen.lock().unwrap().claims.len(), 1);
    let blob = result.metadata["blob_path"].as_str().unwrap();
    assert!(emulator.object_bytes("authed", blob).unwrap() == sent);
}

#[test]
fn refused_keys_and_bad_key_files_are_clear_errors_without_secrets() {
    let server = TokenServer::start("someone-else@example.com");
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "me@example.com", &server.token_uri());
    let obs = collector_with_events("gcs-refused");
    let exporter = GcsExporter::new("bucket")
        .endpoint(&server.url)
        .credentials_path(&key);
    let err = obs.flush_to(&exporter, true).unwrap_err();
    match gcs_error(&err) {
        GcsError::Token {
            status,
            message,
            url,
        } => {
            assert_eq!(*status, Some(400));
            assert!(message.starts_with("invalid_grant: claim iss"), "{message}");
            assert_eq!(url, &server.token_uri());
        }
        other => panic!("expected a token error, got {other:?}"),
    }
    assert_no_secret(&err.to_string());
    assert!(server.seen.lock().unwrap().upload_auth.is_empty());

    // Not a key file.
    let path = dir.path().join("broken.json");
    std::fs::write(&path, format!("{{\"private_key\": {:?}", TEST_KEY)).unwrap();
    let err = obs
        .flush_to(
            &GcsExporter::new("bucket")
                .endpoint(&server.url)
                .credentials_path(&path),
            true,
        )
        .unwrap_err();
    assert!(
        matches!(gcs_error(&err), GcsError::Credentials { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("broken.json"), "{err}");
    assert_no_secret(&err.to_string());

    // A missing file.
    let err = obs
        .flush_to(
            &GcsExporter::new("bucket")
                .endpoint(&server.url)
                .credentials_path(dir.path().join("missing.json")),
            true,
        )
        .unwrap_err();
    assert!(err.to_string().contains("missing.json"), "{err}");

    // All those failures kept the events.
    let kept = obs
        .flush_to(
            &CustomExporter::new("count", |doc| {
                Ok(ExportResult {
                    bytes_written: Some(doc.event_count() as u64),
                    ..Default::default()
                })
            }),
            true,
        )
        .unwrap();
    assert_eq!(kept.bytes_written, Some(3));
}

fn assert_no_secret(text: &str) {
    for line in TEST_KEY.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(&line[..16]), "the key leaked: {text}");
    }
    assert!(!text.contains("test-token"), "a token leaked: {text}");
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The UTC date of Unix seconds, by Python (independent of the exporter's arithmetic).
fn python_utc_date(seconds: u64) -> String {
    let python = aiobs_compat::python();
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import sys, datetime; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), \
             datetime.timezone.utc).strftime('%Y-%m-%d'))",
            &seconds.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_exporter_is_named_gcs() {
    assert_eq!(GcsExporter::new("b").name(), "gcs");
}
