use super::{Scrubbing, assert_kept, scrub, scrub_cut};

// Bearer and Basic credentials.

#[test]
fn bearer_tokens_are_redacted_with_their_scheme() {
    assert_eq!(scrub("sent Bearer abc.defgh-1 ok"), "sent [REDACTED] ok");
    assert_eq!(scrub("BEARER   eyJ0eXAiOi.xyz+/="), "[REDACTED]");
    assert_eq!(scrub("(bearer sk-proj-1234567)"), "([REDACTED])");
}

#[test]
fn basic_credentials_are_redacted() {
    assert_eq!(scrub("Basic dXNlcjpwYXNzd29yZA=="), "[REDACTED]");
    assert_eq!(
        scrub("auth was basic YWxhZGRpbjpvcGVuc2VzYW1l, ok"),
        "auth was [REDACTED], ok"
    );
}

#[test]
fn bearer_and_basic_in_prose_are_kept() {
    assert_kept("Basic information about the bearer instrument");
    assert_kept("the bearer of bad news");
    assert_kept("Bearer short1");
    assert_kept("rebearer abcdefgh1");
}

// Provider keys.

#[test]
fn openai_and_anthropic_keys_are_redacted() {
    assert_eq!(
        scrub("key sk-abcdefghijklmnop1234 end"),
        "key [REDACTED] end"
    );
    assert_eq!(scrub("sk-proj-Ab_cd-EF0123456789xyz"), "[REDACTED]");
    assert_eq!(
        scrub("\"sk-ant-api03-abcdefghijklmnopqrstu\""),
        "\"[REDACTED]\""
    );
}

#[test]
fn sk_dash_inside_words_or_short_is_kept() {
    assert_kept("task-1234567890abcdefghijkl");
    assert_kept("sketch-abcdefghijklmnopqrstu");
    assert_kept("desk-abcdefghijklmnopqrstuvw");
    assert_kept("sk-short");
    assert_kept("risk-free sk-learn");
}

#[test]
fn stripe_keys_are_redacted() {
    assert_eq!(scrub("sk_live_abcdefghij12"), "[REDACTED]");
    assert_eq!(scrub("use sk_test_0123456789 now"), "use [REDACTED] now");
    assert_eq!(scrub("rk_live_ABCDEFGHIJK"), "[REDACTED]");
    assert_kept("sk_live_short");
    assert_kept("disk_live_abcdefghijkl");
}

#[test]
fn aws_access_key_ids_are_redacted() {
    assert_eq!(scrub("id AKIAIOSFODNN7EXAMPLE."), "id [REDACTED].");
    assert_eq!(scrub("ASIA0123456789ABCDEF"), "[REDACTED]");
    assert_kept("AKIAIOSFODNN7EXAMPLEX");
    assert_kept("XAKIAIOSFODNN7EXAMPLE");
    assert_kept("AKIA123");
    assert_kept("A Kia is a car");
}

#[test]
fn github_tokens_are_redacted() {
    assert_eq!(
        scrub("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        "[REDACTED]"
    );
    for prefix in ["gho", "ghu", "ghs", "ghr"] {
        assert_eq!(
            scrub(&format!("t={prefix}_ABCDEFGHIJ0123456789")),
            "t=[REDACTED]"
        );
    }
    assert_eq!(
        scrub("github_pat_11ABCDEFG_0123456789abcdef x"),
        "[REDACTED] x"
    );
    assert_kept("ghp_short");
    assert_kept("github_path_abcdefghijklmnopqrstuvw");
}

#[test]
fn slack_tokens_are_redacted() {
    for prefix in ["xoxb", "xoxp", "xoxa", "xoxr", "xoxs"] {
        assert_eq!(
            scrub(&format!("{prefix}-123456789012-abcdef")),
            "[REDACTED]"
        );
    }
    assert_kept("xoxb-1");
}

#[test]
fn google_api_keys_are_redacted() {
    let key = format!("AIza{}", "SyA-1234567890abcdefghijklmnopqrst_");
    assert_eq!(scrub(&format!("?q={key}&alt=sse")), "?q=[REDACTED]&alt=sse");
    assert_kept("AIzaShort");
}

#[test]
fn jwts_are_redacted() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(scrub(&format!("id_jwt {jwt} x")), "id_jwt [REDACTED] x");
    assert_eq!(scrub("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), "[REDACTED]");
}

#[test]
fn jwt_lookalikes_are_kept() {
    assert_kept("eyJhbGciOiJIUzI1NiJ9 alone");
    assert_kept("eyJhbGciOiJIUzI1NiJ9.short.x");
    assert_kept("keyJ value");
}

#[test]
fn pem_private_keys_are_redacted_through_their_end_line() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----";
    assert_eq!(
        scrub(&format!("key:\n{pem}\nnext")),
        "key:\n[REDACTED]\nnext"
    );
    let pem = "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----";
    assert_eq!(scrub(&format!("\"{pem}\"")), "\"[REDACTED]\"");
}

#[test]
fn pem_private_keys_without_end_are_redacted_to_the_end() {
    assert_eq!(
        scrub("a -----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"),
        "a [REDACTED]"
    );
}

#[test]
fn pem_certificates_are_kept() {
    assert_kept("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    assert_kept("----- dashes -----");
}

#[test]
fn url_passwords_are_redacted() {
    assert_eq!(
        scrub("https://bob:hunter2@host/x"),
        "https://bob:[REDACTED]@host/x"
    );
    assert_eq!(
        scrub("postgres://u:p@ss:w@db:5432/app?x=1"),
        "postgres://u:[REDACTED]@db:5432/app?x=1"
    );
}

#[test]
fn urls_without_password_are_kept() {
    assert_kept("https://bob@host/x");
    assert_kept("see https://example.com:8080/a?b=c#d, then");
    assert_kept("https://secret.example.com:443/");
    assert_kept("ftp://");
}

// Secret names with values.

#[test]
fn query_and_form_values_are_redacted() {
    assert_eq!(
        scrub("GET /v1?api_key=abc123&page=2 failed"),
        "GET /v1?api_key=[REDACTED]&page=2 failed"
    );
    assert_eq!(
        scrub("user=bob&password=hunter2"),
        "user=bob&password=[REDACTED]"
    );
    assert_eq!(
        scrub("x-api-key=SECRET1 sig=1"),
        "x-api-key=[REDACTED] sig=1"
    );
}

#[test]
fn env_style_values_are_redacted() {
    assert_eq!(
        scrub("OPENAI_API_KEY=abcd\nHOME=/root"),
        "OPENAI_API_KEY=[REDACTED]\nHOME=/root"
    );
    assert_eq!(
        scrub("export GITHUB_TOKEN = 'xyz'"),
        "export GITHUB_TOKEN = '[REDACTED]'"
    );
    assert_eq!(scrub("--password=hunter2 -v"), "--password=[REDACTED] -v");
    assert_eq!(scrub("token := \"abc\""), "token := \"[REDACTED]\"");
}

#[test]
fn debug_struct_fields_are_redacted() {
    assert_eq!(
        scrub(r#"Login { user: "bob", password: "hunter2" }"#),
        r#"Login { user: "bob", password: "[REDACTED]" }"#
    );
    assert_eq!(
        scrub(r#"Config { api_key: Some("k-1"), retries: 3 }"#),
        r#"Config { api_key: Some("[REDACTED]"), retries: 3 }"#
    );
    assert_eq!(
        scrub("Config { api_key: None }"),
        "Config { api_key: [REDACTED] }"
    );
    assert_eq!(
        scrub(r#"App { credentials: Creds { user: "a", pass: "b" }, n: 1 }"#),
        "App { credentials: [REDACTED], n: 1 }"
    );
}

#[test]
fn json_values_are_redacted_keeping_quotes() {
    assert_eq!(
        scrub(r#"{"model":"gpt-4o","api_key":"abc","n":1}"#),
        r#"{"model":"gpt-4o","api_key":"[REDACTED]","n":1}"#
    );
    assert_eq!(
        scrub(r#"{"password" : 1234}"#),
        r#"{"password" : [REDACTED]}"#
    );
    assert_eq!(scrub(r#"{'secret': 'x'}"#), r#"{'secret': '[REDACTED]'}"#);
    assert_eq!(
        scrub(r#"{"secrets": ["a", "b"], "x": 1}"#),
        r#"{"secrets": [REDACTED], "x": 1}"#
    );
}

#[test]
fn escaped_quotes_do_not_end_a_value() {
    assert_eq!(
        scrub(r#"{"password": "a\"b c\"d", "user": "bob"}"#),
        r#"{"password": "[REDACTED]", "user": "bob"}"#
    );
}

#[test]
fn json_escaped_inside_text_is_redacted() {
    assert_eq!(
        scrub(r#"body: {\"password\": \"hunter2\", \"n\": 1}"#),
        r#"body: {\"password\": \"[REDACTED]\", \"n\": 1}"#
    );
}

#[test]
fn headers_are_redacted_with_their_scheme() {
    assert_eq!(
        scrub("Authorization: Bearer x\nAccept: */*"),
        "Authorization: [REDACTED]\nAccept: */*"
    );
    assert_eq!(scrub("x-api-key: abc"), "x-api-key: [REDACTED]");
    assert_eq!(scrub("Cookie: a=1; b=2"), "Cookie: [REDACTED]; b=2");
}

#[test]
fn yaml_values_are_redacted() {
    assert_eq!(
        scrub("db:\n  user: app\n  password: s3cr3t\n  port: 5432"),
        "db:\n  user: app\n  password: [REDACTED]\n  port: 5432"
    );
}

#[test]
fn numbers_after_user_names_are_redacted() {
    let rules = Scrubbing::new().secret_name("pin");
    assert_eq!(
        rules.scrub_text("pin: 1234, n: 5", false),
        "pin: [REDACTED], n: 5"
    );
    assert_eq!(
        rules.scrub_text("{\"pin\":1234}", false),
        "{\"pin\":[REDACTED]}"
    );
}

#[test]
fn safe_names_keep_their_values_in_text() {
    let rules = Scrubbing::new().safe_name("session_id");
    assert_eq!(
        rules.scrub_text("session_id=42 token=x", false),
        "session_id=42 token=[REDACTED]"
    );
}

#[test]
fn empty_values_are_kept() {
    assert_kept("password=");
    assert_kept("password: ");
    assert_kept("password:\n  nested: 1");
    assert_kept("password=&x=1");
}

#[test]
fn comparisons_and_paths_are_not_assignments() {
    assert_kept("if password == other");
    assert_kept("token => 1");
    assert_kept("secret::module");
}

#[test]
fn llm_vocabulary_is_kept() {
    for text in [
        "max_tokens: 100",
        r#"{"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}"#,
        "tokens=5",
        "the tokenizer splits text into tokens",
        "usage: {input_tokens: 3, output_tokens: 9}",
        "role: user, content: hello, model: gpt-4o-mini",
    ] {
        assert_kept(text);
    }
}

#[test]
fn ids_hashes_and_prose_are_kept() {
    for text in [
        "task-1234 is done",
        "550e8400-e29b-41d4-a716-446655440000",
        "commit 77c1bf8a4f0b3e2d1c9a8b7f6e5d4c3b2a190817",
        "SGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IGVuY29kZWQ=",
        "A quick brown fox: jumps over the lazy dog. Basically, it's fine.",
        "The key to success is a good keyboard.",
        "接続が拒否されました: ネットワーク",
        "",
    ] {
        assert_kept(text);
    }
}

#[test]
fn several_secrets_in_one_text_are_all_redacted() {
    assert_eq!(
        scrub("a sk-abcdefghijklmnop1234 b password=x c https://u:p@h d"),
        "a [REDACTED] b password=[REDACTED] c https://u:[REDACTED]@h d"
    );
}

// Cut text.

#[test]
fn cut_text_ending_in_a_key_prefix_is_redacted() {
    assert_eq!(scrub_cut("key: sk-abc"), "key: [REDACTED]");
    assert_eq!(scrub_cut("x Bearer ab"), "x [REDACTED]");
    assert_eq!(scrub_cut("t eyJhbGc"), "t [REDACTED]");
    assert_eq!(scrub_cut("t eyJhbGciOiJIUzI1NiJ9.eyJz"), "t [REDACTED]");
    assert_eq!(scrub_cut("gh ghp_x"), "gh [REDACTED]");
    assert_eq!(scrub_cut("id AKIA12"), "id [REDACTED]");
    assert_eq!(scrub_cut("AIzaSy"), "[REDACTED]");
    assert_eq!(scrub_cut("s sk_live_12"), "s [REDACTED]");
    assert_eq!(scrub_cut("xoxb-1"), "[REDACTED]");
}

#[test]
fn cut_text_ending_in_a_value_or_key_block_is_redacted() {
    assert_eq!(
        scrub_cut(r#"{"password":"hun"#),
        r#"{"password":"[REDACTED]"#
    );
    assert_eq!(scrub_cut("password=\"hun"), "password=\"[REDACTED]");
    assert_eq!(scrub_cut("k -----BEGIN RSA PRIV"), "k [REDACTED]");
    assert_eq!(
        scrub_cut("k -----BEGIN RSA PRIVATE KEY-----\nMIIE"),
        "k [REDACTED]"
    );
    assert_eq!(scrub_cut("db https://bob:hun"), "db https://bob:[REDACTED]");
}

#[test]
fn the_same_endings_are_kept_when_not_cut() {
    for text in [
        "key: sk-abc",
        "x Bearer ab",
        "t eyJhbGc",
        "gh ghp_x",
        "id AKIA12",
        "db https://bob:hun",
    ] {
        assert_kept(text);
    }
}

#[test]
fn cut_text_ending_elsewhere_is_kept() {
    let rules = Scrubbing::new();
    for text in [
        "hello wor",
        "max_tokens: 10",
        "the sk",
        "ending with A",
        "ey",
    ] {
        assert_eq!(rules.scrub_text(text, true), text);
    }
}

// Switch, idempotence, allocation.

#[test]
fn text_is_unchanged_when_scrubbing_is_off() {
    let text = "password=x Bearer abcdefgh1 sk-abcdefghijklmnop1234";
    let out = Scrubbing::off().scrub_text(text, true);
    assert!(matches!(out, std::borrow::Cow::Borrowed(t) if t == text));
}

#[test]
fn scrubbing_twice_is_scrubbing_once() {
    for text in [
        "password: [x] Bearer abcdefgh1 https://u:p@h",
        r#"Config { api_key: Some("k"), token: Secret(abc) }"#,
        "Authorization: Basic dXNlcjpwYXNz",
        "secret={a} b",
    ] {
        let once = scrub(text);
        assert_ne!(once, text);
        assert_kept(&once);
    }
}

#[test]
fn text_without_secrets_is_borrowed() {
    assert_kept("world");
    assert_kept("hello there");
}

#[test]
fn non_ascii_next_to_triggers_never_panics() {
    for text in [
        "é=x",
        "password=é",
        "password=\"日本",
        "Bearer é",
        "sk-é",
        "é sk-abcdefghijklmnopé",
        "AKIA€",
        "eyJ€",
        "https://é:é@é",
        "€:",
        "=",
        ":",
        "-",
        "_",
        "password",
        "\\",
        "password=\\",
        "password: Some(",
        "password: {\"",
        "\"password\": \\",
        "x://",
        "-----BEGIN ",
    ] {
        let _ = scrub(text);
        let _ = scrub_cut(text);
    }
    assert_eq!(scrub("password=秘密 ok"), "password=[REDACTED] ok");
    assert_eq!(
        scrub("пароль é sk-abcdefghijklmnop1234é"),
        "пароль é [REDACTED]é"
    );
}

// Cases the property test found.

#[test]
fn a_redacted_value_used_as_a_name_is_secret() {
    assert_eq!(
        scrub(r#"api_key= "x": "Hx7Qp2Lm9Zr4""#),
        r#"api_key= "[REDACTED]": "[REDACTED]""#
    );
}

#[test]
fn scheme_words_after_a_secret_name_take_the_credentials_after_them() {
    assert_eq!(
        scrub("Bearer :Basic  Bearer Qm9vX3Jh rest"),
        "Bearer :[REDACTED] rest"
    );
}

#[test]
fn a_url_user_holding_a_secret_is_redacted_with_the_password() {
    assert_eq!(
        scrub("https://sk-abcdefghijklmnop1234:x@host/"),
        "https://[REDACTED]@host/"
    );
    assert_eq!(
        scrub_cut("https://sk-abcdefghijklmnop1234:-B"),
        "https://[REDACTED]"
    );
}

#[test]
fn a_host_and_port_are_skipped_but_not_what_follows() {
    assert_eq!(
        scrub("https://secret.example.com:443,password=x"),
        "https://secret.example.com:443,password=[REDACTED]"
    );
}
