//! The errors of one `#[observe]`, collected rather than returned at the first: a user who
//! made three mistakes sees all three in one build, as serde_derive's `Ctxt` does.

use proc_macro2::{Span, TokenStream};

/// Errors collected while reading the attribute and the function, reported all at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// `compile_error!`s for every error, or `None` if there was none.
    pub(crate) fn into_compile_errors(self) -> Option<TokenStream> {
        self.0.map(|e| e.to_compile_error())
    }
}
