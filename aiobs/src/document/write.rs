//! The streaming JSON writer of the export: each event is rendered from its record straight
//! into the output (once in its flat list, once in `trace_tree`); no document is built in
//! memory. Field order and presence follow the Python SDK's pydantic models.

use std::collections::HashMap;
use std::io::{self, Write};

use super::render::{Frame, render_value_with, write_f64, write_str};
use super::{ExportDocument, Item};
use crate::capture::tag;
use crate::capture::walk::value_end;
use crate::clock;
use crate::id;
use crate::scrub::{REDACTED, Scrubbing};
use crate::store::{FnMeta, Header, Kind, flag};

/// What is the same for every call of one function (and `Self` type), rendered once a flush.
struct FnText {
    /// `{"provider":"function","api":…,"name":…,"module":…,`
    head: Vec<u8>,
    /// `"arg_names":[…]`
    arg_names: Vec<u8>,
    /// `"auto_enhance_after":…`
    auto_enhance: Vec<u8>,
    /// For each argument, whether its name names a secret (its value is written as the
    /// marker).
    secret_args: Vec<bool>,
}

/// Per-flush caches of rendered text. Few distinct functions and callsites appear in one
/// flush, and consecutive events often share them: a short list with the last hit first.
#[derive(Default)]
pub(crate) struct Cache {
    rules: Scrubbing,
    functions: Vec<((usize, usize), FnText)>,
    callsites: HashMap<usize, Vec<u8>>,
    last_callsite: Option<(usize, usize)>,
    /// `"session_id":"…"` of each session of the document.
    session_ids: Vec<Vec<u8>>,
    /// The renderer's stack, kept between values.
    frames: Vec<Frame>,
}

/// The index of `key` in `list`, moving a hit towards the front.
fn find<K: PartialEq, V>(list: &mut [(K, V)], key: &K) -> Option<usize> {
    let i = list.iter().position(|(k, _)| k == key)?;
    if i > 0 {
        list.swap(i, i - 1);
        return Some(i - 1);
    }
    Some(i)
}

/// `my_crate::Agent<T>` → `my_crate::Agent`.
fn strip_generics(type_name: &str) -> &str {
    type_name.split('<').next().unwrap_or(type_name)
}

fn fn_text(
    meta: &FnMeta,
    self_ty: Option<fn() -> &'static str>,
    rules: &Scrubbing,
) -> io::Result<FnText> {
    let api = match self_ty {
        Some(f) => format!("{}::{}", strip_generics(f()), meta.ident),
        None => format!("{}::{}", meta.module, meta.ident),
    };
    let mut head = Vec::new();
    head.extend_from_slice(br#"{"provider":"function","api":"#);
    write_str(&mut head, &api)?;
    head.extend_from_slice(br#","name":"#);
    write_str(&mut head, meta.name)?;
    head.extend_from_slice(br#","module":"#);
    write_str(&mut head, meta.module)?;
    head.push(b',');
    let mut arg_names = Vec::new();
    arg_names.extend_from_slice(br#""arg_names":["#);
    for (i, name) in meta.arg_names.iter().enumerate() {
        if i > 0 {
            arg_names.push(b',');
        }
        write_str(&mut arg_names, name)?;
    }
    arg_names.push(b']');
    let mut auto_enhance = Vec::new();
    auto_enhance.extend_from_slice(br#""auto_enhance_after":"#);
    match meta.auto_enhance_after {
        Some(n) => auto_enhance.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        None => auto_enhance.extend_from_slice(b"null"),
    }
    let secret_args = meta
        .arg_names
        .iter()
        .map(|name| !meta.safe_args.contains(name) && rules.is_secret_name(name))
        .collect();
    Ok(FnText {
        head,
        arg_names,
        auto_enhance,
        secret_args,
    })
}

fn write_uuid_field<W: Write + ?Sized>(w: &mut W, key: &[u8], id: u64) -> io::Result<()> {
    w.write_all(key)?;
    if id == 0 {
        w.write_all(b"null")
    } else {
        let mut buf = [0u8; 36];
        w.write_all(b"\"")?;
        w.write_all(id::write_uuid(id, &mut buf).as_bytes())?;
        w.write_all(b"\"")
    }
}

impl Cache {
    /// The callsite: the caller's `location` if the record has one, else where its event is
    /// defined (a `tracing` span's file and line), else null.
    fn callsite<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        location: Option<&'static std::panic::Location<'static>>,
        meta: Option<&'static FnMeta>,
    ) -> io::Result<()> {
        let (key, file, line) = match (location, meta.and_then(|m| m.defined_at)) {
            (Some(loc), _) => (loc as *const _ as usize, loc.file(), loc.line()),
            (None, Some((file, line))) => {
                (meta.map_or(0, |m| m as *const FnMeta as usize), file, line)
            }
            (None, None) => return w.write_all(b"null"),
        };
        if let Some((k, _)) = self.last_callsite.filter(|(k, _)| *k == key) {
            return w.write_all(&self.callsites[&k]);
        }
        if let Some(text) = self.callsites.get(&key) {
            self.last_callsite = Some((key, 0));
            return w.write_all(text);
        }
        let mut text = Vec::new();
        text.extend_from_slice(br#"{"file":"#);
        write_str(&mut text, file)?;
        text.extend_from_slice(br#","line":"#);
        text.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
        text.extend_from_slice(br#","function":null}"#);
        w.write_all(&text)?;
        self.callsites.insert(key, text);
        self.last_callsite = Some((key, 0));
        Ok(())
    }

    /// Writes event `item` without its closing brace (a tree node adds fields after).
    pub(crate) fn write_event_open<W: Write + ?Sized>(
        &mut self,
        doc: &ExportDocument,
        item: &Item,
        w: &mut W,
    ) -> io::Result<()> {
        let h = item.record.header();
        let payload = item.record.payload_of(&h);
        let mut pos = 0;
        if self.session_ids.len() != doc.sessions.len() {
            self.session_ids = doc
                .sessions
                .iter()
                .map(|s| {
                    let mut t = br#","session_id":"#.to_vec();
                    write_str(&mut t, &s.id)?;
                    Ok(t)
                })
                .collect::<io::Result<_>>()?;
        }
        match h.kind {
            Kind::Function => {
                let Some(meta) = h.meta else {
                    return Err(io::Error::other("aiobs: function record without metadata"));
                };
                let key = (
                    meta as *const FnMeta as usize,
                    h.self_ty.map_or(0, |f| f as usize),
                );
                let at = match find(&mut self.functions, &key) {
                    Some(at) => at,
                    None => {
                        let text = fn_text(meta, h.self_ty, &self.rules)?;
                        self.functions.push((key, text));
                        self.functions.len() - 1
                    }
                };
                w.write_all(&self.functions[at].1.head)?;
                let has_args = h.flags & flag::ARGS != 0;
                w.write_all(br#""args":"#)?;
                if has_args {
                    self.write_args(at, payload, &mut pos, w)?;
                    w.write_all(br#","kwargs":{},"#)?;
                } else {
                    w.write_all(br#"null,"kwargs":null,"#)?;
                }
                w.write_all(br#""result":"#)?;
                self.value_or_null(h.flags & flag::RESULT != 0, payload, &mut pos, w)?;
                self.write_error_to_parent(item, &h, payload, &mut pos, w)?;
                w.write_all(if meta.enh_prompt {
                    br#","enh_prompt":true"#
                } else {
                    br#","enh_prompt":false"#
                })?;
                write_uuid_field(w, br#","enh_prompt_id":"#, h.enh_id)?;
                let text = &self.functions[at].1;
                w.write_all(b",")?;
                w.write_all(&text.auto_enhance)?;
                w.write_all(&self.session_ids[item.session as usize])?;
                w.write_all(b",")?;
                if has_args {
                    w.write_all(&text.arg_names)
                } else {
                    w.write_all(br#""arg_names":null"#)
                }
            }
            Kind::Exchange | Kind::Dropped => {
                // Flush turns every exchange into a provider record, and counts dropped trees,
                // before writing.
                Err(io::Error::other(
                    "aiobs: an HTTP exchange or a dropped tree reached the writer",
                ))
            }
            Kind::Provider => {
                w.write_all(br#"{"provider":"#)?;
                render_value_with(payload, &mut pos, w, &mut self.frames, &self.rules)?;
                w.write_all(br#","api":"#)?;
                render_value_with(payload, &mut pos, w, &mut self.frames, &self.rules)?;
                w.write_all(br#","request":"#)?;
                render_value_with(payload, &mut pos, w, &mut self.frames, &self.rules)?;
                w.write_all(br#","response":"#)?;
                self.value_or_null(h.flags & flag::RESPONSE != 0, payload, &mut pos, w)?;
                self.write_error_to_parent(item, &h, payload, &mut pos, w)?;
                if h.flags & flag::REPLAYED != 0 {
                    w.write_all(br#","replayed":true"#)?;
                }
                w.write_all(&self.session_ids[item.session as usize])
            }
        }
    }
}

impl Cache {
    pub(crate) fn new(rules: Scrubbing) -> Cache {
        Cache {
            rules,
            ..Cache::default()
        }
    }

    /// The argument list of function `at`: each argument whose name is a secret as the
    /// marker, the others rendered (and scrubbed).
    fn write_args<W: Write + ?Sized>(
        &mut self,
        at: usize,
        payload: &[u8],
        pos: &mut usize,
        w: &mut W,
    ) -> io::Result<()> {
        let corrupt = || io::Error::other("aiobs: corrupt argument list");
        if payload.get(*pos) != Some(&tag::SEQ) {
            return Err(corrupt());
        }
        *pos += 1;
        w.write_all(b"[")?;
        let mut i = 0;
        while *payload.get(*pos).ok_or_else(corrupt)? != tag::END {
            if i > 0 {
                w.write_all(b",")?;
            }
            if self.functions[at].1.secret_args.get(i) == Some(&true) {
                write_str(w, REDACTED)?;
                *pos = value_end(payload, *pos).ok_or_else(corrupt)?;
            } else {
                render_value_with(payload, pos, w, &mut self.frames, &self.rules)?;
            }
            i += 1;
        }
        *pos += 1;
        w.write_all(b"]")
    }

    /// The next payload value if `present`, else `null`.
    fn value_or_null<W: Write + ?Sized>(
        &mut self,
        present: bool,
        payload: &[u8],
        pos: &mut usize,
        w: &mut W,
    ) -> io::Result<()> {
        if present {
            render_value_with(payload, pos, w, &mut self.frames, &self.rules)
        } else {
            w.write_all(b"null")
        }
    }

    /// The fields both kinds of event share, from `error` to `parent_span_id`.
    fn write_error_to_parent<W: Write + ?Sized>(
        &mut self,
        item: &Item,
        h: &Header,
        payload: &[u8],
        pos: &mut usize,
        w: &mut W,
    ) -> io::Result<()> {
        w.write_all(br#","error":"#)?;
        self.value_or_null(h.flags & flag::ERROR != 0, payload, pos, w)?;
        write_times(item, h, w)?;
        w.write_all(br#","callsite":"#)?;
        self.callsite(w, h.location, h.meta)?;
        write_uuid_field(w, br#","span_id":"#, h.span)?;
        write_uuid_field(w, br#","parent_span_id":"#, h.parent)
    }
}

fn write_times<W: Write + ?Sized>(item: &Item, h: &Header, w: &mut W) -> io::Result<()> {
    {
        w.write_all(br#","started_at":"#)?;
        write_f64(w, item.started_at)?;
        w.write_all(br#","ended_at":"#)?;
        write_f64(w, clock::unix_seconds(h.end).max(item.started_at))?;
        w.write_all(br#","duration_ms":"#)?;
        write_f64(w, clock::duration_ms(h.start, h.end))
    }
}

/// `{"sessions":[…` up to the last session: what comes before the events.
pub(crate) fn write_head<W: Write + ?Sized>(doc: &ExportDocument, w: &mut W) -> io::Result<()> {
    w.write_all(br#"{"sessions":["#)?;
    for (i, s) in doc.sessions.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        // Labels were scrubbed when the document was made.
        serde_json::to_writer(&mut *w, s).map_err(io::Error::other)?;
    }
    Ok(())
}

/// `,"enh_prompt_traces":…,"generated_at":…,"version":1}`: what comes after the tree.
pub(crate) fn write_tail<W: Write + ?Sized>(
    doc: &ExportDocument,
    w: &mut W,
    with_tree: bool,
) -> io::Result<()> {
    w.write_all(br#","enh_prompt_traces":"#)?;
    let enh = if with_tree {
        doc.enh_prompt_order()
    } else {
        Vec::new()
    };
    if enh.is_empty() {
        w.write_all(b"null")?;
    } else {
        w.write_all(b"[")?;
        for (i, id) in enh.iter().enumerate() {
            write_uuid_field(w, if i == 0 { b"" } else { b"," }, *id)?;
        }
        w.write_all(b"]")?;
    }
    w.write_all(br#","generated_at":"#)?;
    write_f64(w, doc.generated_at)?;
    w.write_all(br#","version":1}"#)
}

/// Writes the document on one thread; without `with_tree`, `trace_tree` and
/// `enh_prompt_traces` are null whatever the document holds (for readers that want the flat
/// events at any depth).
pub(crate) fn write_document_with<W: Write + ?Sized>(
    doc: &ExportDocument,
    w: &mut W,
    with_tree: bool,
) -> io::Result<()> {
    let mut cache = Cache::new(doc.scrubbing.clone());
    write_head(doc, w)?;
    for (key, kind) in [
        (&br#"],"events":["#[..], Kind::Provider),
        (br#"],"function_events":["#, Kind::Function),
    ] {
        w.write_all(key)?;
        let mut first = true;
        for item in doc.items.iter().filter(|it| it.kind == kind) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            cache.write_event_open(doc, item, w)?;
            w.write_all(b"}")?;
        }
    }
    w.write_all(br#"],"trace_tree":"#)?;
    match doc.tree.as_ref().filter(|_| with_tree) {
        None => w.write_all(b"null")?,
        Some(tree) => write_tree(doc, tree, &mut cache, w)?,
    }
    write_tail(doc, w, with_tree)
}

/// What a tree node adds after its event's fields, up to its opened `children` list.
pub(crate) fn node_fields(kind: Kind) -> &'static [u8] {
    match kind {
        Kind::Function => br#","event_type":"function","children":["#,
        Kind::Provider | Kind::Exchange | Kind::Dropped => {
            br#","event_type":"provider","children":["#
        }
    }
}

/// Writes `trace_tree` with an explicit stack: any depth.
fn write_tree<W: Write + ?Sized>(
    doc: &ExportDocument,
    tree: &crate::tree::Tree,
    cache: &mut Cache,
    w: &mut W,
) -> io::Result<()> {
    // Each frame: a list of siblings and the next one to write.
    let mut stack: Vec<(&[u32], usize)> = vec![(&tree.roots, 0)];
    w.write_all(b"[")?;
    while let Some((siblings, next)) = stack.last_mut() {
        if *next == siblings.len() {
            stack.pop();
            w.write_all(if stack.is_empty() { b"]" } else { b"]}" })?;
            continue;
        }
        let i = siblings[*next];
        if *next > 0 {
            w.write_all(b",")?;
        }
        *next += 1;
        let item = &doc.items[i as usize];
        cache.write_event_open(doc, item, w)?;
        w.write_all(node_fields(item.kind))?;
        stack.push((tree.children_of(i), 0));
    }
    Ok(())
}
