//! The per-event cap: an event whose captured values (arguments, result, error) hold more
//! bytes than its limit has its largest values replaced, largest first, by `"[cut: N bytes]"`.
//! Each value was already bounded while it was serialised (the budget), so this only ever
//! rewrites a bounded payload.

use super::encode::put_str;
use super::tag;
use super::walk::value_end;

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

/// The values inside a container at `start` (a map's values, not its keys); `None` for a
/// scalar or corrupt bytes.
fn children(payload: &[u8], start: usize) -> Option<Vec<(usize, usize)>> {
    let is_map = match *payload.get(start)? {
        tag::SEQ => false,
        tag::MAP => true,
        _ => return None,
    };
    let mut values = Vec::new();
    let mut pos = start + 1;
    while *payload.get(pos)? != tag::END {
        if is_map {
            pos = value_end(payload, pos)?; // the key stays
        }
        let end = value_end(payload, pos)?;
        values.push((pos, end));
        pos = end;
    }
    Some(values)
}

/// Chooses values to replace by markers until `excess` bytes are saved, largest first. A
/// container much larger than what is still to save is not cut whole: its own largest values
/// are (when `descend`), so that as much as possible of it stays. Returns what is still to
/// save.
fn plan(
    payload: &[u8],
    mut values: Vec<(usize, usize)>,
    mut excess: usize,
    descend: bool,
    cuts: &mut Vec<(usize, usize)>,
) -> usize {
    values.sort_by_key(|&(from, to)| std::cmp::Reverse(to - from));
    for (from, to) in values {
        if excess == 0 {
            break;
        }
        let size = to - from;
        let saved = size.saturating_sub(marker(size).len());
        if saved == 0 {
            continue;
        }
        // Descend when cutting this whole value would throw away much more than the excess.
        // If its own values can't save enough (keys and markers stay), it is cut whole.
        if descend && saved > excess.saturating_add(excess / 4) {
            if let Some(inner) = children(payload, from).filter(|c| !c.is_empty()) {
                let before = cuts.len();
                if plan(payload, inner, excess, true, cuts) == 0 {
                    return 0;
                }
                cuts.truncate(before);
            }
        }
        cuts.push((from, to));
        excess -= saved.min(excess);
    }
    excess
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
    let mut cuts = Vec::new();
    let left = plan(payload, values, payload.len() - max, true, &mut cuts);
    if left > 0 {
        // Descending saved too little (keys and markers stay): cut what remains whole.
        let mut whole = Vec::new();
        let rest: Vec<_> = top_values(payload, args)
            .unwrap_or_default()
            .into_iter()
            .filter(|(f, t)| !cuts.iter().any(|(cf, ct)| cf >= f && ct <= t))
            .collect();
        plan(payload, rest, left, false, &mut whole);
        cuts.extend(whole);
    }
    // A cut inside a value that is cut whole too is dropped: the outer one wins.
    cuts.sort_unstable();
    let mut kept: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
    for (from, to) in cuts {
        match kept.last() {
            Some(&(_, last_to)) if from < last_to => {}
            _ => kept.push((from, to)),
        }
    }
    let mut out = Vec::with_capacity(max);
    let mut copied = 0;
    for (from, to) in kept {
        out.extend_from_slice(&payload[copied..from]);
        out.extend_from_slice(&marker(to - from));
        copied = to;
    }
    out.extend_from_slice(&payload[copied..]);
    buf.truncate(start);
    buf.extend_from_slice(&out);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::render::to_json;

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
    fn a_large_container_keeps_most_of_itself_its_largest_items_cut() {
        let mut payload = vec![tag::SEQ, tag::SEQ];
        for i in 0..10 {
            put_str(
                &mut payload,
                &format!("{i}").repeat(100 + i * 10),
                usize::MAX,
            );
        }
        payload.extend_from_slice(&[tag::END, tag::END]);
        put_str(&mut payload, "ok", usize::MAX);
        let before = payload.len();
        assert!(fit_event(&mut payload, 0, true, before - 50));
        let parts = render_all(&payload);
        let list: Vec<String> = serde_json::from_str::<Vec<Vec<String>>>(&parts[0])
            .unwrap()
            .remove(0);
        assert_eq!(list.len(), 10, "every item is still there");
        assert_eq!(list[9], "[cut: 195 bytes]", "the largest one is cut");
        assert_eq!(list[8].len(), 180);
        assert!(payload.len() <= before - 50);
    }

    #[test]
    fn the_result_is_cut_when_it_is_the_largest() {
        let mut buf = payload(&["a"], &"r".repeat(500));
        assert!(fit_event(&mut buf, 0, true, 100));
        assert_eq!(render_all(&buf)[1], r#""[cut: 505 bytes]""#);
    }
}
