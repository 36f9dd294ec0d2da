// One compile reports every mistake of an attribute, each at its token.
#[aiobs::observe(name = 1, capture_args = false, capture_args = true, auto_enhance_after = 0, colour = "red", skip(x, y))]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn main() {
    add(1, 2);
}
