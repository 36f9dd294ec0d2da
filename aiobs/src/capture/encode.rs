//! A serde `Serializer` that writes a value into a compact tagged byte form, applying the
//! capture limits while it runs. JSON text is made from these bytes only at flush
//! ([`super::render`]), so a recorded call never formats a number or escapes a string.
//!
//! Limits ([`Limits`]; those of the Python SDK by default): strings keep 500 characters and are
//! marked cut (rendered with `...`), sequences keep 10 items, maps 20 entries, map keys 100
//! characters. A sequence or map stops the serialisation of its own value at the limit (by an
//! internal error that its parent catches), so a million-element vector costs eleven element
//! calls, not a million. Containers also stop once the event's bytes pass its cap (the
//! budget), so a value that is wide at every level is bounded too.

use std::fmt;

use serde::ser::{self, Serialize};

use super::limits::Limits;
use super::tag;
/// Containers nested deeper than this are written as `"<max depth>"` (a deep recursive value
/// must not overflow the stack of the thread that calls the observed function).
pub const MAX_DEPTH: u32 = 64;

/// Why a serialisation stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A container reached its limit: the caught, ordinary way to end early.
    Limit,
    /// The value's `Serialize` failed.
    Failed,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Limit => "capture limit reached",
            Stop::Failed => "serialize failed",
        })
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Stop::Failed
    }
}

/// Byte index where `s` must be cut to keep `max` characters, or `None` if it fits.
#[inline]
pub(crate) fn cut_index(s: &str, max: usize) -> Option<usize> {
    if s.len() <= max {
        return None; // at most `len` characters
    }
    s.char_indices().nth(max).map(|(i, _)| i)
}

#[inline]
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str, max: usize) {
    // A length must fit the u32 of the byte form.
    let max = max.min(u32::MAX as usize / 4);
    let (bytes, t) = match cut_index(s, max) {
        Some(i) => (&s.as_bytes()[..i], tag::STR_CUT),
        None => (s.as_bytes(), tag::STR),
    };
    put_tagged(out, t, bytes);
}

/// Writes `tag`, the length of `bytes` (u32) and `bytes`: one capacity check, and short text
/// (names, ids, labels) copied with two overlapping word moves instead of a `memcpy` call.
#[inline(always)]
fn put_tagged(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    let n = bytes.len();
    out.reserve(5 + n);
    let at = out.len();
    // SAFETY: `reserve` made room for `5 + n` bytes from `at`; the bytes up to the
    // new length are all written before `set_len`, and `bytes` doesn't overlap `out`.
    unsafe {
        write_text(out.as_mut_ptr().add(at), tag, bytes);
        out.set_len(at + 5 + n);
    }
}

/// The longest text the sink's inline path writes: ids, names, model names, short messages.
pub(crate) const SHORT: usize = 32;

/// Writes `tag`, the length (u32) and `bytes` at `p`, and returns where they end. Text of up
/// to [`SHORT`] bytes is copied with two overlapping moves (inside its own bytes) rather than
/// a `memcpy` call.
///
/// # Safety
///
/// `p` is valid for writing `5 + bytes.len()` bytes, which don't overlap `bytes`,
/// and `bytes.len()` fits a u32.
#[inline(always)]
pub(crate) unsafe fn write_text(p: *mut u8, tag: u8, bytes: &[u8]) -> *mut u8 {
    let n = bytes.len();
    // SAFETY: the caller's contract.
    unsafe {
        p.write(tag);
        p.add(1)
            .cast::<[u8; 4]>()
            .write_unaligned((n as u32).to_le_bytes());
        if n > SHORT {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(5), n);
        } else {
            crate::bytes::copy_short(bytes.as_ptr(), p.add(5), n);
        }
        p.add(5 + n)
    }
}

/// As [`write_text`] for text of at most [`SHORT`] bytes, with room for three bytes more:
/// the tag and the length are stored as one 8-byte word (its last three bytes are then
/// overwritten by the text, or lie past it), and there is no `memcpy` branch.
///
/// # Safety
///
/// `p` is valid for writing `8 + bytes.len()` bytes, which don't overlap `bytes`, and
/// `bytes.len() <= SHORT`.
#[inline(always)]
pub(crate) unsafe fn write_short(p: *mut u8, tag: u8, bytes: &[u8]) {
    let n = bytes.len();
    // SAFETY: the caller's contract (checked in debug builds by `assert_unchecked`).
    unsafe {
        std::hint::assert_unchecked(n <= SHORT);
        let word = u64::from(tag) | ((n as u64) << 8);
        p.cast::<[u8; 8]>().write_unaligned(word.to_le_bytes());
        crate::bytes::copy_short(bytes.as_ptr(), p.add(5), n);
    }
}

/// Serialise `value` into `out`. On a failed `Serialize`, `out` is left as it was and `Err` is
/// returned so that the caller can write a placeholder.
pub(crate) fn encode<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    limits: &Limits,
    budget_end: usize,
) -> Result<(), ()> {
    let start = out.len();
    match value.serialize(Encoder {
        out: &mut *out,
        limits,
        budget_end,
        depth: 0,
    }) {
        Ok(()) => Ok(()),
        Err(Stop::Limit) => Ok(()), // a top-level container closed itself before stopping
        Err(Stop::Failed) => {
            out.truncate(start);
            Err(())
        }
    }
}

/// Serialise one element of a container, turning a child's `Limit` stop into a closed child.
/// A failed child is replaced by its type-name placeholder before the failure is passed on, so
/// the byte form stays whole even if the parent's `Serialize` ignores the error.
fn element<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    limits: &Limits,
    budget_end: usize,
    depth: u32,
) -> Result<(), Stop> {
    let start = out.len();
    match value.serialize(Encoder {
        out: &mut *out,
        limits,
        budget_end,
        depth,
    }) {
        Ok(()) | Err(Stop::Limit) => Ok(()),
        Err(Stop::Failed) => {
            out.truncate(start);
            super::put_type_name(out, std::any::type_name::<T>());
            Err(Stop::Failed)
        }
    }
}

pub(crate) struct Encoder<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    /// The limits (none for provider requests and responses).
    pub(crate) limits: &'a Limits,
    /// Containers stop adding items once `out` is longer than this (the event's cap).
    pub(crate) budget_end: usize,
    /// How many containers this value is inside.
    pub(crate) depth: u32,
}

/// Characters a string may keep: the limit, and no more bytes than the budget has left.
#[inline]
pub(crate) fn str_room(out: &[u8], limits: &Limits, budget_end: usize) -> usize {
    limits.str_chars.min(budget_end.saturating_sub(out.len()))
}

impl Encoder<'_> {
    fn scalar(self, t: u8, bytes: &[u8]) -> Result<(), Stop> {
        self.out.push(t);
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn key_str(&mut self, key: &str) {
        put_str(self.out, key, self.limits.key_chars);
    }
}

/// A sequence or map being written: counts its items and stops at the limit. It closes itself
/// exactly once, whatever the value's `Serialize` does: at the limit, at `end`, or when dropped.
pub(crate) struct Compound<'a> {
    out: &'a mut Vec<u8>,
    limits: &'a Limits,
    budget_end: usize,
    /// The depth of this container's items.
    depth: u32,
    count: usize,
    max: usize,
    /// How many items the value said it has, if it said.
    len: Option<usize>,
    /// A map (its marker is an entry), or a sequence (its marker is an item).
    is_map: bool,
    /// Written after the items: END, or END twice for an enum variant's `{"V": [..]}`.
    closing: &'static [u8],
    /// Closed already (the limit was reached, or `end` ran).
    done: bool,
    /// A map key was written and its value not yet.
    key_pending: bool,
}

impl<'a> Compound<'a> {
    /// Opens a container; past the depth limit, writes `"<max depth>"` and stops this value.
    fn open(
        enc: Encoder<'a>,
        opening: &[u8],
        len: Option<usize>,
        closing: &'static [u8],
    ) -> Result<Self, Stop> {
        let is_map = opening == [tag::MAP];
        // `opening` may hold a variant's `{"V":` already written by the caller.
        if enc.depth >= MAX_DEPTH {
            put_str(enc.out, "<max depth>", usize::MAX);
            let extra = closing.len() - 1; // close a variant wrapper already opened
            enc.out.extend(std::iter::repeat_n(tag::END, extra));
            return Err(Stop::Limit);
        }
        enc.out.extend_from_slice(opening);
        let max = if is_map {
            enc.limits.entries
        } else {
            enc.limits.items
        };
        Ok(Compound {
            out: enc.out,
            limits: enc.limits,
            budget_end: enc.budget_end,
            depth: enc.depth + 1,
            count: 0,
            max,
            len,
            is_map,
            closing,
            done: false,
            key_pending: false,
        })
    }

    /// Whether one more item may be written; at the limit (or past the event's budget),
    /// closes the container with a marker and stops.
    fn admit(&mut self) -> Result<(), Stop> {
        if self.done {
            return Err(Stop::Limit);
        }
        if self.count == self.max || self.out.len() > self.budget_end {
            if self.limits.markers && !self.key_pending {
                let more = self.len.map(|len| len.saturating_sub(self.count));
                put_more(self.out, self.is_map, more);
            }
            self.finish();
            return Err(Stop::Limit);
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the closing tags, once; a key left without a value gets `null`.
    fn finish(&mut self) {
        if !self.done {
            if self.key_pending {
                self.out.push(tag::NULL);
                self.key_pending = false;
            }
            self.out.extend_from_slice(self.closing);
            self.done = true;
        }
    }

    fn close(mut self) -> Result<(), Stop> {
        self.finish();
        Ok(())
    }

    fn key(&mut self, key: &str) {
        put_str(self.out, key, self.limits.key_chars);
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        element(self.out, value, self.limits, self.budget_end, self.depth)
    }
}

/// The marker of a cut container: an item `"[+N more items]"` in a sequence, an entry
/// `"...": "[+N more entries]"` in a map (`"[+more items]"` when the length is unknown).
pub(crate) fn put_more(out: &mut Vec<u8>, is_map: bool, more: Option<usize>) {
    let what = if is_map { "entries" } else { "items" };
    let text = match more {
        Some(n) => format!("[+{n} more {what}]"),
        None => format!("[+more {what}]"),
    };
    if is_map {
        put_str(out, "...", usize::MAX);
    }
    put_str(out, &text, usize::MAX);
}

impl Drop for Compound<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

const END: &[u8] = &[tag::END];
const END2: &[u8] = &[tag::END, tag::END];

impl<'a> ser::Serializer for Encoder<'a> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Stop> {
        self.out.push(if v { tag::TRUE } else { tag::FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Stop> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Stop> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Stop> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Stop> {
        self.scalar(tag::I64, &v.to_le_bytes())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Stop> {
        self.scalar(tag::I128, &v.to_le_bytes())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Stop> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Stop> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Stop> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Stop> {
        self.scalar(tag::U64, &v.to_le_bytes())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Stop> {
        self.scalar(tag::U128, &v.to_le_bytes())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.scalar(tag::F32, &v.to_le_bytes())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.scalar(tag::F64, &v.to_le_bytes())
    }
    fn serialize_char(self, v: char) -> Result<(), Stop> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Stop> {
        let max = str_room(self.out, self.limits, self.budget_end);
        put_str(self.out, v, max);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Stop> {
        // As serde_json: an array of numbers.
        self.out.push(tag::SEQ);
        let max = self.limits.items;
        for b in v.iter().take(max) {
            self.out.push(tag::U64);
            self.out.extend_from_slice(&u64::from(*b).to_le_bytes());
        }
        if v.len() > max && self.limits.markers {
            put_more(self.out, false, Some(v.len() - max));
        }
        self.out.push(tag::END);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        self.out.push(tag::NULL);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Stop> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        let mut this = self;
        if this.depth >= MAX_DEPTH {
            // A chain of newtype variants (`Cons(Box<List>)`) nests without a container.
            put_str(this.out, "<max depth>", usize::MAX);
            return Ok(());
        }
        this.out.push(tag::MAP);
        this.key_str(variant);
        let result = element(
            this.out,
            value,
            this.limits,
            this.budget_end,
            this.depth + 1,
        );
        this.out.push(tag::END);
        result
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, Stop> {
        Compound::open(self, &[tag::SEQ], len, END)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Stop> {
        let mut this = self;
        this.out.push(tag::MAP);
        this.key_str(variant);
        Compound::open(this, &[tag::SEQ], Some(len), END2)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, Stop> {
        Compound::open(self, &[tag::MAP], len, END)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Stop> {
        let mut this = self;
        this.out.push(tag::MAP);
        this.key_str(variant);
        Compound::open(this, &[tag::MAP], Some(len), END2)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.admit()?;
        self.item(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.admit()?;
        if self.key_pending {
            self.out.push(tag::NULL); // the previous key got no value
        }
        self.key_pending = true;
        let max = self.limits.key_chars;
        let start = self.out.len();
        match key.serialize(KeyEncoder { out: self.out, max }) {
            Ok(()) | Err(Stop::Limit) => Ok(()), // Limit: a compound key, written as "<key>"
            Err(Stop::Failed) => {
                self.out.truncate(start);
                put_str(self.out, "<key>", usize::MAX);
                Err(Stop::Failed)
            }
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if self.done {
            return Err(Stop::Limit);
        }
        if !self.key_pending {
            put_str(self.out, "<key>", usize::MAX); // a value without a key
        }
        self.key_pending = false;
        self.item(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.admit()?;
        self.key(key);
        self.item(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

/// Map keys become strings, as in serde_json (numbers, bools and chars are written as text);
/// a key that is a sequence or a map is written as `"<key>"`.
struct KeyEncoder<'a> {
    out: &'a mut Vec<u8>,
    max: usize,
}

impl KeyEncoder<'_> {
    fn text(self, s: &str) -> Result<(), Stop> {
        put_str(self.out, s, self.max);
        Ok(())
    }
    fn display(self, v: impl fmt::Display) -> Result<(), Stop> {
        self.text(&v.to_string())
    }
}

type Impossible = ser::Impossible<(), Stop>;

impl ser::Serializer for KeyEncoder<'_> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Impossible;
    type SerializeTuple = Impossible;
    type SerializeTupleStruct = Impossible;
    type SerializeTupleVariant = Impossible;
    type SerializeMap = Impossible;
    type SerializeStruct = Impossible;
    type SerializeStructVariant = Impossible;

    fn serialize_bool(self, v: bool) -> Result<(), Stop> {
        self.text(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.display(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Stop> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Stop> {
        self.text(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Stop> {
        self.text("<key>")
    }
    fn serialize_none(self) -> Result<(), Stop> {
        self.text("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        self.text("null")
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Stop> {
        self.text(name)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<(), Stop> {
        self.text(variant)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Impossible, Stop> {
        self.text("<key>")?;
        Err(Stop::Limit)
    }
    fn serialize_tuple(self, len: usize) -> Result<Impossible, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Impossible, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Impossible, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Impossible, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Impossible, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible, Stop> {
        self.serialize_seq(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_every_short_length_is_written_whole_and_nothing_after_it() {
        let text = "aé€😀 0123456789abcdefghijklmnopqrstuvwxyz";
        for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
            let s = &text[..end];
            let mut out = vec![0xAA]; // a byte already there stays
            put_str(&mut out, s, usize::MAX);
            let mut want = vec![0xAA, tag::STR];
            want.extend_from_slice(&(s.len() as u32).to_le_bytes());
            want.extend_from_slice(s.as_bytes());
            assert_eq!(out, want, "{s:?}");
            put_str(&mut out, "z", usize::MAX);
            assert_eq!(&out[want.len()..], &[tag::STR, 1, 0, 0, 0, b'z']);
        }
    }

    #[test]
    fn text_over_the_limit_is_cut_at_a_character() {
        let mut out = Vec::new();
        put_str(&mut out, "é€😀x", 2);
        let mut want = vec![tag::STR_CUT];
        want.extend_from_slice(&5u32.to_le_bytes());
        want.extend_from_slice("é€".as_bytes());
        assert_eq!(out, want);
    }
}
