//! Capturing one value, chosen at compile time by autoref specialisation on [`Wrap`]: a
//! [`Plain`] value directly, else through `Serialize`, else as its `Debug` text, else as
//! `"<TypeName>"`. Each way is a trait one autoref level below the previous.

use std::fmt::{self, Write as _};

use super::sink::Sink;
use super::{encode, put_type_name, tag};

/// Runs a capture on the buffer, and writes the type-name placeholder if it fails or panics.
fn guarded(
    out: &mut Vec<u8>,
    name: &'static str,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), ()>,
) {
    let start = out.len();
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(&mut *out)));
    if !matches!(ok, Ok(Ok(()))) {
        out.truncate(start);
        put_type_name(out, name);
    }
}

/// Captures a `Serialize` value into the byte form, limits applied.
pub(crate) fn capture_serialize<T: serde::Serialize + ?Sized>(sink: &mut Sink<'_>, value: &T) {
    sink.spill(|out, limits, budget_end| {
        guarded(out, std::any::type_name::<T>(), |out| {
            encode::encode(out, value, limits, budget_end)
        });
    });
}

/// Captures a `Debug` value as its (cut) Debug text.
pub(crate) fn capture_debug<T: fmt::Debug + ?Sized>(sink: &mut Sink<'_>, value: &T) {
    sink.spill(|out, limits, budget_end| {
        guarded(out, std::any::type_name::<T>(), |out| {
            let max = encode::str_room(out, limits, budget_end);
            let start = out.len();
            out.push(tag::DEBUG);
            out.extend_from_slice(&[0; 4]);
            let mut w = Limited {
                out: &mut *out,
                chars: 0,
                max,
                cut: false,
            };
            let res = write!(w, "{value:?}");
            let cut = w.cut;
            if res.is_err() && !cut {
                return Err(()); // the Debug impl itself failed
            }
            let len = (out.len() - start - 5) as u32;
            out[start] = if cut { tag::DEBUG_CUT } else { tag::DEBUG };
            out[start + 1..start + 5].copy_from_slice(&len.to_le_bytes());
            Ok(())
        });
    });
}

/// Captures anything as `"<TypeName>"`.
pub(crate) fn capture_type_name<T: ?Sized>(sink: &mut Sink<'_>) {
    sink.spill(|out, _, _| put_type_name(out, std::any::type_name::<T>()));
}

/// A `fmt::Write` that keeps the first `max` characters and then stops the formatting with an
/// error, so a huge `Debug` output is never produced whole.
struct Limited<'a> {
    out: &'a mut Vec<u8>,
    chars: usize,
    max: usize,
    cut: bool,
}

impl fmt::Write for Limited<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max - self.chars;
        match encode::cut_index(s, room) {
            None => {
                self.out.extend_from_slice(s.as_bytes());
                self.chars += s.chars().count();
                Ok(())
            }
            Some(i) => {
                self.out.extend_from_slice(&s.as_bytes()[..i]);
                self.chars = self.max;
                self.cut = true;
                Err(fmt::Error)
            }
        }
    }
}

/// The autoref-specialisation wrapper; see the module docs. For the generated code only.
#[doc(hidden)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Wrap<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Wrap<'_, T> {}

/// Types whose `Serialize` can neither fail nor panic (numbers, text, and containers of them):
/// captured without the panic guard (a call that can't be inlined), and numbers and text
/// without going through serde at all.
#[doc(hidden)]
pub trait Plain: serde::Serialize {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        sink.spill(|out, limits, budget_end| {
            if encode::encode(out, self, limits, budget_end).is_err() {
                put_type_name(out, std::any::type_name::<Self>());
            }
        });
    }
}

macro_rules! plain_number {
    ($tag:ident: $($t:ty as $wide:ty),*) => {$(
        impl Plain for $t {
            #[inline]
            fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
                sink.put_word(tag::$tag, <$wide>::from(*self).to_le_bytes());
            }
        }
    )*};
}
plain_number!(U64: u8 as u64, u16 as u64, u32 as u64, u64 as u64);
plain_number!(I64: i8 as i64, i16 as i64, i32 as i64, i64 as i64);
plain_number!(F64: f64 as f64);
impl Plain for str {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        sink.put_str(self);
    }
}
impl Plain for String {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        sink.put_str(self);
    }
}
impl Plain for bool {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        sink.put_tag(if *self { tag::TRUE } else { tag::FALSE });
    }
}
impl Plain for char {}
impl Plain for u128 {}
impl Plain for i128 {}
impl Plain for usize {}
impl Plain for isize {}
impl Plain for f32 {}
impl Plain for () {}
impl<T: Plain + ?Sized> Plain for &T {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        (**self).__aiobs_encode(sink);
    }
}
impl<T: Plain + ?Sized> Plain for &mut T {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        (**self).__aiobs_encode(sink);
    }
}
impl<T: Plain + ?Sized> Plain for Box<T> {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        (**self).__aiobs_encode(sink);
    }
}
impl<T: Plain> Plain for Option<T> {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        match self {
            Some(v) => v.__aiobs_encode(sink),
            None => sink.put_tag(tag::NULL),
        }
    }
}
impl<T: Plain> Plain for [T] {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        sink.put_tag(tag::SEQ);
        let items = &self[..self.len().min(sink.limits.items)];
        let mut written = items.len();
        for (i, item) in items.iter().enumerate() {
            if sink.len() > sink.budget_end {
                written = i; // the event's budget: the rest is counted in the marker
                break;
            }
            item.__aiobs_encode(sink);
        }
        if self.len() > written && sink.limits.markers {
            let more = self.len() - written;
            sink.spill(|out, _, _| encode::put_more(out, false, Some(more)));
        }
        sink.put_tag(tag::END);
    }
}
impl<T: Plain> Plain for Vec<T> {
    #[inline]
    fn __aiobs_encode(&self, sink: &mut Sink<'_>) {
        self.as_slice().__aiobs_encode(sink);
    }
}

/// Capture of a [`Plain`] value (the first choice).
#[doc(hidden)]
pub trait ViaPlain {
    fn __aiobs_capture(self, sink: &mut Sink<'_>);
}
impl<T: Plain + ?Sized> ViaPlain for &&&Wrap<'_, T> {
    #[inline]
    fn __aiobs_capture(self, sink: &mut Sink<'_>) {
        self.0.__aiobs_encode(sink);
    }
}

/// Capture through `Serialize` (the second choice).
#[doc(hidden)]
pub trait ViaSerialize {
    fn __aiobs_capture(self, sink: &mut Sink<'_>);
}
impl<T: serde::Serialize + ?Sized> ViaSerialize for &&Wrap<'_, T> {
    #[inline]
    fn __aiobs_capture(self, sink: &mut Sink<'_>) {
        capture_serialize(sink, self.0);
    }
}

/// Capture through `Debug` (the third choice).
#[doc(hidden)]
pub trait ViaDebug {
    fn __aiobs_capture(self, sink: &mut Sink<'_>);
}
impl<T: fmt::Debug + ?Sized> ViaDebug for &Wrap<'_, T> {
    #[inline]
    fn __aiobs_capture(self, sink: &mut Sink<'_>) {
        capture_debug(sink, self.0);
    }
}

/// Capture as `"<TypeName>"` (the last choice).
#[doc(hidden)]
pub trait ViaTypeName {
    fn __aiobs_capture(self, sink: &mut Sink<'_>);
}
impl<T: ?Sized> ViaTypeName for Wrap<'_, T> {
    #[inline]
    fn __aiobs_capture(self, sink: &mut Sink<'_>) {
        capture_type_name::<T>(sink);
    }
}
