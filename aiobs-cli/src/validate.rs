//! `aiobs validate`: the rules of the format, written out once, here: the Python SDK's models
//! in strict mode (required fields and their types), the key sets
//! (no unknown key, none missing), no duplicate key, and the tree rules: span ids unique, every
//! event exactly once in `trace_tree` and equal to its flat copy, a child's `parent_span_id` its
//! parent's span, roots and children ordered by `started_at`, `enh_prompt_traces` in pre-order,
//! session references, timing, labels and the version.
//!
//! The file is read once; events stay raw JSON text (borrowed) and are decoded one at a time,
//! and `trace_tree` is checked while it is parsed, keeping only a few ids per node. Deep trees
//! are parsed on a thread with a large stack, as the Python validator does.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::load::read_error;

/// At most this many problems are listed per file (the rest are counted).
pub const MAX_PROBLEMS: usize = 20;

/// Stack for the parsing thread: trace trees nest as deep as the traced calls did.
const STACK_SIZE: usize = 512 << 20;

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Each problem as `FILE: where: what`, at most [`MAX_PROBLEMS`].
    pub problems: Vec<String>,
    /// How many more problems were found than listed.
    pub more: usize,
}

impl Report {
    /// Whether the file passed every check.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What to ask of a file beyond the format itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Reject a file whose `trace_tree` is null or absent. The format allows that (the Python
    /// SDK writes null when asked not to build the tree); a flush with the tree must not.
    pub require_tree: bool,
}

/// Checks the file at `path`.
///
/// ```no_run
/// use aiobs_cli::validate::{ValidateOptions, validate_file};
///
/// let report = validate_file("trace.json".as_ref(), ValidateOptions { require_tree: true });
/// for problem in &report.problems {
///     eprintln!("{problem}");
/// }
/// assert!(report.is_valid());
/// ```
pub fn validate_file(path: &Path, options: ValidateOptions) -> Report {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return single(&name, &read_error(&e)),
    };
    let run = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || validate_bytes(&name, &bytes, options));
    match run.map(|handle| handle.join()) {
        Ok(Ok(report)) => report,
        Ok(Err(_)) => single(
            &path.display().to_string(),
            "the checks failed unexpectedly",
        ),
        Err(e) => single(
            &path.display().to_string(),
            &format!("cannot start the checks: {e}"),
        ),
    }
}

fn single(name: &str, message: &str) -> Report {
    Report {
        problems: vec![format!("{name}: {message}")],
        more: 0,
    }
}

/// Checks an export held in memory; `name` is used in the messages.
///
/// ```
/// use aiobs_cli::validate::{ValidateOptions, validate_bytes};
///
/// let report = validate_bytes("empty.json", b"{}", ValidateOptions::default());
/// assert!(report.problems[0].starts_with("empty.json: top level: missing key(s)"));
/// ```
pub fn validate_bytes(name: &str, bytes: &[u8], options: ValidateOptions) -> Report {
    let mut c = Checker {
        name,
        options,
        problems: Vec::new(),
        more: 0,
    };
    check_document(&mut c, bytes);
    Report {
        problems: c.problems,
        more: c.more,
    }
}

struct Checker<'n> {
    name: &'n str,
    options: ValidateOptions,
    problems: Vec<String>,
    more: usize,
}

impl Checker<'_> {
    fn fail(&mut self, place: &str, message: impl fmt::Display) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems
                .push(format!("{}: {place}: {message}", self.name));
        } else {
            self.more += 1;
        }
    }

    fn fail_file(&mut self, message: impl fmt::Display) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(format!("{}: {message}", self.name));
        } else {
            self.more += 1;
        }
    }

    fn json_error(&mut self, err: &serde_json::Error) {
        let e = crate::Error::json(Path::new(self.name), err);
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(e.to_string());
        } else {
            self.more += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

/// Parses `text` with no nesting limit (the thread has the stack for it).
fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
    let mut d = serde_json::Deserializer::from_str(text);
    d.disable_recursion_limit();
    let value = T::deserialize(&mut d)?;
    d.end()?;
    Ok(value)
}

/// A string, borrowed when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, checked for duplicate keys in every object, and otherwise ignored.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut keys: Vec<Str<'de>> = Vec::new();
        let mut set: HashSet<Str<'de>> = HashSet::new();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            // Small objects (nearly all) are checked by a scan, large ones by a set.
            let dup = if keys.len() < 24 {
                let dup = keys.contains(&key);
                keys.push(key.clone());
                if keys.len() == 24 {
                    set.extend(keys.iter().cloned());
                }
                dup
            } else {
                !set.insert(key.clone())
            };
            if dup {
                return Err(de::Error::custom(format!(
                    "duplicate key {:?} in one JSON object",
                    key.0
                )));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

/// One JSON object, one level deep: its keys and the raw text of their values.
struct Obj<'a> {
    fields: Vec<(Str<'a>, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for Obj<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj<'de>, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Obj { fields })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .find(|(k, _)| k.0 == key)
            .map(|(_, v)| *v)
    }
    fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k.0 == key)
    }
}

/// The JSON type of a value, from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    List,
    Object,
}

fn kind(raw: &RawValue) -> Kind {
    let text = raw.get().trim_start();
    match text.as_bytes().first() {
        Some(b'n') => Kind::Null,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'"') => Kind::Str,
        Some(b'[') => Kind::List,
        Some(b'{') => Kind::Object,
        _ if text.contains(['.', 'e', 'E']) => Kind::Float,
        _ => Kind::Int,
    }
}

/// `12`, `"abc"`, `an object`: a value as a message shows it.
fn shown(raw: &RawValue) -> String {
    match kind(raw) {
        Kind::List => "a list".to_owned(),
        Kind::Object => "an object".to_owned(),
        _ => crate::out::shorten(raw.get().trim(), 60),
    }
}

fn as_str(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let raw = raw?;
    if kind(raw) != Kind::Str {
        return None;
    }
    parse::<Str<'_>>(raw.get()).ok().map(|s| s.0)
}

fn as_f64(raw: Option<&RawValue>) -> Option<f64> {
    let raw = raw?;
    match kind(raw) {
        Kind::Int | Kind::Float => parse::<f64>(raw.get()).ok(),
        _ => None,
    }
}

/// The same JSON value (numbers by value, objects regardless of key order), as the Python
/// validator compares them.
fn same_value(a: &RawValue, b: &RawValue) -> bool {
    if a.get() == b.get() {
        return true;
    }
    match (
        parse::<serde_json::Value>(a.get()),
        parse::<serde_json::Value>(b.get()),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The models: fields and their types (pydantic strict mode)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    /// A number (an integer is a float too).
    Float,
    /// An integer (not `1.0`).
    Int,
    Bool,
    Any,
    List,
    Dict,
    StrDict,
    StrList,
    Callsite,
    Meta,
}

impl Ty {
    fn expected(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Float => "a number",
            Ty::Int => "an integer",
            Ty::Bool => "true or false",
            Ty::Any => "a value",
            Ty::List => "a list",
            Ty::Dict | Ty::Callsite | Ty::Meta => "an object",
            Ty::StrDict => "an object of strings",
            Ty::StrList => "a list of strings",
        }
    }
}

/// A model field: name, type, whether null is allowed.
type Field = (&'static str, Ty, bool);

const TOP: &[Field] = &[
    ("sessions", Ty::List, false),
    ("events", Ty::List, false),
    ("function_events", Ty::List, false),
    ("trace_tree", Ty::List, true),
    ("enh_prompt_traces", Ty::StrList, true),
    ("generated_at", Ty::Float, false),
    ("version", Ty::Int, false),
];
const TOP_OPTIONAL: &[&str] = &["trace_tree", "enh_prompt_traces"];

const SESSION: &[Field] = &[
    ("id", Ty::Str, false),
    ("name", Ty::Str, false),
    ("started_at", Ty::Float, false),
    ("ended_at", Ty::Float, true),
    ("meta", Ty::Meta, false),
    ("labels", Ty::StrDict, true),
];
const META: &[Field] = &[("pid", Ty::Int, false), ("cwd", Ty::Str, false)];
const CALLSITE: &[Field] = &[
    ("file", Ty::Str, true),
    ("line", Ty::Int, true),
    ("function", Ty::Str, true),
];
const EVENT: &[Field] = &[
    ("provider", Ty::Str, false),
    ("api", Ty::Str, false),
    ("request", Ty::Any, true),
    ("response", Ty::Any, true),
    ("error", Ty::Str, true),
    ("started_at", Ty::Float, false),
    ("ended_at", Ty::Float, false),
    ("duration_ms", Ty::Float, false),
    ("callsite", Ty::Callsite, true),
    ("span_id", Ty::Str, true),
    ("parent_span_id", Ty::Str, true),
    ("session_id", Ty::Str, false),
];
const FUNCTION_EVENT: &[Field] = &[
    ("provider", Ty::Str, false),
    ("api", Ty::Str, false),
    ("name", Ty::Str, false),
    ("module", Ty::Str, true),
    ("args", Ty::List, true),
    ("kwargs", Ty::Dict, true),
    ("result", Ty::Any, true),
    ("error", Ty::Str, true),
    ("started_at", Ty::Float, false),
    ("ended_at", Ty::Float, false),
    ("duration_ms", Ty::Float, false),
    ("callsite", Ty::Callsite, true),
    ("span_id", Ty::Str, true),
    ("parent_span_id", Ty::Str, true),
    ("enh_prompt", Ty::Bool, false),
    ("enh_prompt_id", Ty::Str, true),
    ("auto_enhance_after", Ty::Int, true),
    ("session_id", Ty::Str, false),
];
/// The Python SDK's models as this validator checks them: each model's name (its Python class),
/// and its fields in order with whether each may be null. Tests hold this table to the models
/// of the installed Python package.
///
/// ```
/// let models = aiobs_cli::validate::model_fields();
/// let (name, fields) = &models[0];
/// assert_eq!(*name, "ObservabilityExport");
/// assert_eq!(fields[0], ("sessions", false));
/// ```
pub fn model_fields() -> Vec<(&'static str, Vec<(&'static str, bool)>)> {
    let names = |fields: &[Field]| fields.iter().map(|&(n, _, null)| (n, null)).collect();
    vec![
        ("ObservabilityExport", names(TOP)),
        ("Session", names(SESSION)),
        ("SessionMeta", names(META)),
        ("Callsite", names(CALLSITE)),
        ("ObservedEvent", names(EVENT)),
        ("ObservedFunctionEvent", names(FUNCTION_EVENT)),
    ]
}

/// Keys a port may add to function events (and function nodes).
const FUNCTION_EXTRA: &[&str] = &["arg_names"];
/// Keys a port may add to provider events (and provider nodes): `replayed`, written (as true)
/// for a call answered from a recording.
const EVENT_EXTRA: &[&str] = &["replayed"];
/// Keys every trace-tree node adds to its event.
const NODE_EXTRA: &[&str] = &["children", "event_type"];

/// Checks the keys of `obj` (none unknown, none missing) and the type of every model field.
/// Returns whether the types were right (the key sets are reported but not counted, as the
/// Python validator runs the semantic checks when only they fail).
fn check_fields(
    c: &mut Checker<'_>,
    place: &str,
    obj: &Obj<'_>,
    fields: &[Field],
    extra: &[&str],
    optional: &[&str],
) -> bool {
    check_unknown_keys(c, place, obj, fields, extra);
    let missing: Vec<&str> = fields
        .iter()
        .map(|f| f.0)
        .filter(|k| !obj.has(k) && !optional.contains(k))
        .collect();
    if !missing.is_empty() {
        c.fail(
            place,
            format!("missing key(s) {missing:?} (the Python SDK always writes them)"),
        );
    }
    let mut ok = true;
    for &(name, ty, nullable) in fields {
        let Some(raw) = obj.get(name) else {
            continue;
        };
        ok &= check_type(c, &Place::Field(place, name), raw, ty, nullable);
    }
    ok
}

/// No key of `obj` other than the model's `fields` and the `extra` ones.
fn check_unknown_keys(
    c: &mut Checker<'_>,
    place: &str,
    obj: &Obj<'_>,
    fields: &[Field],
    extra: &[&str],
) {
    let unknown: Vec<&str> = obj
        .fields
        .iter()
        .map(|(k, _)| &*k.0)
        .filter(|k| !fields.iter().any(|f| f.0 == *k) && !extra.contains(k))
        .collect();
    if !unknown.is_empty() {
        c.fail(place, format!("unknown key(s) {unknown:?}"));
    }
}

/// Checks one value against its model type; nested models are checked whole.
/// Where a value is, spelled out only when a problem is reported (most values have none).
enum Place<'p> {
    /// `place.name`
    Field(&'p str, &'p str),
    /// `place[index]`
    Item(&'p str, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Field(place, name) => write!(f, "{place}.{name}"),
            Place::Item(place, index) => write!(f, "{place}[{index}]"),
        }
    }
}

fn check_type(
    c: &mut Checker<'_>,
    place: &Place<'_>,
    raw: &RawValue,
    ty: Ty,
    nullable: bool,
) -> bool {
    let k = kind(raw);
    if k == Kind::Null && (nullable || ty == Ty::Any) {
        return true;
    }
    let right = match ty {
        Ty::Any => true,
        Ty::Str => k == Kind::Str,
        Ty::Float => matches!(k, Kind::Int | Kind::Float),
        Ty::Int => k == Kind::Int,
        Ty::Bool => k == Kind::Bool,
        Ty::List | Ty::StrList => k == Kind::List,
        Ty::Dict | Ty::StrDict | Ty::Callsite | Ty::Meta => k == Kind::Object,
    };
    if !right {
        c.fail(
            &place.to_string(),
            format!("expected {}, got {}", ty.expected(), shown(raw)),
        );
        return false;
    }
    if !matches!(ty, Ty::StrList | Ty::StrDict | Ty::Callsite | Ty::Meta) {
        return true;
    }
    let place = place.to_string();
    match ty {
        Ty::StrList => {
            let items: Vec<&RawValue> = parse(raw.get()).unwrap_or_default();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                ok &= check_type(c, &Place::Item(&place, i), item, Ty::Str, false);
            }
            ok
        }
        Ty::StrDict => match parse::<Obj<'_>>(raw.get()) {
            Ok(obj) => {
                let mut ok = true;
                for (key, value) in &obj.fields {
                    ok &= check_type(c, &Place::Field(&place, &key.0), value, Ty::Str, false);
                }
                ok
            }
            Err(_) => false,
        },
        Ty::Callsite | Ty::Meta => match parse::<Obj<'_>>(raw.get()) {
            Ok(obj) => {
                let fields = if ty == Ty::Meta { META } else { CALLSITE };
                check_fields(c, &place, &obj, fields, &[], &[])
            }
            Err(_) => false,
        },
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

/// `function_events[3]`: where an entry is (its index, as in the file).
fn label(_obj: &Obj<'_>, index: usize, kind: &str) -> String {
    format!("{kind}[{index}]")
}

/// Whether a value is truthy as Python sees it, for the values these checks look at.
fn truthy(raw: Option<&RawValue>) -> bool {
    match raw {
        None => false,
        Some(r) => !matches!(
            r.get().trim(),
            "null" | "false" | "0" | "\"\"" | "[]" | "{}"
        ),
    }
}

/// The lists of the document, their entries raw (an absent or mistyped list is empty: the
/// models report it).
struct Lists<'a> {
    sessions: Vec<&'a RawValue>,
    events: Vec<&'a RawValue>,
    functions: Vec<&'a RawValue>,
}

/// The flat events, as the tree is checked against them.
struct FlatEvents<'a> {
    /// (is a function event, raw text): the events, then the function events.
    flat: Vec<(bool, &'a RawValue)>,
    /// The index in `flat` of each span id.
    by_span: HashMap<Cow<'a, str>, usize>,
    /// Span-less flat events, counted by (is a function event, canonical text).
    spanless: HashMap<(bool, String), usize>,
}

/// What walking `trace_tree` found.
struct TreeWalk {
    roots: Vec<Option<Summary>>,
    /// Span ids seen in the tree.
    seen: HashSet<String>,
    /// Nodes seen (objects).
    nodes: usize,
    /// (pre-order index, enh_prompt_id) of enh_prompt nodes.
    enh: Vec<(usize, String)>,
}

fn check_document(c: &mut Checker<'_>, bytes: &[u8]) {
    let Some(top) = read_top_object(c, bytes) else {
        return;
    };
    let list = |key: &str| -> Vec<&RawValue> {
        top.get(key)
            .filter(|r| kind(r) == Kind::List)
            .and_then(|r| parse(r.get()).ok())
            .unwrap_or_default()
    };
    let lists = Lists {
        sessions: list("sessions"),
        events: list("events"),
        functions: list("function_events"),
    };
    if !check_models(c, &top, &lists) {
        c.fail_file("semantic checks skipped: the file does not match the models");
        return;
    }
    check_version(c, &top);
    let session_ids = check_sessions(c, &lists.sessions);
    let events = check_flat_events(c, &lists, &session_ids);
    check_trace_tree(c, &top, events);
}

/// The top-level object of a file that is not empty, is UTF-8 and JSON without duplicate
/// keys, and holds an object; `None`, with the problem reported, otherwise.
fn read_top_object<'a>(c: &mut Checker<'_>, bytes: &'a [u8]) -> Option<Obj<'a>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        c.fail_file("empty file (expected an aiobs JSON export)");
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            c.fail_file(format!("not UTF-8 text (at byte {})", e.valid_up_to()));
            return None;
        }
    };
    // Syntax and duplicate keys, everywhere, with the place of the first problem.
    if let Err(e) = parse::<NoDuplicates>(text) {
        c.json_error(&e);
        return None;
    }
    let top_raw: &RawValue = match parse(text) {
        Ok(r) => r,
        Err(e) => {
            c.json_error(&e);
            return None;
        }
    };
    if kind(top_raw) != Kind::Object {
        c.fail(
            "top level",
            format!("expected an object, got {}", shown(top_raw)),
        );
        return None;
    }
    let Ok(top) = parse::<Obj<'_>>(top_raw.get()) else {
        c.fail_file("cannot read the top-level object");
        return None;
    };
    Some(top)
}

/// The models and key sets of the top level and of every entry of its lists: whether they
/// all match (the semantic checks rely on it).
fn check_models(c: &mut Checker<'_>, top: &Obj<'_>, lists: &Lists<'_>) -> bool {
    let mut models_ok = check_fields(c, "top level", top, TOP, &[], TOP_OPTIONAL);
    /// A list of the document: its name, entries, model fields and allowed extra keys.
    type Group<'g, 'a> = (&'g str, &'g [&'a RawValue], &'g [Field], &'g [&'g str]);
    let groups: [Group<'_, '_>; 3] = [
        ("sessions", &lists.sessions, SESSION, &[]),
        ("events", &lists.events, EVENT, EVENT_EXTRA),
        (
            "function_events",
            &lists.functions,
            FUNCTION_EVENT,
            FUNCTION_EXTRA,
        ),
    ];
    for (what, items, fields, extra) in groups {
        for (i, raw) in items.iter().enumerate() {
            match parse::<Obj<'_>>(raw.get()) {
                Ok(obj) => {
                    let place = label(&obj, i, what);
                    models_ok &= check_fields(c, &place, &obj, fields, extra, &[]);
                }
                Err(_) => {
                    c.fail(
                        &format!("{what}[{i}]"),
                        format!("expected an object, got {}", shown(raw)),
                    );
                    models_ok = false;
                }
            }
        }
    }
    models_ok
}

/// (g) the version.
fn check_version(c: &mut Checker<'_>, top: &Obj<'_>) {
    if top.get("version").is_some_and(|v| v.get().trim() != "1") {
        c.fail("version", "expected the integer 1");
    }
}

/// (e) sessions: ids unique, timing, labels. The session ids.
fn check_sessions<'a>(c: &mut Checker<'_>, sessions: &[&'a RawValue]) -> HashSet<Cow<'a, str>> {
    let mut session_ids: HashSet<Cow<'a, str>> = HashSet::new();
    for (i, raw) in sessions.iter().enumerate() {
        let Ok(s) = parse::<Obj<'a>>(raw.get()) else {
            continue;
        };
        let place = label(&s, i, "sessions");
        if let Some(id) = as_str(s.get("id")) {
            if !session_ids.insert(id.clone()) {
                c.fail(&place, format!("session id {id:?} appears more than once"));
            }
        }
        if let (Some(start), Some(end)) = (as_f64(s.get("started_at")), as_f64(s.get("ended_at"))) {
            if end < start {
                c.fail(&place, format!("ended_at {end} < started_at {start}"));
            }
        }
        check_labels(c, &place, &s);
    }
    session_ids
}

/// A session's labels: keys of the allowed form, values of at most 256 characters.
fn check_labels(c: &mut Checker<'_>, place: &str, session: &Obj<'_>) {
    let Some(labels) = session
        .get("labels")
        .and_then(|l| parse::<Obj<'_>>(l.get()).ok())
    else {
        return;
    };
    for (key, value) in &labels.fields {
        if !label_key_ok(&key.0) {
            c.fail(
                place,
                format!(
                    "label key {:?} does not match ^[a-z][a-z0-9_]{{0,62}}$",
                    key.0
                ),
            );
        }
        if as_str(Some(value)).is_some_and(|v| v.chars().count() > 256) {
            c.fail(
                place,
                format!("label {:?} is longer than 256 characters", key.0),
            );
        }
    }
}

/// Flat events: session references, timing, function rules; span ids for the tree.
fn check_flat_events<'a>(
    c: &mut Checker<'_>,
    lists: &Lists<'a>,
    session_ids: &HashSet<Cow<'a, str>>,
) -> FlatEvents<'a> {
    let (events, functions) = (&lists.events, &lists.functions);
    let mut flat: Vec<(bool, &RawValue)> = Vec::with_capacity(events.len() + functions.len());
    let mut by_span: HashMap<Cow<'_, str>, usize> = HashMap::with_capacity(flat.capacity());
    let mut spanless: HashMap<(bool, String), usize> = HashMap::new();
    let kinds = [
        ("events", events, false),
        ("function_events", functions, true),
    ];
    for (what, items, is_function) in kinds {
        for (i, raw) in items.iter().enumerate() {
            let Ok(ev) = parse::<Obj<'_>>(raw.get()) else {
                continue;
            };
            let place = label(&ev, i, what);
            check_session_reference(c, &place, &ev, session_ids);
            check_event_timing(c, &place, &ev);
            if is_function {
                check_function_rules(c, &place, &ev);
            }
            match as_str(ev.get("span_id")).filter(|s| !s.is_empty()) {
                Some(span) => {
                    if by_span.insert(span.clone(), flat.len()).is_some() {
                        c.fail(
                            &place,
                            format!("span_id {span:?} is used by more than one event"),
                        );
                    }
                }
                None => {
                    let canon = parse::<serde_json::Value>(raw.get())
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    *spanless.entry((is_function, canon)).or_default() += 1;
                }
            }
            flat.push((is_function, raw));
        }
    }
    FlatEvents {
        flat,
        by_span,
        spanless,
    }
}

/// An event's `session_id` names a session of the document.
fn check_session_reference(
    c: &mut Checker<'_>,
    place: &str,
    ev: &Obj<'_>,
    session_ids: &HashSet<Cow<'_, str>>,
) {
    let sid = as_str(ev.get("session_id"));
    if !sid.as_ref().is_some_and(|s| session_ids.contains(s)) {
        c.fail(
            place,
            format!(
                "session_id {:?} names no session in 'sessions'",
                sid.unwrap_or_default()
            ),
        );
    }
}

/// An event's timing: finite, not ending before it starts, `duration_ms` agreeing with both.
fn check_event_timing(c: &mut Checker<'_>, place: &str, ev: &Obj<'_>) {
    let (start, end, dur) = (
        as_f64(ev.get("started_at")).unwrap_or(0.0),
        as_f64(ev.get("ended_at")).unwrap_or(0.0),
        as_f64(ev.get("duration_ms")).unwrap_or(0.0),
    );
    if !(start.is_finite() && end.is_finite() && dur.is_finite()) {
        c.fail(place, "non-finite timestamp or duration");
    } else {
        if end < start {
            c.fail(place, format!("ended_at {end} < started_at {start}"));
        }
        let expected = (end - start) * 1000.0;
        if (dur - expected).abs() > 1.0 {
            c.fail(
                place,
                format!("duration_ms {dur} but (ended_at - started_at) * 1000 = {expected:.3}"),
            );
        }
    }
}

/// (a)-(d) the tree, checked against the flat events, and `enh_prompt_traces`.
fn check_trace_tree(c: &mut Checker<'_>, top: &Obj<'_>, events: FlatEvents<'_>) {
    let enh = top
        .get("enh_prompt_traces")
        .filter(|r| kind(r) != Kind::Null);
    let Some(tree) = top.get("trace_tree").filter(|r| kind(r) != Kind::Null) else {
        check_without_tree(c, enh);
        return;
    };
    let FlatEvents {
        flat,
        by_span,
        spanless,
    } = events;
    let Some(walk) = walk_tree(c, tree, &flat, &by_span, spanless) else {
        return;
    };
    check_roots(c, &walk.roots, &by_span);
    check_every_event_in_tree(c, &by_span, &walk.seen, walk.nodes, flat.len());
    check_enh_prompt_traces(c, enh, walk.enh);
}

/// A document without a tree: allowed unless `--require-tree`, and then without
/// `enh_prompt_traces`.
fn check_without_tree(c: &mut Checker<'_>, enh: Option<&RawValue>) {
    if c.options.require_tree {
        c.fail("trace_tree", "missing or null (--require-tree)");
    }
    if enh.is_some() {
        c.fail(
            "enh_prompt_traces",
            "set but trace_tree is null (the SDK derives one from the other)",
        );
    }
}

/// Parses `trace_tree`, checking each node as it is read; `None`, with the problem
/// reported, when it cannot be read.
fn walk_tree<'a>(
    c: &mut Checker<'_>,
    tree: &RawValue,
    flat: &[(bool, &'a RawValue)],
    by_span: &HashMap<Cow<'a, str>, usize>,
    spanless: HashMap<(bool, String), usize>,
) -> Option<TreeWalk> {
    let mut state = TreeState {
        c,
        flat,
        by_span,
        spanless,
        seen: HashSet::with_capacity(flat.len()),
        nodes: 0,
        enh: Vec::new(),
    };
    let mut d = serde_json::Deserializer::from_str(tree.get());
    d.disable_recursion_limit();
    let roots = match (ChildrenSeed {
        state: &mut state,
        depth: 0,
        place: "trace_tree roots",
    })
    .deserialize(&mut d)
    {
        Ok(r) => r,
        Err(e) => {
            state.c.fail("trace_tree", format!("cannot be read: {e}"));
            return None;
        }
    };
    let TreeState {
        seen, nodes, enh, ..
    } = state;
    Some(TreeWalk {
        roots,
        seen,
        nodes,
        enh,
    })
}

/// A root's `parent_span_id` is no event of this export.
fn check_roots(
    c: &mut Checker<'_>,
    roots: &[Option<Summary>],
    by_span: &HashMap<Cow<'_, str>, usize>,
) {
    for root in roots.iter().flatten() {
        if let Some(pid) = &root.parent {
            if by_span.contains_key(pid.as_str()) {
                c.fail(
                    &root.place,
                    format!("is a root but its parent_span_id {pid:?} is an event in this export"),
                );
            }
        }
    }
}

/// Every event is in the tree exactly once: each span id seen, one node per event.
fn check_every_event_in_tree(
    c: &mut Checker<'_>,
    by_span: &HashMap<Cow<'_, str>, usize>,
    seen: &HashSet<String>,
    nodes: usize,
    events: usize,
) {
    let missing: Vec<&str> = by_span
        .keys()
        .filter(|s| !seen.contains(s.as_ref()))
        .map(|s| &**s)
        .take(3)
        .collect();
    if !missing.is_empty() {
        let n = by_span
            .keys()
            .filter(|s| !seen.contains(s.as_ref()))
            .count();
        c.fail(
            "trace_tree",
            format!("{n} span_id(s) of events are not in trace_tree, e.g. {missing:?}"),
        );
    }
    if nodes != events {
        c.fail(
            "trace_tree",
            format!(
                "has {nodes} node(s) but there are {events} event(s) and function event(s); each must appear exactly once",
            ),
        );
    }
}

/// (d) `enh_prompt_traces`: the ids of the enh_prompt nodes in pre-order, or null or absent
/// when there are none.
fn check_enh_prompt_traces(
    c: &mut Checker<'_>,
    enh: Option<&RawValue>,
    mut found: Vec<(usize, String)>,
) {
    found.sort_by_key(|(order, _)| *order);
    let expected: Vec<String> = found.into_iter().map(|(_, id)| id).collect();
    let actual: Option<Vec<String>> = enh.and_then(|r| parse(r.get()).ok());
    if expected.is_empty() {
        if let Some(actual) = enh {
            c.fail(
                "enh_prompt_traces",
                format!(
                    "expected null or absent (no enh_prompt node), got {}",
                    crate::out::shorten(actual.get(), 80)
                ),
            );
        }
    } else if actual.as_ref() != Some(&expected) {
        c.fail(
            "enh_prompt_traces",
            format!(
                "expected {expected:?} (pre-order over trace_tree), got {}",
                enh.map_or("null".to_owned(), |r| crate::out::shorten(r.get(), 80))
            ),
        );
    }
}

fn label_key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == b'_')
}

fn check_function_rules(c: &mut Checker<'_>, place: &str, ev: &Obj<'_>) {
    let provider = as_str(ev.get("provider"));
    if provider.as_deref() != Some("function") {
        c.fail(
            place,
            format!(
                "provider is {:?}, expected \"function\"",
                provider.unwrap_or_default()
            ),
        );
    }
    if truthy(ev.get("enh_prompt")) != truthy(ev.get("enh_prompt_id")) {
        c.fail(
            place,
            "enh_prompt and enh_prompt_id disagree (an id is set exactly when enh_prompt is true)",
        );
    }
    let set = |k: &str| ev.get(k).is_some_and(|r| kind(r) != Kind::Null);
    if set("error") && set("result") {
        c.fail(
            place,
            "has both an error and a result (a failed call records no result)",
        );
    }
    if let Some(names) = ev.get("arg_names").filter(|r| kind(r) != Kind::Null) {
        match parse::<Vec<Str<'_>>>(names.get()) {
            Err(_) => c.fail(place, "arg_names must be a list of strings or null"),
            Ok(names) => {
                let args: Option<Vec<&RawValue>> = ev.get("args").and_then(|a| parse(a.get()).ok());
                if let Some(args) = args.filter(|a| a.len() != names.len()) {
                    c.fail(
                        place,
                        format!("{} arg_names for {} args", names.len(), args.len()),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// trace_tree, checked while it is parsed
// ---------------------------------------------------------------------------------------------

struct TreeState<'s, 'n, 'a> {
    c: &'s mut Checker<'n>,
    /// Flat events: (is a function event, raw text).
    flat: &'s [(bool, &'a RawValue)],
    by_span: &'s HashMap<Cow<'a, str>, usize>,
    /// Span-less flat events not yet matched by a node, by (kind, canonical text).
    spanless: HashMap<(bool, String), usize>,
    /// Span ids seen in the tree.
    seen: HashSet<String>,
    /// Nodes seen (objects).
    nodes: usize,
    /// (pre-order index, enh_prompt_id) of enh_prompt nodes.
    enh: Vec<(usize, String)>,
}

/// What a parent needs of a child once the child is checked.
struct Summary {
    place: String,
    parent: Option<String>,
    started_at: Option<f64>,
}

/// A list of nodes (the roots, or a `children` list); yields one summary per element (none
/// for an element that is not an object).
struct ChildrenSeed<'r, 's, 'n, 'a> {
    state: &'r mut TreeState<'s, 'n, 'a>,
    depth: usize,
    place: &'r str,
}

impl<'de, 'r, 's, 'n, 'a> DeserializeSeed<'de> for ChildrenSeed<'r, 's, 'n, 'a> {
    type Value = Vec<Option<Summary>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ChildrenSeed<'_, '_, '_, '_> {
    type Value = Vec<Option<Summary>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of trace-tree nodes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut k = 0;
        while let Some(s) = seq.next_element_seed(NodeSeed {
            state: &mut *self.state,
            depth: self.depth,
            place: self.place,
            index: k,
        })? {
            out.push(s);
            k += 1;
        }
        // (c) ordered by started_at.
        let starts: Vec<Option<f64>> = out
            .iter()
            .map(|s| s.as_ref().and_then(|s| s.started_at))
            .collect();
        for k in 1..starts.len() {
            if let (Some(a), Some(b)) = (starts[k - 1], starts[k]) {
                if b < a {
                    self.state.c.fail(
                        self.place,
                        format!("entry {k} starts at {b} before entry {} at {a}", k - 1),
                    );
                    break;
                }
            }
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        self.not_a_list("an object")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.not_a_list("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.not_a_list("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.not_a_list("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.not_a_list("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.not_a_list("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.not_a_list("null")
    }
}

impl ChildrenSeed<'_, '_, '_, '_> {
    fn not_a_list<E>(self, got: &str) -> Result<Vec<Option<Summary>>, E> {
        self.state
            .c
            .fail(self.place, format!("expected a list of nodes, got {got}"));
        Ok(Vec::new())
    }
}

/// One element of a node list.
struct NodeSeed<'r, 's, 'n, 'a> {
    state: &'r mut TreeState<'s, 'n, 'a>,
    depth: usize,
    place: &'r str,
    index: usize,
}

impl<'de, 'r, 's, 'n, 'a> DeserializeSeed<'de> for NodeSeed<'r, 's, 'n, 'a> {
    type Value = Option<Summary>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl NodeSeed<'_, '_, '_, '_> {
    fn not_an_object<E>(self, got: &str) -> Result<Option<Summary>, E> {
        self.state.c.fail(
            &format!("{}[{}]", self.place, self.index),
            format!("is {got}, expected an object"),
        );
        Ok(None)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_, '_, '_> {
    type Value = Option<Summary>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a trace-tree node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let order = self.state.nodes;
        self.state.nodes += 1;
        let place = format!("trace_tree node {order} (depth {})", self.depth);
        let mut fields: Vec<(Str<'de>, &'de RawValue)> = Vec::new();
        let mut children: Option<Vec<Option<Summary>>> = None;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            if key.0 == "children" {
                let where_children = format!("children of trace_tree node {order}");
                children = Some(map.next_value_seed(ChildrenSeed {
                    state: &mut *self.state,
                    depth: self.depth + 1,
                    place: &where_children,
                })?);
            } else {
                fields.push((key, map.next_value::<&'de RawValue>()?));
            }
        }
        let node = Obj { fields };
        Ok(Some(self.state.check_node(&place, order, &node, children)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        self.not_an_object("a list")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.not_an_object("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.not_an_object("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.not_an_object("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.not_an_object("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.not_an_object("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.not_an_object("null")
    }
}

impl TreeState<'_, '_, '_> {
    /// Checks a node once its children are checked: its event type and key set, (a) that it
    /// is its flat event, (b) that its children link to it; (d) notes an enh_prompt node.
    fn check_node(
        &mut self,
        place: &str,
        order: usize,
        node: &Obj<'_>,
        children: Option<Vec<Option<Summary>>>,
    ) -> Summary {
        let event_type = as_str(node.get("event_type"));
        let is_function = node_kind(self.c, place, node, event_type.as_deref());
        check_node_keys(self.c, place, node, is_function, children.is_some());

        // (a) the node is its flat event.
        let span = as_str(node.get("span_id")).filter(|s| !s.is_empty());
        let body: Vec<(&str, &RawValue)> = node
            .fields
            .iter()
            .filter(|(k, _)| !NODE_EXTRA.contains(&&*k.0))
            .map(|(k, v)| (&*k.0, *v))
            .collect();
        match &span {
            Some(span) => {
                self.check_node_span(place, span, is_function, event_type.as_deref(), &body)
            }
            None => self.match_spanless_event(place, is_function, &body),
        }

        // (b) children link to this node.
        check_children_link(self.c, span.as_deref(), children.as_deref());

        // (d) enh_prompt nodes, by pre-order index.
        self.note_enh_prompt(order, node);

        Summary {
            place: place.to_owned(),
            parent: as_str(node.get("parent_span_id")).map(|s| s.into_owned()),
            started_at: as_f64(node.get("started_at")),
        }
    }

    /// (a) for a node with a span id: the span is new to the tree and belongs to an event of
    /// the node's kind, equal to the node.
    fn check_node_span(
        &mut self,
        place: &str,
        span: &str,
        is_function: Option<bool>,
        event_type: Option<&str>,
        body: &[(&str, &RawValue)],
    ) {
        if !self.seen.insert(span.to_string()) {
            self.c.fail(
                place,
                format!("span_id {span:?} appears more than once in trace_tree"),
            );
        }
        let Some(&i) = self.by_span.get(span) else {
            self.c
                .fail(place, format!("span_id {span:?} belongs to no event"));
            return;
        };
        let (flat_is_function, raw) = self.flat[i];
        if is_function.is_some_and(|f| f != flat_is_function) {
            self.c.fail(
                place,
                format!(
                    "event_type {:?} but the span belongs to a {} event",
                    event_type.unwrap_or_default(),
                    if flat_is_function {
                        "function"
                    } else {
                        "provider"
                    }
                ),
            );
        }
        check_node_equals_event(self.c, place, body, raw);
    }

    /// (a) for a node without a span id: it matches a span-less flat event of its kind that
    /// no other node matched.
    fn match_spanless_event(
        &mut self,
        place: &str,
        is_function: Option<bool>,
        body: &[(&str, &RawValue)],
    ) {
        let canon = serde_json::Value::Object(
            body.iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        parse::<serde_json::Value>(v.get()).unwrap_or_default(),
                    )
                })
                .collect(),
        )
        .to_string();
        let key = (is_function.unwrap_or(true), canon);
        match self.spanless.get_mut(&key) {
            Some(n) if *n > 0 => *n -= 1,
            _ => self
                .c
                .fail(place, "has no span_id and matches no span-less event"),
        }
    }

    /// (d) records the `enh_prompt_id` of an enh_prompt node, with its pre-order index.
    fn note_enh_prompt(&mut self, order: usize, node: &Obj<'_>) {
        if node
            .get("enh_prompt")
            .is_some_and(|v| v.get().trim() == "true")
        {
            if let Some(id) = as_str(node.get("enh_prompt_id")).filter(|s| !s.is_empty()) {
                self.enh.push((order, id.into_owned()));
            }
        }
    }
}

/// A node's kind from its `event_type`: `Some(true)` for a function, `Some(false)` for a
/// provider call; `None`, reported, for anything else.
fn node_kind(
    c: &mut Checker<'_>,
    place: &str,
    node: &Obj<'_>,
    event_type: Option<&str>,
) -> Option<bool> {
    match event_type {
        Some("function") => Some(true),
        Some("provider") => Some(false),
        _ => {
            c.fail(
                place,
                format!(
                    "event_type is {}, expected \"function\" or \"provider\"",
                    node.get("event_type").map_or("missing".to_owned(), shown)
                ),
            );
            None
        }
    }
}

/// A node's key set: its flat event's, plus `children` and `event_type`.
fn check_node_keys(
    c: &mut Checker<'_>,
    place: &str,
    node: &Obj<'_>,
    is_function: Option<bool>,
    has_children: bool,
) {
    let (fields, extra): (&[Field], &[&str]) = if is_function == Some(false) {
        (EVENT, &["children", "event_type", "replayed"])
    } else {
        (FUNCTION_EVENT, &["children", "event_type", "arg_names"])
    };
    check_unknown_keys(c, place, node, fields, extra);
    let missing: Vec<&str> = fields
        .iter()
        .map(|f| f.0)
        .chain(["event_type"])
        .filter(|k| !node.has(k))
        .collect();
    if !missing.is_empty() {
        c.fail(place, format!("missing key(s) {missing:?}"));
    }
    if !has_children {
        c.fail(place, "missing key \"children\" (a list, empty for a leaf)");
    }
}

/// (a) a node, without `children` and `event_type`, has the keys and values of its flat event.
fn check_node_equals_event(
    c: &mut Checker<'_>,
    place: &str,
    body: &[(&str, &RawValue)],
    raw: &RawValue,
) {
    let Ok(flat) = parse::<Obj<'_>>(raw.get()) else {
        return;
    };
    let mut keys: Vec<&str> = body.iter().map(|(k, _)| *k).collect();
    keys.extend(flat.fields.iter().map(|(k, _)| &*k.0));
    keys.sort_unstable();
    keys.dedup();
    let differ: Vec<&str> = keys
        .into_iter()
        .filter(|k| {
            let mine = body.iter().find(|(b, _)| b == k).map(|(_, v)| *v);
            match (mine, flat.get(k)) {
                (Some(a), Some(b)) => !same_value(a, b),
                _ => true,
            }
        })
        .collect();
    if !differ.is_empty() {
        c.fail(place, format!("differs from its flat event in {differ:?}"));
    }
}

/// (b) each child's `parent_span_id` is the span of the node it sits under.
fn check_children_link(
    c: &mut Checker<'_>,
    span: Option<&str>,
    children: Option<&[Option<Summary>]>,
) {
    for child in children.into_iter().flatten().flatten() {
        match span {
            None => c.fail(&child.place, "is a child of a node without span_id"),
            Some(span) => {
                if child.parent.as_deref() != Some(span) {
                    c.fail(
                        &child.place,
                        format!(
                            "parent_span_id {} but it sits under span {span:?}",
                            child
                                .parent
                                .as_ref()
                                .map_or("null".to_owned(), |p| format!("{p:?}"))
                        ),
                    );
                }
            }
        }
    }
}
