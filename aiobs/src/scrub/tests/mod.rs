//! Tests of the scrubbing rules: names, text detectors, a property test on random text, and
//! the always-on scrubbing of URLs and HTTP client errors.

mod names;
mod property;
mod text;
mod url;

use super::Scrubbing;

/// The text scrubbed with the default rules, not cut.
fn scrub(text: &str) -> String {
    Scrubbing::new().scrub_text(text, false).into_owned()
}

/// The text scrubbed with the default rules, cut by a length limit.
fn scrub_cut(text: &str) -> String {
    Scrubbing::new().scrub_text(text, true).into_owned()
}

/// Asserts that the default rules leave `text` as it is, without allocating.
#[track_caller]
fn assert_kept(text: &str) {
    let out = Scrubbing::new().scrub_text(text, false);
    assert!(
        matches!(out, std::borrow::Cow::Borrowed(_)),
        "{text:?} became {out:?}"
    );
}
