//! A chain of calls thousands deep (deep recursion in the traced program): every subcommand
//! reads it; serde_json's default nesting limit (128) does not apply.

mod common;

use aiobs::{Collector, FlushOptions, ObserveOptions, observe};
use common::{aiobs, arg, python_accepts};

const DEPTH: u32 = 3000;

#[observe]
fn down(n: u32) -> u32 {
    if n == 0 { 0 } else { down(n - 1) + 1 }
}

#[test]
fn a_3000_deep_chain_is_viewed_validated_counted_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    // The recursion runs on a thread with room for it.
    let path = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn({
            let dir = dir.path().to_owned();
            move || {
                let obs = Collector::new();
                let _scope = obs.set_default();
                let sid = obs.observe(ObserveOptions::new()).unwrap();
                down(DEPTH);
                obs.end();
                obs.flush(FlushOptions::to_path(dir.join(format!("{sid}-1.json"))))
                    .unwrap()
            }
        })
        .unwrap()
        .join()
        .unwrap();

    let view = aiobs(&["view", "--depth", "3", arg(&path)]);
    assert_eq!(view.code, Some(0), "{}", view.stderr);
    let calls: Vec<&str> = view.stdout.lines().filter(|l| l.contains(" ms")).collect();
    assert_eq!(calls.len(), 3);
    assert!(
        calls[2].starts_with("   └─ down  ")
            && calls[2].ends_with(&format!("(n={}) → {}", DEPTH - 2, DEPTH - 2))
    );

    let check = aiobs(&["validate", arg(&path)]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert!(
        python_accepts(&path),
        "the Python SDK's models reject the deep trace"
    );

    let stats = aiobs(&["stats", "--json", arg(&path)]);
    let json: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(json["functions"][0]["calls"], DEPTH + 1);

    let out = dir.path().join("joined.json");
    let merge = aiobs(&["merge", arg(&path), "-o", arg(&out)]);
    assert_eq!(merge.code, Some(0), "{}", merge.stderr);
    let again = aiobs(&["validate", arg(&out)]);
    assert_eq!(again.code, Some(0), "{}", again.stdout);
}
