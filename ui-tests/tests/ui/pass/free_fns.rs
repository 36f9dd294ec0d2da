// Free functions of every shape, compiled warning-free and recorded.
#![deny(warnings)]

#[path = "../record.rs"]
mod record;

use std::error::Error;
use std::fmt::Display;

use aiobs::observe;
use record::{args, call, record, result};

/// Doc comments and attributes stay.
#[observe]
#[inline]
#[must_use]
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[observe]
pub(crate) fn generic<T: Clone + std::fmt::Debug, U>(t: &T, u: U) -> Vec<T>
where
    U: Into<usize> + Copy,
{
    vec![t.clone(); u.into()]
}

#[observe]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[observe]
fn trim(s: &str) -> &str {
    s.trim()
}

#[observe]
fn show(value: impl Display, _unused: impl Sized) -> String {
    value.to_string()
}

struct Point {
    x: i32,
    y: i32,
}

#[observe]
fn destructured((a, b): (i32, i32), Point { x, y: why }: Point, [first, ..]: [u8; 3], _: u8) -> i32 {
    a + b + x + why + i32::from(first)
}

#[observe]
fn mutable(mut n: u32, (mut a, b): (u32, u32)) -> u32 {
    n += 1;
    a += b;
    n + a
}

#[observe]
fn parse(s: &str) -> Result<u32, Box<dyn Error>> {
    if s.is_empty() {
        return Err("empty".into());
    }
    let n: u32 = s.trim().parse()?;
    Ok(n)
}

#[observe]
fn parse_sync(s: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    Ok(s.parse()?)
}

#[observe]
fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|i| i % 2 == 0)
}

#[observe]
fn early(n: u32) -> &'static str {
    if n == 0 {
        return "zero";
    }
    "other"
}

#[observe]
unsafe fn read(p: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *p }
}

#[observe]
fn fact(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * fact(n - 1) }
}

#[observe]
extern "C" fn c_abi(n: i32) -> i32 {
    n + 1
}

#[observe]
#[allow(dead_code)]
fn diverges() -> ! {
    panic!("never returns")
}

#[observe]
fn unit(log: &mut Vec<u8>) {
    log.push(1);
}

/// A body that only diverges: the function still returns `()` (edition 2024 would otherwise
/// make the body's type `!`).
#[observe]
#[allow(dead_code)]
fn unimplemented_yet(reason: &str) {
    panic!("not yet: {reason}")
}

#[observe]
#[allow(dead_code)]
async fn unimplemented_async() {
    todo!()
}

fn main() {
    let export = record(|| {
        assert_eq!(add(1, 2), 3);
        assert_eq!(generic(&'x', 2u8), vec!['x', 'x']);
        assert_eq!(longest("ab", "c"), "ab");
        assert_eq!(trim(" t "), "t");
        assert_eq!(show(5, ()), "5");
        assert_eq!(destructured((1, 2), Point { x: 3, y: 4 }, [5, 6, 7], 0), 15);
        assert_eq!(mutable(1, (2, 3)), 7);
        assert_eq!(parse("7").unwrap(), 7);
        assert_eq!(parse_sync("8").unwrap(), 8);
        assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
        assert_eq!(early(0), "zero");
        assert_eq!(unsafe { read(&9) }, 9);
        assert_eq!(fact(3), 6);
        assert_eq!(c_abi(1), 2);
        let mut log = Vec::new();
        unit(&mut log);
    });
    assert_eq!(args(call(&export, "add")), (vec!["a".into(), "b".into()], "[1,2]".into()));
    assert_eq!(result(call(&export, "add")), "3");
    assert!(call(&export, "add").event.api.ends_with("::add"));
    assert_eq!(args(call(&export, "generic")).0, ["t", "u"]);
    assert_eq!(result(call(&export, "longest")), r#""ab""#);
    assert_eq!(result(call(&export, "trim")), r#""t""#);
    // Generic values are captured as what their bounds allow: here, their type names.
    let show = args(call(&export, "show"));
    assert_eq!(show, (vec!["value".into(), "_unused".into()], r#"["<i32>","<()>"]"#.into()));
    let d = args(call(&export, "destructured"));
    assert_eq!(d, (vec!["a".into(), "b".into(), "x".into(), "why".into(), "first".into()], "[1,2,3,4,5]".into()));
    assert_eq!(args(call(&export, "mutable")), (vec!["n".into(), "a".into(), "b".into()], "[1,2,3]".into()));
    assert_eq!(result(call(&export, "parse")), "7");
    assert_eq!(result(call(&export, "parse_sync")), "8");
    assert_eq!(result(call(&export, "early")), r#""zero""#);
    assert_eq!(result(call(&export, "read")), "9");
    assert_eq!(result(call(&export, "c_abi")), "2");
    assert_eq!(result(call(&export, "unit")), "null");
    let facts: Vec<_> = export.function_events.iter().filter(|e| e.event.name == "fact").collect();
    assert_eq!(facts.len(), 3);
    let outer = facts.iter().find(|e| e.event.args.as_deref() == Some(&[serde_json::json!(3)][..])).unwrap();
    let middle = facts.iter().find(|e| e.event.parent_span_id == outer.event.span_id).unwrap();
    assert_eq!(middle.event.args.as_deref(), Some(&[serde_json::json!(2)][..]));

    // Errors: `Box<dyn Error>` and a panic, still unwinding.
    let export = record(|| {
        assert!(parse("").is_err());
        assert!(parse("x").is_err());
        std::panic::set_hook(Box::new(|_| {}));
        assert!(std::panic::catch_unwind(|| diverges()).is_err());
    });
    let errors: Vec<_> = export.function_events.iter().map(|e| e.event.error.clone().unwrap()).collect();
    assert!(errors[0].ends_with(": empty"), "{errors:?}");
    assert!(errors[1].ends_with(": invalid digit found in string"), "{errors:?}");
    assert_eq!(errors[2], "panic: never returns");
}
