//! `trace_tree`, built by index and without recursion, with the rules of the Python SDK:
//! an event is a child of the event whose span id is its parent span id; an event whose parent
//! is absent (or that has none) is a root; roots and every list of children are ordered by
//! `started_at` (ties keep input order). Events without a span id can be children but never
//! parents. Unlike the Python SDK, a chain a million calls deep is fine.

use std::collections::HashMap;

/// One event as the tree sees it.
#[derive(Clone, Copy, Debug)]
pub struct TreeInput {
    /// Span id; 0 for none.
    pub span: u64,
    /// Parent span id; 0 for none.
    pub parent: u64,
    /// `started_at`, the sort key.
    pub started_at: f64,
}

/// A forest over events `0..n`, as index lists.
#[derive(Debug, Default)]
pub struct Tree {
    /// Root indices in order.
    pub roots: Vec<u32>,
    /// `children[child_start[i]..child_start[i + 1]]` are the children of `i`, in order.
    child_start: Vec<u32>,
    children: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Tree {
    /// Builds the tree of `events`.
    ///
    /// ```
    /// use aiobs::tree::{Tree, TreeInput};
    /// let e = |span, parent, started_at| TreeInput { span, parent, started_at };
    /// let tree = Tree::build(&[e(1, 0, 1.0), e(2, 1, 3.0), e(3, 1, 2.0), e(4, 99, 0.5)]);
    /// assert_eq!(tree.roots, [3, 0]); // the orphan (parent 99 absent) started first
    /// assert_eq!(tree.children_of(0), [2, 1]);
    /// ```
    pub fn build(events: &[TreeInput]) -> Tree {
        let n = events.len();
        assert!(n < NONE as usize, "at most 2^32 - 1 events in one tree");
        // Span id → index; the first event with a span id owns it.
        let mut by_span: HashMap<u64, u32, BuildIdHasher> =
            HashMap::with_capacity_and_hasher(n, BuildIdHasher);
        for (i, e) in events.iter().enumerate() {
            if e.span != 0 {
                by_span.entry(e.span).or_insert(i as u32);
            }
        }
        let mut parent: Vec<u32> = events
            .iter()
            .enumerate()
            .map(|(i, e)| match by_span.get(&e.parent) {
                Some(&p) if e.parent != 0 && p as usize != i => p,
                _ => NONE,
            })
            .collect();
        drop(by_span);

        // Events on a parent cycle are reachable from no root: cut each cycle at one event.
        break_cycles(&mut parent);

        // Order every event once by (started_at, index); bucketing in that order leaves each
        // list of children, and the roots, sorted.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            events[a as usize]
                .started_at
                .total_cmp(&events[b as usize].started_at)
                .then(a.cmp(&b))
        });
        let mut child_start = vec![0u32; n + 1];
        for &p in &parent {
            if p != NONE {
                child_start[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[n] as usize];
        let mut roots = Vec::new();
        for &i in &order {
            match parent[i as usize] {
                NONE => roots.push(i),
                p => {
                    children[fill[p as usize] as usize] = i;
                    fill[p as usize] += 1;
                }
            }
        }
        Tree {
            roots,
            child_start,
            children,
        }
    }

    /// The children of event `i`, in order.
    pub fn children_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.children[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// Every event in pre-order (a parent before its children, siblings in order).
    pub fn preorder(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.children.len() + self.roots.len());
        let mut stack: Vec<u32> = self.roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.children_of(i).iter().rev());
        }
        out
    }
}

/// Makes every event reachable from a root: an event whose ancestors loop becomes a root.
fn break_cycles(parent: &mut [u32]) {
    // 0 = not seen, 1 = on the current walk, 2 = known to reach a root.
    let mut state = vec![0u8; parent.len()];
    let mut walk = Vec::new();
    for start in 0..parent.len() {
        let mut i = start;
        while state[i] == 0 {
            state[i] = 1;
            walk.push(i);
            match parent[i] {
                NONE => break,
                p => i = p as usize,
            }
        }
        if state[i] == 1 && parent[i] != NONE {
            parent[i] = NONE; // `i` closes a loop: cut it there
        }
        for j in walk.drain(..) {
            state[j] = 2;
        }
    }
}

/// Span ids are random already: hash them by taking them as they are.
#[derive(Clone, Copy, Default)]
struct BuildIdHasher;

struct IdHasher(u64);

impl std::hash::BuildHasher for BuildIdHasher {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread the bits anyway, for inputs (such as files from elsewhere) with patterned ids.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(span: u64, parent: u64, started_at: f64) -> TreeInput {
        TreeInput {
            span,
            parent,
            started_at,
        }
    }

    #[test]
    fn orphans_and_spanless_events_are_roots_unless_their_parent_is_there() {
        let t = Tree::build(&[e(0, 0, 5.0), e(0, 7, 1.0), e(7, 0, 2.0), e(8, 42, 3.0)]);
        assert_eq!(t.roots, [2, 3, 0]);
        assert_eq!(t.children_of(2), [1]);
    }

    #[test]
    fn equal_start_times_keep_input_order() {
        let t = Tree::build(&[e(1, 0, 1.0), e(2, 1, 2.0), e(3, 1, 2.0), e(4, 1, 2.0)]);
        assert_eq!(t.children_of(0), [1, 2, 3]);
    }

    #[test]
    fn a_child_listed_before_its_parent_still_nests() {
        let t = Tree::build(&[e(2, 1, 2.0), e(1, 0, 1.0)]);
        assert_eq!(t.roots, [1]);
        assert_eq!(t.children_of(1), [0]);
    }

    #[test]
    fn a_self_parent_is_a_root() {
        let t = Tree::build(&[e(1, 1, 1.0)]);
        assert_eq!(t.roots, [0]);
    }

    #[test]
    fn a_parent_cycle_is_cut_so_every_event_appears_once() {
        let t = Tree::build(&[e(1, 2, 1.0), e(2, 1, 2.0), e(3, 2, 3.0)]);
        let mut all = t.preorder();
        all.sort();
        assert_eq!(all, [0, 1, 2]);
        assert_eq!(t.roots.len(), 1);
    }

    #[test]
    fn duplicate_span_ids_attach_children_to_the_first() {
        let t = Tree::build(&[e(1, 0, 1.0), e(1, 0, 2.0), e(2, 1, 3.0)]);
        assert_eq!(t.roots, [0, 1]);
        assert_eq!(t.children_of(0), [2]);
    }

    #[test]
    fn a_million_deep_chain_builds_and_walks_without_recursion() {
        let n = 1_000_000u64;
        let events: Vec<_> = (1..=n).map(|i| e(i, i - 1, i as f64)).collect();
        let t = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let t = Tree::build(&events);
                (t.roots.clone(), t.preorder().len())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(t.0, [0]);
        assert_eq!(t.1, n as usize);
    }
}
