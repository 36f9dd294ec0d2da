//! The `aiobs` command as a library: reading aiobs JSON exports (written by the Rust runtime
//! or by the Python SDK aiobs 0.1.5) and the subcommands that show, summarise, check, compare and
//! join them, and write a trace as a self-contained HTML timeline. `main.rs` only parses arguments and calls these modules.
//!
//! Reading is lean: a file is read once into memory and parsed into structs that borrow from
//! it (arguments, results, requests and responses stay raw JSON text until shown), so a file
//! costs about its own size in memory.
//!
//! A subcommand reads a file with [`load::ExportFile::read`], parses it with
//! [`load::ExportFile::parse`] into a [`load::Export`], and writes to any `io::Write`; one that
//! writes a file (`merge`, and an `html` page) does so with [`atomic::write_atomically`].
//!
//! ```no_run
//! let file = aiobs_cli::load::ExportFile::read("trace.json".as_ref())?;
//! let export = file.parse()?;
//! println!("{} function calls", export.function_events.len());
//! # Ok::<(), aiobs_cli::Error>(())
//! ```

pub mod atomic;
pub mod calls;
pub mod diff;
pub mod error;
pub mod html;
pub mod load;
pub mod merge;
pub mod out;
pub mod replay;
pub mod stats;
pub mod validate;
pub mod view;

pub use error::Error;
