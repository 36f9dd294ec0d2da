#[aiobs::observe]
struct Agent {
    name: String,
}

#[aiobs::observe]
const fn double(n: u64) -> u64 {
    n * 2
}

trait Tool {
    #[aiobs::observe]
    fn run(&self) -> String;
}

#[aiobs::observe]
mod inner {}

fn main() {
    let _ = Agent { name: String::new() }.name;
    let _ = double(2);
}
