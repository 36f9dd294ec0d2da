// An observed function nobody calls is dead code, as it is without the attribute.
#![deny(dead_code)]

#[aiobs::observe]
fn never_called(n: u32) -> u32 {
    n
}

#[aiobs::observe]
async fn never_awaited() {}

fn main() {}
