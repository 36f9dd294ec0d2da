use super::Scrubbing;

#[track_caller]
fn secret(names: &[&str]) {
    let rules = Scrubbing::new();
    for name in names {
        assert!(rules.is_secret_name(name), "{name} should be secret");
    }
}

#[track_caller]
fn kept(names: &[&str]) {
    let rules = Scrubbing::new();
    for name in names {
        assert!(!rules.is_secret_name(name), "{name} should not be secret");
    }
}

#[test]
fn password_words_are_secret() {
    secret(&[
        "password",
        "Password",
        "PASSWORD",
        "user_password",
        "passwordHash",
        "db.password",
        "passwd",
        "PWD",
        "passphrase",
        "passcode",
        "new-passwords",
    ]);
}

#[test]
fn secret_and_credential_words_are_secret() {
    secret(&[
        "secret",
        "client_secret",
        "clientSecret",
        "secrets",
        "AWS_SECRET_ACCESS_KEY",
        "credential",
        "credentials",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "creds",
        "clientsecret",
    ]);
}

#[test]
fn cookie_and_auth_words_are_secret() {
    secret(&[
        "cookie",
        "Cookie",
        "cookies",
        "set-cookie",
        "Set-Cookie",
        "setCookie",
        "jwt",
        "auth",
        "Authorization",
        "proxy-authorization",
        "bearer",
        "x-auth",
        "basicAuth",
    ]);
}

#[test]
fn joined_key_words_are_secret() {
    secret(&[
        "apikey",
        "APIKEY",
        "privatekey",
        "secretkey",
        "accesskey",
        "sessionid",
        "sessid",
    ]);
}

#[test]
fn personal_data_words_are_secret() {
    secret(&[
        "ssn",
        "user_ssn",
        "cvv",
        "CVC",
        "credit_card",
        "creditCard",
        "CREDIT-CARD-NUMBER",
        "card_number",
        "cardNumber",
        "cc_number",
        "social_security",
        "socialSecurityNumber",
    ]);
}

#[test]
fn csrf_and_xsrf_are_secret() {
    secret(&[
        "csrf",
        "csrf_token",
        "X-CSRF-Token",
        "xsrf",
        "XSRF-TOKEN",
        "_csrf",
    ]);
}

#[test]
fn key_pairs_are_secret_in_every_spelling() {
    secret(&[
        "api_key",
        "apiKey",
        "APIKey",
        "ApiKey",
        "API_KEY",
        "api-key",
        "api.key",
        "api key",
        "x-api-key",
        "XApiKey",
        "X-API-KEY",
        "OPENAI_API_KEY",
        "anthropicApiKey",
        "private_key",
        "privateKey",
        "PRIVATE_KEY_PEM",
        "secret_key",
        "secretKey",
        "access_key",
        "AWS_ACCESS_KEY_ID",
        "signing_key",
        "signingKey",
        "encryption_key",
        "Ocp-Apim-Subscription-Key",
    ]);
}

#[test]
fn session_pairs_are_secret() {
    secret(&[
        "session_id",
        "sessionId",
        "SESSION-ID",
        "session_key",
        "sessionToken",
        "sessid",
    ]);
}

#[test]
fn token_as_last_word_is_secret() {
    secret(&[
        "token",
        "Token",
        "TOKEN",
        "access_token",
        "accessToken",
        "refreshToken",
        "auth_token",
        "id_token",
        "X-Auth-Token",
        "bearer_token",
        "GITHUB_TOKEN",
        "oauth2Token",
        "accesstoken",
        "refreshtoken",
    ]);
}

#[test]
fn llm_token_counts_are_not_secret() {
    kept(&[
        "tokens",
        "max_tokens",
        "maxTokens",
        "MAX_TOKENS",
        "input_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "token_count",
        "tokenCount",
        "tokenizer",
        "num_tokens",
        "max_output_tokens",
        "token_usage",
    ]);
}

#[test]
fn words_that_only_contain_a_secret_word_are_not_secret() {
    kept(&[
        "author",
        "authors",
        "authorName",
        "passage",
        "secretary",
        "keyboard",
        "cookbook",
        "session_name",
        "sessions",
        "PHPSESSIONS",
    ]);
}

#[test]
fn key_alone_and_database_keys_are_not_secret() {
    kept(&[
        "key",
        "keys",
        "cache_key",
        "cacheKey",
        "primary_key",
        "foreign_key",
        "sort_key",
        "monkey",
    ]);
}

#[test]
fn ordinary_names_are_not_secret() {
    kept(&[
        "model",
        "name",
        "id",
        "user",
        "content",
        "role",
        "messages",
        "temperature",
        "",
        "_",
        "--",
        "é",
        "日本語",
    ]);
}

#[test]
fn safe_names_win_whatever_their_spelling() {
    let rules = Scrubbing::new()
        .safe_name("session_id")
        .safe_name("X-CSRF-Token");
    for name in [
        "session_id",
        "sessionId",
        "SESSION-ID",
        "session.id",
        "xCsrfToken",
    ] {
        assert!(!rules.is_secret_name(name), "{name}");
    }
    assert!(rules.is_secret_name("session_key"));
    assert!(rules.is_secret_name("user_session_id"));
}

#[test]
fn user_patterns_match_adjacent_words_in_any_spelling() {
    let rules = Scrubbing::new().secret_name("customerPin");
    for name in [
        "customer_pin",
        "customerPin",
        "CUSTOMER-PIN",
        "x.customer.pin.hash",
        "customerpin",
    ] {
        assert!(rules.is_secret_name(name), "{name}");
    }
    for name in [
        "customer",
        "pin",
        "pin_customer",
        "customer_x_pin",
        "customers_pin",
    ] {
        assert!(!rules.is_secret_name(name), "{name}");
    }
}

#[test]
fn user_patterns_of_one_word_match_that_word_only() {
    let rules = Scrubbing::new().secret_name("pin");
    assert!(rules.is_secret_name("PIN"));
    assert!(rules.is_secret_name("card_pin"));
    assert!(!rules.is_secret_name("spinner"));
    assert!(!rules.is_secret_name("pins"));
}

#[test]
fn user_patterns_without_words_are_ignored() {
    let rules = Scrubbing::new().secret_name("").secret_name(" -_ ");
    assert!(!rules.is_secret_name("anything"));
    assert!(!rules.is_secret_name(""));
}

#[test]
fn nothing_is_secret_when_scrubbing_is_off() {
    let rules = Scrubbing::off().secret_name("pin");
    assert!(!rules.is_secret_name("password"));
    assert!(!rules.is_secret_name("pin"));
}

#[test]
fn case_changes_split_words() {
    use crate::scrub::names::Words;
    let words = |name: &str| -> Vec<String> {
        Words::new(name.as_bytes())
            .map(|w| String::from_utf8_lossy(w).to_ascii_lowercase())
            .collect()
    };
    assert_eq!(words("apiKey"), ["api", "key"]);
    assert_eq!(words("APIKey"), ["api", "key"]);
    assert_eq!(words("XApiKey"), ["x", "api", "key"]);
    assert_eq!(words("OPENAI_API_KEY"), ["openai", "api", "key"]);
    assert_eq!(words("sha256sum"), ["sha256sum"]);
    assert_eq!(words("oauth2Token"), ["oauth2", "token"]);
    assert_eq!(words("a.b-c d__e"), ["a", "b", "c", "d", "e"]);
    assert_eq!(words("é_x"), ["x"]);
}

#[test]
fn long_names_are_checked_too() {
    let long = format!("{}_api_key", "very_long_prefix_".repeat(20));
    assert!(Scrubbing::new().is_secret_name(&long));
    let long = format!("{}_tokens", "x".repeat(500));
    assert!(!Scrubbing::new().is_secret_name(&long));
}
