//! The always-on scrubbing of a request's query and an HTTP client's error text.

use crate::scrub::url::{scrub_query, scrub_text};

#[test]
fn secret_query_parameters_are_removed() {
    assert_eq!(
        scrub_query("alt=sse&key=AIzaSECRET").as_deref(),
        Some("alt=sse")
    );
    assert_eq!(scrub_query("key=AIzaSECRET"), None);
    assert_eq!(scrub_query("API_KEY=x&b=1").as_deref(), Some("b=1"));
    assert_eq!(scrub_query("alt=sse").as_deref(), Some("alt=sse"));
    assert_eq!(scrub_query("monkey=1").as_deref(), Some("monkey=1"));
}

#[test]
fn secrets_in_text_are_redacted() {
    let t =
        scrub_text("GET https://x/v1beta/models/m:generateContent?key=AIzaSECRET&alt=sse failed");
    assert!(!t.contains("AIzaSECRET"), "{t}");
    assert!(t.contains("alt=sse"));
    let t = scrub_text("header Authorization: Bearer sk-abc123 rejected");
    assert!(!t.contains("sk-abc123"), "{t}");
    assert_eq!(scrub_text("monkey=banana"), "monkey=banana");
    assert_eq!(scrub_text("page=2&model=m"), "page=2&model=m");
    for quoted in [
        "url (https://x.azure.com/a?subscription-key=SECRET1)",
        "x-api-key=SECRET1 sig=SECRET1, apikey=SECRET1",
        "Authorization: BEARER SECRET1",
    ] {
        let t = scrub_text(quoted);
        assert!(!t.contains("SECRET1"), "{t}");
    }
}

#[test]
fn text_that_is_not_ascii_is_scrubbed_without_panicking() {
    for text in [
        "接続が拒否されました",
        "€€€€ key=秘密 €",
        "é=x",
        "Bearer ",
        "=",
        "key=",
    ] {
        let t = scrub_text(text);
        assert!(!t.contains("秘密"), "{t}");
    }
    assert_eq!(scrub_text("接続が拒否されました"), "接続が拒否されました");
}

#[test]
fn query_parameter_names_have_a_rule_of_their_own() {
    use crate::scrub::names::{is_builtin_secret, is_secret_param};
    // Secret in a URL but not as a name: Gemini's `key`, Azure SAS's `sig`, any `…_key`.
    for name in ["key", "sig", "signature", "cache_key", "X-Primary-Key"] {
        assert!(is_secret_param(name.as_bytes()), "{name}");
        assert!(!is_builtin_secret(name.as_bytes()), "{name}");
    }
    // Secret as a name but kept in a URL: only the last part of a parameter counts.
    for name in ["auth", "session_id", "password_hash", "refreshToken"] {
        assert!(!is_secret_param(name.as_bytes()), "{name}");
        assert!(is_builtin_secret(name.as_bytes()), "{name}");
    }
}
