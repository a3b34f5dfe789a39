//! Writing files so that nothing is lost: outputs never overwrite inputs, and
//! every output is written in full to a temporary beside it before any is
//! renamed into place.
//!
//! - **Staging.** [`Staging`] collects a command's outputs as temporaries
//!   (created exclusively, with unpredictable names, by the `tempfile` crate:
//!   a planted file or symlink at that name makes creation fail instead of
//!   being written through) and renames them all into place only once every
//!   one is written and synced. A full disk or a crash before that leaves the
//!   previous files as they were; a rename needs no space.
//! - **Leftovers.** Temporaries are named `.NAME.flows-tmp-PID-XXXXXX`. Those
//!   of a process that no longer runs (killed mid-save) are removed the next
//!   time a command writes into that folder; a handled signal removes the
//!   live ones before exiting ([`remove_live_temporaries`]).
//! - **Inputs are never outputs.** [`refuse_overwriting_inputs`] compares
//!   files by identity (device and inode) or resolved path, so a symlink or a
//!   `..` does not hide that an output is an input.

use crate::error::{fail, CliError, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::TempPath;

/// The marker in every temporary's name.
const MARK: &str = ".flows-tmp-";

/// Temporaries this process has created and not yet renamed or removed.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn cannot_write(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{}: cannot write: {e}", path.display()))
}

fn register(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(path.to_path_buf());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| p != path);
    }
}

/// Removes every temporary this process still has (called by the signal
/// handler before an immediate exit, when no destructor will run).
pub fn remove_live_temporaries() {
    if let Ok(live) = LIVE.lock() {
        for path in live.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An output being written: a temporary beside its destination.
pub struct StagedFile {
    writer: BufWriter<File>,
    temp: TempPath,
    dest: PathBuf,
}

impl StagedFile {
    /// A fresh temporary for `dest`, in `dest`'s folder (so the final rename
    /// is atomic), after clearing that folder's stale temporaries.
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        remove_stale_temporaries(dir);
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}{MARK}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        // tempfile makes files private (0600); an output should get the mode
        // any new file gets (0666 less the umask), like one `File::create` makes.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let named = builder
            .tempfile_in(dir)
            .map_err(|e| cannot_write(dest, e))?;
        let (file, temp) = named.into_parts();
        register(&temp);
        Ok(StagedFile {
            writer: BufWriter::new(file),
            temp,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary's path, for code that writes by path (the figures).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Finishes this one output and renames it into place.
    pub fn commit(self) -> Result<()> {
        let mut staging = Staging::new();
        staging.add(self)?;
        staging.commit()
    }

    /// Flushes and syncs the content: after this, only the rename is left.
    fn finish(mut self) -> Result<(TempPath, PathBuf)> {
        let dest = self.dest.clone();
        self.writer.flush().map_err(|e| cannot_write(&dest, e))?;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| cannot_write(&dest, e))?;
        file.sync_all().map_err(|e| cannot_write(&dest, e))?;
        Ok((self.temp, dest))
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// A command's outputs, renamed into place together by [`Staging::commit`].
/// Dropped without a commit, it removes every temporary and changes nothing.
#[derive(Default)]
pub struct Staging {
    ready: Vec<(TempPath, PathBuf)>,
}

impl Staging {
    pub fn new() -> Self {
        Staging::default()
    }

    /// Adds a finished output.
    pub fn add(&mut self, file: StagedFile) -> Result<()> {
        let (temp, dest) = file.finish()?;
        self.ready.push((temp, dest));
        Ok(())
    }

    /// Stages `dest` with the content `bytes`.
    pub fn bytes(&mut self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let mut file = StagedFile::create(dest)?;
        file.write_all(bytes).map_err(|e| cannot_write(dest, e))?;
        self.add(file)
    }

    /// Stages `dest` by letting `write` fill the temporary through its path.
    pub fn by_path(&mut self, dest: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let file = StagedFile::create(dest)?;
        write(file.temp_path())?;
        self.add(file)
    }

    /// Renames every output into place.
    pub fn commit(mut self) -> Result<()> {
        for (temp, dest) in self.ready.drain(..) {
            let path = temp.to_path_buf();
            temp.persist(&dest)
                .map_err(|e| cannot_write(&dest, e.error))?;
            unregister(&path);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        for (temp, _) in &self.ready {
            unregister(temp);
        }
    }
}

/// Removes temporaries in `dir` left by processes that no longer run.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, rest)) = name.split_once(MARK) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !process_is_running(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists (Linux: its /proc entry). Elsewhere
/// every process counts as running, so nothing is ever removed by mistake.
fn process_is_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Creates an output folder (and its parents), or says why it cannot.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        fail!("{}: exists and is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::new(format!("{}: cannot create folder: {e}", dir.display())))
}

/// Checks, before any work, that `dir` (or, if it does not exist yet, the
/// folder it would be made in) is a folder this process can write into. It
/// creates nothing that stays.
pub fn check_writable_dir(flag: &str, dir: &Path) -> Result<()> {
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        fail!(
            "{flag} {}: {} exists and is not a folder",
            dir.display(),
            existing.display()
        );
    }
    if let Err(e) = tempfile::tempfile_in(existing) {
        fail!(
            "{flag} {}: cannot write into {}: {e}",
            dir.display(),
            existing.display()
        );
    }
    Ok(())
}

/// What identifies a file: its device and inode if it exists, and its path
/// with every symlink and `..` resolved (for a file yet to be written, its
/// folder resolved and its name appended).
fn identity(path: &Path) -> (Option<(u64, u64)>, Option<PathBuf>) {
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    };
    #[cfg(not(unix))]
    let inode = None;
    (inode, resolve(path))
}

/// `path` with every symlink and `..` resolved, also where part of it does
/// not exist yet: its longest existing ancestor canonicalized, then the
/// rest applied name by name (`out/new/..` is `out`, not a new folder).
fn resolve(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut existing = path.as_path();
    let mut base = loop {
        if let Ok(base) = existing.canonicalize() {
            break base;
        }
        existing = existing.parent()?;
    };
    // The components after the existing ancestor, in order: names, `.` or `..`.
    let tail = path.strip_prefix(existing).ok()?;
    for part in tail.components() {
        match part {
            Component::ParentDir => {
                base.pop();
            }
            Component::Normal(name) => base.push(name),
            _ => {}
        }
    }
    Some(base)
}

fn same_file(a: &Path, b: &Path) -> bool {
    let ((ia, ra), (ib, rb)) = (identity(a), identity(b));
    matches!((ia, ib), (Some(x), Some(y)) if x == y)
        || matches!((ra, rb), (Some(x), Some(y)) if x == y)
}

/// Refuses, before any work, to write an output onto an input. `inputs` and
/// `outputs` are (flag, path) pairs; the message names both.
pub fn refuse_overwriting_inputs(
    inputs: &[(&str, &Path)],
    outputs: &[(&str, PathBuf)],
) -> Result<()> {
    for (out_flag, out) in outputs {
        for (in_flag, input) in inputs {
            if same_file(out, input) {
                fail!(
                    "{out_flag}: would write {} over the input {in_flag} {}; choose another output",
                    out.display(),
                    input.display()
                );
            }
        }
    }
    Ok(())
}
