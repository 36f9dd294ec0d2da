//! Turns the byte form of [`crate::capture::encode`] into JSON text, at flush, scrubbing as it
//! goes.

use std::io::{self, Write};

use crate::capture::walk::{corrupt, read_type_name, take, value_end};
use crate::capture::{short_type_name, tag};
use crate::scrub::{REDACTED, Scrubbing};

/// Writes a JSON string, escaped as serde_json does (`"`, `\\`, and control characters).
pub(crate) fn write_str<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.write_all(b"\"")?;
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.write_all(&bytes[plain..i])?;
                out.write_all(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ])?;
                plain = i + 1;
                continue;
            }
            _ => continue,
        };
        out.write_all(&bytes[plain..i])?;
        out.write_all(escape)?;
        plain = i + 1;
    }
    out.write_all(&bytes[plain..])?;
    out.write_all(b"\"")
}

/// Writes a finite float as JSON (`null` for NaN and the infinities, as serde_json does).
pub(crate) fn write_f64<W: Write + ?Sized>(out: &mut W, v: f64) -> io::Result<()> {
    if v.is_finite() {
        out.write_all(zmij::Buffer::new().format_finite(v).as_bytes())
    } else {
        out.write_all(b"null")
    }
}

/// Where a container is in its items, to place commas and colons.
#[derive(Clone, Copy)]
pub(crate) enum Frame {
    Seq {
        first: bool,
    },
    /// `key` is true when the next token is a key; `redact` when the value after the key
    /// just written is a secret.
    Map {
        first: bool,
        key: bool,
        redact: bool,
    },
}

/// Renders one value starting at `*pos` and leaves `*pos` after it.
///
/// The bytes are trusted: they were written by this crate's encoder.
#[cfg(test)]
pub(crate) fn render_value<W: Write + ?Sized>(
    bytes: &[u8],
    pos: &mut usize,
    out: &mut W,
) -> io::Result<()> {
    render_value_with(bytes, pos, out, &mut Vec::new(), &Scrubbing::off())
}

/// [`render_value`] with a caller-kept stack, to render many values without allocating, and
/// scrubbing rules: values under secret keys become the marker, secrets in text are replaced.
pub(crate) fn render_value_with<W: Write + ?Sized>(
    bytes: &[u8],
    pos: &mut usize,
    out: &mut W,
    stack: &mut Vec<Frame>,
    rules: &Scrubbing,
) -> io::Result<()> {
    stack.clear();
    loop {
        let t = *bytes.get(*pos).ok_or_else(corrupt)?;
        *pos += 1;
        // Set when this token is a map key (not scrubbed as text; decides its value).
        let mut is_key = false;
        if t == tag::END {
            match stack.pop() {
                Some(Frame::Seq { .. }) => out.write_all(b"]")?,
                Some(Frame::Map { .. }) => out.write_all(b"}")?,
                None => {}
            }
        } else {
            // Separator before this token.
            match stack.last_mut() {
                Some(Frame::Seq { first }) => {
                    if !*first {
                        out.write_all(b",")?;
                    }
                    *first = false;
                }
                Some(Frame::Map { first, key, redact }) => {
                    if *key {
                        if !*first {
                            out.write_all(b",")?;
                        }
                        *first = false;
                        is_key = true;
                    } else {
                        out.write_all(b":")?;
                        if std::mem::take(redact) {
                            // A secret: the marker, and the value's bytes skipped unread.
                            *key = true;
                            write_str(out, REDACTED)?;
                            *pos = value_end(bytes, *pos - 1).ok_or_else(corrupt)?;
                            continue;
                        }
                    }
                    *key = !*key;
                }
                None => {}
            }
            match t {
                tag::NULL => out.write_all(b"null")?,
                tag::FALSE => out.write_all(b"false")?,
                tag::TRUE => out.write_all(b"true")?,
                tag::I64 => {
                    let v = i64::from_le_bytes(take(bytes, pos)?);
                    out.write_all(itoa::Buffer::new().format(v).as_bytes())?
                }
                tag::U64 => {
                    let v = u64::from_le_bytes(take(bytes, pos)?);
                    out.write_all(itoa::Buffer::new().format(v).as_bytes())?
                }
                tag::I128 => {
                    let v = i128::from_le_bytes(take(bytes, pos)?);
                    out.write_all(itoa::Buffer::new().format(v).as_bytes())?
                }
                tag::U128 => {
                    let v = u128::from_le_bytes(take(bytes, pos)?);
                    out.write_all(itoa::Buffer::new().format(v).as_bytes())?
                }
                tag::F64 => write_f64(out, f64::from_le_bytes(take(bytes, pos)?))?,
                tag::F32 => {
                    let v = f32::from_le_bytes(take(bytes, pos)?);
                    if v.is_finite() {
                        out.write_all(zmij::Buffer::new().format_finite(v).as_bytes())?
                    } else {
                        out.write_all(b"null")?
                    }
                }
                tag::STR | tag::STR_CUT | tag::DEBUG | tag::DEBUG_CUT => {
                    let len = u32::from_le_bytes(take(bytes, pos)?) as usize;
                    let raw = bytes.get(*pos..*pos + len).ok_or_else(corrupt)?;
                    *pos += len;
                    // The encoder cuts on character boundaries, so this is valid UTF-8.
                    let s = std::str::from_utf8(raw).unwrap_or("<invalid utf-8>");
                    let cut = t == tag::STR_CUT || t == tag::DEBUG_CUT;
                    if is_key {
                        // What a cut took off a key could have named a secret: its value
                        // is redacted unless what is left is a safe name.
                        let secret = rules.is_secret_name(s)
                            || (cut && rules.is_on() && !rules.is_safe_name(s));
                        if let Some(Frame::Map { redact, .. }) = stack.last_mut() {
                            *redact = secret;
                        }
                    }
                    write_cut(out, &rules.scrub_text(s, cut), cut)?;
                }
                tag::TYPE_NAME => {
                    let name = read_type_name(bytes, pos)?;
                    write_str(out, &format!("<{}>", short_type_name(name)))?;
                }
                tag::SEQ => {
                    out.write_all(b"[")?;
                    stack.push(Frame::Seq { first: true });
                }
                tag::MAP => {
                    out.write_all(b"{")?;
                    stack.push(Frame::Map {
                        first: true,
                        key: true,
                        redact: false,
                    });
                }
                other => {
                    return Err(io::Error::other(format!(
                        "aiobs: corrupt capture tag {other}"
                    )));
                }
            }
        }
        if stack.is_empty() {
            return Ok(());
        }
    }
}

/// Writes text as a JSON string, with `...` appended when it was cut.
fn write_cut<W: Write + ?Sized>(out: &mut W, s: &str, cut: bool) -> io::Result<()> {
    if cut {
        let mut text = String::with_capacity(s.len() + 3);
        text.push_str(s);
        text.push_str("...");
        write_str(out, &text)
    } else {
        write_str(out, s)
    }
}

/// Renders a whole captured value to a JSON string (for tests and small uses).
#[cfg(test)]
pub(crate) fn to_json(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    let mut pos = 0;
    render_value(bytes, &mut pos, &mut out).expect("render into a Vec");
    assert_eq!(pos, bytes.len(), "one value");
    String::from_utf8(out).expect("utf-8")
}
