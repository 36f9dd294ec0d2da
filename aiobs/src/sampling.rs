//! Sampling: which trees of calls a collector keeps. Off by default (everything is kept).
//!
//! The unit is a whole tree, from a root call (one with no observed parent) down: a tree is
//! kept or dropped whole, never in part.
//!
//! - **Head sampling** decides when the root call starts, by ratio. A dropped tree is not
//!   recorded at all: its calls cost about what unrecorded calls cost.
//! - **Tail rules** decide when the tree is flushed, once its root has ended: a tree with an
//!   error anywhere in it, or whose root took at least a threshold, is kept; the others are
//!   kept by ratio. The draw is a hash of the root's span id, so it is the same whichever
//!   flush sees the tree.

use std::collections::HashMap;
use std::time::Duration;

/// Flushes a record waits for its root to end before it is written anyway.
pub(crate) const MAX_CARRIED_FLUSHES: u32 = 8;

/// Flushes whose tail decisions are remembered, for descendants that are flushed after their
/// tree was decided (a task that outlives its root).
pub(crate) const REMEMBERED_FLUSHES: usize = 16;

/// The tail decisions of the last [`REMEMBERED_FLUSHES`] flushes, by span id: for every span
/// of a decided tree, and for the parent a held-back record was finally written under (kept,
/// so that its root, when it ends, is kept too and the tree stays whole).
#[derive(Default)]
pub(crate) struct Decisions {
    generations: std::collections::VecDeque<HashMap<u64, bool>>,
}

impl Decisions {
    /// The decision about `span`, newest first.
    pub(crate) fn get(&self, span: u64) -> Option<bool> {
        self.generations.iter().find_map(|g| g.get(&span).copied())
    }

    /// Remembers a flush's decisions, forgetting the oldest beyond the limit.
    pub(crate) fn push(&mut self, decided: HashMap<u64, bool>) {
        if !decided.is_empty() {
            self.generations.push_front(decided);
        }
        self.generations.truncate(REMEMBERED_FLUSHES);
    }
}

/// Which trees of calls a collector keeps; see [`Collector::set_sampling`].
///
/// [`Collector::set_sampling`]: crate::Collector::set_sampling
///
/// ```
/// use std::time::Duration;
///
/// // Record 10% of trees; of those, keep every one with an error or slower than 2 s,
/// // and a quarter of the rest.
/// let sampling = aiobs::Sampling::new()
///     .head_ratio(0.1)
///     .tail_ratio(0.25)
///     .keep_errors(true)
///     .keep_slower_than(Duration::from_secs(2));
/// let obs = aiobs::Collector::new();
/// obs.set_sampling(sampling);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    head: f64,
    tail: f64,
    keep_errors: bool,
    keep_slower_than: Option<Duration>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::new()
    }
}

impl Sampling {
    /// Keep everything (the default).
    ///
    /// ```
    /// assert!(aiobs::Sampling::new().keeps_everything());
    /// ```
    pub fn new() -> Sampling {
        Sampling {
            head: 1.0,
            tail: 1.0,
            keep_errors: true,
            keep_slower_than: None,
        }
    }

    /// The share of trees recorded, decided when a root call starts (clamped to `0.0..=1.0`;
    /// a NaN counts as 1).
    ///
    /// ```
    /// let sampling = aiobs::Sampling::new().head_ratio(0.5);
    /// # assert!(!sampling.keeps_everything());
    /// ```
    pub fn head_ratio(mut self, ratio: f64) -> Sampling {
        self.head = clamp(ratio);
        self
    }

    /// The share of recorded trees kept at flush among those no tail rule keeps (clamped to
    /// `0.0..=1.0`).
    ///
    /// ```
    /// let sampling = aiobs::Sampling::new().tail_ratio(0.1);
    /// # assert!(!sampling.keeps_everything());
    /// ```
    pub fn tail_ratio(mut self, ratio: f64) -> Sampling {
        self.tail = clamp(ratio);
        self
    }

    /// Tail rule: keep every tree with an error (a returned `Err`, a panic, a failed LLM
    /// call) anywhere in it. On by default.
    ///
    /// ```
    /// let sampling = aiobs::Sampling::new().tail_ratio(0.0).keep_errors(true);
    /// # let _ = sampling;
    /// ```
    pub fn keep_errors(mut self, yes: bool) -> Sampling {
        self.keep_errors = yes;
        self
    }

    /// Tail rule: keep every tree whose root call took at least `threshold`.
    ///
    /// ```
    /// let sampling = aiobs::Sampling::new()
    ///     .tail_ratio(0.0)
    ///     .keep_slower_than(std::time::Duration::from_millis(500));
    /// # let _ = sampling;
    /// ```
    pub fn keep_slower_than(mut self, threshold: Duration) -> Sampling {
        self.keep_slower_than = Some(threshold);
        self
    }

    /// Whether every tree is kept (no sampling).
    ///
    /// ```
    /// assert!(aiobs::Sampling::default().keeps_everything());
    /// ```
    pub fn keeps_everything(&self) -> bool {
        self.head >= 1.0 && self.tail >= 1.0
    }

    pub(crate) fn head(&self) -> f64 {
        self.head
    }

    /// Whether tail rules apply at flush.
    pub(crate) fn has_tail(&self) -> bool {
        self.tail < 1.0
    }

    /// The tail decision for a tree whose root is `root_span`.
    pub(crate) fn tail_keeps(&self, root_span: u64, has_error: bool, root_ms: f64) -> bool {
        if !self.has_tail() || (self.keep_errors && has_error) {
            return true;
        }
        if let Some(t) = self.keep_slower_than {
            if root_ms >= t.as_secs_f64() * 1000.0 {
                return true;
            }
        }
        draw(mix(root_span), self.tail)
    }

    /// The text of the `aiobs_sampling` label: the configuration a file was sampled with.
    pub(crate) fn describe(&self) -> String {
        let mut parts = vec![format!("head={}", self.head)];
        if self.has_tail() {
            parts.push(format!("tail={}", self.tail));
            if self.keep_errors {
                parts.push("keep_errors".to_owned());
            }
            if let Some(t) = self.keep_slower_than {
                parts.push(format!("keep_slower_than_ms={}", t.as_millis()));
            }
        }
        parts.join(",")
    }
}

fn clamp(ratio: f64) -> f64 {
    if ratio.is_nan() {
        1.0
    } else {
        ratio.clamp(0.0, 1.0)
    }
}

/// Whether a uniform 64-bit draw falls under `ratio`.
fn draw(random: u64, ratio: f64) -> bool {
    ratio >= 1.0 || (random >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < ratio
}

/// A bijective mix of a span id (span ids are random already; this decorrelates the tail draw
/// from the head one).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The head ratio as a threshold the hot path compares a random `u64` with: a root is kept
/// when `random < threshold`; `u64::MAX` keeps everything.
pub(crate) fn head_threshold(ratio: f64) -> u64 {
    if ratio >= 1.0 {
        u64::MAX
    } else {
        (ratio * 2f64.powi(64)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_clamped_and_nan_keeps_everything() {
        assert!(Sampling::new().head_ratio(f64::NAN).keeps_everything());
        assert!(!Sampling::new().head_ratio(-1.0).keeps_everything());
        assert!(Sampling::new().tail_ratio(7.0).keeps_everything());
    }

    #[test]
    fn tail_rules_keep_errors_and_slow_roots_before_the_ratio() {
        let s = Sampling::new()
            .tail_ratio(0.0)
            .keep_slower_than(Duration::from_millis(100));
        assert!(s.tail_keeps(42, true, 1.0), "an error");
        assert!(s.tail_keeps(42, false, 100.0), "slow");
        assert!(!s.tail_keeps(42, false, 99.9), "neither: ratio 0");
        let no_errors = s.clone().keep_errors(false);
        assert!(!no_errors.tail_keeps(42, true, 1.0));
    }

    #[test]
    fn the_tail_draw_follows_the_ratio() {
        let s = Sampling::new().tail_ratio(0.3);
        let kept = (1..=100_000u64)
            .filter(|i| s.tail_keeps(*i, false, 0.0))
            .count();
        assert!((28_500..31_500).contains(&kept), "{kept}");
    }

    #[test]
    fn the_head_threshold_keeps_its_share_of_random_draws() {
        assert_eq!(head_threshold(1.0), u64::MAX);
        let t = head_threshold(0.25);
        let kept = (0..100_000u64).filter(|i| mix(*i + 1) < t).count();
        assert!((23_500..26_500).contains(&kept), "{kept}");
        assert_eq!(head_threshold(0.0), 0);
    }
}
