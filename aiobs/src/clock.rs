//! Time: a TSC-based monotonic reading per call, turned into Unix seconds at flush against one
//! anchor taken per process (one wall-clock reading).

use std::sync::LazyLock;

pub(crate) use minstant::Instant;

static ANCHOR: LazyLock<minstant::Anchor> = LazyLock::new(minstant::Anchor::new);

/// Forces the anchor (and the TSC calibration) now rather than on the first recorded call.
pub(crate) fn init() {
    LazyLock::force(&ANCHOR);
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// A fixed reading, for records whose times don't matter (no clock is read for them).
pub(crate) fn epoch() -> Instant {
    *EPOCH
}

/// A monotonic reading (about 10 ns).
#[inline(always)]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Unix seconds of a reading.
pub(crate) fn unix_seconds(at: Instant) -> f64 {
    at.as_unix_nanos(&ANCHOR) as f64 / 1e9
}

/// Unix seconds now, from the system clock.
pub(crate) fn wall_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Milliseconds between two readings, rounded to 3 decimals as the Python SDK does.
pub(crate) fn duration_ms(start: Instant, end: Instant) -> f64 {
    let ns = end.saturating_duration_since(start).as_nanos() as f64;
    (ns / 1e3).round() / 1e3
}
