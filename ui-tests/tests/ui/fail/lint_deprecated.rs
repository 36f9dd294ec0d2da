// `#[deprecated]` on an observed function still reports its use, at the call.
#![deny(deprecated)]

#[aiobs::observe]
#[deprecated(note = "use `new_api`")]
fn old_api() {}

fn main() {
    old_api();
}
