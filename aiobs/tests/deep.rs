//! A chain of a million nested calls flushes (the Python SDK fails near 500 levels): the tree
//! is built and written without recursion, on a thread with a 2 MiB stack.

use aiobs::__private::{FnMeta, enter};
use aiobs::{Collector, FlushOptions, ObserveOptions};

static META: FnMeta = FnMeta {
    name: "level",
    ident: "level",
    module: "deep",
    arg_names: &[],
    safe_args: &[],
    capture_args: false,
    capture_result: false,
    enh_prompt: false,
    auto_enhance_after: None,
    defined_at: None,
};

/// Opens `depth` calls, each inside the previous one, then closes them innermost first: the
/// records of a recursion `depth` deep, made without recursing.
fn record_chain(depth: usize) {
    let mut open = Vec::with_capacity(depth);
    for _ in 0..depth {
        open.push(enter(&META, None).expect("recording"));
    }
    while let Some(call) = open.pop() {
        let call = Some(call);
        aiobs::__observe_finish!(call, || (), |o, r| aiobs::__observe_outcome!(o, r));
    }
}

/// The deepest nesting of `[`/`{` outside strings, and how many tree nodes there are.
fn depth_and_nodes(json: &[u8]) -> (usize, usize) {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced");
    let nodes = json.windows(13).filter(|w| w == b"\"event_type\":").count();
    (max, nodes)
}

#[test]
fn a_million_nested_calls_flush_on_a_2_mib_stack() {
    const DEPTH: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let obs = Collector::new();
    {
        let _scope = obs.set_default();
        obs.observe(ObserveOptions::new()).unwrap();
        record_chain(DEPTH);
    }
    let path = dir.path().join("deep.json");
    let flushed = {
        let (obs, path) = (obs.clone(), path.clone());
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || obs.flush(FlushOptions::to_path(path)))
            .unwrap()
            .join()
            .expect("the flush thread did not overflow its stack")
    };
    flushed.expect("flush");
    let json = std::fs::read(&path).unwrap();
    let (max_depth, nodes) = depth_and_nodes(&json);
    assert_eq!(nodes, DEPTH, "every event is one tree node");
    // Each level nests an object and its `children` list.
    assert!(
        max_depth >= 2 * DEPTH,
        "nested {DEPTH} deep, got {max_depth}"
    );
}
