//! [`ProviderCall`]: the one entry point through which every LLM call becomes an event. It
//! takes the span id, the parent and the start time when the call starts, and pushes the event
//! into the store of its collector when the call ends.

use std::panic::Location;
use std::sync::atomic::Ordering;

use std::sync::Arc;

use serde::Serialize;

use crate::capture::encode;
use crate::clock::{self, Instant};
use crate::id;
use crate::observed::thread;
use crate::state::{CollectorState, RECORDING};
use crate::store::{Header, Kind, flag};
use crate::wire::{EventFields, put_value};

/// An LLM API call being recorded, for clients that aiobs has no integration for (the HTTP
/// middlewares and [`llm_call`](crate::llm_call) build on it).
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
    collector: Arc<CollectorState>,
    span: u64,
    parent: u64,
    session: u32,
    start: Instant,
    location: Option<&'static Location<'static>>,
    /// provider, api and (once known) request, in the byte form.
    bytes: Vec<u8>,
}

impl ProviderCall {
    /// Starts recording a call into the current collector, as a child of the current span;
    /// `None` when nothing is recording. The request is recorded whole (no capture limits).
    #[track_caller]
    pub fn start(provider: &str, api: &str, request: &impl Serialize) -> Option<ProviderCall> {
        let mut call = ProviderCall::begin(provider, api, Some(Location::caller()))?;
        put_value(&mut call.bytes, request);
        Some(call)
    }

    /// Starts timing a call whose request is written later with [`ProviderCall::end`].
    pub(crate) fn begin(
        provider: &str,
        api: &str,
        location: Option<&'static Location<'static>>,
    ) -> Option<ProviderCall> {
        let (collector, session) = recording()?;
        Some(ProviderCall::begin_in(
            collector, session, provider, api, location,
        ))
    }

    /// [`ProviderCall::begin`] in a collector [`recording`] returned.
    pub(crate) fn begin_in(
        collector: Arc<CollectorState>,
        session: u32,
        provider: &str,
        api: &str,
        location: Option<&'static Location<'static>>,
    ) -> ProviderCall {
        let parent = thread::with(|t| t.span.get()).unwrap_or(0);
        let mut bytes = Vec::new();
        encode::put_str(&mut bytes, provider, usize::MAX);
        encode::put_str(&mut bytes, api, usize::MAX);
        ProviderCall {
            collector,
            span: id::next(),
            parent,
            session,
            start: clock::now(),
            location,
            bytes,
        }
    }

    /// The span id of this call, as UUID text.
    pub fn span_id(&self) -> String {
        id::uuid_string(self.span)
    }

    /// Records the call as answered with `response`.
    pub fn finish_ok(mut self, response: &impl Serialize) {
        put_value(&mut self.bytes, response);
        self.record(flag::RESPONSE, clock::now());
    }

    /// Records the call as failed with `error` (`"<ErrorType>: <message>"`).
    pub fn finish_err(mut self, error: &str) {
        encode::put_str(&mut self.bytes, error, usize::MAX);
        self.record(flag::ERROR, clock::now());
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
        self.record(flags, clock::now());
    }

    /// Records a call started with [`ProviderCall::begin`], ended at `end`, with the fields a
    /// provider wrote.
    pub(crate) fn end(mut self, fields: EventFields, end: Instant) {
        let flags = fields.write_to(&mut self.bytes);
        self.record(flags, end);
    }

    /// When the call started.
    pub(crate) fn start_time(&self) -> Instant {
        self.start
    }

    fn record(self, flags: u8, end: Instant) {
        self.push(Kind::Provider, flags, &[&self.bytes], end);
    }

    /// Pushes this call's record: the `payload` pieces, of `kind`, ended at `end`.
    pub(crate) fn push(&self, kind: Kind, flags: u8, payload: &[&[u8]], end: Instant) {
        let total: usize = payload.iter().map(|p| p.len()).sum();
        let Ok(payload_len) = u32::try_from(total) else {
            return; // a request or response over 4 GiB: not recordable
        };
        let header = Header {
            span: self.span,
            parent: self.parent,
            enh_id: 0,
            start: self.start,
            end,
            meta: None,
            self_ty: None,
            location: self.location,
            session: self.session,
            payload_len,
            kind,
            flags,
        };
        let _ = thread::with(|t| t.push(&self.collector, header, payload));
    }
}

/// The current collector and its active session slot, if anything is recording there.
pub(crate) fn recording() -> Option<(Arc<CollectorState>, u32)> {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    if thread::with(|t| t.span.get() & id::DROPPED != 0).unwrap_or(false) {
        return None; // inside a tree that head sampling dropped
    }
    let collector = thread::current_state();
    let session = collector.active_slot();
    (session != 0).then_some((collector, session))
}
