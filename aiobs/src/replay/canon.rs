//! Requests in the one form they are compared in: secrets scrubbed as the recorder scrubs
//! them, keys sorted, numbers written one way; and, for a request that matches nothing, the
//! first place where it differs from a recorded one.

use std::fmt::Write as _;

use serde_json::Value;

use crate::scrub::{REDACTED, Scrubbing};

/// `value` as the JSON writer would have written it with the default rules: the value of a
/// secret-named key replaced by [`REDACTED`], the secrets in strings too.
pub(crate) fn scrubbed(value: Value, rules: &Scrubbing) -> Value {
    match value {
        Value::String(s) => match rules.scrub_text(&s, false) {
            std::borrow::Cow::Borrowed(_) => Value::String(s),
            std::borrow::Cow::Owned(t) => Value::String(t),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrubbed(v, rules)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if rules.is_secret_name(&k) && !v.is_null() {
                        Value::String(REDACTED.to_owned())
                    } else {
                        scrubbed(v, rules)
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// `request` scrubbed as [`scrubbed`] does, with the parameters that say only what the API
/// does by default dropped: `"stream": false`, at the top or among `other` (the Python SDK
/// records it when a program passes `stream=False`; a client that leaves it out asks the same).
pub(crate) fn comparable(request: Value, rules: &Scrubbing) -> Value {
    let mut request = scrubbed(request, rules);
    if let Some(map) = request.as_object_mut() {
        drop_default_stream(map);
        if let Some(Value::Object(other)) = map.get_mut("other") {
            drop_default_stream(other);
        }
    }
    request
}

fn drop_default_stream(map: &mut serde_json::Map<String, Value>) {
    if map.get("stream") == Some(&Value::Bool(false)) {
        map.remove("stream");
    }
}

/// The text two equal requests share: keys sorted, no whitespace, a whole number written as
/// an integer whether it was `1` or `1.0`.
pub(crate) fn key(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write(&map[k], out);
            }
            out.push('}');
        }
    }
}

fn write_number(n: &serde_json::Number, out: &mut String) {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
            let _ = write!(out, "{}", f as i64);
        }
        _ => {
            let _ = write!(out, "{n}");
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // Equal strings give equal text: quoted, with `"` and `\\` escaped (control characters are
    // kept as they are; the text is compared, never parsed).
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Where `recorded` and `sent` first differ (in key order, depth first), as a JSON pointer
/// and the two values there, shortened; `None` if they are equal.
pub(crate) fn first_difference(recorded: &Value, sent: &Value) -> Option<String> {
    let mut path = String::new();
    first_at(recorded, sent, &mut path)
}

fn first_at(recorded: &Value, sent: &Value, path: &mut String) -> Option<String> {
    match (recorded, sent) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let found = match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_at(x, y, path),
                    (Some(x), None) => Some(format!(
                        "{}: recorded {}, not sent",
                        shown_path(path),
                        short(x)
                    )),
                    (None, Some(y)) => Some(format!(
                        "{}: sent {}, not recorded",
                        shown_path(path),
                        short(y)
                    )),
                    (None, None) => None,
                };
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                let _ = write!(path, "/{i}");
                let found = first_at(x, y, path);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            (a.len() != b.len()).then(|| {
                format!(
                    "{}: recorded {} items, sent {}",
                    shown_path(path),
                    a.len(),
                    b.len()
                )
            })
        }
        (a, b) if key(a) == key(b) => None,
        (a, b) => Some(format!(
            "{}: recorded {}, sent {}",
            shown_path(path),
            short(a),
            short(b)
        )),
    }
}

fn shown_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// How far apart two requests are: the number of leaves (scalars, missing keys, extra array
/// items) that differ, counting at most `cap`.
pub(crate) fn distance(a: &Value, b: &Value, cap: usize) -> usize {
    let mut n = 0;
    count(a, b, &mut n, cap);
    n
}

fn count(a: &Value, b: &Value, n: &mut usize, cap: usize) {
    if *n >= cap {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => count(v, w, n, cap),
                    None => *n += 1,
                }
            }
            *n += y.keys().filter(|k| !x.contains_key(*k)).count();
        }
        (Value::Array(x), Value::Array(y)) => {
            for (v, w) in x.iter().zip(y) {
                count(v, w, n, cap);
            }
            *n += x.len().abs_diff(y.len());
        }
        (x, y) if key(x) == key(y) => {}
        _ => *n += 1,
    }
}

/// `value` as JSON text of at most about 80 characters.
pub(crate) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let cut: String = text.chars().take(77).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_requests_share_a_key_whatever_their_order_and_numbers() {
        let a = json!({"model": "m", "temperature": 1.0, "n": [1, {"b": 2, "a": 1}]});
        let b: Value = serde_json::from_str(
            r#"{ "n": [1, {"a": 1, "b": 2.0}], "temperature": 1, "model": "m" }"#,
        )
        .expect("json");
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&json!({"model": "m", "temperature": 0.5})));
    }

    #[test]
    fn the_first_difference_is_named_by_its_path() {
        let recorded = json!({"model": "m", "messages": [{"role": "user", "content": "Paris?"}]});
        let sent = json!({"model": "m", "messages": [{"role": "user", "content": "Lisbon?"}]});
        assert_eq!(
            first_difference(&recorded, &sent).as_deref(),
            Some(r#"/messages/0/content: recorded "Paris?", sent "Lisbon?""#)
        );
        let longer = json!({"model": "m", "messages": [{"role": "user", "content": "Paris?"}, {}]});
        assert_eq!(
            first_difference(&recorded, &longer).as_deref(),
            Some("/messages: recorded 1 items, sent 2")
        );
        assert_eq!(
            first_difference(&recorded, &json!({"messages": recorded["messages"]})).as_deref(),
            Some(r#"/model: recorded "m", not sent"#)
        );
        assert_eq!(first_difference(&recorded, &recorded), None);
        assert_eq!(distance(&recorded, &sent, 10), 1);
        assert_eq!(distance(&recorded, &recorded, 10), 0);
    }

    #[test]
    fn a_stream_false_compares_as_no_stream_at_all() {
        let rules = Scrubbing::new();
        let python = json!({"model": "m", "other": {"stream": false, "seed": 1}});
        let sent = json!({"model": "m", "other": {"seed": 1}});
        assert_eq!(
            key(&comparable(python, &rules)),
            key(&comparable(sent.clone(), &rules))
        );
        let top = json!({"model": "m", "stream": false, "other": {"seed": 1}});
        assert_eq!(
            key(&comparable(top, &rules)),
            key(&comparable(sent, &rules))
        );
        let streamed = json!({"model": "m", "other": {"stream": true, "seed": 1}});
        assert_ne!(
            key(&comparable(streamed, &rules)),
            key(&comparable(
                json!({"model": "m", "other": {"seed": 1}}),
                &rules
            ))
        );
    }

    #[test]
    fn secrets_are_scrubbed_as_the_recorder_scrubs_them() {
        let rules = Scrubbing::new();
        let v = scrubbed(
            json!({"api_key": "abc", "text": "use sk-proj-abcdefghijklmnop1234"}),
            &rules,
        );
        assert_eq!(
            v,
            json!({"api_key": REDACTED, "text": format!("use {REDACTED}")})
        );
    }
}
