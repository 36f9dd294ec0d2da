//! The stored record: a fixed [`Header`] followed by `payload_len` bytes of captured values,
//! and the static [`FnMeta`] a function event's header points to.

use std::panic::Location;
use std::ptr;

use crate::clock::Instant;

/// The static description of an observed function, one per annotated function.
#[doc(hidden)]
#[derive(Debug)]
pub struct FnMeta {
    /// Display name: the `name` option, else the identifier.
    pub name: &'static str,
    /// The function's identifier.
    pub ident: &'static str,
    /// `module_path!()`.
    pub module: &'static str,
    /// Names of the captured arguments, in declaration order.
    pub arg_names: &'static [&'static str],
    /// Arguments marked `safe(..)`: their names are not taken for secrets.
    pub safe_args: &'static [&'static str],
    pub capture_args: bool,
    pub capture_result: bool,
    pub enh_prompt: bool,
    pub auto_enhance_after: Option<u64>,
    /// Where the event is defined (file, line), written as its `callsite` when the record has
    /// no caller `Location`: a `tracing` span's metadata. `None` for observed functions.
    pub defined_at: Option<(&'static str, u32)>,
}

/// What kind of event a record holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Kind {
    Function = 0,
    Provider = 1,
    /// An HTTP exchange with an LLM API, turned into a `Provider` record at flush.
    Exchange = 2,
    /// A root call that head sampling dropped: counted, not written.
    Dropped = 3,
}

/// Flags of a record.
pub(crate) mod flag {
    /// The payload starts with the arguments (a SEQ).
    pub const ARGS: u8 = 1;
    /// The payload has the result value.
    pub const RESULT: u8 = 2;
    /// The payload ends with the error text (a STR).
    pub const ERROR: u8 = 4;
    /// The arguments could not be captured (re-entrant capture); write them as null.
    pub const ARGS_LOST: u8 = 8;
    /// Provider events: the payload has a response value.
    pub const RESPONSE: u8 = 16;
    /// Provider events: the values went through the mask hook already.
    pub const MASKED: u8 = 32;
    /// Provider events: the answer was replayed from a recording, not sent over the network.
    pub const REPLAYED: u8 = 64;
}

/// A record's header, as the recorder writes it and the flush reads it. It is stored in a
/// compact form ([`Stored`]): the fields most calls leave empty (`enh_id`, `self_ty`) take
/// room in the log only when set.
#[derive(Clone, Copy)]
pub(crate) struct Header {
    pub span: u64,
    pub parent: u64,
    /// 0 when the call is not an `enh_prompt` call.
    pub enh_id: u64,
    pub start: Instant,
    pub end: Instant,
    /// Function events: the static description of the function.
    pub meta: Option<&'static FnMeta>,
    /// Methods: `type_name::<Self>`.
    pub self_ty: Option<fn() -> &'static str>,
    pub location: Option<&'static Location<'static>>,
    /// The collector's session slot the event belongs to.
    pub session: u32,
    pub payload_len: u32,
    pub kind: Kind,
    pub flags: u8,
}

/// Which optional fields follow a stored header, in this order.
mod ext {
    /// The `enh_prompt` id, 8 bytes.
    pub const ENH_ID: u8 = 1;
    /// `type_name::<Self>`, a function pointer.
    pub const SELF_TY: u8 = 2;
}

/// The fixed part of a record in the log, then (as `ext` says) the optional fields, then the
/// payload. 64 bytes, a cache line: the 16 bytes of the two rarely used fields are written
/// only for the calls that have them, which saves a sixth of the bytes an `add` stores.
#[derive(Clone, Copy)]
#[repr(C)]
struct Stored {
    span: u64,
    parent: u64,
    start: Instant,
    end: Instant,
    meta: Option<&'static FnMeta>,
    location: Option<&'static Location<'static>>,
    session: u32,
    payload_len: u32,
    kind: Kind,
    flags: u8,
    ext: u8,
    /// Zero: makes every byte of a stored header initialised (no padding), so a record can be
    /// copied as bytes.
    pad: [u8; 5],
}

const _: () = assert!(size_of::<Stored>() == 64, "a stored header has no padding");
const _: () = assert!(size_of::<Option<fn() -> &'static str>>() == 8);

/// Bytes of a stored header, without its optional fields.
const STORED: usize = size_of::<Stored>();

/// Bytes the optional fields named by `ext` take (8 each).
#[inline(always)]
fn ext_len(ext: u8) -> usize {
    8 * ext.count_ones() as usize
}

impl Header {
    /// Which optional fields follow the stored header.
    #[inline(always)]
    fn ext(&self) -> u8 {
        ((self.enh_id != 0) as u8 * ext::ENH_ID) | (self.self_ty.is_some() as u8 * ext::SELF_TY)
    }

    /// Bytes the optional fields take.
    #[inline(always)]
    fn ext_len(&self) -> usize {
        ext_len(self.ext())
    }

    /// Bytes this record takes in a log: the stored header, its optional fields and the
    /// payload.
    #[inline(always)]
    pub(crate) fn record_len(&self) -> usize {
        STORED + self.ext_len() + self.payload_len as usize
    }

    /// Writes the stored header and its optional fields at `at`, and returns where the payload
    /// starts.
    ///
    /// # Safety
    /// `at` has room for `STORED + ext_len()` bytes.
    #[inline(always)]
    pub(crate) unsafe fn write(&self, at: *mut u8) -> *mut u8 {
        let ext = self.ext();
        let stored = Stored {
            span: self.span,
            parent: self.parent,
            start: self.start,
            end: self.end,
            meta: self.meta,
            location: self.location,
            session: self.session,
            payload_len: self.payload_len,
            kind: self.kind,
            flags: self.flags,
            ext,
            pad: [0; 5],
        };
        // Written from the caller's values: a header built on the stack and copied as a whole
        // would be read back before its stores retired (a store-forwarding stall).
        // SAFETY: the caller gives room for the stored header and the optional fields.
        unsafe {
            ptr::write_unaligned(at.cast::<Stored>(), stored);
            let mut p = at.add(STORED);
            if self.enh_id != 0 {
                ptr::write_unaligned(p.cast::<u64>(), self.enh_id);
                p = p.add(8);
            }
            if let Some(f) = self.self_ty {
                ptr::write_unaligned(p.cast::<fn() -> &'static str>(), f);
                p = p.add(8);
            }
            p
        }
    }
}

/// A whole record (header, then payload) as bytes, for records made outside the store.
pub(crate) fn record_bytes(header: &Header, payload: &[u8]) -> Vec<u8> {
    let header = Header {
        payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        ..*header
    };
    let start = header.record_len() - payload.len();
    let mut out = vec![0u8; start];
    // SAFETY: `out` has room for the stored header and its optional fields; `Stored` has no
    // padding (asserted above), so every byte written is initialised.
    unsafe { header.write(out.as_mut_ptr()) };
    out.extend_from_slice(payload);
    out
}

/// A record read by a flush: valid until that flush marks its log (the bytes are not freed
/// before [`Log::commit`]).
#[derive(Clone, Copy)]
pub(crate) struct RecordRef {
    ptr: *const u8,
}

impl RecordRef {
    /// The record that starts at `ptr` in a log.
    ///
    /// # Safety
    /// `ptr` points at a published record that outlives every use of the returned reference.
    pub(super) unsafe fn at(ptr: *const u8) -> RecordRef {
        RecordRef { ptr }
    }

    /// A record held outside the store (a header followed by its payload).
    ///
    /// # Safety
    /// `bytes` holds a whole record and outlives every use of the returned reference.
    pub(crate) unsafe fn outside(bytes: &[u8]) -> RecordRef {
        debug_assert!(bytes.len() >= STORED);
        RecordRef {
            ptr: bytes.as_ptr(),
        }
    }

    pub(crate) fn header(&self) -> Header {
        // SAFETY: `ptr` points at a record written by `Header::write` and published before it
        // was read: a stored header, then the optional fields its `ext` names.
        unsafe {
            let s = ptr::read_unaligned(self.ptr as *const Stored);
            let mut p = self.ptr.add(STORED);
            let mut enh_id = 0;
            if s.ext & ext::ENH_ID != 0 {
                enh_id = ptr::read_unaligned(p.cast::<u64>());
                p = p.add(8);
            }
            let self_ty = if s.ext & ext::SELF_TY != 0 {
                Some(ptr::read_unaligned(p.cast::<fn() -> &'static str>()))
            } else {
                None
            };
            Header {
                span: s.span,
                parent: s.parent,
                enh_id,
                start: s.start,
                end: s.end,
                meta: s.meta,
                self_ty,
                location: s.location,
                session: s.session,
                payload_len: s.payload_len,
                kind: s.kind,
                flags: s.flags,
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn payload(&self) -> &[u8] {
        self.payload_of(&self.header())
    }

    /// Bytes the whole record takes, read from its stored header alone (the optional fields
    /// are not decoded): how a reader steps to the next record.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: as in `header`: a stored header starts at `ptr`.
        let s = unsafe { ptr::read_unaligned(self.ptr as *const Stored) };
        STORED + ext_len(s.ext) + s.payload_len as usize
    }

    /// The whole record: header and payload.
    pub(crate) fn bytes(&self) -> &[u8] {
        let len = self.len();
        // SAFETY: the header and its payload are contiguous, published together.
        unsafe { std::slice::from_raw_parts(self.ptr, len) }
    }

    /// The payload, given this record's header (read once by the caller).
    pub(crate) fn payload_of(&self, header: &Header) -> &[u8] {
        let len = header.payload_len as usize;
        let start = header.record_len() - len;
        // SAFETY: the payload follows the header in the same segment, published with it.
        unsafe { std::slice::from_raw_parts(self.ptr.add(start), len) }
    }
}
