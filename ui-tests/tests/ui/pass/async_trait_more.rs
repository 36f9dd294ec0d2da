// `#[async_trait]` shapes beyond async_trait.rs. Sources: fastrace
// tests/macros/tests/ui/ok/async-trait-dyn-future.rs and async-trait.rs;
// tracing-attributes/tests/async_fn.rs (`call(&mut self, _v: usize) {}`, `async fn call() {}`,
// which tracing cannot instrument, #864); tracing history 55cef9c4 (`quux`) and 9ae46760
// (`self: &mut Self`); shapes common in real code (`?Send`, observed default methods, `Arc<Self>`).
#![deny(warnings)]

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use aiobs::observe;
use async_trait::async_trait;
use futures::executor::block_on;

#[derive(Debug)]
pub struct InnerError;

#[derive(Debug)]
pub struct OuterError(#[allow(dead_code)] InnerError);

pub type MyFuture = Pin<Box<dyn Future<Output = Result<u32, OuterError>> + Send>>;

// No receiver and no `Self` in the signature.
#[async_trait]
pub trait Factory {
    async fn f() -> Result<MyFuture, OuterError>;
    async fn unit();
}

pub struct MyStruct;

#[async_trait]
impl Factory for MyStruct {
    #[observe]
    async fn f() -> Result<MyFuture, OuterError> {
        let inner = async { Err(InnerError) };
        let mapped = async move { inner.await.map_err(OuterError) };
        Ok(Box::pin(mapped))
    }

    #[observe]
    async fn unit() {}
}

#[async_trait]
trait Service: Send + Sync {
    async fn callback(&self) -> Result<Box<dyn Fn() + Send + Sync>, ()>;
    async fn typed_mut(self: &mut Self) -> u32;
    async fn shared(self: Arc<Self>) -> u32;
    async fn call(&mut self, _v: usize);
    async fn stub(&self) -> usize;

    // An observed default method of an `#[async_trait]` trait.
    #[observe]
    async fn provided(&self) -> u32 {
        7
    }
}

struct Svc {
    n: u32,
}

#[async_trait]
impl Service for Svc {
    #[observe(skip(self))]
    async fn callback(&self) -> Result<Box<dyn Fn() + Send + Sync>, ()> {
        Ok(Box::new(|| ()))
    }

    #[observe]
    async fn typed_mut(self: &mut Self) -> u32 {
        self.n += 1;
        self.n
    }

    #[observe]
    async fn shared(self: Arc<Self>) -> u32 {
        self.n
    }

    #[observe]
    async fn call(&mut self, _v: usize) {}

    #[observe]
    async fn stub(&self) -> usize {
        unimplemented!()
    }
}

// Futures that are not `Send`.
#[async_trait(?Send)]
trait Local {
    async fn local(&self, n: u32) -> u32;
}

struct L;

#[async_trait(?Send)]
impl Local for L {
    #[observe]
    async fn local(&self, n: u32) -> u32 {
        let rc = Rc::new(n);
        futures::future::ready(()).await;
        *rc
    }
}

fn main() {
    block_on(async {
        let fut = MyStruct::f().await.unwrap();
        assert!(fut.await.is_err());
        MyStruct::unit().await;
        let mut svc = Svc { n: 1 };
        assert!(svc.callback().await.is_ok());
        assert_eq!(svc.typed_mut().await, 2);
        svc.call(3).await;
        assert_eq!(svc.provided().await, 7);
        drop(svc.stub()); // created, never polled
        assert_eq!(Arc::new(svc).shared().await, 2);
        assert_eq!(L.local(4).await, 4);
    });
}
