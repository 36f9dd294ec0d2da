//! Writing to the terminal: colour on or off, the width to fit lines into, and text shortened
//! to a number of characters.

use std::io::IsTerminal;

/// When to colour the output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always, even into a pipe (and despite `NO_COLOR`).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour stdout: `auto` colours a terminal unless `NO_COLOR` is set (to
    /// anything but the empty string).
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stdout().is_terminal()
            }
        }
    }
}

/// The width to fit lines into: `COLUMNS` if it is a number, else the terminal's width when
/// stdout is a terminal, else 100.
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    if std::io::stdout().is_terminal() {
        if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
            if w > 0 {
                return usize::from(w);
            }
        }
    }
    100
}

/// ANSI styles, or nothing when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Styles that colour when `on`.
    pub fn new(on: bool) -> Style {
        Style { on }
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Names of calls.
    pub fn name(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    /// Errors.
    pub fn error(&self, text: &str) -> String {
        self.wrap("31", text)
    }
    /// Provider calls.
    pub fn llm(&self, text: &str) -> String {
        self.wrap("36", text)
    }
    /// Durations and other secondary text.
    pub fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    /// What is new, or better.
    pub fn good(&self, text: &str) -> String {
        self.wrap("32", text)
    }
    /// What changed.
    pub fn changed(&self, text: &str) -> String {
        self.wrap("33", text)
    }
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// JSON text without the whitespace between tokens (`[1, 2]` → `[1,2]`), at most `max`
/// characters (ending in `…` when cut). Reads no further than it needs to.
pub fn compact_json(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(raw.len()) + 4);
    let mut count = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c.is_whitespace() {
            continue;
        } else if c == '"' {
            in_string = true;
        }
        if count == max {
            // One more character to show: cut, replacing the last one with the ellipsis.
            out.pop();
            out.push('…');
            return out;
        }
        if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
        count += 1;
    }
    out
}

/// A duration for people: `0.012 ms`, `12.345 ms`, `1.234 s`.
pub fn duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.3} s", ms / 1000.0)
    } else {
        format!("{ms:.3} ms")
    }
}

/// `value` as indented JSON and a newline (the `--json` output of `stats` and `diff`); a
/// closed pipe is an I/O error, as any other write.
///
/// ```
/// let mut out = Vec::new();
/// aiobs_cli::out::write_json_pretty(&mut out, &serde_json::json!({"a": 1}))?;
/// assert_eq!(String::from_utf8(out).unwrap(), "{\n  \"a\": 1\n}\n");
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn write_json_pretty(
    out: &mut dyn std::io::Write,
    value: &impl serde::Serialize,
) -> Result<(), crate::Error> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => crate::Error::from(std::io::Error::from(kind)),
        None => crate::Error::new(format!("cannot write JSON: {e}")),
    })?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_drops_whitespace_outside_strings_only() {
        assert_eq!(
            compact_json(r#"[1, "a b", {"k": 2}]"#, 100),
            r#"[1,"a b",{"k":2}]"#
        );
        assert_eq!(compact_json(r#"["a\" b", 1]"#, 100), r#"["a\" b",1]"#);
    }

    #[test]
    fn compact_json_cuts_with_an_ellipsis() {
        assert_eq!(compact_json("[1, 2, 3, 4]", 5), "[1,2…");
        assert_eq!(compact_json("[1,2]", 5), "[1,2]");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
