// Methods of an `#[async_trait]` impl: async-trait expands first; the async block it boxes is
// what gets observed, so the call is timed while it runs and its children nest under it.
#![deny(warnings)]

#[path = "../record.rs"]
mod record;

use async_trait::async_trait;
use record::{args, call, record, result};

#[async_trait]
trait Tool: Send + Sync {
    async fn run(&self, input: &str) -> Result<String, std::fmt::Error>;
    async fn name(&self) -> String {
        String::from("tool")
    }
}

struct Echo {
    prefix: String,
}

#[async_trait]
impl Tool for Echo {
    #[aiobs::observe(name = "echo.run")]
    async fn run(&self, input: &str) -> Result<String, std::fmt::Error> {
        if input.is_empty() {
            return Err(std::fmt::Error);
        }
        let inner = self.name().await;
        Ok(format!("{}{input} ({inner})", self.prefix))
    }

    #[aiobs::observe]
    async fn name(&self) -> String {
        String::from("echo")
    }
}

#[async_trait]
trait Counter {
    async fn add(&mut self, by: u32) -> u32;
    async fn make(start: u32) -> Self
    where
        Self: Sized;
}

struct Count(u32);

#[async_trait]
impl Counter for Count {
    #[aiobs::observe(skip(by))]
    async fn add(&mut self, by: u32) -> u32 {
        self.0 += by;
        self.0
    }

    #[aiobs::observe]
    async fn make(start: u32) -> Self {
        Count(start)
    }
}

fn main() {
    let export = record(|| {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let tool: Box<dyn Tool> = Box::new(Echo { prefix: "> ".into() });
            assert_eq!(tool.run("hi").await.unwrap(), "> hi (echo)");
            assert!(tool.run("").await.is_err());
            let mut count = Count::make(1).await;
            assert_eq!(count.add(2).await, 3);
        });
    });
    let runs: Vec<_> = export.function_events.iter().filter(|e| e.event.name == "echo.run").collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(args(runs[0]), (vec!["input".into()], r#"["hi"]"#.into()));
    assert_eq!(result(runs[0]), r#""> hi (echo)""#);
    assert_eq!(runs[1].event.error.as_deref(), Some("fmt::Error: an error occurred when formatting an argument"));
    assert!(runs[0].event.api.ends_with("::Echo::run"), "{}", runs[0].event.api);
    assert_eq!(call(&export, "name").event.parent_span_id, runs[0].event.span_id);
    assert_eq!(args(call(&export, "add")), (vec![], "[]".into()));
    assert_eq!(result(call(&export, "add")), "3");
    assert_eq!(args(call(&export, "make")), (vec!["start".into()], "[1]".into()));
}
