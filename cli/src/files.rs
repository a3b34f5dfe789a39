//! Writes that never leave a half-written file, and output folders.

use crate::error::{fail, CliError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A temporary name beside `path`, in the same folder so the rename is atomic.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `path` through `write` into a temporary file, then renames it into
/// place: a reader sees the old file or the new one, never half of one, and a
/// failure leaves nothing behind.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temp_path(path);
    let result = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path)
            .map_err(|e| CliError(format!("{}: cannot write: {e}", path.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_atomically`] for bytes.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |tmp| {
        let mut file = std::fs::File::create(tmp)
            .map_err(|e| CliError(format!("{}: cannot write: {e}", path.display())))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| CliError(format!("{}: cannot write: {e}", path.display())))
    })
}

/// Creates an output folder (and its parents), or says why it cannot.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        fail!("{}: exists and is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("{}: cannot create folder: {e}", dir.display())))
}
