//! `aiobs merge`: the numbered files of an auto-flushed session (`<session-id>-<seq>.json`)
//! joined into one export with [`aiobs::merge_exports`], written atomically.

use std::path::{Path, PathBuf};

use aiobs::model::{ObservabilityExport, ObservedEvent, ObservedFunctionEvent, Session};
use serde::Deserialize;

use crate::Error;
use crate::load::ExportFile;

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The inputs in the order they were joined.
    pub inputs: Vec<PathBuf>,
    /// Sessions in the result.
    pub sessions: usize,
    /// Events (provider and function) in the result.
    pub events: usize,
}

/// The sort key of an input: files named `<prefix>-<number>.json` by prefix, then by number
/// (so `s-10.json` comes after `s-9.json`); other names by name, before numbered ones of the
/// same prefix.
fn order_key(path: &Path) -> (String, u64, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    match stem.rsplit_once('-') {
        Some((prefix, seq)) if !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) => (
            prefix.to_owned(),
            seq.parse::<u64>().unwrap_or(u64::MAX).saturating_add(1),
            name.clone(),
        ),
        _ => (stem.to_owned(), 0, name.clone()),
    }
}

/// `inputs` sorted as [`merge_files`] joins them.
pub fn sorted_inputs(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted = inputs.to_vec();
    sorted.sort_by_cached_key(|p| order_key(p));
    sorted
}

/// One input without its tree (it is rebuilt over all of them, and skipping it keeps deep
/// trees from nesting the parser).
#[derive(Deserialize)]
struct Part {
    sessions: Vec<Session>,
    events: Vec<ObservedEvent>,
    #[serde(default)]
    function_events: Vec<ObservedFunctionEvent>,
    generated_at: f64,
    #[serde(default = "one")]
    version: u64,
}

fn one() -> u64 {
    1
}

fn read_part(path: &Path) -> Result<ObservabilityExport, Error> {
    part_of(&ExportFile::read(path)?)
}

/// The export in `file`, owned, without its tree.
fn part_of(file: &ExportFile) -> Result<ObservabilityExport, Error> {
    let path = file.path();
    let part: Part = serde_json::from_slice(file.bytes()).map_err(|e| Error::json(path, &e))?;
    if part.version != 1 {
        return Err(Error::in_file(
            path,
            format!(
                "version {} is not supported (this aiobs reads version 1)",
                part.version
            ),
        ));
    }
    Ok(ObservabilityExport {
        sessions: part.sessions,
        events: part.events,
        function_events: part.function_events,
        trace_tree: None,
        enh_prompt_traces: None,
        generated_at: part.generated_at,
        version: 1,
    })
}

/// Joins `inputs` (sorted by name and sequence number) into one export with a trace tree and
/// writes it to `out` atomically: into a temporary file beside it, renamed over it once whole.
pub fn merge_files(inputs: &[PathBuf], out: &Path) -> Result<Merged, Error> {
    if inputs.is_empty() {
        return Err(Error::new("merge: no input files"));
    }
    let inputs = sorted_inputs(inputs);
    let mut parts = Vec::with_capacity(inputs.len());
    for path in &inputs {
        parts.push(read_part(path)?);
    }
    let merged = aiobs::merge_exports(parts, true);
    let summary = Merged {
        inputs,
        sessions: merged.sessions.len(),
        events: merged.events.len() + merged.function_events.len(),
    };
    write_export(&merged, out)?;
    Ok(summary)
}

/// Joins `files` (already read, in the order given) as [`merge_files`] joins them, in memory:
/// the joined export's JSON, without a tree (readers rebuild it from `parent_span_id`).
///
/// ```no_run
/// use aiobs_cli::load::ExportFile;
/// let files = [ExportFile::read("s-1.json".as_ref())?, ExportFile::read("s-2.json".as_ref())?];
/// let joined = aiobs_cli::merge::join_in_memory(&files)?;
/// let file = ExportFile::from_bytes("s-*.json".into(), joined);
/// println!("{} events", file.parse()?.function_events.len());
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn join_in_memory(files: &[ExportFile]) -> Result<Vec<u8>, Error> {
    let mut parts = Vec::with_capacity(files.len());
    for file in files {
        parts.push(part_of(file)?);
    }
    let joined = aiobs::merge_exports(parts, false);
    serde_json::to_vec(&joined).map_err(|e| Error::new(format!("cannot join the files: {e}")))
}

/// Writes `export` as JSON to `out`, atomically. Serializing nests as deep as the tree, so it
/// runs on a thread with room for it.
fn write_export(export: &ObservabilityExport, out: &Path) -> Result<u64, Error> {
    crate::atomic::write_atomically(out, |w| {
        let result = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(512 << 20)
                .spawn_scoped(s, || serde_json::to_writer(&mut *w, export))
                .map(|h| h.join())
        });
        match result {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(std::io::Error::other(e)),
            Ok(Err(_)) => Err(std::io::Error::other("serializing failed unexpectedly")),
            Err(e) => Err(e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_files_sort_by_sequence_number() {
        let names = ["s-10.json", "s-2.json", "s-1.json", "a.json"];
        let inputs: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        let sorted: Vec<String> = sorted_inputs(&inputs)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(sorted, ["a.json", "s-1.json", "s-2.json", "s-10.json"]);
    }
}
