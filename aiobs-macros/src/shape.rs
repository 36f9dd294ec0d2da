//! What kind of function is being observed, and which names its parameters bind.

use proc_macro2::{TokenStream, TokenTree};
use syn::{
    Attribute, Expr, ExprAsync, FnArg, Ident, ItemFn, Pat, ReturnType, Signature, Stmt, Type,
    TypeParamBound,
};

use crate::args::Errors;

/// How the function produces its result, which decides how the call is recorded.
pub(crate) enum Shape {
    /// A plain function: the call runs the body.
    Sync,
    /// `async fn`: recorded while its future runs.
    AsyncFn,
    /// A function whose last expression is `Box::pin(async move { .. })`, as `#[async_trait]`
    /// writes methods: that async block is what gets observed.
    BoxedAsync,
    /// A function declared to return `impl Future`: the future it returns is observed.
    ImplFuture,
}

pub(crate) fn of(func: &ItemFn, errors: &mut Errors) -> Shape {
    let sig = &func.sig;
    if let Some(constness) = &sig.constness {
        errors.at(
            constness.span,
            "`#[observe]` cannot instrument a `const fn`: recording a call reads clocks and thread-locals, which const evaluation cannot",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(
            variadic.dots.spans[0],
            "`#[observe]` cannot instrument a variadic function",
        );
    }
    if sig.asyncness.is_some() {
        Shape::AsyncFn
    } else if boxed_async(func).is_some() {
        Shape::BoxedAsync
    } else if returns_impl_future(sig) {
        Shape::ImplFuture
    } else {
        Shape::Sync
    }
}

/// The `async` block of a last expression `Box::pin(async move { .. })`.
pub(crate) fn boxed_async(func: &ItemFn) -> Option<&ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = func.block.stmts.last() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        Expr::Async(block) => Some(block),
        _ => None,
    }
}

fn returns_impl_future(sig: &Signature) -> bool {
    let ReturnType::Type(_, ty) = &sig.output else {
        return false;
    };
    let Type::ImplTrait(bounds) = &**ty else {
        return false;
    };
    bounds.bounds.iter().any(|bound| match bound {
        TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Future"),
        _ => false,
    })
}

/// Whether the function is inside an `impl` or trait, as far as its signature shows.
pub(crate) fn has_self(sig: &Signature) -> bool {
    fn mentions_self(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => mentions_self(g.stream()),
            _ => false,
        })
    }
    sig.receiver().is_some() || mentions_self(quote::ToTokens::to_token_stream(sig))
}

/// A name a parameter binds, with the `#[cfg(..)]`s of its parameter: a name the compiler
/// removes with its parameter must not be captured.
pub(crate) struct Bound {
    pub(crate) name: Ident,
    pub(crate) cfg: Vec<Attribute>,
}

/// The names the parameters bind, in order (the receiver excluded): `(a, b): (u8, u8)` binds
/// `a` and `b`.
pub(crate) fn bound_names(sig: &Signature) -> Vec<Bound> {
    let mut bound = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            let mut names = Vec::new();
            collect(&typed.pat, &mut names);
            let cfg = param_cfgs(&typed.attrs);
            bound.extend(names.into_iter().map(|name| Bound {
                name,
                cfg: cfg.clone(),
            }));
        }
    }
    bound
}

/// The `#[cfg(..)]` attributes among a parameter's attributes.
pub(crate) fn param_cfgs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .cloned()
        .collect()
}

pub(crate) fn collect(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            names.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect(sub, names);
            }
        }
        Pat::Tuple(p) => p.elems.iter().for_each(|p| collect(p, names)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|p| collect(p, names)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| collect(&f.pat, names)),
        Pat::Slice(p) => p.elems.iter().for_each(|p| collect(p, names)),
        Pat::Reference(p) => collect(&p.pat, names),
        Pat::Paren(p) => collect(&p.pat, names),
        Pat::Type(p) => collect(&p.pat, names),
        _ => {}
    }
}
