//! What kind of function is being observed, and which names its parameters bind.

use proc_macro2::{TokenStream, TokenTree};
use syn::{
    Attribute, Expr, ExprAsync, FnArg, Ident, ItemFn, Pat, ReturnType, Signature, Stmt, Type,
    TypeParamBound,
};

use crate::errors::Errors;

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
    future_bound(&sig.output).is_some()
}

/// The `Future` bound of a return type `impl Future<..> + ..`.
fn future_bound(output: &ReturnType) -> Option<&syn::TraitBound> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::ImplTrait(bounds) = &**ty else {
        return None;
    };
    bounds.bounds.iter().find_map(|bound| match bound {
        TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "Future") => {
            Some(t)
        }
        _ => None,
    })
}

/// `X` of a return type `impl Future<Output = X>`.
pub(crate) fn future_output(output: &ReturnType) -> Option<&Type> {
    let last = future_bound(output)?.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
        _ => None,
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
    /// `None`: the name is bound in the function's frame when the call starts. `Some`: its
    /// parameter is taken whole and destructured inside the future, where an `async fn` binds
    /// it (see [`Repacked`]).
    pub(crate) from: Option<Repacked>,
}

/// A parameter of an async function that the function takes whole (`whole`) and whose
/// pattern binds its names inside the future: a pattern other than a plain name in an
/// `async fn`, and what `#[async_trait]` made of one (`__arg1`). Its names are captured from
/// `&whole` with the pattern stripped of `ref`, `mut` and `&`.
#[derive(Clone)]
pub(crate) struct Repacked {
    pub(crate) whole: Ident,
    pub(crate) pat: Pat,
}

/// The names the parameters bind, in order (the receiver excluded): `(a, b): (u8, u8)` binds
/// `a` and `b`.
pub(crate) fn bound_names(func: &ItemFn, shape: &Shape) -> Vec<Bound> {
    let async_trait = match shape {
        Shape::BoxedAsync => boxed_async(func).map(async_trait_patterns),
        _ => None,
    };
    let mut bound = Vec::new();
    for (i, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let cfg = param_cfgs(&typed.attrs);
        let (pat, from) = match (shape, &*typed.pat) {
            (Shape::AsyncFn, pat) if repacked_in_async_fn(pat) => (
                pat,
                Some(Repacked {
                    whole: whole_ident(i),
                    pat: pat.clone(),
                }),
            ),
            (Shape::BoxedAsync, Pat::Ident(whole)) => {
                match async_trait
                    .as_ref()
                    .and_then(|p| p.iter().find(|(w, _)| *w == whole.ident))
                {
                    // `_`: nothing bound.
                    Some((_, None)) => continue,
                    Some((_, Some(pat))) => (
                        pat,
                        Some(Repacked {
                            whole: whole.ident.clone(),
                            pat: pat.clone(),
                        }),
                    ),
                    None => (&*typed.pat, None),
                }
            }
            (_, pat) => (pat, None),
        };
        let mut names = Vec::new();
        collect(pat, &mut names);
        bound.extend(names.into_iter().map(|name| Bound {
            name,
            cfg: cfg.clone(),
            from: from.clone(),
        }));
    }
    bound
}

/// Whether an `async fn` parameter's pattern is bound inside the future rather than in the
/// function's frame: anything but a plain name (`x`, `mut x`) and `_`. Bound in the frame,
/// `ref` bindings would borrow from it, and parts the pattern leaves out would be dropped when
/// the future is made rather than when it ends.
pub(crate) fn repacked_in_async_fn(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(p) => p.by_ref.is_some() || p.subpat.is_some(),
        Pat::Wild(_) => false,
        _ => true,
    }
}

/// The name an `async fn`'s parameter `i` is taken under when its pattern is bound inside the
/// future (`_` included).
pub(crate) fn whole_ident(i: usize) -> Ident {
    Ident::new(&format!("__aiobs_arg{i}"), proc_macro2::Span::mixed_site())
}

/// The patterns `#[async_trait]` moved into its async block: for a parameter it renamed to
/// `__argN`, the statement `let PAT = { let __argN = __argN; __argN };` (or
/// `let __argN = __argN;` for `_`, given as `None`).
fn async_trait_patterns(block: &ExprAsync) -> Vec<(Ident, Option<Pat>)> {
    let renamed = |ident: &Ident| {
        let name = ident.to_string();
        name.strip_prefix("__arg")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut found = Vec::new();
    for stmt in &block.block.stmts {
        let Stmt::Local(local) = stmt else { continue };
        let Some(init) = &local.init else { continue };
        match &*init.expr {
            // `let PAT = { let __argN = __argN; __argN };`
            Expr::Block(b) => {
                if let [Stmt::Local(inner), Stmt::Expr(Expr::Path(last), None)] =
                    b.block.stmts.as_slice()
                    && let Pat::Ident(name) = &inner.pat
                    && renamed(&name.ident)
                    && last.path.is_ident(&name.ident)
                {
                    found.push((name.ident.clone(), Some(local.pat.clone())));
                }
            }
            // `let __argN = __argN;`
            Expr::Path(path) => {
                if let Pat::Ident(name) = &local.pat
                    && renamed(&name.ident)
                    && path.path.is_ident(&name.ident)
                {
                    found.push((name.ident.clone(), None));
                }
            }
            _ => {}
        }
    }
    found
}

/// `pat` as it binds its names by reference from `&whole`: without `ref`, `mut` and `&`,
/// which default binding modes refuse there.
pub(crate) fn stripped(pat: &Pat) -> Pat {
    struct Strip;
    impl syn::visit_mut::VisitMut for Strip {
        fn visit_pat_mut(&mut self, pat: &mut Pat) {
            if let Pat::Reference(r) = pat {
                *pat = (*r.pat).clone();
                self.visit_pat_mut(pat);
                return;
            }
            if let Pat::Ident(p) = pat {
                p.by_ref = None;
                p.mutability = None;
            }
            syn::visit_mut::visit_pat_mut(self, pat);
        }
    }
    let mut pat = pat.clone();
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Strip, &mut pat);
    pat
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
