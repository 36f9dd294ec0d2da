//! [`Sink`]: where one event's values are captured, written through a cursor that lives in
//! registers.
//!
//! A capture writes a few short pieces (a tag, a number, a short string) in a row. Written
//! through a `&mut Vec<u8>`, each piece loads the vector's length and capacity from memory and
//! stores the length back, and the next piece waits for that store: the pieces of one value
//! form a chain through memory. The sink instead copies the buffer's pointer, length and
//! capacity into its own fields (which the compiler keeps in registers, since the sink is a
//! local whose address never escapes) and writes the vector's length back only when it hands
//! the vector to out-of-line code ([`Sink::spill`]) and when it is dropped.
//!
//! The inline text path writes text of up to [`encode::SHORT`] bytes that is inside the
//! character limit and the event's budget, when the buffer has room for it and three bytes
//! more (the tag and the length are stored as one 8-byte word).

use super::limits::Limits;
use super::{encode, tag};

/// Where a value is captured: the buffer, the limits that apply, and how far the buffer may
/// grow for this event. For the generated code only.
#[doc(hidden)]
pub struct Sink<'a> {
    /// The buffer. Its length is stale while the sink writes: `len` is the true one, written
    /// back by [`Sink::spill`] and on drop.
    out: &'a mut Vec<u8>,
    /// `out`'s buffer, as of the last reload.
    ptr: *mut u8,
    /// Bytes written: the buffer's true length.
    len: usize,
    /// `out`'s capacity, as of the last reload.
    cap: usize,
    pub(crate) limits: &'a Limits,
    /// Containers stop once the buffer is longer than this: the event's cap.
    pub(crate) budget_end: usize,
}

/// Bytes a sink makes room for when it starts on a buffer that has none, so that the first
/// values of a call on a new buffer (an `async fn`'s own) take the inline paths. A buffer that
/// has room already is left as it is: the inline paths check the room they need, and growing
/// it again for every sink would reallocate an `async fn`'s buffer for its result.
const INITIAL_ROOM: usize = 128;

impl<'a> Sink<'a> {
    /// A sink for one event that starts at the current end of `out`, with the event's whole
    /// capture budget ahead of it (the tests' way to capture one value).
    #[cfg(test)]
    pub(crate) fn new(out: &'a mut Vec<u8>, limits: &'a Limits) -> Sink<'a> {
        let budget_end = out.len().saturating_add(limits.capture_budget());
        Sink::with_budget(out, limits, budget_end)
    }

    /// A sink that writes at the end of `out` and stops containers once `out` is longer than
    /// `budget_end`.
    #[inline(always)]
    pub(crate) fn with_budget(
        out: &'a mut Vec<u8>,
        limits: &'a Limits,
        budget_end: usize,
    ) -> Sink<'a> {
        if out.capacity() == 0 {
            out.reserve(INITIAL_ROOM);
        }
        Sink {
            ptr: out.as_mut_ptr(),
            len: out.len(),
            cap: out.capacity(),
            out,
            limits,
            budget_end,
        }
    }

    /// The buffer's length: where the next byte goes.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Takes the buffer's pointer, length and capacity from the vector again (after
    /// out-of-line code wrote to it).
    #[inline(always)]
    fn reload(&mut self) {
        self.ptr = self.out.as_mut_ptr();
        self.len = self.out.len();
        self.cap = self.out.capacity();
    }

    /// Hands the buffer, with its length up to date, to `write` (out-of-line code: serde, a
    /// `Debug` impl, text that must be cut), then takes its new length and capacity. Only the
    /// vector's address is passed on, never the sink's, so the sink stays in registers.
    #[inline(always)]
    pub(crate) fn spill<R>(&mut self, write: impl FnOnce(&mut Vec<u8>, &Limits, usize) -> R) -> R {
        // SAFETY: `len <= cap`, and every byte below `len` was written by this sink or was
        // there before it.
        unsafe { self.out.set_len(self.len) };
        let result = write(&mut *self.out, self.limits, self.budget_end);
        self.reload();
        result
    }

    /// Writes one tag byte.
    #[inline(always)]
    pub(crate) fn put_tag(&mut self, t: u8) {
        if self.len < self.cap {
            // SAFETY: `len < cap`: the byte is inside the buffer.
            unsafe { self.ptr.add(self.len).write(t) };
            self.len += 1;
        } else {
            self.spill(|out, _, _| out.push(t));
        }
    }

    /// Writes a tag and an 8-byte little-endian word (a number).
    #[inline(always)]
    pub(crate) fn put_word(&mut self, t: u8, word: [u8; 8]) {
        if self.cap - self.len >= 9 {
            // SAFETY: 9 bytes from `len` are inside the buffer.
            unsafe {
                let p = self.ptr.add(self.len);
                p.write(t);
                p.add(1).cast::<[u8; 8]>().write_unaligned(word);
            }
            self.len += 9;
        } else {
            self.spill(|out, _, _| {
                out.push(t);
                out.extend_from_slice(&word);
            });
        }
    }

    /// Captures a string: cut at the character limit, and at the budget's bytes. Short text
    /// inside every limit, with room in the buffer, is written inline; anything else takes
    /// the out-of-line path that cuts and grows.
    #[inline(always)]
    pub(crate) fn put_str(&mut self, s: &str) {
        let n = s.len();
        // Text that short is never cut at the character limit, whatever its characters.
        if n <= encode::SHORT
            && n <= self.limits.str_chars
            && self.len + n <= self.budget_end
            && self.cap - self.len >= 8 + n
        {
            // SAFETY: `8 + n` bytes from `len` are inside the buffer, and `n <= SHORT`.
            unsafe { encode::write_short(self.ptr.add(self.len), tag::STR, s.as_bytes()) };
            self.len += 5 + n;
        } else {
            self.spill(|out, limits, budget_end| put_str_slow(out, limits, budget_end, s));
        }
    }
}

#[inline(never)]
fn put_str_slow(out: &mut Vec<u8>, limits: &Limits, budget_end: usize, s: &str) {
    let max = encode::str_room(out, limits, budget_end);
    encode::put_str(out, s, max);
}

impl Drop for Sink<'_> {
    /// Writes the buffer's true length back into the vector.
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in `spill`.
        unsafe { self.out.set_len(self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline path for short text writes exactly what the general path writes, at every
    /// length around its bounds, under every limit, budget and spare capacity.
    #[test]
    fn short_text_is_written_as_the_general_path_writes_it() {
        let letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let texts: Vec<String> = (0..=40)
            .map(|n| letters[..n].to_owned())
            .chain(
                [
                    "é",
                    "éé",
                    "aé",
                    "日本語",
                    "日本語日本語",
                    "🦀🦀🦀🦀x",
                    "🦀🦀🦀🦀🦀🦀🦀🦀x",
                ]
                .map(String::from),
            )
            .collect();
        for text in &texts {
            for chars in [0, 1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 33, 500] {
                let limits = Limits::new().max_str_chars(chars);
                for budget in [0, 1, 3, 8, 16, 21, 36, 37, 38, 100, usize::MAX] {
                    for spare in [0, 4, 5, 6, 20, 21, 36, 37, 38, 64] {
                        let mut fast = b"pre".to_vec();
                        let mut sink = Sink::with_budget(&mut fast, &limits, usize::MAX);
                        while sink.cap - sink.len > spare {
                            sink.put_tag(b'p');
                        }
                        let at = sink.len();
                        sink.budget_end = at.saturating_add(budget);
                        sink.put_str(text);
                        drop(sink);
                        let mut general = fast[..at].to_vec();
                        let max = encode::str_room(&general, &limits, at.saturating_add(budget));
                        encode::put_str(&mut general, text, max);
                        assert_eq!(
                            fast, general,
                            "{text:?}, {chars} chars, budget {budget}, {spare} spare"
                        );
                    }
                }
            }
        }
    }

    /// Tags and words written inline and through the vector line up, whether or not the
    /// buffer had room, and the vector's length is right after every spill and at the end.
    #[test]
    fn pieces_land_in_order_across_inline_writes_and_spills() {
        let limits = Limits::new();
        let mut inline = Vec::with_capacity(4096);
        let mut spilled = Vec::new();
        for out in [&mut inline, &mut spilled] {
            let mut sink = Sink::new(out, &limits);
            for i in 0..200u64 {
                sink.put_tag(tag::SEQ);
                sink.put_word(tag::U64, i.to_le_bytes());
                sink.put_str("xyz");
                let len = sink.spill(|out, _, _| out.len());
                assert_eq!(len, sink.len());
                sink.put_tag(tag::END);
            }
        }
        assert_eq!(inline, spilled);
        assert_eq!(inline.len(), 200 * (1 + 9 + 8 + 1));
        let mut expected = Vec::new();
        for i in 0..200u64 {
            expected.push(tag::SEQ);
            expected.push(tag::U64);
            expected.extend_from_slice(&i.to_le_bytes());
            expected.push(tag::STR);
            expected.extend_from_slice(&3u32.to_le_bytes());
            expected.extend_from_slice(b"xyz");
            expected.push(tag::END);
        }
        assert_eq!(inline, expected);
    }
}
