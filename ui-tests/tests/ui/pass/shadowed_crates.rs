// Modules named like the crates the expansion names: every generated path must be absolute.
// Sources: tracing-attributes/tests/instrument.rs (user_tracing_module, #3119) and history
// tracing_override.rs (899714d5, `mod tracing {}`).
#![deny(warnings)]

#[allow(dead_code)]
mod aiobs {}

#[allow(dead_code)]
mod core {}

#[allow(dead_code)]
mod futures {}

#[::aiobs::observe]
fn shadowed(n: u32) -> u32 {
    n
}

#[::aiobs::observe]
async fn shadowed_async(n: u32) -> u32 {
    n
}

fn main() {
    assert_eq!(shadowed(1), 1);
    assert_eq!(::futures::executor::block_on(shadowed_async(2)), 2);
}
