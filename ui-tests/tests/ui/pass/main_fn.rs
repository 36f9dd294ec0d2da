// `fn main` itself can be observed (without `#[track_caller]`, which `main` refuses).
#![deny(warnings)]

use std::error::Error;

#[aiobs::observe]
fn step(n: u32) -> u32 {
    n + 1
}

#[aiobs::observe(capture_result = false)]
fn main() -> Result<(), Box<dyn Error>> {
    let obs = aiobs::Collector::new();
    let _scope = obs.set_default();
    obs.observe(aiobs::ObserveOptions::new())?;
    assert_eq!(step(1), 2);
    let path = std::env::temp_dir().join(format!("aiobs-ui-main-{}.json", std::process::id()));
    let path = obs.flush(aiobs::FlushOptions::to_path(path))?;
    let export: aiobs::model::ObservabilityExport = serde_json::from_slice(&std::fs::read(&path)?)?;
    std::fs::remove_file(path)?;
    // `main` started before the session: only `step` is recorded, at the top of the tree.
    assert_eq!(export.function_events.len(), 1);
    assert_eq!(export.function_events[0].event.parent_span_id, None);
    Ok(())
}
