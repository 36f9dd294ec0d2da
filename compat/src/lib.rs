//! The checks the workspace's tests run on every export they flush, in one place:
//!
//! - [`validate_export`]: `aiobs validate --require-tree` (the format's rules, written out once
//!   in `aiobs-cli/src/validate.rs`), then the Python SDK aiobs 0.1.5's own pydantic models;
//! - [`python_models_accept`] / [`python_models_reject`]: the models alone, through
//!   `check_python_models.py` next to this crate's manifest;
//! - [`python_model_fields`]: the models' fields, to hold `aiobs validate`'s table to them.
//!
//! The Python comes from [`python::python`]: `AIOBS_PYTHON`, else `<workspace root>/.venv`,
//! made on first use from [`requirements_file`]. Nothing here needs anything outside the
//! repository but `python3` with `venv`, and PyPI the first time.

pub mod python;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use python::{PYTHON_ENV, python, python_with_package};

/// The Cargo workspace root: the parent of this crate's folder, canonicalised when possible.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// `compat/check_python_models.py`: the Python SDK's models, lax and strict, on each file.
pub fn models_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("check_python_models.py")
}

/// `compat/requirements.txt`: the pinned `aiobs==0.1.5` and `pydantic` the venv is made from.
pub fn requirements_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements.txt")
}

/// Checks flushed exports as the tests require of every flush: `aiobs validate
/// --require-tree`'s rules, then the Python SDK's models.
///
/// # Panics
///
/// If `paths` is empty, or with every problem found in a file that fails.
pub fn validate_export(paths: &[&Path]) {
    assert!(!paths.is_empty(), "validate_export: no files given");
    let options = aiobs_cli::validate::ValidateOptions { require_tree: true };
    for path in paths {
        let report = aiobs_cli::validate::validate_file(path, options);
        assert!(
            report.is_valid(),
            "aiobs validate --require-tree rejects {}:\n{}{}",
            path.display(),
            report.problems.join("\n"),
            if report.more > 0 {
                format!("\n… and {} more problem(s)", report.more)
            } else {
                String::new()
            }
        );
    }
    python_models_accept(paths);
}

/// Runs `check_python_models.py` on `paths` and panics, with its output, unless the Python
/// SDK's models accept every file (lax and strict).
///
/// # Panics
///
/// If `paths` is empty, if there is no Python to run it with ([`python::NO_PYTHON`]), or if a
/// file fails.
pub fn python_models_accept(paths: &[&Path]) {
    assert!(!paths.is_empty(), "python_models_accept: no files given");
    let out = run_models_script(paths.iter().map(|p| p.as_os_str()));
    assert!(
        out.status.success(),
        "the Python SDK's models reject {paths:?} ({}):\n{}",
        out.status,
        python::describe_output(&out)
    );
}

/// The files among `paths` that the Python SDK's models reject (a file on which the script
/// crashes counts as rejected). Runs the script on a hundred files at a time.
///
/// # Panics
///
/// If there is no Python to run it with.
pub fn python_models_reject(paths: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut rejected = BTreeSet::new();
    for batch in paths.chunks(100) {
        reject_batch(batch, &mut rejected);
    }
    rejected
}

fn reject_batch(batch: &[PathBuf], rejected: &mut BTreeSet<PathBuf>) {
    let out = run_models_script(batch.iter().map(|p| p.as_os_str()));
    let crashed = String::from_utf8_lossy(&out.stderr).contains("Traceback");
    if crashed && batch.len() > 1 {
        let (a, b) = batch.split_at(batch.len() / 2);
        reject_batch(a, rejected);
        reject_batch(b, rejected);
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for path in batch {
        let prefix = format!("FAIL {}: ", path.display());
        let failed = text.lines().any(|l| l.starts_with(&prefix));
        let alone_failed = batch.len() == 1 && !out.status.success();
        if failed || crashed || alone_failed {
            rejected.insert(path.clone());
        }
    }
}

/// The Python SDK's models as `check_python_models.py --fields` reads them off the installed
/// package: for each model, its fields in order with whether each may be null.
///
/// # Panics
///
/// If there is no Python to run it with, or the script fails.
pub fn python_model_fields() -> Vec<(String, Vec<(String, bool)>)> {
    let out = run_models_script(["--fields".as_ref()]);
    assert!(
        out.status.success(),
        "check_python_models.py --fields failed:\n{}",
        python::describe_output(&out)
    );
    let value: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--fields prints JSON");
    let models = value.as_object().expect("--fields prints an object");
    models
        .iter()
        .map(|(model, fields)| {
            let fields = fields
                .as_array()
                .expect("a list of fields")
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().expect("a field name").to_owned(),
                        f["nullable"].as_bool().expect("nullable"),
                    )
                })
                .collect();
            (model.clone(), fields)
        })
        .collect()
}

fn run_models_script<'a>(
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
) -> std::process::Output {
    let python = python();
    let script = models_script();
    Command::new(&python)
        .arg(&script)
        .args(args)
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), script.display()))
}
