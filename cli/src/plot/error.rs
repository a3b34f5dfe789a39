//! The one error type of the plotting module.

use std::fmt;
use std::path::Path;

/// Why a figure could not be drawn or written. The message names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotError(pub String);

impl PlotError {
    /// An error about the figure at `path`, with the cause's own message.
    pub(super) fn at(path: &Path, cause: impl fmt::Display) -> Self {
        PlotError(format!("cannot draw {}: {cause}", path.display()))
    }
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotError {}
