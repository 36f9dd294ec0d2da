// `self` forms, `Self` in bodies, associated types and GATs in the return type.
// Sources: tracing history 9ae46760 (#875, `self: &mut Self`); shapes common in real code.
#![deny(warnings)]

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use aiobs::observe;
use futures::executor::block_on;

#[derive(Debug, Default)]
struct S {
    n: u32,
}

impl S {
    const START: u32 = 1;

    #[observe]
    fn make() -> Self {
        Self { n: Self::START } // `Self` in the body
    }

    #[observe]
    fn bump(mut self) -> Self {
        self.n += 1;
        self
    }

    #[observe]
    async fn bump_async(mut self) -> Self {
        self.n += 1;
        self
    }

    #[observe]
    fn typed_ref(self: &Self) -> u32 {
        self.n
    }

    #[observe]
    async fn typed_mut(self: &mut Self) -> u32 {
        self.n += 1;
        self.n
    }

    #[observe]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.n
    }

    #[observe]
    async fn pinned_async(self: Pin<&mut Self>) -> u32 {
        self.n
    }

    #[observe]
    fn rc(self: Rc<Self>) -> u32 {
        self.n
    }

    #[observe]
    async fn arc(self: Arc<Self>) -> u32 {
        self.n
    }
}

struct Countdown(u32);

impl Iterator for Countdown {
    type Item = u32;

    #[observe]
    fn next(&mut self) -> Option<Self::Item> {
        if self.0 == 0 {
            None
        } else {
            self.0 -= 1;
            Some(self.0)
        }
    }
}

trait Lender {
    type Item<'a>
    where
        Self: 'a;
    fn lend(&mut self) -> Self::Item<'_>;
}

struct Buf(Vec<u8>);

impl Lender for Buf {
    type Item<'a>
        = &'a mut [u8]
    where
        Self: 'a;

    #[observe]
    fn lend(&mut self) -> Self::Item<'_> {
        &mut self.0[..]
    }
}

trait Named {
    fn name(&self) -> String;

    #[observe]
    fn into_name(self) -> String
    where
        Self: Sized,
    {
        self.name()
    }
}

impl Named for S {
    fn name(&self) -> String {
        format!("s{}", self.n)
    }
}

fn main() {
    let s = S::make().bump();
    let mut s = block_on(s.bump_async());
    assert_eq!(s.typed_ref(), 3);
    assert_eq!(block_on(s.typed_mut()), 4);
    assert_eq!(Pin::new(&mut s).pinned(), 4);
    assert_eq!(block_on(Pin::new(&mut s).pinned_async()), 4);
    assert_eq!(s.into_name(), "s4");
    assert_eq!(Rc::new(S::make()).rc(), 1);
    assert_eq!(block_on(Arc::new(S::make()).arc()), 1);
    assert_eq!(Countdown(2).collect::<Vec<_>>(), [1, 0]);
    assert_eq!(Buf(vec![1, 2]).lend().len(), 2);
}
