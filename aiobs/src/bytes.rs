//! Copies of short byte runs without a `memcpy` call: a capture copies a few bytes at a time
//! (an argument's text), where the call and its size dispatch cost more than the copy.

/// Copies `n <= 32` bytes with two overlapping moves of the largest width that fits.
///
/// # Safety
///
/// `src` is valid for reading and `dst` for writing `n` bytes; they don't overlap; `n <= 32`.
#[inline(always)]
pub(crate) unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
    debug_assert!(n <= 32);
    // SAFETY: every move stays inside the first `n` bytes of `src` and `dst`.
    unsafe {
        if n >= 16 {
            let head = src.cast::<u128>().read_unaligned();
            let tail = src.add(n - 16).cast::<u128>().read_unaligned();
            dst.cast::<u128>().write_unaligned(head);
            dst.add(n - 16).cast::<u128>().write_unaligned(tail);
        } else if n >= 8 {
            let head = src.cast::<u64>().read_unaligned();
            let tail = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(head);
            dst.add(n - 8).cast::<u64>().write_unaligned(tail);
        } else if n >= 4 {
            let head = src.cast::<u32>().read_unaligned();
            let tail = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(head);
            dst.add(n - 4).cast::<u32>().write_unaligned(tail);
        } else if n > 0 {
            // 1 to 3 bytes: the first, the middle and the last (some of them the same).
            dst.write(*src);
            dst.add(n / 2).write(*src.add(n / 2));
            dst.add(n - 1).write(*src.add(n - 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_copied_exactly_and_nothing_around_it_is_touched() {
        let src: Vec<u8> = (0..200u8).collect();
        for n in 0..=32 {
            let mut dst = vec![0xEEu8; n + 16];
            // SAFETY: `src` has 200 bytes, `dst` has room for `n` from offset 8.
            unsafe { copy_short(src.as_ptr().add(3), dst.as_mut_ptr().add(8), n) };
            assert_eq!(&dst[8..8 + n], &src[3..3 + n], "{n} bytes");
            assert!(dst[..8].iter().all(|&b| b == 0xEE), "{n}: before");
            assert!(dst[8 + n..].iter().all(|&b| b == 0xEE), "{n}: after");
        }
    }
}
