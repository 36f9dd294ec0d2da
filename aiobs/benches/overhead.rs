//! The cost of one observed call, side by side in one run: the bare function, `#[observe]`
//! with no session and with an active session, tracing's `#[instrument]` under a subscriber
//! that keeps every span (registry + a layer storing name, fields, return value and timing),
//! and fastrace's `#[trace]` under a reporter that keeps every span (1,000 calls per root).
//!
//! ```sh
//! cargo bench -p aiobs --bench overhead
//! ```
//!
//! The sync functions are `#[inline(never)]`. The `async fn`s are not: rustc inlines a bare
//! async fn's future constructor even when told not to, while it honours the attribute on an
//! instrumented one, so the attribute would compare a call against no call.
//!
//! Batches of 10,000 calls are timed; between batches (untimed) the recorded data is dropped so
//! memory stays flat for every contender.
//!
//! Before the criterion groups it prints a steadier view of `add` and `greet` (best of 40
//! interleaved batches), with no session and with
//! `#[observe(capture_args = false, capture_result = false)]` too, `greet` capturing only its
//! arguments or only its result, and the floor (module `floor`): a hand-written recorder that
//! does only what keeping those calls needs at least, to show how close each contender comes.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};

const BATCH: u64 = 10_000;

mod bare {
    #[inline(never)]
    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    #[inline(never)]
    pub fn greet(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
    pub async fn add_async(a: u64, b: u64) -> u64 {
        a + b
    }
}

mod observed {
    #[aiobs::observe]
    #[inline(never)]
    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    #[aiobs::observe]
    #[inline(never)]
    pub fn greet(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
    #[aiobs::observe]
    pub async fn add_async(a: u64, b: u64) -> u64 {
        a + b
    }
}

/// `greet` capturing only its arguments, or only its result: where the capture time goes.
mod half_captured {
    #[aiobs::observe(capture_result = false)]
    #[inline(never)]
    pub fn greet_args(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
    #[aiobs::observe(capture_args = false)]
    #[inline(never)]
    pub fn greet_result(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
}

/// As `observed`, recording the call without its arguments and result (what fastrace records).
mod uncaptured {
    #[aiobs::observe(capture_args = false, capture_result = false)]
    #[inline(never)]
    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    #[aiobs::observe(capture_args = false, capture_result = false)]
    #[inline(never)]
    pub fn greet(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
}

mod traced {
    #[tracing::instrument(ret)]
    #[inline(never)]
    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    #[tracing::instrument(ret)]
    #[inline(never)]
    pub fn greet(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
    #[tracing::instrument(ret)]
    pub async fn add_async(a: u64, b: u64) -> u64 {
        a + b
    }
}

mod fast {
    #[fastrace::trace]
    #[inline(never)]
    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    #[fastrace::trace]
    #[inline(never)]
    pub fn greet(name: &str, tags: Vec<String>) -> String {
        format!("hello {name} ({})", tags.len())
    }
    #[fastrace::trace]
    pub async fn add_async(a: u64, b: u64) -> u64 {
        a + b
    }
}

/// The floor: what any recorder that keeps what `#[observe]` keeps must do per call at least,
/// written by hand with everything else left out. Two clock reads (the clock `#[observe]` and
/// fastrace read), a random span id, the parent swapped in and out, a 56-byte header (ids,
/// times, the name, the callsite, the payload's length) and the values copied into a
/// thread-local buffer that stays hot, with one room check per call and one per string. No
/// session, collector, limit, budget, mask, sampling or panic guard; leaf calls only (a
/// nested call would write over its caller's arguments). Not a recorder: a measuring stick
/// for how close `#[observe]` and fastrace come to the least that can be done.
mod floor {
    use std::cell::{Cell, RefCell};
    use std::panic::Location;

    use minstant::Instant;

    const SEQ: u8 = 11;
    const END: u8 = 13;
    const STR: u8 = 9;
    const U64: u8 = 4;

    /// Room made in the buffer before each call: its header and its values fit in it.
    const ROOM: usize = 256;

    #[repr(C)]
    struct Header {
        span: u64,
        parent: u64,
        start: Instant,
        end: Instant,
        name: &'static &'static str,
        callsite: &'static Location<'static>,
        payload_len: u64,
    }
    const HEADER: usize = size_of::<Header>();

    thread_local! {
        static RECORDS: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(4 << 20));
        static SPAN: Cell<u64> = const { Cell::new(0) };
        static RNG: Cell<u64> = const { Cell::new(0x2545_f491_4f6c_dd1d) };
    }

    /// Drops the recorded calls (untimed, between batches).
    pub fn clear() {
        RECORDS.with(|r| r.borrow_mut().clear());
    }

    /// Writes values at the end of the buffer, past the room for the header; the buffer's
    /// length is set once the record is whole.
    struct Writer {
        base: *mut u8,
        at: usize,
        end: usize,
    }

    impl Writer {
        #[inline(always)]
        fn fits(&self, n: usize) {
            assert!(self.end - self.at >= n, "the floor's values fit its room");
        }
        #[inline(always)]
        fn tag(&mut self, t: u8) {
            self.fits(1);
            // SAFETY: checked just above: the byte is inside the buffer's capacity.
            unsafe { self.base.add(self.at).write(t) };
            self.at += 1;
        }
        #[inline(always)]
        fn u64(&mut self, v: u64) {
            self.fits(9);
            // SAFETY: 9 bytes from `at` are inside the buffer's capacity.
            unsafe {
                let p = self.base.add(self.at);
                p.write(U64);
                p.add(1).cast::<u64>().write_unaligned(v);
            }
            self.at += 9;
        }
        /// Tag and length as one word, then the text (up to 16 bytes: two overlapping moves).
        #[inline(always)]
        fn str(&mut self, s: &str) {
            let n = s.len();
            self.fits(8 + n);
            // SAFETY: `8 + n` bytes from `at` are inside the buffer's capacity; `src` is
            // valid for `n` bytes, and every move stays inside the first `n`.
            unsafe {
                let p = self.base.add(self.at);
                p.cast::<u64>()
                    .write_unaligned(u64::from(STR) | (n as u64) << 8);
                let (src, dst) = (s.as_ptr(), p.add(5));
                if n > 16 {
                    std::ptr::copy_nonoverlapping(src, dst, n);
                } else if n >= 8 {
                    let tail = src.add(n - 8).cast::<u64>().read_unaligned();
                    dst.cast::<u64>()
                        .write_unaligned(src.cast::<u64>().read_unaligned());
                    dst.add(n - 8).cast::<u64>().write_unaligned(tail);
                } else if n >= 4 {
                    let tail = src.add(n - 4).cast::<u32>().read_unaligned();
                    dst.cast::<u32>()
                        .write_unaligned(src.cast::<u32>().read_unaligned());
                    dst.add(n - 4).cast::<u32>().write_unaligned(tail);
                } else if n > 0 {
                    dst.write(*src);
                    dst.add(n / 2).write(*src.add(n / 2));
                    dst.add(n - 1).write(*src.add(n - 1));
                }
            }
            self.at += 5 + n;
        }
    }

    struct Call {
        span: u64,
        parent: u64,
        start: Instant,
        record: usize,
        values_end: usize,
    }

    #[inline(always)]
    fn open(capture: bool, args: impl FnOnce(&mut Writer)) -> Call {
        let start = Instant::now();
        let span = RNG.with(|r| {
            // wyrand, as `#[observe]`'s ids.
            let s = r.get().wrapping_add(0xa076_1d64_78bd_642f);
            r.set(s);
            let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
            ((t >> 64) as u64) ^ (t as u64)
        });
        let parent = SPAN.replace(span);
        let (record, values_end) = RECORDS.with(|r| {
            let mut r = r.borrow_mut();
            r.reserve(ROOM);
            let record = r.len();
            let mut w = Writer {
                base: r.as_mut_ptr(),
                at: record + HEADER,
                end: record + ROOM,
            };
            if capture {
                args(&mut w);
            }
            (record, w.at)
        });
        Call {
            span,
            parent,
            start,
            record,
            values_end,
        }
    }

    #[inline(always)]
    fn close(
        call: Call,
        name: &'static &'static str,
        callsite: &'static Location<'static>,
        capture: bool,
        result: impl FnOnce(&mut Writer),
    ) {
        let end = Instant::now();
        SPAN.set(call.parent);
        RECORDS.with(|r| {
            let mut r = r.borrow_mut();
            let mut w = Writer {
                base: r.as_mut_ptr(),
                at: call.values_end,
                end: call.record + ROOM,
            };
            if capture {
                result(&mut w);
            }
            let header = Header {
                span: call.span,
                parent: call.parent,
                start: call.start,
                end,
                name,
                callsite,
                payload_len: (w.at - call.record - HEADER) as u64,
            };
            // SAFETY: the header's room was reserved at `record` when the call opened, and
            // every byte up to `w.at` is written now: the header, the values after it.
            unsafe {
                r.as_mut_ptr()
                    .add(call.record)
                    .cast::<Header>()
                    .write_unaligned(header);
                r.set_len(w.at);
            }
        });
    }

    #[inline(never)]
    #[track_caller]
    pub fn add(a: u64, b: u64, capture: bool) -> u64 {
        let callsite = Location::caller();
        let call = open(capture, |w| {
            w.tag(SEQ);
            w.u64(a);
            w.u64(b);
            w.tag(END);
        });
        let result = a + b;
        close(call, &"add", callsite, capture, |w| w.u64(result));
        result
    }

    #[inline(never)]
    #[track_caller]
    pub fn greet(name: &str, tags: Vec<String>, capture: bool) -> String {
        let callsite = Location::caller();
        let call = open(capture, |w| {
            w.tag(SEQ);
            w.str(name);
            w.tag(SEQ);
            for tag in &tags {
                w.str(tag);
            }
            w.tag(END);
            w.tag(END);
        });
        // The body; `tags` is dropped in it, as in the observed function's body.
        let result = format!("hello {name} ({})", tags.len());
        drop(tags);
        close(call, &"greet", callsite, capture, |w| w.str(&result));
        result
    }
}

/// A tracing layer that keeps every closed span: its name, its recorded fields (arguments and
/// `ret`), and its open/close times, as a trace store would.
mod keep_spans {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::{Context, Layer};
    use tracing_subscriber::registry::LookupSpan;

    #[allow(dead_code)] // stored as a trace store would store them; nothing reads them here
    pub struct Kept {
        pub name: &'static str,
        pub fields: String,
        pub opened: Instant,
        pub closed: Instant,
    }

    struct Open {
        fields: String,
        opened: Instant,
    }

    struct Fields<'a>(&'a mut String);
    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, "{}={:?};", field.name(), value);
        }
    }

    #[derive(Clone, Default)]
    pub struct KeepSpans(pub Arc<Mutex<Vec<Kept>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for KeepSpans {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let mut fields = String::new();
            attrs.record(&mut Fields(&mut fields));
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(Open {
                    fields,
                    opened: Instant::now(),
                });
            }
        }
        fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(id) {
                if let Some(open) = span.extensions_mut().get_mut::<Open>() {
                    values.record(&mut Fields(&mut open.fields));
                }
            }
        }
        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            // `ret` is an event inside the span: keep it with the span.
            if let Some(span) = ctx.event_span(event) {
                if let Some(open) = span.extensions_mut().get_mut::<Open>() {
                    event.record(&mut Fields(&mut open.fields));
                }
            }
        }
        fn on_close(&self, id: Id, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(&id) {
                if let Some(open) = span.extensions_mut().remove::<Open>() {
                    let kept = Kept {
                        name: span.name(),
                        fields: open.fields,
                        opened: open.opened,
                        closed: Instant::now(),
                    };
                    self.0.lock().expect("kept spans").push(kept);
                }
            }
        }
    }
}

/// A fastrace reporter that keeps every span record.
#[derive(Clone, Default)]
struct KeepRecords(Arc<Mutex<Vec<fastrace::collector::SpanRecord>>>);

impl fastrace::collector::Reporter for KeepRecords {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0.lock().expect("records").extend(spans);
    }
}

/// Times `BATCH` calls of `call` per iteration; `reset` runs untimed after each batch.
fn batches(iters: u64, mut call: impl FnMut(u64), mut reset: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let start = Instant::now();
        for i in 0..n {
            call(i);
        }
        total += start.elapsed();
        reset();
        left -= n;
    }
    total
}

/// Polls a future that is ready without waiting, on this thread (a current-thread executor).
fn poll_now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => unreachable!("the benchmarked futures never wait"),
    }
}

struct Contenders {
    obs: aiobs::Collector,
    tracing_dispatch: tracing::Dispatch,
    tracing_kept: keep_spans::KeepSpans,
    fastrace_kept: KeepRecords,
}

fn contenders() -> Contenders {
    use tracing_subscriber::layer::SubscriberExt as _;
    let tracing_kept = keep_spans::KeepSpans::default();
    let subscriber = tracing_subscriber::registry().with(tracing_kept.clone());
    let fastrace_kept = KeepRecords::default();
    fastrace::set_reporter(
        fastrace_kept.clone(),
        fastrace::collector::Config::default(),
    );
    Contenders {
        obs: aiobs::Collector::new(),
        tracing_dispatch: tracing::Dispatch::new(subscriber),
        tracing_kept,
        fastrace_kept,
    }
}

/// Times `call` in batches of `BATCH`, under a fastrace root span per 1,000 calls (fastrace
/// reports a trace when its root ends); the reported records are dropped untimed.
fn fastrace_batches(iters: u64, kept: &KeepRecords, mut call: impl FnMut(u64)) -> Duration {
    use fastrace::prelude::*;
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(BATCH);
        let start = Instant::now();
        let mut i = 0;
        while i < n {
            let root = Span::root("root", SpanContext::random());
            let _parent = root.set_local_parent();
            for _ in 0..(n - i).min(1000) {
                call(i);
                i += 1;
            }
        }
        total += start.elapsed();
        fastrace::flush();
        kept.0.lock().expect("records").clear();
        done += n;
    }
    total
}

/// Times `call` in batches with an aiobs session active; the events are dropped untimed.
fn aiobs_batches(iters: u64, obs: &aiobs::Collector, call: impl FnMut(u64)) -> Duration {
    let _scope = obs.set_default();
    obs.observe(aiobs::ObserveOptions::new()).expect("observe");
    let total = batches(iters, call, || {
        obs.reset();
        obs.observe(aiobs::ObserveOptions::new()).expect("observe");
    });
    obs.reset();
    total
}

/// Times `call` in batches under the span-keeping tracing subscriber; spans dropped untimed.
fn tracing_batches(iters: u64, k: &Contenders, call: impl FnMut(u64)) -> Duration {
    tracing::dispatcher::with_default(&k.tracing_dispatch, || {
        batches(iters, call, || {
            k.tracing_kept.0.lock().expect("kept").clear()
        })
    })
}

/// One group: the same function bare, observed (without and with a session), under tracing
/// and under fastrace. Each closure makes call number `i`.
fn compare(
    c: &mut Criterion,
    k: &Contenders,
    name: &str,
    bare: impl Fn(u64),
    observed: impl Fn(u64),
    traced: impl Fn(u64),
    fast: impl Fn(u64),
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    g.bench_function("bare", |b| b.iter_custom(|n| batches(n, &bare, || ())));
    g.bench_function("observe_no_session", |b| {
        b.iter_custom(|n| batches(n, &observed, || ()))
    });
    g.bench_function("observe_session", |b| {
        b.iter_custom(|n| aiobs_batches(n, &k.obs, &observed))
    });
    g.bench_function("tracing_instrument_keeping_spans", |b| {
        b.iter_custom(|n| tracing_batches(n, k, &traced))
    });
    g.bench_function("fastrace_trace_keeping_spans", |b| {
        b.iter_custom(|n| fastrace_batches(n, &k.fastrace_kept, &fast))
    });
    g.finish();
}

/// The steady view, printed before the criterion groups: per call, the best of `ROUNDS`
/// batches of `BATCH` calls, the contenders interleaved within each round, so that a slow
/// stretch of the machine or of the allocator hits them all alike. Criterion's medians of
/// `greet` move by 20% between runs on a shared VM; these move by a nanosecond or two.
fn steady(k: &Contenders) {
    const ROUNDS: usize = 40;
    /// How a contender's batches are run.
    #[derive(Clone, Copy)]
    enum Harness {
        /// No session anywhere.
        Plain,
        /// An aiobs session active.
        Session,
        /// Under a fastrace root span per 1,000 calls.
        Fastrace,
        /// The floor's records dropped between batches.
        Floor,
    }
    use Harness::{Fastrace, Floor, Plain, Session};
    type Call<'a> = (&'a str, Harness, &'a dyn Fn(u64));
    let rows: [(&str, Vec<Call<'_>>); 2] = [
        (
            "add(a: u64, b: u64) -> u64",
            vec![
                ("bare", Plain, &|i| {
                    black_box(bare::add(black_box(1), black_box(i)));
                }),
                ("observe, no session", Plain, &|i| {
                    black_box(observed::add(black_box(1), black_box(i)));
                }),
                ("observe", Session, &|i| {
                    black_box(observed::add(black_box(1), black_box(i)));
                }),
                ("observe, no capture", Session, &|i| {
                    black_box(uncaptured::add(black_box(1), black_box(i)));
                }),
                ("fastrace", Fastrace, &|i| {
                    black_box(fast::add(black_box(1), black_box(i)));
                }),
                ("floor, no capture", Floor, &|i| {
                    black_box(floor::add(black_box(1), black_box(i), false));
                }),
                ("floor", Floor, &|i| {
                    black_box(floor::add(black_box(1), black_box(i), true));
                }),
            ],
        ),
        (
            "greet(name: &str, tags: Vec<String>) -> String",
            vec![
                ("bare", Plain, &|_| {
                    black_box(bare::greet(black_box("world"), tags()));
                }),
                ("observe, no session", Plain, &|_| {
                    black_box(observed::greet(black_box("world"), tags()));
                }),
                ("observe", Session, &|_| {
                    black_box(observed::greet(black_box("world"), tags()));
                }),
                ("observe, no capture", Session, &|_| {
                    black_box(uncaptured::greet(black_box("world"), tags()));
                }),
                ("observe, args only", Session, &|_| {
                    black_box(half_captured::greet_args(black_box("world"), tags()));
                }),
                ("observe, result only", Session, &|_| {
                    black_box(half_captured::greet_result(black_box("world"), tags()));
                }),
                ("fastrace", Fastrace, &|_| {
                    black_box(fast::greet(black_box("world"), tags()));
                }),
                ("floor, no capture", Floor, &|_| {
                    black_box(floor::greet(black_box("world"), tags(), false));
                }),
                ("floor", Floor, &|_| {
                    black_box(floor::greet(black_box("world"), tags(), true));
                }),
            ],
        ),
    ];
    println!("steady view: ns per call, best of {ROUNDS} interleaved batches of {BATCH} calls");
    for (function, calls) in rows {
        let mut best = vec![f64::MAX; calls.len()];
        for _ in 0..ROUNDS {
            for (slot, &(_, harness, call)) in calls.iter().enumerate() {
                let took = match harness {
                    Plain => batches(BATCH, call, || ()),
                    Session => aiobs_batches(BATCH, &k.obs, call),
                    Fastrace => fastrace_batches(BATCH, &k.fastrace_kept, call),
                    Floor => batches(BATCH, call, floor::clear),
                };
                best[slot] = best[slot].min(took.as_nanos() as f64 / BATCH as f64);
            }
        }
        println!("  {function}");
        for (slot, (contender, _, _)) in calls.iter().enumerate() {
            let added = best[slot] - best[0];
            println!("    {contender:<20} {:>7.1} ns  ({added:+.1})", best[slot]);
        }
    }
}

fn tags() -> Vec<String> {
    vec!["a".to_owned(), "bb".to_owned(), "ccc".to_owned()]
}

fn main() {
    let k = contenders();
    // Not when criterion only lists the benchmarks or runs each once as a test.
    if !std::env::args().any(|a| a == "--list" || a == "--test") {
        steady(&k);
    }
    let mut c = Criterion::default().configure_from_args();
    compare(
        &mut c,
        &k,
        "add",
        |i| {
            black_box(bare::add(black_box(1), black_box(i)));
        },
        |i| {
            black_box(observed::add(black_box(1), black_box(i)));
        },
        |i| {
            black_box(traced::add(black_box(1), black_box(i)));
        },
        |i| {
            black_box(fast::add(black_box(1), black_box(i)));
        },
    );
    compare(
        &mut c,
        &k,
        "greet",
        |_| {
            black_box(bare::greet(black_box("world"), tags()));
        },
        |_| {
            black_box(observed::greet(black_box("world"), tags()));
        },
        |_| {
            black_box(traced::greet(black_box("world"), tags()));
        },
        |_| {
            black_box(fast::greet(black_box("world"), tags()));
        },
    );
    compare(
        &mut c,
        &k,
        "add_async",
        |i| {
            black_box(poll_now(bare::add_async(black_box(1), black_box(i))));
        },
        |i| {
            black_box(poll_now(observed::add_async(black_box(1), black_box(i))));
        },
        |i| {
            black_box(poll_now(traced::add_async(black_box(1), black_box(i))));
        },
        |i| {
            black_box(poll_now(fast::add_async(black_box(1), black_box(i))));
        },
    );
    c.final_summary();
}
