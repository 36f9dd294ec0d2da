//! What the test files share: a runtime, and a flush read back.

use aiobs::{Collector, FlushOptions};
use serde_json::Value;

/// A current-thread tokio runtime with I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Flushes `obs` into a file of its own (`name` tells the tests' files apart) and reads the
/// export back.
pub fn flushed(obs: &Collector, name: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("aiobs-rig-{}-{name}", std::process::id()));
    let path = obs
        .flush(FlushOptions::to_path(dir.join("trace.json")))
        .expect("flush");
    let text = std::fs::read_to_string(&path).expect("read the export");
    std::fs::remove_dir_all(&dir).ok();
    serde_json::from_str(&text).expect("the export is JSON")
}
