// Attributes on the observed function. Sources: tracing-attributes/tests/instrument.rs
// (repro_2294), async_fn.rs (repro_async_2294, repro_1613, repro_1613_2), err.rs
// (err_suspicious_else); shapes common in real code.
#![deny(warnings)]

use aiobs::observe;
use futures::executor::block_on;

#[deny(unused_variables)]
#[allow(clippy::mixed_attributes_style)]
#[observe]
fn inner_attr() {
    #![allow(unused_variables)]
    let i = 42;
}

#[deny(unused_variables)]
#[allow(clippy::mixed_attributes_style)]
#[observe]
async fn inner_attr_async() {
    #![allow(unused_variables)]
    let i = 42;
}

#[observe]
#[inline(always)]
async fn inlined_async() -> u32 {
    1
}

#[observe]
#[cold]
fn cold_path() -> u32 {
    2
}

#[cfg_attr(all(), aiobs::observe)]
fn optional(n: u32) -> u32 {
    n
}

#[observe]
#[cfg(all())]
fn cfg_after() -> u32 {
    3
}

#[observe]
#[doc(hidden)]
pub fn hidden() -> u32 {
    4
}

#[observe]
#[unsafe(no_mangle)]
pub extern "C" fn aiobs_shape_exported_c(n: i32) -> i32 {
    n
}

// Compiles, but see the report: `#[observe]` adds `#[track_caller]`, which changes the
// exported symbol's ABI (hidden `Location` argument) of a Rust-ABI `no_mangle` function.
#[observe]
#[unsafe(no_mangle)]
pub fn aiobs_shape_exported_rust(n: i32) -> i32 {
    n
}

#[observe]
#[rustfmt::skip]
#[deny(clippy::suspicious_else_formatting)]
async fn repro_1613(var: bool) -> &'static str {
    if var { "true" } else { "false" }
}

#[observe]
#[deny(clippy::suspicious_else_formatting)]
async fn repro_1613_2() {
    // hello world
    // else
}

#[observe]
fn suspicious_else() -> Result<u8, std::num::TryFromIntError> {
    {}
    u8::try_from(1234)
}

fn main() {
    inner_attr();
    block_on(inner_attr_async());
    assert_eq!(block_on(inlined_async()), 1);
    assert_eq!(cold_path(), 2);
    assert_eq!(optional(3), 3);
    assert_eq!(cfg_after(), 3);
    assert_eq!(hidden(), 4);
    assert_eq!(aiobs_shape_exported_c(5), 5);
    assert_eq!(aiobs_shape_exported_rust(6), 6);
    assert_eq!(block_on(repro_1613(true)), "true");
    block_on(repro_1613_2());
    assert!(suspicious_else().is_err());
}
