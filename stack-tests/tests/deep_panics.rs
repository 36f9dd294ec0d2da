//! Panics in observed recursion below the levels that catch them in a debug build: every call
//! the panic unwinds is recorded as panicked, with the panic's message, and the tree stays
//! nested. In an optimised build every level catches; these tests hold for both.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use serde_json::Value;

/// Deeper than the levels that catch panics in a debug build (256).
const DEPTH: u32 = 400;

thread_local! {
    /// The level at which `descend` catches the panic from below; `u32::MAX` for none.
    static CATCH_AT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Panics at the bottom. The level `CATCH_AT` catches the panic and calls `after`; every
/// level makes a `Cleanup` whose drop calls `cleanup` (while the panic unwinds, for those it
/// passes).
#[observe]
fn descend(n: u32) -> u32 {
    let _cleanup = Cleanup(n);
    if n == 0 {
        panic!("bottom");
    }
    if n == CATCH_AT.get() {
        return panic::catch_unwind(|| descend(n - 1)).unwrap_or(1_000) + after(n);
    }
    descend(n - 1) + 1
}

#[observe]
fn after(n: u32) -> u32 {
    n
}

struct Cleanup(u32);

impl Drop for Cleanup {
    fn drop(&mut self) {
        cleanup(self.0);
    }
}

#[observe]
fn cleanup(n: u32) -> u32 {
    n
}

/// Runs `descend(DEPTH)` in a session of its own, catching `CATCH_AT`, and returns its
/// function events by (name, argument) and whether the call returned.
fn run(catch_at: u32) -> (Vec<Value>, Option<u32>) {
    CATCH_AT.set(catch_at);
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new()).unwrap();
    let returned = panic::catch_unwind(AssertUnwindSafe(|| descend(DEPTH))).ok();
    assert_eq!(
        aiobs::current_span_id(),
        None,
        "no span is left current once the panic is caught"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("panics.json")).include_trace_tree(false))
        .unwrap();
    let export: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let events = export["function_events"].as_array().unwrap().clone();
    (events, returned)
}

fn find<'e>(events: &'e [Value], name: &str, n: u32) -> &'e Value {
    let found: Vec<_> = events
        .iter()
        .filter(|e| e["name"] == name && e["args"][0] == n)
        .collect();
    assert_eq!(found.len(), 1, "one call {name}({n})");
    found[0]
}

/// Each level of `descend` nests under the one above it, and each `cleanup` under its level.
fn assert_nested(events: &[Value]) {
    for n in 0..DEPTH {
        assert_eq!(
            find(events, "descend", n)["parent_span_id"],
            find(events, "descend", n + 1)["span_id"],
            "descend({n}) nests under descend({})",
            n + 1
        );
    }
    for n in 0..=DEPTH {
        assert_eq!(
            find(events, "cleanup", n)["parent_span_id"],
            find(events, "descend", n)["span_id"],
            "cleanup({n}) nests under descend({n})"
        );
    }
    assert!(find(events, "descend", DEPTH)["parent_span_id"].is_null());
}

#[test]
fn every_level_a_panic_unwinds_is_recorded_with_its_message() {
    let (events, returned) = run(u32::MAX);
    assert_eq!(returned, None);
    assert_eq!(events.len(), 2 * (DEPTH as usize + 1));
    for n in 0..=DEPTH {
        let call = find(&events, "descend", n);
        assert_eq!(call["error"], "panic: bottom", "descend({n})");
        assert!(call["result"].is_null());
    }
    assert_nested(&events);
}

#[test]
fn a_panic_the_program_catches_below_the_caught_levels_is_still_recorded() {
    // Caught 350 levels deep: in a debug build, below the levels that catch.
    let catch_at = 50;
    let (events, returned) = run(catch_at);
    assert_eq!(returned, Some(1_000 + catch_at + (DEPTH - catch_at)));
    assert_eq!(events.len(), 2 * (DEPTH as usize + 1) + 1);
    let expected = if cfg!(debug_assertions) {
        // The program took the panic's payload; aiobs never saw it.
        "panic: (its message was caught by the program below the 256th nested call)"
    } else {
        "panic: bottom"
    };
    for n in 0..catch_at {
        let call = find(&events, "descend", n);
        assert_eq!(call["error"], expected, "descend({n})");
        assert!(call["result"].is_null());
    }
    for n in catch_at..=DEPTH {
        let call = find(&events, "descend", n);
        assert!(call["error"].is_null(), "descend({n}) returned");
        assert_eq!(
            call["result"],
            1_000 + catch_at + (n - catch_at),
            "descend({n})"
        );
    }
    assert_eq!(
        find(&events, "after", catch_at)["parent_span_id"],
        find(&events, "descend", catch_at)["span_id"],
        "the call after the caught panic nests under the level that caught it"
    );
    assert_nested(&events);
}
