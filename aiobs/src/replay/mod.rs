//! Replaying recorded LLM calls: an aiobs export (ours or the Python SDK's) as a test fixture.

mod answer;
mod rebuild;

pub use answer::Answer;
