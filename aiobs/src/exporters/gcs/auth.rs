//! Service-account credentials: the key file, the signed JWT (RS256, with jsonwebtoken) and its
//! exchange for an OAuth access token. Neither the private key nor a token ever reaches an
//! error message or a `Debug` output.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::GcsError;
use super::http::{self, percent_encode};

/// The scope asked for: read and write objects.
pub(crate) const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";

/// Google's token endpoint, when a key file names none.
pub(crate) const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// How long a signed assertion is valid (the most Google accepts).
const ASSERTION_LIFETIME: u64 = 3600;

/// A token is renewed this long before it expires.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A service-account key, parsed.
pub(crate) struct ServiceAccount {
    pub(crate) client_email: String,
    pub(crate) token_uri: String,
    key_id: Option<String>,
    key: EncodingKey,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Reads and parses a service-account key file.
    pub(crate) fn from_file(path: &Path) -> Result<ServiceAccount, GcsError> {
        let bad = |reason: String| GcsError::Credentials {
            path: path.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        ServiceAccount::from_json(&text).map_err(bad)
    }

    /// Parses a service-account key (the JSON of a key file). The error never quotes the key.
    pub(crate) fn from_json(text: &str) -> Result<ServiceAccount, String> {
        // serde_json's messages give a line and column, never the text.
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
        let field = |name: &str| value.get(name).and_then(Value::as_str);
        match field("type") {
            Some("service_account") | None => {}
            Some(other) => {
                return Err(format!(
                    "it holds `{other}` credentials; only service-account keys \
                     (\"type\": \"service_account\") are supported"
                ));
            }
        }
        let client_email = field("client_email")
            .filter(|s| !s.is_empty())
            .ok_or("it has no `client_email`")?
            .to_owned();
        let pem = field("private_key").ok_or("it has no `private_key`")?;
        let key = parse_private_key(pem)?;
        Ok(ServiceAccount {
            client_email,
            token_uri: field("token_uri")
                .filter(|s| !s.is_empty())
                .unwrap_or(DEFAULT_TOKEN_URI)
                .to_owned(),
            key_id: field("private_key_id")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            key,
        })
    }

    /// The signed JWT asking for [`SCOPE`], issued at `iat` (Unix seconds).
    pub(crate) fn assertion(&self, iat: u64) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.key_id);
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|_| "the key could not sign the token request".to_owned())
    }

    /// Exchanges a fresh assertion for an access token at `token_uri`.
    pub(crate) fn fetch_token(&self, timeout: Duration) -> Result<Token, GcsError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let assertion = self.assertion(iat).map_err(|reason| GcsError::Token {
            url: self.token_uri.clone(),
            status: None,
            message: reason,
        })?;
        let form = format!(
            "grant_type={}&assertion={}",
            percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
            percent_encode(&assertion)
        );
        let asked_at = Instant::now();
        let url = self.token_uri.as_str();
        let answer = http::exchange(url, timeout, |agent| {
            agent
                .post(url)
                .content_type("application/x-www-form-urlencoded")
                .send(form.as_bytes())
        })?;
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if !(200..300).contains(&answer.status) {
            return Err(GcsError::Token {
                url: url.to_owned(),
                status: Some(answer.status),
                message: oauth_message(&body, &answer.body),
            });
        }
        let access_token = body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GcsError::Token {
                url: url.to_owned(),
                status: Some(answer.status),
                message: "the answer has no `access_token`".to_owned(),
            })?;
        let lifetime = body["expires_in"].as_u64().unwrap_or(ASSERTION_LIFETIME);
        Ok(Token {
            value: access_token.to_owned(),
            expires_at: asked_at + Duration::from_secs(lifetime),
        })
    }
}

/// An OAuth error's words (`error`, `error_description`); never a token.
fn oauth_message(body: &Value, raw: &[u8]) -> String {
    match (body["error"].as_str(), body["error_description"].as_str()) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.to_owned(),
        _ => http::short_text(raw),
    }
}

/// PEM (`PRIVATE KEY`, PKCS#8; or `RSA PRIVATE KEY`, PKCS#1) to an RSA signing key.
pub(crate) fn parse_private_key(text: &str) -> Result<EncodingKey, String> {
    let block = pem::parse(text).map_err(|e| match e {
        pem::PemError::InvalidData(_) => "its `private_key` is not valid PEM (bad base64)",
        _ => "its `private_key` is not PEM",
    })?;
    match block.tag() {
        "PRIVATE KEY" | "RSA PRIVATE KEY" => {}
        other => {
            return Err(format!(
                "its `private_key` is a PEM `{other}`, not an RSA key"
            ));
        }
    }
    let unusable = |e: jsonwebtoken::errors::Error| {
        let reason = match e.kind() {
            ErrorKind::InvalidRsaKey(reason) => reason.clone(),
            _ => e.to_string(),
        };
        format!("its `private_key` is not a usable RSA key ({reason})")
    };
    let key = EncodingKey::from_rsa_pem(text.as_bytes()).map_err(unusable)?;
    // jsonwebtoken reads the RSA key itself only when it signs: one signature now names an
    // unusable key when the file is read, not at the first export.
    jsonwebtoken::crypto::sign(b"", &key, Algorithm::RS256).map_err(unusable)?;
    Ok(key)
}

/// An OAuth access token and when it expires. `Debug` hides it.
pub(crate) struct Token {
    value: String,
    expires_at: Instant,
}

impl Token {
    /// Whether it can still be used (it is renewed [`REFRESH_MARGIN`] before it expires).
    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() + REFRESH_MARGIN < self.expires_at
    }

    /// The `Authorization` header's value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    const KEY: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gcs_test_only_service_account_key.pem"
    ));
    const PUBLIC: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gcs_test_only_service_account_pub_pkcs1.der"
    ));

    fn key_json() -> String {
        json!({
            "type": "service_account",
            "client_email": "tester@example.iam.gserviceaccount.com",
            "private_key_id": "kid-1",
            "private_key": KEY,
            "token_uri": "http://127.0.0.1:9/token",
        })
        .to_string()
    }

    fn part(jwt: &str, i: usize) -> Value {
        let text = jwt.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_is_a_jwt_signed_with_the_key() {
        let account = ServiceAccount::from_json(&key_json()).unwrap();
        let jwt = account.assertion(1_700_000_000).unwrap();
        assert_eq!(jwt.split('.').count(), 3);
        assert_eq!(
            part(&jwt, 0),
            json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        assert_eq!(
            part(&jwt, 1),
            json!({
                "iss": "tester@example.iam.gserviceaccount.com",
                "scope": SCOPE,
                "aud": "http://127.0.0.1:9/token",
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64,
            })
        );
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, PUBLIC);
        public
            .verify(input.as_bytes(), &sig)
            .expect("valid signature");
        // A changed claim no longer verifies.
        let tampered = input.replace('.', ".x");
        assert!(public.verify(tampered.as_bytes(), &sig).is_err());
    }

    #[test]
    fn key_errors_never_quote_the_key() {
        let mut value: Value = serde_json::from_str(&key_json()).unwrap();
        let secret_line = KEY.lines().nth(3).unwrap().to_owned();
        value["private_key"] = Value::String(KEY.replace(&secret_line, "!!!!"));
        let err = ServiceAccount::from_json(&value.to_string()).unwrap_err();
        assert!(err.contains("private_key"), "{err}");
        assert!(!err.contains(&KEY.lines().nth(2).unwrap()[..20]), "{err}");

        value["private_key"] = Value::String("not a pem".into());
        let err = ServiceAccount::from_json(&value.to_string()).unwrap_err();
        assert_eq!(err, "its `private_key` is not PEM");

        value["type"] = Value::String("authorized_user".into());
        let err = ServiceAccount::from_json(&value.to_string()).unwrap_err();
        assert!(err.contains("authorized_user"), "{err}");

        let err = ServiceAccount::from_json("{\"private_key\": \"x").unwrap_err();
        assert!(err.starts_with("it is not JSON"), "{err}");
    }

    #[test]
    fn debug_hides_the_key_and_the_token() {
        let account = ServiceAccount::from_json(&key_json()).unwrap();
        let shown = format!("{account:?}");
        assert!(!shown.contains("PRIVATE"), "{shown}");
        let token = Token {
            value: "ya29.secret".into(),
            expires_at: Instant::now() + Duration::from_secs(3600),
        };
        assert!(!format!("{token:?}").contains("secret"));
        assert!(token.is_fresh());
        let stale = Token {
            value: "x".into(),
            expires_at: Instant::now() + Duration::from_secs(30),
        };
        assert!(!stale.is_fresh());
    }
}
