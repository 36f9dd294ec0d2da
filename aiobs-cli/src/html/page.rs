//! The page: `template.html` with the style, the script and the data put in its places (the
//! caller writes it atomically, with [`crate::atomic::write_atomically`]).

use std::io::{self, Write};

/// The page around the parts.
pub const TEMPLATE: &str = include_str!("template.html");
/// The page's style.
pub const STYLE: &str = include_str!("style.css");
/// The page's script (vanilla JS, no build step).
pub const SCRIPT: &str = include_str!("app.js");

/// Writes `<` as `\u003c`: JSON with it cannot end the `<script>` element it sits in (nor open
/// an HTML comment there). `<` only occurs inside JSON strings, where the escape means the same.
struct ScriptSafe<W: Write>(W);

impl<W: Write> Write for ScriptSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'<') {
            self.0.write_all(&rest[..at])?;
            self.0.write_all(b"\\u003c")?;
            rest = &rest[at + 1..];
        }
        self.0.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `text` for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Writes the page: the template's `{{TITLE}}`, `{{STYLE}}`, `{{SCRIPT}}` and `{{DATA}}`
/// replaced (each once, in one pass: nothing put in is read for markers again), the data
/// serialized by `data` into a script-safe writer.
pub fn write_page(
    w: &mut dyn Write,
    title: &str,
    data: &dyn Fn(&mut dyn Write) -> serde_json::Result<()>,
) -> io::Result<()> {
    let mut rest = TEMPLATE;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}").map(|c| open + c) else {
            break;
        };
        w.write_all(&rest.as_bytes()[..open])?;
        match &rest[open + 2..close] {
            "TITLE" => w.write_all(escape_html(title).as_bytes())?,
            "STYLE" => w.write_all(STYLE.as_bytes())?,
            "SCRIPT" => w.write_all(SCRIPT.as_bytes())?,
            "DATA" => {
                let mut safe = ScriptSafe(&mut *w);
                data(&mut safe).map_err(io::Error::other)?;
            }
            other => {
                w.write_all(b"{{")?;
                w.write_all(other.as_bytes())?;
                w.write_all(b"}}")?;
            }
        }
        rest = &rest[close + 2..];
    }
    w.write_all(rest.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let mut out = Vec::new();
        let value = serde_json::json!({"a": "</script><!-- <b>"});
        write_page(&mut out, "t", &|w| serde_json::to_writer(w, &value)).expect("page");
        let page = String::from_utf8(out).expect("utf-8");
        let start = page.find("id=\"data\">").expect("data element") + 10;
        let end = start + page[start..].find("</script>").expect("end of data");
        let json = &page[start..end];
        assert!(!json.contains('<'), "{json}");
        let back: serde_json::Value = serde_json::from_str(json).expect("json");
        assert_eq!(back, value);
    }

    #[test]
    fn the_title_is_escaped_and_markers_in_it_stay_text() {
        let mut out = Vec::new();
        write_page(&mut out, "<b>{{DATA}}</b>", &|w| {
            w.write_all(b"1").map_err(serde_json::Error::io)
        })
        .expect("page");
        let page = String::from_utf8(out).expect("utf-8");
        assert!(
            page.contains("<title>&lt;b&gt;{{DATA}}&lt;/b&gt; · aiobs</title>"),
            "{page}"
        );
    }
}
