//! [`EventFields`]: what a provider writes of an exchange, in the byte form of captures.

use serde::Serialize;

use crate::capture::encode;
use crate::store::flag;

/// The `request`, `response` and `error` of a provider event, as a [`Provider`] writes them
/// from an HTTP exchange. Values are recorded whole, in the order their `Serialize` gives.
///
/// [`Provider`]: crate::Provider
///
/// ```
/// let mut fields = aiobs::EventFields::default();
/// fields.request(&serde_json::json!({"model": "claude-sonnet-4"}));
/// fields.error("RateLimitError: slow down");
/// ```
#[derive(Debug, Default)]
pub struct EventFields {
    request: Option<Vec<u8>>,
    response: Option<Vec<u8>>,
    error: Option<String>,
    /// Set for a replay's matching, which needs the request as a JSON value: what
    /// [`EventFields::request`] is given is kept here, not encoded.
    request_value: Option<Box<Option<serde_json::Value>>>,
}

impl EventFields {
    /// Sets the event's `request`.
    pub fn request(&mut self, value: &impl Serialize) {
        if let Some(slot) = &mut self.request_value {
            **slot = Some(serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
            return;
        }
        let mut out = Vec::new();
        put_value(&mut out, value);
        self.request = Some(out);
    }

    /// Sets the event's `response` (left null when never set).
    pub fn response(&mut self, value: &impl Serialize) {
        let mut out = Vec::new();
        put_value(&mut out, value);
        self.response = Some(out);
    }

    /// Sets the event's `error`, conventionally `"<ErrorType>: <message>"`.
    pub fn error(&mut self, text: impl Into<String>) {
        self.error = Some(text.into());
    }

    /// Whether an error was set.
    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }

    /// Fields that keep the request as a JSON value (read with
    /// [`EventFields::take_request_value`]): how a replay sees a live request as the recorder
    /// would have written it.
    pub(crate) fn for_request_value() -> EventFields {
        EventFields {
            request_value: Some(Box::new(None)),
            ..EventFields::default()
        }
    }

    /// The request given to fields made by [`EventFields::for_request_value`].
    pub(crate) fn take_request_value(&mut self) -> Option<serde_json::Value> {
        self.request_value.as_mut().and_then(|slot| slot.take())
    }

    /// Appends the fields as a provider record's payload continues after `provider` and
    /// `api`: the request (null if never set), then the response and the error if set.
    /// Returns the record's flags.
    pub(crate) fn write_to(self, out: &mut Vec<u8>) -> u8 {
        match self.request {
            Some(r) => out.extend_from_slice(&r),
            None => out.push(crate::capture::tag::NULL),
        }
        let mut flags = 0;
        if let Some(r) = self.response {
            out.extend_from_slice(&r);
            flags |= flag::RESPONSE;
        }
        if let Some(e) = self.error {
            encode::put_str(out, &e, usize::MAX);
            flags |= flag::ERROR;
        }
        flags
    }
}

/// Appends `value` whole (no capture limits); a value that fails to serialise is written
/// as its type name.
pub(crate) fn put_value(out: &mut Vec<u8>, value: &impl Serialize) {
    if encode::encode(out, value, &crate::capture::limits::NONE, usize::MAX).is_err() {
        crate::capture::put_type_name(out, std::any::type_name_of_val(value));
    }
}
