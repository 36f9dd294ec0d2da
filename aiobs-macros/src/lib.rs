//! Placeholder while the macro is written.
use proc_macro::TokenStream;
/// `#[observe]`
#[proc_macro_attribute]
pub fn observe(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
