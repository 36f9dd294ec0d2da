// Shared by the pass tests: record what a closure calls, read the export back.
#![allow(dead_code)]

use aiobs::model::{ObservabilityExport, ObservedFunctionEvent};

pub fn record(f: impl FnOnce()) -> ObservabilityExport {
    let obs = aiobs::Collector::new();
    let _scope = obs.set_default();
    obs.observe(aiobs::ObserveOptions::new().session_name("ui")).unwrap();
    f();
    obs.end();
    let path = std::env::temp_dir().join(format!("aiobs-ui-{}.json", std::process::id()));
    let path = obs.flush(aiobs::FlushOptions::to_path(path)).unwrap();
    let text = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    serde_json::from_slice(&text).unwrap()
}

/// The only call named `name`.
pub fn call<'a>(export: &'a ObservabilityExport, name: &str) -> &'a ObservedFunctionEvent {
    let mut calls = export.function_events.iter().filter(|e| e.event.name == name);
    let call = calls.next().unwrap_or_else(|| panic!("no call named {name}"));
    assert!(calls.next().is_none(), "more than one call named {name}");
    call
}

/// `arg_names` and `args` of a call, as JSON text.
pub fn args(call: &ObservedFunctionEvent) -> (Vec<String>, String) {
    let names = call.arg_names.clone().unwrap_or_default();
    (names, serde_json::to_string(&call.event.args).unwrap())
}

pub fn result(call: &ObservedFunctionEvent) -> String {
    serde_json::to_string(&call.event.result).unwrap()
}
