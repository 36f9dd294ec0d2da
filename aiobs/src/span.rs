//! The current span, and carrying it to other threads and tasks.
//!
//! Each thread has a current span (the observed call running on it) and a current collector.
//! Observed `async fn`s carry both by themselves. For work handed elsewhere (a closure run on
//! another thread, a non-observed task), take a [`SpanContext`] where the work is created and
//! enter it where the work runs, as tracing does with `in_current_span`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use crate::id;
use crate::observed::Entered;
use crate::observed::thread;
use crate::state::CollectorState;

/// The span and collector current at some point, to make current again elsewhere.
///
/// ```
/// # #[aiobs::observe] fn parent() {
/// let ctx = aiobs::SpanContext::current();
/// std::thread::spawn(move || ctx.in_scope(|| child())).join().unwrap();
/// # }
/// # #[aiobs::observe] fn child() {}
/// # parent();
/// ```
#[derive(Clone, Default)]
pub struct SpanContext {
    span: u64,
    collector: Option<Arc<CollectorState>>,
}

impl fmt::Debug for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanContext")
            .field("span_id", &self.span_id())
            .finish()
    }
}

impl SpanContext {
    /// The current span and collector of this thread.
    pub fn current() -> SpanContext {
        thread::with(|t| SpanContext {
            span: t.span.get(),
            collector: t.collector.try_borrow().ok().and_then(|c| c.clone()),
        })
        .unwrap_or_default()
    }

    /// The span id as UUID text, or `None` outside any observed call.
    pub fn span_id(&self) -> Option<String> {
        (self.span != 0 && self.span & id::DROPPED == 0).then(|| id::uuid_string(self.span))
    }

    /// Runs `f` with this context current on this thread; restores the previous one after,
    /// even if `f` panics.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut collector = self.collector.clone();
        let _entered = Entered::new(self.span, &mut collector);
        f()
    }

    /// Wraps a future so that this context is current whenever it is polled.
    pub fn wrap<F: Future>(self, future: F) -> WithContext<F> {
        WithContext {
            context: self,
            future,
        }
    }
}

/// The current span id as UUID text (Python: `observer.get_current_span_id()`).
///
/// ```
/// assert_eq!(aiobs::current_span_id(), None);
/// ```
pub fn current_span_id() -> Option<String> {
    SpanContext::current().span_id()
}

pin_project_lite::pin_project! {
    /// A future that makes a [`SpanContext`] current while it is polled; see
    /// [`FutureExt::in_current_span`].
    #[derive(Debug)]
    pub struct WithContext<F> {
        context: SpanContext,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = Entered::new(this.context.span, &mut this.context.collector);
        this.future.poll(cx)
    }
}

/// Carrying the current span into futures that run elsewhere.
///
/// ```
/// use aiobs::FutureExt as _;
/// # async fn work() {}
/// # #[aiobs::observe] async fn parent() {
/// // A spawned non-observed task whose observed calls should be children of `parent`:
/// let task = async { work().await }.in_current_span();
/// # task.await }
/// ```
pub trait FutureExt: Future + Sized {
    /// Makes the span and collector current now also current whenever this future is polled.
    fn in_current_span(self) -> WithContext<Self> {
        SpanContext::current().wrap(self)
    }

    /// Makes `context` current whenever this future is polled.
    fn with_span_context(self, context: SpanContext) -> WithContext<Self> {
        context.wrap(self)
    }
}

impl<F: Future> FutureExt for F {}
