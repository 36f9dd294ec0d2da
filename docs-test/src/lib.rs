//! Every Rust snippet of the guide (`docs/src/`), of the README and of each published crate's
//! README, compiled and run as doc-tests: `cargo test -p docs-test --doc`.
//!
//! Each chapter is included as the documentation of an item that exists only when rustdoc
//! collects doc-tests, so its ```` ```rust ```` blocks are tests; lines starting with `# ` are
//! hidden by mdBook and compiled here. Blocks marked `ignore` say in the text which crate they
//! need.

macro_rules! chapters {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[cfg(doctest)]
            #[doc = include_str!($path)]
            pub struct $name;
        )*
    };
}

chapters! {
    Readme => "../../README.md",
    AiobsReadme => "../../aiobs/README.md",
    AiobsMacrosReadme => "../../aiobs-macros/README.md",
    AiobsCliReadme => "../../aiobs-cli/README.md",
    Introduction => "../../docs/src/introduction.md",
    GettingStarted => "../../docs/src/getting-started.md",
    FromPython => "../../docs/src/from-python.md",
    SessionsAndLabels => "../../docs/src/sessions-and-labels.md",
    ObservingFunctions => "../../docs/src/observing-functions.md",
    AsyncAndThreads => "../../docs/src/async-and-threads.md",
    LlmCalls => "../../docs/src/llm-calls.md",
    LlmCallsUreq => "../../docs/src/llm-calls/ureq.md",
    LlmCallsReqwest => "../../docs/src/llm-calls/reqwest.md",
    LlmCallsManual => "../../docs/src/llm-calls/manual.md",
    LlmCallsProviders => "../../docs/src/llm-calls/providers.md",
    Testing => "../../docs/src/testing.md",
    Privacy => "../../docs/src/privacy.md",
    Remote => "../../docs/src/remote.md",
    Services => "../../docs/src/services.md",
    Tracing => "../../docs/src/tracing.md",
    JsonFormat => "../../docs/src/json-format.md",
    Cli => "../../docs/src/cli.md",
    Html => "../../docs/src/html.md",
    Performance => "../../docs/src/performance.md",
    Design => "../../docs/src/design.md",
}

/// A fresh directory under the system's temporary directory, made the current directory of the
/// process, so that snippets that write `trace.json` or `traces/` leave the repository alone.
/// Each doc-test runs in a process of its own, so changing the directory is safe. The
/// directory is removed when the guard drops.
#[doc(hidden)]
pub fn scratch_dir() -> ScratchDir {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "aiobs-docs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    std::env::set_current_dir(&dir).expect("enter the scratch directory");
    ScratchDir { dir }
}

/// Removes its directory on drop (see [`scratch_dir`]).
#[doc(hidden)]
pub struct ScratchDir {
    dir: std::path::PathBuf,
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(std::env::temp_dir());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Flushes `obs` to a temporary file and reads the export back, for the assertions of the
/// snippets' hidden lines.
#[doc(hidden)]
pub fn flushed(obs: &aiobs::Collector) -> aiobs::model::ObservabilityExport {
    let dir = std::env::temp_dir().join(format!("aiobs-docs-flush-{}", std::process::id()));
    let path = obs
        .flush(aiobs::FlushOptions::to_path(dir.join("trace.json")))
        .expect("flush");
    let export = serde_json::from_slice(&std::fs::read(&path).expect("read the export"))
        .expect("parse the export");
    let _ = std::fs::remove_dir_all(dir);
    export
}

/// The function event called `name` in `export` (the first one), as JSON.
#[doc(hidden)]
pub fn event(export: &aiobs::model::ObservabilityExport, name: &str) -> serde_json::Value {
    let event = export
        .function_events
        .iter()
        .find(|e| e.event.name == name)
        .unwrap_or_else(|| panic!("no event named {name}"));
    serde_json::to_value(event).expect("an event is JSON")
}
