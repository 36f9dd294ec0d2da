//! Reading the byte form of [`super::encode`] without rendering it: where a value ends, and
//! the fixed-size parts of a value.

use std::io;

use super::tag;

pub(crate) fn corrupt() -> io::Error {
    io::Error::other("aiobs: corrupt captured value")
}

/// Reads `N` bytes at `*pos`.
pub(crate) fn take<const N: usize>(bytes: &[u8], pos: &mut usize) -> io::Result<[u8; N]> {
    let slice = bytes.get(*pos..*pos + N).ok_or_else(corrupt)?;
    let mut a = [0; N];
    a.copy_from_slice(slice);
    *pos += N;
    Ok(a)
}

/// Where the value that starts at `pos` ends, or `None` if the bytes are corrupt.
pub(crate) fn value_end(bytes: &[u8], mut pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        let t = *bytes.get(pos)?;
        pos += 1;
        pos += match t {
            tag::NULL | tag::FALSE | tag::TRUE => 0,
            tag::I64 | tag::U64 | tag::F64 => 8,
            tag::F32 => 4,
            tag::I128 | tag::U128 => 16,
            tag::STR | tag::STR_CUT | tag::DEBUG | tag::DEBUG_CUT => {
                let len: [u8; 4] = bytes.get(pos..pos + 4)?.try_into().ok()?;
                4 + u32::from_le_bytes(len) as usize
            }
            tag::TYPE_NAME => 2 * size_of::<usize>(),
            tag::SEQ | tag::MAP => {
                depth += 1;
                continue;
            }
            tag::END => {
                depth = depth.checked_sub(1)?;
                0
            }
            _ => return None,
        };
        if pos > bytes.len() {
            return None;
        }
        if depth == 0 {
            return Some(pos);
        }
    }
}

/// Reads a TYPE_NAME value's `&'static str` at `*pos`.
pub(crate) fn read_type_name(bytes: &[u8], pos: &mut usize) -> io::Result<&'static str> {
    let ptr = usize::from_le_bytes(take(bytes, pos)?) as *const u8;
    let len = usize::from_le_bytes(take(bytes, pos)?);
    // SAFETY: TYPE_NAME is only written by `put_type_name` from a `&'static str`, whose pointer
    // and length stay valid and UTF-8 for the whole program.
    Ok(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len)) })
}
