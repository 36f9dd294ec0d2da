//! [`llm_call`]: recording an LLM call by hand, for clients aiobs has no integration for.

use std::fmt;
use std::panic::Location;

use serde::Serialize;

use super::call::ProviderCall;
use crate::clock;
use crate::wire::EventFields;

/// Starts recording one LLM call made from here (the callsite is this line), as a child of
/// the current observed function; it is recorded when [`LlmCall::response`],
/// [`LlmCall::error`] or [`LlmCall::finish`] is called, or as cancelled when it is dropped
/// first. With no session active it records nothing and costs one atomic load.
///
/// ```
/// use aiobs::{Collector, ObserveOptions};
/// use serde_json::json;
/// let obs = Collector::new();
/// let _scope = obs.set_default();
/// obs.observe(ObserveOptions::new())?;
///
/// let request = json!({"model": "claude-sonnet-4", "messages": [{"role": "user", "content": "hi"}]});
/// let call = aiobs::llm_call("anthropic", "messages.create").request(&request);
/// let answer = json!({"id": "msg_1", "content": [{"type": "text", "text": "hello"}]}); // the client's answer
/// call.response(&answer);
/// # Ok::<(), aiobs::Error>(())
/// ```
#[track_caller]
pub fn llm_call(provider: &str, api: &str) -> LlmCall {
    LlmCall {
        call: ProviderCall::begin(provider, api, Some(Location::caller())),
        fields: EventFields::default(),
    }
}

/// An LLM call being recorded by hand; see [`llm_call`].
#[must_use = "an LlmCall records its event when it is finished (or dropped)"]
pub struct LlmCall {
    call: Option<ProviderCall>,
    fields: EventFields,
}

impl fmt::Debug for LlmCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmCall")
            .field("recording", &self.call.is_some())
            .finish_non_exhaustive()
    }
}

impl LlmCall {
    /// Sets the event's `request` (recorded whole).
    pub fn request(mut self, request: &impl Serialize) -> LlmCall {
        if self.call.is_some() {
            self.fields.request(request);
        }
        self
    }

    /// Whether this call is being recorded (a session is active).
    pub fn is_recording(&self) -> bool {
        self.call.is_some()
    }

    /// The call answered `response`: records the event.
    pub fn response(mut self, response: &impl Serialize) {
        if self.call.is_some() {
            self.fields.response(response);
        }
        self.end();
    }

    /// The call failed: records the event with `error` (conventionally
    /// `"<ErrorType>: <message>"`) and no response.
    pub fn error(mut self, error: impl fmt::Display) {
        if self.call.is_some() {
            self.fields.error(error.to_string());
        }
        self.end();
    }

    /// Records the event with a response, an error, or both (an error status with its body).
    pub fn finish(mut self, response: Option<&impl Serialize>, error: Option<&str>) {
        if self.call.is_some() {
            if let Some(r) = response {
                self.fields.response(r);
            }
            if let Some(e) = error {
                self.fields.error(e);
            }
        }
        self.end();
    }

    fn end(&mut self) {
        if let Some(call) = self.call.take() {
            call.end(std::mem::take(&mut self.fields), clock::now());
        }
    }
}

impl Drop for LlmCall {
    fn drop(&mut self) {
        if self.call.is_some() {
            self.fields
                .error("cancelled: the call was dropped before it finished");
            self.end();
        }
    }
}
