//! What is a secret: names (argument names, map keys, struct fields, header names, query
//! parameters) whose values must not be recorded, and secrets inside free text (API keys,
//! bearer tokens, `password=…`, private keys, URL passwords).
//!
//! This module only decides and replaces; the JSON writer calls it when a trace is flushed,
//! and the HTTP integrations call `url` before a request's query or a client's error is kept.
//! A secret is replaced by [`REDACTED`], which never contains any part of the value.
//!
//! ```
//! use aiobs::scrub::Scrubbing;
//!
//! let rules = Scrubbing::new();
//! assert!(rules.is_secret_name("OPENAI_API_KEY"));
//! assert!(!rules.is_secret_name("max_tokens"));
//! assert_eq!(
//!     rules.scrub_text(r#"Login { user: "bob", password: "hunter2" }"#, false),
//!     r#"Login { user: "bob", password: "[REDACTED]" }"#
//! );
//! ```

mod names;
mod text;
pub(crate) mod url;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

/// The marker that replaces a secret. It never contains any part of the value.
///
/// ```
/// use aiobs::scrub::{REDACTED, Scrubbing};
///
/// let text = Scrubbing::new().scrub_text("key: sk-proj-abcdefghijklmnop1234", false);
/// assert_eq!(text, format!("key: {REDACTED}"));
/// ```
pub const REDACTED: &str = "[REDACTED]";

/// Per-collector scrubbing rules: on with the built-in patterns by default, plus the secret
/// name patterns and safe names a user adds.
///
/// ```
/// use aiobs::scrub::Scrubbing;
///
/// let rules = Scrubbing::new().secret_name("customer pin").safe_name("session_id");
/// assert!(rules.is_secret_name("customerPin"));
/// assert!(!rules.is_secret_name("sessionId"));
/// assert!(rules.is_secret_name("session_key"));
/// ```
#[derive(Clone, Debug)]
pub struct Scrubbing {
    on: bool,
    /// User name patterns, as lowercase word sequences.
    secret_names: Vec<names::Pattern>,
    /// Names kept even when they match, normalised (lowercase ASCII alphanumerics only).
    safe_names: Vec<Box<str>>,
}

impl Default for Scrubbing {
    fn default() -> Self {
        Scrubbing {
            on: true,
            secret_names: Vec::new(),
            safe_names: Vec::new(),
        }
    }
}

impl Scrubbing {
    /// Scrubbing on, with the built-in patterns (the same as [`Scrubbing::default`]).
    ///
    /// ```
    /// assert!(aiobs::scrub::Scrubbing::new().is_on());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Scrubbing off: no name is secret and text is returned unchanged.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let rules = Scrubbing::off();
    /// assert!(!rules.is_secret_name("password"));
    /// assert_eq!(rules.scrub_text("password=hunter2", false), "password=hunter2");
    /// ```
    pub fn off() -> Self {
        Scrubbing {
            on: false,
            ..Self::default()
        }
    }

    /// Whether anything is scrubbed.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// assert!(Scrubbing::new().is_on());
    /// assert!(!Scrubbing::off().is_on());
    /// ```
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Adds a secret name pattern: a sequence of words, written in any style (`"customer pin"`,
    /// `"customerPin"`, `"customer_pin"`). A name containing these words next to each other is
    /// secret (`customer_pin`, `x-customer-pin-hash`, `CUSTOMER_PIN`, `customerpin`). A pattern
    /// without any ASCII letter or digit is ignored.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let rules = Scrubbing::new().secret_name("customer pin");
    /// assert!(rules.is_secret_name("CUSTOMER_PIN"));
    /// assert!(rules.is_secret_name("x-customer-pin-hash"));
    /// assert!(!rules.is_secret_name("pin"));
    /// assert_eq!(rules.scrub_text("customerPin: 1234", false), "customerPin: [REDACTED]");
    /// ```
    pub fn secret_name(mut self, pattern: &str) -> Self {
        if let Some(pattern) = names::Pattern::new(pattern) {
            self.secret_names.push(pattern);
        }
        self
    }

    /// Adds a name that is never secret, even when it matches a pattern. Names are compared
    /// ignoring case and everything but ASCII letters and digits: `"sessionId"`,
    /// `"SESSION-ID"` and `"session_id"` are the same name.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let rules = Scrubbing::new().safe_name("session_id");
    /// assert!(!rules.is_secret_name("SESSION-ID"));
    /// assert_eq!(rules.scrub_text("sessionId=42", false), "sessionId=42");
    /// ```
    pub fn safe_name(mut self, name: &str) -> Self {
        self.safe_names
            .push(names::normalise(name).into_boxed_str());
        self
    }

    /// Whether values under this name are secret: an argument name, a map key, a struct
    /// field, a label key, an HTTP header name or a query parameter.
    ///
    /// The name is split into words at `-`, `_`, `.`, spaces and case changes (`XApiKey` is
    /// x, api, key). It is secret when a word is a secret word (`password`, `secret`, `auth`,
    /// `cookie`, `apikey`, …), when it contains a secret word pair (`api key`, `private key`,
    /// `session id`, `credit card`, …) or a user pattern, or when its last word is `token`.
    /// Safe names win. Allocation-free.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let rules = Scrubbing::new();
    /// for secret in ["password", "XApiKey", "refreshToken", "X-Auth-Token", "set-cookie"] {
    ///     assert!(rules.is_secret_name(secret), "{secret}");
    /// }
    /// for kept in ["max_tokens", "author", "cache_key", "tokenizer", "primary_key"] {
    ///     assert!(!rules.is_secret_name(kept), "{kept}");
    /// }
    /// ```
    pub fn is_secret_name(&self, name: &str) -> bool {
        self.is_secret_name_bytes(name.as_bytes())
    }

    /// Whether `name` was marked safe with [`Scrubbing::safe_name`].
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// assert!(Scrubbing::new().safe_name("session_id").is_safe_name("sessionId"));
    /// ```
    pub fn is_safe_name(&self, name: &str) -> bool {
        self.safe_names
            .iter()
            .any(|safe| names::normalised_eq(name.as_bytes(), safe.as_bytes()))
    }

    /// [`Scrubbing::is_secret_name`] on bytes (text scanning finds names as byte ranges).
    fn is_secret_name_bytes(&self, name: &[u8]) -> bool {
        self.on
            && !self
                .safe_names
                .iter()
                .any(|safe| names::normalised_eq(name, safe.as_bytes()))
            && (names::is_builtin_secret(name)
                || self.secret_names.iter().any(|p| p.occurs_in(name)))
    }

    /// `text` with the secrets found in it replaced by [`REDACTED`]; borrowed when nothing
    /// was found.
    ///
    /// Found: `Bearer`/`Basic` credentials, provider keys (`sk-…`, `sk_live_…`, `AKIA…`,
    /// `AIza…`, `ghp_…`, `github_pat_…`, `xoxb-…`), JWTs, PEM private keys, the password of a
    /// URL (`https://user:[REDACTED]@host`), and the value after a secret name in
    /// `name=value`, `name: value`, `name = value` and `"name": "value"` (quotes are kept:
    /// `password: "[REDACTED]"`).
    ///
    /// `cut` says the text was truncated by a length limit: a secret that the cut ends
    /// (`… Bearer ab`, `… sk-pro`, `… AKIA12`) is then redacted however short it is.
    ///
    /// ```
    /// use aiobs::scrub::Scrubbing;
    ///
    /// let rules = Scrubbing::new();
    /// assert_eq!(
    ///     rules.scrub_text("curl -H 'Authorization: Bearer abc.def-123' https://bob:pw@x.io/", false),
    ///     "curl -H 'Authorization: [REDACTED]' https://bob:[REDACTED]@x.io/"
    /// );
    /// assert_eq!(rules.scrub_text("max_tokens: 100", false), "max_tokens: 100");
    /// assert_eq!(rules.scrub_text("my key is sk-pro", true), "my key is [REDACTED]");
    /// assert!(matches!(rules.scrub_text("hello", false), std::borrow::Cow::Borrowed(_)));
    /// ```
    pub fn scrub_text<'a>(&self, text: &'a str, cut: bool) -> Cow<'a, str> {
        if !self.on {
            return Cow::Borrowed(text);
        }
        text::scrub(self, text, cut)
    }
}
