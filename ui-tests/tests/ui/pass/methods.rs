// Methods of every receiver, associated and trait-impl functions: the receiver is never
// captured, and the api names the type.
#![deny(warnings)]

#[path = "../record.rs"]
mod record;

use aiobs::observe;
use record::{args, call, record, result};

#[derive(Debug, Clone)]
struct Counter {
    n: u32,
}

impl Counter {
    #[observe]
    fn new() -> Self {
        Counter { n: 0 }
    }

    #[observe]
    fn with(n: u32) -> Counter {
        Counter { n }
    }

    #[observe]
    fn get(&self) -> u32 {
        self.n
    }

    #[observe]
    fn slot(&mut self) -> &mut u32 {
        &mut self.n
    }

    #[observe]
    fn bump(&mut self, by: u32) {
        self.n += by;
    }

    #[observe]
    fn into_inner(self) -> u32 {
        self.n
    }

    #[observe]
    fn boxed(self: Box<Self>) -> u32 {
        self.n
    }

    #[observe]
    fn helper(x: u32) -> u32 {
        x
    }
}

struct Wrapper<T>(T);

impl<T: Clone> Wrapper<T> {
    #[observe]
    fn inner(&self) -> T {
        self.0.clone()
    }
}

trait Describe {
    fn describe(&self, prefix: &str) -> String;

    #[observe]
    fn shout(&self) -> String {
        self.describe("!")
    }
}

impl Describe for Counter {
    #[observe]
    fn describe(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.n)
    }
}

impl std::ops::Add for Counter {
    type Output = Counter;

    #[observe]
    fn add(self, other: Counter) -> Counter {
        Counter { n: self.n + other.n }
    }
}

fn main() {
    let export = record(|| {
        let mut c = Counter::new();
        c.bump(2);
        *c.slot() += 1;
        assert_eq!(c.get(), 3);
        assert_eq!(Counter::with(4).into_inner(), 4);
        assert_eq!(Box::new(Counter::with(5)).boxed(), 5);
        assert_eq!(Counter::helper(6), 6);
        assert_eq!(Wrapper(7u8).inner(), 7);
        assert_eq!(c.shout(), "!3");
        assert_eq!((c + Counter { n: 1 }).n, 4);
    });
    assert!(call(&export, "new").event.api.ends_with("::Counter::new"));
    assert_eq!(args(call(&export, "bump")), (vec!["by".into()], "[2]".into()));
    assert_eq!(args(call(&export, "get")), (vec![], "[]".into()));
    assert_eq!(result(call(&export, "get")), "3");
    assert_eq!(result(call(&export, "slot")), "2");
    assert!(call(&export, "boxed").event.api.ends_with("::Counter::boxed"));
    // Without `self` or `Self` in its signature, a function can't tell it is in an impl.
    let helper = &call(&export, "helper").event.api;
    assert!(helper.ends_with("::helper") && !helper.contains("Counter"), "{helper}");
    // Generic arguments are left out of the api path.
    assert!(call(&export, "inner").event.api.ends_with("::Wrapper::inner"));
    let shout = call(&export, "shout");
    assert!(shout.event.api.ends_with("::Counter::shout"), "{}", shout.event.api);
    let describe = call(&export, "describe");
    assert_eq!(describe.event.parent_span_id, shout.event.span_id);
    assert_eq!(args(describe), (vec!["prefix".into()], r#"["!"]"#.into()));
    assert_eq!(args(call(&export, "add")), (vec!["other".into()], r#"["Counter { n: 1 }"]"#.into()));
}
