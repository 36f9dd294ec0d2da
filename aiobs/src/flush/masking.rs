//! The masking phase of a flush for provider events: their request, response and error go
//! through the collector's mask hook before anything is written (function events went
//! through it when they were recorded).

use crate::capture::limits;
use crate::capture::mask::{self, MaskFn, PathSegment};
use crate::capture::walk::value_end;
use crate::store::{self, RecordRef, flag};

/// A provider record (`bytes`: header and payload) with its request, response and error
/// passed through the mask hook, and marked as masked. A record that can't be read keeps
/// its provider and API, with no values: never unmasked ones.
pub(crate) fn mask_provider(bytes: &[u8], mask: &MaskFn) -> Vec<u8> {
    // SAFETY: `bytes` holds a whole record and outlives `record`.
    let record = unsafe { RecordRef::outside(bytes) };
    let h = record.header();
    match masked_payload(record.payload_of(&h), h.flags, mask) {
        Some(payload) => store::record_bytes(
            &store::Header {
                flags: h.flags | flag::MASKED,
                ..h
            },
            &payload,
        ),
        None => {
            let payload = record.payload_of(&h);
            let names = value_end(payload, 0)
                .and_then(|api| value_end(payload, api))
                .unwrap_or(0);
            let mut out = payload[..names].to_vec();
            out.push(crate::capture::tag::NULL);
            let flags = (h.flags & !(flag::RESPONSE | flag::ERROR)) | flag::MASKED;
            store::record_bytes(&store::Header { flags, ..h }, &out)
        }
    }
}

/// The payload of a provider record through the mask hook; `None` if it can't be read.
fn masked_payload(payload: &[u8], flags: u8, mask: &MaskFn) -> Option<Vec<u8>> {
    // The provider's name and the API, then the values.
    let api_start = value_end(payload, 0)?;
    let values = value_end(payload, api_start)?;
    let api = std::str::from_utf8(payload.get(api_start + 5..values)?).ok()?;
    let mut tail = vec![PathSegment::Key("request")];
    if flags & flag::RESPONSE != 0 {
        tail.push(PathSegment::Key("response"));
    }
    if flags & flag::ERROR != 0 {
        tail.push(PathSegment::Error);
    }
    let mut out = payload[..values].to_vec();
    mask::apply(
        &payload[values..],
        api,
        None,
        &tail,
        mask,
        &limits::NONE,
        &mut out,
    )?;
    Some(out)
}
