// Generic shapes. Sources: tracing-attributes/tests/follows_from.rs (nested `impl Trait`
// arguments, sync and async); shapes common in real code (const generics, `?Sized`, HRTB).
#![deny(warnings)]

use aiobs::observe;
use futures::executor::block_on;

#[observe]
fn sum_array<const N: usize>(a: [u32; N]) -> u32 {
    a.iter().sum()
}

#[observe]
async fn sum_array_async<const N: usize>(a: [u32; N]) -> u32 {
    a.iter().sum()
}

#[observe]
fn show_unsized<T: ?Sized + std::fmt::Debug>(x: &T) -> String {
    format!("{x:?}")
}

#[observe]
fn apply<F>(f: F, s: &str) -> usize
where
    F: for<'a> Fn(&'a str) -> &'a str,
{
    f(s).len()
}

#[observe]
fn nested_impl(causes: impl IntoIterator<Item = impl Into<Option<u64>>>) -> usize {
    let all: Vec<Option<u64>> = causes.into_iter().map(Into::into).collect();
    all.len()
}

#[observe]
async fn nested_impl_async(causes: impl IntoIterator<Item = impl Into<Option<u64>>>) -> usize {
    let all: Vec<Option<u64>> = causes.into_iter().map(Into::into).collect();
    all.len()
}

#[observe]
fn outlives<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

fn main() {
    assert_eq!(sum_array([1, 2, 3]), 6);
    assert_eq!(block_on(sum_array_async([1, 2])), 3);
    assert_eq!(show_unsized("hi"), "\"hi\"");
    assert_eq!(apply(str::trim, " a "), 1);
    assert_eq!(nested_impl(vec![1u64, 2]), 2);
    assert_eq!(block_on(nested_impl_async([Some(1u64), None])), 2);
    assert_eq!(outlives("ab", "c"), "ab");
}
