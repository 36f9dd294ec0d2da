#[aiobs::observe(nmae = "add")]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[aiobs::observe(capture::args = false)]
fn sub(a: u64, b: u64) -> u64 {
    a - b
}

fn main() {
    add(1, 2);
    sub(2, 1);
}
