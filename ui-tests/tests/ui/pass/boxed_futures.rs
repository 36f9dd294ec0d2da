// Futures without `async fn`. Sources: tracing-attributes/tests/async_fn.rs (repro_1831,
// repro_1831_2, manual_box_pin, sync_fun, out_of_scope_fields); shapes common in real code
// (recursion through `Box::pin`, `impl Future` built without an async block).
#![deny(warnings)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aiobs::observe;
use futures::executor::block_on;

#[observe]
#[deny(unused_braces)]
fn boxed_move() -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {})
}

#[observe]
fn boxed_plain() -> Pin<Box<dyn Future<Output = u32>>> {
    Box::pin(async { 1 })
}

struct Thing {
    metrics: Arc<u32>,
}

impl Thing {
    // The observed future is `Sync` as well as `Send` when the body's is.
    #[observe(skip(_req))]
    fn call(&mut self, _req: ()) -> Pin<Box<dyn Future<Output = Arc<u32>> + Send + Sync>> {
        let metrics = self.metrics.clone();
        Box::pin(async move { metrics })
    }

    #[observe]
    fn sync_fun(&self) -> Pin<Box<dyn Future<Output = u32> + Send + '_>> {
        let metrics = &self.metrics;
        Box::pin(async move { **metrics + 1 })
    }
}

#[observe]
fn fib(n: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if n < 2 {
            n
        } else {
            fib(n - 1).await + fib(n - 2).await
        }
    })
}

// The error type is known only from the signature's `Output`.
#[observe]
#[allow(clippy::manual_async_fn)]
fn infallible() -> impl Future<Output = Result<(), Infallible>> {
    async { Ok(()) }
}

#[observe]
fn ready(n: u32) -> impl Future<Output = u32> {
    std::future::ready(n)
}

#[observe]
async fn double(n: u32) -> u32 {
    n * 2
}

#[observe]
fn delegate(n: u32) -> impl Future<Output = u32> + Send {
    double(n)
}

// The element type is known only from the signature's `Item`.
#[observe]
fn ids() -> impl Iterator<Item = u32> {
    Vec::new().into_iter()
}

fn main() {
    block_on(boxed_move());
    assert_eq!(block_on(boxed_plain()), 1);
    let mut thing = Thing { metrics: Arc::new(3) };
    assert_eq!(*block_on(thing.call(())), 3);
    assert_eq!(block_on(thing.sync_fun()), 4);
    assert_eq!(block_on(fib(10)), 55);
    assert_eq!(block_on(infallible()), Ok(()));
    assert_eq!(block_on(ready(5)), 5);
    assert_eq!(block_on(delegate(2)), 4);
    assert_eq!(ids().count(), 0);
}
