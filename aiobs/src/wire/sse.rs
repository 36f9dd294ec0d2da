//! An incremental parser of server-sent events (the `text/event-stream` format of the WHATWG
//! HTML standard), fed the bytes of a response as they arrive, in pieces of any size.

/// One dispatched event: its `event:` name (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` for the default `message` type.
    pub event: Option<String>,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

impl SseEvent {
    /// The event's type: its `event:` name, else the `"type":"…"` that leads a JSON data
    /// (Anthropic's and OpenAI's Responses events carry both), read without parsing the rest.
    pub(crate) fn kind(&self) -> &str {
        if let Some(name) = self.event.as_deref() {
            return name;
        }
        self.data
            .split_once("\"type\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("", |(t, _)| t)
    }
}

/// Parses a byte stream into events; bytes that are not UTF-8 are replaced, as browsers do.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// The bytes of an incomplete line.
    line: Vec<u8>,
    /// The previous byte was a CR (a following LF belongs to the same line end).
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Feeds bytes; every event they complete is pushed to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    self.end_line(out);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(b);
                }
            }
        }
    }

    /// The stream ended: an event without its closing blank line is not dispatched (as the
    /// standard says), but a last line without its line end still counts.
    pub(crate) fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            self.end_line(out);
        }
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        if self.line.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.starts_with(':') {
            return; // a comment
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {} // id, retry and unknown fields don't matter here
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the last newline
        out.push(SseEvent { event, data });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(text: &str, piece: usize) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for chunk in text.as_bytes().chunks(piece) {
            p.feed(chunk, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn events_split_anywhere_parse_the_same() {
        let text = "data: {\"a\":1}\n\n: keep-alive\n\nevent: message_stop\r\ndata: x\r\ndata:y\r\n\r\ndata: [DONE]\n\n";
        let want = vec![
            ev(None, "{\"a\":1}"),
            ev(Some("message_stop"), "x\ny"),
            ev(None, "[DONE]"),
        ];
        for piece in 1..text.len() {
            assert_eq!(parse_in_pieces(text, piece), want, "pieces of {piece}");
        }
    }

    #[test]
    fn cr_alone_ends_a_line() {
        assert_eq!(
            parse_in_pieces("data: a\r\rdata: b\r\r", 3),
            vec![ev(None, "a"), ev(None, "b")]
        );
    }

    #[test]
    fn an_unterminated_event_is_not_dispatched() {
        assert_eq!(
            parse_in_pieces("data: a\n\ndata: half", 4),
            vec![ev(None, "a")]
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        assert_eq!(
            parse_in_pieces("event: ping\n\ndata: a\n\n", 5),
            vec![ev(None, "a")]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        p.feed(b"data: \xff\n\n", &mut out);
        assert_eq!(out, vec![ev(None, "\u{fffd}")]);
    }
}
