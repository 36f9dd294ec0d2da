// `#[must_use]` on an observed function still reports an ignored result, at the call.
#![deny(unused_must_use)]

#[aiobs::observe]
#[must_use]
fn important() -> u32 {
    1
}

fn main() {
    important();
}
