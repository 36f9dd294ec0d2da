//! # aiobs: LLM observability for Rust
//!
//! Annotate functions with [`#[observe]`](observe); start a session; every call of an observed
//! function, and every LLM API call made through an aiobs integration, is recorded with its
//! arguments, result or error, timing, and the call it happened inside. [`Collector::flush`]
//! writes it all as one JSON document in the format of the Python SDK aiobs 0.1.5, so tools
//! written for either read both.
//!
//! ```
//! use aiobs::{observe, FlushOptions, ObserveOptions};
//!
//! #[observe]
//! fn add(a: u64, b: u64) -> u64 {
//!     a + b
//! }
//!
//! #[observe(name = "pipeline")]
//! fn run() -> u64 {
//!     add(1, 2) + add(3, 4)
//! }
//!
//! let obs = aiobs::Collector::new();
//! let _scope = obs.set_default(); // or use the global `aiobs::observer()`
//! obs.observe(ObserveOptions::new().session_name("demo"))?;
//! assert_eq!(run(), 10);
//! obs.end();
//! # let dir = std::env::temp_dir().join(format!("aiobs-lib-doc-{}", std::process::id()));
//! let path = obs.flush(FlushOptions::to_path(dir.join("trace.json")))?;
//! let export: aiobs::model::ObservabilityExport =
//!     serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
//! assert_eq!(export.function_events.len(), 3);
//! assert_eq!(export.trace_tree.unwrap()[0].children().len(), 2);
//! # std::fs::remove_dir_all(dir).ok();
//! # Ok::<(), aiobs::Error>(())
//! ```
//!
//! With no session active, an observed function costs one relaxed atomic load more than the
//! bare function.

#![warn(missing_docs)]

mod autoflush;
#[cfg(feature = "tracing")]
pub mod bridge;
mod bytes;
mod capture;
mod clock;
mod collector;
mod document;
mod error;
pub mod exporters;
mod flush;
mod id;
pub mod labels;
mod merge;
pub mod model;
mod observed;
pub mod providers;
pub mod remote;
pub mod replay;
mod sampling;
pub mod scrub;
mod shutdown;
mod span;
mod state;
mod store;
mod sync;
pub mod tree;
mod wire;

pub use aiobs_macros::observe;
pub use autoflush::AutoFlush;
pub use capture::{Limits, mask, short_type_name};
pub use collector::{Collector, DefaultGuard, ObserveOptions, observer};
pub use document::ExportDocument;
pub use error::{Error, Result};
#[doc(inline)]
pub use exporters::{BoxError, ExportResult, Exporter};
pub use flush::FlushOptions;
pub use merge::merge_exports;
pub use providers::{EventFields, LlmCall, Provider, ProviderCall, llm_call};
pub use remote::Remote;
pub use sampling::Sampling;
pub use shutdown::{FlushTo, Installed, install, shutdown};
pub use span::{FutureExt, SpanContext, WithContext, current_span_id};
pub use state::AutoFlushStats;
pub use store::budget::{Backlog, Capacity};

/// For the code `#[observe]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::capture::{
        ErrViaBox, ErrViaBoxSend, ErrViaBoxSendSync, ErrViaDebug, ErrViaDisplay, ErrViaError,
        ErrViaTypeName, Plain, Sink, SplitPlain, SplitResult, ViaDebug, ViaPlain, ViaSerialize,
        ViaTypeName, Wrap,
    };
    pub use crate::observed::{
        ArgSink, AsyncCall, Observed, OpenCall, Outcome, SelfType, SyncCall, enter, enter_async,
        enter_async_with, enter_with, finish, observed, with_output,
    };
    #[cfg(debug_assertions)]
    pub use crate::observed::{Parked, finish_parked};
    pub use crate::store::FnMeta;

    /// How many of `keep` are true: the length of an `arg_names` list whose parameters are
    /// under `#[cfg]` (generated code only, in a `const`).
    pub const fn count_kept<const M: usize>(keep: &[bool; M]) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < M {
            if keep[i] {
                n += 1;
            }
            i += 1;
        }
        n
    }

    /// The `names` whose `keep` is true, in order: `N` must be [`count_kept`] of `keep`
    /// (generated code only, in a `const`).
    pub const fn select_kept<const M: usize, const N: usize>(
        names: [&'static str; M],
        keep: [bool; M],
    ) -> [&'static str; N] {
        let mut out = [""; N];
        let mut i = 0;
        let mut n = 0;
        while i < M {
            if keep[i] {
                out[n] = names[i];
                n += 1;
            }
            i += 1;
        }
        out
    }
}

/// Runs a synchronous observed body and records its call (generated code only). Optimised,
/// the call moves into [`__private::finish`], whose code the benchmarks measure; in a debug
/// build (unoptimised, as users run their tests) the call is parked in the thread's state and
/// [`__private::finish_parked`] takes it back, so that a level of recursion holds only its
/// place.
#[cfg(not(debug_assertions))]
#[doc(hidden)]
#[macro_export]
macro_rules! __observe_finish {
    ($call:ident, $body:expr, $outcome:expr) => {
        $crate::__private::finish($call, $body, $outcome)
    };
}

/// Runs a synchronous observed body and records its call (generated code only): the debug
/// build's form, see the other definition.
#[cfg(debug_assertions)]
#[doc(hidden)]
#[macro_export]
macro_rules! __observe_finish {
    ($call:ident, $body:expr, $outcome:expr) => {
        $crate::__private::finish_parked($call, $body, $outcome)
    };
}

/// Captures one argument into a call (generated code only).
#[doc(hidden)]
#[macro_export]
macro_rules! __observe_arg {
    ($call:expr, $value:expr) => {
        $call.arg(|__aiobs_out| {
            #[allow(unused_imports)]
            use $crate::__private::{
                ViaDebug as _, ViaPlain as _, ViaSerialize as _, ViaTypeName as _,
            };
            (&&&&$crate::__private::Wrap($value)).__aiobs_capture(__aiobs_out)
        })
    };
}

/// Captures a call's outcome: the value (the `Ok` value of a `Result`), or the error text
/// (generated code only). With `errors_only` (`capture_result = false`), only the error text:
/// the value's capture is not even compiled in, so the recording path stays small.
#[doc(hidden)]
#[macro_export]
macro_rules! __observe_outcome {
    // The error's text: through `Error`, a boxed error, `Display`, `Debug`, or its type name.
    (@error $outcome:expr, $error:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::{
            ErrViaBox as _, ErrViaBoxSend as _, ErrViaBoxSendSync as _, ErrViaDebug as _,
            ErrViaDisplay as _, ErrViaError as _, ErrViaTypeName as _,
        };
        $outcome.err(|| (&&&&&$crate::__private::Wrap($error)).__aiobs_error())
    }};
    (errors_only $outcome:expr, $result:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::{SplitPlain as _, SplitResult as _};
        if let ::core::result::Result::Err(__aiobs_error) =
            (&$crate::__private::Wrap($result)).__aiobs_split()
        {
            $crate::__observe_outcome!(@error $outcome, __aiobs_error)
        }
    }};
    ($outcome:expr, $result:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::{
            SplitPlain as _, SplitResult as _, ViaDebug as _, ViaPlain as _, ViaSerialize as _,
            ViaTypeName as _,
        };
        match (&$crate::__private::Wrap($result)).__aiobs_split() {
            ::core::result::Result::Ok(__aiobs_value) => $outcome.ok(|__aiobs_out| {
                (&&&&$crate::__private::Wrap(__aiobs_value)).__aiobs_capture(__aiobs_out)
            }),
            ::core::result::Result::Err(__aiobs_error) => {
                $crate::__observe_outcome!(@error $outcome, __aiobs_error)
            }
        }
    }};
}
