//! `AIOBS_API_KEY` and the server addresses from the environment (a test binary of its own:
//! the environment is the process's).

use aiobs::{Collector, FlushOptions, ObserveOptions, Remote};
use mock_llm::MockServer;

#[aiobs::observe]
fn work() -> u8 {
    1
}

#[test]
fn the_environment_gives_the_key_and_the_servers_and_the_option_wins() {
    let server = MockServer::start().unwrap();
    server.set_api_key("aiobs_sk_from_env");
    // SAFETY: this test binary has no other test, and nothing else reads the environment.
    unsafe {
        std::env::set_var("AIOBS_API_KEY", "aiobs_sk_from_env");
        std::env::set_var("AIOBS_USAGE_SERVER_URL", server.url());
        std::env::set_var("AIOBS_FLUSH_SERVER_URL", format!("{}/", server.url()));
    }
    assert_eq!(Remote::new().usage_server_url(), server.url());
    assert_eq!(
        Remote::new().flush_server_url(),
        server.url(),
        "no trailing slash"
    );

    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new())
        .expect("the key from the environment");
    assert!(obs.has_api_key());
    work();
    let dir = tempfile::tempdir().unwrap();
    obs.flush(FlushOptions::to_path(dir.path().join("t.json")))
        .unwrap();
    assert_eq!(server.traces().len(), 1);
    for r in server.requests() {
        assert_eq!(r.header("authorization"), Some("Bearer aiobs_sk_from_env"));
    }

    // The option wins over the environment: here a key the server refuses.
    let e = Collector::new()
        .observe(ObserveOptions::new().api_key("aiobs_sk_option"))
        .unwrap_err();
    assert!(matches!(e, aiobs::Error::InvalidApiKey), "{e:?}");
    let last = server.requests().pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer aiobs_sk_option"));
}
