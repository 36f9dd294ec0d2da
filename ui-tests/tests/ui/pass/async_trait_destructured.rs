// `#[async_trait]` renames a destructured parameter to `__argN` before `#[observe]` sees it;
// `skip` still finds the names the pattern binds.
#![deny(warnings)]

use aiobs::observe;
use async_trait::async_trait;
use futures::executor::block_on;

#[async_trait]
trait Pairs {
    async fn sum(&self, pair: (u32, u32), flag: u8) -> u32;
}

struct P;

#[async_trait]
impl Pairs for P {
    #[observe(skip(b))]
    async fn sum(&self, (a, b): (u32, u32), _: u8) -> u32 {
        a + b
    }
}

fn main() {
    assert_eq!(block_on(P.sum((1, 2), 0)), 3);
}
