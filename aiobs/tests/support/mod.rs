//! Shared helpers for the integration tests; include with `mod support;`.
//!
//! The checks of flushed exports live in the workspace's `aiobs-compat` crate (`compat/`):
//! [`validate_export`] runs `aiobs validate --require-tree` and the Python SDK's own models on
//! each file, making the Python venv from `compat/requirements.txt` on first use.

#![allow(dead_code)]

pub mod otlp;

use std::fs;

pub use aiobs_compat::{python_with_package, validate_export};

/// Flushes `obs` to `name` in a new temporary directory, checks the file with the validator,
/// and returns the export, its text, and the directory (which holds the file while it lives).
pub fn flush_validated(
    obs: &aiobs::Collector,
    name: &str,
) -> (serde_json::Value, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = obs
        .flush(aiobs::FlushOptions::to_path(dir.path().join(name)))
        .expect("flush");
    validate_export(&[&path]);
    let text = fs::read_to_string(&path).expect("read the export");
    (
        serde_json::from_str(&text).expect("the export is JSON"),
        text,
        dir,
    )
}
