//! The options of `#[observe(..)]`, parsed with their spans; every mistake is reported.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::Parser as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Ident, Lit, Meta, Signature, Token};

use crate::errors::Errors;
use crate::shape::Bound;

/// An option of `#[observe(..)]`. Its name is written once, in [`Key::name`]; everything else
/// matches on the variant.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Key {
    Name,
    CaptureArgs,
    CaptureResult,
    EnhPrompt,
    AutoEnhanceAfter,
    Skip,
    Secret,
    Safe,
}

impl Key {
    /// Every option, in the order the "expected one of" message lists them.
    const ALL: [Key; 8] = [
        Key::Name,
        Key::CaptureArgs,
        Key::CaptureResult,
        Key::EnhPrompt,
        Key::AutoEnhanceAfter,
        Key::Skip,
        Key::Secret,
        Key::Safe,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::CaptureArgs => "capture_args",
            Key::CaptureResult => "capture_result",
            Key::EnhPrompt => "enh_prompt",
            Key::AutoEnhanceAfter => "auto_enhance_after",
            Key::Skip => "skip",
            Key::Secret => "secret",
            Key::Safe => "safe",
        }
    }

    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == name)
    }

    /// "`name`, `capture_args`, ..": what an unknown option is told to be instead.
    fn valid() -> String {
        let names: Vec<String> = Key::ALL.iter().map(|k| format!("`{k}`")).collect();
        names.join(", ")
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The options, with their defaults filled in.
pub(crate) struct Options {
    pub(crate) name: Option<String>,
    pub(crate) capture_args: bool,
    pub(crate) capture_result: bool,
    pub(crate) enh_prompt: bool,
    pub(crate) auto_enhance_after: Option<u64>,
    pub(crate) skip: Vec<Ident>,
    /// Arguments recorded as `"[REDACTED]"`, never captured.
    pub(crate) secret: Vec<Ident>,
    /// Arguments whose names scrubbing doesn't take for secrets.
    pub(crate) safe: Vec<Ident>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: None,
            capture_args: true,
            capture_result: true,
            enh_prompt: false,
            auto_enhance_after: None,
            skip: Vec::new(),
            secret: Vec::new(),
            safe: Vec::new(),
        }
    }
}

impl Options {
    /// The lists of parameters, with the option each was given under.
    fn lists(&self) -> [(Key, &[Ident]); 3] {
        [
            (Key::Skip, &self.skip),
            (Key::Secret, &self.secret),
            (Key::Safe, &self.safe),
        ]
    }
}

pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => {
            errors.push(e);
            return options;
        }
    };
    let mut seen: Vec<Key> = Vec::new();
    for meta in metas {
        let Some((key, span)) = key(&meta, errors) else {
            continue;
        };
        if seen.contains(&key) {
            errors.at(span, format_args!("duplicate option `{key}`"));
            continue;
        }
        seen.push(key);
        value(key, &meta, &mut options, errors);
    }
    options
}

/// The option a `key = ..`, `key(..)` or `key` names, with the span of its name; `None`, and
/// an error, for a name that is no option.
fn key(meta: &Meta, errors: &mut Errors) -> Option<(Key, Span)> {
    let path = meta.path();
    let (name, span) = match path.get_ident() {
        Some(ident) => (ident.unraw().to_string(), ident.span()),
        None => {
            let path_text = quote::ToTokens::to_token_stream(path).to_string();
            (path_text.replace(' ', ""), path.span())
        }
    };
    let key = Key::from_name(&name);
    if key.is_none() {
        errors.at(
            span,
            format_args!("unknown option `{name}`; expected one of {}", Key::valid()),
        );
    }
    Some((key?, span))
}

/// Reads the value of option `key` into `options`, or reports what is wrong with it.
fn value(key: Key, meta: &Meta, options: &mut Options, errors: &mut Errors) {
    match key {
        Key::Name => match string(meta) {
            Some((name, span)) if name.is_empty() => {
                errors.at(span, "`name` must not be empty");
            }
            Some((name, _)) => options.name = Some(name),
            None => errors.at(value_span(meta), "expected a string: `name = \"...\"`"),
        },
        Key::CaptureArgs => set_bool(meta, key, &mut options.capture_args, errors),
        Key::CaptureResult => set_bool(meta, key, &mut options.capture_result, errors),
        Key::EnhPrompt => set_bool(meta, key, &mut options.enh_prompt, errors),
        Key::AutoEnhanceAfter => match positive(meta) {
            Some(n) => options.auto_enhance_after = Some(n),
            None => errors.at(
                value_span(meta),
                "`auto_enhance_after` expects a positive integer: `auto_enhance_after = 3`",
            ),
        },
        Key::Skip => extend_list(meta, key, &mut options.skip, errors),
        Key::Secret => extend_list(meta, key, &mut options.secret, errors),
        Key::Safe => extend_list(meta, key, &mut options.safe, errors),
    }
}

/// `key(arg, ..)`: parameter names, raw ones (`r#type`) included.
fn extend_list(meta: &Meta, key: Key, slot: &mut Vec<Ident>, errors: &mut Errors) {
    let Meta::List(list) = meta else {
        errors.at(
            meta.span(),
            format_args!("expected a list of parameters: `{key}(arg, ...)`"),
        );
        return;
    };
    match list.parse_args_with(|input: syn::parse::ParseStream<'_>| {
        Punctuated::<Ident, Token![,]>::parse_terminated_with(input, Ident::parse_any)
    }) {
        Ok(names) => slot.extend(names),
        Err(e) => errors.push(e),
    }
}

fn literal(meta: &Meta) -> Option<&Lit> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit { lit, .. }) => Some(lit),
            _ => None,
        },
        _ => None,
    }
}

fn value_span(meta: &Meta) -> Span {
    match meta {
        Meta::NameValue(nv) => nv.value.span(),
        Meta::List(list) => list.delimiter.span().join(),
        Meta::Path(path) => path.span(),
    }
}

fn string(meta: &Meta) -> Option<(String, Span)> {
    match literal(meta)? {
        Lit::Str(s) => Some((s.value(), s.span())),
        _ => None,
    }
}

fn positive(meta: &Meta) -> Option<u64> {
    match literal(meta)? {
        Lit::Int(n) => n.base10_parse::<u64>().ok().filter(|n| *n > 0),
        _ => None,
    }
}

/// `key = true|false`, or the bare `key` for `true`.
fn set_bool(meta: &Meta, key: Key, slot: &mut bool, errors: &mut Errors) {
    match (meta, literal(meta)) {
        (Meta::Path(_), _) => *slot = true,
        (_, Some(Lit::Bool(b))) => *slot = b.value,
        _ => errors.at(
            value_span(meta),
            format_args!("`{key}` expects `true` or `false`: `{key} = false`"),
        ),
    }
}

/// Checks the parameter lists against the names the function binds (which only the function
/// knows, so this runs after [`parse`]).
pub(crate) fn validate(options: &Options, sig: &Signature, bound: &[Bound], errors: &mut Errors) {
    let lists = options.lists();
    parameters_exist(&lists, sig, bound, errors);
    one_list_each(&lists, errors);
}

/// Every listed name is a parameter: a misspelt `secret(..)` would leave a value recorded.
/// `skip(self)` is accepted (the receiver is never recorded anyway).
fn parameters_exist(
    lists: &[(Key, &[Ident])],
    sig: &Signature,
    bound: &[Bound],
    errors: &mut Errors,
) {
    for &(option, list) in lists {
        for named in list {
            let is_receiver = named == "self" && sig.receiver().is_some();
            if option == Key::Skip && is_receiver {
                continue;
            }
            if !bound.iter().any(|b| b.name.unraw() == named.unraw()) {
                let known: Vec<String> = bound.iter().map(|b| format!("`{}`", b.name)).collect();
                let known = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                };
                errors.at(
                    named.span(),
                    format_args!("`{option}({named})`: this function has no parameter `{named}` (its parameters: {known})"),
                );
            }
        }
    }
}

/// An argument is in one list only: skipped, redacted and recorded as safe exclude each other.
fn one_list_each(lists: &[(Key, &[Ident])], errors: &mut Errors) {
    for (i, (first, a)) in lists.iter().enumerate() {
        for (second, b) in &lists[i + 1..] {
            for named in b.iter() {
                if a.iter().any(|x| x.unraw() == named.unraw()) {
                    errors.at(
                        named.span(),
                        format_args!(
                            "`{named}` is in both `{first}(..)` and `{second}(..)`; pick one"
                        ),
                    );
                }
            }
        }
    }
}
