//! Capturing argument and result values.
//!
//! A value is captured as JSON when its type implements `serde::Serialize`, else as its `Debug`
//! text, else as `"<TypeName>"`. The choice is made at compile time in the code that
//! `#[observe]` generates, by autoref specialisation on [`Wrap`] (`value.rs`): method lookup
//! tries `&&Wrap<T>` (Serialize) before `&Wrap<T>` (Debug) before `Wrap<T>` (anything). The
//! return value is split the same way (`split.rs`), and so is an error's text (`error_text.rs`).
//!
//! Values are written into a compact tagged byte form ([`encode`]) with the size limits applied
//! while writing, and turned into JSON text only at flush (`document/render.rs`).

pub(crate) mod encode;
mod error_text;
pub(crate) mod fit;
pub(crate) mod limits;
pub mod mask;
pub(crate) mod settings;
mod sink;
mod split;
mod value;
pub(crate) mod walk;

pub use error_text::{
    ErrViaBox, ErrViaBoxSend, ErrViaBoxSendSync, ErrViaDebug, ErrViaDisplay, ErrViaError,
    ErrViaTypeName,
};
pub use limits::Limits;
pub use sink::Sink;
pub use split::{SplitPlain, SplitResult};
#[cfg(any(test, feature = "tracing"))]
pub(crate) use value::capture_debug;
#[cfg(test)]
pub(crate) use value::capture_serialize;
pub use value::{Plain, ViaDebug, ViaPlain, ViaSerialize, ViaTypeName, Wrap};

/// The tags of the byte form.
pub(crate) mod tag {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const I64: u8 = 3;
    pub const U64: u8 = 4;
    pub const F64: u8 = 5;
    pub const F32: u8 = 6;
    pub const I128: u8 = 7;
    pub const U128: u8 = 8;
    /// u32 length, then UTF-8 bytes.
    pub const STR: u8 = 9;
    /// As STR; rendered with `...` appended (the text was cut).
    pub const STR_CUT: u8 = 10;
    /// Items, then END.
    pub const SEQ: u8 = 11;
    /// Key (STR or STR_CUT), value, … then END.
    pub const MAP: u8 = 12;
    pub const END: u8 = 13;
    /// A `&'static str` type name (pointer and length); rendered as `"<ShortName>"`.
    pub const TYPE_NAME: u8 = 14;
    /// As STR, for `Debug` text (scrubbed for `field: value` pairs as well).
    pub const DEBUG: u8 = 15;
    /// As STR_CUT, for `Debug` text.
    pub const DEBUG_CUT: u8 = 16;
}

/// Writes `"<TypeName>"` for a `&'static str` type name.
pub(crate) fn put_type_name(out: &mut Vec<u8>, name: &'static str) {
    out.push(tag::TYPE_NAME);
    out.extend_from_slice(&(name.as_ptr() as usize).to_le_bytes());
    out.extend_from_slice(&name.len().to_le_bytes());
}

/// The short form of a type name: paths dropped (`alloc::string::String` → `String`), but a
/// type called `Error` keeps its module (`std::io::error::Error` → `io::Error`).
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut rest = full;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let (path, tail) = rest.split_at(end);
        if path.is_empty() {
            let c = tail.chars().next().map_or(1, char::len_utf8);
            out.push_str(&tail[..c]);
            rest = &tail[c..];
            continue;
        }
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        match segs.as_slice() {
            [.., m, last] if *last == "Error" => {
                // `std::io::error::Error`: skip a module named `error` to reach `io`.
                let module = if *m == "error" && segs.len() >= 3 {
                    segs[segs.len() - 3]
                } else {
                    m
                };
                if !matches!(module, "core" | "std" | "alloc") {
                    out.push_str(module);
                    out.push_str("::");
                }
                out.push_str("Error");
            }
            [.., last] => out.push_str(last),
            [] => {}
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_names_drop_paths_but_keep_the_module_of_error() {
        assert_eq!(short_type_name("alloc::string::String"), "String");
        assert_eq!(short_type_name("std::io::error::Error"), "io::Error");
        assert_eq!(
            short_type_name("serde_json::error::Error"),
            "serde_json::Error"
        );
        assert_eq!(short_type_name("anyhow::Error"), "anyhow::Error");
        assert_eq!(short_type_name("my_app::AgentError"), "AgentError");
        assert_eq!(
            short_type_name("alloc::vec::Vec<core::option::Option<my::Thing>>"),
            "Vec<Option<Thing>>"
        );
        assert_eq!(
            short_type_name("alloc::boxed::Box<dyn core::error::Error + core::marker::Send>"),
            "Box<dyn Error + Send>"
        );
        assert_eq!(short_type_name("(u64, &str)"), "(u64, &str)");
    }
}

#[cfg(test)]
mod capture_tests {
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::Serialize;

    use super::*;
    use crate::document::render::to_json;

    fn ser<T: serde::Serialize + ?Sized>(v: &T) -> String {
        let mut out = Vec::new();
        capture_serialize(&mut Sink::new(&mut out, &limits::DEFAULT), v);
        to_json(&out)
    }

    fn dbg<T: fmt::Debug + ?Sized>(v: &T) -> String {
        let mut out = Vec::new();
        capture_debug(&mut Sink::new(&mut out, &limits::DEFAULT), v);
        to_json(&out)
    }

    #[test]
    fn scalars_are_json() {
        assert_eq!(
            ser(&(1u8, -2i64, 1.5f64, true, (), 'x')),
            r#"[1,-2,1.5,true,null,"x"]"#
        );
        assert_eq!(ser(&u128::MAX), u128::MAX.to_string());
        assert_eq!(ser(&f64::NAN), "null");
        assert_eq!(ser(&Some("a\"b\n")), r#""a\"b\n""#);
        assert_eq!(ser(&"\u{1}é"), "\"\\u0001é\"");
    }

    #[test]
    fn strings_keep_500_characters_and_end_in_dots_when_cut() {
        let s = "é".repeat(600);
        let json: String = serde_json::from_str(&ser(&s)).unwrap();
        assert_eq!(json.chars().count(), 503);
        assert!(json.ends_with("é..."));
        assert_eq!(
            ser(&"x".repeat(500)),
            format!("\"{}\"", "x".repeat(500)),
            "500 is kept whole"
        );
    }

    fn ser_with<T: serde::Serialize + ?Sized>(v: &T, limits: &Limits) -> String {
        let mut out = Vec::new();
        capture_serialize(&mut Sink::new(&mut out, limits), v);
        to_json(&out)
    }

    #[test]
    fn sequences_keep_10_items_and_maps_20_entries_and_say_how_many_more() {
        let v: Vec<u32> = (0..15).collect();
        assert_eq!(ser(&v), r#"[0,1,2,3,4,5,6,7,8,9,"[+5 more items]"]"#);
        let m: BTreeMap<String, u32> = (0..25).map(|i| (format!("k{i:02}"), i)).collect();
        let json: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&ser(&m)).unwrap();
        assert_eq!(json.len(), 21);
        assert!(json.contains_key("k19") && !json.contains_key("k20"));
        assert_eq!(json["..."], "[+5 more entries]");
    }

    #[test]
    fn without_markers_cut_containers_are_shaped_as_in_python() {
        let python = Limits::new().markers(false);
        let v: Vec<u32> = (0..15).collect();
        assert_eq!(ser_with(&v, &python), "[0,1,2,3,4,5,6,7,8,9]");
        let m: BTreeMap<u32, u32> = (0..25).map(|i| (i, i)).collect();
        let json: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&ser_with(&m, &python)).unwrap();
        assert_eq!(json.len(), 20);
    }

    #[test]
    fn every_per_value_limit_is_configurable() {
        let limits = Limits::new()
            .max_str_chars(3)
            .max_items(2)
            .max_entries(1)
            .max_key_chars(2);
        assert_eq!(ser_with(&"abcdef", &limits), r#""abc...""#);
        assert_eq!(ser_with(&[1, 2, 3], &limits), r#"[1,2,"[+1 more items]"]"#);
        let m = BTreeMap::from([("long", 1), ("other", 2)]);
        assert_eq!(
            ser_with(&m, &limits),
            r#"{"lo...":1,"...":"[+1 more entries]"}"#
        );
        #[derive(Debug)]
        #[allow(dead_code)] // read through Debug
        struct D(&'static str);
        let mut out = Vec::new();
        capture_debug(&mut Sink::new(&mut out, &limits), &D("xyz"));
        assert_eq!(to_json(&out), r#""D(\"...""#);
    }

    #[test]
    fn a_value_wide_at_every_level_stops_at_the_event_budget() {
        // 10 items of 10 items of ... 6 levels: a million leaves, each a 100-character string.
        fn wide(depth: u32) -> serde_json::Value {
            if depth == 0 {
                serde_json::Value::String("x".repeat(100))
            } else {
                serde_json::Value::Array((0..10).map(|_| wide(depth - 1)).collect())
            }
        }
        let value = wide(6);
        let limits = Limits::new();
        let mut out = Vec::new();
        let started = std::time::Instant::now();
        capture_serialize(&mut Sink::new(&mut out, &limits), &value);
        assert!(
            out.len() < 2 * 64 * 1024 + 4096,
            "bounded by the budget, twice the event cap: {} bytes",
            out.len()
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let json: serde_json::Value = serde_json::from_str(&to_json(&out)).unwrap();
        assert!(
            json.to_string().contains("[+more items]") || json.to_string().contains("more items")
        );
    }

    #[test]
    fn limits_apply_at_every_level_and_siblings_after_a_cut_list_stay() {
        let v = (vec![vec![1; 12]; 12], "after");
        let json: serde_json::Value = serde_json::from_str(&ser(&v)).unwrap();
        assert_eq!(json[0].as_array().unwrap().len(), 11, "10 and the marker");
        assert_eq!(json[0][0].as_array().unwrap().len(), 11);
        assert_eq!(json[1], "after");
    }

    #[test]
    fn map_keys_keep_100_characters_and_numbers_become_text() {
        let m = BTreeMap::from([("k".repeat(150), 1)]);
        let json: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&ser(&m)).unwrap();
        assert_eq!(json.keys().next().unwrap().len(), 103);
        assert_eq!(ser(&BTreeMap::from([(7u8, "seven")])), r#"{"7":"seven"}"#);
        assert_eq!(ser(&BTreeMap::from([(vec![1], 2)])), r#"{"<key>":2}"#);
    }

    #[test]
    fn a_million_items_are_not_all_visited() {
        struct Counting<'a>(&'a std::cell::Cell<usize>);
        impl Serialize for Counting<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.set(self.0.get() + 1);
                s.serialize_u8(0)
            }
        }
        let visits = std::cell::Cell::new(0);
        let big: Vec<Counting> = (0..1_000_000).map(|_| Counting(&visits)).collect();
        assert_eq!(ser(&big), r#"[0,0,0,0,0,0,0,0,0,0,"[+999990 more items]"]"#);
        assert_eq!(visits.get(), 10);
    }

    #[test]
    fn enums_serialise_as_serde_json_does() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        assert_eq!(
            ser(&[E::Unit, E::New(1), E::Tuple(1, 2), E::Struct { a: 3 }]),
            r#"["Unit",{"New":1},{"Tuple":[1,2]},{"Struct":{"a":3}}]"#
        );
        assert_eq!(ser(&E::Tuple(1, 2)), r#"{"Tuple":[1,2]}"#);
        assert_eq!(ser(&serde_bytes_like()), "[1,2,3]");
    }

    fn serde_bytes_like() -> impl Serialize {
        struct B;
        impl Serialize for B {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&[1, 2, 3])
            }
        }
        B
    }

    #[test]
    fn a_failing_or_panicking_serialize_gives_the_type_name() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        struct Panics;
        impl Serialize for Panics {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                panic!("serialize panicked on purpose")
            }
        }
        assert_eq!(ser(&Fails), r#""<Fails>""#);
        assert_eq!(ser(&Panics), r#""<Panics>""#);
        assert_eq!(
            ser(&(1, Fails)),
            r#""<(i32, Fails)>""#,
            "the whole value is replaced"
        );
    }

    #[test]
    fn debug_text_is_cut_at_500_characters_without_formatting_it_all() {
        assert_eq!(dbg(&std::time::Duration::from_millis(1500)), r#""1.5s""#);
        let big = vec![0u8; 1_000_000];
        let json: String = serde_json::from_str(&dbg(&big)).unwrap();
        assert_eq!(json.chars().count(), 503);
        assert!(json.starts_with("[0, 0, 0") && json.ends_with("..."));
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the extra borrows are the mechanism under test
    fn autoref_picks_serialize_then_debug_then_the_type_name() {
        #[derive(Debug)]
        struct OnlyDebug;
        struct Opaque;
        let pick = |f: &dyn Fn(&mut Sink<'_>)| {
            let mut out = Vec::new();
            f(&mut Sink::new(&mut out, &limits::DEFAULT));
            to_json(&out)
        };
        assert_eq!(
            pick(&|o| (&&&Wrap(&vec![1, 2])).__aiobs_capture(o)),
            "[1,2]"
        );
        assert_eq!(
            pick(&|o| (&&&Wrap(&OnlyDebug)).__aiobs_capture(o)),
            r#""OnlyDebug""#
        );
        assert_eq!(
            pick(&|o| (&&&Wrap(&Opaque)).__aiobs_capture(o)),
            r#""<Opaque>""#
        );
    }
}

#[cfg(test)]
mod robustness_tests {
    use serde::ser::{SerializeMap, SerializeSeq};
    use serde::{Serialize, Serializer};

    use super::*;
    use crate::document::render::to_json;

    fn ser<T: Serialize + ?Sized>(v: &T) -> serde_json::Value {
        let mut out = Vec::new();
        capture_serialize(&mut Sink::new(&mut out, &limits::DEFAULT), v);
        serde_json::from_str(&to_json(&out)).expect("the capture renders as valid JSON")
    }

    /// Ignores the errors of its elements and keeps going, then ends the sequence.
    struct BestEffort(u32);
    impl Serialize for BestEffort {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(None)?;
            for x in 0..self.0 {
                let _ = seq.serialize_element(&x);
            }
            seq.end()
        }
    }

    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // Writes part of a value, then fails.
            let mut seq = s.serialize_seq(None)?;
            seq.serialize_element(&1)?;
            Err(serde::ser::Error::custom("half-written"))
        }
    }

    /// Swallows the failure of a child, in a list and as a map value.
    struct Swallows;
    impl Serialize for Swallows {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(None)?;
            let _ = map.serialize_entry("bad", &Fails);
            map.serialize_entry("good", &2)?;
            map.end()
        }
    }

    #[test]
    fn a_serialize_that_ignores_the_limit_still_gives_one_closed_list() {
        let v = ser(&(BestEffort(15), "tail"));
        assert_eq!(v[0].as_array().unwrap().len(), 11, "10 and the marker");
        assert_eq!(v[1], "tail");
    }

    #[test]
    fn a_failed_child_that_the_parent_swallows_becomes_a_placeholder() {
        let v = ser(&(Swallows, "tail"));
        assert_eq!(v[0]["bad"], "<Fails>");
        assert_eq!(v[0]["good"], 2);
        assert_eq!(v[1], "tail");
    }

    #[test]
    fn a_deep_recursive_value_is_cut_at_the_depth_limit_without_overflowing() {
        #[derive(Serialize)]
        struct Node {
            next: Option<Box<Node>>,
        }
        let mut list = Node { next: None };
        for _ in 0..20_000 {
            list = Node {
                next: Some(Box::new(list)),
            };
        }
        let text = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut out = Vec::new();
                capture_serialize(&mut Sink::new(&mut out, &limits::DEFAULT), &list);
                let text = to_json(&out);
                // Drop the list without recursing either.
                let mut next = list.next.take();
                while let Some(mut node) = next {
                    next = node.next.take();
                }
                text
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(text.contains("<max depth>"), "{}", &text[..100]);
        let _: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    }

    #[test]
    fn a_deep_chain_of_newtype_variants_is_cut_at_the_depth_limit() {
        #[derive(Serialize)]
        enum List {
            Cons(Box<List>),
            Nil,
        }
        let text = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut list = List::Nil;
                for _ in 0..20_000 {
                    list = List::Cons(Box::new(list));
                }
                let mut out = Vec::new();
                capture_serialize(&mut Sink::new(&mut out, &limits::DEFAULT), &list);
                let text = to_json(&out);
                // Drop the list without recursing either.
                while let List::Cons(next) = list {
                    list = *next;
                }
                text
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(text.contains("<max depth>"), "{}", &text[..100]);
        let _: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    }

    #[test]
    fn debug_text_counts_characters_not_bytes() {
        #[derive(Debug)]
        #[allow(dead_code)] // read through Debug
        struct Accented(String);
        let mut out = Vec::new();
        capture_debug(
            &mut Sink::new(&mut out, &limits::DEFAULT),
            &Accented("é".repeat(300)),
        );
        let text: String = serde_json::from_str(&to_json(&out)).unwrap();
        assert_eq!(
            text.chars().count(),
            312,
            "312 characters are under the 500 limit: kept whole"
        );
    }

    #[test]
    fn corrupt_bytes_render_as_an_error_not_a_panic() {
        let mut pos = 0;
        let mut out = Vec::new();
        assert!(
            crate::document::render::render_value(&[tag::SEQ, tag::U64, 1], &mut pos, &mut out)
                .is_err()
        );
        let mut pos = 0;
        assert!(
            crate::document::render::render_value(
                &[tag::STR, 200, 0, 0, 0, b'x'],
                &mut pos,
                &mut out
            )
            .is_err()
        );
    }
}
