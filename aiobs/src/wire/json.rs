//! JSON helpers of the providers: reading a body (keeping the order of its top-level keys),
//! turning REST camelCase keys into the Python SDK's snake_case, writing a value the way
//! Python's `repr` prints a dict (as the Python SDKs' error messages quote error bodies).

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::Body;

/// Reads a body: JSON (with its top-level key order) or, if it is not JSON, why not.
pub(crate) fn parse_body(bytes: &[u8]) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => {
            let keys = if value.is_object() {
                serde_json::from_slice::<TopKeys>(bytes)
                    .map(|k| k.0)
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            Body::Json { value, keys }
        }
        Err(e) => Body::Unreadable(format!("body is not JSON ({e})")),
    }
}

/// A body of `total` bytes that was not kept, being over the `cap`.
pub(crate) fn over_cap(total: u64, cap: u64) -> Body {
    Body::Unreadable(format!(
        "body of {total} bytes is over the {cap}-byte cap; not recorded"
    ))
}

/// The top-level keys of a JSON object, in order.
struct TopKeys(Vec<String>);

impl<'de> de::Deserialize<'de> for TopKeys {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                Ok(TopKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON string's text, owned.
pub(crate) fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// Appends a JSON string's text to `to` (started on the first piece); anything else adds
/// nothing.
pub(crate) fn append(to: &mut Option<String>, piece: Option<&Value>) {
    if let Some(piece) = piece.and_then(Value::as_str) {
        to.get_or_insert_with(String::new).push_str(piece);
    }
}

/// The items of a JSON array; none when `v` is missing or not an array.
pub(crate) fn items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

/// What an unreadable body is recorded as: an object saying why.
pub(crate) fn unreadable(reason: &str) -> Value {
    let mut m = Map::new();
    m.insert(
        "aiobs_unreadable".to_owned(),
        Value::String(reason.to_owned()),
    );
    Value::Object(m)
}

/// A body as one JSON value: the JSON itself; for a stream, the data of its events (parsed
/// where they are JSON); for an unreadable body, an object saying why.
pub(crate) fn body_value(body: &Body) -> Value {
    match body {
        Body::Empty => Value::Null,
        Body::Json { value, .. } => value.clone(),
        Body::Stream { events, .. } => Value::Array(
            events
                .iter()
                .map(|e| {
                    serde_json::from_str(&e.data).unwrap_or_else(|_| Value::String(e.data.clone()))
                })
                .collect(),
        ),
        Body::Unreadable(reason) => unreadable(reason),
    }
}

/// A request body as recorded for the APIs the Python SDK doesn't know: every parameter under
/// its own name, `leading` first (those present, in that order), then the others in their
/// order on the wire.
pub(crate) struct Leading<'a> {
    pub(crate) value: &'a Value,
    pub(crate) keys: &'a [String],
    pub(crate) leading: &'a [&'a str],
}

impl Serialize for Leading<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(obj) = self.value.as_object() else {
            return self.value.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        for key in self.leading {
            if let Some(v) = obj.get(*key) {
                map.serialize_entry(key, v)?;
            }
        }
        let rest: Box<dyn Iterator<Item = &String>> = if self.keys.len() == obj.len() {
            Box::new(self.keys.iter())
        } else {
            Box::new(obj.keys())
        };
        for key in rest.filter(|k| !self.leading.contains(&k.as_str())) {
            if let Some(v) = obj.get(key) {
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}

/// The entries of a body object except `skip`, in their order on the wire: the `other` of
/// the Python SDK's request models.
pub(crate) struct Other<'a> {
    pub(crate) value: &'a Value,
    pub(crate) keys: &'a [String],
    pub(crate) skip: &'a [&'a str],
}

impl Serialize for Other<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(obj) = self.value.as_object() {
            let mut write = |k: &String, v: &Value| -> Result<(), S::Error> {
                if self.skip.contains(&k.as_str()) {
                    Ok(())
                } else {
                    map.serialize_entry(k, v)
                }
            };
            if self.keys.len() == obj.len() {
                for k in self.keys {
                    if let Some(v) = obj.get(k) {
                        write(k, v)?;
                    }
                }
            } else {
                for (k, v) in obj {
                    write(k, v)?;
                }
            }
        }
        map.end()
    }
}

/// `value` with every object key turned from camelCase into snake_case (REST JSON into the
/// field names of the Python SDK's models).
pub(crate) fn snake_keys(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (snake_case(k), snake_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(snake_keys).collect()),
        other => other.clone(),
    }
}

/// `promptTokenCount` → `prompt_token_count`.
pub(crate) fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON text as Python prints the parsed value with `repr` (`{'a': None, 'b': True}`), keys
/// in their order in the text, as the Python SDKs quote an error body in their exceptions.
pub(crate) fn python_repr(json: &[u8]) -> Option<String> {
    serde_json::from_slice::<Repr>(json).ok().map(|r| r.0)
}

/// The Python `repr` of a JSON value, built while parsing (so object keys keep their order).
struct Repr(String);

impl<'de> de::Deserialize<'de> for Repr {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ReprVisitor)
    }
}

struct ReprVisitor;

impl<'de> Visitor<'de> for ReprVisitor {
    type Value = Repr;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Repr, E> {
        Ok(Repr("None".to_owned()))
    }
    fn visit_none<E>(self) -> Result<Repr, E> {
        Ok(Repr("None".to_owned()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Repr, E> {
        Ok(Repr(if v { "True" } else { "False" }.to_owned()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Repr, E> {
        Ok(Repr(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Repr, E> {
        Ok(Repr(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Repr, E> {
        Ok(Repr(Value::from(v).to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Repr, E> {
        let mut out = String::new();
        repr_str(v, &mut out);
        Ok(Repr(out))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Repr, A::Error> {
        let mut out = String::from("[");
        let mut first = true;
        while let Some(Repr(item)) = seq.next_element::<Repr>()? {
            if !first {
                out.push_str(", ");
            }
            first = false;
            out.push_str(&item);
        }
        out.push(']');
        Ok(Repr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Repr, A::Error> {
        let mut out = String::from("{");
        let mut first = true;
        while let Some(k) = map.next_key::<String>()? {
            let Repr(v) = map.next_value::<Repr>()?;
            if !first {
                out.push_str(", ");
            }
            first = false;
            repr_str(&k, &mut out);
            out.push_str(": ");
            out.push_str(&v);
        }
        out.push('}');
        Ok(Repr(out))
    }
}

/// A Python string literal: single quotes unless the text has a single quote and no double.
fn repr_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_key_order_is_kept() {
        let body = parse_body(br#"{"z":1,"model":"m","a":{"y":1,"b":2}}"#);
        let Body::Json { keys, .. } = &body else {
            panic!("{body:?}")
        };
        assert_eq!(keys, &["z", "model", "a"]);
        let other = Other {
            value: body.json().unwrap(),
            keys,
            skip: &["model"],
        };
        assert_eq!(
            serde_json::to_string(&other).unwrap(),
            r#"{"z":1,"a":{"b":2,"y":1}}"#
        );
    }

    #[test]
    fn bodies_that_are_not_json_or_too_big_say_why() {
        match parse_body(b"<html>") {
            Body::Unreadable(r) => assert!(r.starts_with("body is not JSON"), "{r}"),
            b => panic!("{b:?}"),
        }
        match over_cap(7, 3) {
            Body::Unreadable(r) => assert!(r.contains("over the 3-byte cap"), "{r}"),
            b => panic!("{b:?}"),
        }
        assert!(matches!(parse_body(b""), Body::Empty));
    }

    #[test]
    fn camel_case_keys_become_snake_case() {
        let v = json!({"usageMetadata": {"promptTokenCount": 3, "promptTokensDetails": [{"tokenCount": 1}]}});
        assert_eq!(
            snake_keys(&v),
            json!({"usage_metadata": {"prompt_token_count": 3, "prompt_tokens_details": [{"token_count": 1}]}})
        );
    }

    #[test]
    fn values_print_as_python_repr() {
        let text = br#"{"error": {"message": "bad model", "param": null, "ok": false, "n": 1.5, "q": "it's", "l": [1, "a\nb"]}}"#;
        assert_eq!(
            python_repr(text).unwrap(),
            r#"{'error': {'message': 'bad model', 'param': None, 'ok': False, 'n': 1.5, 'q': "it's", 'l': [1, 'a\nb']}}"#
        );
        assert_eq!(python_repr(b"not json"), None);
    }
}
