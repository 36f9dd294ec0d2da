//! Per-thread event logs: each thread appends records to its own log with plain writes and a
//! release store of the published length; `flush` reads every log up to what was published and
//! frees what it wrote. No lock is taken on the recording path.
//!
//! A log is a chain of segments (fixed-capacity byte buffers). Only the owning thread writes, and
//! only to the last segment; once it links a new segment after a full one it never touches the
//! full one again. The reader (one flush at a time, under the collector's flush lock) frees a
//! segment only after it has linked a successor and every byte in it was flushed, so the two
//! sides never touch the same bytes at the same time.

use std::alloc::{self, Layout};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::budget::Budget;
use super::record::{Header, RecordRef};
use crate::sync::lock;

/// Bytes in an ordinary segment; a record larger than this gets a segment of its own size.
const SEGMENT_BYTES: usize = 256 * 1024;

struct Segment {
    data: *mut u8,
    capacity: usize,
    /// Bytes published by the writer.
    len: AtomicUsize,
    next: AtomicPtr<Segment>,
}

impl Segment {
    fn allocate(capacity: usize) -> *mut Segment {
        let layout = Layout::array::<u8>(capacity).expect("segment size fits in isize");
        // SAFETY: the layout has a non-zero size (capacity >= SEGMENT_BYTES or > a header).
        let data = unsafe { alloc::alloc(layout) };
        if data.is_null() {
            alloc::handle_alloc_error(layout);
        }
        Box::into_raw(Box::new(Segment {
            data,
            capacity,
            len: AtomicUsize::new(0),
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }

    /// # Safety
    /// `seg` came from `allocate`, and no one else uses it any more.
    unsafe fn free(seg: *mut Segment) {
        // SAFETY: per the contract, we own the segment and its buffer.
        unsafe {
            let seg = Box::from_raw(seg);
            alloc::dealloc(
                seg.data,
                Layout::array::<u8>(seg.capacity).expect("as allocated"),
            );
        }
    }
}

/// One thread's log for one collector.
pub(crate) struct Log {
    /// The segment being written: only the owning thread uses it (through [`Log::push`]).
    tail: UnsafeCell<*mut Segment>,
    /// The oldest segment not yet flushed, and the offset in it of the first unflushed record.
    reader: Mutex<ReadPosition>,
    /// Cleared when the owning thread exits.
    owner_alive: AtomicBool,
    /// Flushed segments kept for the writer to reuse: fresh pages cost a page fault each.
    spare: Mutex<Spares>,
    /// Event permits taken from the budget and not yet spent: stored by the owner only (read
    /// by others for [`Log::unspent`]).
    permits: AtomicU64,
    /// Records refused by the budget and not yet reported by a flush.
    dropped: AtomicU64,
    /// The session slot of the last refused record.
    dropped_session: AtomicU32,
}

/// Segments a log keeps for reuse at least (4 MiB).
const SPARE_SEGMENTS: usize = 16;

struct SparePtr(*mut Segment);
// SAFETY: a spare segment is owned by the spare list alone.
unsafe impl Send for SparePtr {}

/// Flushed segments kept for the writer, as many as it has recently filled between two
/// flushes: a thread under steady load then records into memory it already has, and never
/// goes back to the allocator (and the kernel: page faults, unmapping, TLB shootdowns) for it.
#[derive(Default)]
struct Spares {
    list: Vec<SparePtr>,
    /// How many to keep: the most filled between two flushes, decaying by an eighth a flush
    /// after a burst; at least [`SPARE_SEGMENTS`].
    keep: usize,
}

impl Spares {
    /// Keeps what the writer filled since the last flush, `filled` segments, and frees the
    /// spares above the new target.
    fn settle(&mut self, filled: usize) {
        self.keep = filled.max(self.keep - self.keep / 8).max(SPARE_SEGMENTS);
        while self.list.len() > self.keep {
            if let Some(SparePtr(seg)) = self.list.pop() {
                // SAFETY: spare segments are in no chain and used by no one.
                unsafe { Segment::free(seg) };
            }
        }
    }
}

struct ReadPosition {
    head: *mut Segment,
    offset: usize,
}

// SAFETY: `tail` is only used by the owning thread (the `push` contract); the reader side is
// behind a mutex; segments are handed from writer to reader through release/acquire atomics.
unsafe impl Send for Log {}
unsafe impl Sync for Log {}
// SAFETY: the raw pointers in ReadPosition are only used under the `reader` mutex.
unsafe impl Send for ReadPosition {}

/// Where a flush stopped reading, to mark as flushed once the flush succeeded.
pub(crate) struct Mark {
    seg: *mut Segment,
    offset: usize,
    /// Records read.
    records: u64,
    /// Refused records reported by this flush, and the session of the last one.
    pub(crate) dropped: u64,
    pub(crate) dropped_session: u32,
}

impl Log {
    /// A log whose first segment is counted in `budget` (the collector's).
    pub(crate) fn new(budget: &Budget) -> Log {
        let first = Segment::allocate(SEGMENT_BYTES);
        budget.take_bytes(SEGMENT_BYTES as u64, true);
        Log {
            tail: UnsafeCell::new(first),
            reader: Mutex::new(ReadPosition {
                head: first,
                offset: 0,
            }),
            owner_alive: AtomicBool::new(true),
            spare: Mutex::new(Spares::default()),
            permits: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            dropped_session: AtomicU32::new(0),
        }
    }

    /// Appends a record: the header and then the payload pieces; a record the collector's
    /// [`Capacity`](crate::Capacity) (`budget`) refuses is counted as dropped instead.
    ///
    /// The common case (a permit in hand, room in the tail segment) is inlined into the caller;
    /// taking permits and segments is out of line.
    ///
    /// # Safety
    /// Only one thread, the log's owner, may ever call this.
    #[inline(always)]
    pub(crate) unsafe fn push(&self, budget: &Budget, header: Header, payload: &[&[u8]]) {
        let payload_len: usize = payload.iter().map(|p| p.len()).sum();
        if payload_len != header.payload_len as usize {
            return; // a payload over 4 GiB: its length did not fit the header
        }
        let size = header.record_len();
        // Only the owner stores `permits`: a plain load and store, no read-modify-write.
        let permits = self.permits.load(Ordering::Relaxed);
        // SAFETY: the owner is the only user of `tail` (the contract); the tail segment is
        // alive: the reader frees only segments with a successor.
        let seg = unsafe { &**self.tail.get() };
        let used = seg.len.load(Ordering::Relaxed); // only this thread stores it
        let (seg, used, permits) = if permits != 0 && seg.capacity - used >= size {
            (seg, used, permits)
        } else {
            // SAFETY: the owner, per the contract.
            match unsafe { self.make_room(budget, size, header.session) } {
                Some((seg, permits)) => (seg, seg.len.load(Ordering::Relaxed), permits),
                None => return,
            }
        };
        // SAFETY: `used + size <= capacity`, and bytes past `len` are seen by no reader.
        unsafe {
            let at = seg.data.add(used);
            let mut p = header.write(at);
            for piece in payload {
                ptr::copy_nonoverlapping(piece.as_ptr(), p, piece.len());
                p = p.add(piece.len());
            }
            debug_assert_eq!(p as usize - at as usize, size);
        }
        seg.len.store(used + size, Ordering::Release);
        self.permits.store(permits - 1, Ordering::Relaxed);
    }

    /// Takes an event permit if none is in hand, and links a new tail segment if the tail has
    /// no room for `size` bytes; `None` when the budget refuses (the record is counted as
    /// dropped). Returns the tail segment and the permits in hand.
    ///
    /// # Safety
    /// Only the log's owner may call this.
    #[cold]
    #[inline(never)]
    unsafe fn make_room(
        &self,
        budget: &Budget,
        size: usize,
        session: u32,
    ) -> Option<(&Segment, u64)> {
        let mut permits = self.permits.load(Ordering::Relaxed);
        if permits == 0 {
            permits = budget.take_events();
            if permits == 0 {
                self.count_refused(session);
                return None;
            }
        }
        // SAFETY: the owner is the only user of `tail` (the contract).
        let tail = unsafe { &mut *self.tail.get() };
        // SAFETY: the tail segment is alive: the reader frees only segments with a successor.
        let seg = unsafe { &**tail };
        if seg.capacity - seg.len.load(Ordering::Relaxed) >= size {
            return Some((seg, permits));
        }
        let capacity = size.max(SEGMENT_BYTES);
        if !budget.take_bytes(capacity as u64, false) {
            self.permits.store(permits, Ordering::Relaxed);
            self.count_refused(session);
            return None;
        }
        let spare = if size <= SEGMENT_BYTES {
            lock(&self.spare).list.pop()
        } else {
            None
        };
        let fresh = match spare {
            Some(SparePtr(spare)) => spare,
            None => Segment::allocate(capacity),
        };
        seg.next.store(fresh, Ordering::Release);
        *tail = fresh;
        // SAFETY: just allocated or taken back from the spares (emptied by `commit`).
        Some((unsafe { &*fresh }, permits))
    }

    /// Counts an event of `session` that the budget refused (a record refused here, or a call
    /// refused before it captured anything because the collector was full).
    #[cold]
    pub(crate) fn count_refused(&self, session: u32) {
        self.dropped_session.store(session, Ordering::Relaxed);
        self.dropped.fetch_add(1, Ordering::Release);
    }

    /// Permits taken and not spent (exact only when read by the owner).
    pub(crate) fn unspent(&self) -> u64 {
        self.permits.load(Ordering::Relaxed)
    }

    /// Refused records not yet reported by a flush.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }

    /// Reads every published, unflushed record in order, and returns where it stopped.
    pub(crate) fn read(&self, out: &mut Vec<RecordRef>) -> Mark {
        let pos = lock(&self.reader);
        let dropped = self.dropped.load(Ordering::Acquire);
        let dropped_session = self.dropped_session.load(Ordering::Relaxed);
        let mut seg_ptr = pos.head;
        let mut offset = pos.offset;
        let mut records = 0;
        loop {
            // SAFETY: segments from `head` on are alive until `commit` frees them.
            let seg = unsafe { &*seg_ptr };
            // Read `next` before `len`: once a successor is linked, `len` is final.
            let next = seg.next.load(Ordering::Acquire);
            let len = seg.len.load(Ordering::Acquire);
            while offset < len {
                // SAFETY: `offset` is the start of a record published below `len`.
                let ptr = unsafe { seg.data.add(offset) };
                // SAFETY: a published record starts at `ptr`, and stays until `commit`.
                let record = unsafe { RecordRef::at(ptr) };
                offset += record.len();
                out.push(record);
                records += 1;
            }
            if next.is_null() {
                return Mark {
                    seg: seg_ptr,
                    offset,
                    records,
                    dropped,
                    dropped_session,
                };
            }
            seg_ptr = next;
            offset = 0;
        }
    }

    /// Marks everything up to `mark` as flushed, frees the segments left behind, and gives
    /// their events and bytes back to `budget`.
    pub(crate) fn commit(&self, mark: Mark, budget: &Budget) {
        let mut pos = lock(&self.reader);
        let mut spare = lock(&self.spare);
        let mut filled = 0;
        while pos.head != mark.seg {
            let old = pos.head;
            // SAFETY: `old` precedes `mark.seg` in the chain, so its successor is linked, the
            // writer has left it for good, and every record in it was just flushed.
            unsafe {
                pos.head = (*old).next.load(Ordering::Acquire);
                budget.give_bytes((*old).capacity as u64);
                if (*old).capacity == SEGMENT_BYTES {
                    (*old).len.store(0, Ordering::Relaxed);
                    (*old).next.store(ptr::null_mut(), Ordering::Relaxed);
                    spare.list.push(SparePtr(old));
                    filled += 1;
                } else {
                    Segment::free(old);
                }
            }
        }
        spare.settle(filled);
        drop(spare);
        pos.offset = mark.offset;
        budget.give_events(mark.records);
        if mark.dropped > 0 {
            self.dropped.fetch_sub(mark.dropped, Ordering::Relaxed);
        }
    }

    /// Whether the owning thread has exited and every record was flushed.
    pub(crate) fn is_finished(&self) -> bool {
        if self.owner_alive.load(Ordering::Acquire) {
            return false;
        }
        let pos = lock(&self.reader);
        // SAFETY: the head segment is alive while the log is.
        let head = unsafe { &*pos.head };
        head.next.load(Ordering::Acquire).is_null()
            && head.len.load(Ordering::Acquire) == pos.offset
            && self.dropped.load(Ordering::Acquire) == 0
    }

    /// Called by the owning thread as it exits: gives its unspent permits back to `budget`
    /// (`None` when the collector is gone).
    pub(crate) fn owner_exited(&self, budget: Option<&Budget>) {
        let unspent = self.permits.swap(0, Ordering::Relaxed);
        if let Some(budget) = budget {
            budget.give_events(unspent);
        }
        self.owner_alive.store(false, Ordering::Release);
    }

    /// Gives the bytes of the segments still in the chain back to `budget`: the log is
    /// leaving its collector (finished, see [`Log::is_finished`]).
    pub(crate) fn release(&self, budget: &Budget) {
        let pos = lock(&self.reader);
        let mut seg = pos.head;
        while !seg.is_null() {
            // SAFETY: segments from `head` on are alive while the log is.
            unsafe {
                budget.give_bytes((*seg).capacity as u64);
                seg = (*seg).next.load(Ordering::Acquire);
            }
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let spare = self.spare.get_mut().unwrap_or_else(|e| e.into_inner());
        for SparePtr(seg) in spare.list.drain(..) {
            // SAFETY: spare segments are in no chain and used by no one.
            unsafe { Segment::free(seg) };
        }
        let pos = self.reader.get_mut().unwrap_or_else(|e| e.into_inner());
        let mut seg = pos.head;
        while !seg.is_null() {
            // SAFETY: the last reference to the log is gone, so no thread uses its segments.
            unsafe {
                let next = (*seg).next.load(Ordering::Acquire);
                Segment::free(seg);
                seg = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Instant;
    use crate::store::Kind;

    fn header(span: u64, payload_len: u32) -> Header {
        let now = Instant::now();
        Header {
            span,
            parent: 0,
            enh_id: 0,
            start: now,
            end: now,
            meta: None,
            self_ty: None,
            location: None,
            session: 1,
            payload_len,
            kind: Kind::Function,
            flags: 0,
        }
    }

    #[test]
    fn records_cross_segments_and_commit_frees_them() {
        let log = Log::new(&Budget::new());
        let big = vec![7u8; SEGMENT_BYTES + 10]; // needs a segment of its own
        for i in 1..=3000u64 {
            let payload: &[u8] = if i == 1500 { &big } else { &i.to_le_bytes() };
            unsafe { log.push(&Budget::new(), header(i, payload.len() as u32), &[payload]) };
        }
        let mut got = Vec::new();
        let mark = log.read(&mut got);
        assert_eq!(got.len(), 3000);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, r)| r.header().span == i as u64 + 1)
        );
        assert_eq!(got[1499].payload(), &big[..]);
        assert_eq!(got[10].payload(), &11u64.to_le_bytes());
        log.commit(mark, &Budget::new());
        got.clear();
        let mark = log.read(&mut got);
        assert!(got.is_empty(), "a committed record is not read again");
        log.commit(mark, &Budget::new());
        unsafe { log.push(&Budget::new(), header(9, 0), &[]) };
        log.read(&mut got);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn optional_header_fields_round_trip_and_take_room_only_when_set() {
        fn ty() -> &'static str {
            "Agent"
        }
        let log = Log::new(&Budget::new());
        let cases = [
            (0, None),
            (7, None),
            (0, Some(ty as fn() -> &'static str)),
            (9, Some(ty)),
        ];
        for (i, (enh_id, self_ty)) in cases.into_iter().enumerate() {
            let payload = [i as u8; 3];
            let h = Header {
                enh_id,
                self_ty,
                ..header(i as u64 + 1, 3)
            };
            unsafe { log.push(&Budget::new(), h, &[&payload]) };
        }
        let mut got = Vec::new();
        log.read(&mut got);
        assert_eq!(got.len(), 4);
        let sizes: Vec<usize> = got.iter().map(|r| r.bytes().len()).collect();
        assert_eq!(sizes, [64 + 3, 64 + 8 + 3, 64 + 8 + 3, 64 + 16 + 3]);
        for (i, r) in got.iter().enumerate() {
            let h = r.header();
            assert_eq!(h.span, i as u64 + 1);
            assert_eq!(h.enh_id, cases[i].0);
            assert_eq!(h.self_ty.map(|f| f()), cases[i].1.map(|f| f()));
            assert_eq!(r.payload(), &[i as u8; 3]);
        }
    }

    #[test]
    fn uncommitted_records_are_read_again() {
        let log = Log::new(&Budget::new());
        unsafe { log.push(&Budget::new(), header(1, 0), &[]) };
        let mut got = Vec::new();
        let _failed_flush = log.read(&mut got);
        got.clear();
        log.read(&mut got);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_reader_sees_a_writer_thread_progress() {
        let log = std::sync::Arc::new(Log::new(&Budget::new()));
        let writer = {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 1..=50_000u64 {
                    unsafe { log.push(&Budget::new(), header(i, 8), &[&i.to_le_bytes()]) };
                }
            })
        };
        let mut seen = 0u64;
        loop {
            let done = writer.is_finished();
            let mut got = Vec::new();
            let mark = log.read(&mut got);
            for r in &got {
                seen += 1;
                assert_eq!(r.header().span, seen);
                assert_eq!(r.payload(), &seen.to_le_bytes());
            }
            log.commit(mark, &Budget::new());
            if done {
                break;
            }
        }
        assert_eq!(seen, 50_000);
        writer.join().unwrap();
    }
}
