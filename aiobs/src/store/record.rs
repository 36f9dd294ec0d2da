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

/// The fixed part of a record.
#[derive(Clone, Copy)]
#[repr(C)]
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
    /// Zero: makes every byte of a header initialised (no padding), so a header can be copied
    /// as bytes.
    pub pad: [u8; 6],
}

const _: () = assert!(size_of::<Header>() == 80, "a header has no padding");

pub(crate) const HEADER: usize = size_of::<Header>();

/// A whole record (header, then payload) as bytes, for records made outside the store.
pub(crate) fn record_bytes(header: &Header, payload: &[u8]) -> Vec<u8> {
    let header = Header {
        payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        ..*header
    };
    let mut out = vec![0u8; HEADER];
    // SAFETY: `out` has room for a header; `Header` has no padding (asserted above), so every
    // byte written is initialised.
    unsafe { std::ptr::write_unaligned(out.as_mut_ptr().cast::<Header>(), header) };
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
        debug_assert!(bytes.len() >= HEADER);
        RecordRef {
            ptr: bytes.as_ptr(),
        }
    }

    pub(crate) fn header(&self) -> Header {
        // SAFETY: `ptr` points at a header written by `push` and published before it was read.
        unsafe { ptr::read_unaligned(self.ptr as *const Header) }
    }

    #[cfg(test)]
    pub(crate) fn payload(&self) -> &[u8] {
        self.payload_of(&self.header())
    }

    /// The whole record: header and payload.
    pub(crate) fn bytes(&self) -> &[u8] {
        let len = HEADER + self.header().payload_len as usize;
        // SAFETY: the header and its payload are contiguous, published together.
        unsafe { std::slice::from_raw_parts(self.ptr, len) }
    }

    /// The payload, given this record's header (read once by the caller).
    pub(crate) fn payload_of(&self, header: &Header) -> &[u8] {
        let len = header.payload_len as usize;
        // SAFETY: the payload follows the header in the same segment, published with it.
        unsafe { std::slice::from_raw_parts(self.ptr.add(HEADER), len) }
    }
}
