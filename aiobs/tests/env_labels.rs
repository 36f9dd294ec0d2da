//! `AIOBS_LABEL_*` variables reach a session's labels, after system labels and before the
//! caller's. One test in its own binary, since it sets process environment variables.

use aiobs::{Collector, ObserveOptions};

#[test]
fn env_labels_merge_between_system_and_explicit_labels() {
    // SAFETY: the only test in this binary, and it sets the variables before any thread reads
    // the environment.
    unsafe {
        std::env::set_var("AIOBS_LABEL_ENVIRONMENT", "staging");
        std::env::set_var("AIOBS_LABEL_TEAM", "from-env");
        std::env::set_var("AIOBS_LABEL_NOT-VALID", "skipped");
    }
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().label("team", "explicit"))
        .unwrap();
    let labels = obs.get_labels().unwrap();
    assert_eq!(labels["environment"], "staging");
    assert_eq!(
        labels["team"], "explicit",
        "explicit labels win over the environment"
    );
    assert!(labels.keys().all(|k| k != "not-valid"));
    assert!(labels.contains_key("aiobs_sdk_version"));
}
