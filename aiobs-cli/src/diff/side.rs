//! One side of a diff: an export file, or a directory of the numbered files of one session's
//! auto-flushes, joined in memory as `aiobs merge` joins them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::load::{Export, ExportFile};
use crate::merge::{join_in_memory, sorted_inputs};

/// The files of one side, read (and joined, when several) into one export.
#[derive(Debug)]
pub struct Side {
    /// The files read, in the order they were joined.
    pub files: Vec<PathBuf>,
    file: ExportFile,
}

impl Side {
    /// Reads `path`: an export file, or a directory whose `*.json` files are the numbered
    /// files of one session (sorted by name and sequence number, as `aiobs merge` sorts them).
    ///
    /// A missing or unreadable path, a file that is not an export of version 1, an empty
    /// directory, or files of unrelated sessions is an error naming the file.
    ///
    /// ```no_run
    /// let side = aiobs_cli::diff::side::Side::read("traces/main".as_ref())?;
    /// println!("{} file(s), {} calls", side.files.len(), side.export()?.events.len());
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn read(path: &Path) -> Result<Side, Error> {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| Error::in_file(path, crate::load::read_error(&e)))?;
            let mut files = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| Error::in_file(path, crate::load::read_error(&e)))?;
                let p = entry.path();
                if p.extension().is_some_and(|x| x == "json") && p.is_file() {
                    files.push(p);
                }
            }
            if files.is_empty() {
                return Err(Error::in_file(
                    path,
                    "a directory without *.json files (expected aiobs exports)",
                ));
            }
            Side::read_files(&files)
        } else {
            Side::read_files(&[path.to_owned()])
        }
    }

    /// Reads `paths` (one export, or the numbered files of one session, joined in memory).
    ///
    /// ```no_run
    /// let side = aiobs_cli::diff::side::Side::read_files(&["s-1.json".into(), "s-2.json".into()])?;
    /// assert_eq!(side.files.len(), 2);
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn read_files(paths: &[PathBuf]) -> Result<Side, Error> {
        let files = sorted_inputs(paths);
        let Some(first) = files.first() else {
            return Err(Error::new("diff: no input files"));
        };
        if files.len() == 1 {
            // Parsed once, by `export`.
            let file = ExportFile::read(first)?;
            return Ok(Side { files, file });
        }
        let mut read = Vec::with_capacity(files.len());
        // Every file shares a session with the files before it: successive flushes of one
        // program repeat the sessions still open.
        let mut sessions: BTreeSet<String> = BTreeSet::new();
        for path in &files {
            let file = ExportFile::read(path)?;
            let ids: BTreeSet<String> = file
                .parse()?
                .sessions
                .iter()
                .map(|s| s.id.to_string())
                .collect();
            if !sessions.is_empty() && !ids.is_empty() && sessions.is_disjoint(&ids) {
                return Err(Error::in_file(
                    path,
                    format!(
                        "session {} is not in {}: the files of one side must be the numbered files of one session",
                        ids.iter().next().map_or("", String::as_str),
                        first.display(),
                    ),
                ));
            }
            sessions.extend(ids);
            read.push(file);
        }
        let joined = join_in_memory(&read)?;
        let name = files
            .first()
            .and_then(|p| p.parent())
            .map_or_else(|| PathBuf::from("(joined)"), Path::to_owned);
        Ok(Side {
            files,
            file: ExportFile::from_bytes(name, joined),
        })
    }

    /// The side's export (the files joined, when several).
    pub fn export(&self) -> Result<Export<'_>, Error> {
        self.file.parse()
    }

    /// The side's name in a report: its file, or its first file and how many others.
    ///
    /// ```no_run
    /// let side = aiobs_cli::diff::side::Side::read("base.json".as_ref())?;
    /// assert_eq!(side.label(), "base.json");
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn label(&self) -> String {
        match self.files.as_slice() {
            [one] => one.display().to_string(),
            [first, rest @ ..] => format!("{} (+{} file(s))", first.display(), rest.len()),
            [] => String::new(),
        }
    }
}
