// Sources: fastrace tests/macros/tests/ui/ok/async-in-trait.rs (native async trait impl whose
// body only diverges, under `#![deny(warnings)]`); tracing-attributes/tests/async_fn.rs
// (`async unsafe fn`); shapes common in real code (sync stub with a non-unit return type).
#![deny(warnings)]

use aiobs::observe;

trait MyTrait {
    async fn work(&self) -> usize;
}

struct MyStruct;

impl MyTrait for MyStruct {
    #[observe]
    async fn work(&self) -> usize {
        unimplemented!()
    }
}

#[observe]
#[allow(dead_code)]
fn stub(n: u32) -> u32 {
    let _ = n;
    todo!()
}

#[observe]
async unsafe fn read_async(p: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *p }
}

fn main() {
    drop(MyStruct.work()); // created, never polled
    let v = 5;
    // SAFETY: `&v` is valid for the whole call.
    assert_eq!(futures::executor::block_on(unsafe { read_async(&v) }), 5);
}
