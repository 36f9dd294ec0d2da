// `async fn` (free, methods, trait impls) and functions returning `impl Future`: the call is
// opened when the future is created, `?` infers, `Send` is kept.
#![deny(warnings)]

#[path = "../record.rs"]
mod record;

use std::future::Future;
use std::num::ParseIntError;

use aiobs::{FutureExt as _, observe};
use record::{args, call, record, result};

#[observe]
async fn parse(s: &str) -> Result<u32, ParseIntError> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[observe]
async fn longest<'a>(a: &'a str, b: &str) -> &'a str {
    let _ = b;
    a
}

#[observe]
pub async fn generic<T>(items: Vec<T>, extra: impl Into<T>) -> usize
where
    T: Send,
{
    let mut items = items;
    items.push(extra.into());
    items.len()
}

#[observe]
async fn pipeline(s: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let n = parse(s).await?;
    Ok(n * 2)
}

#[observe]
async fn displayable(n: u32) -> impl std::fmt::Display {
    n
}

#[observe]
fn later(n: u32) -> impl Future<Output = u32> + Send {
    async move { n + 1 }
}

struct Store {
    items: Vec<String>,
}

impl Store {
    #[observe]
    async fn first(&self) -> Option<&str> {
        self.items.first().map(String::as_str)
    }

    #[observe]
    async fn push(&mut self, item: String) -> usize {
        self.items.push(item);
        self.items.len()
    }

    #[observe]
    async fn into_len(self) -> usize {
        self.items.len()
    }

    #[observe]
    fn push_later(&mut self, item: String) -> impl Future<Output = usize> + '_ {
        let items = &mut self.items;
        async move {
            items.push(item);
            items.len()
        }
    }
}

trait Fetch {
    async fn fetch(&self, key: &str) -> String;
    fn fetch_send(&self, key: u32) -> impl Future<Output = u32> + Send;
}

impl Fetch for Store {
    #[observe]
    async fn fetch(&self, key: &str) -> String {
        format!("{key}={}", self.items.len())
    }

    #[observe]
    async fn fetch_send(&self, key: u32) -> u32 {
        key
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let export = record(|| {
        rt.block_on(async {
            assert_eq!(parse("3").await, Ok(3));
            assert_eq!(parse("0").await, Ok(1));
            assert!(parse("x").await.is_err());
            assert_eq!(longest("a", "bc").await, "a");
            assert_eq!(generic(vec![1u8, 2], 0u8).await, 3);
            assert_eq!(pipeline("4").await.unwrap(), 8);
            assert_eq!(displayable(5).await.to_string(), "5");
            // Spawned observed futures are `Send`, and keep their arguments.
            assert_eq!(tokio::spawn(later(6)).await.unwrap(), 7);
            assert_eq!(tokio::spawn(assert_send(pipeline("1"))).await.unwrap().unwrap(), 2);
            let mut store = Store { items: vec![] };
            assert_eq!(store.first().await, None);
            assert_eq!(store.push("a".into()).await, 1);
            assert_eq!(store.push_later("b".into()).await, 2);
            assert_eq!(store.fetch("k").await, "k=2");
            // A task that is not itself observed carries the session with `in_current_span`.
            let store = tokio::spawn(
                async move {
                    assert_eq!(assert_send(store.fetch_send(9)).await, 9);
                    store
                }
                .in_current_span(),
            )
            .await
            .unwrap();
            assert_eq!(store.into_len().await, 2);
        });
    });
    let parses: Vec<_> = export.function_events.iter().filter(|e| e.event.name == "parse").collect();
    assert_eq!(parses.len(), 5, "three direct, one in each pipeline");
    let parse_of = |arg: &str| *parses.iter().find(|e| args(e).1 == format!("[{arg:?}]")).unwrap();
    let error = parse_of("x").event.error.as_deref();
    assert_eq!(error, Some("ParseIntError: invalid digit found in string"));
    for arg in ["4", "1"] {
        let pipeline = export.function_events.iter().find(|e| e.event.name == "pipeline" && args(e).1 == format!("[{arg:?}]"));
        assert_eq!(parse_of(arg).event.parent_span_id, pipeline.unwrap().event.span_id);
    }
    assert_eq!(result(call(&export, "longest")), r#""a""#);
    assert_eq!(args(call(&export, "generic")).0, ["items", "extra"]);
    // The body, inside the wrapper, still sees the concrete type.
    assert_eq!(result(call(&export, "displayable")), "5");
    assert_eq!(args(call(&export, "later")), (vec!["n".into()], "[6]".into()));
    assert_eq!(result(call(&export, "later")), "7");
    assert_eq!(result(call(&export, "first")), "null");
    assert_eq!(args(call(&export, "push_later")), (vec!["item".into()], r#"["b"]"#.into()));
    assert!(call(&export, "fetch").event.api.ends_with("::Store::fetch"));
    assert_eq!(result(call(&export, "fetch_send")), "9");
    assert_eq!(result(call(&export, "into_len")), "2");
}
