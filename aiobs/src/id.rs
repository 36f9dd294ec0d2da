//! Span ids: random `u64`s from a per-thread generator on the hot path, written as UUID v4
//! text only at flush. The generator is aiobs's own, seeded from the OS, so recording never
//! draws from (or depends on the seeding of) the program's own random numbers.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

/// Mixed into the UUID text of every id, so that two processes that draw the same `u64`
/// still write different UUIDs.
static PROCESS_SALT: LazyLock<u64> = LazyLock::new(|| os_seed() | 1);

/// 64 bits from the OS's randomness (through std's hash-map keys, drawn from the OS once per
/// thread and then varied).
fn os_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    h.finish()
}

thread_local! {
    /// wyrand state; 0 until first use.
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// The bit that marks the current span as the root of a tree that head sampling dropped:
/// calls under it are not recorded. Real ids never have it.
pub(crate) const DROPPED: u64 = 1 << 63;

/// A fresh, non-zero span id (zero means "no span"), without the [`DROPPED`] bit.
#[inline]
pub(crate) fn next() -> u64 {
    RNG.try_with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = os_seed();
        }
        // wyrand: one multiply per number.
        s = s.wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (((t >> 64) as u64) ^ (t as u64)) & !DROPPED
    })
    .ok()
    .filter(|id| *id != 0)
    .unwrap_or_else(|| (os_seed() | 1) & !DROPPED)
}

/// A fresh random UUID v4 from the OS, as text (session ids).
pub(crate) fn random_uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// The UUID v4 text of a span id: 36 bytes into `buf`.
///
/// The high half is the id, the low half the id mixed with the process salt; the version and
/// variant bits are then set, so the text is a valid v4 UUID and distinct ids stay distinct.
pub(crate) fn write_uuid(id: u64, buf: &mut [u8; 36]) -> &str {
    let low = mix(id ^ *PROCESS_SALT);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&id.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .encode_lower(buf)
}

/// The UUID text of a span id, as a `String`.
pub(crate) fn uuid_string(id: u64) -> String {
    write_uuid(id, &mut [0; 36]).to_owned()
}

/// splitmix64's finaliser: a bijection that spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_uuids_are_v4_and_stable() {
        let a = uuid_string(42);
        assert_eq!(a, uuid_string(42));
        let parsed = uuid::Uuid::parse_str(&a).expect("valid uuid");
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(a, uuid_string(43));
    }

    #[test]
    fn ids_are_never_zero() {
        assert!((0..10_000).all(|_| next() != 0));
    }
}
