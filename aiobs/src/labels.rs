//! Session labels, with the rules of the Python SDK: keys match `^[a-z][a-z0-9_]{0,62}$` and
//! don't start with the reserved `aiobs_`; values have at most 256 characters; a session has at
//! most 64 labels. Labels come from three places, merged in this order (later wins): system
//! labels (`aiobs_*`), environment labels (`AIOBS_LABEL_<KEY>=value`), and the caller's.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Longest label value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;
/// Most labels a session can have.
pub const MAX_LABELS: usize = 64;
/// Prefix of system labels; user keys may not use it.
pub const RESERVED_PREFIX: &str = "aiobs_";
/// Prefix of the environment variables that become labels.
pub const ENV_PREFIX: &str = "AIOBS_LABEL_";

/// Labels: key to value, in key order.
pub type Labels = BTreeMap<String, String>;

/// Whether `key` matches `^[a-z][a-z0-9_]{0,62}$`.
fn key_matches_pattern(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Checks a user label key.
///
/// ```
/// assert!(aiobs::labels::validate_key("team").is_ok());
/// assert!(aiobs::labels::validate_key("aiobs_x").is_err());
/// assert!(aiobs::labels::validate_key("9lives").is_err());
/// ```
pub fn validate_key(key: &str) -> Result<()> {
    if key.starts_with(RESERVED_PREFIX) {
        return Err(Error::ReservedLabelKey {
            key: key.to_owned(),
        });
    }
    if !key_matches_pattern(key) {
        return Err(Error::InvalidLabelKey {
            key: key.to_owned(),
        });
    }
    Ok(())
}

/// Checks a label value (for the label `key`).
///
/// ```
/// assert!(aiobs::labels::validate_value("team", "core").is_ok());
/// assert!(aiobs::labels::validate_value("team", &"x".repeat(257)).is_err());
/// ```
pub fn validate_value(key: &str, value: &str) -> Result<()> {
    // At most 256 bytes is at most 256 characters: skip the count for short values.
    if value.len() > MAX_VALUE_CHARS {
        let chars = value.chars().count();
        if chars > MAX_VALUE_CHARS {
            return Err(Error::LabelValueTooLong {
                key: key.to_owned(),
                chars,
            });
        }
    }
    Ok(())
}

/// Checks a set of user labels: the count, then every key and value.
pub fn validate(labels: &Labels) -> Result<()> {
    if labels.len() > MAX_LABELS {
        return Err(Error::TooManyLabels {
            count: labels.len(),
        });
    }
    for (key, value) in labels {
        validate_key(key)?;
        validate_value(key, value)?;
    }
    Ok(())
}

fn cut(value: &str) -> String {
    match value.char_indices().nth(MAX_VALUE_CHARS) {
        Some((i, _)) => value[..i].to_owned(),
        None => value.to_owned(),
    }
}

/// Labels from `AIOBS_LABEL_*` variables in `vars`: the rest of the name lower-cased is the key
/// (variables whose key is invalid are skipped), the value is cut to 256 characters.
///
/// ```
/// let vars = [("AIOBS_LABEL_ENVIRONMENT".to_string(), "prod".to_string())];
/// let labels = aiobs::labels::env_labels_from(vars);
/// assert_eq!(labels["environment"], "prod");
/// ```
pub fn env_labels_from(vars: impl IntoIterator<Item = (String, String)>) -> Labels {
    let mut labels = Labels::new();
    for (name, value) in vars {
        if let Some(rest) = name.strip_prefix(ENV_PREFIX) {
            let key = rest.to_lowercase();
            if key_matches_pattern(&key) {
                labels.insert(key, cut(&value));
            }
        }
    }
    labels
}

/// Labels from this process's `AIOBS_LABEL_*` environment variables (non-UTF-8 ones skipped).
pub fn env_labels() -> Labels {
    env_labels_from(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

/// The system labels every session gets: `aiobs_sdk_version`, `aiobs_rust_version` (the Rust
/// counterpart of the Python SDK's `aiobs_python_version`: the compiler that built aiobs),
/// `aiobs_hostname`, and `aiobs_os` (`linux`, `darwin`, `windows`, … as Python's
/// `platform.system().lower()`).
pub fn system_labels() -> Labels {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    Labels::from([
        (
            "aiobs_sdk_version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (
            "aiobs_rust_version".to_owned(),
            env!("AIOBS_RUSTC_VERSION").to_owned(),
        ),
        ("aiobs_hostname".to_owned(), cut(&hostname)),
        ("aiobs_os".to_owned(), os.to_owned()),
    ])
}

/// The labels of a new session: system < environment < `user`, after checking `user`.
pub(crate) fn merged(user: &Labels) -> Result<Labels> {
    validate(user)?;
    let mut labels = system_labels();
    labels.extend(env_labels());
    labels.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(labels)
}
