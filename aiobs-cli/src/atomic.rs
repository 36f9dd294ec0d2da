//! Writing an output file atomically: into a temporary file beside it, renamed over it once
//! whole, so a reader (or a crash) sees the old file or the new one, never half of one.

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::Error;

/// Calls `write` with a buffered writer into a temporary file beside `out` (`OUT.tmp-PID`),
/// then renames it over `out`; returns the bytes written. On any failure the temporary file is
/// removed, `out` is left as it was, and the error names `out`.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("aiobs-cli-atomic-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let out = dir.join("page.html");
/// let bytes = aiobs_cli::atomic::write_atomically(&out, |w| w.write_all(b"<html></html>"))?;
/// assert_eq!(std::fs::read_to_string(&out).unwrap(), "<html></html>");
/// assert_eq!(bytes, 13);
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn write_atomically(
    out: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<u64, Error> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::in_file(out, "not a file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = out.with_file_name(tmp_name);
    let written = (|| -> Result<u64, Error> {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| Error::in_file(out, format!("cannot create: {e}")))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w).map_err(|e| Error::in_file(out, format!("cannot write: {e}")))?;
        let file = w
            .into_inner()
            .map_err(|e| Error::in_file(out, format!("cannot write: {}", e.error())))?;
        let bytes = file
            .metadata()
            .map_err(|e| Error::in_file(out, format!("cannot write: {e}")))?
            .len();
        drop(file);
        std::fs::rename(&tmp, out)
            .map_err(|e| Error::in_file(out, format!("cannot replace: {e}")))?;
        Ok(bytes)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
