//! The `#[observe]` attribute of [aiobs](https://docs.rs/aiobs). Use it through the `aiobs`
//! crate (`#[aiobs::observe]`); this crate only generates code that calls aiobs's runtime.
//!
//! # Options
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `name = ".."` | the identifier | display name of the call |
//! | `capture_args = bool` | `true` | record the arguments (the receiver never is) |
//! | `capture_result = bool` | `true` | record the return value (errors always are) |
//! | `enh_prompt = bool` | `false` | list the call in `enh_prompt_traces` |
//! | `auto_enhance_after = N` | none | a positive integer, recorded as is |
//! | `skip(arg, ..)` | none | leave these arguments out of the record |
//! | `secret(arg, ..)` | none | record these arguments as `"[REDACTED]"`, never their values |
//! | `safe(arg, ..)` | none | scrubbing doesn't take these arguments' names for secrets |
//!
//! ```ignore
//! #[aiobs::observe(name = "retrieve", skip(client))]
//! async fn retrieve(client: &Client, query: &str) -> Result<Vec<Doc>, Error> { .. }
//! ```
//!
//! # What it accepts
//!
//! Free functions, methods (`self`, `&self`, `&mut self`, `self: Box<Self>`), associated and
//! trait-impl functions, generic functions, `unsafe fn`, `extern "ABI" fn`, `fn main`, `async fn`,
//! functions returning `impl Future` (the returned future is what gets observed), and methods
//! of an `#[async_trait]` impl, trait default methods (sync and `async`). Destructured
//! parameters are recorded one argument per bound name; a parameter under `#[cfg(..)]` is
//! captured only when the `cfg` keeps it. The body stays a block of its own, so its `use`s and
//! items can't change what the signature names; lints (`dead_code`, `must_use`, `deprecated`,
//! unused variables) report as they do without the attribute.
//! A `const fn` is refused: recording needs clocks and thread-locals.
//!
//! The signature callers see is unchanged, except that an `async fn` becomes the equivalent
//! `fn .. -> impl Future<Output = ..>` (so that the call is opened, and its arguments captured,
//! when the future is created).
//!
//! With the `disabled` feature the function is emitted unchanged; the options are still checked.

mod args;
mod errors;
mod expand;
mod shape;

use proc_macro::TokenStream;

/// Records every call of the function: arguments, result or error, timing, callsite and the
/// call it happened inside. See the [crate documentation](crate) for the options.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::observe(args.into(), item.into(), cfg!(feature = "disabled")).into()
}
