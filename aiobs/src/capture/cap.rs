//! The per-event cap: an event whose captured values (arguments, result, error) hold more
//! bytes than its limit has its largest values replaced, largest first, by `"[cut: N bytes]"`.
//! Each value was already bounded while it was serialised (the budget), so this only ever
//! rewrites a bounded payload.

use super::encode::put_str;
use super::render::value_end;
use super::tag;

/// The top-level values of a payload: the items of its leading argument list (when `args`),
/// then every value after it. `None` if the bytes are corrupt.
fn top_values(payload: &[u8], args: bool) -> Option<Vec<(usize, usize)>> {
    let mut values = Vec::new();
    let mut pos = 0;
    if args {
        if payload.first() != Some(&tag::SEQ) {
            return None;
        }
        pos = 1;
        while *payload.get(pos)? != tag::END {
            let end = value_end(payload, pos)?;
            values.push((pos, end));
            pos = end;
        }
        pos += 1;
    }
    while pos < payload.len() {
        let end = value_end(payload, pos)?;
        values.push((pos, end));
        pos = end;
    }
    Some(values)
}

fn marker(bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    put_str(&mut out, &format!("[cut: {bytes} bytes]"), usize::MAX);
    out
}

/// Cuts the payload in `buf[start..]` to at most `max` bytes, largest values first. Returns
/// whether anything was cut.
#[inline]
pub(crate) fn fit_event(buf: &mut Vec<u8>, start: usize, args: bool, max: usize) -> bool {
    if buf.len() - start <= max {
        return false;
    }
    cut_largest(buf, start, args, max)
}

#[cold]
#[inline(never)]
fn cut_largest(buf: &mut Vec<u8>, start: usize, args: bool, max: usize) -> bool {
    let payload = &buf[start..];
    let Some(values) = top_values(payload, args) else {
        return false;
    };
    let mut by_size: Vec<usize> = (0..values.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(values[i].1 - values[i].0));
    let mut replaced: Vec<Option<Vec<u8>>> = vec![None; values.len()];
    let mut total = payload.len();
    for i in by_size {
        if total <= max {
            break;
        }
        let size = values[i].1 - values[i].0;
        let m = marker(size);
        if m.len() >= size {
            continue;
        }
        total = total - size + m.len();
        replaced[i] = Some(m);
    }
    let mut out = Vec::with_capacity(total);
    let mut copied = 0;
    for (&(from, to), m) in values.iter().zip(&replaced) {
        if let Some(m) = m {
            out.extend_from_slice(&payload[copied..from]);
            out.extend_from_slice(m);
            copied = to;
        }
    }
    out.extend_from_slice(&payload[copied..]);
    buf.truncate(start);
    buf.extend_from_slice(&out);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::render::to_json;

    fn payload(args: &[&str], result: &str) -> Vec<u8> {
        let mut out = vec![tag::SEQ];
        for a in args {
            put_str(&mut out, a, usize::MAX);
        }
        out.push(tag::END);
        put_str(&mut out, result, usize::MAX);
        out
    }

    fn render_all(bytes: &[u8]) -> Vec<String> {
        let end = value_end(bytes, 0).unwrap();
        vec![to_json(&bytes[..end]), to_json(&bytes[end..])]
    }

    #[test]
    fn an_event_under_the_cap_is_untouched() {
        let mut buf = payload(&["a", "b"], "c");
        let before = buf.clone();
        assert!(!fit_event(&mut buf, 0, true, 1000));
        assert_eq!(buf, before);
    }

    #[test]
    fn the_largest_values_are_cut_first_with_their_size() {
        let big = "x".repeat(3000);
        let mid = "y".repeat(1000);
        let mut buf = vec![7, 7]; // bytes before the payload stay
        buf.extend(payload(&["small", &big, &mid], "ok"));
        assert!(fit_event(&mut buf, 2, true, 1100));
        assert_eq!(&buf[..2], &[7, 7]);
        let parts = render_all(&buf[2..]);
        assert_eq!(
            parts[0],
            format!(r#"["small","[cut: 3005 bytes]","{mid}"]"#),
            "cutting the largest was enough"
        );
        assert_eq!(parts[1], r#""ok""#);
        assert!(buf.len() - 2 <= 1100);
    }

    #[test]
    fn the_result_is_cut_when_it_is_the_largest() {
        let mut buf = payload(&["a"], &"r".repeat(500));
        assert!(fit_event(&mut buf, 0, true, 100));
        assert_eq!(render_all(&buf)[1], r#""[cut: 505 bytes]""#);
    }
}
