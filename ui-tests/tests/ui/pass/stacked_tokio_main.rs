// Another attribute macro stacked on an observed function. Source: fastrace
// tests/macros/tests/ui/ok/async-trait.rs (`#[logcall::logcall] #[fastrace::trace]`).
// `#[tokio::main]` expands first and leaves a sync `fn main` for `#[observe]`.
// (The other order, `#[observe]` above `#[tokio::main]`, cannot work: see the report.)
#![deny(warnings)]

#[aiobs::observe]
async fn step(n: u32) -> u32 {
    n + 1
}

#[tokio::main(flavor = "current_thread")]
#[aiobs::observe]
async fn main() {
    assert_eq!(step(1).await, 2);
}
