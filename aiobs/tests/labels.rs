//! Label rules, as the Python SDK's collector applies them, each with its message.

use aiobs::{Collector, Error, ObserveOptions};

fn observed() -> Collector {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new()).expect("observe");
    obs
}

#[test]
fn a_key_must_match_the_pattern() {
    let obs = Collector::new();
    for bad in [
        "",
        "Team",
        "9lives",
        "_x",
        "has-dash",
        "has space",
        "é",
        &"a".repeat(64),
    ] {
        let err = obs
            .observe(ObserveOptions::new().label(bad, "v"))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidLabelKey { .. }),
            "{bad:?}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!("label key '{bad}' is invalid: keys must match ^[a-z][a-z0-9_]{{0,62}}$")
        );
    }
    for good in ["a", "team", "a1_b2", &"a".repeat(63)] {
        obs.observe(ObserveOptions::new().label(good, "v"))
            .expect(good);
    }
}

#[test]
fn the_aiobs_prefix_is_reserved() {
    let err = observed().add_label("aiobs_custom", "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "label key 'aiobs_custom' uses the reserved prefix 'aiobs_'"
    );
}

#[test]
fn a_value_may_have_256_characters_not_257() {
    let obs = observed();
    obs.add_label("ok", &"é".repeat(256))
        .expect("256 characters (512 bytes) is fine");
    let err = obs.add_label("long", &"x".repeat(257)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "label value for 'long' is 257 characters long; the maximum is 256"
    );
}

#[test]
fn at_most_64_labels_are_given() {
    let too_many: Vec<_> = (0..65).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let err = Collector::new()
        .observe(ObserveOptions::new().labels(too_many))
        .unwrap_err();
    assert_eq!(err.to_string(), "too many labels (65); the maximum is 64");
}

#[test]
fn a_merge_may_not_exceed_64_labels() {
    let obs = observed(); // 4 system labels
    let sixty: Vec<_> = (0..60).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    obs.set_labels(sixty, true).expect("64 in all");
    let err = obs.set_labels([("one_more", "v")], true).unwrap_err();
    assert_eq!(err.to_string(), "too many labels (65); the maximum is 64");
    let err = obs.add_label("one_more", "v").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot add label 'one_more': the session already has the maximum of 64 labels"
    );
    obs.add_label("k0", "replaced")
        .expect("replacing an existing key adds none");
    assert_eq!(obs.get_labels().unwrap().len(), 64);
}

#[test]
fn replacing_labels_keeps_the_system_ones() {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().label("a", "1").label("b", "2"))
        .unwrap();
    obs.set_labels([("c", "3")], false).unwrap();
    let labels = obs.get_labels().unwrap();
    let user: Vec<_> = labels.keys().filter(|k| !k.starts_with("aiobs_")).collect();
    assert_eq!(user, ["c"]);
    for system in [
        "aiobs_sdk_version",
        "aiobs_rust_version",
        "aiobs_hostname",
        "aiobs_os",
    ] {
        assert!(labels.contains_key(system), "{system} kept");
    }
}

#[test]
fn merging_labels_overrides_and_adds() {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().label("a", "1").label("b", "2"))
        .unwrap();
    obs.set_labels([("b", "20"), ("c", "3")], true).unwrap();
    let labels = obs.get_labels().unwrap();
    assert_eq!(
        (&labels["a"][..], &labels["b"][..], &labels["c"][..]),
        ("1", "20", "3")
    );
}

#[test]
fn system_labels_cannot_be_removed_user_labels_can() {
    let obs = Collector::new();
    obs.observe(ObserveOptions::new().label("team", "core"))
        .unwrap();
    let err = obs.remove_label("aiobs_os").unwrap_err();
    assert_eq!(err.to_string(), "cannot remove system label 'aiobs_os'");
    obs.remove_label("team").unwrap();
    obs.remove_label("never_there")
        .expect("removing an absent label is fine");
    assert!(!obs.get_labels().unwrap().contains_key("team"));
}

#[test]
fn label_calls_without_an_active_session_are_errors() {
    let obs = Collector::new();
    let msg = "no active session: call observe() first";
    assert_eq!(obs.get_labels().unwrap_err().to_string(), msg);
    assert_eq!(obs.add_label("a", "b").unwrap_err().to_string(), msg);
    assert_eq!(
        obs.set_labels([("a", "b")], true).unwrap_err().to_string(),
        msg
    );
    assert_eq!(obs.remove_label("a").unwrap_err().to_string(), msg);
    obs.observe(ObserveOptions::new()).unwrap();
    obs.end();
    assert!(matches!(obs.get_labels(), Err(Error::NoActiveSession)));
}

#[test]
fn a_bad_label_leaves_the_session_unchanged() {
    let obs = observed();
    let before = obs.get_labels().unwrap();
    assert!(obs.set_labels([("good", "1"), ("Bad", "2")], true).is_err());
    assert_eq!(obs.get_labels().unwrap(), before);
}

#[test]
fn system_labels_describe_this_build_and_host() {
    let labels = aiobs::labels::system_labels();
    assert_eq!(labels["aiobs_sdk_version"], env!("CARGO_PKG_VERSION"));
    assert!(labels["aiobs_rust_version"].starts_with("1."), "{labels:?}");
    assert_eq!(
        labels["aiobs_os"],
        if cfg!(target_os = "macos") {
            "darwin"
        } else {
            std::env::consts::OS
        }
    );
    assert!(!labels["aiobs_hostname"].is_empty());
}

#[test]
fn env_labels_are_lower_cased_filtered_and_cut() {
    let vars = [
        ("AIOBS_LABEL_ENVIRONMENT", "production".to_owned()),
        ("AIOBS_LABEL_Team_Name", "search".to_owned()),
        ("AIOBS_LABEL_BAD-KEY", "x".to_owned()),
        ("AIOBS_LABEL_", "empty key".to_owned()),
        ("AIOBS_LABEL_9X", "starts with a digit".to_owned()),
        ("AIOBS_LABEL_LONG", "y".repeat(300)),
        ("OTHER", "ignored".to_owned()),
    ];
    let labels = aiobs::labels::env_labels_from(vars.map(|(k, v)| (k.to_owned(), v)));
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert_eq!(labels["environment"], "production");
    assert_eq!(labels["team_name"], "search");
    assert_eq!(labels["long"].len(), 256);
}
