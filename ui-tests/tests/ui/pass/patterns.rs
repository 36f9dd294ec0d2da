// Parameter patterns. Sources: tracing-attributes/tests/destructuring.rs; tracing history
// 55cef9c4 (async_fn_bindings); fastrace tests/macros/tests/ui/ok/has-name-async-mut.rs.
#![deny(warnings)]

use aiobs::observe;
use futures::executor::block_on;

struct Foo(u32, u32);

struct Outer {
    bar: Bar,
    baz: (u32, u32),
    qux: NoDebug,
}

struct Bar((u32, u32));

struct NoDebug;

#[observe]
fn nested_tuples(((a, b), (c, d)): ((u32, u32), (u32, u32))) -> u32 {
    a + b + c + d
}

#[observe]
fn by_ref_pattern(&n: &u32) -> u32 {
    n
}

#[observe]
fn tuple_struct(Foo(a, b): Foo) -> u32 {
    a + b
}

#[observe]
fn everything(&Outer { bar: Bar((a, b)), baz: (c, d), .. }: &Outer) -> u32 {
    a + b + c + d
}

#[observe]
fn at_binding(whole @ (x, _): (u8, u8)) -> u8 {
    whole.1 + x
}

#[observe]
async fn async_tuple((a, b): (u64, u64)) -> u64 {
    a + b
}

// `_` in an `async fn`: kept alive until the future ends, as the `async fn` keeps it.
#[observe]
async fn async_wild(_: u8, n: u8) -> u8 {
    n
}

#[observe]
async fn async_mut(mut n: u32) -> u32 {
    n += 1;
    n
}

#[observe]
async fn async_patterns(Foo(a, _): Foo, &b: &u32) -> u32 {
    a + b
}

#[observe]
fn ref_binding(ref s: String) -> usize {
    s.len()
}

fn main() {
    assert_eq!(nested_tuples(((1, 2), (3, 4))), 10);
    assert_eq!(by_ref_pattern(&5), 5);
    assert_eq!(tuple_struct(Foo(1, 2)), 3);
    let outer = Outer { bar: Bar((1, 2)), baz: (3, 4), qux: NoDebug };
    let _ = outer.qux; // as tracing does: marks the field read
    assert_eq!(everything(&outer), 10);
    assert_eq!(at_binding((1, 2)), 3);
    assert_eq!(block_on(async_tuple((1, 2))), 3);
    assert_eq!(block_on(async_wild(0, 7)), 7);
    assert_eq!(block_on(async_mut(1)), 2);
    assert_eq!(block_on(async_patterns(Foo(1, 9), &2)), 3);
    assert_eq!(ref_binding("abc".into()), 3);
}
