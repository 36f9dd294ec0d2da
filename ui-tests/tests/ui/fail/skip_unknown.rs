#[aiobs::observe(skip(query, cleint))]
fn search(client: &str, query: &str) -> usize {
    client.len() + query.len()
}

struct Index;

impl Index {
    // `self` is never captured; skipping it is allowed in a method, not elsewhere.
    #[aiobs::observe(skip(self))]
    fn len(&self) -> usize {
        0
    }
}

#[aiobs::observe(skip(self))]
fn free(n: usize) -> usize {
    n
}

fn main() {
    search("c", "q");
    Index.len();
    free(1);
}
