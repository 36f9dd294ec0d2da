//! How recording scales with threads, how a flush compares with writing its own bytes, and
//! memory per stored event: the figures of `docs/src/performance.md` ("Threads and flush").
//!
//! ```sh
//! cargo bench -p aiobs --bench scaling                 # everything (about a minute)
//! cargo bench -p aiobs --bench scaling -- threads      # one part: threads, flush or memory
//! ```
//!
//! - **threads**: `#[observe] fn add(a, b)` recorded N times in one session, by one thread or
//!   by two threads doing half each. Each is a steady service of its own: a collector whose
//!   workers live across rounds, each round ending with a flush (untimed, to an exporter that
//!   writes nothing). The two services' rounds alternate; medians of 15. Each worker is
//!   pinned to a core of its own (Linux), as a busy service's threads are spread over the
//!   cores; the same is measured, as this machine's ceiling, for arithmetic and for writing
//!   memory.
//! - **flush**: 200,000 recorded `add` events flushed to a new file with the trace tree,
//!   against the floor: the same bytes written to a new file through a 1 MiB buffer, in
//!   the same round. Medians of 9; the extra peak resident memory of one flush.
//! - **memory**: resident memory per stored event at 1,000,000 events, in a fresh process (this
//!   binary run again).

use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use aiobs::exporters::CustomExporter;
use aiobs::{Collector, ExportResult, FlushOptions, ObserveOptions, observe};

#[observe]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn record(n: u64) {
    for i in 0..n {
        black_box(add(black_box(1), black_box(2 + (i & 1))));
    }
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Flushes everything to an exporter that writes nothing: the logs are emptied as by a real
/// flush, without the cost of one.
fn discard(obs: &Collector) {
    let nothing = CustomExporter::new("discard", |_doc| Ok(ExportResult::default()));
    obs.flush_to(&nothing, false).expect("flush to nothing");
}

/// Keeps the calling thread on core `k` (modulo the cores there are). Unpinned, the
/// scheduler often wakes both workers of a round on the core that woke them, and one waits
/// for the other: the round then measures the scheduler, not recording.
fn pin(k: usize) {
    #[cfg(target_os = "linux")]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET stays within it; the call
        // changes only this thread's affinity.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(k % cores, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = k;
}

/// Two recording threads that live across rounds, each on a core of its own.
struct Workers {
    share: Arc<[AtomicU64; 2]>,
    /// When each worker began and ended its part of the round, and the page faults it took
    /// meanwhile: the workers time themselves, as the main thread may not run again until they
    /// block (two cores, two workers).
    times: Arc<Mutex<Vec<(Instant, Instant, i64)>>>,
    start: Arc<Barrier>,
    done: Arc<Barrier>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

const STOP: u64 = u64::MAX;

impl Workers {
    fn new(obs: &Collector) -> Workers {
        let share = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let start = Arc::new(Barrier::new(3));
        let done = Arc::new(Barrier::new(3));
        let times = Arc::new(Mutex::new(Vec::new()));
        let threads = (0..2)
            .map(|k| {
                let (obs, share, times) = (obs.clone(), share.clone(), times.clone());
                let (start, done) = (start.clone(), done.clone());
                std::thread::spawn(move || {
                    pin(k);
                    let _scope = obs.set_default();
                    loop {
                        start.wait();
                        let n = share[k].load(Ordering::Acquire);
                        if n == STOP {
                            return;
                        }
                        if n > 0 {
                            let faults = page_faults();
                            let began = Instant::now();
                            record(n);
                            let ended = Instant::now();
                            let faults = page_faults() - faults;
                            times.lock().expect("times").push((began, ended, faults));
                        }
                        done.wait();
                    }
                })
            })
            .collect();
        Workers {
            share,
            times,
            start,
            done,
            threads,
        }
    }

    /// Worker 0 records `a` events and worker 1 `b`, at once; the time until both are done,
    /// and the page faults they took.
    fn run(&self, a: u64, b: u64) -> Round {
        self.share[0].store(a, Ordering::Release);
        self.share[1].store(b, Ordering::Release);
        self.start.wait();
        self.done.wait();
        let times = std::mem::take(&mut *self.times.lock().expect("times"));
        let began = times.iter().map(|t| t.0).min().expect("a worker ran");
        let ended = times.iter().map(|t| t.1).max().expect("a worker ran");
        Round {
            took: ended - began,
            faults: times.iter().map(|t| t.2).sum(),
        }
    }

    fn stop(self) {
        self.share[0].store(STOP, Ordering::Release);
        self.share[1].store(STOP, Ordering::Release);
        self.start.wait();
        for t in self.threads {
            t.join().expect("worker");
        }
    }
}

/// One round of a service.
struct Round {
    took: Duration,
    faults: i64,
}

/// Minor page faults this thread has taken so far (0 where it can't be read).
fn page_faults() -> i64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage writes the zeroed struct it is given.
        unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            if libc::getrusage(libc::RUSAGE_THREAD, &mut usage) == 0 {
                return usage.ru_minflt;
            }
        }
    }
    0
}

/// A steady service of `threads` recording threads: its own collector and workers.
struct Service {
    obs: Collector,
    workers: Workers,
}

impl Service {
    fn new() -> Service {
        let obs = Collector::new();
        obs.observe(ObserveOptions::new().session_name("scaling"))
            .expect("observe");
        let workers = Workers::new(&obs);
        Service { obs, workers }
    }

    /// Records `a` events on one worker and `b` on the other, then flushes (untimed).
    fn round(&self, a: u64, b: u64) -> Round {
        let round = self.workers.run(a, b);
        discard(&self.obs);
        round
    }
}

fn threads() {
    const ROUNDS: usize = 15;
    println!("threads: `add` recorded in one session, 1 thread vs 2 threads doing half each");
    println!(
        "| events | 1 thread | 2 threads | speed-up (medians) | speed-up (fastest rounds) | page faults a round, 1 / 2 threads |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in [20_000u64, 100_000, 400_000, 2_000_000] {
        // Two services, one recording on one thread and one on two, each in the state its
        // own last round left it; their rounds alternate.
        let (one_thread, two_threads) = (Service::new(), Service::new());
        one_thread.round(n, 0);
        two_threads.round(n / 2, n - n / 2);
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            one.push(one_thread.round(n, 0));
            two.push(two_threads.round(n / 2, n - n / 2));
        }
        one_thread.workers.stop();
        two_threads.workers.stop();
        let faults = |rounds: &[Round]| median(rounds.iter().map(|r| r.faults).collect());
        let (one_faults, two_faults) = (faults(&one), faults(&two));
        let times = |rounds: Vec<Round>| rounds.into_iter().map(|r| r.took).collect::<Vec<_>>();
        let (one, two) = (times(one), times(two));
        let (one_best, two_best) = (
            *one.iter().min().expect("rounds"),
            *two.iter().min().expect("rounds"),
        );
        let (one, two) = (median(one), median(two));
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.2}x | {:.2}x | {one_faults} / {two_faults} |",
            ms(one),
            ms(two),
            one.as_secs_f64() / two.as_secs_f64(),
            one_best.as_secs_f64() / two_best.as_secs_f64(),
        );
    }
    ceiling();
}

/// Work split over `threads` threads that time themselves: from the first start to the last
/// end.
fn split(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    pin(k);
                    barrier.wait();
                    let began = Instant::now();
                    work(k);
                    (began, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let began = spans.iter().map(|s| s.0).min().expect("a thread");
    let ended = spans.iter().map(|s| s.1).max().expect("a thread");
    ended - began
}

/// What two threads gain on this machine for work that shares nothing: arithmetic, and
/// writing memory already mapped (200 MB, as the 2,000,000-event rounds write). Recording
/// is both; its speed-up can't pass these.
fn ceiling() {
    const ROUNDS: usize = 9;
    let arithmetic = |n: u64| {
        let mut x = 1u64;
        for i in 0..n {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        black_box(x);
    };
    let mut memory: Vec<Vec<u8>> = (0..2).map(|_| vec![1u8; 100 << 20]).collect();
    let halves: Vec<usize> = memory.iter_mut().map(|m| m.as_mut_ptr() as usize).collect();
    let write = |k: usize, parts: usize| {
        let mine = k * 2 / parts..(k + 1) * 2 / parts;
        for &start in &halves[mine] {
            // SAFETY: each thread writes its own halves, which outlive the threads.
            let half = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, 100 << 20) };
            for line in half.chunks_mut(64) {
                line[0] = black_box(2);
            }
        }
    };
    let (mut a1, mut a2, mut m1, mut m2) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        a1.push(split(1, |_| arithmetic(40_000_000)));
        a2.push(split(2, |_| arithmetic(20_000_000)));
        m1.push(split(1, |k| write(k, 1)));
        m2.push(split(2, |k| write(k, 2)));
    }
    for (what, one, two) in [
        ("arithmetic (no memory)", a1, a2),
        ("writing 200 MB", m1, m2),
    ] {
        let (one, two) = (median(one), median(two));
        println!(
            "| this machine: {what} | {:.2} ms | {:.2} ms | {:.2}x |",
            ms(one),
            ms(two),
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
    drop(memory);
}

/// `VmRSS` or `VmHWM` of this process, in bytes.
fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn flush() {
    const ROUNDS: usize = 9;
    const EVENTS: u64 = 200_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("flush"))
        .expect("observe");
    record(EVENTS);
    obs.flush(FlushOptions::to_path(dir.path().join("warm.json")))
        .expect("flush");
    let (mut flushes, mut floors) = (Vec::new(), Vec::new());
    let mut size = 0;
    let mut peak = 0;
    for round in 0..ROUNDS {
        record(EVENTS); // untimed
        let stored = proc_status("VmRSS:").unwrap_or(0);
        let _ = std::fs::write("/proc/self/clear_refs", "5"); // resets VmHWM
        let path = dir.path().join(format!("flush-{round}.json"));
        let t = Instant::now();
        obs.flush(FlushOptions::to_path(&path)).expect("flush");
        flushes.push(t.elapsed());
        peak = peak.max(proc_status("VmHWM:").unwrap_or(0).saturating_sub(stored));

        let bytes = std::fs::read(&path).expect("read back");
        size = bytes.len();
        std::fs::remove_file(&path).expect("remove");
        let copy = dir.path().join(format!("floor-{round}.json"));
        let t = Instant::now();
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create_new(&copy).unwrap());
        out.write_all(&bytes).expect("write");
        out.into_inner().expect("flush the buffer");
        floors.push(t.elapsed());
        drop(bytes);
        std::fs::remove_file(&copy).expect("remove");
    }
    let (flush, floor) = (median(flushes), median(floors));
    println!(
        "flush: {EVENTS} `add` events, {:.1} MB with the trace tree: flush {:.1} ms, the same \
         bytes through a 1 MiB buffer {:.1} ms: {:.2}x the floor; extra peak memory {:.1} MB",
        size as f64 / 1e6,
        ms(flush),
        ms(floor),
        flush.as_secs_f64() / floor.as_secs_f64(),
        peak as f64 / 1e6,
    );
}

/// Run in a fresh process: resident memory per stored event.
fn memory_child() {
    const EVENTS: u64 = 1_000_000;
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("memory"))
        .expect("observe");
    record(1); // thread state and the first segment
    let before = proc_status("VmRSS:").expect("Linux /proc");
    record(EVENTS);
    let after = proc_status("VmRSS:").expect("Linux /proc");
    println!(
        "memory: {:.1} B resident per stored event ({EVENTS} events, a fresh process)",
        (after - before) as f64 / EVENTS as f64
    );
}

fn memory() {
    let exe = std::env::current_exe().expect("this bench");
    let out = std::process::Command::new(exe)
        .env("AIOBS_SCALING_CHILD", "memory")
        .output()
        .expect("run the memory child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
}

fn main() {
    if std::env::var_os("AIOBS_SCALING_CHILD").is_some() {
        return memory_child();
    }
    if !cfg!(target_os = "linux") {
        println!("scaling: the memory figures need Linux /proc");
    }
    // `cargo bench` passes `--bench`; a part's name selects it.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |part: &str| wanted.is_empty() || wanted.iter().any(|w| part.contains(w.as_str()));
    if run("threads") {
        threads();
    }
    if run("flush") {
        flush();
    }
    if run("memory") {
        memory();
    }
}
