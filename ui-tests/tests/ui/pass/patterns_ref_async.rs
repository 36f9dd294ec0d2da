// `ref` bindings in an `async fn`'s parameter patterns: bound inside the future, as rustc
// binds them, so that they borrow the future's copy of the argument.
#![deny(warnings)]

use aiobs::observe;
use futures::executor::block_on;

struct Named {
    name: String,
    id: u32,
}

#[observe]
async fn ref_binding_async(ref s: String) -> usize {
    s.len()
}

#[observe]
async fn ref_in_struct(Named { ref name, id }: Named) -> usize {
    name.len() + id as usize
}

fn main() {
    assert_eq!(block_on(ref_binding_async("abc".into())), 3);
    assert_eq!(block_on(ref_in_struct(Named { name: "ab".into(), id: 1 })), 3);
}
