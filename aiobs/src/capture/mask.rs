//! The mask hook: a user function that sees every captured value, with where it is, and keeps,
//! replaces or removes it. It runs when the call is recorded, before the record is stored.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::encode::{self, put_str};
use super::limits::Limits;
use super::tag;
use super::walk::value_end;

/// One step of a [`MaskPath`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSegment<'a> {
    /// An argument, by parameter name.
    Arg(&'a str),
    /// The returned value (the `Ok` value of a `Result`).
    Result,
    /// The error text of a call that failed.
    Error,
    /// A map key or struct field.
    Key(&'a str),
    /// A sequence item.
    Index(usize),
}

/// Where a captured value is: the function, then the argument (or result) and the fields and
/// items inside it.
///
/// ```
/// use aiobs::mask::{MaskPath, PathSegment};
///
/// let path = MaskPath::new(
///     "login",
///     &[PathSegment::Arg("user"), PathSegment::Key("email")],
/// );
/// assert_eq!(path.to_string(), "login.user.email");
/// assert_eq!(path.last_key(), Some("email"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaskPath<'a> {
    function: &'a str,
    segments: &'a [PathSegment<'a>],
}

impl<'a> MaskPath<'a> {
    /// A path (to test a mask function).
    ///
    /// ```
    /// let p = aiobs::mask::MaskPath::new("f", &[aiobs::mask::PathSegment::Result]);
    /// assert_eq!(p.function(), "f");
    /// ```
    pub fn new(function: &'a str, segments: &'a [PathSegment<'a>]) -> MaskPath<'a> {
        MaskPath { function, segments }
    }

    /// The observed function's display name.
    ///
    /// ```
    /// # let p = aiobs::mask::MaskPath::new("f", &[]);
    /// assert_eq!(p.function(), "f");
    /// ```
    pub fn function(&self) -> &'a str {
        self.function
    }

    /// The steps from the function to the value.
    ///
    /// ```
    /// use aiobs::mask::{MaskPath, PathSegment};
    /// let p = MaskPath::new("f", &[PathSegment::Arg("x")]);
    /// assert_eq!(p.segments(), &[PathSegment::Arg("x")]);
    /// ```
    pub fn segments(&self) -> &'a [PathSegment<'a>] {
        self.segments
    }

    /// The argument the value is in, if it is in one.
    ///
    /// ```
    /// use aiobs::mask::{MaskPath, PathSegment};
    /// let p = MaskPath::new("f", &[PathSegment::Arg("x"), PathSegment::Index(2)]);
    /// assert_eq!(p.arg(), Some("x"));
    /// ```
    pub fn arg(&self) -> Option<&'a str> {
        match self.segments.first() {
            Some(PathSegment::Arg(name)) => Some(name),
            _ => None,
        }
    }

    /// The innermost map key or struct field on the path.
    ///
    /// ```
    /// use aiobs::mask::{MaskPath, PathSegment};
    /// let p = MaskPath::new("f", &[PathSegment::Result, PathSegment::Key("email")]);
    /// assert_eq!(p.last_key(), Some("email"));
    /// ```
    pub fn last_key(&self) -> Option<&'a str> {
        self.segments.iter().rev().find_map(|s| match s {
            PathSegment::Key(k) => Some(*k),
            _ => None,
        })
    }
}

impl fmt::Display for MaskPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.function)?;
        for s in self.segments {
            match s {
                PathSegment::Arg(name) | PathSegment::Key(name) => write!(f, ".{name}")?,
                PathSegment::Result => f.write_str(".<result>")?,
                PathSegment::Error => f.write_str(".<error>")?,
                PathSegment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A captured scalar, as the mask hook sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Captured<'a> {
    /// `null` (`None`, `()`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i128),
    /// An unsigned integer.
    UInt(u128),
    /// A float.
    Float(f64),
    /// Text: a string, a `Debug` capture or an error message (as captured, possibly cut).
    Str(&'a str),
    /// A value captured by type name only (`"<TypeName>"`).
    TypeName(&'a str),
}

/// What the mask hook does with a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Mask {
    /// Record it as it is.
    Keep,
    /// Record this instead.
    Replace(serde_json::Value),
    /// Leave it out: an entry leaves its map, an item its list; an argument, a result or an
    /// error becomes `null`.
    Remove,
}

/// The mask function a collector runs on every captured value; see
/// [`Collector::set_mask`](crate::Collector::set_mask).
pub type MaskFn = dyn Fn(&MaskPath<'_>, &Captured<'_>) -> Mask + Send + Sync;

/// Written when the mask function panics on a value.
pub(crate) const MASK_FAILED: &str = "[mask failed]";

/// Rewrites one event's payload (`args` first if present, then the other top-level values,
/// named by `tail`) through `mask` into `out`. `None` if the bytes are corrupt.
pub(crate) fn apply(
    payload: &[u8],
    function: &str,
    arg_names: Option<&[&str]>,
    tail: &[PathSegment<'_>],
    mask: &MaskFn,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Option<()> {
    let mut run = Run {
        bytes: payload,
        function,
        mask,
        limits,
        path: Vec::new(),
    };
    let mut pos = 0;
    if let Some(names) = arg_names {
        if payload.first() != Some(&tag::SEQ) {
            return None;
        }
        out.push(tag::SEQ);
        pos = 1;
        let mut i = 0;
        while *payload.get(pos)? != tag::END {
            run.path
                .push(PathSegment::Arg(names.get(i).copied().unwrap_or("?")));
            pos = run.top(pos, out)?;
            run.path.pop();
            i += 1;
        }
        out.push(tag::END);
        pos += 1;
    }
    for segment in tail {
        if pos >= payload.len() {
            break;
        }
        run.path.push(*segment);
        pos = run.top(pos, out)?;
        run.path.pop();
    }
    Some(())
}

struct Run<'a, 'm> {
    bytes: &'a [u8],
    function: &'m str,
    mask: &'m MaskFn,
    limits: &'m Limits,
    path: Vec<PathSegment<'a>>,
}

impl<'a> Run<'a, '_> {
    /// A top-level value: removed means `null`.
    fn top(&mut self, pos: usize, out: &mut Vec<u8>) -> Option<usize> {
        let (end, kept) = self.value(pos, out)?;
        if !kept {
            out.push(tag::NULL);
        }
        Some(end)
    }

    /// Rewrites the value at `pos`; returns its end and whether anything was written.
    fn value(&mut self, pos: usize, out: &mut Vec<u8>) -> Option<(usize, bool)> {
        let t = *self.bytes.get(pos)?;
        match t {
            tag::SEQ => {
                out.push(tag::SEQ);
                let mut at = pos + 1;
                let mut i = 0;
                while *self.bytes.get(at)? != tag::END {
                    self.path.push(PathSegment::Index(i));
                    at = self.value(at, out)?.0;
                    self.path.pop();
                    i += 1;
                }
                out.push(tag::END);
                Some((at + 1, true))
            }
            tag::MAP => {
                out.push(tag::MAP);
                let mut at = pos + 1;
                while *self.bytes.get(at)? != tag::END {
                    let key_end = value_end(self.bytes, at)?;
                    let key = str_of(&self.bytes[at..key_end]).unwrap_or("<key>");
                    let entry_start = out.len();
                    out.extend_from_slice(&self.bytes[at..key_end]);
                    self.path.push(PathSegment::Key(key));
                    let (end, kept) = self.value(key_end, out)?;
                    self.path.pop();
                    if !kept {
                        out.truncate(entry_start);
                    }
                    at = end;
                }
                out.push(tag::END);
                Some((at + 1, true))
            }
            _ => {
                let end = value_end(self.bytes, pos)?;
                let raw = &self.bytes[pos..end];
                let captured = leaf(raw)?;
                let path = MaskPath::new(self.function, &self.path);
                let mask = self.mask;
                match catch_unwind(AssertUnwindSafe(|| mask(&path, &captured))) {
                    Ok(Mask::Keep) => out.extend_from_slice(raw),
                    Ok(Mask::Replace(v)) => {
                        if encode::encode(out, &v, self.limits, usize::MAX).is_err() {
                            out.push(tag::NULL);
                        }
                    }
                    Ok(Mask::Remove) => return Some((end, false)),
                    Err(_) => put_str(out, MASK_FAILED, usize::MAX),
                }
                Some((end, true))
            }
        }
    }
}

/// The text of a STR-like value's bytes.
fn str_of(raw: &[u8]) -> Option<&str> {
    std::str::from_utf8(raw.get(5..)?).ok()
}

fn leaf(raw: &[u8]) -> Option<Captured<'_>> {
    let word = |n: usize| raw.get(1..1 + n);
    Some(match raw[0] {
        tag::NULL => Captured::Null,
        tag::FALSE => Captured::Bool(false),
        tag::TRUE => Captured::Bool(true),
        tag::I64 => Captured::Int(i64::from_le_bytes(word(8)?.try_into().ok()?).into()),
        tag::U64 => Captured::UInt(u64::from_le_bytes(word(8)?.try_into().ok()?).into()),
        tag::I128 => Captured::Int(i128::from_le_bytes(word(16)?.try_into().ok()?)),
        tag::U128 => Captured::UInt(u128::from_le_bytes(word(16)?.try_into().ok()?)),
        tag::F64 => Captured::Float(f64::from_le_bytes(word(8)?.try_into().ok()?)),
        tag::F32 => Captured::Float(f32::from_le_bytes(word(4)?.try_into().ok()?).into()),
        tag::STR | tag::STR_CUT | tag::DEBUG | tag::DEBUG_CUT => Captured::Str(str_of(raw)?),
        tag::TYPE_NAME => {
            let mut pos = 1;
            Captured::TypeName(super::walk::read_type_name(raw, &mut pos).ok()?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::limits::DEFAULT;
    use crate::capture::{Sink, capture_serialize};
    use crate::document::render::to_json;

    fn captured(v: &serde_json::Value) -> Vec<u8> {
        let mut out = Vec::new();
        capture_serialize(&mut Sink::new(&mut out, &DEFAULT), v);
        out
    }

    fn masked(v: serde_json::Value, mask: &MaskFn) -> String {
        let mut payload = vec![tag::SEQ];
        payload.extend(captured(&v));
        payload.push(tag::END);
        let mut out = Vec::new();
        apply(
            &payload,
            "f",
            Some(&["user"]),
            &[],
            mask,
            &DEFAULT,
            &mut out,
        )
        .unwrap();
        to_json(&out)
    }

    #[test]
    fn the_hook_sees_every_leaf_with_its_path() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let json = masked(
            serde_json::json!({"email": "a@b.c", "tags": ["x", 2]}),
            &move |p: &MaskPath<'_>, v: &Captured<'_>| {
                log.lock().unwrap().push(format!("{p}={v:?}"));
                Mask::Keep
            },
        );
        assert_eq!(json, r#"[{"email":"a@b.c","tags":["x",2]}]"#);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                r#"f.user.email=Str("a@b.c")"#,
                r#"f.user.tags[0]=Str("x")"#,
                "f.user.tags[1]=UInt(2)",
            ]
        );
    }

    #[test]
    fn replaced_and_removed_values_land() {
        let json = masked(
            serde_json::json!({"email": "a@b.c", "drop": 1, "list": [1, 2, 3]}),
            &|p: &MaskPath<'_>, v: &Captured<'_>| match (p.last_key(), v) {
                (Some("email"), _) => Mask::Replace("<email>".into()),
                (Some("drop"), _) => Mask::Remove,
                (_, Captured::UInt(2)) => Mask::Remove,
                _ => Mask::Keep,
            },
        );
        assert_eq!(json, r#"[{"email":"<email>","list":[1,3]}]"#);
        let json = masked(
            serde_json::json!("secret"),
            &|_: &MaskPath<'_>, _: &Captured<'_>| Mask::Remove,
        );
        assert_eq!(json, "[null]", "a removed argument keeps its place");
    }

    #[test]
    fn a_panicking_hook_leaves_a_placeholder() {
        let json = masked(
            serde_json::json!(["a", "b"]),
            &|_: &MaskPath<'_>, v: &Captured<'_>| {
                if *v == Captured::Str("b") {
                    panic!("mask panicked on purpose");
                }
                Mask::Keep
            },
        );
        assert_eq!(json, r#"[["a","[mask failed]"]]"#);
    }
}
