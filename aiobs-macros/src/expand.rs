//! Generation: the function, unchanged to its callers, with its body handed to the runtime.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens as _, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Attribute, Block, FnArg, Ident, Item, ItemFn, Pat, ReturnType, Signature, Stmt,
    Token, Type,
};

use crate::args::{self, Options};
use crate::errors::Errors;
use crate::shape::{self, Bound, Shape};

/// The whole attribute: options and function checked, then the function instrumented, or
/// returned as it is when `disabled`.
pub(crate) fn observe(args: TokenStream, item: TokenStream, disabled: bool) -> TokenStream {
    let mut errors = Errors::default();
    let options = args::parse(args, &mut errors);
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            errors.push(not_a_function(item.clone(), error));
            let errors = errors.into_compile_errors();
            return quote!(#errors #item);
        }
    };
    let shape = shape::of(&func, &mut errors);
    let bound = shape::bound_names(&func, &shape);
    args::validate(&options, &func.sig, &bound, &mut errors);
    if let Some(errors) = errors.into_compile_errors() {
        return quote!(#errors #item);
    }
    if disabled {
        return item;
    }
    generate(func, &options, &shape, &bound)
}

/// The names recorded: every bound name but the skipped ones.
fn captured<'a>(bound: &'a [Bound], options: &Options) -> Vec<&'a Bound> {
    bound
        .iter()
        .filter(|b| !options.skip.iter().any(|s| s.unraw() == b.name.unraw()))
        .collect()
}

/// The error for an item `#[observe]` cannot apply to, at its first token after attributes.
fn not_a_function(item: TokenStream, parse_error: syn::Error) -> syn::Error {
    let first = {
        let mut tokens = item.clone().into_iter().peekable();
        loop {
            match tokens.next() {
                Some(TokenTree::Punct(p)) if p.as_char() == '#' => {
                    tokens.next(); // the attribute's `[..]`
                }
                Some(token) => break Some(token.span()),
                None => break None,
            }
        }
    };
    match syn::parse2::<Item>(item) {
        Ok(Item::Verbatim(tokens)) if tokens.to_string().contains("fn ") => syn::Error::new(
            first.unwrap_or_else(Span::call_site),
            "`#[observe]` needs a function with a body: put it on the implementation, not the declaration",
        ),
        Ok(Item::Fn(_)) | Err(_) => parse_error,
        Ok(_) => syn::Error::new(
            first.unwrap_or_else(Span::call_site),
            "`#[observe]` applies to functions only (free functions, methods, associated functions)",
        ),
    }
}

/// The instrumented function: the signature as it was (an `async fn` as the equivalent
/// `fn .. -> impl Future`), and a body that opens the call, then runs the user's block inside it.
fn generate(func: ItemFn, options: &Options, shape: &Shape, bound: &[Bound]) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    let brace = block.brace_token;
    let (inner, outer): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let call = Ident::new("__aiobs_call", Span::mixed_site());
    let recorded = if options.capture_args {
        captured(bound, options)
    } else {
        Vec::new()
    };
    let meta = meta_static(&sig, options, &recorded);
    let self_ty = if shape::has_self(&sig) {
        quote!(::core::option::Option::Some(::core::any::type_name::<Self>))
    } else {
        quote!(::core::option::Option::None)
    };
    let captures = capture_closure(&recorded, options);
    let errors_only = (!options.capture_result).then(|| quote!(errors_only));
    let outcome = quote!(
        |__aiobs_o, __aiobs_r| ::aiobs::__observe_outcome!(#errors_only __aiobs_o, __aiobs_r)
    );
    let track_caller = track_caller(&outer, &sig);
    // An `async fn` only builds its future: rustc inlines that into the caller, and an observed
    // one must stay as inlinable (its unrecorded path is a load, a branch and the future).
    let inline = (matches!(shape, Shape::AsyncFn)
        && !outer.iter().any(|a| a.path().is_ident("inline")))
    .then(|| quote!(#[inline]));
    let (enter, body) = enter_and_body(shape, &mut sig, block, &call, &outcome);
    let meta_ident = Ident::new("__AIOBS_META", Span::mixed_site());
    let enter_call = match captures {
        None => quote!(::aiobs::__private::#enter(&#meta_ident, #self_ty)),
        Some(captures) => {
            let enter_with = Ident::new(&format!("{enter}_with"), Span::call_site());
            quote!(::aiobs::__private::#enter_with(&#meta_ident, #self_ty, #captures))
        }
    };
    let mut function = quote! {
        #track_caller
        #inline
        #(#outer)*
        #vis #sig
    };
    // The body's braces are the user's own: an item whose span ends in the macro's tokens
    // looks generated to rustc, which then stays quiet about it (`dead_code`), as
    // tracing-attributes found.
    brace.surround(&mut function, |tokens| {
        tokens.extend(quote! {
            #(#inner)*
            #meta
            // The captures name the parameters as written, `_x` included.
            #[allow(clippy::used_underscore_binding)]
            let #call = #enter_call;
            #body
        });
    });
    function
}

/// The closure that captures the recorded arguments, `None` when there are none. It is handed
/// to `enter_with`, which runs it only when the call is recorded: the unrecorded path stays a
/// load and a branch.
fn capture_closure(recorded: &[&Bound], options: &Options) -> Option<TokenStream> {
    if recorded.is_empty() {
        return None;
    }
    let c = Ident::new("__aiobs_c", Span::mixed_site());
    let one = |name: &Ident, by_ref: bool| {
        if options.secret.iter().any(|s| s.unraw() == name.unraw()) {
            quote!(#c.redacted();)
        } else {
            let name = at_call_site(name);
            let by_ref = by_ref.then(|| quote!(&));
            quote!(::aiobs::__observe_arg!(#c, #by_ref #name);)
        }
    };
    // One statement per name bound in the function's frame; one block per parameter bound
    // inside the future, whose names are bound there by reference from the whole value
    // (already references: captured as they are). A parameter under `#[cfg]` is captured
    // under the same `#[cfg]`.
    let same_param = |a: &&Bound, b: &&Bound| match (&a.from, &b.from) {
        (Some(a), Some(b)) => a.whole == b.whole,
        _ => false,
    };
    let each = recorded.chunk_by(same_param).map(|names| {
        let cfg = &names[0].cfg;
        let Some(repacked) = &names[0].from else {
            let capture = one(&names[0].name, true);
            return quote!(#(#cfg)* #capture);
        };
        let captures = names.iter().map(|b| one(&b.name, false));
        let pat = shape::stripped(&repacked.pat);
        let whole = &repacked.whole;
        quote! {
            #(#cfg)* {
                #[allow(unused_variables, clippy::used_underscore_binding)]
                let #pat = &#whole;
                #(#captures)*
            }
        }
    });
    Some(quote!(|#c| { #( #each )* }))
}

/// The runtime's entry for the shape (`enter` or `enter_async`), and the body that runs the
/// user's block as the call: in a closure, or in the future the function returns.
fn enter_and_body(
    shape: &Shape,
    sig: &mut Signature,
    block: Box<Block>,
    call: &Ident,
    outcome: &TokenStream,
) -> (TokenStream, TokenStream) {
    match shape {
        Shape::Sync => (quote!(enter), sync_body(&sig.output, &block, call, outcome)),
        Shape::AsyncFn => {
            let fake_return = fake_return(&sig.output);
            let keep_alive = into_async_fn(sig);
            let body = quote! {
                ::aiobs::__private::observed(#call, async move { #keep_alive #fake_return #block }, #outcome)
            };
            (quote!(enter_async), body)
        }
        Shape::ImplFuture => {
            // `finish` without a call only runs the closure; as an `FnOnce`, which lets the body
            // return borrows of what it captured (`&mut self.field`).
            let mut future = quote! {
                ::aiobs::__private::finish(::core::option::Option::None, move || #block, |_, _| ())
            };
            // The output the signature declares, given to the future before the outcome's
            // capture is chosen: `async { Ok(()) }` says nothing of its error type.
            if let Some(output) = shape::future_output(&sig.output) {
                let mut output = output.clone();
                EraseImplTrait.visit_type_mut(&mut output);
                future = quote!(::aiobs::__private::with_output::<#output, _>(#future));
            }
            (
                quote!(enter_async),
                quote!(::aiobs::__private::observed(#call, #future, #outcome)),
            )
        }
        Shape::BoxedAsync => {
            let mut stmts = block.stmts;
            let Some(Stmt::Expr(syn::Expr::Call(mut boxed), None)) = stmts.pop() else {
                unreachable!("shape::of checked the last statement")
            };
            let future = boxed.args.pop().map(syn::punctuated::Pair::into_value);
            boxed
                .args
                .push(syn::parse_quote!(::aiobs::__private::observed(#call, #future, #outcome)));
            (quote!(enter_async), quote!( #(#stmts)* #boxed ))
        }
    }
}

/// A plain function's body: the block in a closure that `__observe_finish!` runs as the call.
fn sync_body(
    output: &ReturnType,
    block: &Block,
    call: &Ident,
    outcome: &TokenStream,
) -> TokenStream {
    let fake_return = fake_return(output);
    // `!` can't be named in a `let`, but a closure may return it; and a function
    // without a return type returns `()` even when its body diverges (`panic!()`),
    // where the closure's type would fall back to `!` in edition 2024.
    let returns = match output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => Some(quote!(-> !)),
        ReturnType::Default => Some(quote!(-> ())),
        ReturnType::Type(..) => None,
    };
    // A function that returns `()` ends with a statement, as clippy's pedantic
    // `semicolon_if_nothing_returned` asks of the user's own braces.
    let unit = match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()),
    };
    let end = unit.then(|| quote!(;));
    quote! {
        ::aiobs::__observe_finish!(#call, move || #returns { #fake_return #block }, #outcome) #end
    }
}

/// A parameter as the captures name it: with its own span, so that it resolves where it was
/// declared, also when the function comes out of a `macro_rules!` (the call site's hygiene
/// would not see it there).
fn at_call_site(ident: &Ident) -> Ident {
    ident.clone()
}

fn meta_static(sig: &Signature, options: &Options, captured: &[&Bound]) -> TokenStream {
    let ident = sig.ident.unraw().to_string();
    let name = options.name.clone().unwrap_or_else(|| ident.clone());
    let arg_names = arg_names(captured);
    let safe_args: Vec<String> = options.safe.iter().map(|n| n.unraw().to_string()).collect();
    let Options {
        capture_args,
        capture_result,
        enh_prompt,
        ..
    } = *options;
    let auto_enhance_after = match options.auto_enhance_after {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let meta_ident = Ident::new("__AIOBS_META", Span::mixed_site());
    quote! {
        static #meta_ident: ::aiobs::__private::FnMeta = ::aiobs::__private::FnMeta {
            name: #name,
            ident: #ident,
            module: ::core::module_path!(),
            arg_names: #arg_names,
            safe_args: &[#(#safe_args),*],
            capture_args: #capture_args,
            capture_result: #capture_result,
            enh_prompt: #enh_prompt,
            auto_enhance_after: #auto_enhance_after,
            defined_at: ::core::option::Option::None,
        };
    }
}

/// The captured names as a `&'static [&'static str]`. Where a parameter is under `#[cfg]`, the
/// list is chosen at compile time with `cfg!`, so that it names exactly what is captured.
fn arg_names(captured: &[&Bound]) -> TokenStream {
    let names: Vec<String> = captured
        .iter()
        .map(|b| b.name.unraw().to_string())
        .collect();
    if captured.iter().all(|b| b.cfg.is_empty()) {
        return quote!(&[#(#names),*]);
    }
    let kept = captured.iter().map(|b| {
        let predicates = b.cfg.iter().filter_map(|a| match &a.meta {
            syn::Meta::List(list) => Some(&list.tokens),
            _ => None,
        });
        quote!(true #(&& ::core::cfg!(#predicates))*)
    });
    let count = names.len();
    quote!({
        const KEEP: [bool; #count] = [#(#kept),*];
        const KEPT: usize = ::aiobs::__private::count_kept(&KEEP);
        const NAMES: [&str; KEPT] = ::aiobs::__private::select_kept([#(#names),*], KEEP);
        &NAMES
    })
}

/// `#[track_caller]`, so that the callsite recorded is the caller's; not where it is refused
/// (`fn main`, a non-Rust ABI), already there, or would change an exported symbol's signature
/// (`#[no_mangle]`, `#[export_name]`: it adds a hidden argument that code declaring the symbol
/// by hand doesn't pass).
fn track_caller(attrs: &[Attribute], sig: &Signature) -> Option<TokenStream> {
    let rust_abi = sig
        .abi
        .as_ref()
        .is_none_or(|abi| abi.name.as_ref().is_some_and(|n| n.value() == "Rust"));
    let is_main = sig.ident == "main" && sig.inputs.is_empty() && sig.generics.params.is_empty();
    let present = attrs.iter().any(|a| a.path().is_ident("track_caller"));
    let exported = attrs.iter().any(|a| {
        let exports = |path: &syn::Path| path.is_ident("no_mangle") || path.is_ident("export_name");
        exports(a.path())
            || (a.path().is_ident("unsafe")
                && a.parse_args::<syn::Meta>().is_ok_and(|m| exports(m.path())))
    });
    (rust_abi && !is_main && !present && !exported).then(|| quote!(#[track_caller]))
}

/// Turns `async fn f(..) -> R` into `fn f(..) -> impl Future<Output = R>`. Returns the
/// statements that move every parameter into the future, as an `async fn` does (a parameter
/// the body doesn't use is still dropped only when the future is).
fn into_async_fn(sig: &mut Signature) -> TokenStream {
    sig.asyncness = None;
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    // Spanned in this crate (edition 2024), the opaque type captures every lifetime and type
    // parameter in scope, as the `async fn`'s future does, whatever the user's edition.
    let impl_token = Token![impl](Span::mixed_site());
    sig.output = syn::parse_quote!(-> #impl_token ::core::future::Future<Output = #output>);
    // One statement per name, under its parameter's `#[cfg]` if it has one.
    let mut kept: Vec<TokenStream> = Vec::new();
    if let Some(receiver) = sig.receiver() {
        let this = Ident::new(
            "self",
            receiver.self_token.span.resolved_at(Span::call_site()),
        );
        kept.push(quote!(let _ = &#this;));
    }
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let cfg = shape::param_cfgs(&typed.attrs);
        let mut names = Vec::new();
        if let Pat::Wild(_) = &*typed.pat {
            let ident = shape::whole_ident(i);
            *typed.pat = syn::parse_quote!(#ident);
            names.push(ident);
        } else if shape::repacked_in_async_fn(&typed.pat) {
            // Taken whole, and bound inside the future, as the `async fn` does.
            let whole = shape::whole_ident(i);
            let pat = std::mem::replace(&mut *typed.pat, syn::parse_quote!(#whole));
            kept.push(quote!(#(#cfg)* let #pat = #whole;));
        } else {
            shape::collect(&typed.pat, &mut names);
        }
        kept.extend(names.iter().map(|n| {
            let n = at_call_site(n);
            quote!(#(#cfg)* #[allow(clippy::used_underscore_binding)] let _ = &#n;)
        }));
    }
    quote!(#(#kept)*)
}

/// A `return` of the declared type that never runs, first in an async block: `?` and `return`
/// in the body then infer their types from the signature, as in the `async fn` (tracing's trick).
fn fake_return(output: &ReturnType) -> Option<TokenStream> {
    let ReturnType::Type(_, ty) = output else {
        // No return type: `()`, also when the body only diverges (edition 2024 would make a
        // diverging async block's output `!`).
        return Some(quote! {
            #[allow(unreachable_code, clippy::needless_return)]
            if false {
                return;
            }
        });
    };
    if let Type::Never(_) = **ty {
        return None;
    }
    let mut ty = (**ty).clone();
    EraseImplTrait.visit_type_mut(&mut ty);
    let span = ty.span();
    Some(quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __aiobs_fake_return: #ty = loop {};
            return __aiobs_fake_return;
        }
    })
}

/// `impl Trait` can't be written in a `let`; `_` infers it.
struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(t) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: Token![_](t.span()),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::observe;

    #[test]
    fn disabled_returns_the_function_unchanged() {
        let item = quote!(
            /// Doc.
            async fn f(a: u8) -> u8 {
                a
            }
        );
        let out = observe(quote!(name = "g", skip(a)), item.clone(), true);
        assert_eq!(out.to_string(), item.to_string());
    }

    #[test]
    fn disabled_still_checks_the_options() {
        let item = quote!(
            fn f(a: u8) -> u8 {
                a
            }
        );
        let out = observe(quote!(nme = "g", skip(b)), item, true).to_string();
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    }

    #[test]
    fn enabled_instruments_the_function() {
        let out = observe(
            quote!(),
            quote!(
                fn f(a: u8) -> u8 {
                    a
                }
            ),
            false,
        )
        .to_string();
        assert!(out.contains(":: aiobs :: __observe_finish !"), "{out}");
    }

    #[test]
    fn exported_functions_keep_their_signature() {
        let expand = |attr: proc_macro2::TokenStream| {
            observe(quote!(), quote!(#attr pub fn f(a: u8) -> u8 { a }), false).to_string()
        };
        assert!(expand(quote!()).contains("track_caller"));
        for attr in [
            quote!(#[no_mangle]),
            quote!(#[unsafe(no_mangle)]),
            quote!(#[export_name = "g"]),
            quote!(#[unsafe(export_name = "g")]),
        ] {
            let out = expand(attr.clone());
            assert!(!out.contains("track_caller"), "{attr}: {out}");
        }
    }
}
