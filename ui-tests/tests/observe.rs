//! What `#[aiobs::observe]` records, through the macro: parents, async interleaving, threads,
//! panics, errors, options, callsites, cancellation.

#[path = "../../aiobs/tests/support/mod.rs"]
mod support;

use std::future::Future as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

use aiobs::model::{ObservabilityExport, ObservedFunctionEvent};
use aiobs::{
    Collector, DefaultGuard, FlushOptions, FutureExt as _, ObserveOptions, SpanContext, observe,
};
use serde_json::{Value, json};

/// A collector of its own, current on this thread, with a session open.
fn session() -> (Collector, DefaultGuard) {
    let obs = Collector::new();
    let guard = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("observe"))
        .unwrap();
    (obs, guard)
}

struct Flushed {
    export: ObservabilityExport,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn flush(obs: &Collector) -> Flushed {
    let dir = tempfile::tempdir().unwrap();
    let path = obs
        .flush(FlushOptions::to_path(dir.path().join("trace.json")))
        .unwrap();
    let export = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    Flushed {
        export,
        path,
        _dir: dir,
    }
}

impl Flushed {
    fn calls(&self, name: &str) -> Vec<&ObservedFunctionEvent> {
        self.export
            .function_events
            .iter()
            .filter(|e| e.event.name == name)
            .collect()
    }

    fn call(&self, name: &str) -> &ObservedFunctionEvent {
        let calls = self.calls(name);
        assert_eq!(calls.len(), 1, "calls named {name}: {calls:#?}");
        calls[0]
    }

    /// The call named `name` whose only argument is `arg`.
    fn call_with(&self, name: &str, arg: Value) -> &ObservedFunctionEvent {
        let calls: Vec<_> = self
            .calls(name)
            .into_iter()
            .filter(|e| e.event.args == Some(vec![arg.clone()]))
            .collect();
        assert_eq!(calls.len(), 1, "calls {name}({arg})");
        calls[0]
    }

    fn parent_name(&self, call: &ObservedFunctionEvent) -> Option<&str> {
        let parent = call.event.parent_span_id.as_ref()?;
        let found = self
            .export
            .function_events
            .iter()
            .find(|e| e.event.span_id.as_ref() == Some(parent));
        Some(&found.expect("the parent is in the export").event.name)
    }
}

#[observe]
fn leaf(n: u32) -> u32 {
    n * 2
}

#[observe]
fn middle(n: u32) -> u32 {
    leaf(n) + leaf(n + 1)
}

#[observe(name = "root")]
fn top() -> u32 {
    middle(1) + leaf(10)
}

#[test]
fn nested_calls_record_their_parents() {
    let (obs, _scope) = session();
    assert_eq!(top(), 26);
    let f = flush(&obs);
    assert_eq!(f.export.function_events.len(), 5);
    assert_eq!(f.parent_name(f.call("root")), None);
    assert_eq!(f.parent_name(f.call("middle")), Some("root"));
    assert_eq!(f.parent_name(f.call_with("leaf", json!(1))), Some("middle"));
    assert_eq!(f.parent_name(f.call_with("leaf", json!(2))), Some("middle"));
    assert_eq!(f.parent_name(f.call_with("leaf", json!(10))), Some("root"));
    let tree = f.export.trace_tree.as_ref().unwrap();
    assert_eq!(tree.len(), 1);
    assert_eq!(tree[0].children().len(), 2);
    support::validate_export(&[&f.path]);
}

#[observe]
async fn sleepy_leaf(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n
}

#[observe]
async fn sleepy(n: u32) -> u32 {
    let a = sleepy_leaf(n).await;
    tokio::task::yield_now().await;
    a + sleepy_leaf(n + 100).await
}

/// Every `sleepy_leaf(n)` and `sleepy_leaf(n + 100)` is a child of `sleepy(n)`.
fn assert_sleepy_parents(f: &Flushed, ns: &[u32]) {
    for &n in ns {
        let parent = f.call_with("sleepy", json!(n));
        for arg in [n, n + 100] {
            let leaf = f.call_with("sleepy_leaf", json!(arg));
            assert_eq!(
                leaf.event.parent_span_id, parent.event.span_id,
                "sleepy_leaf({arg})"
            );
        }
    }
}

#[observe]
async fn join_three() -> u32 {
    let (a, b, c) = futures::join!(sleepy(1), sleepy(2), sleepy(3));
    a + b + c
}

#[test]
fn futures_joined_on_one_thread_keep_their_own_parents() {
    let (obs, _scope) = session();
    assert_eq!(
        futures::executor::block_on(join_three()),
        1 + 101 + 2 + 102 + 3 + 103
    );
    let f = flush(&obs);
    assert_sleepy_parents(&f, &[1, 2, 3]);
    for n in [1, 2, 3] {
        assert_eq!(
            f.parent_name(f.call_with("sleepy", json!(n))),
            Some("join_three")
        );
    }
    support::validate_export(&[&f.path]);
}

#[observe]
async fn race() -> u32 {
    tokio::select! {
        n = sleepy(7) => n,
        () = tokio::time::sleep(Duration::from_secs(60)) => 0,
    }
}

#[test]
fn tokio_join_and_select_on_a_current_thread_runtime() {
    let (obs, _scope) = session();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let (a, b) = rt.block_on(async { tokio::join!(sleepy(4), race()) });
    assert_eq!((a, b), (4 + 104, 7 + 107));
    let f = flush(&obs);
    assert_sleepy_parents(&f, &[4, 7]);
    assert_eq!(f.parent_name(f.call_with("sleepy", json!(4))), None);
    assert_eq!(f.parent_name(f.call_with("sleepy", json!(7))), Some("race"));
}

#[observe]
async fn spawner() -> u32 {
    let handles: Vec<_> = (20..24).map(|n| tokio::spawn(sleepy(n))).collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    sum
}

#[test]
fn futures_spawned_on_a_multi_thread_runtime_keep_the_caller_as_parent() {
    let (obs, _scope) = session();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .unwrap();
    rt.block_on(spawner());
    let f = flush(&obs);
    for n in 20..24 {
        assert_eq!(
            f.parent_name(f.call_with("sleepy", json!(n))),
            Some("spawner")
        );
    }
    assert_sleepy_parents(&f, &[20, 21, 22, 23]);
}

#[observe]
fn fan_out() {
    let ctx = SpanContext::current();
    std::thread::spawn(move || ctx.in_scope(|| leaf(30)))
        .join()
        .unwrap();
    // Without the context, the thread has neither the span nor the collector.
    std::thread::spawn(|| leaf(31)).join().unwrap();
}

#[test]
fn span_context_carries_the_parent_and_collector_to_a_thread() {
    let (obs, _scope) = session();
    fan_out();
    let f = flush(&obs);
    assert_eq!(
        f.parent_name(f.call_with("leaf", json!(30))),
        Some("fan_out")
    );
    assert!(
        f.calls("leaf")
            .iter()
            .all(|e| e.event.args != Some(vec![json!(31)]))
    );
}

#[observe]
async fn spawn_plain_task() -> u32 {
    let carried = tokio::spawn(async { leaf(40) + sleepy(41).await }.in_current_span());
    let bare = tokio::spawn(async { leaf(42) });
    carried.await.unwrap() + bare.await.unwrap()
}

#[test]
fn in_current_span_carries_the_parent_into_a_spawned_task() {
    let (obs, _scope) = session();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(spawn_plain_task());
    let f = flush(&obs);
    assert_eq!(
        f.parent_name(f.call_with("leaf", json!(40))),
        Some("spawn_plain_task")
    );
    assert_eq!(
        f.parent_name(f.call_with("sleepy", json!(41))),
        Some("spawn_plain_task")
    );
    assert_eq!(
        f.calls("leaf").len(),
        1,
        "leaf(42) ran on a worker with no collector current"
    );
}

#[observe]
fn explode(message: &str) -> u32 {
    panic!("{message}")
}

#[observe]
async fn explode_async(message: &str) -> u32 {
    tokio::task::yield_now().await;
    panic!("{message}")
}

#[observe]
fn survives() -> bool {
    panic::catch_unwind(|| explode("boom")).is_err()
}

#[test]
fn panics_are_recorded_and_still_unwind() {
    let (obs, _scope) = session();
    assert!(survives());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(explode_async("async boom"))
    }));
    assert!(caught.is_err());
    let f = flush(&obs);
    let sync = f.call("explode");
    assert_eq!(sync.event.error.as_deref(), Some("panic: boom"));
    assert_eq!(sync.event.result, None);
    assert_eq!(f.parent_name(sync), Some("survives"));
    assert_eq!(f.call("survives").event.result, Some(json!(true)));
    assert_eq!(
        f.call("explode_async").event.error.as_deref(),
        Some("panic: async boom")
    );
    assert_eq!(
        aiobs::current_span_id(),
        None,
        "the current span is restored after unwinding"
    );
}

/// Panics at the bottom; level 2 catches it and calls `after`.
#[observe]
fn descend(n: u32) -> u32 {
    match n {
        0 => panic!("bottom"),
        2 => panic::catch_unwind(|| descend(n - 1)).unwrap_or(100) + after(n),
        _ => descend(n - 1) + 1,
    }
}

#[observe]
fn after(n: u32) -> u32 {
    n
}

/// Calls that unwind through several recorded levels each end once, in order: the level that
/// caught the panic, and what it calls next, keep their places in the tree.
#[test]
fn a_panic_caught_halfway_up_a_recursion_leaves_the_tree_right() {
    let (obs, _scope) = session();
    assert_eq!(descend(4), 104);
    assert_eq!(aiobs::current_span_id(), None);
    let f = flush(&obs);
    let level = |n: u32| f.call_with("descend", json!(n));
    for n in 0..2 {
        assert_eq!(
            level(n).event.error.as_deref(),
            Some("panic: bottom"),
            "level {n}"
        );
        assert_eq!(level(n).event.result, None);
    }
    for n in 2..=4 {
        assert_eq!(level(n).event.result, Some(json!(100 + n)), "level {n}");
        assert_eq!(level(n).event.error, None);
    }
    for n in 0..4 {
        assert_eq!(
            level(n).event.parent_span_id,
            level(n + 1).event.span_id,
            "level {n} nests under level {}",
            n + 1
        );
    }
    assert_eq!(level(4).event.parent_span_id, None);
    assert_eq!(
        f.call("after").event.parent_span_id,
        level(2).event.span_id,
        "the call after the caught panic nests under the level that caught it"
    );
}

#[derive(Debug)]
struct MyError {
    source: Inner,
}

#[derive(Debug)]
struct Inner;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outer")
    }
}

impl std::fmt::Display for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inner")
    }
}

impl std::error::Error for MyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl std::error::Error for Inner {}

#[observe]
fn fails(fail: bool) -> Result<u32, MyError> {
    if fail {
        return Err(MyError { source: Inner });
    }
    Ok(1)
}

#[observe]
async fn fails_async() -> Result<u32, MyError> {
    let n = fails(true)?;
    Ok(n)
}

#[observe]
fn fails_boxed() -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(fails(true)?)
}

#[test]
fn errors_are_recorded_with_their_source_chain() {
    let (obs, _scope) = session();
    assert!(fails(false).is_ok());
    assert!(fails(true).is_err());
    assert!(futures::executor::block_on(fails_async()).is_err());
    assert!(fails_boxed().is_err());
    let f = flush(&obs);
    let ok = f.call_with("fails", json!(false));
    assert_eq!(
        (ok.event.result.clone(), ok.event.error.clone()),
        (Some(json!(1)), None)
    );
    for call in f
        .calls("fails")
        .into_iter()
        .filter(|c| c.event.args == Some(vec![json!(true)]))
    {
        assert_eq!(call.event.error.as_deref(), Some("MyError: outer: inner"));
        assert_eq!(call.event.result, None);
    }
    assert_eq!(
        f.call("fails_async").event.error.as_deref(),
        Some("MyError: outer: inner")
    );
    let boxed = f.call("fails_boxed").event.error.clone().unwrap();
    assert!(boxed.ends_with("outer: inner"), "{boxed}");
    support::validate_export(&[&f.path]);
}

#[derive(Debug, serde::Serialize)]
struct Secret(&'static str);

#[observe(capture_args = false)]
fn no_args(a: u32, secret: Secret) -> u32 {
    let _ = secret;
    a
}

#[observe(capture_result = false)]
fn no_result(a: u32) -> Result<u32, MyError> {
    if a == 0 {
        Err(MyError { source: Inner })
    } else {
        Ok(a)
    }
}

#[observe(skip(secret, r#type))]
fn skipping(a: u32, secret: Secret, r#type: u8, (b, c): (u8, u8)) -> u32 {
    let _ = (secret, r#type);
    a + u32::from(b + c)
}

#[observe(enh_prompt = true, auto_enhance_after = 5)]
fn enhanced(n: u32) -> u32 {
    if n > 0 { enhanced(n - 1) } else { 0 }
}

#[observe(enh_prompt)]
async fn enhanced_async() {}

#[test]
fn options_shape_what_is_recorded() {
    let (obs, _scope) = session();
    no_args(1, Secret("pw"));
    no_result(2).unwrap();
    no_result(0).unwrap_err();
    skipping(1, Secret("pw"), 3, (4, 5));
    enhanced(1);
    futures::executor::block_on(enhanced_async());
    let f = flush(&obs);

    let no_args = f.call("no_args");
    assert_eq!(
        (
            &no_args.event.args,
            &no_args.arg_names,
            &no_args.event.kwargs
        ),
        (&None, &None, &None)
    );
    assert_eq!(no_args.event.result, Some(json!(1)));

    let kept = f.call_with("no_result", json!(2));
    assert_eq!(kept.event.result, None);
    assert_eq!(kept.event.error, None);
    let failed = f.call_with("no_result", json!(0));
    assert_eq!(
        failed.event.error.as_deref(),
        Some("MyError: outer: inner"),
        "errors are always recorded"
    );

    let skipping = f.call("skipping");
    assert_eq!(
        skipping.arg_names.as_deref(),
        Some(&["a".to_owned(), "b".to_owned(), "c".to_owned()][..])
    );
    assert_eq!(
        skipping.event.args,
        Some(vec![json!(1), json!(4), json!(5)])
    );
    assert!(!serde_json::to_string(&f.export).unwrap().contains("pw"));

    let enhanced = f.calls("enhanced");
    assert_eq!(enhanced.len(), 2);
    let mut ids: Vec<_> = enhanced
        .iter()
        .map(|e| e.event.enh_prompt_id.clone().unwrap())
        .collect();
    ids.push(
        f.call("enhanced_async")
            .event
            .enh_prompt_id
            .clone()
            .unwrap(),
    );
    assert!(
        enhanced
            .iter()
            .all(|e| e.event.enh_prompt && e.event.auto_enhance_after == Some(5))
    );
    let mut listed = f.export.enh_prompt_traces.clone().unwrap();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    assert_eq!(f.call("no_args").event.enh_prompt_id, None);
    support::validate_export(&[&f.path]);
}

#[test]
fn the_callsite_is_the_caller_for_sync_and_async() {
    let (obs, _scope) = session();
    let line = line!() + 1;
    leaf(50);
    let future = sleepy_leaf(51);
    let async_line = line!() - 1;
    futures::executor::block_on(future);
    let f = flush(&obs);
    let site = f.call("leaf").event.callsite.clone().unwrap();
    assert_eq!(
        (site.file.as_deref(), site.line),
        (Some(file!()), Some(u64::from(line)))
    );
    let site = f.call("sleepy_leaf").event.callsite.clone().unwrap();
    assert_eq!(
        (site.file.as_deref(), site.line),
        (Some(file!()), Some(u64::from(async_line)))
    );
}

#[observe]
async fn forever() {
    std::future::pending::<()>().await;
}

#[test]
fn a_future_dropped_before_completion_leaves_the_current_span_clean() {
    let (obs, _scope) = session();
    let mut future = Box::pin(forever());
    let waker = futures::task::noop_waker();
    assert!(
        future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
            .is_pending()
    );
    assert_eq!(aiobs::current_span_id(), None);
    drop(future);
    drop(forever()); // never polled: not recorded
    assert_eq!(aiobs::current_span_id(), None);
    leaf(60);
    let f = flush(&obs);
    assert_eq!(f.parent_name(f.call("leaf")), None);
    let cancelled = f.call("forever").event.error.clone().unwrap();
    assert!(cancelled.starts_with("cancelled"), "{cancelled}");
}

#[test]
fn nothing_is_recorded_without_a_session() {
    let obs = Collector::new();
    let _scope = obs.set_default();
    assert_eq!(top(), 26);
    futures::executor::block_on(sleepy(1));
    let f = flush(&obs);
    assert!(f.export.function_events.is_empty());
    assert!(f.export.sessions.is_empty());
}

#[async_trait::async_trait]
trait Tool: Send + Sync {
    async fn run(&self, n: u32) -> u32;
}

struct Doubler;

#[async_trait::async_trait]
impl Tool for Doubler {
    #[observe]
    async fn run(&self, n: u32) -> u32 {
        leaf(n)
    }
}

#[test]
fn async_trait_methods_record_the_callsite_and_parent() {
    let (obs, _scope) = session();
    let future = Doubler.run(70);
    let line = line!() - 1;
    assert_eq!(futures::executor::block_on(future), 140);
    // Through `dyn Tool`, `#[track_caller]` sees the vtable shim: the callsite is the method's
    // definition (a Rust limitation), but the call and its parent are right.
    let tool: Box<dyn Tool> = Box::new(Doubler);
    assert_eq!(futures::executor::block_on(tool.run(71)), 142);
    let f = flush(&obs);
    let run = f.call_with("run", json!(70));
    assert!(
        run.event.api.ends_with("::Doubler::run"),
        "{}",
        run.event.api
    );
    let site = run.event.callsite.clone().unwrap();
    assert_eq!(
        (site.file.as_deref(), site.line),
        (Some(file!()), Some(u64::from(line)))
    );
    for n in [70, 71] {
        let leaf = f.call_with("leaf", json!(n));
        assert_eq!(
            leaf.event.parent_span_id,
            f.call_with("run", json!(n)).event.span_id
        );
    }
}

/// An argument whose `Debug` calls an observed function: that call runs while the outer call's
/// arguments are being captured.
struct Chatty(u32);

impl std::fmt::Debug for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chatty({})", leaf(self.0))
    }
}

#[observe]
fn listens(c: Chatty, n: u32) -> u32 {
    c.0 + leaf(n)
}

#[test]
fn a_call_made_while_arguments_are_captured_is_recorded_without_its_arguments() {
    let (obs, _scope) = session();
    assert_eq!(listens(Chatty(5), 7), 19);
    let f = flush(&obs);
    let outer = f.call("listens");
    // The inner call's result is in the outer call's captured argument.
    assert_eq!(outer.event.args, Some(vec![json!("Chatty(10)"), json!(7)]));
    assert_eq!(outer.event.result, Some(json!(19)));
    let leaves = f.calls("leaf");
    assert_eq!(leaves.len(), 2, "{leaves:#?}");
    // The call made inside the capture keeps its result, but not its arguments: the thread's
    // capture buffer was in use.
    let inside = leaves
        .iter()
        .find(|e| e.event.args.is_none())
        .expect("one leaf without its arguments");
    assert_eq!(inside.event.result, Some(json!(10)));
    assert_eq!(f.parent_name(inside), Some("listens"));
    let body = f.call_with("leaf", json!(7));
    assert_eq!(body.event.result, Some(json!(14)));
    assert_eq!(f.parent_name(body), Some("listens"));
    support::validate_export(&[&f.path]);
}

struct Named {
    name: String,
    id: u32,
}

/// Patterns other than a plain name, in an `async fn`: bound inside the future, as the
/// `async fn` binds them (a `ref` binding borrows the future's copy), captured by name when the
/// call starts.
#[observe]
async fn async_patterns(ref s: String, Named { ref name, id }: Named, (a, _): (u8, u8)) -> usize {
    s.len() + name.len() + id as usize + a as usize
}

#[async_trait::async_trait]
trait Pairs {
    async fn sum(&self, pair: (u32, u32), flag: u8, token: &str) -> u32;
}

struct Adder;

#[async_trait::async_trait]
impl Pairs for Adder {
    /// `#[async_trait]` renames `(a, b)` to `__arg1` and `_` to `__arg2` before `#[observe]`
    /// sees them: recorded by their own names all the same, and `skip` finds them.
    #[observe(skip(b), secret(token))]
    async fn sum(&self, (a, b): (u32, u32), _: u8, token: &str) -> u32 {
        a + b + u32::from(token.is_empty())
    }
}

/// The error type comes from the signature only.
#[observe]
#[allow(clippy::manual_async_fn)]
fn settles() -> impl std::future::Future<Output = Result<u8, std::convert::Infallible>> {
    async { Ok(7) }
}

#[test]
fn destructured_async_parameters_are_recorded_by_name() {
    let (obs, _scope) = session();
    let named = Named {
        name: "ab".into(),
        id: 3,
    };
    assert_eq!(
        futures::executor::block_on(async_patterns("xyz".into(), named, (4, 5))),
        12
    );
    assert_eq!(futures::executor::block_on(Adder.sum((1, 2), 9, "pw")), 3);
    assert_eq!(futures::executor::block_on(settles()), Ok(7));
    let f = flush(&obs);

    let patterns = f.call("async_patterns");
    assert_eq!(
        patterns.arg_names.as_deref(),
        Some(
            &[
                "s".to_owned(),
                "name".to_owned(),
                "id".to_owned(),
                "a".to_owned()
            ][..]
        )
    );
    assert_eq!(
        patterns.event.args,
        Some(vec![json!("xyz"), json!("ab"), json!(3), json!(4)])
    );
    assert_eq!(patterns.event.result, Some(json!(12)));

    let sum = f.call("sum");
    assert_eq!(
        sum.arg_names.as_deref(),
        Some(&["a".to_owned(), "token".to_owned()][..])
    );
    assert_eq!(sum.event.args, Some(vec![json!(1), json!("[REDACTED]")]));
    assert_eq!(sum.event.result, Some(json!(3)));

    assert_eq!(f.call("settles").event.result, Some(json!(7)));
}
