//! Secrets inside free text. One left-to-right pass over the bytes: a table finds the few
//! bytes where a secret can be recognised (`=`, `:`, `-`, `_`, `J` of `eyJ`, `A` of `AKIA`,
//! `b` of `Bearer`), and only there do the detectors look around. Text without such a byte
//! costs one table lookup per byte and is returned borrowed.

use std::borrow::Cow;

use super::{REDACTED, Scrubbing};

const MARK: &[u8] = REDACTED.as_bytes();

/// The bytes where a detector starts looking.
static TRIGGER: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b"=:-_JABb";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

/// A finding: `text[from..to]` is replaced (unless empty or already [`REDACTED`]), and
/// scanning goes on at `resume`.
struct Hit {
    from: usize,
    to: usize,
    resume: usize,
}

impl Hit {
    fn whole(from: usize, to: usize) -> Option<Hit> {
        Some(Hit {
            from,
            to,
            resume: to,
        })
    }
}

/// `text` with its secrets replaced.
pub(super) fn scrub<'a>(rules: &Scrubbing, text: &'a str, cut: bool) -> Cow<'a, str> {
    let b = text.as_bytes();
    let mut scan = Scan {
        rules,
        b,
        cut,
        copied: 0,
    };
    let mut out: Option<String> = None;
    let mut i = 0;
    while let Some(found) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&c| TRIGGER[c as usize]))
    {
        let at = i + found;
        i = at + 1;
        let Some(hit) = scan.detect(at) else {
            continue;
        };
        i = hit.resume.max(i);
        let replaced = b.get(hit.from..hit.to).unwrap_or_default();
        if replaced.is_empty() || replaced == MARK {
            continue;
        }
        // Positions are found next to ASCII bytes, so these slices are at char boundaries;
        // `get` keeps a mistake from panicking (the hit is then dropped).
        let (Some(before), true) = (
            text.get(scan.copied..hit.from),
            text.is_char_boundary(hit.to),
        ) else {
            continue;
        };
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(before);
        out.push_str(REDACTED);
        scan.copied = hit.to;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(text.get(scan.copied..).unwrap_or_default());
            Cow::Owned(out)
        }
    }
}

struct Scan<'a> {
    rules: &'a Scrubbing,
    b: &'a [u8],
    cut: bool,
    /// The end of the last replacement: looking back stops there, as it would at the
    /// `]` of [`REDACTED`] when the output is scrubbed again.
    copied: usize,
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Characters of an HTTP auth token (RFC 7235 token68).
fn is_token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Characters of an unquoted name before `=` or `:`.
fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Where an unquoted value ends.
fn ends_bare_value(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b',' | b'&' | b';' | b'}' | b')' | b']' | b'"' | b'\'')
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// An auth scheme: after a secret name, the value is the scheme and the credentials after it.
fn is_auth_scheme(word: &[u8]) -> bool {
    [
        &b"bearer"[..],
        b"basic",
        b"digest",
        b"token",
        b"bot",
        b"negotiate",
        b"ntlm",
    ]
    .iter()
    .any(|s| word.eq_ignore_ascii_case(s))
}

/// Whether a token after `Bearer`/`Basic` looks generated rather than like a word of prose
/// (`Basic information` is not a credential): a digit, a capital after the first letter, or
/// one of `extra`.
fn looks_generated(token: &[u8], extra: &[u8]) -> bool {
    token.iter().enumerate().any(|(i, &c)| {
        c.is_ascii_digit() || (i > 0 && c.is_ascii_uppercase()) || extra.contains(&c)
    })
}

/// The first position of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while let Some(p) = hay.get(i..)?.iter().position(|&c| c == first) {
        let at = i + p;
        if hay.get(at..)?.starts_with(needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

impl Scan<'_> {
    fn detect(&self, at: usize) -> Option<Hit> {
        match self.b[at] {
            b'=' => self.name_value(at),
            b':' if self.b.get(at + 1..at + 3) == Some(b"//") => self.url(at),
            b':' => self.name_value(at),
            b'-' => self.pem(at).or_else(|| self.prefixed_key(at)),
            b'_' => self.prefixed_key(at),
            b'J' => self.jwt(at),
            b'A' => self.aws_or_google_key(at),
            _ => self.auth_scheme(at),
        }
    }

    fn len(&self) -> usize {
        self.b.len()
    }

    /// The end of the run of `class` bytes starting at `from`.
    fn run(&self, from: usize, class: impl Fn(u8) -> bool) -> usize {
        let b = self.b;
        let mut i = from.min(b.len());
        while i < b.len() && class(b[i]) {
            i += 1;
        }
        i
    }

    /// Whether a word starts at `p`: at the start (or right after a replacement) or after a
    /// byte that is not an ASCII letter or digit.
    fn word_starts(&self, p: usize) -> bool {
        p <= self.copied || !self.b[p - 1].is_ascii_alphanumeric()
    }

    /// Whether a run ending at `end` was cut by the length limit.
    fn cut_at(&self, end: usize) -> bool {
        self.cut && end == self.len()
    }

    /// `Bearer <token>` and `Basic <base64>`.
    fn auth_scheme(&self, at: usize) -> Option<Hit> {
        if !self.word_starts(at) {
            return None;
        }
        let rest = &self.b[at..];
        let (len, extra): (usize, &[u8]) =
            if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"bearer") {
                (6, b"-._~+/=")
            } else if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"basic") {
                (5, b"+/=")
            } else {
                return None;
            };
        let token = self.run(at + len, is_space);
        if token == at + len {
            return None;
        }
        let end = self.run(token, is_token68);
        let t = &self.b[token..end];
        let whole = t.len() >= 8 && looks_generated(t, extra);
        (whole || (self.cut_at(end) && !t.is_empty())).then_some(Hit {
            from: at,
            to: end,
            resume: end,
        })
    }

    /// Keys recognised by a prefix ending in `-` or `_` (at `at`): `sk-…`, `sk_live_…`,
    /// `rk_live_…`, `ghp_…`, `github_pat_…`, `xoxb-…`.
    fn prefixed_key(&self, at: usize) -> Option<Hit> {
        let b = self.b;
        let mut start = at;
        while start > self.copied && at - start < 7 && b[start - 1].is_ascii_alphanumeric() {
            start -= 1;
        }
        if !self.word_starts(start) {
            return None;
        }
        let after = at + 1;
        let rest = &b[after..];
        let alnum = |c: u8| c.is_ascii_alphanumeric();
        let (body, min, class): (usize, usize, &dyn Fn(u8) -> bool) = match (b[at], &b[start..at]) {
            (b'-', b"sk") => (after, 16, &is_b64url),
            (b'-', b"xoxb" | b"xoxp" | b"xoxa" | b"xoxr" | b"xoxs") => {
                (after, 10, &|c: u8| c.is_ascii_alphanumeric() || c == b'-')
            }
            (b'_', b"sk" | b"rk") if rest.starts_with(b"live_") || rest.starts_with(b"test_") => {
                (after + 5, 10, &alnum)
            }
            (b'_', b"ghp" | b"gho" | b"ghu" | b"ghs" | b"ghr") => (after, 20, &alnum),
            (b'_', b"github") if rest.starts_with(b"pat_") => (after + 4, 20, &|c: u8| {
                c.is_ascii_alphanumeric() || c == b'_'
            }),
            _ => return None,
        };
        let end = self.run(body, class);
        (end - body >= min || self.cut_at(end)).then_some(Hit {
            from: start,
            to: end,
            resume: end,
        })
    }

    /// A JWT: `eyJ…` `.` `…` `.` `…` (base64url parts), found at its `J`.
    fn jwt(&self, at: usize) -> Option<Hit> {
        let start = at.checked_sub(2)?;
        if start < self.copied || &self.b[start..at] != b"ey" || !self.word_starts(start) {
            return None;
        }
        let mut end = start;
        // The header (`eyJ` and at least 8 more), the payload (at least 8), the signature.
        for (part, min) in [11, 8, 0].into_iter().enumerate() {
            let from = if part == 0 { start } else { end + 1 };
            end = self.run(from, is_b64url);
            if self.cut_at(end) {
                return Hit::whole(start, end);
            }
            if end - from < min {
                return None;
            }
            if part < 2 && self.b.get(end) != Some(&b'.') {
                return None;
            }
        }
        Hit::whole(start, end)
    }

    /// AWS access key ids (`AKIA`/`ASIA` and 16 capitals or digits) and Google API keys
    /// (`AIza` and 35 base64url characters).
    fn aws_or_google_key(&self, at: usize) -> Option<Hit> {
        if !self.word_starts(at) {
            return None;
        }
        let rest = &self.b[at..];
        let body = at + 4;
        if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") {
            let end = self.run(body, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
            let whole = end - body == 16 && !self.b.get(end).is_some_and(u8::is_ascii_alphanumeric);
            return (whole || self.cut_at(end)).then_some(Hit {
                from: at,
                to: end,
                resume: end,
            });
        }
        if rest.starts_with(b"AIza") {
            let end = self.run(body, is_b64url);
            return (end - body >= 35 || self.cut_at(end)).then_some(Hit {
                from: at,
                to: end,
                resume: end,
            });
        }
        None
    }

    /// A PEM private key, from `-----BEGIN … PRIVATE KEY-----` through its `-----END …-----`
    /// line, or to the end of the text when that is missing.
    fn pem(&self, at: usize) -> Option<Hit> {
        const BEGIN: &[u8] = b"-----BEGIN ";
        let b = self.b;
        if !b[at..].starts_with(BEGIN) {
            return None;
        }
        let label = at + BEGIN.len();
        // The label is short; a header cut before its closing dashes may still be a key's.
        let window = &b[label..b.len().min(label + 64)];
        let Some(dashes) = find(window, 0, b"-----") else {
            return (self.cut && label + 64 > b.len()).then_some(Hit {
                from: at,
                to: b.len(),
                resume: b.len(),
            });
        };
        let name = &window[..dashes];
        if !name.ends_with(b"PRIVATE KEY") {
            return None;
        }
        let mut from = label + dashes + 5;
        while let Some(end) = find(b, from, b"-----END ") {
            let after = &b[end + 9..];
            if after.starts_with(name) && after[name.len()..].starts_with(b"-----") {
                return Hit::whole(at, end + 9 + name.len() + 5);
            }
            from = end + 1;
        }
        Hit::whole(at, b.len())
    }

    /// The password of a URL (`scheme://user:password@host`), found at the `:` of `://`.
    /// Without user information, the host and port are skipped: `secret.example.com:443` is
    /// no `name: value`.
    fn url(&self, at: usize) -> Option<Hit> {
        if !(at > self.copied && self.b[at - 1].is_ascii_alphanumeric()) {
            return None;
        }
        let authority = at + 3;
        // What can't be in an authority ends it; `[` too (only IPv6 hosts, after any `@`),
        // so a marker put later inside it ends it when the output is scrubbed again.
        let end = self.run(authority, |c| {
            !(c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'/' | b'?'
                        | b'#'
                        | b'"'
                        | b'\''
                        | b'<'
                        | b'>'
                        | b'\\'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b'|'
                        | b'^'
                        | b'`'
                ))
        });
        let part = &self.b[authority..end];
        let colon = |upto: usize| part[..upto].iter().position(|&c| c == b':');
        // The password is replaced; so is the user too when it holds a secret of its own
        // (`https://sk-…:x@host`), since scanning goes on after the password.
        let password = |c: usize, to: usize| Hit {
            from: if self.has_secret(authority, authority + c) {
                authority
            } else {
                authority + c + 1
            },
            to,
            resume: (to + 1).min(self.len()),
        };
        if let Some(at_sign) = part.iter().rposition(|&c| c == b'@') {
            return colon(at_sign).map(|c| password(c, authority + at_sign));
        }
        if let Some(c) = colon(part.len()) {
            // `https://bob:hun` cut by the limit may be a password's start.
            if self.cut_at(end) {
                return Some(password(c, end));
            }
        }
        let host = self.run(authority, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
        });
        let port = match self.b.get(host) {
            Some(b':') => self.run(host + 1, |c| c.is_ascii_digit()),
            _ => host,
        };
        Some(Hit {
            from: port,
            to: port,
            resume: port,
        })
    }

    /// Whether a detector finds a secret starting in `from..to`.
    fn has_secret(&self, from: usize, to: usize) -> bool {
        (from..to).any(|p| {
            TRIGGER[self.b[p] as usize] && self.detect(p).is_some_and(|hit| hit.from < hit.to)
        })
    }

    /// The value after a secret name: `name=value`, `name: value`, `name = value`,
    /// `"name": "value"`, found at the `=` or `:`.
    fn name_value(&self, at: usize) -> Option<Hit> {
        let b = self.b;
        let next = b.get(at + 1).copied();
        let prev = (at > self.copied).then(|| b[at - 1]);
        // Comparisons (`==`, `!=`, `=>`) and paths (`std::env`) are no assignments; `:=` is
        // one, handled at its `=`.
        let assignment = if b[at] == b'=' {
            !matches!(next, Some(b'=' | b'>' | b'~'))
                && !matches!(prev, Some(b'=' | b'!' | b'<' | b'>'))
        } else {
            !matches!(next, Some(b':' | b'=')) && prev != Some(b':')
        };
        if !assignment {
            return None;
        }
        let name = self.name_before(at)?;
        if name != MARK && !self.rules.is_secret_name_bytes(name) {
            return None;
        }
        let value = self.run(at + 1, is_space);
        if value >= b.len() {
            return None;
        }
        self.value(value, 0)
    }

    /// The name before the `=` or `:` at `at`: quoted (`"name"`, `'name'`, `\"name\"`, may
    /// hold spaces) or a run of letters, digits, `_`, `-` and `.`.
    fn name_before(&self, at: usize) -> Option<&[u8]> {
        let b = self.b;
        let lo = self.copied;
        let mut end = at;
        if b[at] == b'=' && end > lo && b[end - 1] == b':' {
            end -= 1;
        }
        // `name = value`, `"name" : value`: a few spaces are allowed before the separator.
        let mut spaces = 0;
        while end > lo && is_space(b[end - 1]) && spaces < 16 {
            end -= 1;
            spaces += 1;
        }
        if end > lo && matches!(b[end - 1], b'"' | b'\'') {
            let quote = b[end - 1];
            end -= 1;
            if end > lo && b[end - 1] == b'\\' {
                end -= 1;
            }
            // A value just redacted, used as a name (`key= "api_key": "x"`), is secret, and
            // so is the marker when the output is scrubbed again.
            if (end == lo && lo > 0) || b[lo..end].ends_with(MARK) {
                return Some(MARK);
            }
            // The name never reaches into a replacement (`lo`, or the `]` ending the marker
            // in scrubbed output), so a second scrub finds the same names.
            let floor = end.saturating_sub(128).max(lo);
            let mut start = end;
            while start > floor && !matches!(b[start - 1], b'\n' | b']') && b[start - 1] != quote {
                start -= 1;
            }
            return (start > floor && b[start - 1] == quote).then(|| &b[start..end]);
        }
        let mut start = end;
        while start > lo && is_name_char(b[start - 1]) {
            start -= 1;
        }
        (start < end).then(|| &b[start..end])
    }

    /// The value starting at `at` (after a secret name), as the part to replace.
    fn value(&self, at: usize, depth: u8) -> Option<Hit> {
        let b = self.b;
        if b[at..].starts_with(MARK) {
            return Hit::whole(at, at + MARK.len());
        }
        match b[at] {
            // A quoted value: its content; an unclosed quote runs to the end.
            q @ (b'"' | b'\'') => {
                let close = self.closing_quote(at + 1, q);
                Some(Hit {
                    from: at + 1,
                    to: close,
                    resume: (close + 1).min(b.len()),
                })
            }
            // `\"value\"`: quoted inside text that is itself an escaped string.
            b'\\' if b.get(at + 1) == Some(&b'"') => {
                let close = find(b, at + 2, b"\\\"").unwrap_or(b.len());
                Some(Hit {
                    from: at + 2,
                    to: close,
                    resume: (close + 2).min(b.len()),
                })
            }
            b'{' | b'[' | b'(' => Hit::whole(at, self.group_end(at)),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let ident = self.run(at, |c| c.is_ascii_alphanumeric() || c == b'_');
                let after = self.run(ident, is_space);
                match b.get(after) {
                    // `Some("x")`, `Secret(x)`: the wrapped value.
                    Some(b'(') if after == ident && depth < 4 => {
                        let inner = self.run(ident + 1, is_space);
                        if inner >= b.len() {
                            return None;
                        }
                        self.value(inner, depth + 1)
                    }
                    // `Credentials { .. }`: the whole struct.
                    Some(b'{') => Hit::whole(at, self.group_end(after)),
                    _ => self.bare(at),
                }
            }
            _ => self.bare(at),
        }
    }

    /// An unquoted value: up to a space or `,` `&` `;` `}` `)` `]` or a quote (a
    /// value in a quoted command, `'api_key=x'`, ends with it). After an auth scheme
    /// (`Authorization: Bearer x`) the credentials after it are part of the value.
    fn bare(&self, at: usize) -> Option<Hit> {
        let not_end = |c| !ends_bare_value(c);
        let end = self.run(at, not_end);
        if end == at {
            return None;
        }
        // `Bearer x`, and `Basic Bearer x` too: a scheme word is never the whole secret.
        let (mut word, mut end) = (at, end);
        for _ in 0..4 {
            if !is_auth_scheme(&self.b[word..end]) {
                break;
            }
            let credentials = self.run(end, is_space);
            let credentials_end = self.run(credentials, not_end);
            if credentials == end || credentials_end == credentials {
                break;
            }
            (word, end) = (credentials, credentials_end);
        }
        Hit::whole(at, end)
    }

    /// The position of the quote closing a value whose content starts at `from` (`\` escapes
    /// the next byte); the end of the text when it is not closed.
    fn closing_quote(&self, from: usize, quote: u8) -> usize {
        let b = self.b;
        let mut i = from;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                c if c == quote => return i,
                _ => i += 1,
            }
        }
        b.len()
    }

    /// The end of the bracketed group opening at `at` (any of `{[(`, counted together;
    /// brackets in double-quoted strings don't count); the end of the text if unbalanced.
    fn group_end(&self, at: usize) -> usize {
        let b = self.b;
        let mut depth = 0usize;
        let mut i = at;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i = self.closing_quote(i + 1, b'"') + 1;
                    continue;
                }
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        b.len()
    }
}
