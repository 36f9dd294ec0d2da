//! trybuild tests of `#[aiobs::observe]` live in `tests/`.
