//! A long-running service, shortened to a moment: worker threads handle requests while aiobs
//! flushes in the background every 20 ms into numbered files, with a cap on what it holds.
//! At the end the guard writes the last file; the files are then joined into one trace and
//! printed as a tree.
//!
//! ```sh
//! cargo run -p examples --example service
//! ```

use std::path::PathBuf;
use std::time::Duration;

use aiobs::{AutoFlush, Capacity, ObserveOptions, SpanContext, observe};

#[observe]
fn lookup(user: u32) -> String {
    format!("user-{user}")
}

#[observe]
fn handle(request: u32) -> Result<String, String> {
    let name = lookup(request % 10);
    std::thread::sleep(Duration::from_millis(3));
    if request % 13 == 0 {
        return Err(format!("request {request}: upstream timed out"));
    }
    Ok(format!("hello {name}"))
}

/// One worker's share of the traffic: `requests` requests, one every few milliseconds.
#[observe]
fn worker(id: u32, requests: u32) -> usize {
    (0..requests)
        .filter(|n| handle(id * 1000 + n).is_ok())
        .count()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The files go beside LLM_OBS_OUT when it is set (CI), else under target/aiobs/service.
    let dir = match std::env::var_os("LLM_OBS_OUT") {
        Some(out) => PathBuf::from(out)
            .parent()
            .map(|p| p.join("parts"))
            .unwrap_or_else(|| "parts".into()),
        None => PathBuf::from("target/aiobs/service"),
    };
    let _ = std::fs::remove_dir_all(&dir);

    aiobs::observer().set_capacity(Capacity::new().max_events(1_000_000));
    let aiobs = aiobs::install(
        ObserveOptions::new().session_name("service"),
        AutoFlush::to_dir(&dir).every(Duration::from_millis(20)),
    )?;

    #[observe]
    fn serve() -> usize {
        let context = SpanContext::current(); // workers nest under `serve`
        let workers: Vec<_> = (0..3)
            .map(|id| {
                let context = context.clone();
                std::thread::spawn(move || context.in_scope(|| worker(id, 12)))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    }
    let handled = serve();

    let last = aiobs.finish()?; // stops the flusher, writes the last file
    let stats = aiobs::observer().auto_flush_stats();
    println!(
        "{handled} requests answered; {} files written in the background and at the end \
         ({} events, the flusher busy {:.1} ms in all); the last: {}",
        stats.flushes,
        stats.events,
        stats.busy.as_secs_f64() * 1e3,
        last.map(|p| p.display().to_string()).unwrap_or_default(),
    );

    // Join the numbered files into one trace.
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    parts.sort();
    let docs = parts
        .iter()
        .map(
            |p| -> Result<aiobs::model::ObservabilityExport, Box<dyn std::error::Error>> {
                Ok(serde_json::from_slice(&std::fs::read(p)?)?)
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    let joined = aiobs::merge_exports(docs, true);
    let path = match std::env::var_os("LLM_OBS_OUT") {
        Some(out) => PathBuf::from(out),
        None => PathBuf::from("target/aiobs/service.json"),
    };
    std::fs::write(&path, serde_json::to_vec(&joined)?)?;
    println!("joined into {}\n", path.display());
    examples::print_tree(&path)
}
