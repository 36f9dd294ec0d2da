//! `GcsExporter` and the environment: `from_env` (`AIOBS_GCS_*`,
//! `GOOGLE_APPLICATION_CREDENTIALS`), `STORAGE_EMULATOR_HOST`, and the error without
//! credentials. One test in a binary of its own, since it sets process environment variables.

#[path = "support/gcs_emulator.rs"]
mod gcs_emulator;
mod support;

use aiobs::exporters::{CREDENTIALS_ENV, DEFAULT_ENDPOINT, EMULATOR_ENV, GcsError, GcsExporter};
use aiobs::{Collector, ObserveOptions};

const VARS: [&str; 5] = [
    "AIOBS_GCS_BUCKET",
    "AIOBS_GCS_PREFIX",
    "AIOBS_GCS_PROJECT",
    CREDENTIALS_ENV,
    EMULATOR_ENV,
];

fn set(name: &str, value: &str) {
    // SAFETY: this binary's only test sets the environment; it starts no thread that reads it
    // while it does (the emulator is a child process).
    unsafe { std::env::set_var(name, value) };
}

fn unset(name: &str) {
    // SAFETY: as in `set`.
    unsafe { std::env::remove_var(name) };
}

fn gcs_error(err: &aiobs::Error) -> &GcsError {
    let aiobs::Error::Export { source } = err else {
        panic!("expected an export error, got {err:?}");
    };
    source.downcast_ref::<GcsError>().expect("a GcsError")
}

fn collector() -> Collector {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().session_name("gcs-env"))
        .unwrap();
    obs
}

#[test]
fn the_environment_configures_the_exporter() {
    // Started before the environment is changed (it reads AIOBS_PYTHON only).
    let emulator = gcs_emulator::Emulator::start();
    for var in VARS {
        unset(var);
    }

    // The bucket is required.
    let err = GcsExporter::from_env().unwrap_err();
    assert!(matches!(&err, GcsError::MissingEnv { var } if var == "AIOBS_GCS_BUCKET"));
    assert!(err.to_string().contains("AIOBS_GCS_BUCKET"), "{err}");
    set("AIOBS_GCS_BUCKET", "");
    assert!(GcsExporter::from_env().is_err(), "empty counts as unset");

    // No credentials, no emulator: a clear error, before any request.
    let obs = collector();
    let err = obs.flush_to(&GcsExporter::new("b"), true).unwrap_err();
    assert!(matches!(gcs_error(&err), GcsError::NoCredentials), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(CREDENTIALS_ENV) && text.contains("credentials_path"),
        "{text}"
    );
    assert_eq!(GcsExporter::new("b").endpoint_url(), DEFAULT_ENDPOINT);

    // GOOGLE_APPLICATION_CREDENTIALS is read at export when no path is set.
    set(CREDENTIALS_ENV, "/nonexistent/aiobs-test-key.json");
    let err = obs.flush_to(&GcsExporter::new("b"), true).unwrap_err();
    assert!(
        matches!(gcs_error(&err), GcsError::Credentials { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("/nonexistent/aiobs-test-key.json"),
        "{err}"
    );

    // from_env.
    set("AIOBS_GCS_BUCKET", "env-bucket");
    set("AIOBS_GCS_PREFIX", "from-env");
    set("AIOBS_GCS_PROJECT", "env-project");
    let exporter = GcsExporter::from_env().unwrap();
    assert_eq!(exporter.bucket(), "env-bucket");
    assert_eq!(exporter.get_prefix(), "from-env/");
    let shown = format!("{exporter:?}");
    assert!(
        shown.contains("env-project") && shown.contains("aiobs-test-key.json"),
        "{shown}"
    );

    // STORAGE_EMULATOR_HOST: the emulator, without credentials (the key file named above
    // does not exist and is not read).
    set(EMULATOR_ENV, &emulator.host());
    assert_eq!(exporter.endpoint_url(), emulator.url());
    emulator.create_bucket("env-bucket");
    let result = obs.flush_to(&exporter, true).unwrap();
    let blob = result.metadata["blob_path"].as_str().unwrap().to_owned();
    assert!(
        blob.starts_with("from-env/") && blob.ends_with(".json"),
        "{blob}"
    );
    assert_eq!(result.metadata["project"], "env-project");
    assert_eq!(
        result.destination.as_deref(),
        Some(format!("gs://env-bucket/{blob}").as_str())
    );
    assert!(emulator.object_bytes("env-bucket", &blob).is_some());

    // A URL works too; an explicit endpoint wins over the variable.
    set(EMULATOR_ENV, &format!("{}/", emulator.url()));
    assert_eq!(GcsExporter::new("b").endpoint_url(), emulator.url());
    assert_eq!(
        GcsExporter::new("b")
            .endpoint("https://example.com")
            .endpoint_url(),
        "https://example.com"
    );

    for var in VARS {
        unset(var);
    }
}
