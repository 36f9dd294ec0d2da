//! Nothing here: the tests in `tests/` measure the stack an observed call takes in a debug
//! build. This crate's tests are built at opt-level 0 (`[profile.test.package.stack-tests]` in
//! the workspace), as a user's crate is in `cargo test`.
