//! The options of `#[observe(..)]`, parsed with their spans; every mistake is reported.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::Parser as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Ident, Lit, Meta, Token};

use crate::errors::Errors;

const OPTIONS: [&str; 8] = [
    "name",
    "capture_args",
    "capture_result",
    "enh_prompt",
    "auto_enhance_after",
    "skip",
    "secret",
    "safe",
];
const VALID: &str = "`name`, `capture_args`, `capture_result`, `enh_prompt`, `auto_enhance_after`, `skip`, `secret`, `safe`";

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

pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => {
            errors.push(e);
            return options;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let Some(key) = meta.path().get_ident().map(Ident::unraw) else {
            let path = quote::ToTokens::to_token_stream(meta.path())
                .to_string()
                .replace(' ', "");
            errors.at(
                meta.path().span(),
                format_args!("unknown option `{path}`; expected one of {VALID}"),
            );
            continue;
        };
        let key_name = key.to_string();
        if !OPTIONS.contains(&key_name.as_str()) {
            errors.at(
                key.span(),
                format_args!("unknown option `{key_name}`; expected one of {VALID}"),
            );
            continue;
        }
        if seen.contains(&key_name) {
            errors.at(key.span(), format_args!("duplicate option `{key_name}`"));
            continue;
        }
        seen.push(key_name.clone());
        match key_name.as_str() {
            "name" => match string(&meta) {
                Some((name, span)) if name.is_empty() => {
                    errors.at(span, "`name` must not be empty");
                }
                Some((name, _)) => options.name = Some(name),
                None => errors.at(value_span(&meta), "expected a string: `name = \"...\"`"),
            },
            "capture_args" => set_bool(&meta, &key_name, &mut options.capture_args, errors),
            "capture_result" => set_bool(&meta, &key_name, &mut options.capture_result, errors),
            "enh_prompt" => set_bool(&meta, &key_name, &mut options.enh_prompt, errors),
            "auto_enhance_after" => match positive(&meta) {
                Some(n) => options.auto_enhance_after = Some(n),
                None => errors.at(
                    value_span(&meta),
                    "`auto_enhance_after` expects a positive integer: `auto_enhance_after = 3`",
                ),
            },
            list_option => {
                let slot = match list_option {
                    "skip" => &mut options.skip,
                    "secret" => &mut options.secret,
                    _ => &mut options.safe,
                };
                match &meta {
                    Meta::List(list) => {
                        match list.parse_args_with(|input: syn::parse::ParseStream<'_>| {
                            Punctuated::<Ident, Token![,]>::parse_terminated_with(
                                input,
                                Ident::parse_any,
                            )
                        }) {
                            Ok(names) => slot.extend(names),
                            Err(e) => errors.push(e),
                        }
                    }
                    _ => errors.at(
                        meta.span(),
                        format_args!("expected a list of parameters: `{list_option}(arg, ...)`"),
                    ),
                }
            }
        }
    }
    options
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
fn set_bool(meta: &Meta, key: &str, slot: &mut bool, errors: &mut Errors) {
    match (meta, literal(meta)) {
        (Meta::Path(_), _) => *slot = true,
        (_, Some(Lit::Bool(b))) => *slot = b.value,
        _ => errors.at(
            value_span(meta),
            format_args!("`{key}` expects `true` or `false`: `{key} = false`"),
        ),
    }
}
