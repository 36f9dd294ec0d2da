//! Python literals back into JSON: the error bodies the Python SDKs quote in their exceptions
//! (`{'error': {'message': 'bad model', 'param': None}}`), as `repr` printed a parsed dict.

/// How deep literals may nest before the text is refused (bad input must not overflow the
/// stack).
const MAX_DEPTH: usize = 128;

/// The JSON text of a Python literal (dicts, lists, tuples, strings in either quote style
/// with their escapes, ints, floats, `True`, `False`, `None`), keys in their order in the
/// text; `None` if `text` is not one whole literal of those (or holds a float JSON can't
/// write, `inf` or `nan`).
pub(super) fn to_json(text: &str) -> Option<String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        out: String::with_capacity(text.len()),
    };
    p.value(0)?;
    p.skip_space();
    (p.pos == p.s.len()).then_some(p.out)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    out: String,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.dict(depth),
            b'[' => self.seq(b']', depth),
            b'(' => self.seq(b')', depth),
            b'\'' | b'"' => {
                let s = self.string()?;
                self.push_str(&s);
                Some(())
            }
            b'T' if self.eat("True") => {
                self.out.push_str("true");
                Some(())
            }
            b'F' if self.eat("False") => {
                self.out.push_str("false");
                Some(())
            }
            b'N' if self.eat("None") => {
                self.out.push_str("null");
                Some(())
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn push_str(&mut self, s: &str) {
        // Serialising a `str` can't fail.
        if let Ok(quoted) = serde_json::to_string(s) {
            self.out.push_str(&quoted);
        }
    }

    /// A list (`]`) or tuple (`)`): a JSON array. A trailing comma is allowed.
    fn seq(&mut self, close: u8, depth: usize) -> Option<()> {
        self.pos += 1;
        self.out.push('[');
        let mut first = true;
        loop {
            if self.peek()? == close {
                self.pos += 1;
                break;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            self.value(depth + 1)?;
            match self.peek()? {
                b',' => self.pos += 1,
                c if c == close => {}
                _ => return None,
            }
        }
        self.out.push(']');
        Some(())
    }

    /// A dict: a JSON object. A key that is not a string becomes its JSON text (`1` → `"1"`).
    fn dict(&mut self, depth: usize) -> Option<()> {
        self.pos += 1;
        self.out.push('{');
        let mut first = true;
        loop {
            if self.peek()? == b'}' {
                self.pos += 1;
                break;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            if matches!(self.peek()?, b'\'' | b'"') {
                let key = self.string()?;
                self.push_str(&key);
            } else {
                let start = self.out.len();
                self.value(depth + 1)?;
                let key = self.out.split_off(start);
                if key.starts_with(['{', '[']) {
                    return None; // unhashable in Python: not a literal dict
                }
                self.push_str(&key);
            }
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.out.push(':');
            self.value(depth + 1)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {}
                _ => return None,
            }
        }
        self.out.push('}');
        Some(())
    }

    /// An int or a float, written as Python printed it when JSON reads it the same.
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.pos += 1;
        }
        let text = self.text.get(start..self.pos)?;
        serde_json::from_str::<serde_json::Number>(text).ok()?;
        self.out.push_str(text);
        Some(())
    }

    /// A string literal in either quote style, its escapes read as Python reads them.
    fn string(&mut self) -> Option<String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..)?;
            let c = rest.chars().next()?;
            self.pos += c.len_utf8();
            match c {
                '\\' => self.escape(&mut out)?,
                c if c as u32 == u32::from(quote) => return Some(out),
                '\n' => return None, // a plain literal can't span lines
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = *self.s.get(self.pos)?;
        self.pos += 1;
        match c {
            b'\\' | b'\'' | b'"' => out.push(char::from(c)),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0c'),
            b'v' => out.push('\x0b'),
            b'\n' => {} // a line continuation
            b'x' => out.push(self.hex(2)?),
            b'u' => out.push(self.hex(4)?),
            b'U' => out.push(self.hex(8)?),
            b'0'..=b'7' => {
                let mut n = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.s.get(self.pos) {
                        Some(d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(n)?);
            }
            // Python keeps an unknown escape as written; the character after the backslash
            // is read again as an ordinary one.
            _ => {
                out.push('\\');
                self.pos -= 1;
            }
        }
        Some(())
    }

    fn hex(&mut self, digits: usize) -> Option<char> {
        let text = self.text.get(self.pos..self.pos + digits)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += digits;
        char::from_u32(u32::from_str_radix(text, 16).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::python_repr;

    #[test]
    fn literals_become_json() {
        let cases = [
            ("None", "null"),
            ("True", "true"),
            ("[1, -2.5, 1e-05, (3,), ()]", "[1,-2.5,1e-05,[3],[]]"),
            (
                r#"{'a': 'it\'s', "b": "say \"hi\"", 'c': 'x\ny\t\\z\x00\u00e9', 1: None}"#,
                r#"{"a":"it's","b":"say \"hi\"","c":"x\ny\t\\z\u0000é","1":null}"#,
            ),
            ("{'z': 1, 'a': 2}", r#"{"z":1,"a":2}"#),
            ("'caf\\xe9 \\U0001F600'", "\"café 😀\""),
        ];
        for (python, json) in cases {
            assert_eq!(to_json(python).as_deref(), Some(json), "{python}");
        }
    }

    #[test]
    fn what_is_not_a_literal_is_refused() {
        for bad in [
            "",
            "{'a': 1",
            "{'a' 1}",
            "'open",
            "inf",
            "nan",
            "[1, 2] extra",
            "b'bytes'",
            "{[1]: 2}",
            "1.2.3",
            "'\\x4'",
            "Nonesuch",
        ] {
            assert_eq!(to_json(bad), None, "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(to_json(&deep), None);
        // No cut of a literal panics (multi-byte characters, escapes cut half-way).
        let full =
            r#"{'é': "x\\\é\u00e9\x41\101", 'n': [1.5e-05, -2, (True, None)], 'q': 'it\'s 😀'}"#;
        assert!(to_json(full).is_some(), "{full}");
        for (i, _) in full.char_indices() {
            let _ = to_json(&full[..i]);
            let _ = to_json(&full[i..]);
        }
    }

    #[test]
    fn python_repr_round_trips() {
        let bodies = [
            r#"{"error": {"message": "bad model", "type": "invalid_request_error", "param": null, "code": null}}"#,
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
            r#"{"q": "it's", "d": "say \"hi\" it's", "l": [1, 2.5, true, false, {}], "c": "\u0001\n\t\\ é 😀"}"#,
            r#"{"zeta": 1, "alpha": [], "n": -0.5, "big": 123456789012345678}"#,
            r#"[1, "two", null]"#,
        ];
        for body in bodies {
            let repr = python_repr(body.as_bytes()).expect("JSON");
            let json = to_json(&repr).unwrap_or_else(|| panic!("{repr}"));
            let a: serde_json::Value = serde_json::from_str(body).expect("JSON");
            let b: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            assert_eq!(a, b, "{repr}");
            // The key order survives: the repr of the rebuilt text is the same text.
            assert_eq!(python_repr(json.as_bytes()).as_deref(), Some(repr.as_str()));
        }
    }
}
