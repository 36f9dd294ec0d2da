// Return types that need the signature (unsizing, nested `impl Trait`) and borrows returned
// from parameters. Sources: tracing-attributes/tests/async_fn.rs (test_ret_impl_trait[_err]),
// err.rs (impl_trait_return_type #1227, err_mut_async); tracing history 55cef9c4
// (async_fn_return_inference, async_fn_generic), 442f5584 (#2857), 9e65a3dc (#2796); fastrace
// tests/macros/tests/ui/ok/dyn-future.rs; shapes common in real code (`-> impl Fn`).
#![deny(warnings)]

use std::future::Future;
use std::num::TryFromIntError;
use std::pin::Pin;

use aiobs::observe;
use futures::executor::block_on;

type RetBox = Box<dyn FnOnce() + Send + Sync>;

#[observe]
async fn ret_box((a, b): (u64, u64)) -> Result<RetBox, ()> {
    let _ = (a, b);
    Ok(Box::new(|| ()))
}

#[observe]
async fn ret_generic<T: std::fmt::Debug>((a, b): (u64, T)) -> Result<Box<dyn Fn() -> T + Send>, ()>
where
    T: Clone + Send + 'static,
{
    let _ = a;
    Ok(Box::new(move || b.clone()))
}

#[observe]
fn boxed_closure(n: u32) -> Box<dyn Fn(u32) -> u32> {
    Box::new(move |x| x + n)
}

#[observe]
fn adder(n: u32) -> impl Fn(u32) -> u32 {
    move |x| x + n
}

#[observe]
fn iter_in_result(x: usize) -> Result<impl Iterator<Item = usize>, String> {
    Ok(0..x)
}

#[observe]
async fn async_iter_in_result(n: i32) -> Result<impl Iterator<Item = i32>, &'static str> {
    Ok((0..10).filter(move |x| *x < n))
}

#[derive(Debug)]
pub struct InnerError;

#[derive(Debug)]
pub struct OuterError(#[allow(dead_code)] InnerError);

pub type MyFuture = Pin<Box<dyn Future<Output = Result<u32, OuterError>> + Send>>;

#[observe]
pub async fn dyn_future() -> Result<MyFuture, OuterError> {
    let inner = async { Err(InnerError) };
    let mapped = async move { inner.await.map_err(OuterError) };
    Ok(Box::pin(mapped))
}

#[observe]
fn pass_mut(x: &mut u32) -> &mut u32 {
    x
}

#[observe]
async fn pass_mut_async(x: &mut u32) -> &mut u32 {
    x
}

#[observe]
fn refs_in_result(x: &mut u8) -> Result<&u8, &u8> {
    Ok(&*x)
}

#[observe]
fn unit_ref_err(x: &()) -> Result<(), &()> {
    let _ = x;
    Ok(())
}

#[observe]
async fn unit_ref_err_async(x: &()) -> Result<(), &()> {
    let _ = x;
    Ok(())
}

#[observe]
async fn write_through(polls: usize, out: &mut u8) -> Result<(), TryFromIntError> {
    let _ = polls;
    *out = u8::try_from(1234)?;
    Ok(())
}

fn main() {
    assert!(block_on(ret_box((1, 2))).is_ok());
    let f = block_on(ret_generic((1, 456u32))).unwrap();
    assert_eq!(f(), 456);
    assert_eq!(boxed_closure(1)(2), 3);
    assert_eq!(adder(1)(2), 3);
    assert_eq!(iter_in_result(3).unwrap().count(), 3);
    assert_eq!(block_on(async_iter_in_result(5)).unwrap().count(), 5);
    let fut = block_on(dyn_future()).unwrap();
    assert!(block_on(fut).is_err());
    let mut n = 1;
    *pass_mut(&mut n) += 1;
    *block_on(pass_mut_async(&mut n)) += 1;
    assert_eq!(n, 3);
    let mut b = 7;
    assert_eq!(refs_in_result(&mut b), Ok(&7));
    assert_eq!(unit_ref_err(&()), Ok(()));
    assert_eq!(block_on(unit_ref_err_async(&())), Ok(()));
    let mut out = 0;
    assert!(block_on(write_through(1, &mut out)).is_err());
}
