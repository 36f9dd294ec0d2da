//! The tail-sampling phase of a flush: which trees of the flush's items are written, dropped
//! or carried to a later flush (their root has not ended), by the collector's [`Sampling`].

use std::collections::HashMap;

use crate::clock;
use crate::document::Item;
use crate::model::Session;
use crate::sampling::{Decisions, MAX_CARRIED_FLUSHES, Sampling};
use crate::store::flag;

/// What the tail rules decided at a flush.
pub(crate) struct Tail {
    /// The items to write.
    pub(crate) kept: Vec<Item>,
    /// Items whose root has not ended yet: kept for a later flush, with their age.
    pub(crate) carry: Vec<(Item, u32)>,
    /// The session index of each tree dropped.
    pub(crate) dropped: Vec<u32>,
    /// The decision for every span of a tree decided now, for descendants that come later.
    pub(crate) decided: HashMap<u64, bool>,
}

/// Where the chain of parents of an item ends.
#[derive(Clone, Copy)]
enum Root {
    /// At an item of this flush with no parent: the tree's root.
    Item(u32),
    /// At a span of a tree decided by an earlier flush.
    Decided(bool),
    /// At this parent span, not seen yet: the tree's root has not ended.
    Open(u64),
}

/// Applies the tail rules to the items of a flush. `ages[i]` is how many flushes item `i` has
/// waited already; `previous` holds the decisions of earlier flushes.
pub(crate) fn apply(
    sampling: &Sampling,
    items: Vec<Item>,
    ages: &[u32],
    previous: &Decisions,
) -> Tail {
    let headers: Vec<_> = items.iter().map(|it| it.record.header()).collect();
    let index: HashMap<u64, u32> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.span, i as u32))
        .collect();
    let mut roots: Vec<Option<Root>> = vec![None; items.len()];
    let mut path = Vec::new();
    for start in 0..items.len() {
        path.clear();
        let mut at = start;
        let root = loop {
            if let Some(known) = roots[at] {
                break known;
            }
            path.push(at);
            let parent = headers[at].parent;
            if parent == 0 {
                break Root::Item(at as u32);
            }
            match index.get(&parent) {
                // A chain longer than the items is a cycle (ids collide): end it here.
                Some(&p) if path.len() <= items.len() => at = p as usize,
                Some(_) => break Root::Item(at as u32),
                None => match previous.get(parent) {
                    Some(keep) => break Root::Decided(keep),
                    None => break Root::Open(parent),
                },
            }
        };
        for &i in &path {
            roots[i] = Some(root);
        }
    }
    let roots: Vec<Root> = roots
        .into_iter()
        .map(|r| r.unwrap_or(Root::Open(0)))
        .collect();
    let mut has_error = vec![false; items.len()];
    // A tree part of which was written already (held back too long) is kept whole.
    let mut written_before = vec![false; items.len()];
    for (i, root) in roots.iter().enumerate() {
        if let Root::Item(r) = root {
            has_error[*r as usize] |= headers[i].flags & flag::ERROR != 0;
            written_before[*r as usize] |= previous.get(headers[i].span) == Some(true);
        }
    }
    let mut keep_root = vec![true; items.len()];
    let mut dropped = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        if matches!(root, Root::Item(r) if *r as usize == i) {
            let h = &headers[i];
            let ms = clock::duration_ms(h.start, h.end);
            keep_root[i] = written_before[i] || sampling.tail_keeps(h.span, has_error[i], ms);
            if !keep_root[i] {
                dropped.push(items[i].session);
            }
        }
    }
    let mut tail = Tail {
        kept: Vec::with_capacity(items.len()),
        carry: Vec::new(),
        dropped,
        decided: HashMap::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        let keep = match roots[i] {
            Root::Item(r) => keep_root[r as usize],
            Root::Decided(keep) => keep,
            Root::Open(parent) => {
                let age = ages.get(i).copied().unwrap_or(0);
                if age < MAX_CARRIED_FLUSHES {
                    tail.carry.push((item, age + 1));
                    continue;
                }
                // Waited long enough: written as it is, and its ancestors will be kept.
                tail.decided.insert(parent, true);
                true
            }
        };
        tail.decided.insert(headers[i].span, keep);
        if keep {
            tail.kept.push(item);
        }
    }
    tail
}

/// The system labels of sampling, on every session written: the configuration
/// (`aiobs_sampling`), and the trees of this file kept and dropped (`aiobs_sampled_kept`,
/// `aiobs_sampled_dropped`).
pub(super) fn label_sampling(
    sessions: &mut [Session],
    items: &[Item],
    sampling: &Sampling,
    head_dropped: &[u64],
    tail_dropped: &[u64],
) {
    let mut kept = vec![0u64; sessions.len()];
    for item in items {
        if item.record.header().parent == 0 {
            kept[item.session as usize] += 1;
        }
    }
    for (i, session) in sessions.iter_mut().enumerate() {
        let labels = session.labels.get_or_insert_with(Default::default);
        labels.insert("aiobs_sampling".to_owned(), sampling.describe());
        labels.insert("aiobs_sampled_kept".to_owned(), kept[i].to_string());
        labels.insert(
            "aiobs_sampled_dropped".to_owned(),
            (head_dropped[i] + tail_dropped[i]).to_string(),
        );
    }
}
