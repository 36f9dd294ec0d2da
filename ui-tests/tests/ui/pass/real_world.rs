// Shapes from real code, beyond the macro's own: parameters that carry attributes, bodies whose
// imports would change what the signature names, crate-local `Result` aliases, anyhow and
// thiserror errors, trait default methods (sync and native async), and what crates that use
// tracing's `#[instrument]` write. Compiled warning-free, run, and recorded.
#![deny(warnings)]

#[path = "../record.rs"]
mod record;

use aiobs::observe;
use record::{args, call, record, result};

// Parameters with attributes: what `cfg` removes is not captured; what it keeps is.
#[observe]
fn cfg_off(#[cfg(any())] extra: u32, kept: u32) -> u32 {
    kept
}

#[observe]
fn cfg_on(#[cfg(all())] extra: u32, #[allow(unused_variables)] unused: u32) -> u32 {
    extra
}

#[observe]
async fn cfg_async(#[cfg(any())] extra: u32, #[cfg(all())] kept: u32, last: u32) -> u32 {
    kept + last
}

#[observe(skip(token))]
fn cfg_and_skip(#[cfg(any())] debug: bool, token: &str, #[cfg(not(any()))] n: u8) -> usize {
    token.len() + usize::from(n)
}

// The body's imports can't change what the signature's types name.
type Unit = ();

#[allow(dead_code)]
enum Shape {
    Unit,
    Other,
}

#[observe]
fn shadowed() -> Unit {
    use Shape::*;
    let _ = Other;
}

#[observe]
async fn shadowed_async() -> Unit {
    use Shape::*;
    let _ = Other;
}

#[observe]
fn fmt_result_in_body(n: u32) -> Result<u32, String> {
    use std::fmt::Result;
    let r: Result = Ok(());
    r.map(|()| n).map_err(|e| e.to_string())
}

// A crate-local `Result` alias, and an error enum made with thiserror.
mod app {
    #[derive(Debug, thiserror::Error)]
    pub enum AppError {
        #[error("no entry for {0}")]
        Missing(String),
        #[error("bad number")]
        Parse(#[from] std::num::ParseIntError),
    }

    pub type Result<T> = std::result::Result<T, AppError>;
}

use app::{AppError, Result as AppResult};

#[observe]
fn lookup(key: &str) -> AppResult<u32> {
    if key.is_empty() {
        return Err(AppError::Missing("''".into()));
    }
    Ok(key.parse::<u32>()?)
}

// anyhow with context: the error is the whole chain.
#[observe]
fn load_config(path: &str) -> anyhow::Result<u32> {
    use anyhow::Context as _;
    let n: u32 = path
        .parse()
        .with_context(|| format!("reading the port from {path:?}"))
        .context("loading the config")?;
    Ok(n)
}

// Trait default methods, sync and native async.
trait Store {
    fn prefix(&self) -> &'static str;

    #[observe]
    fn get(&self, key: &str) -> Option<String> {
        (!key.is_empty()).then(|| format!("{}{key}", self.prefix()))
    }

    #[observe]
    async fn fetch(&self, key: &str) -> Option<String> {
        self.get(key)
    }
}

struct Memory;

impl Store for Memory {
    fn prefix(&self) -> &'static str {
        "mem:"
    }
}

// What `#[instrument]` users write: many arguments, `&mut self` on an async method with a
// lifetime, a `where` clause, `impl Trait` in argument position, a function made by
// `macro_rules!`.
struct Client {
    sent: Vec<String>,
}

impl Client {
    #[observe(skip(self))]
    #[allow(clippy::too_many_arguments)]
    fn configure(&self, a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8) -> u32 {
        [a, b, c, d, e, f, g, h].iter().map(|&x| u32::from(x)).sum()
    }

    #[observe]
    async fn send<'a>(&'a mut self, body: &'a str) -> &'a str {
        self.sent.push(body.to_owned());
        body
    }

    #[observe]
    fn send_all<I>(&mut self, bodies: I) -> usize
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let before = self.sent.len();
        self.sent.extend(bodies.into_iter().map(|b| b.as_ref().to_owned()));
        self.sent.len() - before
    }
}

macro_rules! handler {
    ($name:ident, $reply:literal) => {
        #[observe]
        fn $name(request: &str) -> String {
            format!("{}: {request}", $reply)
        }
    };
}

handler!(ping, "pong");

fn main() {
    let export = record(|| {
        assert_eq!(cfg_off(2), 2);
        assert_eq!(cfg_on(3, 4), 3);
        assert_eq!(futures::executor::block_on(cfg_async(5, 6)), 11);
        assert_eq!(cfg_and_skip("abc", 1), 4);
        shadowed();
        futures::executor::block_on(shadowed_async());
        assert_eq!(fmt_result_in_body(7), Ok(7));
        assert_eq!(lookup("12").unwrap(), 12);
        assert!(matches!(lookup("x"), Err(AppError::Parse(_))));
        assert_eq!(load_config("8080").unwrap(), 8080);
        assert!(load_config("http").is_err());
        assert_eq!(Memory.get("k").as_deref(), Some("mem:k"));
        assert_eq!(futures::executor::block_on(Memory.fetch("f")).as_deref(), Some("mem:f"));
        let mut client = Client { sent: Vec::new() };
        assert_eq!(client.configure(1, 2, 3, 4, 5, 6, 7, 8), 36);
        assert_eq!(futures::executor::block_on(client.send("hi")), "hi");
        assert_eq!(client.send_all(["a", "b"]), 2);
        assert_eq!(ping("x"), "pong: x");
    });

    assert_eq!(args(call(&export, "cfg_off")), (vec!["kept".into()], "[2]".into()));
    assert_eq!(args(call(&export, "cfg_on")), (vec!["extra".into(), "unused".into()], "[3,4]".into()));
    assert_eq!(args(call(&export, "cfg_async")), (vec!["kept".into(), "last".into()], "[5,6]".into()));
    assert_eq!(result(call(&export, "cfg_async")), "11");
    assert_eq!(args(call(&export, "cfg_and_skip")), (vec!["n".into()], "[1]".into()));
    assert_eq!(result(call(&export, "shadowed")), "null");
    assert_eq!(result(call(&export, "shadowed_async")), "null");
    assert_eq!(result(call(&export, "fmt_result_in_body")), "7");

    let lookups: Vec<_> = export.function_events.iter().filter(|e| e.event.name == "lookup").collect();
    assert_eq!(lookups[0].event.result, Some(serde_json::json!(12)));
    let error = lookups[1].event.error.as_deref().unwrap();
    assert!(error.starts_with("AppError: bad number"), "{error}");
    assert!(error.ends_with("invalid digit found in string"), "{error}");

    let configs: Vec<_> = export.function_events.iter().filter(|e| e.event.name == "load_config").collect();
    assert_eq!(configs[0].event.result, Some(serde_json::json!(8080)));
    let error = configs[1].event.error.as_deref().unwrap();
    assert_eq!(
        error,
        "anyhow::Error: loading the config: reading the port from \"http\": invalid digit found in string"
    );

    let get = export.function_events.iter().filter(|e| e.event.name == "get").count();
    assert_eq!(get, 2, "once alone, once inside fetch");
    let fetch = call(&export, "fetch");
    assert_eq!(args(fetch), (vec!["key".into()], r#"["f"]"#.into()));
    assert!(fetch.event.api.ends_with("::Memory::fetch"), "{}", fetch.event.api);
    assert!(
        export.function_events.iter().any(|e| e.event.name == "get" && e.event.parent_span_id == fetch.event.span_id),
        "get nests under fetch"
    );
    assert_eq!(args(call(&export, "configure")).1, "[1,2,3,4,5,6,7,8]");
    assert_eq!(result(call(&export, "send")), r#""hi""#);
    assert_eq!(result(call(&export, "send_all")), "2");
    assert_eq!(args(call(&export, "ping")), (vec!["request".into()], r#"["x"]"#.into()));
}
