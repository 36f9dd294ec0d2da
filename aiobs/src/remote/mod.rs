//! The aiobs servers: with an API key, `observe` validates it with the usage server, and
//! `flush` uploads the trace to the trace server and records usage, as the Python SDK does.
//! Without a key nothing is sent.
//!
//! The local trace comes first: `flush` writes the file (or runs the exporter) and only then
//! talks to the servers, so a server that is down, slow or failing costs an error value, never
//! the trace. The key is sent only in the `Authorization` header; it is never written to a file,
//! a log line, an error message or a `Debug` output.

#[cfg(feature = "remote")]
pub(crate) mod client;

use std::fmt;
use std::time::Duration;

/// The usage server of the Python SDK 0.1.5 (validates keys, counts traces).
pub const DEFAULT_USAGE_SERVER: &str = "https://shepherd-api-48963996968.us-central1.run.app";
/// The trace server of the Python SDK 0.1.5 (stores uploaded traces).
pub const DEFAULT_FLUSH_SERVER: &str = "https://aiobs-flush-server-48963996968.us-central1.run.app";

/// Where and how a collector talks to the aiobs servers; see [`Collector::set_remote`].
///
/// Each address is, in order: the one set here, else its environment variable
/// (`AIOBS_USAGE_SERVER_URL`, `AIOBS_FLUSH_SERVER_URL`, read when used), else the Python SDK's.
/// Timeouts are the Python SDK's: 10 s for the usage server, 30 s for uploads.
///
/// [`Collector::set_remote`]: crate::Collector::set_remote
///
/// ```
/// use std::time::Duration;
///
/// let remote = aiobs::Remote::new()
///     .usage_server("http://127.0.0.1:8081")
///     .flush_server("http://127.0.0.1:8082")
///     .usage_timeout(Duration::from_secs(2));
/// let obs = aiobs::Collector::new();
/// obs.set_remote(remote);
/// assert_eq!(obs.remote().usage_server_url(), "http://127.0.0.1:8081");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remote {
    usage_server: Option<String>,
    flush_server: Option<String>,
    usage_timeout: Option<Duration>,
    flush_timeout: Option<Duration>,
}

impl Remote {
    /// The defaults: environment, else the Python SDK's servers and timeouts.
    ///
    /// ```
    /// let remote = aiobs::Remote::new();
    /// # let _ = remote;
    /// ```
    pub fn new() -> Remote {
        Remote::default()
    }

    /// The usage server's base URL (`…/v1/usage` is appended).
    ///
    /// ```
    /// let remote = aiobs::Remote::new().usage_server("http://localhost:8081/");
    /// assert_eq!(remote.usage_server_url(), "http://localhost:8081");
    /// ```
    pub fn usage_server(mut self, url: impl Into<String>) -> Remote {
        self.usage_server = Some(url.into());
        self
    }

    /// The trace server's base URL (`…/v1/traces` is appended).
    ///
    /// ```
    /// let remote = aiobs::Remote::new().flush_server("http://localhost:8082");
    /// assert_eq!(remote.flush_server_url(), "http://localhost:8082");
    /// ```
    pub fn flush_server(mut self, url: impl Into<String>) -> Remote {
        self.flush_server = Some(url.into());
        self
    }

    /// How long a call to the usage server may take in all (default 10 s).
    ///
    /// ```
    /// let remote = aiobs::Remote::new().usage_timeout(std::time::Duration::from_secs(3));
    /// # let _ = remote;
    /// ```
    pub fn usage_timeout(mut self, timeout: Duration) -> Remote {
        self.usage_timeout = Some(timeout);
        self
    }

    /// How long an upload may take in all (default 30 s).
    ///
    /// ```
    /// let remote = aiobs::Remote::new().flush_timeout(std::time::Duration::from_secs(60));
    /// # let _ = remote;
    /// ```
    pub fn flush_timeout(mut self, timeout: Duration) -> Remote {
        self.flush_timeout = Some(timeout);
        self
    }

    /// The usage server's base URL in effect (without a trailing `/`).
    ///
    /// ```
    /// # // SAFETY: no other thread reads the environment in this doctest.
    /// # unsafe { std::env::remove_var("AIOBS_USAGE_SERVER_URL") };
    /// assert_eq!(aiobs::Remote::new().usage_server_url(), aiobs::remote::DEFAULT_USAGE_SERVER);
    /// ```
    pub fn usage_server_url(&self) -> String {
        resolve(
            &self.usage_server,
            "AIOBS_USAGE_SERVER_URL",
            DEFAULT_USAGE_SERVER,
        )
    }

    /// The trace server's base URL in effect (without a trailing `/`).
    ///
    /// ```
    /// # // SAFETY: no other thread reads the environment in this doctest.
    /// # unsafe { std::env::remove_var("AIOBS_FLUSH_SERVER_URL") };
    /// assert_eq!(aiobs::Remote::new().flush_server_url(), aiobs::remote::DEFAULT_FLUSH_SERVER);
    /// ```
    pub fn flush_server_url(&self) -> String {
        resolve(
            &self.flush_server,
            "AIOBS_FLUSH_SERVER_URL",
            DEFAULT_FLUSH_SERVER,
        )
    }

    #[cfg(feature = "remote")]
    pub(crate) fn usage_timeout_or_default(&self) -> Duration {
        self.usage_timeout.unwrap_or(Duration::from_secs(10))
    }

    #[cfg(feature = "remote")]
    pub(crate) fn flush_timeout_or_default(&self) -> Duration {
        self.flush_timeout.unwrap_or(Duration::from_secs(30))
    }
}

fn resolve(set: &Option<String>, env: &str, default: &str) -> String {
    let url = match set {
        Some(url) => url.clone(),
        None => std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned()),
    };
    url.trim_end_matches('/').to_owned()
}

/// An aiobs API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    pub(crate) fn new(key: String) -> ApiKey {
        ApiKey(key)
    }

    /// The `Authorization` header's value.
    #[cfg(feature = "remote")]
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// What the usage server says about a key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The plan, such as `"free"`.
    pub tier: String,
    /// Traces counted so far.
    pub traces_used: u64,
    /// Traces the plan allows.
    pub traces_limit: u64,
}

/// Validates `key` with the usage server (`GET /v1/usage`).
pub(crate) fn validate(key: &ApiKey, remote: &Remote) -> crate::Result<Usage> {
    #[cfg(feature = "remote")]
    {
        client::validate(key, remote)
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = (key, remote);
        Err(crate::Error::RemoteDisabled)
    }
}

/// Uploads a flushed trace and records its usage. Called after the trace is safely written.
pub(crate) fn send(
    key: &ApiKey,
    remote: &Remote,
    export: &[u8],
    trace_count: u64,
) -> crate::Result<()> {
    #[cfg(feature = "remote")]
    {
        client::send(key, remote, export, trace_count)
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = (key, remote, export, trace_count);
        Err(crate::Error::RemoteDisabled)
    }
}
