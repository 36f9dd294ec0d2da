//! Provider events: LLM API calls recorded through the same store as function events.
//!
//! [`ProviderCall`] is the one entry point: start it before the request (it takes the span id,
//! its parent and the start time), finish it with the response or the error. The `Provider`
//! trait and the HTTP integrations build on it.

use std::panic::Location;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::capture::encode;
use crate::clock::{self, Instant};
use crate::collector::{Collector, RECORDING};
use crate::id;
use crate::store::{Header, Kind, flag};
use crate::thread;

/// Something that knows an LLM API: what [`Collector::register_provider`] takes.
///
/// ```
/// struct Anthropic;
/// impl aiobs::Provider for Anthropic {
///     fn name(&self) -> &str { "anthropic" }
/// }
/// aiobs::Collector::new().register_provider(Anthropic);
/// ```
pub trait Provider: Send + Sync {
    /// The `provider` string of the events it records, such as `"openai"`.
    fn name(&self) -> &str;
}

/// An LLM API call being recorded.
///
/// ```
/// use aiobs::{Collector, ObserveOptions, ProviderCall};
/// let obs = Collector::new();
/// let _scope = obs.set_default();
/// obs.observe(ObserveOptions::new())?;
/// let request = serde_json::json!({"model": "gpt-4o-mini", "messages": []});
/// if let Some(call) = ProviderCall::start("openai", "chat.completions.create", &request) {
///     call.finish_ok(&serde_json::json!({"id": "chatcmpl-1"}));
/// }
/// # Ok::<(), aiobs::Error>(())
/// ```
#[derive(Debug)]
pub struct ProviderCall {
    collector: Collector,
    span: u64,
    parent: u64,
    session: u32,
    start: Instant,
    location: &'static Location<'static>,
    /// provider, api and request, in the byte form.
    bytes: Vec<u8>,
}

impl ProviderCall {
    /// Starts recording a call into the current collector, as a child of the current span;
    /// `None` when nothing is recording. The request is recorded whole (no capture limits).
    #[track_caller]
    pub fn start(provider: &str, api: &str, request: &impl Serialize) -> Option<ProviderCall> {
        if RECORDING.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let location = Location::caller();
        let collector = Collector::current();
        let session = collector.inner.active.load(Ordering::Relaxed);
        if session == 0 {
            return None;
        }
        let parent = thread::with(|t| t.span.get()).unwrap_or(0);
        let mut bytes = Vec::new();
        encode::put_str(&mut bytes, provider, usize::MAX);
        encode::put_str(&mut bytes, api, usize::MAX);
        put_value(&mut bytes, request);
        Some(ProviderCall {
            collector,
            span: id::next(),
            parent,
            session,
            start: clock::now(),
            location,
            bytes,
        })
    }

    /// The span id of this call, as UUID text.
    pub fn span_id(&self) -> String {
        id::uuid_string(self.span)
    }

    /// Records the call as answered with `response`.
    pub fn finish_ok(mut self, response: &impl Serialize) {
        put_value(&mut self.bytes, response);
        self.record(flag::RESPONSE);
    }

    /// Records the call as failed with `error` (`"<ErrorType>: <message>"`).
    pub fn finish_err(mut self, error: &str) {
        encode::put_str(&mut self.bytes, error, usize::MAX);
        self.record(flag::ERROR);
    }

    /// Records the call with both a response (such as an error body) and an error.
    pub fn finish(mut self, response: Option<&serde_json::Value>, error: Option<&str>) {
        let mut flags = 0;
        if let Some(r) = response {
            put_value(&mut self.bytes, r);
            flags |= flag::RESPONSE;
        }
        if let Some(e) = error {
            encode::put_str(&mut self.bytes, e, usize::MAX);
            flags |= flag::ERROR;
        }
        self.record(flags);
    }

    fn record(self, flags: u8) {
        let header = Header {
            span: self.span,
            parent: self.parent,
            enh_id: 0,
            start: self.start,
            end: clock::now(),
            meta: None,
            self_ty: None,
            location: Some(self.location),
            session: self.session,
            payload_len: self.bytes.len() as u32,
            kind: Kind::Provider,
            flags,
        };
        let _ = thread::with(|t| t.push(&self.collector.inner, &header, &[&self.bytes]));
    }
}

fn put_value(out: &mut Vec<u8>, value: &impl Serialize) {
    if encode::encode(out, value, false).is_err() {
        crate::capture::put_type_name(out, std::any::type_name_of_val(value));
    }
}
