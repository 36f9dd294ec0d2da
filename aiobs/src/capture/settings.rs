//! The settings every recorded call of a collector reads with one load: the limits, the mask
//! hook and the head-sampling threshold.

use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::limits::{DEFAULT, Limits};
use super::mask::MaskFn;

/// What a collector's recorded calls use: the limits, the mask hook, and head sampling.
pub(crate) struct CaptureSettings {
    pub(crate) limits: Limits,
    pub(crate) mask: Option<Arc<MaskFn>>,
    /// Head sampling as a threshold for a random `u64`: a root is recorded when its draw is
    /// below it; `u64::MAX` records every root.
    pub(crate) head: u64,
}

impl CaptureSettings {
    /// Whether a root call whose random draw is `draw` is recorded.
    #[inline]
    pub(crate) fn keeps_root(&self, draw: u64) -> bool {
        self.head == u64::MAX || draw < self.head
    }
}

static DEFAULT_SETTINGS: CaptureSettings = CaptureSettings {
    limits: Limits::new(),
    mask: None,
    head: u64::MAX,
};

/// A collector's capture settings, read on the hot path with one load. Each change leaks the
/// settings it replaces (a few dozen bytes and the mask function): a reader may still hold
/// them, and changes are rare (made at startup).
pub(crate) struct SettingsCell(AtomicPtr<CaptureSettings>);

impl SettingsCell {
    pub(crate) fn new() -> SettingsCell {
        SettingsCell(AtomicPtr::new(
            std::ptr::from_ref(&DEFAULT_SETTINGS).cast_mut(),
        ))
    }

    #[inline]
    pub(crate) fn get(&self) -> &'static CaptureSettings {
        // SAFETY: the pointer is `&DEFAULT_SETTINGS` or a leaked box, valid for the whole
        // program.
        unsafe { &*self.0.load(Ordering::Acquire) }
    }

    /// Replaces the settings with what `change` makes of a copy of them.
    pub(crate) fn update(&self, change: impl FnOnce(&mut CaptureSettings)) {
        let old = self.get();
        let mut new = CaptureSettings {
            limits: old.limits,
            mask: old.mask.clone(),
            head: old.head,
        };
        change(&mut new);
        let ptr = if new.limits == DEFAULT && new.mask.is_none() && new.head == u64::MAX {
            std::ptr::from_ref(&DEFAULT_SETTINGS).cast_mut()
        } else {
            Box::into_raw(Box::new(new))
        };
        // Changes are made under the collector's state lock, so none is lost.
        self.0.store(ptr, Ordering::Release);
    }
}
