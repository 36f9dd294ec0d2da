// An unused variable in an observed body is reported at its name, sync and async.
#![deny(unused_variables)]

#[aiobs::observe]
fn sync_body(n: u32) -> u32 {
    let doubled = n * 2;
    n
}

#[aiobs::observe]
async fn async_body(n: u32) -> u32 {
    let tripled = n * 3;
    n
}

fn main() {
    sync_body(1);
    let _ = async_body(2);
}
