//! How many recorded spans are open, so that with no session a closing span is looked up
//! only while some recorded span is still open (one that outlived its session is still
//! recorded when it closes).
//!
//! The count is sharded by the thread that opened the span, each shard on its own cache line:
//! opening and closing spans on different threads don't contend. Reading it sums the shards;
//! that is only done when no session is active, when nothing writes them.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

const SHARDS: usize = 16;

#[repr(align(128))]
struct Shard(AtomicUsize);

static OPEN: [Shard; SHARDS] = [const { Shard(AtomicUsize::new(0)) }; SHARDS];

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Counts a span opened on this thread; returns its shard, for [`closed`].
pub(super) fn opened() -> u8 {
    let shard = MY_SHARD
        .try_with(|s| {
            if s.get() == usize::MAX {
                s.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
            }
            s.get()
        })
        .unwrap_or(0);
    OPEN[shard].0.fetch_add(1, Ordering::Relaxed);
    shard as u8
}

/// Counts a span opened with [`opened`] as closed.
pub(super) fn closed(shard: u8) {
    OPEN[usize::from(shard) % SHARDS]
        .0
        .fetch_sub(1, Ordering::Relaxed);
}

/// Whether any recorded span may be open. A span being closed was counted before (its opening
/// happens before its closing), and each shard's count never drops below the spans counted
/// and not yet closed in it, so a span that is open is always seen.
pub(super) fn any() -> bool {
    OPEN.iter().any(|s| s.0.load(Ordering::Relaxed) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_span_is_seen_until_it_closes() {
        let shard = opened();
        assert!(any());
        let other = std::thread::spawn(opened).join().unwrap();
        closed(shard);
        assert!(any(), "the other thread's span is still open");
        closed(other);
    }
}
