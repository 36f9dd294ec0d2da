//! The values of a span's fields, as recorded at its creation, by `Span::record`, and by the
//! `error` and `return` events inside it; and the function event's payload made from them.
//!
//! An ordinary span's values are captured as `#[observe]` captures arguments: into the byte
//! form, with the collector's limits applied while writing. The values of a `gen_ai.*` span are
//! kept whole, to become an LLM call's request and response (or, if it is not one, captured
//! with the limits when the span closes).

use std::fmt::{self, Write as _};

use tracing_core::field::{Field, Visit};

use super::site::{Role, Site};
use crate::capture::Limits;
use crate::capture::mask::{self, PathSegment};
use crate::capture::settings::CaptureSettings;
use crate::capture::walk::value_end;
use crate::capture::{Sink, capture_debug, encode, fit, tag};
use crate::store::flag;

/// A value kept whole.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Raw {
    Str(String),
    /// `Debug` (or `%Display`) text.
    Text(String),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

impl Raw {
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Raw::Str(s) | Raw::Text(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn as_f64(&self) -> Option<f64> {
        match *self {
            Raw::F64(v) => Some(v),
            Raw::I64(v) => Some(v as f64),
            Raw::U64(v) => Some(v as f64),
            Raw::I128(v) => Some(v as f64),
            Raw::U128(v) => Some(v as f64),
            Raw::Str(ref s) | Raw::Text(ref s) => s.trim().parse().ok(),
            Raw::Bool(_) => None,
        }
    }

    pub(super) fn as_u64(&self) -> Option<u64> {
        match *self {
            Raw::I64(v) => u64::try_from(v).ok(),
            Raw::U64(v) => Some(v),
            Raw::I128(v) => u64::try_from(v).ok(),
            Raw::U128(v) => u64::try_from(v).ok(),
            Raw::F64(v) if v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 => Some(v as u64),
            Raw::Str(ref s) | Raw::Text(ref s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(super) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Raw::Str(s) | Raw::Text(s) => Value::String(s.clone()),
            Raw::I64(v) => Value::from(*v),
            Raw::U64(v) => Value::from(*v),
            Raw::I128(v) => {
                i64::try_from(*v).map_or_else(|_| Value::String(v.to_string()), Value::from)
            }
            Raw::U128(v) => {
                u64::try_from(*v).map_or_else(|_| Value::String(v.to_string()), Value::from)
            }
            Raw::F64(v) => serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
            Raw::Bool(v) => Value::Bool(*v),
        }
    }

    /// Writes the value in the byte form, cut to the limits.
    fn capture(&self, sink: &mut Sink<'_>) {
        match self {
            Raw::Str(s) => sink.put_str(s),
            Raw::Text(s) => capture_debug(sink, &Verbatim(s)),
            Raw::I64(v) => sink.put_word(tag::I64, v.to_le_bytes()),
            Raw::U64(v) => sink.put_word(tag::U64, v.to_le_bytes()),
            Raw::I128(v) => sink.spill(|out, _, _| scalar(out, tag::I128, &v.to_le_bytes())),
            Raw::U128(v) => sink.spill(|out, _, _| scalar(out, tag::U128, &v.to_le_bytes())),
            Raw::F64(v) => sink.put_word(tag::F64, v.to_le_bytes()),
            Raw::Bool(v) => sink.put_tag(if *v { tag::TRUE } else { tag::FALSE }),
        }
    }
}

/// Text whose `Debug` is the text itself (already formatted).
struct Verbatim<'a>(&'a str);

impl fmt::Debug for Verbatim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn scalar(out: &mut Vec<u8>, t: u8, bytes: &[u8]) {
    out.push(t);
    out.extend_from_slice(bytes);
}

/// What makes a span an error, as recorded.
#[derive(Debug, Default)]
struct ErrorParts {
    /// `error` (a field, or an `error` event at level ERROR): the whole text.
    error: Option<String>,
    exception_message: Option<String>,
    exception_type: Option<String>,
    error_type: Option<String>,
    /// `otel.status_code`: whether it is `ERROR`.
    status_error: Option<bool>,
    status_message: Option<String>,
}

impl ErrorParts {
    /// The event's error text, if the span failed: `error`, else `exception.message` after
    /// its type, else (an `ERROR` status or an `error.type`) the type and the status message.
    fn text(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.clone());
        }
        let kind = self
            .exception_type
            .as_ref()
            .or(self.error_type.as_ref())
            .filter(|k| !k.is_empty());
        let message = match &self.exception_message {
            Some(m) => Some(m),
            None if self.status_error == Some(true) || kind.is_some() => {
                self.status_message.as_ref()
            }
            None => return None,
        };
        Some(match (kind, message) {
            (Some(k), Some(m)) => format!("{k}: {m}"),
            (Some(k), None) => k.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "ERROR".to_owned(),
        })
    }

    /// Takes the parts `newer` recorded.
    fn merge(&mut self, newer: ErrorParts) {
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        take(&mut self.error, newer.error);
        take(&mut self.exception_message, newer.exception_message);
        take(&mut self.exception_type, newer.exception_type);
        take(&mut self.error_type, newer.error_type);
        take(&mut self.status_error, newer.status_error);
        take(&mut self.status_message, newer.status_message);
    }
}

/// The recorded values of one span.
#[derive(Debug, Default)]
pub(super) struct Values {
    /// Ordinary spans: `[field index: u16][value]` entries, the latest entry of a field winning.
    bytes: Vec<u8>,
    /// `gen_ai` spans: the values whole, by field index, the latest winning.
    raw: Vec<(u16, Raw)>,
    /// The `return` value of an `#[instrument(ret)]` event, in the byte form.
    result: Option<Box<[u8]>>,
    /// Boxed: most spans have none, and the span's state is moved a few times.
    errors: Option<Box<ErrorParts>>,
}

impl Values {
    /// A visitor that records fields of a span of `site` into these values.
    pub(super) fn recorder<'a>(
        &'a mut self,
        site: &'static Site,
        limits: &'a Limits,
    ) -> Recorder<'a> {
        Recorder {
            values: self,
            site,
            limits,
        }
    }

    /// A visitor for an event inside the span: takes its `error` (when `error_level`) and
    /// `return` fields.
    pub(super) fn event_recorder<'a>(
        &'a mut self,
        limits: &'a Limits,
        error_level: bool,
    ) -> EventRecorder<'a> {
        EventRecorder {
            values: self,
            limits,
            error_level,
        }
    }

    /// Takes the values `newer` recorded later (by `Span::record` or an event), which win.
    pub(super) fn merge(&mut self, newer: Values) {
        self.bytes.extend_from_slice(&newer.bytes);
        self.raw.extend(newer.raw);
        if newer.result.is_some() {
            self.result = newer.result;
        }
        match (&mut self.errors, newer.errors) {
            (Some(old), Some(new)) => old.merge(*new),
            (old @ None, new) => *old = new,
            (Some(_), None) => {}
        }
    }

    /// The latest whole value of the field at `index` (`gen_ai` spans).
    pub(super) fn raw(&self, index: u16) -> Option<&Raw> {
        self.raw
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, v)| v)
    }

    /// Every whole value, latest last (`gen_ai` spans).
    pub(super) fn raw_values(&self) -> &[(u16, Raw)] {
        &self.raw
    }

    fn errors(&mut self) -> &mut ErrorParts {
        self.errors.get_or_insert_with(Box::default)
    }

    /// The error text, if the span failed.
    pub(super) fn error(&self) -> Option<String> {
        self.errors.as_ref().and_then(|e| e.text())
    }

    /// Writes the payload of the span's function event into `out` (empty) and returns its
    /// flags: the arguments (every field in declaration order, null if never recorded), the
    /// result of a `return` event unless there is an error, the error; masked and cut to the
    /// event cap as `#[observe]` does.
    pub(super) fn function_payload(
        &self,
        site: &'static Site,
        settings: &CaptureSettings,
        out: &mut Vec<u8>,
    ) -> u8 {
        let limits = &settings.limits;
        let budget_end = limits.capture_budget();
        out.push(tag::SEQ);
        if site.gen_ai {
            for &field in site.arg_fields.iter() {
                match self.raw(field) {
                    Some(value) => {
                        value.capture(&mut Sink::with_budget(&mut *out, limits, budget_end));
                    }
                    None => out.push(tag::NULL),
                }
            }
        } else {
            self.write_latest(site, out);
        }
        out.push(tag::END);
        let mut flags = flag::ARGS;
        let error = self.error();
        if let (Some(result), None) = (&self.result, &error) {
            out.extend_from_slice(result);
            flags |= flag::RESULT;
        }
        if let Some(error) = &error {
            encode::put_str(out, error, usize::MAX);
            flags |= flag::ERROR;
        }
        if let Some(mask) = &settings.mask {
            flags = masked(out, flags, site, settings, &**mask);
        }
        fit::fit_event(out, 0, true, limits.event_bytes);
        flags
    }

    /// Writes the latest value of each argument, in argument order (null if none).
    fn write_latest(&self, site: &Site, out: &mut Vec<u8>) {
        // The common case: each field recorded once, in declaration order (at creation).
        let mut in_order = true;
        let mut entries = 0;
        let mut next_arg = 0;
        self.each_entry(site, |arg, _| {
            in_order &= usize::from(arg) == next_arg;
            next_arg += 1;
            entries += 1;
        });
        if in_order && entries == site.arg_fields.len() {
            self.each_entry(site, |_, value| out.extend_from_slice(value));
            return;
        }
        // Fields left empty, recorded later or twice: the latest entry of each.
        for arg in 0..site.arg_fields.len() {
            let mut latest = None;
            self.each_entry(site, |a, value| {
                if usize::from(a) == arg {
                    latest = Some(value);
                }
            });
            match latest {
                Some(value) => out.extend_from_slice(value),
                None => out.push(tag::NULL),
            }
        }
    }

    /// Calls `f` with the argument position and the value bytes of each entry, in order.
    fn each_entry<'b>(&'b self, site: &Site, mut f: impl FnMut(u16, &'b [u8])) {
        let mut pos = 0;
        while pos + 2 <= self.bytes.len() {
            let field = u16::from_le_bytes([self.bytes[pos], self.bytes[pos + 1]]);
            let Some(end) = value_end(&self.bytes, pos + 2) else {
                return; // can't happen: written by this module
            };
            if let Role::Arg(arg) = site.role(usize::from(field)) {
                f(arg, &self.bytes[pos + 2..end]);
            }
            pos = end;
        }
    }
}

/// Runs the mask hook over the payload in `out`; returns the flags left.
#[cold]
fn masked(
    out: &mut Vec<u8>,
    mut flags: u8,
    site: &'static Site,
    settings: &CaptureSettings,
    mask: &mask::MaskFn,
) -> u8 {
    let mut tail = Vec::with_capacity(2);
    if flags & flag::RESULT != 0 {
        tail.push(PathSegment::Result);
    }
    if flags & flag::ERROR != 0 {
        tail.push(PathSegment::Error);
    }
    let mut masked = Vec::with_capacity(out.len());
    let done = mask::apply(
        out,
        site.meta.name,
        Some(site.meta.arg_names),
        &tail,
        mask,
        &settings.limits,
        &mut masked,
    );
    // Nothing unmasked stays behind in the reused buffer.
    out.fill(0);
    out.clear();
    match done {
        Some(()) => out.extend_from_slice(&masked),
        None => {
            // Bytes this module wrote can't be corrupt; if they were, no values rather than
            // unmasked ones.
            flags &= !(flag::RESULT | flag::ERROR);
            out.extend_from_slice(&[tag::SEQ, tag::END]);
        }
    }
    flags
}

/// Records a span's fields (see [`Values::recorder`]).
pub(super) struct Recorder<'a> {
    values: &'a mut Values,
    site: &'static Site,
    limits: &'a Limits,
}

impl Recorder<'_> {
    /// Records one field: `raw` makes its whole value (for `gen_ai` spans and error parts),
    /// `capture` writes it in the byte form with the limits (ordinary spans).
    fn field(
        &mut self,
        field: &Field,
        raw: impl FnOnce() -> Raw,
        capture: impl FnOnce(&mut Sink<'_>),
    ) {
        let v = &mut *self.values;
        match self.site.role(field.index()) {
            Role::Skip => {}
            Role::Arg(_) => {
                let index = field.index() as u16; // at most 32 fields
                if self.site.gen_ai {
                    v.raw.push((index, raw()));
                } else {
                    if v.bytes.capacity() == 0 {
                        v.bytes.reserve(64); // one allocation for a few small fields
                    }
                    v.bytes.extend_from_slice(&index.to_le_bytes());
                    // The span's values together get the budget of one event.
                    let budget_end = self.limits.capture_budget();
                    capture(&mut Sink::with_budget(
                        &mut v.bytes,
                        self.limits,
                        budget_end,
                    ));
                }
            }
            Role::Error => v.errors().error = Some(text(raw())),
            Role::ExceptionMessage => v.errors().exception_message = Some(text(raw())),
            Role::ExceptionType => v.errors().exception_type = Some(text(raw())),
            Role::ErrorType => v.errors().error_type = Some(text(raw())),
            Role::StatusMessage => v.errors().status_message = Some(text(raw())),
            Role::StatusCode => {
                v.errors().status_error =
                    Some(text(raw()).trim_matches('"').eq_ignore_ascii_case("error"))
            }
        }
    }
}

/// The text of a value, for error parts.
fn text(raw: Raw) -> String {
    match raw {
        Raw::Str(s) | Raw::Text(s) => s,
        other => other.to_json().to_string(),
    }
}

impl Visit for Recorder<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, || Raw::F64(value), |s| Raw::F64(value).capture(s));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, || Raw::I64(value), |s| Raw::I64(value).capture(s));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, || Raw::U64(value), |s| Raw::U64(value).capture(s));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, || Raw::I128(value), |s| Raw::I128(value).capture(s));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, || Raw::U128(value), |s| Raw::U128(value).capture(s));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, || Raw::Bool(value), |s| Raw::Bool(value).capture(s));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, || Raw::Str(value.to_owned()), |s| s.put_str(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(
            field,
            || Raw::Str(error_chain(value)),
            |s| s.put_str(&error_chain(value)),
        );
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(
            field,
            || Raw::Text(format!("{value:?}")),
            |s| capture_debug(s, value),
        );
    }
}

/// An error's text with its sources: `outer: inner: root`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let _ = write!(text, ": {e}");
        source = e.source();
    }
    text
}

/// Records the `error` and `return` fields of an event inside a span (see
/// [`Values::event_recorder`]).
pub(super) struct EventRecorder<'a> {
    values: &'a mut Values,
    limits: &'a Limits,
    error_level: bool,
}

impl EventRecorder<'_> {
    fn result(&mut self, capture: impl FnOnce(&mut Sink<'_>)) {
        let mut out = Vec::new();
        let budget_end = self.limits.capture_budget();
        capture(&mut Sink::with_budget(&mut out, self.limits, budget_end));
        self.values.result = Some(out.into_boxed_slice());
    }

    fn error(&mut self, field: &Field, text: impl FnOnce() -> String) {
        if self.error_level && field.name() == "error" {
            self.values.errors().error = Some(text());
        }
    }
}

impl Visit for EventRecorder<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "return" {
            self.result(|s| Raw::F64(value).capture(s));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "return" {
            self.result(|s| Raw::I64(value).capture(s));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "return" {
            self.result(|s| Raw::U64(value).capture(s));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "return" {
            self.result(|s| Raw::Bool(value).capture(s));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "return" {
            self.result(|s| s.put_str(value));
        }
        self.error(field, || value.to_owned());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.error(field, || error_chain(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "return" {
            self.result(|s| capture_debug(s, value));
        }
        self.error(field, || format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(f: impl FnOnce(&mut ErrorParts)) -> Option<String> {
        let mut p = ErrorParts::default();
        f(&mut p);
        p.text()
    }

    #[test]
    fn the_error_text_comes_from_the_most_specific_part() {
        assert_eq!(parts(|_| {}), None);
        assert_eq!(
            parts(|p| p.status_message = Some("fine".into())),
            None,
            "a status message without an ERROR status is no error"
        );
        assert_eq!(
            parts(|p| {
                p.error = Some("boom".into());
                p.exception_message = Some("other".into());
            })
            .as_deref(),
            Some("boom")
        );
        assert_eq!(
            parts(|p| {
                p.exception_type = Some("IoError".into());
                p.exception_message = Some("disk full".into());
            })
            .as_deref(),
            Some("IoError: disk full")
        );
        assert_eq!(
            parts(|p| p.status_error = Some(true)).as_deref(),
            Some("ERROR")
        );
        assert_eq!(
            parts(|p| {
                p.error_type = Some("timeout".into());
                p.status_message = Some("no answer".into());
            })
            .as_deref(),
            Some("timeout: no answer")
        );
    }

    #[test]
    fn a_later_status_replaces_an_earlier_one() {
        let mut p = ErrorParts {
            status_error: Some(true),
            ..ErrorParts::default()
        };
        p.merge(ErrorParts {
            status_error: Some(false),
            ..ErrorParts::default()
        });
        assert_eq!(p.text(), None);
    }
}
