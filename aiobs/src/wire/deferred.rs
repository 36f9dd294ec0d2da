//! An HTTP exchange stored as it happened, turned into its provider event only at flush.
//!
//! On the caller's thread an [`HttpCall`](super::HttpCall) only copies bytes: the request
//! body, and the response body (or stream) as the caller reads it. Parsing JSON, splitting a
//! stream into events and running the [`Provider`] happen when the collector flushes, as the
//! JSON of function events does, so an observed LLM call costs the caller a copy.
//!
//! The record's payload (`Kind::Exchange`), all lengths little-endian `u32`:
//! `provider index, provider name, api, method, path, query, request, request total (u64),
//! request note, status (u16, 0 for none), flags (u8), response, response total (u64),
//! failure, first chunk ms (f64 bits), body cap (u64)`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::json::{over_cap, parse_body};
use super::sse::{SseEvent, SseParser};
use super::{Body, EventFields, Exchange, HttpRequest, Provider};
use crate::capture::encode;
use crate::store::{Header, Kind, flag};

/// The provider index of the built-in providers (registered ones are their position).
pub(crate) const OPENAI: u32 = u32::MAX;
pub(crate) const GEMINI: u32 = u32::MAX - 1;
pub(crate) const ANTHROPIC: u32 = u32::MAX - 2;

/// Flags of a stored exchange.
pub(crate) mod xflag {
    /// The response is a stream of server-sent events.
    pub const STREAM: u8 = 1;
    /// The body was read to its end.
    pub const ENDED: u8 = 2;
    /// The call was dropped before its body ended (a failure is stored for the case the
    /// provider doesn't find the stream complete).
    pub const DROPPED: u8 = 4;
    /// The answer was replayed from a recording (`aiobs::replay`).
    pub const REPLAYED: u8 = 8;
}

/// What an exchange stores, borrowed from the caller's state.
pub(crate) struct Stored<'a> {
    pub(crate) provider: u32,
    pub(crate) name: &'a str,
    pub(crate) api: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) request: &'a [u8],
    pub(crate) request_total: u64,
    pub(crate) request_note: &'a str,
    pub(crate) status: u16,
    pub(crate) flags: u8,
    pub(crate) response: &'a [u8],
    pub(crate) response_total: u64,
    pub(crate) failure: &'a str,
    pub(crate) first_chunk_ms: Option<f64>,
    /// The body cap in force.
    pub(crate) cap: u64,
}

impl Stored<'_> {
    /// The record payload, as the pieces it is copied from: the two bodies are copied once,
    /// straight into the store, the small fields around them gathered in `head`, `mid` and
    /// `tail`.
    pub(crate) fn pieces<'s>(
        &'s self,
        head: &'s mut Vec<u8>,
        mid: &'s mut Vec<u8>,
        tail: &'s mut Vec<u8>,
    ) -> [&'s [u8]; 5] {
        head.extend_from_slice(&self.provider.to_le_bytes());
        for s in [self.name, self.api, self.method, self.path, self.query] {
            put(head, s.as_bytes());
        }
        let request = fitted(self.request);
        head.extend_from_slice(&(request.len() as u32).to_le_bytes());
        mid.extend_from_slice(&self.request_total.to_le_bytes());
        put(mid, self.request_note.as_bytes());
        mid.extend_from_slice(&self.status.to_le_bytes());
        mid.push(self.flags);
        let response = fitted(self.response);
        mid.extend_from_slice(&(response.len() as u32).to_le_bytes());
        tail.extend_from_slice(&self.response_total.to_le_bytes());
        put(tail, self.failure.as_bytes());
        let first = self.first_chunk_ms.unwrap_or(f64::NAN).to_bits();
        tail.extend_from_slice(&first.to_le_bytes());
        tail.extend_from_slice(&self.cap.to_le_bytes());
        [head, request, mid, response, tail]
    }

    #[cfg(test)]
    fn encode(&self) -> Vec<u8> {
        let (mut head, mut mid, mut tail) = (Vec::new(), Vec::new(), Vec::new());
        self.pieces(&mut head, &mut mid, &mut tail).concat()
    }
}

/// `bytes`, cut to what a `u32` length can say.
fn fitted(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(u32::MAX as usize)]
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let bytes = fitted(bytes);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads a payload back; `None` if it is malformed (it never is, as written by `encode`).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
}

fn decode(payload: &[u8]) -> Option<Stored<'_>> {
    let mut r = Reader(payload);
    Some(Stored {
        provider: r.u32()?,
        name: r.str()?,
        api: r.str()?,
        method: r.str()?,
        path: r.str()?,
        query: r.str()?,
        request: r.bytes()?,
        request_total: r.u64()?,
        request_note: r.str()?,
        status: u16::from_le_bytes(r.take(2)?.try_into().ok()?),
        flags: *r.take(1)?.first()?,
        response: r.bytes()?,
        response_total: r.u64()?,
        failure: r.str()?,
        first_chunk_ms: Some(f64::from_bits(r.u64()?)).filter(|v| !v.is_nan()),
        cap: r.u64()?,
    })
}

/// Turns a stored exchange (its header and payload) into the record of its provider event:
/// the header (kind `Provider`, its flags and length set) followed by the payload that
/// `json.rs` renders. `providers` are the collector's registered ones.
pub(crate) fn materialize(
    header: &Header,
    payload: &[u8],
    providers: &[Arc<dyn Provider>],
) -> Vec<u8> {
    let mut fields = EventFields::default();
    let mut replayed = false;
    let (name, api) = match decode(payload) {
        Some(stored) => {
            match super::provider_at(stored.provider, providers) {
                Some(p) => run_provider(p, &stored, &mut fields),
                None => {
                    fields.request(&serde_json::Value::Null);
                    fields.error("aiobs: the provider of this call was removed by reset");
                }
            }
            replayed = stored.flags & xflag::REPLAYED != 0;
            (stored.name, stored.api)
        }
        None => {
            fields.request(&serde_json::Value::Null);
            fields.error("aiobs: this call's record could not be read");
            ("unknown", "unknown")
        }
    };
    let mut body = Vec::new();
    encode::put_str(&mut body, name, usize::MAX);
    encode::put_str(&mut body, api, usize::MAX);
    let flags = fields.write_to(&mut body) | if replayed { flag::REPLAYED } else { 0 };
    let header = Header {
        kind: Kind::Provider,
        flags,
        ..*header
    };
    crate::store::record_bytes(&header, &body)
}

fn run_provider(provider: &dyn Provider, stored: &Stored<'_>, fields: &mut EventFields) {
    let request = if !stored.request_note.is_empty() {
        Body::Unreadable(stored.request_note.to_owned())
    } else if stored.request.len() as u64 != stored.request_total {
        over_cap(stored.request_total, stored.cap)
    } else {
        parse_body(stored.request)
    };
    let streaming = stored.flags & xflag::STREAM != 0;
    let ended = stored.flags & xflag::ENDED != 0;
    let complete_body = stored.response.len() as u64 == stored.response_total;
    let mut failure = (!stored.failure.is_empty()).then_some(stored.failure);
    let response = if !complete_body {
        over_cap(stored.response_total, stored.cap)
    } else if streaming {
        let mut parser = SseParser::default();
        let mut events: Vec<SseEvent> = Vec::new();
        parser.feed(stored.response, &mut events);
        if ended {
            parser.finish(&mut events);
        }
        // A reader that stopped at the stream's last event (and dropped it) read it all.
        let complete = ended
            || (stored.flags & xflag::DROPPED != 0
                && catch_unwind(AssertUnwindSafe(|| {
                    provider.stream_complete(stored.api, &events)
                }))
                .unwrap_or(false));
        if complete && stored.flags & xflag::DROPPED != 0 {
            failure = None;
        }
        Body::Stream {
            events,
            finished: complete,
        }
    } else {
        parse_body(stored.response)
    };
    let exchange = Exchange {
        api: stored.api,
        http: HttpRequest {
            method: stored.method,
            path: stored.path,
            query: (!stored.query.is_empty()).then_some(stored.query),
        },
        request: &request,
        status: (stored.status != 0).then_some(stored.status),
        response: &response,
        response_raw: if streaming || !complete_body {
            &[]
        } else {
            stored.response
        },
        failure,
        first_chunk_ms: stored.first_chunk_ms,
    };
    // A provider that panics costs its event, never the flush.
    if catch_unwind(AssertUnwindSafe(|| provider.record(&exchange, fields))).is_err() {
        *fields = EventFields::default();
        fields.request(&serde_json::Value::Null);
        fields.error(format!(
            "aiobs: the {} provider panicked while recording this call",
            provider.name()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_exchange_reads_back_as_written() {
        let stored = Stored {
            provider: 3,
            name: "openai",
            api: "chat.completions.create",
            method: "POST",
            path: "/v1/chat/completions",
            query: "",
            request: b"{}",
            request_total: 2,
            request_note: "",
            status: 429,
            flags: xflag::STREAM | xflag::DROPPED,
            response: b"data: x\n\n",
            response_total: 9,
            failure: "cancelled",
            first_chunk_ms: Some(1.5),
            cap: 1024,
        };
        let bytes = stored.encode();
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.provider, 3);
        assert_eq!(back.api, "chat.completions.create");
        assert_eq!(back.request, b"{}");
        assert_eq!(back.status, 429);
        assert_eq!(back.flags, xflag::STREAM | xflag::DROPPED);
        assert_eq!(back.response, b"data: x\n\n");
        assert_eq!(back.failure, "cancelled");
        assert_eq!(back.first_chunk_ms, Some(1.5));
        assert_eq!(back.cap, 1024);
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
