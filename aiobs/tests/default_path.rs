//! Where `flush` writes when no path is given. One test in its own binary: it changes the
//! working directory and `LLM_OBS_OUT`.

use aiobs::{Collector, FlushOptions, ObserveOptions};

#[test]
fn flush_without_a_path_follows_llm_obs_out_then_the_session_id() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();

    let obs = Collector::new();
    let path = obs.flush(FlushOptions::new()).unwrap();
    assert_eq!(
        path,
        std::path::Path::new("llm_observability.json"),
        "no session at all"
    );
    assert!(dir.path().join("llm_observability.json").is_file());

    let sid = obs.observe(ObserveOptions::new()).unwrap();
    let path = obs.flush(FlushOptions::new()).unwrap();
    assert_eq!(
        path.to_str(),
        Some(format!("{sid}.json").as_str()),
        "the active session"
    );

    // The flush kept `sid` (it was active); once ended, it is still the first stored session.
    obs.end();
    obs.observe(ObserveOptions::new()).unwrap();
    obs.end();
    let path = obs.flush(FlushOptions::new()).unwrap();
    assert_eq!(
        path.to_str(),
        Some(format!("{sid}.json").as_str()),
        "the first stored session"
    );

    // SAFETY: the only test in this binary.
    unsafe { std::env::set_var("LLM_OBS_OUT", "nested/dir/out.json") };
    obs.observe(ObserveOptions::new()).unwrap();
    let path = obs.flush(FlushOptions::new()).unwrap();
    assert_eq!(path, std::path::Path::new("nested/dir/out.json"));
    assert!(
        dir.path().join("nested/dir/out.json").is_file(),
        "parent directories are made"
    );

    let explicit = obs.flush(FlushOptions::to_path("explicit.json")).unwrap();
    assert_eq!(
        explicit,
        std::path::Path::new("explicit.json"),
        "an explicit path wins"
    );
}
