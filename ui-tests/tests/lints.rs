//! The expansion adds no warning to user code, clippy's pedantic and nursery groups included:
//! `cargo clippy --all-targets -- -D warnings` checks this file.
#![deny(warnings)]
#![warn(clippy::pedantic, clippy::nursery)]

use std::future::Future;

use aiobs::observe;

#[observe]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[observe]
fn identity<'a>(s: &'a str) -> &'a str {
    s
}

#[observe]
fn elided(s: &str) -> &str {
    s.trim()
}

#[observe]
fn parse(s: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[observe]
fn range(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

struct Pair {
    x: u32,
    y: u32,
}

#[observe]
fn destructured(
    (a, b): (u32, u32),
    Pair { x, y: _y }: Pair,
    mut m: u32,
    _: u8,
    _unused: u8,
) -> u32 {
    m += 1;
    a + b + x + m
}

#[observe]
fn generic<T>(t: &T, u: impl Into<String>) -> (T, String)
where
    T: std::fmt::Debug + Clone + Send,
{
    (t.clone(), u.into())
}

#[observe]
async fn parse_async(s: &str, _: String) -> Result<usize, std::num::ParseIntError> {
    let n = s.parse::<usize>()?;
    Ok(n + 1)
}

#[observe]
fn later(n: u32) -> impl Future<Output = u32> + Send {
    async move { n + 1 }
}

#[observe]
unsafe fn read(p: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *p }
}

#[observe]
fn recurse(n: u32) -> u32 {
    if n == 0 { 0 } else { recurse(n - 1) + 1 }
}

#[observe]
extern "C" fn c_abi(a: i32) -> i32 {
    a
}

struct S {
    v: u32,
}

impl S {
    #[observe]
    fn new() -> Self {
        Self { v: 1 }
    }

    #[observe]
    fn slot(&mut self) -> &mut u32 {
        &mut self.v
    }

    #[observe]
    fn get(&self) -> &u32 {
        &self.v
    }

    #[observe]
    fn by_value(self) -> u32 {
        self.v
    }

    #[observe]
    #[allow(clippy::unnecessary_box_returns)]
    fn boxed(self: Box<Self>) -> u32 {
        self.v
    }

    #[observe]
    async fn name(&self, s: &str) -> &str {
        let _ = s;
        if self.v > 0 { "positive" } else { "zero" }
    }

    #[observe]
    async fn bump(&mut self, s: &str) -> Result<u32, std::num::ParseIntError> {
        let n: u32 = s.parse()?;
        self.v += n;
        Ok(self.v)
    }

    #[observe]
    fn bump_later(&mut self) -> impl Future<Output = ()> + '_ {
        let v = &mut self.v;
        async move { *v += 1 }
    }
}

#[async_trait::async_trait]
trait Tool {
    async fn run(&self, x: u32) -> u32;
}

#[async_trait::async_trait]
impl Tool for S {
    #[observe]
    async fn run(&self, x: u32) -> u32 {
        self.v + x
    }
}

trait Native {
    fn native(&self) -> impl Future<Output = u32> + Send;
}

impl Native for S {
    #[observe]
    async fn native(&self) -> u32 {
        self.v
    }
}

/// Doc comments and attributes stay.
#[observe(
    name = "renamed",
    skip(b),
    enh_prompt = true,
    auto_enhance_after = 3,
    capture_result = false
)]
#[inline]
#[must_use]
pub fn documented(a: u32, b: u32) -> u32 {
    a + b
}

#[observe(capture_args = false)]
fn quiet(_a: u32) {}

#[test]
fn every_shape_runs() {
    let obs = aiobs::Collector::new();
    let _scope = obs.set_default();
    obs.observe(aiobs::ObserveOptions::new()).unwrap();
    assert_eq!(add(1, 2), 3);
    assert_eq!(identity("a"), "a");
    assert_eq!(elided(" b "), "b");
    assert_eq!(parse("3").unwrap(), 3);
    assert_eq!(range(3).count(), 3);
    assert_eq!(destructured((1, 2), Pair { x: 1, y: 2 }, 1, 0, 0), 6);
    assert_eq!(generic(&1, "x"), (1, "x".to_owned()));
    assert_eq!(recurse(3), 3);
    assert_eq!(c_abi(1), 1);
    assert_eq!(unsafe { read(&1) }, 1);
    assert_eq!(documented(1, 2), 3);
    quiet(1);
    let mut s = S::new();
    *s.slot() += 1;
    assert_eq!(*s.get(), 2);
    futures::executor::block_on(async {
        assert_eq!(parse_async("1", String::new()).await, Ok(2));
        assert_eq!(later(1).await, 2);
        assert_eq!(s.name("x").await, "positive");
        assert_eq!(s.bump("1").await, Ok(3));
        s.bump_later().await;
        assert_eq!(s.run(1).await, 5);
        assert_eq!(s.native().await, 4);
    });
    assert_eq!(Box::new(S::new()).boxed(), 1);
    assert_eq!(s.by_value(), 4);
}

#[observe]
#[allow(dead_code)]
fn diverges(reason: &str) {
    panic!("not yet: {reason}")
}

#[observe]
#[allow(dead_code)]
async fn diverges_async() {
    todo!()
}

/// Patterns bound inside the future, and an output typed from the signature.
#[observe]
#[allow(dead_code)]
async fn patterns_async((a, b): (u8, u8), ref s: String, _: u8) -> usize {
    usize::from(a + b) + s.len()
}

#[observe]
#[allow(dead_code)]
fn settled() -> impl Future<Output = Result<u8, std::convert::Infallible>> {
    async { Ok(1) }
}
