//! The one lock helper: every mutex of the crate is taken through [`lock`].

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning: the data behind our locks stays consistent at every
/// point a panic could occur.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
