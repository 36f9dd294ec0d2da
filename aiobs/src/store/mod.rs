//! Storage: the record format, each thread's log of records, and the budget that bounds what
//! the logs hold. Storage knows nothing of collectors, sessions or JSON.

pub(crate) mod budget;
mod log;
mod record;

pub(crate) use log::{Log, Mark};
pub use record::FnMeta;
pub(crate) use record::{Header, Kind, RecordRef, flag, record_bytes};
