//! Flushing to a file: where ([`FlushOptions`], the default path) and how (a temporary file
//! renamed over the target).

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::document::ExportDocument;
use crate::document::parallel::{is_parallel, write_document};
use crate::error::{Error, Result};
use crate::id;
use crate::state::CollectorState;

/// Bytes buffered between the JSON writer and the file.
const WRITE_BUFFER: usize = 1 << 20;

/// Where and how [`Collector::flush`](crate::Collector::flush) writes.
///
/// ```
/// let opts = aiobs::FlushOptions::to_path("out/trace.json").include_trace_tree(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct FlushOptions {
    path: Option<PathBuf>,
    include_trace_tree: bool,
    fsync: bool,
}

impl Default for FlushOptions {
    /// The default path (`LLM_OBS_OUT`, else `<session-id>.json`, else
    /// `llm_observability.json`), with the trace tree, without fsync.
    fn default() -> Self {
        FlushOptions {
            path: None,
            include_trace_tree: true,
            fsync: false,
        }
    }
}

impl FlushOptions {
    /// The defaults; see [`FlushOptions::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Write to `path` (parent directories are created).
    pub fn to_path(path: impl Into<PathBuf>) -> Self {
        FlushOptions {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// Whether to write `trace_tree` (and `enh_prompt_traces`); on by default.
    pub fn include_trace_tree(mut self, yes: bool) -> Self {
        self.include_trace_tree = yes;
        self
    }

    /// Whether to `fsync` the file before it replaces the target (durable across power loss;
    /// the rename is atomic either way). Off by default.
    pub fn fsync(mut self, yes: bool) -> Self {
        self.fsync = yes;
        self
    }
}

/// The path a flush writes to when none is given: `LLM_OBS_OUT`, else `<session-id>.json`
/// (the active session, else the first one), else `llm_observability.json`.
pub(crate) fn default_path(active_or_first_session: Option<&str>) -> PathBuf {
    default_path_from(std::env::var_os("LLM_OBS_OUT"), active_or_first_session)
}

fn default_path_from(llm_obs_out: Option<std::ffi::OsString>, session: Option<&str>) -> PathBuf {
    if let Some(p) = llm_obs_out.filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match session {
        Some(id) => PathBuf::from(format!("{id}.json")),
        None => PathBuf::from("llm_observability.json"),
    }
}

/// Writes through a temporary file in the target's directory, renamed over the target.
pub(crate) fn write_atomically(
    path: &Path,
    fsync: bool,
    doc: &ExportDocument,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), id::next()));
    let result = (|| {
        let mut file = File::create_new(&tmp)?;
        // Generic over the writer: `ExportDocument::write_json` takes a `dyn Write`, which costs
        // a fifth of the flush in dynamic calls. Written by several threads, the document
        // comes in pieces of half a MiB, written as they are; else through a buffer.
        if is_parallel(doc) {
            write_document(doc, &mut file, true)?;
        } else {
            let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
            write_document(doc, &mut out, true)?;
            file = out.into_inner().map_err(|e| e.into_error())?;
        }
        if fsync {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes every session and recorded event to the file `options` name and returns its path;
/// see [`Collector::flush`](crate::Collector::flush).
pub(crate) fn to_file(state: &CollectorState, options: FlushOptions) -> Result<PathBuf> {
    let path = match options.path {
        Some(p) => p,
        None => default_path(state.active_or_first_session_id().as_deref()),
    };
    let written_to = path.display().to_string();
    super::run(
        state,
        options.include_trace_tree,
        &written_to,
        false,
        |doc| {
            write_atomically(&path, options.fsync, doc).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })
        },
    )?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_is_llm_obs_out_then_the_session_then_a_fixed_name() {
        let sid = Some("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b");
        assert_eq!(
            default_path_from(Some("out/x.json".into()), sid),
            PathBuf::from("out/x.json")
        );
        assert_eq!(
            default_path_from(None, sid),
            PathBuf::from("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b.json")
        );
        assert_eq!(
            default_path_from(None, None),
            PathBuf::from("llm_observability.json")
        );
        assert_eq!(
            default_path_from(Some("".into()), None),
            PathBuf::from("llm_observability.json")
        );
    }
}
